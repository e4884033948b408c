"""t-SNE of the embedding, as a background job: scikit-learn's ``TSNE`` (seeded, PCA initialisation), its
coordinates exactly scikit-learn's, with progress and Stop added from outside its loop.

scikit-learn's t-SNE has no callback. Its gradient descent calls a module-level objective once per iteration, so
that objective is wrapped once per process by a pass-through that calls this thread's hook (if any) after each
call: the hook counts iterations (the progress events) and raises :class:`Stopped` when Stop was pressed. The
wrapper returns the objective's values unchanged, so the result equals a plain ``TSNE(...).fit_transform``
(``tests/unit/inside/test_embedding_tsne.py``); without a hook (any other caller) it only passes through. Should a
scikit-learn version move that function, the job still runs, reporting only its start and its end.

The job (:class:`TsneJob`) is a job kind (``cnnviz/jobs/kind.py``): picklable, ``run(emit, stop, keep, device)``.
It reports :class:`TsneStep` events, one :class:`TsneResult` (``reason`` "done" or "stopped"), then the runner's
``Finished`` with the same step and reason, as every job kind ends: the job storage reads a job whose last event
is ``Finished`` as ended (a kept t-SNE that ended otherwise read as interrupted after a restart)."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
import torch

from cnnviz.errors import ConfigError
from cnnviz.jobs.events import Finished

TSNE_MAX_POINTS = 2_000      # points one t-SNE may embed (the shipped validation sets have 300-1,000)
TSNE_MAX_FEATURES = 4_096    # feature dimensions one t-SNE may read (N × D floats go to the job by pickle)
TSNE_MAX_PERPLEXITY = 100.0  # the slider's top; scikit-learn also needs perplexity < number of points
TSNE_ITER_RANGE = (250, 2_000)  # scikit-learn's own minimum is 250 iterations
TSNE_REPORT_EVERY = 25       # iterations between two progress events

_hook = threading.local()
_patched = [False]
_patch_lock = threading.Lock()


class Stopped(Exception):
    """Raised by the iteration hook when Stop was pressed: unwinds scikit-learn's loop."""


def _wrap(fn):
    def objective(*args, **kwargs):
        out = fn(*args, **kwargs)
        hook = getattr(_hook, "fn", None)
        if hook is not None:
            hook()
        return out
    objective.__wrapped__ = fn
    return objective


def _install() -> bool:
    """Wrap scikit-learn's t-SNE objectives once per process; False when they are not where they were."""
    with _patch_lock:
        if not _patched[0]:
            try:
                from sklearn.manifold import _t_sne
                for name in ("_kl_divergence", "_kl_divergence_bh"):
                    setattr(_t_sne, name, _wrap(getattr(_t_sne, name)))
            except (ImportError, AttributeError):
                return False
            _patched[0] = True
    return True


def check_perplexity(perplexity, n: int) -> float:
    """The perplexity as a float; ConfigError("perplexity") unless 1 ≤ perplexity ≤ the slider's top and below the
    number of points (scikit-learn's own rule: each point needs more neighbours than its perplexity)."""
    if isinstance(perplexity, bool) or not isinstance(perplexity, (int, float)) or not np.isfinite(perplexity):
        raise ConfigError("perplexity", f"must be a number, got {perplexity!r}")
    top = min(TSNE_MAX_PERPLEXITY, n - 1)
    if not 1 <= perplexity <= top or perplexity >= n:
        raise ConfigError("perplexity", f"must be between 1 and {top:g} for {n} points (below the number of "
                          f"points), got {perplexity:g}")
    return float(perplexity)


def _check(features, perplexity, seed, max_iter) -> tuple[np.ndarray, float]:
    if isinstance(features, torch.Tensor):
        features = features.detach().cpu().numpy()
    f = np.asarray(features, dtype=np.float32)
    if f.ndim != 2 or f.shape[0] < 3 or f.shape[1] < 2:
        raise ConfigError("features", f"t-SNE needs an (N, D) array with N ≥ 3 points and D ≥ 2, got {f.shape}")
    if f.shape[0] > TSNE_MAX_POINTS or f.shape[1] > TSNE_MAX_FEATURES:
        raise ConfigError("features", f"{f.shape[0]}×{f.shape[1]} is more than one t-SNE may embed "
                          f"({TSNE_MAX_POINTS} points of at most {TSNE_MAX_FEATURES} features)")
    if not np.isfinite(f).all():
        raise ConfigError("features", "contain NaN or infinite values")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2 ** 31:
        raise ConfigError("seed", f"must be an integer in [0, 2³¹), got {seed!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or \
            not TSNE_ITER_RANGE[0] <= max_iter <= TSNE_ITER_RANGE[1]:
        raise ConfigError("max_iter", f"must be an integer from {TSNE_ITER_RANGE[0]} to {TSNE_ITER_RANGE[1]}, "
                          f"got {max_iter!r}")
    return f, check_perplexity(perplexity, f.shape[0])


def tsne_2d(features, perplexity: float = 30.0, seed: int = 0, max_iter: int = 1_000, on_iteration=None) -> np.ndarray:
    """scikit-learn's ``TSNE(n_components=2, perplexity, random_state=seed, init="pca", learning_rate="auto",
    max_iter)`` of the (N, D) features (float32), as an (N, 2) float64 array. ``on_iteration()`` is called after
    every iteration in this thread (it may raise :class:`Stopped`)."""
    from sklearn.manifold import TSNE
    f, perplexity = _check(features, perplexity, seed, max_iter)
    model = TSNE(n_components=2, perplexity=perplexity, random_state=seed, init="pca", learning_rate="auto",
                 max_iter=max_iter)
    if on_iteration is None or not _install():
        return model.fit_transform(f).astype(np.float64)
    _hook.fn = on_iteration
    try:
        return model.fit_transform(f).astype(np.float64)
    finally:
        _hook.fn = None


@dataclass(frozen=True)
class TsneStep:
    step: int       # iterations done
    total: int      # iterations asked for (scikit-learn may stop earlier when it converges)


@dataclass(frozen=True)
class TsneResult:
    step: int
    reason: str             # "done" or "stopped"
    coords: tuple = ()      # N (x, y) pairs; empty when stopped


@dataclass(frozen=True)
class TsneJob:
    """t-SNE of ``features`` (an (N, D) float32 array) as a job kind. Checked when made, so a page shows a bad
    perplexity before anything is submitted."""

    features: np.ndarray = field(repr=False)
    perplexity: float = 30.0
    seed: int = 0
    max_iter: int = 1_000
    cluster = False
    title = "t-SNE"

    def __post_init__(self):
        f, p = _check(self.features, self.perplexity, self.seed, self.max_iter)
        object.__setattr__(self, "features", f)
        object.__setattr__(self, "perplexity", p)

    def run(self, emit, stop: threading.Event, keep=None, device=None) -> None:
        """scikit-learn runs on the CPU whatever ``device`` says; ``keep`` is unused (nothing to resume)."""
        done = [0]

        def tick():
            done[0] += 1
            if stop.is_set():
                raise Stopped
            if done[0] % TSNE_REPORT_EVERY == 0:
                emit(TsneStep(done[0], self.max_iter))

        emit(TsneStep(0, self.max_iter))
        try:
            xy = tsne_2d(self.features, self.perplexity, self.seed, self.max_iter, tick)
            end = TsneResult(done[0], "done", tuple(map(tuple, xy.tolist())))
        except Stopped:
            end = TsneResult(done[0], "stopped")
        emit(end)
        emit(Finished(end.step, 0, end.reason, 0.0))  # the end every job kind reports (cnnviz/jobs/kind.py)
