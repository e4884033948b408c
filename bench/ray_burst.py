"""Burst admission on a local Ray head (127.0.0.1, started and stopped here): N submissions at once from
threads of one process (the worst case: a real school spreads them over several replicas).

Prints admission latency p50/p95/max (split into the shared-storage write and the job manager's answer), how
long the admitted jobs waited in the queue, and jobs lost (must be 0). Stand-in jobs (``cnnviz.jobs.SleepJob``)
so the numbers measure admission, not training.

    python -m bench.ray_burst [--n 200] [--cap 4] [--step-s 0.02]
"""
import argparse
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--cap", type=int, default=4)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--step-s", type=float, default=0.02)
    args = ap.parse_args()
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    os.environ.setdefault("RAY_memory_monitor_refresh_ms", "0")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray
    from cnnviz.jobs import SleepJob
    from cnnviz.jobs.cluster.ray_runner import RayRunner
    t0 = time.perf_counter()
    ray.init(address="local", num_cpus=args.cap + 1, include_dashboard=False, namespace="cnnviz",
             log_to_driver=False, configure_logging=False, _node_ip_address="127.0.0.1")
    print(f"ray head up in {time.perf_counter() - t0:.1f} s")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            runner = RayRunner(root=tmp, name="bench-manager", max_running=args.cap, max_queue=args.n,
                               options=dict(num_cpus=0.1), answer_s=30.0)
            seq_ids, seq_lat = [], []
            for _ in range(20):  # one at a time first: the cost of one call without contention
                s0 = time.perf_counter()
                seq_ids.append(runner.submit(SleepJob(steps=args.steps, step_s=args.step_s)))
                seq_lat.append(time.perf_counter() - s0)
            for j in seq_ids:
                runner.join(j, timeout=300)
            n = args.n
            ids, lat, create, errors = [None] * n, [0.0] * n, [0.0] * n, []
            barrier = threading.Barrier(n)
            store_create = runner.store.create

            def timed_create(*a, **k):
                c0 = time.perf_counter()
                store_create(*a, **k)
                create[int(threading.current_thread().name)] = time.perf_counter() - c0

            runner.store.create = timed_create

            def one(i):
                barrier.wait()
                s0 = time.perf_counter()
                try:
                    ids[i] = runner.submit(SleepJob(steps=args.steps, step_s=args.step_s))
                except Exception as e:
                    errors.append(repr(e))
                lat[i] = time.perf_counter() - s0

            threads = [threading.Thread(target=one, args=(i,), name=str(i)) for i in range(n)]
            t_burst = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            ok = [j for j in ids if j] + seq_ids
            for j in ok:
                runner.join(j, timeout=300)
            wall = time.perf_counter() - t_burst
            stats = runner.stats()
            lost = sum(1 for j in ok if not runner.store.is_done(j)) + stats["lost"]
            ms = lambda x: f"{1000 * x:.0f} ms"  # noqa: E731
            answer = [a - c for a, c in zip(lat, create)]
            print(f"20 submissions one at a time: latency p50 {1000 * pct(seq_lat, 50):.0f} ms  "
                  f"p95 {1000 * pct(seq_lat, 95):.0f} ms")
            print(f"{n} submissions at once, cap {args.cap}, jobs of {args.steps} x {args.step_s} s")
            print(f"admission latency  p50 {ms(pct(lat, 50))}  p95 {ms(pct(lat, 95))}  max {ms(max(lat))}"
                  f"  (answered within 1 s: {sum(x < 1 for x in lat)}/{n})")
            print(f"  storage write    p50 {ms(pct(create, 50))}  p95 {ms(pct(create, 95))}")
            print(f"  manager answer   p50 {ms(pct(answer, 50))}  p95 {ms(pct(answer, 95))}")
            print("queue wait (all jobs; measured by the manager from submit to start)")
            print(f"                          p50 {pct(stats['waits'], 50):.2f} s  p95 {pct(stats['waits'], 95):.2f} s"
                  f"  max {max(stats['waits']):.2f} s")
            print(f"peak running {stats['peak']} (cap {args.cap}); refused {len(errors)}; all done in {wall:.1f} s")
            print(f"jobs lost: {lost}")
            ray.kill(runner.manager)
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
