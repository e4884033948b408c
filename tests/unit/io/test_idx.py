"""The IDX reader: hand-built files decode to the values their bytes spell, arrays round-trip (plain and gzip),
malformed headers and payloads are refused with a ConfigError naming the file, and it reads the real Fashion-MNIST
test labels and images (when Debian's dataset-fashion-mnist is installed) as the shipped subset holds them."""
import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from cnnviz import ConfigError
from cnnviz.io.idx import IDX_TYPES, read_idx, write_idx

SOURCE = Path("/usr/share/datasets/fashion-mnist")


def test_hand_built_file_decodes_big_endian_values(tmp_path):
    # magic 00 00, type 0x0B (int16), 2 dims: 2 × 3, then six big-endian int16 values
    raw = bytes([0, 0, 0x0B, 2]) + struct.pack(">II", 2, 3) + struct.pack(">6h", 1, -2, 300, -32768, 32767, 0)
    (tmp_path / "a.idx").write_bytes(raw)
    arr = read_idx(tmp_path / "a.idx")
    assert arr.shape == (2, 3) and arr.dtype == np.int16 and arr.dtype.isnative
    assert arr.tolist() == [[1, -2, 300], [-32768, 32767, 0]]
    assert write_idx(arr) == raw   # the writer spells the same bytes
    arr[0, 0] = 5                  # a writable copy, not a view of the file's bytes


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("compress", [False, True])
def test_round_trip(dtype, compress, tmp_path):
    rng = np.random.default_rng(0)
    a = (rng.normal(size=(3, 4, 5)) * 50).astype(dtype)
    data = write_idx(a, compress=compress)
    assert data[:2] == (b"\x1f\x8b" if compress else b"\x00\x00")
    p = tmp_path / "x.idx.gz"
    p.write_bytes(data)
    for src in (data, p, str(p)):
        b = read_idx(src)
        assert b.dtype == a.dtype and b.shape == a.shape and np.array_equal(a, b)
    assert read_idx(write_idx(a[0, 0])).tolist() == a[0, 0].tolist()  # 1-D


def _header(code=0x08, dims=(2, 2)):
    return bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)


@pytest.mark.parametrize("data,words", [
    (b"", "shorter than the 4-byte"),
    (b"\x01\x02\x08\x01" + struct.pack(">I", 1) + b"\x00", "magic 00 00"),
    (_header(code=0x07) + bytes(4), "type code 0x07"),
    (bytes([0, 0, 8, 0]), "0 dimensions"),
    (bytes([0, 0, 8, 5]) + bytes(20) + b"\x00", "5 dimensions"),
    (bytes([0, 0, 8, 3]) + struct.pack(">I", 2), "inside its header"),
    (_header() + bytes(3), "holds 3"),                              # one value short
    (_header() + bytes(5), "holds 5"),                              # one value too many
    (_header(dims=(60000, 60000, 60000)) + bytes(8), "above the limit"),  # declares ~2e14 bytes
    (b"\x1f\x8b" + b"not gzip at all", "gzip"),
])
def test_malformed_files_are_refused(data, words):
    with pytest.raises(ConfigError) as err:
        read_idx(data, "labels.idx")
    assert err.value.field == "labels.idx" and words in str(err.value)


def test_gzip_bomb_stops_at_the_limit_and_odd_inputs_are_refused(tmp_path):
    bomb = gzip.compress(_header(dims=(4096, 4096)) + bytes(4096 * 4096))
    with pytest.raises(ConfigError, match="expands to more than 1 MiB"):
        read_idx(bomb, max_bytes=2 ** 20)
    with pytest.raises(ConfigError, match="no file"):
        read_idx(tmp_path / "missing.idx")
    with pytest.raises(ConfigError, match="bytes or a path"):
        read_idx(42)
    with pytest.raises(ConfigError, match="no IDX type code"):
        write_idx(np.zeros(3, dtype=np.uint16))
    assert set(IDX_TYPES) == {0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E}


@pytest.mark.skipif(not (SOURCE / "t10k-labels-idx1-ubyte.gz").exists(), reason="dataset-fashion-mnist not installed")
def test_reads_the_real_fashion_mnist_test_files_as_the_subset_holds_them():
    from cnnviz.io.data import FASHION_NPZ
    labels = read_idx(SOURCE / "t10k-labels-idx1-ubyte.gz")
    images = read_idx(SOURCE / "t10k-images-idx3-ubyte.gz")
    assert labels.shape == (10000,) and images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [1000] * 10  # Fashion-MNIST's test set: 1,000 per class
    with np.load(FASHION_NPZ) as z:                      # validation images come from the test set, unchanged
        idx = z["val_index"]
        assert np.array_equal(z["x_val"], images[idx]) and np.array_equal(z["y_val"], labels[idx])
