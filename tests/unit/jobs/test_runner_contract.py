"""The runner contract (tests/support/runner_contract.py) for the thread runner, training in a thread of this process
and in a child process per job (the app's way)."""
import pytest
import torch

from tests.support.runner_contract import *  # noqa: F401,F403  the shared tests
from cnnviz.jobs.runner import JobLimiter, ThreadRunner


@pytest.fixture(params=["in-process", "child-process"])
def mode(request):
    return request.param


@pytest.fixture
def make_runner(mode):
    made = []

    def make(capacity):
        child = mode == "child-process"  # the app's way: a child per job, with a warm spare
        # groups=False: the contract's queue positions are those of jobs alone (the Ray runner's way); class groups
        # have their own tests (test_class_groups.py)
        made.append(ThreadRunner(JobLimiter(capacity), device=torch.device("cpu"), isolate=child, spare=child,
                                 groups=False))
        return made[-1]

    yield make
    for runner in made:  # nothing outlives its test
        for job, j in list(runner._jobs.items()):
            runner.stop(job, owner=j.owner)
            runner.join(job, timeout=15)
        runner.close()


@pytest.fixture
def stop_within():
    # A bound on the order of magnitude, not a tuned figure: the job would train ~2 minutes, a loaded CI box can
    # stall a process for seconds, and the step count checked beside it proves the stop came from the flag.
    return 10.0
