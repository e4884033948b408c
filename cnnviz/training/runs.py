"""Run history: every training of a browser (its owner token), read back from the runner's kept jobs, so a reload
finds them too (the owner cookie gives the token back; the job storage keeps each job's recipe and events).

A :class:`Run` is the small summary the Compare tab draws: the recipe's plain values, the per-epoch validation and
training curves, the training curve per report (thinned to :data:`MAX_POINTS`), and the final metrics. An owner
keeps the newest :data:`MAX_RUNS` trainings; reading the history deletes the older ended ones (the runner's files
with them), so one student's history is bounded (:func:`nbytes` says how big a summary is). An ended run's summary
never changes: it is built once per process (a bounded cache) and reused by every refresh.

Nothing here trusts a job id from a page: only the owner's own jobs are listed (``runner.jobs_of(owner)``), and
:func:`delete_run` lets the runner check the owner."""
from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass

from cnnviz.errors import ConfigError
from cnnviz.jobs.events import Evaluation, Failed, Finished, Progress

MAX_RUNS = 12          # trainings one browser keeps in its history (the 13th deletes the oldest ended one)
MAX_POINTS = 120       # training-curve points kept per run (reports thinned evenly, the last one kept)
CACHE_RUNS = 512       # ended runs' summaries this process keeps (a few KB each)
TITLE = "training"     # the job kind's title of a TrainConfig (other kinds are no runs)


@dataclass(frozen=True)
class Run:
    job: str                       # the job id (the owner's own; never shown to anyone else)
    recipe: dict                   # TrainConfig's plain values
    started: float | None          # wall-clock seconds when it was submitted (None when unknown)
    state: str                     # "running", "queued", "finished", "stopped", "early stopping" or "failed"
    epoch: tuple = ()              # per epoch: its number ...
    val_acc: tuple = ()            # ... validation accuracy, loss, and the epoch's mean training accuracy, loss
    val_loss: tuple = ()
    train_acc: tuple = ()
    train_loss: tuple = ()
    steps_x: tuple = ()            # the training curve per report (fractional epoch), at most MAX_POINTS
    steps_loss: tuple = ()
    steps_acc: tuple = ()
    seconds: float = 0.0           # the loop's own time (the sum of its stages) over all epochs
    n_events: int = 0

    @property
    def final_val_acc(self) -> float | None:
        return self.val_acc[-1] if self.val_acc else None

    @property
    def best_val_acc(self) -> float | None:
        return max(self.val_acc) if self.val_acc else None

    @property
    def final_val_loss(self) -> float | None:
        return self.val_loss[-1] if self.val_loss else None

    @property
    def ended(self) -> bool:
        return self.state not in ("running", "queued")


def thin(n: int, k: int = MAX_POINTS) -> list[int]:
    """At most ``k`` indices of ``range(n)``, evenly spread, the first and the last included."""
    if n <= k:
        return list(range(n))
    return sorted({round(i * (n - 1) / (k - 1)) for i in range(k)})


def run_from_events(job: str, recipe: dict, events: list, started: float | None = None,
                    state: str = "running") -> Run:
    """A run's summary from its events (pure). ``state``: the runner's ("queued", "running", "done"); an ended
    run's state is read from its last event."""
    evals = [e for e in events if isinstance(e, Evaluation)]
    prog = [e for e in events if isinstance(e, Progress)]
    end = next((e for e in reversed(events) if isinstance(e, (Finished, Failed))), None)
    if state == "done" or end is not None:
        state = "failed" if isinstance(end, Failed) else {"done": "finished"}.get(getattr(end, "reason", ""),
                                                                                    getattr(end, "reason", "finished"))
    keep = [prog[i] for i in thin(len(prog))]
    return Run(job=job, recipe=dict(recipe), started=started, state=state,
               epoch=tuple(e.epoch for e in evals), val_acc=tuple(e.val_acc for e in evals),
               val_loss=tuple(e.val_loss for e in evals), train_acc=tuple(e.train_acc for e in evals),
               train_loss=tuple(e.train_loss for e in evals), steps_x=tuple(p.epoch for p in keep),
               steps_loss=tuple(p.train_loss for p in keep), steps_acc=tuple(p.train_acc for p in keep),
               seconds=float(sum(sum(e.timings.values()) for e in evals)), n_events=len(events))


def nbytes(run: Run) -> int:
    """The summary's size as JSON (what a run costs to keep and to send)."""
    return len(json.dumps(asdict(run)).encode())


# ---------------------------------------------------------------- reading the runner
_cache: OrderedDict[str, Run] = OrderedDict()
_lock = threading.Lock()


def _started(runner, job: str) -> float | None:
    """When the job was written to the job storage (its config.json), or None for a runner without one."""
    store = getattr(getattr(runner, "kept", None), "store", None) or getattr(runner, "store", None)
    try:
        return (store.dir(job) / "config.json").stat().st_mtime if store is not None else None
    except (OSError, ConfigError):
        return None


def _recipe(runner, job: str, owner: str) -> dict:
    if callable(getattr(runner, "recipe", None)):
        return runner.recipe(job, owner)
    runner.check_owner(job, owner)
    return dict(runner.store.config(job).get("config", {}))  # the Ray runner: the recipe in the shared storage


def _run(runner, job: str, owner: str, state: str) -> Run:
    with _lock:
        hit = _cache.get(job)
        if hit is not None:
            _cache.move_to_end(job)
            return hit
    run = run_from_events(job, _recipe(runner, job, owner), runner.poll(job), _started(runner, job), state)
    if state == "done":  # an ended run never changes: built once
        with _lock:
            _cache[job] = run
            while len(_cache) > CACHE_RUNS:
                _cache.popitem(last=False)
    return run


def runs_of(runner, owner: str | None, limit: int = MAX_RUNS) -> list[Run]:
    """The owner's newest ``limit`` trainings, oldest first. Ended trainings beyond them are deleted (the runner
    forgets them and their files): a browser's history stays bounded. An unknown owner has none."""
    if not isinstance(owner, str) or not owner:
        return []
    mine = [(job, state) for job, title, state in runner.jobs_of(owner) if title == TITLE]
    mine.sort(key=lambda js: _started(runner, js[0]) or 0.0)  # stable: a runner without storage keeps its order
    runs = []
    for job, state in mine:
        try:
            runs.append(_run(runner, job, owner, state))
        except ConfigError:  # forgotten meanwhile
            continue
    extra = len(runs) - limit
    for old in [r for r in runs if r.ended][:max(0, extra)]:
        try:
            delete_run(runner, old.job, owner)
        except ConfigError:
            pass
        runs.remove(old)
    return runs[-limit:]


def delete_run(runner, job: str, owner: str) -> None:
    """Delete one ended training of ``owner`` (its curve, checkpoint and files). ConfigError("job") when it is not
    theirs, unknown, or still queued or running (stop it first)."""
    runner.check_owner(job, owner)
    if runner.status(job).state != "done":
        raise ConfigError("job", "this training is still running: stop it before deleting it")
    if not callable(getattr(runner, "forget", None)):
        raise ConfigError("job", "this server's runner keeps every training (the cluster's shared storage)")
    runner.forget(job, owner)
    with _lock:
        _cache.pop(job, None)
