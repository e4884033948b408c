"""One class-group training step (grouped forward, per-member loss, backward; the optimizer is left out) in one
process, variants side by side, interleaved, several repeats; per step ms, min and median, and the ratios:

- ``step``: ``GroupedForward`` as the class group runs it (the members' images channels-last, ``grouped_input``);
- ``step nchw``: the same with the images side by side as the member-major view the group used before c95a716
  (with one channel per member every layer then ran in NCHW);
- ``step halves``: (with ``--threads 2``) two Python threads each running half of the members' step while the
  process has one intra-op thread (``torch.set_num_threads`` is process-wide; ops release the GIL and the CPU
  backward runs on its calling thread); ``step 1 thread`` is the whole step at one intra-op thread;
- ``eval copy`` / ``eval shared``: the grouped evaluation pass (no gradients) on a copy of the validation images
  per member, against the same images for every member (an expanded tensor: the shared first convolution).

    python -m bench.group_step          # 30 members digits + TinyVGG (width 16, batch 64); 10 shapes + SmallResNet
    python -m bench.group_step --threads 1 --cpu-time   # CPU seconds of one thread: steadier on a loaded box
    python -m bench.group_step --case "digits TinyVGG" --repeats 8
"""
from __future__ import annotations

import argparse
import os
import statistics
import threading
import time

import torch
from torch.func import stack_module_state

from cnnviz.architecture.models import SmallResNet, TinyVGG
from cnnviz.training import group_forward
from cnnviz.training.group_forward import GroupedForward
from cnnviz.training.group_train import group_loss

# width 16: what bench.class_training's students get (recipe.from_switches on 8×8 digits)
CASES = {"digits TinyVGG": (TinyVGG, 30, 1, 8, 16, 64), "shapes SmallResNet": (SmallResNet, 10, 3, 32, 16, 64)}


def case(cls, m, c, size, width, batch):
    torch.manual_seed(0)
    models = [cls(c, 10, size, width) for _ in range(m)]
    params, buffers = stack_module_state(models)
    params = {k: v.detach().requires_grad_() for k, v in params.items()}
    x = torch.randn(m, batch, c, size, size)
    y = torch.randint(0, 10, (m, batch))
    return models[0], params, buffers, x, y


def member_major(x: torch.Tensor) -> torch.Tensor:
    """The group's input before c95a716: a view, member-major when C = 1 (NCHW for oneDNN)."""
    b = x.shape[1]
    return x.permute(1, 3, 4, 0, 2).reshape(b, *x.shape[3:], x.shape[0] * x.shape[2]).permute(0, 3, 1, 2)


def has_buffers(buffers: dict) -> bool:
    return any(v.numel() for v in buffers.values())


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3, help="rounds of all variants (each round --steps steps each)")
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
        model, params, buffers, x, y = case(*CASES[name])
        smoothing = torch.zeros(len(x))
        fwd = GroupedForward(model)
        val = x[0].expand(*x.shape)  # every member the same images, as evaluate_group passes them

        def step(layout=group_forward.grouped_input):
            def run():
                saved, group_forward.grouped_input = group_forward.grouped_input, layout
                try:
                    group_loss(fwd(params, buffers, x), y, smoothing).sum().backward()
                finally:
                    group_forward.grouped_input = saved
            return run

        def evaluate(images):
            def run():
                with torch.no_grad():
                    fwd(params, buffers, images, training=False)
            return run
        def part(f, rows):
            group_loss(f({k: v[rows] for k, v in params.items()}, buffers, x[rows]), y[rows],
                       smoothing[rows]).sum().backward()

        def halves():
            rows = (slice(0, len(x) // 2), slice(len(x) // 2, None))
            other = threading.Thread(target=part, args=(second, rows[1]))
            other.start()
            part(fwd, rows[0])
            other.join()
        runs = {"step": step(), "step nchw": step(member_major), "eval copy": evaluate(val.contiguous()),
                "eval shared": evaluate(val)}
        threads = {k: torch.get_num_threads() for k in runs}
        if torch.get_num_threads() > 1 and not has_buffers(buffers):  # BatchNorm: halves would share buffers
            second = GroupedForward(model)
            runs.update({"step halves": halves, "step 1 thread": step()})
            threads.update({"step halves": 1, "step 1 thread": 1})
        times = {k: [] for k in runs}
        for k, f in runs.items():
            torch.set_num_threads(threads[k])
            f()
        for _ in range(a.repeats):
            for k, f in runs.items():
                torch.set_num_threads(threads[k])
                for _ in range(a.steps):
                    t0 = clock()
                    f()
                    times[k].append(clock() - t0)
        torch.set_num_threads(max(threads.values()))
        ms = {k: (min(v) * 1e3, statistics.median(v) * 1e3) for k, v in times.items()}
        print(f"  {name} ({len(x)} members, batch {x.shape[1]}):")
        for k, (lo, med) in ms.items():
            print(f"    {k:13s} min {lo:7.1f} ms, median {med:7.1f} ms")
        ratio = lambda new, old: "/".join(f"{ms[new][i] / ms[old][i]:.2f}" for i in (0, 1))  # noqa: E731
        halves = f", step halves ÷ step {ratio('step halves', 'step')}" if "step halves" in ms else ""
        print(f"    ratios (min/median): step ÷ step nchw {ratio('step', 'step nchw')}, "
              f"eval shared ÷ copy {ratio('eval shared', 'eval copy')}{halves}")


if __name__ == "__main__":
    main()
