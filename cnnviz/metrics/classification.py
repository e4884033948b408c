"""Classification metrics and losses: top-k accuracy and focal loss (with its curve against p)."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from cnnviz.checks import Array, Number, Optional, Tensor, checked
from cnnviz.errors import ConfigError

LOGITS, TARGET = Tensor(dims=2), Tensor(dims=1, kind="int", min_numel=0)


def _check_logits(logits: torch.Tensor, target: torch.Tensor) -> None:
    if logits.dim() != 2:
        raise ConfigError("logits", f"must be 2-D (N, classes), got shape {tuple(logits.shape)}")
    if target.shape != logits.shape[:1]:
        raise ConfigError("target", f"must have shape ({logits.shape[0]},), got {tuple(target.shape)}")
    if len(target) and not 0 <= int(target.min()) <= int(target.max()) < logits.shape[1]:
        raise ConfigError("target", f"class indices must be in [0, {logits.shape[1] - 1}]")


@checked(logits=LOGITS, target=TARGET, k=Number(1, integer=True))
def topk_accuracy(logits: torch.Tensor, target: torch.Tensor, k: int) -> float:
    """Fraction of rows whose true class is among the k largest logits."""
    _check_logits(logits, target)
    if not 1 <= k <= logits.shape[1]:
        raise ConfigError("k", f"must be from 1 to the number of classes {logits.shape[1]}, got {k}")
    top = logits.topk(k, dim=1).indices                  # (N, k)
    return float((top == target[:, None]).any(dim=1).float().mean())


@checked(logits=LOGITS, target=TARGET, gamma=Number(0, 100), alpha=Optional(Array(dims=(0, 1), scalar=True)))
def focal_loss(logits: torch.Tensor, target: torch.Tensor, gamma: float = 2.0, alpha=None) -> torch.Tensor:
    """Lin et al. 2017: mean over the batch of −α_t (1 − p_t)^γ log p_t. γ = 0 (and no α) is exactly
    cross-entropy; γ > 0 shrinks the loss of examples already classified well (p_t near 1).
    ``alpha``: None, one float for every class, or one weight per class."""
    _check_logits(logits, target)
    if not gamma >= 0:
        raise ConfigError("gamma", f"must be ≥ 0, got {gamma}")
    log_p = F.log_softmax(logits, dim=1)                 # (N, C)
    modulated = (1 - log_p.exp()) ** gamma * log_p        # (1 − p)^0 = 1 exactly: γ = 0 is cross-entropy
    if alpha is not None:
        a = torch.as_tensor(alpha, dtype=logits.dtype)
        if a.dim() == 1 and len(a) != logits.shape[1]:
            raise ConfigError("alpha", f"needs one weight per class ({logits.shape[1]}), got {len(a)}")
        if a.dim() > 1 or bool((a < 0).any()):
            raise ConfigError("alpha", "must be a number ≥ 0 or a list of them, one per class")
        modulated = modulated * a                          # α_t: a plain factor, not a weighted mean
    return F.nll_loss(modulated, target)                   # −mean over the batch of the target's entry


@checked(p=Array(dims=(0, 1)), gamma=Number(0, 100))
def loss_vs_probability(p, gamma: float) -> tuple[np.ndarray, np.ndarray]:
    """Cross-entropy −log p and focal loss −(1 − p)^γ log p of the true class's probability p."""
    p = np.asarray(p, dtype=float)
    if np.any((p <= 0) | (p > 1)):
        raise ConfigError("p", "probabilities must be in (0, 1]")
    if not gamma >= 0:
        raise ConfigError("gamma", f"must be ≥ 0, got {gamma}")
    ce = -np.log(p)
    return ce, (1 - p) ** gamma * ce


# --------------------------------------------------------------------------- focal loss on an imbalanced problem
GROUPS = ("majority, easy", "majority, hard", "minority, easy", "minority, hard")


def imbalanced_toy(n_major: int = 900, n_minor: int = 100, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A two-class problem as a detector sees it: many background examples (class 0), most of them easy, and a
    few objects (class 1), more of them hard. (logits (N, 2), target (N,)): logits [0, s], so p(class 1) =
    sigmoid(s), exactly a binary classifier's sigmoid output. Seeded."""
    if not (1 <= n_minor <= n_major <= 100_000):
        raise ConfigError("n_minor", f"need 1 ≤ n_minor ≤ n_major ≤ 100000, got {n_minor} and {n_major}")
    g = torch.Generator().manual_seed(seed)
    margin = torch.cat([2.5 + 1.2 * torch.randn(n_major, generator=g),   # log-odds of the true class
                        0.5 + 1.5 * torch.randn(n_minor, generator=g)])  # (N,)
    target = torch.cat([torch.zeros(n_major, dtype=torch.long), torch.ones(n_minor, dtype=torch.long)])
    s = torch.where(target == 1, margin, -margin)                        # the class-1 logit
    return torch.stack([torch.zeros_like(s), s], dim=1), target          # (N, 2), (N,)


def focal_per_example(logits: torch.Tensor, target: torch.Tensor, gamma: float, alpha=None) -> torch.Tensor:
    """Each example's −α_t (1 − p_t)^γ log p_t (``focal_loss`` is their mean). (N,)"""
    focal_loss(logits[:1], target[:1], gamma, alpha)                           # the same checks, named fields
    log_p = F.log_softmax(logits, dim=1).gather(1, target[:, None]).squeeze(1)  # (N,) log p_t
    loss = -(1 - log_p.exp()) ** gamma * log_p
    if alpha is not None:
        loss = loss * torch.as_tensor(alpha, dtype=logits.dtype).expand(logits.shape[1])[target]
    return loss


def loss_shares(logits: torch.Tensor, target: torch.Tensor, gamma: float, alpha=None,
                easy_above: float = 0.5) -> dict:
    """Where the total focal loss comes from: {group: (examples, share of the total loss)} for the four
    ``GROUPS`` (class 0 is the majority; easy: p_t ≥ ``easy_above``)."""
    per = focal_per_example(logits, target, gamma, alpha)                     # (N,)
    p_t = F.softmax(logits, dim=1).gather(1, target[:, None]).squeeze(1)      # (N,)
    total = float(per.sum())
    out = {}
    for name in GROUPS:
        minority, easy = name.startswith("minority"), name.endswith("easy")
        m = (target == int(minority)) & ((p_t >= easy_above) == easy)
        out[name] = (int(m.sum()), float(per[m].sum()) / total if total > 0 else 0.0)
    return out


# --------------------------------------------------------------------------- one image's top-k
def topk_of(logits: torch.Tensor, k: int) -> tuple[list[int], list[float]]:
    """The k most probable classes of one image's logits (C,) and their softmax probabilities, best first."""
    if logits.dim() != 1:
        raise ConfigError("logits", f"must be one image's logits (classes,), got shape {tuple(logits.shape)}")
    if not 1 <= k <= len(logits):
        raise ConfigError("k", f"must be from 1 to the number of classes {len(logits)}, got {k}")
    top = F.softmax(logits, dim=0).topk(k)
    return top.indices.tolist(), top.values.tolist()


def topk_curve(logits: torch.Tensor, target: torch.Tensor) -> list[float]:
    """Top-1 … top-C accuracy: the fraction of rows whose true class ranks within the first k."""
    _check_logits(logits, target)
    rank = (logits > logits.gather(1, target[:, None])).sum(dim=1)            # (N,) classes ranked above the truth
    return [float((rank < k).float().mean()) for k in range(1, logits.shape[1] + 1)]
