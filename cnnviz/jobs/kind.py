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
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
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
