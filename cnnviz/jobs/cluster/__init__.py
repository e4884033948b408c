"""Optional scale-out: training jobs on a Ray cluster (``pip install -r requirements-ray.txt``).

Nothing here imports ray until a runner is made, so the app works without it. :func:`make_runner` returns a
:class:`RayRunner` when ``CNNVIZ_RAY_ADDRESS`` is set, else None (the caller keeps its thread runner).

Part of the jobs room: it uses the room's events, ids, job kinds, storage and the class groups' rule (the gathering
window and group size of :mod:`cnnviz.jobs.gather`: compatible jobs train as ONE Ray task), never the thread
runner or the factory (the factory imports this package)."""
from __future__ import annotations

import os
import threading

from cnnviz.errors import ConfigError
from cnnviz.jobs.cluster.ray_runner import RayRunner

_RUNNER = None
_LOCK = threading.Lock()


def make_runner():
    """The process-wide RayRunner when ``CNNVIZ_RAY_ADDRESS`` is set (e.g. ``127.0.0.1:6379`` or ``auto``),
    else None. Raises ConfigError when the address is set but ray is missing or the cluster cannot be reached."""
    global _RUNNER
    address = os.environ.get("CNNVIZ_RAY_ADDRESS", "").strip()
    if not address:
        return None
    with _LOCK:
        if _RUNNER is None:
            try:
                import ray  # noqa: F401
            except ImportError:
                raise ConfigError("CNNVIZ_RAY_ADDRESS", "is set but ray is not installed "
                                  "(pip install -r requirements-ray.txt)") from None
            try:
                _RUNNER = RayRunner(address=address)
            except ConfigError:
                raise
            except Exception as e:  # ConnectionError and friends from ray.init
                raise ConfigError("CNNVIZ_RAY_ADDRESS", f"cannot reach the Ray cluster at {address!r} "
                                  f"({type(e).__name__}: {str(e)[:160]})") from None
        return _RUNNER


__all__ = ["make_runner", "RayRunner"]
