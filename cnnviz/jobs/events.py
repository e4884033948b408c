"""The small, picklable events a training job reports (a Ray runner sends the same ones), and a job's status."""
from __future__ import annotations

from dataclasses import dataclass, field

STAGES = ("data", "augment", "forward", "backward", "optimizer", "schedule", "evaluate", "checkpoint")


@dataclass(frozen=True)
class Progress:
    step: int
    epoch: float            # fractional epoch, for the x axis
    train_loss: float       # mean over the steps since the last Progress
    train_acc: float
    lr: float
    samples_per_s: float
    eta_s: float            # estimated seconds left
    device: str | None = None   # where the job ran, as the worker chose it ("CPU", "CUDA (…), AMP bf16")


@dataclass(frozen=True)
class Evaluation:
    step: int
    epoch: int
    train_loss: float       # mean over the epoch
    train_acc: float
    val_loss: float
    val_acc: float
    confusion: list         # confusion[true][predicted] counts on the validation set
    predictions: list       # predicted class of the first validation images (for the picture grid)
    timings: dict = field(default_factory=dict)  # stage -> seconds spent in this epoch


@dataclass(frozen=True)
class Checkpoint:
    step: int
    epoch: int
    nbytes: int
    val_acc: float


@dataclass(frozen=True)
class Finished:
    step: int
    epoch: int
    reason: str             # "done", "stopped" or "early stopping"
    best_val_acc: float


@dataclass(frozen=True)
class Failed:
    step: int
    message: str
    checkpoint_step: int | None  # the last good checkpoint kept, if any


@dataclass(frozen=True)
class JobStatus:
    state: str                    # "queued", "running" or "done"
    queue_position: int | None    # 1 = starts next
    running_jobs: int             # across the whole process (a class group counts once: it holds one slot)
    capacity: int
    classmates: int = 0           # the others training (or waiting) in the same class group; 0 = alone
    wait_s: float | None = None   # a queued job's estimated seconds until it starts; None = unknown or not queued
    first_s: float | None = None  # estimated seconds until its first curve point (None: shown already, or unknown)
    end_s: float | None = None    # estimated seconds until it ends, turns on a shared machine included (None: unknown)
    share: tuple | None = None    # (N, M, others): it trains N s of every M s, taking turns with ``others`` jobs/groups
    paused: bool = False          # between two of its turns (its child process is paused)


Event = Progress | Evaluation | Checkpoint | Finished | Failed
