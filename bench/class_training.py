"""A whole class presses Start together: N students' Training Lab jobs (each a different seeded mix of the page's
switches and learning rate) trained as class groups (``cnnviz.training.group``), against one of them trained
alone in the same process, on the same device.

- first_point: seconds from the class's Start until a student's first curve point (Progress); p95 over students.
- class_over_solo: seconds until every student is done ÷ seconds of one job trained alone (``run_training``, in
  this process: no child process or queue counted on either side; the median of the ``--alone`` runs, one
  before the class and the others after it). Training the N jobs one after another costs
  about N × that job (the runner's queue today), so N / class_over_solo is the speed-up.
- max_acc_diff_points: max |final validation accuracy in the class − the same config trained alone| in
  percentage points, over the students also trained alone (``--alone``, default 3, the first ones).

Groups are those of ``plan_groups`` (one per key; split when over the memory limit), trained one after another.
On a shared machine the timings are noisy: run it more than once.

    python -m bench.class_training                                  # 30 students, digits + TinyVGG, 8 epochs
    python -m bench.class_training --students 10 --data shapes --model SmallResNet
    python -m bench.class_training --runner                         # through the app's runner, as Start does
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time

from cnnviz.device import describe, pick_device
from cnnviz.io.data import load_dataset
from cnnviz.jobs.events import Evaluation, Finished, Progress
from cnnviz.training.group import GroupJob, plan_groups, train_group
from cnnviz.training.loop import run_training
from cnnviz.training.recipe import SWITCHES, from_switches

LRS = (0.005, 0.01, 0.02, 0.04)


def student(k: int, ds, data: str, model: str, epochs: int, cuda: bool):
    """Student ``k``'s job: seed k, a seeded coin for each switch (early stopping off so every run is the
    same length), one of ``LRS``."""
    rnd = random.Random(k)
    switches = {name: rnd.random() < 0.5 for name, _, _ in SWITCHES if name != "early"}
    return from_switches(ds.size, switches, cuda, dataset=data, model=model, epochs=epochs, lr=rnd.choice(LRS),
                         optimizer="adamw", schedule="onecycle", data=ds, seed=k)


def train_class(cfgs, dev) -> tuple[float, list[float], list[float], list[list]]:
    """(seconds until all are done, seconds to each first Progress, to each Finished, each one's events)."""
    events = [[] for _ in cfgs]
    first, done = [float("nan")] * len(cfgs), [float("nan")] * len(cfgs)
    t0 = time.perf_counter()

    def emitter(k):
        def emit(e):
            events[k].append(e)
            if isinstance(e, Progress) and first[k] != first[k]:
                first[k] = time.perf_counter() - t0
            if isinstance(e, Finished):
                done[k] = time.perf_counter() - t0
        return emit
    for members in plan_groups(cfgs, dev):
        train_group([GroupJob(cfgs[k], emitter(k), threading.Event()) for k in members], dev)
    return time.perf_counter() - t0, first, done, events


def train_alone(cfg, dev) -> tuple[float, list]:
    events = []
    t0 = time.perf_counter()
    run_training(cfg, events.append, threading.Event(), lambda blob: None, dev)
    return time.perf_counter() - t0, events


def stages(events) -> str:
    """A run's seconds per stage (its Evaluation events' timings; a class member's are its group's)."""
    total: dict = {}
    for e in events:
        if isinstance(e, Evaluation):
            for k, v in e.timings.items():
                total[k] = total.get(k, 0.0) + v
    return ", ".join(f"{k} {v:.2f}" for k, v in total.items() if v)


def final_acc(events) -> float:
    return [e for e in events if isinstance(e, Evaluation)][-1].val_acc


def arguments(doc: str) -> argparse.ArgumentParser:
    """The class's options, shared with ``bench.class_runner``."""
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--students", type=int, default=None, help="default 30 (digits) or 10 (shapes)")
    p.add_argument("--data", default="digits", choices=("digits", "shapes"))
    p.add_argument("--model", default="TinyVGG", choices=("TinyVGG", "SmallResNet"))
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--n", type=int, default=None, help="images of the data set (default: all); a quick check")
    p.add_argument("--alone", type=int, default=3, help="students also trained alone, for the accuracy difference")
    return p


def result_line(n: int, first: list, class_s: float, solo_s: float, events: list, alone_acc: dict) -> str:
    """Print the class's summary and the issue's last line (shared with ``bench.class_runner``); return the line."""
    p95 = statistics.quantiles(first, n=20)[-1] if n > 1 else first[0]
    diff = max(abs(final_acc(events[k]) - acc) * 100 for k, acc in alone_acc.items())
    print(f"  class: all {n} done in {class_s:.1f} s = {class_s / solo_s:.1f} × one job alone "
          f"(speed-up {n * solo_s / class_s:.1f}× over one after another)")
    line = (f"class_training: students {n}, first_point_p95_s {p95:.2f}, class_over_solo {class_s / solo_s:.2f}, "
            f"max_acc_diff_points {diff:.2f}")
    print(line)
    return line


def main(argv=None) -> str:
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--runner" in argv:  # the same class through the app's runner (child process, gathering window, queue)
        from bench.class_runner import main as through_runner  # needs `python -m bench.class_training`
        return through_runner([x for x in argv if x != "--runner"])
    p = arguments(__doc__)
    p.add_argument("--runner", action="store_true", help="through the app's runner, as the page submits "
                   "(bench/class_runner.py): the class gathers into groups in a child process; alone is one job")
    a = p.parse_args(argv)
    n = a.students or (30 if a.data == "digits" else 10)
    dev = pick_device()
    ds = load_dataset(a.data, 0, a.n)
    cfgs = [student(k, ds, a.data, a.model, a.epochs, dev.type == "cuda") for k in range(n)]
    print(f"class_training: {n} students, {a.data} + {a.model}, {a.epochs} epochs, batch {cfgs[0].batch_size}, "
          f"on {describe(dev)}")
    warm = [student(k, load_dataset(a.data, 0, 100), a.data, a.model, 1, dev.type == "cuda") for k in range(2)]
    train_alone(warm[0], dev), train_class(warm, dev)  # first calls: kernels, allocator, vmap tracing

    solo_s, solo_events = train_alone(cfgs[0], dev)
    print(f"  alone: student 0 in {solo_s:.2f} s, val acc {final_acc(solo_events):.3f}; "
          f"{n} one after another ≈ {n} × {solo_s:.2f} = {n * solo_s:.1f} s")
    class_s, first, done, events = train_class(cfgs, dev)
    alone_acc, alone_s = {0: final_acc(solo_events)}, [solo_s]
    for k in range(1, min(a.alone, n)):  # after the class: the machine's load may have changed meanwhile
        seconds, ev = train_alone(cfgs[k], dev)
        alone_acc[k], alone_s = final_acc(ev), alone_s + [seconds]
    if len(alone_s) > 1:
        solo_s = statistics.median(alone_s)
        print(f"  alone: {', '.join(f'{t:.2f}' for t in alone_s)} s (student 0 before the class, the others "
              f"after); one job alone = their median, {solo_s:.2f} s")
    for k, cfg in enumerate(cfgs):
        on = ",".join(name for name, _, field in SWITCHES
                      if getattr(cfg, "patience" if field == "early_stopping" else field) not in (0, False, "off"))
        diff = f", alone {alone_acc[k]:.3f}" if k in alone_acc else ""
        print(f"  student {k:2d}: lr {cfg.lr:<5g} [{on}] first point {first[k]:.2f} s, done {done[k]:.1f} s, "
              f"val acc {final_acc(events[k]):.3f}{diff}")
    print(f"  stages (s, summed over epochs): class {stages(events[0])}; alone {stages(solo_events)}")
    return result_line(n, first, class_s, solo_s, events, alone_acc)


if __name__ == "__main__":
    main()
