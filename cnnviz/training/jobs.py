"""What a runner's worker runs: a training (``TrainConfig``), a distillation
(``cnnviz.compression.distill.DistillConfig``) or an architecture search (``cnnviz.architecture.search.SearchConfig``).
All report through ``emit`` and end with ``Finished``, so one runner, one limiter and one child-process mechanism
serve the Training Lab, the Compression page and the Architecture Lab alike."""
from __future__ import annotations

from cnnviz.errors import ConfigError
from cnnviz.training.loop import run_training
from cnnviz.training.recipe import TrainConfig

KINDS = "a TrainConfig, a DistillConfig or a SearchConfig"


def run_job(config, emit, stop, keep, device=None) -> None:
    if isinstance(config, TrainConfig):
        return run_training(config, emit, stop, keep, device)
    from cnnviz.compression.distill import DistillConfig, run_distill  # imports the shipped models only when needed
    if isinstance(config, DistillConfig):
        return run_distill(config, emit, stop, keep, device)
    from cnnviz.architecture.search import SearchConfig, run_search
    if isinstance(config, SearchConfig):
        return run_search(config, emit, stop, keep, device)
    raise ConfigError("job", f"a runner runs {KINDS}, not {type(config).__name__}")
