"""Size and build time of the Convolution Animation page's default figure (and a few larger ones, for scale).
Side by side, the same spec built the plain plotly way (``go.Figure(spec, _validate=False)``, which still
validates every frame) against ours (``Prebuilt``: the spec as it is, cnnviz/figures/prebuilt.py).

Run: python -m bench.animation_size   — the last line is ``default_json_bytes: N`` (keep N ≤ 1,000,000).
"""
import time

import numpy as np
import plotly.graph_objects as go
import torch


from cnnviz.animation import DEFAULTS, conv2d_steps, kernel_preset, pool2d_steps, sample_input  # noqa: E402
from cnnviz.animation.nd import conv1d_steps, signal_input  # noqa: E402
from cnnviz.figures.animation import SPEED_MS, animation_figure  # noqa: E402

torch.set_num_threads(1)


def measure(label, build):
    t0 = time.perf_counter()
    fig = build()
    t1 = time.perf_counter()
    n = len(fig.to_json())
    t2 = time.perf_counter()
    spec = fig.to_dict()
    t3 = time.perf_counter()
    go.Figure(spec, _validate=False)  # the plain way to hand plotly a spec with frames
    plain = time.perf_counter() - t3
    frames = len(spec["frames"])
    print(f"{label:<44} frames={frames:5d}  json={n:10,d} B  ({n / max(frames, 1):7,.0f} B/frame)  "
          f"build={1e3 * (t1 - t0):6.0f} ms (+{1e3 * plain:5.0f} ms the plain way: ×{(t1 - t0 + plain) / (t1 - t0):.1f})"
          f"  to_json={1e3 * (t2 - t1):6.0f} ms")
    return n


def default_figure():
    d = DEFAULTS
    x = sample_input(d["source"], digit=d["digit"])
    steps = conv2d_steps(x, kernel_preset(d["kernel"]), d["bias"], d["stride"], d["padding"], d["dilation"],
                         d["mode"])
    return animation_figure(steps, speed_ms=SPEED_MS[d["speed"]])


if __name__ == "__main__":
    digit = sample_input("digit")
    big = np.random.default_rng(0).integers(0, 10, size=(16, 16)).astype(float)
    measure("digit 8×8, max pool 2", lambda: animation_figure(pool2d_steps(digit, 2)))
    measure("random 16×16, 3×3 conv, padding 1 (256 steps)",
            lambda: animation_figure(conv2d_steps(big, np.ones((3, 3)), padding=1)))
    measure("random 16×16, 7×7 conv, padding 3 (256 steps)",
            lambda: animation_figure(conv2d_steps(big, np.ones((7, 7)), padding=3)))
    measure("1-D tab: sequence of 32, k 9, 'same' (32 steps)",
            lambda: animation_figure(conv1d_steps(signal_input("random", 32), np.ones(9), padding="same")))
    n = measure("page default (digit 8×8, Sobel x, padding 1)", default_figure)
    print(f"default_json_bytes: {n}")
