"""Which runner trains: the one place that knows both the thread runner (:mod:`cnnviz.training.runner`) and
the optional Ray runner (:mod:`cnnviz.cluster`). Neither of those imports the other, so there is no cycle:
runner <- factory -> cluster, and cluster only uses the training modules below the runner (events, loop,
recipe)."""
from __future__ import annotations

import os
import threading

from cnnviz.cluster import make_runner
from cnnviz.training.runner import ThreadRunner

_DEFAULT: ThreadRunner | None = None
_DEFAULT_LOCK = threading.Lock()


def get_runner():
    """The process-wide runner for trainings (pages keep only job ids): a RayRunner shared by every replica when
    ``CNNVIZ_RAY_ADDRESS`` is set (ConfigError if that cluster cannot be used), else :func:`get_local_runner`."""
    ray_runner = make_runner()  # imports ray only when the address is set
    return ray_runner if ray_runner is not None else get_local_runner()


def get_local_runner() -> ThreadRunner:
    """This process's runner, behind the process-wide limiter. Distillations (seconds to a minute, tiny models)
    always run here, also when trainings go to Ray."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            # In a child process per job, so a training never holds the pages' GIL; CNNVIZ_TRAIN_IN_PROCESS=1
            # trains in a thread of the web process instead (no process start-up, for debugging). One spare child
            # waits with torch imported, so a Start does not wait for an interpreter's start-up.
            isolate = os.environ.get("CNNVIZ_TRAIN_IN_PROCESS", "") != "1"
            _DEFAULT = ThreadRunner(isolate=isolate, spare=isolate)
        return _DEFAULT
