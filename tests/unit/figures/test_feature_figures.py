"""Feature Maps figures as mosaics: every kernel and channel lands in its own tile with its own values, and one
label per tile (one trace and one annotation list instead of a subplot or an add_annotation per tile)."""
import numpy as np
import torch

from cnnviz.figures.features import activation_grid, kernels_figure


def test_grey_kernels_mosaic_holds_each_kernel_in_its_tile():
    torch.manual_seed(0)
    w = torch.randn(10, 1, 3, 3)
    fig = kernels_figure(w, cols=4)
    assert len(fig.data) == 1 and fig.data[0].type == "heatmap"
    z = np.array(fig.data[0].z, dtype=float)
    assert z.shape == (3 * 4 - 1, 4 * 4 - 1)  # 3 rows of 4 tiles, 1-cell gutters
    np.testing.assert_allclose(z[4:7, 8:11], w[6, 0].numpy(), rtol=1e-6)  # kernel 6: row 1, column 2
    assert np.isnan(z[3]).all() and np.isnan(z[8:, 8:]).all()  # a gutter, and the empty tiles after kernel 9
    assert [a.text for a in fig.layout.annotations] == [f"k {i}" for i in range(10)]
    assert fig.data[0].zmin == -fig.data[0].zmax == -float(w.abs().max())  # one symmetric scale


def test_rgb_kernels_mosaic_rescales_each_kernel_to_0_255():
    torch.manual_seed(1)
    w = torch.randn(5, 3, 2, 2)
    z = np.asarray(kernels_figure(w, cols=8).data[0].z)
    assert z.shape == (2, 5 * 3 - 1, 3) and z.dtype == np.uint8
    k = w[3]
    want = ((k - k.min()) / (k.max() - k.min()) * 255).round().permute(1, 2, 0).numpy()
    np.testing.assert_array_equal(z[:, 9:11], want)
    assert (z[:, 2] == 255).all()  # white gutter between kernels 0 and 1


def test_activation_grid_labels_every_channel():
    act = torch.arange(6 * 2 * 2, dtype=torch.float32).reshape(6, 2, 2)
    fig = activation_grid(act, "t", cols=4)
    assert [a.text for a in fig.layout.annotations] == [f"ch {i}" for i in range(6)]
    assert fig.layout.annotations[5].x == 1 * 3 + 0.5 and fig.layout.annotations[5].y == 1 * 3 - 0.5
