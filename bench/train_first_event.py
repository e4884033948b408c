"""First training event: seconds from submitting a training, the way the Training Lab's Start button does it
(``from_switches`` with the page's defaults, then ``get_local_runner().submit`` — a child process per job
behind the process-wide limiter), until ``runner.poll`` returns its first event (a ``Progress``). A few
repetitions on an otherwise idle runner; each job is stopped once its first event arrived.

The page adds up to one poll interval on top of this (0.25 s, the live fragment's ``run_every`` until a job's
first event; 1.5 s after).

    python -m bench.train_first_event                 # 5 repetitions, digits + TinyVGG (the page's defaults)
    python -m bench.train_first_event -r 3 --data shapes --model SmallResNet
"""
from __future__ import annotations

import argparse
import statistics
import time


from cnnviz.io.data import load_dataset  # noqa: E402
from cnnviz.jobs import get_local_runner  # noqa: E402
from cnnviz.training.recipe import TrainConfig, from_switches  # noqa: E402

# The Training Lab's default switches (pages/training_lab.py's PageState defaults).
PAGE_SWITCHES = dict(flip=False, crop=True, noise=False, ls=True, ema=False, clip=True, early=False, balanced=False,
                     amp=True)


def one(runner, ds, data: str, model: str, timeout: float) -> tuple[float, str, float]:
    """(seconds to the first event, its type, seconds to the first Progress or nan)."""
    cfg = from_switches(ds.size, PAGE_SWITCHES, False, dataset=data, model=model, epochs=8, lr=0.02,
                        optimizer="adamw", schedule="onecycle", data=ds)
    t0 = time.perf_counter()
    owner = f"bench-{t0}"
    job = runner.submit(cfg, owner=owner)
    first = kind = None
    progress = float("nan")
    try:
        while time.perf_counter() - t0 < timeout:
            events = runner.poll(job)
            if events and first is None:
                first, kind = time.perf_counter() - t0, type(events[0]).__name__
            if any(type(e).__name__ == "Progress" for e in events):
                progress = time.perf_counter() - t0
                break
            if runner.status(job).state == "done":
                break
            time.sleep(0.005)
    finally:
        runner.stop(job, owner=owner)
        runner.join(job, timeout=30)
    if first is None:
        raise SystemExit(f"no event within {timeout:g} s")
    return first, kind, progress


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-r", "--repeat", type=int, default=5)
    ap.add_argument("--data", default="digits", choices=("digits", "shapes"))
    ap.add_argument("--model", default="TinyVGG", choices=("TinyVGG", "SmallResNet"))
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--no-wait-spare", action="store_true",
                    help="start each run at once, not when the runner's spare child is warm (back-to-back Starts)")
    a = ap.parse_args(argv)
    t = time.perf_counter()
    ds = load_dataset(a.data)  # the page caches it (st.cache_resource): not part of a Start
    print(f"data set {a.data} loaded in {time.perf_counter() - t:.2f} s (cached by the page, not counted)")
    runner = get_local_runner((TrainConfig,))
    firsts = []
    for i in range(a.repeat):
        spares = getattr(runner, "spares", None)
        if spares is not None and not a.no_wait_spare:  # the app's runner starts it long before a Start
            t = time.perf_counter()
            warm = spares.warm(a.timeout)
            print(f"spare child {'warm' if warm else 'NOT warm'} after waiting {time.perf_counter() - t:.2f} s")
        first, kind, progress = one(runner, ds, a.data, a.model, a.timeout)
        firsts.append(first)
        print(f"run {i + 1}: first event ({kind}) after {first:.3f} s; first Progress after {progress:.3f} s")
        time.sleep(0.5)
    print(f"min {min(firsts):.3f} s, max {max(firsts):.3f} s over {len(firsts)} runs "
          f"({'child process per job' if runner.isolate else 'in-process thread'})")
    print(f"first_event_s: {statistics.median(firsts):.2f}")


if __name__ == "__main__":
    main()
