"""Every Pillow mode a camera, scanner or editor produces decodes to the right RGB values in [0, 1]: each is
saved to a file (TIFF carries every mode; PNG/JPEG where they can), decoded by cnnviz and compared with a
reference computed here with numpy from the seeded source array (the rules: cnnviz/io/images.py)."""
import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from cnnviz.io.images import decode, to_rgb, to_rgb_resized
from cnnviz.io.uploads import load_zip

H, W = 5, 7


def rng(seed):
    return np.random.default_rng(seed)


def saved(img: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


def grey3(g):
    return np.repeat(np.asarray(g, np.float64)[..., None], 3, axis=2)


def case_1():
    a = rng(1).random((H, W)) > 0.5
    return Image.fromarray(a), grey3(a.astype(float)), ("PNG", "TIFF", "BMP")


def case_L():
    a = rng(2).integers(0, 256, (H, W), dtype=np.uint8)
    return Image.fromarray(a, "L"), grey3(a / 255), ("PNG", "TIFF", "BMP")


def case_I16():
    a = rng(3).integers(0, 65536, (H, W), dtype=np.uint16)
    a[0, 0], a[0, 1] = 0, 65535
    return Image.fromarray(a), grey3(a / 65535), ("PNG", "TIFF")


def case_I16_mid_grey():  # the reported bug: a 16-bit grey PNG came out white
    a = np.full((H, W), 32768, np.uint16)
    return Image.fromarray(a), grey3(a / 65535), ("PNG",)


def case_I_16bit_range():
    a = rng(4).integers(0, 65536, (H, W)).astype(np.int32)
    return Image.fromarray(a, "I"), grey3(a / 65535), ("TIFF",)


def case_I_signed():
    a = rng(5).integers(-100_000, 300_000, (H, W)).astype(np.int32)
    return Image.fromarray(a, "I"), grey3((a - a.min()) / (a.max() - a.min())), ("TIFF",)


def case_F_unit():
    a = rng(6).random((H, W)).astype(np.float32)
    return Image.fromarray(a, "F"), grey3(a), ("TIFF",)


def case_F_range():
    a = (rng(7).random((H, W)) * 40 - 10).astype(np.float32)
    return Image.fromarray(a, "F"), grey3((a.astype(np.float64) - a.min()) / (a.max() - a.min())), ("TIFF",)


def _palette(seed):
    pal = rng(seed).integers(0, 256, (256, 3), dtype=np.uint8)
    idx = rng(seed + 1).integers(0, 256, (H, W), dtype=np.uint8)
    return pal, idx


def case_P():
    pal, idx = _palette(8)
    img = Image.fromarray(idx, "P")
    img.putpalette(pal.flatten().tolist())
    return img, pal[idx] / 255, ("PNG", "TIFF", "BMP")


def case_PA():
    pal, idx = _palette(10)
    alpha = rng(12).integers(0, 256, (H, W), dtype=np.uint8)
    p = Image.fromarray(idx, "P")
    p.putpalette(pal.flatten().tolist())
    img = p.convert("PA")
    img.putalpha(Image.fromarray(alpha, "L"))
    assert img.mode == "PA"
    return img, pal[idx] / 255 * (alpha[..., None] / 255), ("TIFF",)


def case_P_transparency():
    pal, idx = _palette(13)
    img = Image.fromarray(idx, "P")
    img.putpalette(pal.flatten().tolist())
    img.info["transparency"] = int(idx[0, 0])
    ref = pal[idx] / 255 * (idx != idx[0, 0])[..., None]
    return img, ref, ("PNG",)


def case_LA():
    a = rng(14).integers(0, 256, (H, W, 2), dtype=np.uint8)
    return Image.fromarray(a, "LA"), grey3(a[..., 0] / 255 * a[..., 1] / 255), ("PNG", "TIFF")


def case_RGB():
    a = rng(15).integers(0, 256, (H, W, 3), dtype=np.uint8)
    return Image.fromarray(a, "RGB"), a / 255, ("PNG", "TIFF", "BMP", "WEBP_LOSSLESS")


def case_RGBA():
    a = rng(16).integers(0, 256, (H, W, 4), dtype=np.uint8)
    return Image.fromarray(a, "RGBA"), a[..., :3] / 255 * a[..., 3:] / 255, ("PNG", "TIFF")


def case_CMYK():
    a = rng(17).integers(0, 256, (H, W, 4), dtype=np.uint8)
    c = a / 255.0
    ref = (1 - c[..., :3]) * (1 - c[..., 3:])  # R = (1 − C)(1 − K), ...
    return Image.fromarray(a, "CMYK"), ref, ("TIFF",)


def case_YCbCr():
    a = rng(18).integers(0, 256, (H, W, 3), dtype=np.uint8).astype(np.float64)
    y, cb, cr = a[..., 0], a[..., 1] - 128, a[..., 2] - 128  # JPEG / JFIF, full range
    ref = np.stack([y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb], -1)
    return Image.fromarray(a.astype(np.uint8), "YCbCr"), np.clip(ref, 0, 255) / 255, ("TIFF",)


CASES = {name[5:]: fn for name, fn in dict(globals()).items() if name.startswith("case_")}
TOLERANCE = {"CMYK": 1.01 / 255, "YCbCr": 2.01 / 255}  # Pillow's 8-bit integer arithmetic rounds


@pytest.mark.parametrize("name", list(CASES))
def test_every_mode_decodes_like_the_reference(name):
    img, ref, formats = CASES[name]()
    tol = TOLERANCE.get(name, 1e-6)
    got = to_rgb(img)
    assert got.shape == (H, W, 3) and got.dtype == np.float32
    np.testing.assert_allclose(got, ref, atol=tol, rtol=0)
    for fmt in formats:
        data = saved(img, fmt) if fmt != "WEBP_LOSSLESS" else _webp_lossless(img)
        out = decode(data).permute(1, 2, 0).numpy()  # (H, W, 3)
        np.testing.assert_allclose(out, ref, atol=tol, rtol=0, err_msg=f"{name} via {fmt}")


def _webp_lossless(img):
    buf = io.BytesIO()
    img.save(buf, "WEBP", lossless=True)
    return buf.getvalue()


def test_cmyk_jpeg_and_the_modes_each_file_really_opens_as():
    img, _, _ = case_CMYK()
    assert Image.open(io.BytesIO(saved(img, "JPEG"))).mode == "CMYK"
    out = decode(saved(img, "JPEG"))  # lossy: close to the reference, the right colours (not inverted)
    ref = case_CMYK()[1]
    assert np.abs(out.permute(1, 2, 0).numpy() - ref).mean() < 0.1
    for name, mode in [("I16", "I;16"), ("I_signed", "I"), ("F_range", "F"), ("PA", "PA"), ("YCbCr", "YCbCr"),
                       ("CMYK", "CMYK"), ("1", "1"), ("LA", "LA")]:
        img, _, formats = CASES[name]()
        assert Image.open(io.BytesIO(saved(img, formats[-1] if name != "1" else "TIFF"))).mode == mode


def test_float_rule_maps_nan_and_infinities():
    a = np.array([[np.nan, np.inf, -np.inf, 0.25, 0.5]], np.float32)
    np.testing.assert_allclose(to_rgb(Image.fromarray(a, "F"))[..., 0], [[0, 1, 0, 0.25, 0.5]])
    b = np.array([[2.0, 4.0, np.nan, 6.0]], np.float32)
    np.testing.assert_allclose(to_rgb(Image.fromarray(b, "F"))[..., 0], [[0, 0.5, 0, 1]])


@pytest.mark.parametrize("name", list(CASES))
def test_resized_conversion_of_a_uniform_image_keeps_its_value(name):
    img, ref, _ = CASES[name]()
    if name in ("I_signed", "F_range"):
        pytest.skip("the range rule maps a uniform image to 0")
    value = ref[0, 0]
    uniform = img.crop((0, 0, 1, 1)).resize((40, 30), Image.Resampling.NEAREST)
    if img.mode == "P" or "transparency" in img.info:
        uniform.info.update(img.info)
    out = to_rgb_resized(uniform, 8)
    assert out.shape == (8, 8, 3)
    np.testing.assert_allclose(out, np.broadcast_to(value, out.shape), atol=TOLERANCE.get(name, 1.01 / 255))


def test_zip_of_16_bit_pngs_is_not_white():
    a = np.full((6, 6), 16384, np.uint16)  # a quarter of the 16-bit range
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for cls in ("dark", "darker"):
            for i in range(4):
                zf.writestr(f"{cls}/{i}.png", saved(Image.fromarray(a), "PNG"))
    ds = load_zip(buf.getvalue(), size=4)
    np.testing.assert_allclose(ds.x_train.numpy(), 16384 / 65535, atol=1e-5)
