"""The Training Lab's results read from the back of a room: each prediction's label sits in the band under its own
image (nearer it than the next row's), and no title is longer than its half-width panel holds."""
import numpy as np

from cnnviz.figures.training import prediction_grid, timings_figure
from cnnviz.jobs.events import Evaluation


def test_prediction_labels_sit_under_their_own_images():
    imgs, labels = np.random.default_rng(0).random((20, 1, 8, 8)), np.arange(20) % 10
    preds = (labels + (np.arange(20) % 3 == 0)) % 10
    fig = prediction_grid(imgs, labels, preds, [str(c) for c in range(10)], cols=8)
    z = np.asarray(fig.data[0].z)
    rows, row_h = 3, (z.shape[0] - 1) // 3                                  # 3 rows of 8 (20 images)
    for k, a in enumerate(fig.layout.annotations):
        r, q = divmod(k, 8)
        top = 1 + r * row_h                                                  # the image's first pixel row
        assert z[top:top + 8, 1 + q * 9:1 + q * 9 + 8].std() > 0            # the image is there ...
        assert (z[top + 8:top + row_h] == 255).all()                         # ... and a white band under it
        assert a.yanchor == "top" and top + 8 <= a.y < top + row_h - 1      # the label starts in that band
        assert a.text == (str(preds[k]) if preds[k] == labels[k] else f"{preds[k]} (is {labels[k]})")
    assert rows * row_h + 1 == z.shape[0] and len(fig.layout.annotations) == 20


def test_the_timings_title_fits_half_a_column():
    ev = Evaluation(1, 1, 0.5, 0.5, 0.5, 0.5, [], [], {"forward": 1.0})
    fig = timings_figure([ev])
    assert len(fig.layout.title.text) <= 24 and fig.layout.yaxis.title.text == "seconds per epoch"
