"""Image kernels on a photograph against PyTorch: every gallery kernel under every padding mode equals
``F.conv2d`` ('same' zeros) or ``nn.Conv2d(padding_mode=...)`` on the photograph; the window's sum is the output
cell; the Sobel magnitude is √(Gx² + Gy²); typed kernels are checked; the figure's output scale is centred on 0."""
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from cnnviz.animation.image_kernels import (GALLERY, MAGNITUDE, PHOTO_PAD_MODES, TYPED, apply_kernel,
                                            gradient_magnitude, parse_kernel)
from cnnviz.errors import ConfigError
from cnnviz.figures.photo_kernels import photo_kernel_figure, robust_range, window_figure
from cnnviz.io.photos import load_photo

PHOTO = load_photo("coins")[0]  # (202, 256): not square, so rows and columns cannot be swapped unseen


def torch_reference(x: torch.Tensor, w: np.ndarray, mode: str) -> np.ndarray:
    wt = torch.tensor(w, dtype=torch.float32)[None, None]
    if mode == "zeros":
        return F.conv2d(x[None, None], wt, padding="same")[0, 0].numpy()
    conv = nn.Conv2d(1, 1, w.shape[0], padding=w.shape[0] // 2, padding_mode=mode, bias=False)
    with torch.no_grad():
        conv.weight.copy_(wt)
        return conv(x[None, None])[0, 0].numpy()


@pytest.mark.parametrize("mode", PHOTO_PAD_MODES)
def test_every_gallery_kernel_equals_pytorch(mode):
    for name, w in GALLERY.items():
        res = apply_kernel(PHOTO, name, mode)
        assert res.out.shape == PHOTO.shape
        np.testing.assert_allclose(res.out, torch_reference(PHOTO, w, mode), atol=1e-5, err_msg=f"{name} {mode}")


def test_typed_5x5_and_padding_ring_of_reflect():
    text = "1 0 0 0 0; 0 0 0 0 0; 0 0 0 0 0; 0 0 0 0 0; 0 0 0 0 -1/2"
    w = parse_kernel(text)
    assert w.shape == (5, 5) and w[4, 4] == -0.5
    res = apply_kernel(PHOTO, TYPED, "reflect", text)
    np.testing.assert_allclose(res.out, torch_reference(PHOTO, w, "reflect"), atol=1e-5)
    # top-left output: the window reads reflected pixels x[2, 2] (weight 1) and x[2, 2] again (weight -1/2)
    assert res.out[0, 0] == pytest.approx(float(PHOTO[2, 2]) - 0.5 * float(PHOTO[2, 2]), abs=1e-6)


def test_window_products_sum_to_the_output_cell():
    res = apply_kernel(PHOTO, "sobel x", "replicate")
    for step in (1, 257, res.steps // 2, res.steps):
        win = res.window(step)
        r, c = divmod(step - 1, PHOTO.shape[1])
        assert (win.row, win.col) == (r, c)
        np.testing.assert_allclose(win.products, win.values * GALLERY["sobel x"])
        assert win.total == pytest.approx(float(res.out[r, c]), abs=1e-5)
    with pytest.raises(ConfigError) as e:
        res.window(res.steps + 1)
    assert e.value.field == "step"


def test_sobel_magnitude_is_the_hand_formula():
    x = torch.tensor([[0, 0, 1, 1], [0, 0, 1, 1], [0, 1, 1, 1], [1, 1, 1, 1.0]])
    res = apply_kernel(x, MAGNITUDE, "zeros")
    gx = F.conv2d(x[None, None], torch.tensor(GALLERY["sobel x"], dtype=torch.float32)[None, None], padding=1)[0, 0]
    gy = F.conv2d(x[None, None], torch.tensor(GALLERY["sobel y"], dtype=torch.float32)[None, None], padding=1)[0, 0]
    np.testing.assert_allclose(res.out, torch.sqrt(gx ** 2 + gy ** 2).numpy(), atol=1e-6)
    # by hand at (1, 1): window [[0,0,1],[0,0,1],[0,1,1]] -> Gx = 1 + 2 + 1 + 0 = 4, Gy = -0 - 0 - 1 + 0 + 2 + 1 = 2
    assert res.gx[1, 1] == pytest.approx(4) and res.gy[1, 1] == pytest.approx(2)
    assert res.out[1, 1] == pytest.approx(np.sqrt(20))
    assert res.window(6).gy == pytest.approx(2) and gradient_magnitude([3.0], [4.0])[0] == pytest.approx(5)


@pytest.mark.parametrize("text, why", [("1 2; 3 4", "rows"), ("1 2 3; 4 5 6; 7 8", "row 3"), ("", "empty"),
                                       ("1 x 1; 1 1 1; 1 1 1", "not a number"),
                                       ("nan 0 0; 0 0 0; 0 0 0", "not a number"),
                                       ("1e9 0 0; 0 0 0; 0 0 0", "finite"), ("1/0 0 0; 0 0 0; 0 0 0", "divides by 0"),
                                       ("; ".join(["1 " * 9] * 9), "rows"), ("1 " * 300, "characters")])
def test_bad_typed_kernel_names_the_field(text, why):
    with pytest.raises(ConfigError) as e:
        apply_kernel(PHOTO, TYPED, "zeros", text)
    assert e.value.field == "typed kernel" and why in str(e.value)


def test_unknown_kernel_and_mode_name_the_field():
    with pytest.raises(ConfigError) as e:
        apply_kernel(PHOTO, "blurr", "zeros")
    assert e.value.field == "kernel"
    with pytest.raises(ConfigError) as e:
        apply_kernel(PHOTO, "sobel x", "mirror")
    assert e.value.field == "padding mode"


def test_figure_output_scale_centred_on_zero_with_colour_bar():
    res = apply_kernel(PHOTO, "sobel x", "zeros")
    d = photo_kernel_figure(res, 1000).to_dict()
    out = d["data"][1]
    m = float(np.percentile(np.abs(res.out), 99.5))  # colours saturate there
    assert 0 < m < float(np.abs(res.out).max())
    assert out["zmid"] == 0 and out["zmin"] == pytest.approx(-m) and out["zmax"] == pytest.approx(m)
    assert out["showscale"] and out["colorscale"][0][1] != out["colorscale"][-1][1]
    z = np.frombuffer(__import__("base64").b64decode(out["z"]["bdata"]), np.float32).reshape(res.out.shape)
    np.testing.assert_array_equal(z, res.out)
    assert "Σ products = " in window_figure(res, 1000).to_dict()["layout"]["title"]["text"]


def test_robust_range_falls_back_to_max_for_sparse_outputs():
    sparse = np.zeros((40, 40))
    sparse[3, 4] = -2.0  # 1 cell in 1,600: the 99.5th percentile is 0, the range is max|output|
    assert robust_range(sparse) == 2.0 and robust_range(np.zeros((3, 3))) == 1.0
