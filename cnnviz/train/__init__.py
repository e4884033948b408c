"""Training: a validated recipe, the loop, background jobs behind a runner interface, and checkpoints."""
from .checkpoint import load_checkpoint
from .events import Checkpoint, Evaluation, Failed, Finished, Progress
from .recipe import TrainConfig
from .runner import JobLimiter, ThreadRunner, get_local_runner, get_runner

__all__ = ["TrainConfig", "ThreadRunner", "JobLimiter", "get_runner", "get_local_runner", "load_checkpoint",
           "Progress", "Evaluation", "Checkpoint", "Finished", "Failed"]
