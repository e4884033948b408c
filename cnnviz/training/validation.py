"""What the validation set says about a model: the loop's evaluation (loss, accuracy, confusion matrix, the first
predictions) and the errors opened one cell at a time — every validation image's class probabilities, and the
images of one confusion-matrix cell (true class i, predicted class j), each with its top-k classes."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from cnnviz.checks import safe_repr
from cnnviz.errors import ConfigError

N_PREDICTIONS = 32
EVAL_BATCH = 1024
MAX_CELL_IMAGES = 12  # images of one cell shown at once (each with its saliency map); the rest are counted


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, num_classes: int, batch: int = EVAL_BATCH):
    """Validation loss (plain cross-entropy), accuracy, confusion matrix [true][pred] and predictions."""
    was_training = model.training
    model.eval()
    loss, preds = torch.zeros((), device=x.device), []
    for i in range(0, len(y), batch):
        out = model(x[i:i + batch]).float()
        loss += nn.functional.cross_entropy(out, y[i:i + batch], reduction="sum")
        preds.append(out.argmax(1))
    model.train(was_training)
    pred = torch.cat(preds)
    confusion = torch.bincount(y * num_classes + pred, minlength=num_classes ** 2).view(num_classes, num_classes)
    return (loss.item() / len(y), (pred == y).float().mean().item(), confusion.cpu().tolist(),
            pred[:N_PREDICTIONS].cpu().tolist())


@dataclass(frozen=True)
class Predictions:
    """A model on a validation set: ``probs`` (N, K) softmax probabilities, ``pred`` (N,) the argmax, ``y`` (N,)
    the true labels; all on the CPU."""
    probs: torch.Tensor
    pred: torch.Tensor
    y: torch.Tensor

    @property
    def confusion(self) -> list[list[int]]:
        """counts[true][predicted], as :func:`evaluate` returns them."""
        k = self.probs.shape[1]
        return torch.bincount(self.y * k + self.pred, minlength=k * k).view(k, k).tolist()


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = EVAL_BATCH) -> Predictions:
    """Every image's class probabilities in eval mode (the model's mode comes back)."""
    if not isinstance(x, torch.Tensor) or x.dim() != 4 or not isinstance(y, torch.Tensor) or y.shape != x.shape[:1]:
        raise ConfigError("validation set", "needs images (N, C, H, W) and one label per image")
    was = model.training
    model.eval()
    dev = next(model.parameters()).device
    try:
        probs = torch.cat([model(x[i:i + batch].to(dev)).float().softmax(1).cpu() for i in range(0, len(y), batch)])
    finally:
        model.train(was)
    return Predictions(probs, probs.argmax(1), y.cpu().long())


def _label(value, name: str, k: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < k:
        raise ConfigError(name, f"must be a class number from 0 to {k - 1}, got {safe_repr(value)}")
    return value


def cell_indices(y_true, y_pred, true: int, pred: int, num_classes: int) -> list[int]:
    """The validation indices whose true label is ``true`` and predicted label ``pred``, in order: the images
    behind confusion-matrix cell [true][pred]."""
    y_true, y_pred = torch.as_tensor(y_true), torch.as_tensor(y_pred)
    if y_true.dim() != 1 or y_true.shape != y_pred.shape or y_true.is_floating_point() or y_pred.is_floating_point():
        raise ConfigError("labels", "need two 1-D integer label lists of the same length")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ConfigError("num_classes", f"must be a positive whole number, got {safe_repr(num_classes)}")
    t, p = _label(true, "true class", num_classes), _label(pred, "predicted class", num_classes)
    return torch.nonzero((y_true == t) & (y_pred == p)).flatten().tolist()


def top_k(probs: torch.Tensor, classes, k: int = 3) -> list[tuple[str, float]]:
    """The ``k`` most probable classes of one image's probabilities (K,), most probable first."""
    values, idx = probs.topk(min(k, len(probs)))
    return [(str(classes[int(i)]), float(v)) for v, i in zip(values, idx)]
