"""A tiny neural architecture search on the digits, a job kind (:mod:`cnnviz.jobs.kind`: a child process behind
the process-wide limiter, queued, stoppable, like a training or a distillation).

Random search draws candidates from the space (:mod:`cnnviz.architecture.search_space`); evolution draws the first
half at random, then mutates one gene of one of the best three so far. A candidate over the FLOPs budget is rejected
before any training. Every other trains briefly on a small seeded subset of the training digits and is scored on
the validation digits. Then the compound-scaling family of a baseline (φ = 0, 1, 2) trains the same way, for
comparison. One :class:`SearchTrial` per candidate goes to ``emit`` as it is decided, then ``Finished``."""
from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from cnnviz.architecture.search_space import (FAMILY_PHIS, CandidateNet, Genes, candidate_flops, candidate_params,
                                              family_genes, mutate, pareto_front, sample)
from cnnviz.device import pick_device
from cnnviz.errors import ConfigError
from cnnviz.io.data import load_dataset
from cnnviz.jobs.events import Finished

STRATEGIES = ("random", "evolution")
BEST_K = 3             # evolution: parents are drawn from the best BEST_K trained so far
DRAWS_PER_TRIAL = 12   # at most trials × this many candidates are drawn (rejected and repeated ones included)


@dataclass(frozen=True)
class SearchConfig:
    """What to search (validated here, so a bad value is refused at Start). Picklable: it runs in the runner's
    child process. Defaults: 8 candidates + 3 of the family, small enough for a class to wait on (timings:
    docs/measurements.md)."""

    strategy: str = "evolution"
    budget_mflops: float = 0.3   # candidates with more FLOPs (one 8×8 image, forward) are rejected untrained
    trials: int = 8              # candidates trained (rejected ones do not count)
    epochs: int = 3              # passes over the training subset per candidate
    seed: int = 0
    n_train: int = 600           # the first n training digits (of ~1,437)
    family: bool = True          # also train the compound-scaling family φ = 0, 1, 2
    lr: float = 0.01
    batch_size: int = 16

    def __post_init__(self):
        if self.strategy not in STRATEGIES:
            raise ConfigError("strategy", f"must be one of {', '.join(STRATEGIES)}, got {self.strategy!r}")
        b = self.budget_mflops
        if isinstance(b, bool) or not isinstance(b, (int, float)) or not 0.001 <= b <= 10:
            raise ConfigError("budget_mflops", f"must be from 0.001 to 10 MFLOPs, got {b!r}")
        for name, lo, hi in (("trials", 1, 12), ("epochs", 1, 5), ("seed", 0, 2 ** 31 - 1), ("n_train", 50, 1400),
                             ("batch_size", 8, 256)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise ConfigError(name, f"must be a whole number from {lo} to {hi}, got {v!r}")
        if not isinstance(self.family, bool):
            raise ConfigError("family", f"must be True or False, got {self.family!r}")
        if isinstance(self.lr, bool) or not isinstance(self.lr, (int, float)) or not 0 < self.lr <= 1:
            raise ConfigError("lr", f"must be in (0, 1], got {self.lr!r}")

    @property
    def budget_flops(self) -> int:
        return round(self.budget_mflops * 1e6)

    @property
    def total(self) -> int:
        """Trainings the job runs at most: the trials and the family."""
        return self.trials + (len(FAMILY_PHIS) if self.family else 0)

    # the job kind (cnnviz.jobs.kind): short, always on the server's own runner
    cluster = False
    title = "architecture search"

    def run(self, emit, stop, keep=None, device=None) -> None:
        run_search(self, emit, stop, keep, device)


@dataclass(frozen=True)
class SearchTrial:
    """One decided candidate. ``kind``: "search" (trained), "rejected" (over the budget, not trained) or
    "family" (the compound-scaling family, ``phi`` set)."""

    index: int                 # trainings done so far, this one included (a rejected one: not included)
    total: int                 # SearchConfig.total
    kind: str
    genes: Genes
    flops: int
    params: int
    accuracy: float | None     # on the validation digits; None when rejected
    phi: int | None = None
    seconds: float = 0.0       # its training time


def propose(strategy: str, rng: random.Random, trained: list[SearchTrial], trials: int) -> Genes:
    """The next candidate: at random, or (evolution, after the first half) one gene of one of the best
    BEST_K trained so far mutated (best: highest accuracy, then fewest FLOPs)."""
    if strategy == "random" or len(trained) < max(2, trials // 2):
        return sample(rng)
    parents = sorted(trained, key=lambda t: (-t.accuracy, t.flops))[:BEST_K]
    return mutate(rng.choice(parents).genes, rng)


def resized(x: torch.Tensor, side: int) -> torch.Tensor:
    """Images (N, 1, 8, 8) bilinearly resized to side×side (the family's larger inputs); unchanged at 8."""
    return x if x.shape[-1] == side else F.interpolate(x, size=(side, side), mode="bilinear", align_corners=False)


def train_candidate(genes: Genes, data, cfg: SearchConfig, seed: int, stop: threading.Event,
                    device: torch.device) -> float | None:
    """Train the candidate (Adam, seeded initial weights and batches) for ``cfg.epochs`` over (x, y); its accuracy
    on (x_val, y_val), or None when ``stop`` was set (checked before every batch)."""
    x, y, x_val, y_val = (t.to(device) for t in data)
    x, x_val = resized(x, genes.resolution), resized(x_val, genes.resolution)  # (N, 1, R, R)
    torch.manual_seed(seed)
    model = CandidateNet(genes).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    g = torch.Generator().manual_seed(seed)  # on the CPU: the same batches on every device
    for _ in range(cfg.epochs):
        model.train()
        for idx in torch.randperm(len(y), generator=g).split(cfg.batch_size):
            if stop.is_set():
                return None
            idx = idx.to(device)
            loss = F.cross_entropy(model(x[idx]), y[idx])  # model(...): (B, 10)
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        return float((model(x_val).argmax(1) == y_val).float().mean())


def run_search(cfg: SearchConfig, emit, stop: threading.Event, keep=None, device=None) -> None:
    """The search, then the family; ``emit`` gets every SearchTrial as it is decided, then ``Finished``
    ("stopped" or "done"; ``best_val_acc`` is the best searched candidate's). ``keep``: the runner's, unused (no
    checkpoints). ``device``: default ``pick_device()``."""
    dev = torch.device(device) if device is not None else pick_device()
    ds = load_dataset("digits")
    data = tuple(t.to(dev) for t in (ds.x_train[:cfg.n_train], ds.y_train[:cfg.n_train], ds.x_val, ds.y_val))
    rng, trained, seen, draws = random.Random(cfg.seed), [], set(), 0

    def train(kind: str, genes: Genes, seed: int, phi: int | None = None) -> bool:
        t0 = time.perf_counter()
        acc = train_candidate(genes, data, cfg, seed, stop, dev)
        if acc is None:
            return False
        trial = SearchTrial(len(trained) + 1, cfg.total, kind, genes, candidate_flops(genes),
                            candidate_params(genes), acc, phi, time.perf_counter() - t0)
        trained.append(trial)
        emit(trial)
        return True

    while len(trained) < cfg.trials and draws < cfg.trials * DRAWS_PER_TRIAL and not stop.is_set():
        draws += 1
        genes = propose(cfg.strategy, rng, trained, cfg.trials)
        if genes in seen:  # every candidate is decided once
            continue
        seen.add(genes)
        flops = candidate_flops(genes)
        if flops > cfg.budget_flops:
            emit(SearchTrial(len(trained), cfg.total, "rejected", genes, flops, candidate_params(genes), None))
        elif not train("search", genes, cfg.seed * 1000 + len(trained)):
            break
    searched = [t.accuracy for t in trained]
    if cfg.family:
        for phi, genes in family_genes():
            if stop.is_set() or not train("family", genes, cfg.seed * 1000 + 500 + phi, phi):
                break
    emit(Finished(len(trained), len(trained), "stopped" if stop.is_set() else "done", max(searched, default=0.0)))


def search_summary(events) -> dict:
    """What the page reports of a search's events: the searched, rejected and family trials, and the indices of
    the searched ones on the Pareto front."""
    trials = [e for e in events if isinstance(e, SearchTrial)]
    searched = [t for t in trials if t.kind == "search"]
    return dict(searched=searched, rejected=[t for t in trials if t.kind == "rejected"],
                family=[t for t in trials if t.kind == "family"],
                front=pareto_front([(t.flops, t.accuracy) for t in searched]))
