"""The class of bench/class_training.py through the app's runner: N students (each a different owner, each a
different seeded mix of switches and learning rate: ``bench.class_training.student``) submit their Training Lab
job within one second to ONE ``ThreadRunner(isolate=True, spare=True, storage=False)`` — the runner the app uses,
with its gathering window (``CNNVIZ_GATHER_S``), its class groups in one child process, its limiter (the
process-wide one: ``CNNVIZ_MAX_JOBS``, default cpu_count // 2) and its warm spare child (warm before timing).
One of the jobs is also submitted alone, through the same runner (the gathering window included: a student
alone waits for it too).

- first_point: seconds from the class's first submit until a student's first Progress reaches the web process
  (polled every 50 ms, as a page would see it, sooner); p95 over students.
- class_over_solo: seconds until every student is done ÷ seconds of one job alone through the runner (median of
  the ``--alone`` runs: student 0 before the class, the others after).
- max_acc_diff_points: max |final validation accuracy in the class − the same config alone|, in points.
- eta: at 25 % and 50 % of each student's epochs, the page's "about N s left" (the Progress ``eta_s`` seen
  then) against the seconds that were really left; the issue's goal is within 25 % (shapes + SmallResNet).

    python -m bench.class_runner                                    # 30 students, digits + TinyVGG, 8 epochs
    python -m bench.class_runner --students 10 --data shapes --model SmallResNet
    python -m bench.class_training --runner --two-groups --students 10 --epochs 4   # two classes take turns
"""
from __future__ import annotations

import statistics
import time
from dataclasses import replace

from bench.class_training import arguments, final_acc, result_line, student
from cnnviz.device import describe, pick_device
from cnnviz.io.data import load_dataset
from cnnviz.jobs import ThreadRunner, new_owner
from cnnviz.jobs.events import Finished, Progress
from cnnviz.training.recipe import TrainConfig

POLL_S = 0.05
RUNNER_SAID: dict[str, list] = {}  # job id -> [(s, its Progress with eta_s = the runner's end_s then)]
seen_by_runner: list = []  # the last class's RUNNER_SAID, in student order
TIMEOUT_S = 3600.0
_RUNNER: ThreadRunner | None = None


def runner() -> ThreadRunner:
    """The one runner of this process (the app's kind), its spare child warm."""
    global _RUNNER
    if _RUNNER is None:
        _RUNNER = ThreadRunner(isolate=True, spare=True, storage=False, expect=(TrainConfig.__module__,),
                               slice_s=None)  # as the app's runner: turns of CNNVIZ_SLICE_S
    _RUNNER.spares.warm(120)
    return _RUNNER


def _watch(r: ThreadRunner, jobs: list[str], t0: float):
    """Poll the jobs until all are done: (first Progress s, done s, events, [(s, Progress)] per job)."""
    n = len(jobs)
    first, done = [float("nan")] * n, [float("nan")] * n
    events, seen = [[] for _ in jobs], [[] for _ in jobs]
    deadline = time.perf_counter() + TIMEOUT_S
    while any(d != d for d in done) and time.perf_counter() < deadline:
        for k, job in enumerate(jobs):
            if done[k] == done[k]:
                continue
            new = r.poll(job, len(events[k]))
            now = time.perf_counter() - t0
            end_s = r.status(job).end_s if any(isinstance(e, Progress) for e in new) else None
            for e in new:
                if isinstance(e, Progress):
                    seen[k].append((now, e))
                    if end_s is not None:  # the runner's own estimate of the end (JobStatus.end_s, turns counted)
                        RUNNER_SAID.setdefault(job, []).append((now, replace(e, eta_s=end_s)))
                    if first[k] != first[k]:
                        first[k] = now
            events[k].extend(new)
            if r.status(job).state == "done":
                events[k].extend(r.poll(job, len(events[k])))
                done[k] = now
        time.sleep(POLL_S)
    return first, done, events, seen


def _class(cfgs, r: ThreadRunner | None = None):
    r = r or runner()
    t0 = time.perf_counter()
    jobs = [r.submit(cfg, owner=new_owner()) for cfg in cfgs]  # within one second: a class pressing Start
    submit_s = time.perf_counter() - t0
    first, done, events, seen = _watch(r, jobs, t0)
    seen_by_runner[:] = [RUNNER_SAID.get(j, []) for j in jobs]
    return time.perf_counter() - t0, first, done, events, seen, submit_s


def class_via_runner(cfgs) -> tuple[float, list[float], list[float], list[list]]:
    """(seconds until all are done, seconds to each first Progress, to each end, each one's events)."""
    total, first, done, events, _, _ = _class(cfgs)
    return total, first, done, events


def alone_via_runner(cfg) -> tuple[float, list]:
    """(seconds from submit to the end, events) of one job alone through the same runner."""
    r = runner()
    t0 = time.perf_counter()
    job = r.submit(cfg, owner=new_owner())
    _, done, events, _ = _watch(r, [job], t0)
    return done[0], events[0]


def eta_errors(seen, done, epochs: int, at: float) -> list[float]:
    """Per student: (eta_s − seconds really left) ÷ seconds really left, for the first Progress at or past ``at``
    of the epochs (None-free: students without such a point are left out)."""
    out = []
    for points, end in zip(seen, done):
        hit = next(((t, p) for t, p in points if p.epoch >= at * epochs), None)
        if hit is not None and end == end and end - hit[0] > 0:
            out.append((hit[1].eta_s - (end - hit[0])) / (end - hit[0]))
    return out


def two_groups(a) -> str:
    """``--two-groups``: a digits + TinyVGG class and a shapes + SmallResNet class press Start within the same
    second (two class groups, one CPU slot on a 2-core box: they take turns, ``CNNVIZ_SLICE_S``). Per class: its
    first points (p95) and ends, and the runner's estimate of the end (``JobStatus.end_s``) at its first point
    against the truth."""
    dev, r = pick_device(), runner()
    n = a.students or 10
    classes = [("digits", "TinyVGG"), ("shapes", "SmallResNet")]
    cfgs = {c: [student(k, load_dataset(c[0], 0, a.n), c[0], c[1], a.epochs, dev.type == "cuda") for k in range(n)]
            for c in classes}
    print(f"class_runner --two-groups: {n} students each of {classes}, {a.epochs} epochs, "
          f"{r.limiter.capacity} CPU slot(s), {r.limiter.slots} admitted, turns of "
          f"{r.slicer.quantum if r.slicer else 0:g} s")
    t0 = time.perf_counter()
    jobs = {c: [r.submit(cfg, owner=new_owner()) for cfg in cfgs[c]] for c in classes}
    ids = [j for c in classes for j in jobs[c]]
    est: dict[str, float] = {}
    first = {j: float("nan") for j in ids}
    done = dict(first)
    while any(d != d for d in done.values()) and time.perf_counter() - t0 < TIMEOUT_S:
        now = time.perf_counter() - t0
        for j in ids:
            if done[j] == done[j]:
                continue
            st = r.status(j)
            if first[j] != first[j] and any(isinstance(e, Progress) for e in r.poll(j)):
                first[j] = now
                if st.end_s is not None:
                    est[j] = now + st.end_s
            if st.state == "done":
                done[j] = now
        time.sleep(POLL_S)
    lines = []
    for c in classes:
        f, d = [first[j] for j in jobs[c]], [done[j] for j in jobs[c]]
        p95 = statistics.quantiles(f, n=20)[-1] if len(f) > 1 else f[0]
        errs = [(est[j] - done[j]) / (done[j] - first[j]) for j in jobs[c] if j in est and done[j] > first[j]]
        err = f", end estimated at the first point: median error {statistics.median(errs):+.0%}" if errs else ""
        lines.append(f"  {c[0]} + {c[1]}: first point p95 {p95:.2f} s (max {max(f):.2f}), all done {max(d):.1f} s"
                     + err)
    print("\n".join(lines))
    p95 = {c: statistics.quantiles([first[j] for j in jobs[c]], n=20)[-1] if n > 1 else first[jobs[c][0]]
           for c in classes}
    line = "class_training --two-groups: first_point_p95_s " + ", ".join(f"{c[0]} {p95[c]:.2f}" for c in classes)
    print(line)
    r.close()
    return line


def main(argv=None) -> str:
    p = arguments(__doc__)
    p.add_argument("--two-groups", action="store_true", help="a digits + TinyVGG class and a shapes + SmallResNet "
                   "class at once (they take turns on the CPU): each class's first point and end")
    a = p.parse_args(argv)
    if a.two_groups:
        return two_groups(a)
    n = a.students or (30 if a.data == "digits" else 10)
    dev = pick_device()
    ds = load_dataset(a.data, 0, a.n)
    cfgs = [student(k, ds, a.data, a.model, a.epochs, dev.type == "cuda") for k in range(n)]
    r = runner()
    print(f"class_runner: {n} students, {a.data} + {a.model}, {a.epochs} epochs, batch {cfgs[0].batch_size}, "
          f"through ThreadRunner(isolate, spare) with {r.limiter.capacity} slot(s), on {describe(dev)}")
    small = load_dataset(a.data, 0, 100)
    _class([student(k, small, a.data, a.model, 1, dev.type == "cuda") for k in range(2)])  # caches, spare
    runner()

    solo_s, solo_events = alone_via_runner(cfgs[0])
    print(f"  alone: student 0 in {solo_s:.2f} s (submit to end), val acc {final_acc(solo_events):.3f}")
    class_s, first, done, events, seen, submit_s = _class(cfgs, runner())
    alone_acc, alone_s = {0: final_acc(solo_events)}, [solo_s]
    for k in range(1, min(a.alone, n)):
        seconds, ev = alone_via_runner(cfgs[k])
        alone_acc[k], alone_s = final_acc(ev), alone_s + [seconds]
    if len(alone_s) > 1:
        solo_s = statistics.median(alone_s)
        print(f"  alone: {', '.join(f'{t:.2f}' for t in alone_s)} s; one job alone = their median, {solo_s:.2f} s")
    groups = {next((e.device for e in ev if isinstance(e, Progress)), None) for ev in events}
    print(f"  submitted all {n} in {submit_s:.2f} s; Progress device texts: {sorted(map(str, groups))}")
    for k in range(n):
        end = [e for e in events[k] if isinstance(e, Finished)]
        print(f"  student {k:2d}: lr {cfgs[k].lr:<5g} first point {first[k]:.2f} s, done {done[k]:.1f} s, "
              f"val acc {final_acc(events[k]):.3f}" + (f", alone {alone_acc[k]:.3f}" if k in alone_acc else "")
              + (f" ({end[-1].reason})" if end else ""))
    said = list(seen_by_runner)
    for at in (0.25, 0.5):
        for what, points in (("eta (Progress.eta_s)", seen), ("runner's end_s", said)):
            errs = eta_errors(points, done, a.epochs, at)
            if errs:
                worst = max(errs, key=abs)
                print(f"  {what} at {at:.0%} of the epochs: median error {statistics.median(errs):+.0%}, worst "
                      f"{worst:+.0%}, within 25 % for {sum(abs(x) <= 0.25 for x in errs)} of {len(errs)} students")
    line = result_line(n, first, class_s, solo_s, events, alone_acc)
    r.close()
    return line


if __name__ == "__main__":
    main()
