"""Feature visualisation as a background job: what the Feature Maps page runs when the ascent would take more than
about a second (:func:`estimate_seconds`, arithmetic only), so it never holds a page's rerun.

:class:`FeatureVisJob` is a job kind (:mod:`cnnviz.jobs.kind`): picklable, ``run(emit, stop, keep, device)`` runs
:func:`~cnnviz.inside.feature_vis.visualise_channel` with the same seed and settings as the inline call, reports a
:class:`FeatureVisStep` about 50 times, then one :class:`FeatureVisDone` carrying the result and why it ended
("done", or "stopped" within a step of ``stop`` being set), then the runner's ``Finished`` with the same step and
reason, as every job kind ends (the job storage reads a job as ended by that event). A shipped model travels as its key
(the job loads it where it runs); any other model (an upload, a session's own training) travels as a CPU copy."""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

import torch
import torch.nn as nn

from cnnviz.device import pick_device
from cnnviz.errors import ConfigError
from cnnviz.inside.feature_vis import FeatureVis, check_cost, visualise_channel
from cnnviz.jobs.events import Finished

STEP_OVERHEAD_S = 0.004   # one ascent step's fixed cost on a CPU core (autograd, Adam, hooks), measured on 8×8 inputs
FLOPS_PER_S = 5e9         # what a CPU core does for these small convs (measured: 2-7 GFLOP/s on the shipped models)
INLINE_MAX_S = 1.0        # estimated seconds above which the page runs the ascent as a job
PROGRESS_EVENTS = 50      # Progress events one job sends at most


def estimate_seconds(model: nn.Module, shape: tuple[int, int, int], steps: int, images: int) -> float:
    """Seconds one visualisation is expected to take on a CPU core, from arithmetic alone: steps × (a fixed cost per
    step + images × 3 passes × the model's forward FLOPs for ``shape`` / FLOPS_PER_S). Beyond the caps: ConfigError
    (:func:`~cnnviz.inside.feature_vis.check_cost`)."""
    flops = check_cost(model, tuple(int(v) for v in shape), steps, images)  # = steps × images × 3 × forward FLOPs
    return steps * STEP_OVERHEAD_S + flops / FLOPS_PER_S


def runs_as_job(model: nn.Module, shape: tuple[int, int, int], steps: int, images: int) -> bool:
    """Whether the page should run this visualisation as a job (estimated above INLINE_MAX_S)."""
    return estimate_seconds(model, shape, steps, images) > INLINE_MAX_S


@dataclass(frozen=True)
class FeatureVisStep:
    """Progress: ``step`` of ``total`` ascent steps done, about ``eta_s`` seconds left, on ``device``."""

    step: int
    total: int
    eta_s: float
    device: str = "cpu"


@dataclass(frozen=True)
class FeatureVisDone:
    """The job's last event: its result and why it ended ("done" or "stopped")."""

    step: int
    reason: str
    result: FeatureVis


@dataclass(frozen=True)
class FeatureVisJob:
    """One visualisation for the runner. ``model_key``: a shipped model's key; else ``model`` (copied to the CPU
    when the job is made). The remaining fields are :func:`visualise_channel`'s arguments."""

    layer: str
    channel: int
    shape: tuple
    steps: int = 64
    images: int = 1
    jitter: bool = True
    robust: bool = True
    fourier: bool = True
    blur: bool = False
    diversity: float = 1.0
    lr: float = 0.05
    seed: int = 0
    model_key: str | None = None
    model: nn.Module | None = field(default=None, compare=False, repr=False)

    cluster = False                   # seconds on tiny models: always on the web server's own runner
    title = "feature visualisation"

    def __post_init__(self):
        if (self.model_key is None) == (self.model is None):
            raise ConfigError("model", "give a shipped model's key or a model, one of the two")
        if self.model_key is not None and not isinstance(self.model_key, str):
            raise ConfigError("model", f"a shipped model's key is a string, got {type(self.model_key).__name__}")
        if self.model is not None:
            if not isinstance(self.model, nn.Module):
                raise ConfigError("model", f"must be a torch module, got {type(self.model).__name__}")
            object.__setattr__(self, "model", copy.deepcopy(self.model).cpu())
        if not isinstance(self.channel, int) or isinstance(self.channel, bool) or self.channel < 0:
            raise ConfigError("channel", f"must be a channel index ≥ 0, got {self.channel!r}")
        shape = tuple(self.shape) if isinstance(self.shape, (tuple, list)) else ()
        if len(shape) != 3 or not all(isinstance(v, int) and v > 0 for v in shape):
            raise ConfigError("size", f"the input shape must be (C, H, W) of positive integers, got {self.shape!r}")
        object.__setattr__(self, "shape", shape)

    def settings(self) -> dict:
        """The keyword arguments of :func:`visualise_channel` (besides model, layer, channel and shape)."""
        return dict(steps=self.steps, images=self.images, jitter=self.jitter, robust=self.robust,
                    fourier=self.fourier, blur=self.blur, diversity=self.diversity, lr=self.lr, seed=self.seed)

    def load(self, device=None) -> nn.Module:
        """The model on ``device`` (default ``pick_device()``): loaded from the shipped file, or a copy of ``model``."""
        dev = torch.device(device) if device is not None else pick_device()
        if self.model_key is not None:
            from cnnviz.inside.shipped import load_model  # where the job runs; the page passes only the key
            model = load_model(self.model_key)[0]
        else:
            model = copy.deepcopy(self.model)
        return model.to(dev)

    def run(self, emit, stop, keep=None, device=None) -> None:
        model = self.load(device)
        where = str(next(model.parameters()).device)
        every = max(1, self.steps // PROGRESS_EVENTS)
        t0 = time.perf_counter()

        def progress(done: int, total: int) -> None:
            if done % every == 0 or done == total:
                spent = time.perf_counter() - t0
                emit(FeatureVisStep(done, total, spent / done * (total - done), where))

        result = visualise_channel(model, self.layer, self.channel, self.shape, progress=progress, stop=stop,
                                   **self.settings())
        end = FeatureVisDone(result.steps_done, "stopped" if result.stopped else "done", result)
        emit(end)
        emit(Finished(end.step, 0, end.reason, 0.0))  # the end every job kind reports (cnnviz/jobs/kind.py)


def job_done(events: list) -> FeatureVisDone | None:
    """The job's last event when it has ended with a result (None before, or when it failed)."""
    return next((e for e in reversed(events) if isinstance(e, FeatureVisDone)), None)


def job_step(events: list) -> FeatureVisStep | None:
    """The job's last progress report (None before the first)."""
    return next((e for e in reversed(events) if isinstance(e, FeatureVisStep)), None)
