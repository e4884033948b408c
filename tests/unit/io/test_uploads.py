"""User ZIPs: a good one becomes a Dataset; each kind of bad one gets its own message (no extraction)."""
import io
import struct
import zipfile
import zlib

import numpy as np
import pytest
from PIL import Image

from cnnviz import ConfigError
from cnnviz.io.uploads import load_zip


def png(color=(255, 0, 0), size=(6, 4)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def make_zip(path, files: dict) -> bytes:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path.read_bytes()


def good_files(prefix="", n=(5, 4)):
    files = {f"{prefix}cats/{i}.png": png((200, 10, 10)) for i in range(n[0])}
    files.update({f"{prefix}dogs/{i}.jpg": jpg() for i in range(n[1])})
    return files


def jpg():
    buf = io.BytesIO()
    Image.new("RGB", (5, 5), (0, 0, 250)).save(buf, "JPEG")
    return buf.getvalue()


@pytest.mark.parametrize("prefix", ["", "my_pets/"])
def test_good_zip_becomes_a_stratified_dataset(tmp_path, prefix):
    files = good_files(prefix)
    files[f"{prefix}cats/.DS_Store"] = b"junk"
    files["__MACOSX/cats/._0.png"] = b"junk"
    ds = load_zip(make_zip(tmp_path / "a.zip", files), size=8)
    assert ds.classes == ("cats", "dogs")
    assert ds.x_train.shape[1:] == (3, 8, 8) and len(ds.y_train) + len(ds.y_val) == 9
    assert sorted(ds.y_val.tolist()) == [0, 1]  # round(0.2·5)=1 cat, round(0.2·4)=1 dog
    cat = ds.x_train[ds.y_train == 0][0]
    np.testing.assert_allclose(cat[:, 0, 0].numpy(), np.array([200, 10, 10]) / 255, atol=1e-6)
    dog = ds.x_train[ds.y_train == 1][0]
    assert dog[2].mean() > 0.9 and dog[0].mean() < 0.1  # JPEG blue stays blue


def bad(tmp_path, files, **kw):
    with pytest.raises(ConfigError) as e:
        load_zip(make_zip(tmp_path / "b.zip", files), **kw)
    assert e.value.field == "zip"
    return str(e.value)


def test_path_traversal_is_refused(tmp_path):
    assert "path traversal" in bad(tmp_path, {**good_files(), "cats/../../evil.png": png()})
    assert "absolute" in bad(tmp_path, {**good_files(), "/etc/cats/x.png": png()})


def test_not_a_zip_and_too_big():
    with pytest.raises(ConfigError, match="not a ZIP"):
        load_zip(b"PK but not really")
    with pytest.raises(ConfigError, match="at most 1 MiB"):
        load_zip(b"x" * (2 ** 20 + 1), max_bytes=2 ** 20)


def test_wrong_types_are_refused(tmp_path):
    assert "not an image" in bad(tmp_path, {**good_files(), "cats/notes.txt": b"hello"})
    assert "holds JPEG" in bad(tmp_path, {**good_files(), "cats/fake.png": jpg()})
    assert "not a readable image" in bad(tmp_path, {**good_files(), "cats/broken.png": b"not a png at all"})


def test_class_rules(tmp_path):
    assert "only one class" in bad(tmp_path, {f"cats/{i}.png": png() for i in range(5)})
    assert "dogs (2)" in bad(tmp_path, good_files(n=(5, 2)))
    assert "not inside a class folder" in bad(tmp_path, {**good_files(), "loose.png": png()})


def huge_header_png(w=50_000, h=50_000) -> bytes:
    """A valid small PNG whose IHDR claims w×h pixels (CRC fixed): decoding it would need gigabytes."""
    data = bytearray(png())
    ihdr = struct.pack(">II", w, h) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(data)


def test_decompression_bombs_are_refused_before_decoding(tmp_path):
    msg = bad(tmp_path, {**good_files(), "cats/bomb.png": huge_header_png(5000, 5000)})  # our own limit
    assert "5000×5000" in msg and "decompression bomb" in msg
    assert "decompression bomb" in bad(tmp_path, {**good_files(), "cats/bomb.png": huge_header_png()})  # PIL's
    assert "compressed" in bad(tmp_path, {**good_files(), "cats/zeros.png": bytes(3 * 2 ** 20)})
    assert "unpacks to more than" in bad(tmp_path, good_files(), max_total=100)


def test_one_name_typed_two_ways_is_one_class(tmp_path):
    """"café" as NFC (U+00E9) and as NFD (e + U+0301 combining acute) print identically: one class, NFC."""
    nfc, nfd = "caf\u00e9", "cafe\u0301"
    files = {f"{nfc}/{i}.png": png((200, 10, 10)) for i in range(3)}
    files.update({f"{nfd}/{i + 3}.png": png((200, 10, 10)) for i in range(3)})
    files.update({f"dogs/{i}.jpg": jpg() for i in range(4)})
    ds = load_zip(make_zip(tmp_path / "c.zip", files), size=8)
    assert ds.classes == (nfc, "dogs")
    assert int((ds.y_train == 0).sum() + (ds.y_val == 0).sum()) == 6


@pytest.mark.parametrize("hidden", ["\u202e", "\u200b", "\u2066", "\x07"])
def test_invisible_characters_in_a_class_name_are_refused(tmp_path, hidden):
    """A right-to-left override makes "\u202edog" print as "god"; zero-width and isolate characters make two names
    look alike; a control character prints nothing. The message names the code point, escaped."""
    files = good_files()
    files.update({f"{hidden}dog/{i}.png": png() for i in range(4)})
    message = bad(tmp_path, files)
    assert f"U+{ord(hidden):04X}" in message and hidden not in message
