"""Training: the recipe (a validated config that is a job kind), the loop, the recipe's step-by-step pieces,
checkpoints, and what the Training Lab draws beside them (history, the run history and its comparison, gradient
flow, the update as formulas, one step in numbers: a weight's gradient as its sum of terms and its optimiser
update).

The Training Lab's room. May import: cnnviz.errors, cnnviz.device, cnnviz.architecture, cnnviz.io, cnnviz.jobs.
How a job runs (runners, the limiter, child processes, Ray) is the jobs room's business: this one only says
what a training does (``TrainConfig.run``)."""
from cnnviz.training.checkpoint import check_resume, load_checkpoint, read_checkpoint, save_checkpoint
from cnnviz.training.history import History
from cnnviz.training.loop import run_training
from cnnviz.training.recipe import EXPLAIN, OPTIMIZERS, SCHEDULES, SPEED_RUN, SWITCHES, TrainConfig, from_switches
from cnnviz.training.steps import AMP_MODES, EMA, amp_mode, augment, epoch_order, lr_at
from cnnviz.training.one_step import WeightGradient, conv_layer_names, weight_gradient_terms
from cnnviz.training.one_step_update import (SlotState, WeightUpdate, adamw_update, apply_grads, make_optimizer,
    sgd_update, slot_state, take_step, weight_update)
from cnnviz.training.group import GroupJob, group_key, plan_groups, train_group
from cnnviz.training.runs import MAX_RUNS, Run, delete_run, runs_of
from cnnviz.training.compare import CHANGES, legend_labels, one_change

__all__ = ["TrainConfig", "from_switches", "EXPLAIN", "OPTIMIZERS", "SCHEDULES", "SPEED_RUN", "SWITCHES",
           "run_training", "load_checkpoint", "read_checkpoint", "save_checkpoint", "check_resume", "History",
           "AMP_MODES", "EMA", "amp_mode", "augment", "epoch_order", "lr_at",
           "weight_gradient_terms", "WeightGradient", "conv_layer_names", "weight_update", "sgd_update", "adamw_update",
           "SlotState", "WeightUpdate", "make_optimizer", "slot_state", "take_step", "apply_grads",
           "GroupJob", "group_key", "plan_groups", "train_group",
           "Run", "runs_of", "delete_run", "MAX_RUNS", "legend_labels", "one_change", "CHANGES"]
