"""The embedding space: where images sit in a model's penultimate layer (the input of its last ``nn.Linear``), and
that space projected to two dimensions by PCA (TensorBoard's projector, done at once: one SVD).

Sign convention: an SVD's components are defined only up to sign, so each component is flipped so that its
largest-magnitude loading (the entry of the component vector in feature space with the largest absolute value;
the first such entry on a tie) is positive. The same features therefore always give the same picture."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from cnnviz.checks import Module, Number, Tensor, checked, run_model
from cnnviz.device import to_model_device
from cnnviz.errors import ConfigError
from cnnviz.inside.saliency import eval_mode

EMBED_BATCH = 512            # images per forward pass when collecting penultimate features
EMBED_MAX_IMAGES = 20_000    # images of one embedding (features are kept on the CPU, N × D floats)


def last_linear(model: nn.Module) -> tuple[str, nn.Linear]:
    """The name and module of the model's last ``nn.Linear`` in registration order (its classifier head)."""
    found = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not found:
        raise ConfigError("model", "it has no nn.Linear layer, so it has no penultimate features to project")
    return found[-1]


def _forward(model: nn.Module, x: torch.Tensor, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(penultimate features (N, D), predicted classes (N,)) on the CPU, from the same forward passes."""
    if len(x) > EMBED_MAX_IMAGES:
        raise ConfigError("x", f"{len(x)} images is more than the {EMBED_MAX_IMAGES} one embedding may hold")
    _, head = last_linear(model)
    got: list[torch.Tensor] = []
    preds: list[torch.Tensor] = []

    def grab(_module, inputs):
        got.append(inputs[0].detach().flatten(1).float().cpu())

    handle = head.register_forward_pre_hook(grab)
    try:
        with torch.no_grad(), eval_mode(model):
            for i in range(0, len(x), batch):
                preds.append(run_model(model, to_model_device(x[i:i + batch], model)).argmax(1).cpu())
    finally:
        handle.remove()
    if len(got) != len(preds):
        raise ConfigError("model", "its last nn.Linear did not run exactly once per forward pass, so its input "
                          "is not the penultimate layer")
    return torch.cat(got), torch.cat(preds)


@checked(model=Module(), x=Tensor(dims=(2, 5)), batch=Number(1, 100_000, integer=True))
def penultimate_features(model: nn.Module, x: torch.Tensor, batch: int = EMBED_BATCH) -> torch.Tensor:
    """The input of the model's last ``nn.Linear`` for each image of ``x`` (N, C, H, W), flattened to (N, D) on
    the CPU: captured by a forward pre-hook in eval mode without gradients, ``batch`` images per pass. The hook
    is removed and every module's training flag restored afterwards, also when the forward pass raises."""
    return _forward(model, x, batch)[0]


@dataclass(frozen=True)
class Projection:
    coords: torch.Tensor       # (N, 2) float64: the features' coordinates on the first two principal components
    ratio: tuple[float, float]  # the share of the total variance each component explains
    components: torch.Tensor   # (2, D) float64: the unit component vectors (sign convention: module docstring)
    mean: torch.Tensor | None = None  # (D,) float64: the fitted features' mean (what :func:`project` subtracts)


@checked(features=Tensor(dims=(2, 2)))
def pca_2d(features: torch.Tensor) -> Projection:
    """Centre the (N, D) features, take their SVD, and project onto the first two right-singular vectors (in
    float64). Needs at least 2 samples, 2 features and some variance."""
    n, d = features.shape
    if n < 2 or d < 2:
        raise ConfigError("features", f"PCA to 2-D needs at least 2 samples and 2 features, got {n}×{d}")
    f = features.detach().cpu().double()
    mean = f.mean(0)
    f = f - mean
    _, s, vt = torch.linalg.svd(f, full_matrices=False)
    total = float((s ** 2).sum())
    if not total > 0:
        raise ConfigError("features", "every sample has the same features: there is no variance to project")
    comps = vt[:2].clone()
    pick = comps.abs().argmax(1)
    signs = torch.sign(comps[torch.arange(2), pick])
    comps *= signs[:, None]
    ratio = (s[:2] ** 2 / total).tolist()
    if len(ratio) < 2:
        ratio.append(0.0)
    return Projection(f @ comps.T, (float(ratio[0]), float(ratio[1])), comps, mean)


def project(proj: Projection, features: torch.Tensor) -> tuple[torch.Tensor, tuple[float, float]]:
    """Other (M, D) features on ``proj``'s axes, as scikit-learn's ``PCA.transform`` does it: minus the *fitted*
    mean, times the components. Also the share of these features' own variance each axis keeps (0 when they do
    not vary)."""
    if proj.mean is None:
        raise ConfigError("proj", "has no fitted mean (made by pca_2d, which records it)")
    f = features.detach().cpu().double()
    if f.ndim != 2 or f.shape[1] != proj.components.shape[1]:
        raise ConfigError("features", f"need {proj.components.shape[1]} features per row to use these axes, "
                          f"got shape {tuple(f.shape)}")
    coords = (f - proj.mean) @ proj.components.T
    own = f - f.mean(0, keepdim=True)
    total = float((own ** 2).sum())
    share = ((own @ proj.components.T) ** 2).sum(0) / total if total > 0 else torch.zeros(2, dtype=torch.float64)
    return coords, (float(share[0]), float(share[1]))


@dataclass(frozen=True)
class Embedding:
    coords: torch.Tensor        # (N, 2) PCA coordinates
    ratio: tuple[float, float]  # explained-variance ratio of the two axes
    labels: torch.Tensor        # (N,) true classes
    predictions: torch.Tensor   # (N,) the model's classes
    wrong: torch.Tensor         # (N,) bool: misclassified


@checked(model=Module(), x=Tensor(dims=(2, 5)), y=Tensor(dims=(1, 1), kind="int"),
         batch=Number(1, 100_000, integer=True))
def embedding(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = EMBED_BATCH) -> Embedding:
    """The images ``x`` with labels ``y`` in the penultimate layer, projected by PCA, with the model's predictions
    (the same forward passes: the head's output is the logits) and which images it gets wrong."""
    if len(y) != len(x):
        raise ConfigError("y", f"{len(y)} labels for {len(x)} images")
    feats, preds = _forward(model, x, batch)
    proj = pca_2d(feats)
    y = y.detach().cpu().long()
    return Embedding(proj.coords, proj.ratio, y, preds, preds != y)

