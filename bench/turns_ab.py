"""Turns (time-slicing, cnnviz/jobs/slicing.py) against first-come, side by side in one process: two trainings
that cannot share a class group (here: two solo Training Lab jobs, ``groups=False``) press Start together on
ONE CPU slot. Per mode, interleaved: the second job's first point, the first job's end, and when both are done.

    python -m bench.turns_ab                    # digits + TinyVGG, 8 epochs, 3 repeats, turns of 3 s
    python -m bench.turns_ab --data shapes --model SmallResNet --epochs 2 --n 600
"""
from __future__ import annotations

import argparse
import statistics
import time

from cnnviz.device import pick_device
from cnnviz.jobs import JobLimiter, ThreadRunner, new_owner
from cnnviz.jobs.events import Progress
from cnnviz.training.recipe import TrainConfig


def one(runner: ThreadRunner, cfgs) -> tuple[float, float, float]:
    """(second job's first point, first job's end, both done), seconds from the submits."""
    t0 = time.perf_counter()
    jobs = [runner.submit(c, owner=new_owner()) for c in cfgs]
    first2 = end1 = None
    while True:
        now = time.perf_counter() - t0
        if first2 is None and any(isinstance(e, Progress) for e in runner.poll(jobs[1])):
            first2 = now
        if end1 is None and runner.status(jobs[0]).state == "done":
            end1 = now
        if all(runner.status(j).state == "done" for j in jobs):
            return first2 if first2 is not None else now, end1 if end1 is not None else now, now
        time.sleep(0.05)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="digits")
    p.add_argument("--model", default="TinyVGG")
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--n", type=int, default=None)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--slice", type=float, default=3.0, help="the turn's length (CNNVIZ_SLICE_S)")
    a = p.parse_args(argv)
    dev = pick_device()
    cfgs = [TrainConfig(dataset=a.data, model=a.model, epochs=a.epochs, n=a.n, seed=s, lr=lr)
            for s, lr in ((1, 0.01), (2, 0.02))]
    runners = {mode: ThreadRunner(JobLimiter(1), device=dev, isolate=True, spare=True, storage=False, groups=False,
                                  expect=(TrainConfig.__module__,), slice_s=q)
               for mode, q in (("first-come", 0.0), (f"turns of {a.slice:g} s", a.slice))}
    res: dict[str, list] = {m: [] for m in runners}
    for r in range(a.repeats):
        for mode in (list(runners) if r % 2 == 0 else list(runners)[::-1]):
            runners[mode].spares.warm(120)
            res[mode].append(one(runners[mode], cfgs))
            print(f"  {mode}: second's first point {res[mode][-1][0]:.1f} s, first's end {res[mode][-1][1]:.1f} s, "
                  f"both done {res[mode][-1][2]:.1f} s", flush=True)
    for mode, rows in res.items():
        cols = list(zip(*rows))
        print(f"turns_ab {mode}: second_first_point_s min {min(cols[0]):.1f} median {statistics.median(cols[0]):.1f}"
              f", first_end_s median {statistics.median(cols[1]):.1f}, both_done_s min {min(cols[2]):.1f} median "
              f"{statistics.median(cols[2]):.1f}")
    for runner in runners.values():
        runner.close()


if __name__ == "__main__":
    main()
