"""Comparing runs: a legend that names only what differs between the runs shown, and the clean A/B (a copy of a
run's recipe with exactly one setting changed, the seed and everything else equal). Pure functions of recipes
(``TrainConfig.to_dict()``-like dicts)."""
from __future__ import annotations

import hashlib

from cnnviz.errors import ConfigError
from cnnviz.training.recipe import LABEL_SMOOTHING, OPTIMIZERS, SCHEDULES, TrainConfig
from cnnviz.architecture.models import MODELS

# A switch: the field a Training Lab switch sets, its short name, and its value when on (``None``: read ``on_value``).
SWITCH_FIELDS = {"augment_flip": "flip", "augment_crop": "crop", "augment_noise": "noise",
                 "label_smoothing": "label smoothing", "ema": "EMA", "grad_clip": "clipping",
                 "patience": "early stopping", "balanced": "balanced", "amp": "mixed precision"}
OPTIMIZER_NAMES = {"adamw": "AdamW", "sgd": "SGD"}


def _num(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


VALUE_NAMES = {  # field -> how its value reads in a legend
    "dataset": str, "model": str, "optimizer": lambda v: OPTIMIZER_NAMES.get(v, str(v)),
    "schedule": lambda v: f"{v} schedule", "lr": lambda v: f"lr {_num(v)}", "epochs": lambda v: f"{v} epochs",
    "weight_decay": lambda v: f"λ {_num(v)}", "batch_size": lambda v: f"batch {v}", "seed": lambda v: f"seed {v}",
    "width": lambda v: f"width {v}", "momentum": lambda v: f"momentum {_num(v)}",
    "warmup": lambda v: f"warm-up {_num(v)}", "ema_decay": lambda v: f"EMA decay {_num(v)}",
    "n": lambda v: f"{v} images",
    "stack": lambda v: f"network {hashlib.sha256(str(v).encode()).hexdigest()[:4]}" if v else ""}


def is_on(field: str, value) -> bool:
    return bool(value) and value != "off"


def differing(recipes: list[dict]) -> list[str]:
    """The fields whose values are not all equal across ``recipes`` (in the first recipe's order)."""
    fields = list(dict.fromkeys(f for r in recipes for f in r))
    return [f for f in fields if len({repr(r.get(f)) for r in recipes}) > 1]


def legend_labels(recipes: list[dict], names: list[str] | None = None) -> list[str]:
    """One legend entry per recipe naming only the settings that differ between them: the switches that are on,
    joined by "+" ("flip + noise"; "no flip, no noise" when none of the differing ones is on), then the other
    values ("lr 0.05", "SGD"). A switch whose on-values differ shows its value ("noise 0.1"). Recipes that do not
    differ at all are "same recipe"; equal entries get their ``names`` (default "run 1", "run 2" ...) appended."""
    names = names or [f"run {i + 1}" for i in range(len(recipes))]
    diff = differing(recipes)
    switches = [f for f in diff if f in SWITCH_FIELDS]
    values = [f for f in diff if f not in SWITCH_FIELDS]
    out = []
    for r in recipes:
        ons = []
        for f in switches:
            if is_on(f, r.get(f)):
                on_values = {repr(q.get(f)) for q in recipes if is_on(f, q.get(f))}
                ons.append(SWITCH_FIELDS[f] + (f" {_num(r[f])}" if len(on_values) > 1 else ""))
        parts = [" + ".join(ons)] if ons else ([", ".join(f"no {SWITCH_FIELDS[f]}" for f in switches)]
                                              if switches else [])
        parts += [VALUE_NAMES.get(f, lambda v, f=f: f"{f} {_num(v)}")(r.get(f)) for f in values]
        out.append(", ".join(p for p in parts if p) or "same recipe")
    return [f"{label} ({name})" if out.count(label) > 1 else label for label, name in zip(out, names)]


def on_values(size: int) -> dict:
    """Each switch field's value when a Training Lab switch turns it on (as ``from_switches`` sets it) for images
    of side ``size``."""
    return {"augment_flip": True, "augment_crop": 1 if size <= 8 else 2, "augment_noise": 0.05,
            "label_smoothing": LABEL_SMOOTHING, "ema": True, "grad_clip": 2.0, "patience": 3, "balanced": True}


# The changes "Train again with one change" offers: name -> (label, field); a switch flips, a value is picked.
CHANGES = {"flip": ("Flip", "augment_flip"), "crop": ("Random crop", "augment_crop"),
           "noise": ("Noise", "augment_noise"), "ls": ("Label smoothing", "label_smoothing"),
           "ema": ("EMA of weights", "ema"), "clip": ("Gradient clipping", "grad_clip"),
           "early": ("Early stopping", "patience"), "balanced": ("Class-balanced", "balanced"),
           "lr": ("Learning rate", "lr"), "optimizer": ("Optimizer", "optimizer"), "schedule": ("Schedule", "schedule"),
           "model": ("Model", "model"), "epochs": ("Epochs", "epochs"), "wd": ("Weight decay λ", "weight_decay")}
CHOICES = {"optimizer": OPTIMIZERS, "schedule": SCHEDULES, "model": tuple(MODELS)}  # the picked values' options


def is_switch(change: str) -> bool:
    return CHANGES[change][1] in SWITCH_FIELDS


def one_change(recipe: dict, change: str, value=None, size: int = 8) -> dict:
    """A copy of ``recipe`` with exactly one setting changed (the seed and everything else equal): a switch of
    :data:`CHANGES` flips (on: its Training Lab value for images of side ``size``), a value becomes ``value``.
    ConfigError naming the field when the change is unknown, the value missing or invalid, or the copy would be
    the same recipe."""
    if change not in CHANGES:
        raise ConfigError("change", f"choose one of {', '.join(CHANGES)}, got {str(change)[:40]!r}")
    field = CHANGES[change][1]
    if field not in recipe:
        raise ConfigError("change", f"the run's recipe has no {field!r}")
    new = dict(recipe)
    if is_switch(change):
        new[field] = (0.0 if isinstance(recipe[field], float) else 0 if isinstance(recipe[field], int) and not
                      isinstance(recipe[field], bool) else False) if is_on(field, recipe[field]) else \
            on_values(size)[field]
    else:
        if value is None:
            raise ConfigError(field, "pick the new value")
        new[field] = type(recipe[field])(value) if isinstance(recipe[field], (int, float)) and not isinstance(
            value, bool) else value
    if new[field] == recipe[field]:
        raise ConfigError(field, "that is the run's own value: pick another one")
    TrainConfig.from_dict(new)  # the same checks as a page's Start (ConfigError naming the field)
    return new


def describe_change(recipe: dict, change: str, value=None, size: int = 8) -> str:
    """"Flip: off → on", "Learning rate: 0.02 → 0.05" (for the button's caption)."""
    label, field = CHANGES[change]
    new = one_change(recipe, change, value, size)

    def show(v):
        if is_switch(change):
            return "on" if is_on(field, v) else "off"
        return OPTIMIZER_NAMES.get(v, _num(v)) if isinstance(v, (str, int, float)) else str(v)
    return f"{label}: {show(recipe[field])} → {show(new[field])}"
