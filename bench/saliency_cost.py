"""Cost of Integrated Gradients (cnnviz.inside.saliency.attribute, captum underneath) relative to the work it cannot
avoid: n_steps images in one batched forward + backward pass of the same model. Goal: ratio ≤ 1.2.

    python -m bench.saliency_cost [model_key] [n_steps]
"""
import statistics
import sys
import time

import torch

from cnnviz.inside.saliency import attribute  # noqa: E402
from cnnviz.inside.shipped import load_model  # noqa: E402


def batched_pass(model, x, target, n):
    xb = x.expand(n, -1, -1, -1).clone().requires_grad_(True)  # (n, C, H, W)
    (g,) = torch.autograd.grad(model(xb)[:, target].sum(), xb)
    return g


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(key="shapes_TinyVGG", n_steps=32, rounds=7, repeats=5):
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model, info = load_model(key)
    x = torch.rand(1, info.kwargs["in_channels"], info.kwargs["size"], info.kwargs["size"])
    ig = lambda: attribute(model, x, 0, "integrated_gradients", n_steps=n_steps)  # noqa: E731
    base = lambda: batched_pass(model, x, 0, n_steps)  # noqa: E731
    ig(), base()  # warm-up
    ratios, t_ig, t_base = [], [], []
    for _ in range(rounds):  # interleaved, so load on the machine hits both alike
        b, i = median_time(base, repeats), median_time(ig, repeats)
        t_base.append(b), t_ig.append(i), ratios.append(i / b)
    print(f"model {key}, input {tuple(x.shape)}, n_steps {n_steps}, {torch.get_num_threads()} thread")
    print(f"{n_steps} images, one batched forward+backward: {1e3 * statistics.median(t_base):.2f} ms")
    print(f"integrated gradients ({n_steps} steps):          {1e3 * statistics.median(t_ig):.2f} ms")
    print(f"ratio: {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main(*(sys.argv[1:2] or ["shapes_TinyVGG"]), *([int(sys.argv[2])] if len(sys.argv) > 2 else []))
