"""Every image decode is budgeted by its decoded size (width × height × bytes per pixel of its mode) from the header,
before a pixel is decoded, and an uploaded image becomes a model input once, not on every widget change."""
import io
import struct
import time

import numpy as np
import pytest
import torch
from PIL import Image

from cnnviz.errors import ConfigError
from cnnviz.io import budgets, images
from cnnviz.io.images import bytes_per_pixel, decode, load_image, open_header


def tiff_declaring(mode: str, w: int, h: int) -> bytes:
    """A small uncompressed little-endian TIFF of ``mode`` whose header says ``w``×``h`` (its pixel data is that of
    an 8×8 image: a decoder would need w×h pixels; the header alone is honest about the mode)."""
    buf = io.BytesIO()
    Image.new(mode, (8, 8)).save(buf, format="TIFF")
    data = bytearray(buf.getvalue())
    assert data[:2] == b"II"
    ifd = struct.unpack_from("<I", data, 4)[0]
    for i in range(struct.unpack_from("<H", data, ifd)[0]):
        at = ifd + 2 + 12 * i
        tag, kind = struct.unpack_from("<HH", data, at)
        if tag in (256, 257):  # ImageWidth, ImageLength
            struct.pack_into("<H" if kind == 3 else "<I", data, at + 8, w if tag == 256 else h)
    return bytes(data)


@pytest.mark.parametrize("mode", ["1", "L", "P", "LA", "RGB", "RGBA", "CMYK", "YCbCr", "I", "F", "I;16", "I;16B"])
def test_bytes_per_pixel_is_what_numpy_holds(mode):
    img = Image.new(mode, (3, 2))
    assert bytes_per_pixel(mode) == np.asarray(img).nbytes // 6


def test_a_float_tiff_within_the_pixel_limit_is_refused_by_its_decoded_size(monkeypatch):
    data = tiff_declaring("F", 5000, 5000)
    assert len(data) < 2_000 and 5000 * 5000 <= images.MAX_PIXELS  # small, and within the pixel limit
    img = open_header(data)
    assert (img.mode, img.size) == ("F", (5000, 5000))
    decoded = []
    monkeypatch.setattr(images, "to_rgb", lambda im: decoded.append(im) or None)
    t0 = time.perf_counter()
    with pytest.raises(ConfigError) as e:
        decode(data)
    assert time.perf_counter() - t0 < 1.0 and decoded == []  # refused from the header: nothing decoded
    assert e.value.field == "image" and "mode F" in str(e.value) and "95 MiB decoded" in str(e.value)
    assert 5000 * 5000 * 4 > budgets.IMAGE_DECODED_BYTES >= 5000 * 5000 * 3  # the 8-bit RGB photo still fits
    with pytest.raises(ConfigError, match="decoded"):
        load_image(data, 1, 28)


def test_an_image_within_the_budget_decodes():
    data = tiff_declaring("F", 8, 8)
    assert decode(data).shape == (3, 8, 8)


def test_the_same_upload_read_twice_decodes_once(monkeypatch):
    calls = []
    real = images.to_rgb
    monkeypatch.setattr(images, "to_rgb", lambda im: calls.append(im.size) or real(im))
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (40, 30, 3), dtype=np.uint8)).save(buf, format="PNG")
    data = buf.getvalue()
    a = load_image(data, 1, 28)
    b = load_image(bytes(data), 1, 28)  # the same file, another bytes object (Streamlit's getvalue() copies)
    assert len(calls) == 1 and torch.equal(a, b)
    expected = images.to_model_input(torch.from_numpy(real(Image.open(io.BytesIO(data)))).permute(2, 0, 1), 1, 28)
    assert torch.allclose(a, expected, atol=1e-6)
    a.fill_(0.5)  # a caller's in-place change does not reach the kept copy
    assert torch.equal(load_image(data, 1, 28), b) and len(calls) == 1
    inv = load_image(data, 1, 28, invert=True)  # another model input from the same file: decoded for it
    assert len(calls) == 2 and torch.allclose(inv, 1 - b)


def test_a_file_that_fails_to_decode_is_refused_once_then_from_the_cache(monkeypatch):
    calls = []
    real = images.to_rgb
    monkeypatch.setattr(images, "to_rgb", lambda im: calls.append(im.size) or real(im))
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(buf, format="PNG")
    data = buf.getvalue()[:-200]  # a valid header, truncated pixel data
    for _ in range(2):
        with pytest.raises(ConfigError, match="could not be decoded") as e:
            load_image(data, 3, 32)
        assert e.value.field == "image"
    assert len(calls) == 1
