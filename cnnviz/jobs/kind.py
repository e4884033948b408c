"""What a runner runs: a *job kind* is any picklable object with a ``run`` method. A training
(``cnnviz.training.TrainConfig``), a distillation (``cnnviz.compression.DistillConfig``) and an architecture
search (``cnnviz.architecture.SearchConfig``) are job kinds; each carries its own way to run, so the runners,
the limiter and the child process serve all of them without knowing any (fastai's "compose, don't dispatch").

The contract, for every kind:

- ``run(emit, stop, keep, device=None)``: report through ``emit(event)`` (the events of :mod:`.events`), end
  with ``Finished`` (or raise ``ConfigError`` / let a crash escape: the runner turns both into ``Failed``),
  return within a step of ``stop`` being set, hand checkpoint bytes to ``keep(blob)``.
- optionally ``resumed(checkpoint: bytes)``: the same job continuing from a checkpoint (the Ray runner retries a
  job whose worker died this way); a kind without it starts over.
- optionally ``cluster = False``: the kind runs on the web server's own runner only (the Ray runner refuses it).
- optionally ``title``: what the kind is called in a message ("this browser already has a training running").
- optionally, a *class group* (:mod:`.gather`): ``group_key(device=None)`` (hashable; None = this job trains
  alone) and ``run_together(members, device=None)``, which runs several jobs of one key as one computation, each
  :class:`Member` reporting through its own ``emit`` / ``keep`` exactly what its solo ``run`` would, and leaving
  when its own ``stop`` is set. A kind needs both, or it always trains alone.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable, Protocol, runtime_checkable

from cnnviz.errors import ConfigError
from cnnviz.jobs.events import Finished, Progress


@runtime_checkable
class JobKind(Protocol):
    def run(self, emit: Callable, stop: threading.Event, keep: Callable, device=None) -> None: ...


def check_kind(job) -> None:
    """ConfigError("job") unless ``job`` is a job kind (has a callable ``run``)."""
    if not callable(getattr(job, "run", None)):
        raise ConfigError("job", f"a runner runs job kinds (objects with a run method), not {type(job).__name__}")


def run_job(job, emit, stop, keep, device=None) -> None:
    """Run one job here, in this thread: what every runner's worker (thread, child process, Ray task) does."""
    check_kind(job)
    job.run(emit, stop, keep, device)


@dataclass(frozen=True)
class Member:
    """One job of a class group, as :func:`run_group` hands it to its kind's ``run_together``: the job's config
    and its own ``emit``, ``stop`` and ``keep`` (the same three its solo ``run`` would get)."""

    config: object
    emit: Callable
    stop: threading.Event = field(default_factory=threading.Event)
    keep: Callable = lambda blob: None


def group_key_of(job, device=None):
    """The job's class-group key, or None when it trains alone (a kind without ``group_key`` and
    ``run_together``, a key of None, or a key that cannot be computed or hashed)."""
    key_of = getattr(job, "group_key", None)
    if not callable(key_of) or not callable(getattr(job, "run_together", None)):
        return None
    try:
        key = key_of(device)
        hash(key)
    except Exception:  # noqa: BLE001 - such a job is still a job: it trains alone, as before
        return None
    return key


def run_group(members: list, device=None) -> None:
    """Run a class group here, in this thread (members of one key): one member runs exactly as a solo job."""
    if len(members) == 1:
        m = members[0]
        run_job(m.config, m.emit, m.stop, m.keep, device)
    elif members:
        check_kind(members[0].config)
        members[0].config.run_together(list(members), device)


@dataclass(frozen=True)
class SleepJob:
    """A stand-in for training, for the runners' load tests and benchmarks: ``steps`` steps of ``step_s``
    seconds each, one Progress per step, stoppable between steps. No torch, so thousands start in seconds."""

    steps: int = 3
    step_s: float = 0.01
    title = "stand-in job"

    def run(self, emit, stop: threading.Event, keep=None, device=None) -> None:
        for i in range(self.steps):
            if stop.wait(self.step_s):
                emit(Finished(i, 0, "stopped", 0.0))
                return
            emit(Progress(i + 1, (i + 1) / self.steps, 0.0, 0.0, 0.0, 0.0, (self.steps - i - 1) * self.step_s))
        emit(Finished(self.steps, 1, "done", 0.0))
