import os
import sys
from pathlib import Path

import pytest
import torch
from hypothesis import settings

# Property tests are derandomized and untimed: a per-example deadline is a wall-clock bound that holds only on the
# machine it was tuned on (a loaded CI box can stall a process for seconds). Speed belongs in bench/.
settings.register_profile("cnnviz", deadline=None, derandomize=True, database=None)
settings.load_profile("cnnviz")

torch.set_num_threads(1)   # determinism on purpose: one reduction order in every test process
torch.manual_seed(0)


@pytest.fixture(scope="session", autouse=True)
def job_storage(tmp_path_factory):
    """Every job a test submits (and every server a test starts) writes to a temporary job storage, never to the
    real ~/.cache/cnnviz/jobs nor to a developer's CNNVIZ_STORAGE: one for the session (what session-wide servers
    and the process's runner get) ..."""
    root, before = tmp_path_factory.mktemp("job-storage"), os.environ.get("CNNVIZ_STORAGE")
    os.environ["CNNVIZ_STORAGE"] = str(root)
    yield root
    if before is None:
        os.environ.pop("CNNVIZ_STORAGE", None)
    else:
        os.environ["CNNVIZ_STORAGE"] = before


@pytest.fixture(autouse=True)
def job_storage_per_test(job_storage, tmp_path_factory, monkeypatch):
    """... and one per test, so runners made in a test never see another test's jobs."""
    monkeypatch.setenv("CNNVIZ_STORAGE", str(tmp_path_factory.mktemp("jobs")))


@pytest.fixture(scope="session")
def browser():
    """One headless chromium per test process (tests/e2e and tests/cluster share it: Playwright's sync API
    allows one instance per thread)."""
    from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def pytest_collection_modifyitems(config, items):
    """``cuda``-marked tests run only where CUDA is available."""
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if item.get_closest_marker("cuda") is not None:
            item.add_marker(skip)
