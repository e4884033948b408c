"""Which runner runs a job: the one place that knows both the thread runner (:mod:`cnnviz.jobs.runner`) and
the optional Ray runner (:mod:`cnnviz.jobs.cluster`); neither imports the other."""
from __future__ import annotations

import os
import threading

from cnnviz.jobs.cluster import make_runner
from cnnviz.jobs.runner import ThreadRunner

_DEFAULT: ThreadRunner | None = None
_DEFAULT_LOCK = threading.Lock()


def get_runner(kinds: tuple[type, ...] = ()):
    """The process-wide runner for trainings (pages keep only job ids): a RayRunner shared by every replica when
    ``CNNVIZ_RAY_ADDRESS`` is set (ConfigError if that cluster cannot be used), else :func:`get_local_runner`."""
    ray_runner = make_runner()  # imports ray only when the address is set
    return ray_runner if ray_runner is not None else get_local_runner(kinds)


def get_local_runner(kinds: tuple[type, ...] = ()) -> ThreadRunner:
    """This process's runner, behind the process-wide limiter. Distillations and searches (seconds to a minute,
    tiny models) always run here, also when trainings go to Ray. ``kinds``: job kinds (classes) whose modules the
    spare child imports ahead, so a job's first event does not wait for them."""
    global _DEFAULT
    modules = tuple(k.__module__ for k in kinds)
    with _DEFAULT_LOCK:
        if _DEFAULT is not None:
            if _DEFAULT.spares is not None:
                for m in modules:
                    _DEFAULT.spares.expect(m)
        else:
            # In a child process per job, so a training never holds the pages' GIL; CNNVIZ_TRAIN_IN_PROCESS=1
            # trains in a thread of the web process instead (no process start-up, for debugging). One spare child
            # waits with torch imported, so a Start does not wait for an interpreter's start-up.
            isolate = os.environ.get("CNNVIZ_TRAIN_IN_PROCESS", "") != "1"
            _DEFAULT = ThreadRunner(isolate=isolate, spare=isolate, expect=modules, slice_s=None)  # turns: slicing
        return _DEFAULT


def started_local_runner() -> ThreadRunner | None:
    """This process's runner if a page has made it already, else None (nothing runs that needs keeping alive)."""
    return _DEFAULT
