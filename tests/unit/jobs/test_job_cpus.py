"""A server's share of the cores (CNNVIZ_JOB_CPUS, set per replica by deploy/run_replicas.sh): the limiter's
default capacity and a job child's torch threads follow it, not the whole machine's count."""
import os

import pytest

from cnnviz.errors import ConfigError
from cnnviz.jobs import limiter


@pytest.mark.parametrize("cpus, slots, capacity, threads", [(1, 1, 1, 1), (2, 1, 1, 1), (4, 1, 2, 3), (4, 2, 2, 1),
                                                            (8, 1, 4, 7), (8, 4, 4, 1)])
def test_capacity_and_threads_follow_the_servers_share(monkeypatch, cpus, slots, capacity, threads):
    monkeypatch.delenv("CNNVIZ_MAX_JOBS", raising=False)
    monkeypatch.setenv("CNNVIZ_JOB_CPUS", str(cpus))
    assert limiter.job_cpus() == cpus
    assert limiter.default_max_jobs() == capacity == max(1, cpus // 2)
    assert limiter.job_threads(slots) == threads == max(1, (cpus - 1) // slots)


def test_unset_means_every_core_and_max_jobs_still_wins(monkeypatch):
    monkeypatch.delenv("CNNVIZ_JOB_CPUS", raising=False)
    monkeypatch.setenv("CNNVIZ_MAX_JOBS", "3")
    assert limiter.job_cpus() == (os.cpu_count() or 2) and limiter.default_max_jobs() == 3
    monkeypatch.setenv("CNNVIZ_JOB_CPUS", "four")
    with pytest.raises(ConfigError) as e:
        limiter.job_cpus()
    assert e.value.field == "CNNVIZ_JOB_CPUS"
