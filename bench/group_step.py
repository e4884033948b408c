"""One class-group training step (grouped forward, per-member loss, backward; the optimizer is left out), the
convolution paths of ``GroupedForward`` side by side in one process, interleaved, several repeats: oneDNN's
grouped convolution ("grouped", the default) and batched matrix products (``conv="shift"``,
``cnnviz.training.group_conv``; TinyVGG only, SmallResNet keeps the grouped path). Also the grouped evaluation
pass (no gradients, the same validation images for every member: the shared first convolution) against the
pass on a copy of the images. Prints per step ms, min and median, and new ÷ old.

    python -m bench.group_step          # 30 members digits + TinyVGG (width 10, batch 64); 10 shapes + SmallResNet
    python -m bench.group_step --threads 1 --cpu-time   # CPU seconds of one thread: steadier on a loaded box
    python -m bench.group_step --case "digits TinyVGG" --repeats 8
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import torch
from torch.func import stack_module_state

from cnnviz.architecture.models import SmallResNet, TinyVGG
from cnnviz.training.group_forward import GroupedForward
from cnnviz.training.group_train import group_loss

CASES = {"digits TinyVGG": (TinyVGG, 30, 1, 8, 10, 64), "shapes SmallResNet": (SmallResNet, 10, 3, 32, 16, 64)}


def case(cls, m, c, size, width, batch):
    torch.manual_seed(0)
    models = [cls(c, 10, size, width) for _ in range(m)]
    params, buffers = stack_module_state(models)
    params = {k: v.detach().requires_grad_() for k, v in params.items()}
    x = torch.randn(m, batch, c, size, size)
    y = torch.randint(0, 10, (m, batch))
    return models[0], params, buffers, x, y


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3, help="rounds of old, new (each round --steps steps of each)")
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--cpu-time", action="store_true", help="process CPU time instead of wall time")
    p.add_argument("--case", choices=list(CASES), action="append", help="default: both")
    a = p.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    clock = time.process_time if a.cpu_time else time.perf_counter
    print(f"group_step: {torch.get_num_threads()} threads, {'CPU' if a.cpu_time else 'wall'} time, "
          f"load {os.getloadavg()[0]:.1f}")
    for name in a.case or list(CASES):
        spec = CASES[name]
        model, params, buffers, x, y = case(*spec)
        smoothing = torch.zeros(len(x))
        val = x[0].expand(*x.shape)  # every member the same images, as evaluate_group passes them
        paths = {"grouped": GroupedForward(model, "grouped"), "shift": GroupedForward(model, "shift")}

        def step(fwd):
            def run():
                group_loss(fwd(params, buffers, x), y, smoothing).sum().backward()
            return run

        def evaluate(fwd, images):
            def run():
                with torch.no_grad():
                    fwd(params, buffers, images, training=False)
            return run
        runs = {"step grouped": step(paths["grouped"]), "step shift": step(paths["shift"]),
                "eval copy": evaluate(paths["grouped"], val.contiguous()),
                "eval shared": evaluate(paths["grouped"], val), "eval shift": evaluate(paths["shift"], val)}
        if not paths["shift"].shift:  # the same pass as grouped
            runs = {k: v for k, v in runs.items() if "shift" not in k}
        times = {k: [] for k in runs}
        for f in runs.values():
            f()
        for _ in range(a.repeats):
            for k, f in runs.items():
                for _ in range(a.steps):
                    t0 = clock()
                    f()
                    times[k].append(clock() - t0)
        ms = {k: (min(v) * 1e3, statistics.median(v) * 1e3) for k, v in times.items()}
        print(f"  {name} ({len(x)} members, batch {x.shape[1]}, shift path {'on' if paths['shift'].shift else 'off'}):")
        for k, (lo, med) in ms.items():
            print(f"    {k:13s} min {lo:7.1f} ms, median {med:7.1f} ms")
        ratio = lambda new, old: "/".join(f"{ms[new][i] / ms[old][i]:.2f}" for i in (0, 1))  # noqa: E731
        line = f"eval shared ÷ copy {ratio('eval shared', 'eval copy')}"
        if "step shift" in ms:
            line = (f"step shift ÷ grouped {ratio('step shift', 'step grouped')}, {line}, "
                    f"eval shift ÷ copy {ratio('eval shift', 'eval copy')}")
        print(f"    ratios (min/median): {line}")


if __name__ == "__main__":
    main()
