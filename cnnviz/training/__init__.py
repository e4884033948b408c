"""Training: a validated recipe, the loop, background jobs behind a runner interface, and checkpoints.

The Training Lab's room. May import: cnnviz.errors, cnnviz.device, cnnviz.architecture (models), cnnviz.io
(data), torch; only ``factory`` imports cnnviz.cluster (which imports events/loop/recipe, never the runner)."""
from cnnviz.training.checkpoint import load_checkpoint
from cnnviz.training.events import Checkpoint, Evaluation, Failed, Finished, JobStatus, Progress
from cnnviz.training.recipe import TrainConfig
from cnnviz.training.factory import get_local_runner, get_runner
from cnnviz.training.runner import JobLimiter, ThreadRunner

__all__ = ["TrainConfig", "ThreadRunner", "JobLimiter", "get_runner", "get_local_runner", "load_checkpoint",
           "Progress", "Evaluation", "Checkpoint", "Finished", "Failed", "JobStatus"]
