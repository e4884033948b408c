"""The spare pool starts its spares one at a time: the next one's imports begin when the previous one is warm, so
on a busy machine the first spare (the one a class's first Start takes) is warm as soon as it can be. The
children are stand-ins that say "imported" when the test tells them to (the pool's bookkeeping is the point)."""
import subprocess
import sys
import time

import pytest

from cnnviz.jobs import spares
from tests.support import polling

STAND_IN = ("import sys; sys.stdin.buffer.readline(); sys.stdout.write('i'); sys.stdout.flush(); "
            "sys.stdin.buffer.read()")  # warm when a line comes; ends when its stdin closes


@pytest.fixture
def started(monkeypatch) -> list:
    """The stand-in children the pool starts, in order (the pool's ``_spawn`` replaced)."""
    out = []

    def spawn(modules=()):
        out.append(subprocess.Popen([sys.executable, "-c", STAND_IN], stdin=subprocess.PIPE, stdout=subprocess.PIPE))
        return out[-1]

    monkeypatch.setattr(spares, "_spawn", spawn)
    return out


def until(predicate):
    polling.until(predicate, 20.0, every=0.02)


def test_spares_start_one_at_a_time_each_after_the_previous_is_warm(started):
    pool = spares.SparePool(size=3)
    try:
        time.sleep(0.5)
        pool.refill()
        assert len(started) == 1 and not pool.warm(0.2)   # one cold spare: nothing else starts, refill or not
        for k in range(3):
            started[k].stdin.write(b"go\n")
            started[k].stdin.flush()                       # spare k is warm ...
            if k < 2:
                until(lambda: len(started) == k + 2)       # ... and only then does spare k + 1 start
                time.sleep(0.3)
                assert len(started) == k + 2
        assert pool.warm(20) and len(started) == 3
        taken = pool.take()                                # a job takes the oldest; its first event refills
        assert taken is started[0]
        pool.refill()
        until(lambda: len(started) == 4)
        time.sleep(0.3)
        assert len(started) == 4                           # one new spare, not two
        spares._discard(taken)
    finally:
        pool.close()
    assert pool.pid is None and all(p.poll() is not None for p in started)


def state_of(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
def test_a_spare_still_importing_is_paused_while_the_job_that_took_one_starts(started):
    pool = spares.SparePool(size=2)
    try:
        started[0].stdin.write(b"go\n")
        started[0].stdin.flush()
        until(lambda: len(started) == 2)                   # the first is warm, the second imports
        taken = pool.take()
        assert taken is started[0] and state_of(taken.pid) != "T"
        until(lambda: state_of(started[1].pid) == "T")     # paused (once the signal lands): the job's steps first
        time.sleep(0.3)
        assert state_of(started[1].pid) == "T"
        pool.refill()                                      # the job's first event
        until(lambda: state_of(started[1].pid) != "T")
        assert pool.take() is started[1]                   # a cold spare handed over runs
        spares._discard(taken)
        spares._discard(started[1])
    finally:
        pool.close()
    assert all(p.poll() is not None for p in started)
