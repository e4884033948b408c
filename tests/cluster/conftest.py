import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(config, items):
    """A Ray head, its workers and two Streamlit replicas share a 2-core CI box with the browser tests: timing
    noise there is not a product bug. One retry absorbs it; a real regression fails twice and turns CI red (a
    rerun shows as `R`, so flakiness stays visible)."""
    for item in items:
        if "cluster" in item.path.parts:
            item.add_marker(pytest.mark.flaky(reruns=1, reruns_delay=2))


@pytest.fixture(scope="module")
def cluster():
    """A local Ray head on 127.0.0.1 for one test module (started and stopped by it)."""
    ray = pytest.importorskip("ray")
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), old) if p)  # the workers import cnnviz
    # Ray's memory monitor kills workers when the MACHINE is short of memory (other people's processes on a
    # shared CI box); these tests kill workers on purpose and must not see random extra kills.
    os.environ.setdefault("RAY_memory_monitor_refresh_ms", "0")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no network at run time
    ray.init(address="local", num_cpus=4, include_dashboard=False, namespace="cnnviz", log_to_driver=False,
             configure_logging=False, _node_ip_address="127.0.0.1")
    try:
        yield
    finally:
        ray.shutdown()  # stops exactly the processes this init started
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old
