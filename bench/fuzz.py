"""Fuzz the engine with >= 10,000 random cases (nonsense included) and print the count and every failure.
Then every other public entry point (tests/support/fuzz_api.py: metrics, compression, saliency, feature maps, builder,
codegen, receptive field) against a hostile corpus: a value or ConfigError, nothing else. Then every case of the
classes issue 29 found escaping (tests/support/fuzz_hostile.py: wrong JSON kinds in every stack field, non-numeric
spec sizes, every torch dtype, float64 extremes in boxes, degenerate models and empty data, block comparisons past
the budgets; ~28,000 cases, ~1 min): a correct value or a ConfigError naming the field.

    python -m bench.fuzz [--examples 10000] [--seed 0] [--tolerate-known-bugs]

Strict by default: the engine bugs listed in tests/support/fuzz_cases.py (KNOWN_BUGS) are hunted too and show up as failures
until their fixes land. With --tolerate-known-bugs it runs what CI runs (tests/unit/house/test_fuzz_engine.py), only
five times longer. A failure is an exception other than ConfigError, or an accepted configuration on which
PyTorch disagrees (shape, parameters, FLOPs, to_code, round trip)."""
import argparse
import collections
import sys
import time


import torch  # noqa: E402
from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402

from tests.support import fuzz_api  # noqa: E402
from tests.support import fuzz_cases  # noqa: E402
from tests.support import fuzz_hostile  # noqa: E402
from tests.support import fuzzing  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tolerate-known-bugs", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    outcomes, failures, first = collections.Counter(), collections.Counter(), {}

    @seed(args.seed)
    @settings(max_examples=args.examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(fuzz_cases.case_strategy(avoid_known_bugs=args.tolerate_known_bugs))
    def one(case):
        try:
            outcomes[(case.target, fuzzing.run_case(case).split(" (")[0])] += 1
        except fuzzing.FuzzFailure as e:  # record and go on: hypothesis would stop at the first one
            key = (case.target, str(e).split(":")[0][:70])
            failures[key] += 1
            first.setdefault(key, (str(e), case.kwargs))
        done = sum(outcomes.values()) + sum(failures.values())
        if done % 1000 == 0:
            print(f"  {done:,} cases, {sum(failures.values())} failures, {time.perf_counter() - t0:.0f} s", flush=True)

    t0 = time.perf_counter()
    one()
    total = sum(outcomes.values()) + sum(failures.values())
    print(f"\n{total:,} cases in {time.perf_counter() - t0:.0f} s "
          f"({'tolerating' if args.tolerate_known_bugs else 'hunting'} the known engine bugs)")
    print(f"{'target':<16}{'accepted':>10}{'rejected':>10}{'failures':>10}")
    for t in fuzzing.TARGETS:
        fails = sum(v for (tt, _), v in failures.items() if tt == t)
        print(f"{t:<16}{outcomes[(t, 'accepted')]:>10,}{outcomes[(t, 'rejected')]:>10,}{fails:>10,}")
    print(f"\nfailures: {sum(failures.values())} in {len(failures)} kinds")
    for key, n in failures.most_common():
        msg, kwargs = first[key]
        print(f"- {n:>5} x {key[0]}: {msg[:160]}\n          e.g. {kwargs!r:.300}")
    t1 = time.perf_counter()
    api_cases, api_failures = fuzz_api.run(seed=args.seed, pairs=200)
    print(f"\napi: {api_cases:,} cases over {len(fuzz_api.entries())} entry points in "
          f"{time.perf_counter() - t1:.0f} s, {len(api_failures)} failures")
    for f in api_failures[:50]:
        print(f"- {f}")
    hostile = []
    for cls in fuzz_hostile.CLASSES:
        t2 = time.perf_counter()
        n, escapes = fuzz_hostile.run(fuzz_hostile.cases({cls}))
        hostile += escapes
        print(f"hostile {cls}: {n:,} cases, {len(escapes)} escapes, {time.perf_counter() - t2:.0f} s")
    for e in hostile[:50]:
        print(f"- {e}")
    return 1 if failures or api_failures or hostile else 0


if __name__ == "__main__":
    sys.exit(main())
