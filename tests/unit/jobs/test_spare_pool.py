"""The spare pool starts its spares one at a time: the next one's imports begin when the previous one is warm, so
on a busy machine the first spare (the one a class's first Start takes) is warm as soon as it can be. The
children are stand-ins that say "imported" when the test tells them to (the pool's bookkeeping is the point)."""
import subprocess
import sys
import time

from cnnviz.jobs import child

STAND_IN = ("import sys; sys.stdin.buffer.readline(); sys.stdout.write('i'); sys.stdout.flush(); "
            "sys.stdin.buffer.read()")  # warm when a line comes; ends when its stdin closes


def until(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_spares_start_one_at_a_time_each_after_the_previous_is_warm(monkeypatch):
    started = []

    def spawn(modules=()):
        started.append(subprocess.Popen([sys.executable, "-c", STAND_IN], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE))
        return started[-1]

    monkeypatch.setattr(child, "_spawn", spawn)
    pool = child.SparePool(size=3)
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
        child._discard(taken)
    finally:
        pool.close()
    assert pool.pid is None and all(p.poll() is not None for p in started)
