"""Classroom load, reduced for CI: bench/classroom_load.py's protocol clients (no browser per student: websocket
sessions speaking Streamlit's protobuf protocol) — 3 students clicking through Conv Arithmetic, Convolution
Animation, Feature Maps and the Quiz every 2–5 s while one Training Lab tab trains and polls its live fragment.
No exception element, no disconnect, no rerun that never finished; no student shown another's distinctive value;
every student got at least one completed rerun. Latency is printed (pytest -s), not asserted: CI boxes are busy."""
import pytest

from tests.support.aio import run as _run
from tests.support.browser import start_server, stop_server

from bench.classroom_load import Client, _warm, classroom, report  # noqa: E402

STUDENTS, DURATION_S = 3, 30


@pytest.mark.timeout(600)
def test_protocol_students_and_a_training_error_free_and_isolated():
    proc, url = start_server(env={"CNNVIZ_MAX_JOBS": "1"}, timeout=120)
    try:
        _run(_warm(Client(url, "warm-up")))  # imports torch & co. once: not part of the load
        r = _run(classroom(url, STUDENTS, DURATION_S, trainings=1, seed=1, pid=proc.pid, timeout=180,
                                  ramp=2))
    finally:
        stop_server(proc)
    report(r)
    assert r["errors"] == 0, (r["exceptions"], r["disconnects"], r["failed"])
    assert r["leaked"] == 0, r["leak_examples"]
    assert len(r["session_runs"]) == STUDENTS
    assert all(runs >= 1 for runs in r["session_runs"].values()), r["session_runs"]
    assert r["trainers"][0]["starts"] >= 1 and r["trainers"][0]["failed"] == 0, r["trainers"]
