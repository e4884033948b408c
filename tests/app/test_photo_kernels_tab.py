"""Photographs and the webcam in AppTest: the Convolution Animation's Photo kernels tab (Sobel x over a photograph,
its output and zoom equal F.conv2d, a typed kernel refused by name, a camera picture), and a photograph and a
camera picture on a model page (Feature Maps), which go down the upload's path."""
import io
import re
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from tests.support import apptest
from cnnviz.inside.shipped import input_image, load_model
from cnnviz.io.photos import load_photo, photo_bytes
from tests.support.rendered import shown

SOBEL_X = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])[None, None]


def photo_tab(query: dict | None = None):
    at = apptest.open_page("conv_animation", {"tab": "Photo kernels", **(query or {})})
    assert not at.exception and not at.error, [e.value for e in at.error]
    return at


def window_sum(at) -> tuple[int, int, float]:
    title = apptest.figures(at)[1]["layout"]["title"]["text"]
    m = re.search(r"= ([−-]?[\d.]+) = output\[(\d+), (\d+)\]", title)
    return int(m[2]), int(m[3]), float(m[1].replace("−", "-"))


def jpeg(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=95)
    return buf.getvalue()


def test_sobel_x_over_a_photograph_equals_conv2d_and_the_step_moves_the_window():
    at = photo_tab({"phphoto": "cat", "phstep": "5000"})
    x = torch.round(load_photo("cat")[0] * 255)  # (170, 256), 8-bit values
    ref = F.conv2d(x[None, None], SOBEL_X, padding="same")[0, 0]
    r, c, total = window_sum(at)
    assert (r, c) == divmod(5000 - 1, 256) and abs(total - float(ref[r, c])) < 0.01 and total != 0
    out = apptest.figures(at)[0]["data"][1]
    m = float(np.percentile(ref.abs().numpy(), 99.5))
    assert out["zmid"] == 0 and out["zmax"] == -out["zmin"] and abs(out["zmax"] - m) < 1e-3 * m
    assert out["showscale"]
    at.slider(key="anim_phstep").set_value(170 * 256).run()  # the last step: the bottom-right pixel
    assert window_sum(at)[:2] == (169, 255)
    assert at.query_params["phstep"] in ("43520", ["43520"])


def test_magnitude_mode_channel_and_a_bad_typed_kernel():
    at = photo_tab({"phk": "sobel magnitude", "phmode": "reflect", "phch": "red", "phphoto": "astronaut"})
    title = apptest.figures(at)[1]["layout"]["title"]["text"]
    assert "√(Gx² + Gy²)" in title
    at.selectbox(key="anim_phk").set_value("typed").run()
    at.text_area(key="anim_phtext").set_value("1 2 3; 4 5 6").run()
    assert not at.exception
    assert any("typed kernel" in shown(e.value) and "odd side" in shown(e.value) for e in at.error)


def test_camera_picture_in_the_photo_tab():
    at = photo_tab()
    at.radio(key="anim_phsrc").set_value("camera").run()
    assert any("take a picture" in shown(e.value) for e in at.error)  # nothing taken yet: said, no traceback
    rng = np.random.default_rng(0)
    at.camera_input[0].set_value(("shot.jpg", jpeg(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)),
                                  "image/jpeg")).run()
    assert not at.exception and not at.error
    out = apptest.figures(at)[0]["data"][1]
    assert out["z"]["shape"].replace(" ", "") == "192,256"  # 640×480 shrunk to 256 on the long side


def test_photo_and_camera_on_feature_maps_go_the_upload_path():
    at = apptest.open_page("feature_maps")
    at.radio(key="feat_src").set_value("photo").run()
    at.selectbox(key="feat_photo").set_value("coins").run()
    assert not at.exception and not at.error
    model, info = load_model("digits_TinyVGG")
    x, _ = input_image(info, "upload", data=photo_bytes("coins"))
    assert apptest.metric(at, "Prediction") == info.classes[int(model(x).argmax())]
    at.radio(key="feat_src").set_value("camera").run()
    shot = jpeg(np.full((120, 160, 3), 200, np.uint8))
    at.camera_input[0].set_value(("shot.jpg", shot, "image/jpeg")).run()
    assert not at.exception and not at.error
    x, _ = input_image(info, "upload", data=shot)
    assert apptest.metric(at, "Prediction") == info.classes[int(model(x).argmax())]
    at.camera_input[0].set_value(("shot.jpg", b"not a jpeg at all", "image/jpeg")).run()
    assert not at.exception and any("image" in shown(e.value) for e in at.error)


def test_colour_photograph_stays_colour_for_a_3_channel_model():
    at = apptest.open_page("feature_maps", {"model": "shapes_TinyVGG", "src": "photo", "photo": "coffee"})
    assert not at.exception and not at.error
    model, info = load_model("shapes_TinyVGG")
    x, _ = input_image(info, "upload", data=photo_bytes("coffee"))  # (1, 3, 32, 32): no conversion to grey
    assert x.shape == (1, 3, 32, 32) and float((x[0, 0] - x[0, 2]).abs().mean()) > 0.05
    assert apptest.metric(at, "Prediction") == info.classes[int(model(x).argmax())]
    assert any("sees the picture in grey" in c.value for c in at.caption)  # said for 1-channel models
