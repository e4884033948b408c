"""A job child's CPU priority, below the web process's: the pages of a class come before the trainings' steps.

``CNNVIZ_JOB_SCHED`` (read here only, by :func:`job_sched`):

- ``idle`` (the default): on Linux the child runs under ``SCHED_IDLE``: it gets the CPU time no page wants (on an
  otherwise idle machine all of it, so a job is never starved there), and a page's rerun preempts it at once.
  Where the call fails (not Linux, a sandbox that forbids it: ``EPERM``) the child falls back to ``nice``.
- ``nice``: ``nice 10`` only (the runner's behaviour before ``idle``): the child keeps about a tenth of a core
  that a page also wants.

A spare child (:class:`cnnviz.jobs.child.SparePool`) does its imports at ``nice 10`` and takes the policy only
when its job comes (:func:`for_job`): a spare started while a class's pages keep every core busy would otherwise
not finish importing torch, and the first Start on that server would wait for it (the 13.8 s first point of the
second replica, see ``deploy/run_replicas.sh``)."""
from __future__ import annotations

import os
import sys

from cnnviz.errors import ConfigError

SCHED_ENV = "CNNVIZ_JOB_SCHED"
POLICIES = ("idle", "nice")
NICENESS = 10      # a job child's niceness (both policies: idle's fallback, and the spare's imports)


def job_sched(env=None) -> str:
    """``CNNVIZ_JOB_SCHED``: "idle" (default) or "nice"; ConfigError naming the variable for anything else."""
    raw = (os.environ if env is None else env).get(SCHED_ENV, "").strip().lower()
    if raw and raw not in POLICIES:
        raise ConfigError(SCHED_ENV, f"must be one of {', '.join(POLICIES)}, got {raw[:40]!r}")
    return raw or "idle"


def lower() -> None:
    """The child's first step: ``nice 10`` for this process (its imports, a spare's wait)."""
    os.nice(NICENESS)


def _threads() -> list[int]:
    """This process's thread ids (the policy is a thread's: torch's pool threads, started by the warm-up, too);
    [0] (the calling thread) where /proc is missing."""
    try:
        return sorted(int(t) for t in os.listdir("/proc/self/task"))
    except OSError:
        return [0]


def for_job(policy: str, setscheduler=None) -> str:
    """Apply ``policy`` to every thread of this process (threads started later inherit it from theirs); returns
    what applies now, "idle" or "nice" (SCHED_IDLE unavailable or refused: the process stays at nice 10)."""
    if policy != "idle":
        return "nice"
    setscheduler = setscheduler or getattr(os, "sched_setscheduler", None)
    if setscheduler is None or not hasattr(os, "SCHED_IDLE"):  # not Linux
        return "nice"
    try:
        for tid in _threads():
            try:
                setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))
            except ProcessLookupError:  # that thread has just ended
                pass
    except OSError as e:  # EPERM in some sandboxes and containers
        print(f"cnnviz job child: SCHED_IDLE refused ({e}); staying at nice {NICENESS}", file=sys.stderr)
        return "nice"
    return "idle"
