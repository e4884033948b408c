"""The shipped photographs: each decodes offline to the manifest's size and mode, its file's SHA-256 is the
manifest's, the licences are listed, and unknown names or channels are refused naming the field."""
import hashlib
import io

import numpy as np
import pytest
import torch
from PIL import Image

from cnnviz.errors import ConfigError
from cnnviz.io.photos import PHOTOS_DIR, list_photos, load_photo, photo_bytes, picture_from_bytes

PHOTOS = list_photos()


def test_at_least_eight_photographs_small_and_licensed():
    assert len(PHOTOS) >= 8
    total = sum(p.stat().st_size for p in PHOTOS_DIR.iterdir())
    assert total < 1.5 * 2**20
    licence = (PHOTOS_DIR / "LICENSE.md").read_text()
    for p in PHOTOS.values():
        assert f"`{p.file}`" in licence and p.licence and p.author
        assert "CC0" in p.licence or "public domain" in p.licence or "no known copyright" in p.licence


@pytest.mark.parametrize("name", list(PHOTOS))
def test_photo_decodes_with_manifest_size_mode_and_sha256(name):
    p = PHOTOS[name]
    data = p.path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == p.sha256
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        assert img.format == "PNG" and img.size == tuple(p.size) and img.mode == p.mode
        assert max(img.size) <= 256
        rgb = np.asarray(img.convert("RGB"), dtype=np.float32) / 255
    w, h = p.size
    grey = load_photo(name, "grey")
    assert grey.shape == (1, h, w) and grey.dtype == torch.float32
    luma = 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
    np.testing.assert_allclose(grey[0].numpy(), luma, atol=1e-6)
    colour = load_photo(name, "rgb")
    assert colour.shape == (3, h, w)
    np.testing.assert_array_equal(load_photo(name, "green")[0].numpy(), rgb[..., 1])
    if p.mode == "L":  # a grey photograph's channels are equal
        assert bool((colour[0] == colour[1]).all() and (colour[1] == colour[2]).all())


def test_unknown_photo_and_channel_name_the_field():
    with pytest.raises(ConfigError) as e:
        load_photo("../../etc/passwd")
    assert e.value.field == "photo"
    with pytest.raises(ConfigError) as e:
        photo_bytes("nope")
    assert e.value.field == "photo"
    with pytest.raises(ConfigError) as e:
        load_photo(next(iter(PHOTOS)), "purple")
    assert e.value.field == "channel"


def test_upload_bytes_shrunk_to_256_keeping_aspect_and_checked():
    a = (np.arange(600 * 300 * 3) % 251).astype(np.uint8).reshape(300, 600, 3)
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    x = picture_from_bytes(buf.getvalue(), "red")
    assert x.shape == (1, 128, 256) and float(x.min()) >= 0 and float(x.max()) <= 1
    small = picture_from_bytes(photo_bytes("camera"), "grey")
    np.testing.assert_allclose(small.numpy(), load_photo("camera").numpy(), atol=1e-6)
    with pytest.raises(ConfigError) as e:
        picture_from_bytes(b"not an image")
    assert e.value.field == "image"
