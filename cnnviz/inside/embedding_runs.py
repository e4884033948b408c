"""A Training Lab run's embedding before and after training: the validation images in the penultimate layer of the
run's initial weights (epoch 0) and of its last checkpoint, both on the same PCA axes, fitted on the last.

The job storage keeps one checkpoint per run, its last. The initial weights need none: a training starts from
``torch.manual_seed(seed)`` and the model its spec builds (``cnnviz.training.loop.build``), so the checkpoint's
spec and recipe seed rebuild them exactly (``tests/unit/inside/test_embedding_runs.py`` compares them with the
training loop's own). A run resumed from another checkpoint did not start there: the page offers only runs whose
first evaluated epoch is 1."""
from __future__ import annotations

import json
from dataclasses import dataclass

import torch
import torch.nn as nn

from cnnviz.checks import Module, Tensor, checked
from cnnviz.errors import ConfigError
from cnnviz.inside.embedding import EMBED_BATCH, Embedding, _forward, pca_2d, project


@dataclass(frozen=True)
class RunCheckpoint:
    first: nn.Module     # the run's initial weights (epoch 0), eval mode, CPU
    last: nn.Module      # the checkpoint's weights (its EMA weights when it kept them: what was evaluated)
    classes: tuple       # class names, one per output
    dataset: str         # the recipe's data set name ("?" when the checkpoint does not say)
    seed: int
    n: int | None        # the recipe's number of images (None: the whole data set); with the seed, the split
    epoch: int           # the checkpoint's epoch


def run_checkpoint(ckpt: bytes) -> RunCheckpoint:
    """Read a Training Lab checkpoint (validated: :func:`cnnviz.training.checkpoint.read_checkpoint`) and rebuild
    the run's initial weights from its spec and seed, the way the training loop made them."""
    from cnnviz.training.built_model import build_network  # here: the training loop's imports only when asked
    from cnnviz.training.checkpoint import read_checkpoint
    from cnnviz.training.loop import INIT_LOCK
    if not isinstance(ckpt, (bytes, bytearray)):
        raise ConfigError("checkpoint", f"must be a Training Lab checkpoint's bytes, got {type(ckpt).__name__}")
    payload = read_checkpoint(bytes(ckpt))
    spec, config = json.loads(payload["spec"]), json.loads(payload["config"])
    seed = config.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2 ** 63:
        raise ConfigError("checkpoint.config.seed", f"must be a non-negative integer, got {seed!r}")
    n = config.get("n")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ConfigError("checkpoint.config.n", f"must be a positive integer or null, got {n!r}")

    def make() -> nn.Module:
        return build_network(spec["model"], spec["kwargs"], spec.get("stack"))

    with INIT_LOCK:  # the global RNG, as the loop holds it
        torch.manual_seed(seed)
        first = make()
    last = make()
    last.load_state_dict(payload.get("ema") or payload["state_dict"])
    return RunCheckpoint(first.eval(), last.eval(), tuple(spec["classes"]), str(config.get("dataset", "?"))[:40],
                         seed, n, int(payload["epoch"]))


@checked(first=Module(), last=Module(), x=Tensor(dims=(2, 5)), y=Tensor(dims=(1, 1), kind="int"))
def first_and_last(first: nn.Module, last: nn.Module, x: torch.Tensor, y: torch.Tensor,
                   batch: int = EMBED_BATCH) -> tuple[Embedding, Embedding]:
    """The images ``x`` (labels ``y``) in both models' penultimate layers: PCA fitted on ``last``'s features, and
    ``first``'s features projected on those axes (minus the fitted mean, like ``PCA.transform``). The first
    embedding's ``ratio`` is the share of *its own* features' variance each axis keeps."""
    if len(y) != len(x):
        raise ConfigError("y", f"{len(y)} labels for {len(x)} images")
    y = y.detach().cpu().long()
    f_last, p_last = _forward(last, x, batch)
    f_first, p_first = _forward(first, x, batch)
    if f_first.shape[1] != f_last.shape[1]:
        raise ConfigError("first", f"its penultimate layer has {f_first.shape[1]} features, the last model's "
                          f"{f_last.shape[1]}: not the same architecture")
    proj = pca_2d(f_last)
    coords, ratio = project(proj, f_first)
    return (Embedding(coords, ratio, y, p_first, p_first != y),
            Embedding(proj.coords, proj.ratio, y, p_last, p_last != y))
