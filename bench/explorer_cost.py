"""Server-side cost of the Network Explorer per click: the engine and figure functions the page calls when a
neuron is selected (overview figure with the new selection, the neuron's arithmetic, receptive field, gradient
map and detail figure) or the input changes (the overview itself), on every shipped model, ≥ 30 clicks each.
Prints the overview figure's JSON size; the last line is the p95 over every click in milliseconds."""
import random
import statistics
import time

import torch

from cnnviz.explorer import (gradient_map, neuron_detail, overview, pooling_detail,  # noqa: E402
                             receptive_field, softmax_detail)
from cnnviz.figures import network as figs  # noqa: E402
from cnnviz.inside.shipped import list_models, load_model, validation_set  # noqa: E402

CLICKS = 40
POOLS = ("MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d")


def click(model, info, ov, x, c, ch, i, j):
    """What the page computes for one selection (figures serialised as Streamlit would)."""
    col = ov.columns[c]
    out = [figs.overview_figure(ov, info.classes, (c, ch))]
    if col.path and len(col.shape) == 3:
        box = receptive_field(model, x, col.path, (i, j))
        out.append(figs.receptive_field_figure(x[0], box, gradient_map(model, x, col.path, ch, (i, j))))
    if col.kind == "Conv2d":
        out.append(figs.conv_detail_figure(neuron_detail(model, x, col.path, ch, (i, j))))
    elif col.kind in POOLS:
        out.append(figs.pool_detail_figure(pooling_detail(model, x, col.path, ch, (i, j))))
    elif c == len(ov.columns) - 1:
        out.append(figs.softmax_figure(softmax_detail(torch.tensor(ov.logits)), info.classes))
    return sum(len(f.to_json()) for f in out)


def main():
    torch.set_num_threads(1)
    rng = random.Random(0)
    times = []
    for key, meta in list_models().items():
        model, info = load_model(key)
        xs, _ = validation_set(meta.dataset)
        ov = overview(model, xs[:1])
        size = len(figs.overview_figure(ov, info.classes, (1, 0)).to_json())
        mine = []
        for n in range(CLICKS):
            t = time.perf_counter()
            if n % 5 == 0:  # an input change every fifth click
                ov = overview(model, xs[n:n + 1])
            c = rng.randrange(1, len(ov.columns))
            ch, h, w = ov.columns[c].maps.shape
            click(model, info, ov, xs[n:n + 1], c, rng.randrange(ch), rng.randrange(h), rng.randrange(w))
            mine.append(1000 * (time.perf_counter() - t))
        times += mine
        print(f"{key}: overview figure {size:,} bytes JSON, {len(ov.columns)} columns; per click median "
              f"{statistics.median(mine):.0f} ms, max {max(mine):.0f} ms")
    p95 = statistics.quantiles(times, n=20)[-1]
    print(f"clicks: {len(times)}, median {statistics.median(times):.0f} ms")
    print(f"p95_ms: {p95:.0f}")


if __name__ == "__main__":
    main()
