"""Waiting in tests for something another process or thread does: one polling loop, its deadline an assertion."""
import time


def until(check, timeout: float, every: float = 0.05) -> None:
    """Poll ``check()`` every ``every`` seconds until it is true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not true within {timeout:g} s"
        time.sleep(every)
