"""Image uploads: decoding, type / size / decompression-bomb refusal, torch resize vs hand-computed values."""
import io
import struct
import zlib

import pytest
import torch
from PIL import Image

from cnnviz import ConfigError
from cnnviz.io.images import MAX_PIXELS, decode, load_image, png_bytes, resize, to_model_input


def png(img):
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def test_decode_rgb_and_grey_round_trip():
    x = torch.rand(3, 5, 7, generator=torch.Generator().manual_seed(0))
    back = decode(png_bytes(x))
    assert back.shape == (3, 5, 7)
    assert (back - x).abs().max() <= 0.5 / 255 + 1e-6
    g = decode(png(Image.new("L", (4, 4), 51)))
    assert torch.allclose(g, torch.full((3, 4, 4), 0.2))


def test_area_resize_averages_blocks_and_crops_centre():
    x = torch.arange(16.0).view(1, 4, 4) / 15            # (1, 4, 4)
    out = resize(x, 2)
    expected = torch.tensor([[0 + 1 + 4 + 5, 2 + 3 + 6 + 7], [8 + 9 + 12 + 13, 10 + 11 + 14 + 15]]) / 4 / 15
    torch.testing.assert_close(out[0], expected)
    wide = torch.zeros(1, 2, 6)
    wide[..., 2:4] = 1                                    # the centre 2×2 square
    assert torch.equal(resize(wide, 2), torch.ones(1, 2, 2))


def test_model_input_grey_invert_and_shape():
    x = torch.zeros(3, 16, 16)
    x[0] = 1.0                                            # pure red
    grey = to_model_input(x, 1, 8)
    assert grey.shape == (1, 1, 8, 8) and torch.allclose(grey, torch.full_like(grey, 0.299))
    assert torch.allclose(to_model_input(x, 1, 8, invert=True), 1 - grey)
    assert load_image(png_bytes(x), 3, 32).shape == (1, 3, 32, 32)
    with pytest.raises(ConfigError, match="channels"):
        to_model_input(x, 2, 8)


def bomb_png(w, h):
    """A PNG header declaring w×h pixels with almost no data: refused before decoding."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))  # noqa: E731
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 10)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("data,match", [
    (b"", "empty"),
    (b"GIF89a but not really", "not an image"),
    (b"%PDF-1.4 hello", "not an image"),
    (bomb_png(20_000, 20_000), "decompression bomb"),
    (bomb_png(6000, 6000), "decompression bomb"),
    (b"\0" * (6 * 1024 * 1024), "limit is 5 MiB"),
], ids=["empty", "fake-gif", "pdf", "bomb-400M", "bomb-36M", "too-big"])
def test_bad_files_are_refused(data, match):
    with pytest.raises(ConfigError, match=match):
        decode(data)
    assert 6000 * 6000 > MAX_PIXELS


def test_truncated_png_is_refused():
    data = png(Image.new("RGB", (64, 64), (10, 200, 30)))
    with pytest.raises(ConfigError, match="image"):
        decode(data[:60])
