"""Load, reduced for CI: concurrent browser sessions on Conv Arithmetic while two trainings are submitted
to a limiter capped at one (the second must queue). bench/load.py does the driving (20 sessions there) in its own process, with its
own server and browser, and this test checks what it saw. The figures are printed (pytest -s shows them)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from cnnviz.training.budget import MAX_JOB_BYTES

ROOT = Path(__file__).resolve().parents[2]
SESSIONS, ROUNDS, TRAININGS, CAP = 3, 2, 2, 1  # bench/load.py runs the full 20 sessions, 4 trainings


@pytest.mark.timeout(900)
def test_sessions_stay_live_isolated_and_trainings_queue(tmp_path):
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("/usr/bin/chromium not installed")
    out = tmp_path / "load.json"
    proc = subprocess.run([sys.executable, "-m", "bench.load", "-n", str(SESSIONS), "-r", str(ROUNDS),
                           "-t", str(TRAININGS), "-c", str(CAP), "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=840)
    print(proc.stdout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    r = json.loads(out.read_text())

    assert r["timed_out"] == []                     # every session's interactions updated
    assert r["interactions"] == SESSIONS * ROUNDS
    assert r["mixed"] == []                         # no session showed another's kernel or output
    first = sorted((t["first"], t["position"] or 0) for t in r["trainers"])
    assert first == [("queued", 1), ("running", 0)], first
    counts = [c for t in r["trainers"] for c in t["running_counts"]]
    assert counts and max(counts) <= CAP             # the limiter never let a second one run
    assert max(t["points"] for t in r["trainers"]) > 0  # and the running one trained
    growth_mib = r["rss_loaded_mib"] - r["rss_idle_mib"]
    assert growth_mib < CAP * MAX_JOB_BYTES / 2 ** 20 + 512, growth_mib  # memory stays bounded
