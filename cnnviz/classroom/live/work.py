"""What students make during a live class, for the teacher's dashboard: finished Training Lab runs (the recipe's
switches, final validation accuracy, parameters, seconds, the per-epoch validation accuracy) and digits drawn in
the Network Explorer (the model's 28×28 view, its prediction, the digit the student says it is).

The server records them (the Training Lab from its own job's recipe and events, the Explorer from its own
model), never a value sent by a browser; even so, every value is checked and bounded here: the switch names
are a fixed list, numbers are finite and in range, a drawing is exactly 28×28 uint8, a student keeps at most
``CLASS_MAX_RUNS`` runs and ``CLASS_MAX_DRAWINGS`` drawings. Only the teacher key reads them back."""
from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass

import numpy as np

from cnnviz.classroom.live.names import text_id
from cnnviz.classroom.live.store import FULL
from cnnviz.errors import ConfigError
from cnnviz.limits import CLASS_CURVE_POINTS, CLASS_DRAWING_SIDE, CLASS_MAX_DRAWINGS, CLASS_MAX_RUNS

# The Training Lab's on/off switches (cnnviz.training.recipe.SWITCHES; a test keeps the two lists equal).
RUN_SWITCHES = ("flip", "crop", "noise", "ls", "ema", "clip", "early", "balanced", "amp")
CHOICE_CHARS = 24  # a model, optimizer or schedule name
MAX_PARAMS, MAX_SECONDS, MAX_LR = 10 ** 9, 86_400.0, 10.0
DIGITS = 10


@dataclass(frozen=True)
class RunView:
    nickname: str
    run: str                      # the job's id: one student's runs told apart
    switches: tuple[str, ...]     # the switches that were on, in RUN_SWITCHES' order
    model: str
    optimizer: str
    schedule: str
    epochs: int
    lr: float
    val_acc: float                # final validation accuracy, 0..1
    params: int
    seconds: float
    curve: tuple[float, ...]      # validation accuracy after each epoch

    @property
    def recipe(self) -> str:
        on = ", ".join(self.switches) or "no switches"
        return f"{self.model} · {self.optimizer} · {self.schedule} · lr {self.lr:g} · {on}"


@dataclass(frozen=True)
class DrawingView:
    nickname: str
    pixels: np.ndarray            # CLASS_DRAWING_SIDE² uint8
    predicted: int
    label: int | None             # what the student says it is (None: not said)
    at: float


@dataclass(frozen=True)
class DrawingsView:
    drawings: tuple[DrawingView, ...]   # newest first
    confusion: tuple[tuple[int, ...], ...]  # [said][predicted] counts of the labelled drawings
    labelled: int
    agreed: int                   # labelled drawings the model read as the student said


def _number(field: str, value, low: float, high: float, integer: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ConfigError(field, f"must be a number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or not low <= value <= high or (integer and value != int(value)):
        raise ConfigError(field, f"must be {'a whole number ' if integer else 'a number '}in [{low:g}, {high:g}]")
    return int(value) if integer else value


def _choice(field: str, value) -> str:
    value = text_id(field, value)
    if len(value) > CHOICE_CHARS:
        raise ConfigError(field, f"must be at most {CHOICE_CHARS} characters")
    return value


def check_run(recipe: dict, val_acc, params, seconds, curve) -> dict:
    """A finished run as kept: raises ConfigError naming the first bad field."""
    if not isinstance(recipe, dict):
        raise ConfigError("recipe", "must be a mapping")
    switches = recipe.get("switches", {})
    if not isinstance(switches, dict) or any(k not in RUN_SWITCHES for k in switches) \
            or any(not isinstance(v, bool) for v in switches.values()):
        raise ConfigError("switches", f"must map some of {', '.join(RUN_SWITCHES)} to true/false")
    if not isinstance(curve, (list, tuple)) or not 0 < len(curve) <= CLASS_CURVE_POINTS:
        raise ConfigError("curve", f"must hold 1 to {CLASS_CURVE_POINTS} validation accuracies")
    return {"sw": [k for k in RUN_SWITCHES if switches.get(k)],
            "model": _choice("model", recipe.get("model")), "opt": _choice("optimizer", recipe.get("optimizer")),
            "sched": _choice("schedule", recipe.get("schedule")),
            "epochs": _number("epochs", recipe.get("epochs"), 1, 500, integer=True),
            "lr": _number("lr", recipe.get("lr"), 1e-8, MAX_LR), "acc": _number("val_acc", val_acc, 0, 1),
            "params": _number("params", params, 1, MAX_PARAMS, integer=True),
            "s": round(_number("seconds", seconds, 0, MAX_SECONDS), 2),
            "curve": [round(_number("curve", a, 0, 1), 5) for a in curve]}


def check_drawing_view(pixels, predicted, label) -> dict:
    """A shared drawing as kept: the model's view (exactly CLASS_DRAWING_SIDE² uint8), its prediction, the label."""
    side = CLASS_DRAWING_SIDE
    if not isinstance(pixels, np.ndarray) or pixels.dtype != np.uint8 or pixels.shape != (side, side):
        got = (f"{pixels.dtype} {tuple(pixels.shape)}" if isinstance(pixels, np.ndarray)
               else type(pixels).__name__)
        raise ConfigError("drawing", f"must be a {side}×{side} uint8 picture, got {got}")
    return {"px": base64.b64encode(np.ascontiguousarray(pixels).tobytes()).decode(),
            "p": _number("prediction", predicted, 0, DIGITS - 1, integer=True),
            "l": None if label is None else _number("label", label, 0, DIGITS - 1, integer=True)}


def _pixels(raw: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(raw), np.uint8).reshape(CLASS_DRAWING_SIDE, CLASS_DRAWING_SIDE)


class ClassWork:
    """The runs and drawings part of :class:`~cnnviz.classroom.live.session.LiveClasses` (which provides
    ``store``, ``clock``, ``_student`` and ``_teacher``)."""

    max_runs, max_drawings = CLASS_MAX_RUNS, CLASS_MAX_DRAWINGS

    def record_run(self, code, token, run_id, recipe: dict, val_acc, params, seconds, curve) -> bool:
        """Keep a student's finished run (the same ``run_id`` again replaces it); False once the student has
        ``max_runs`` runs kept."""
        code, _ = self._student(code, token)
        kept = check_run(recipe, val_acc, params, seconds, curve)
        return self.store.put_item(code, "run", token, text_id("run", run_id), json.dumps(kept),
                                   self.max_runs) != FULL

    def share_drawing(self, code, token, slot, pixels, predicted, label=None) -> bool:
        """Keep a student's drawing under ``slot`` (a drawing still being drawn keeps its slot); False once the
        student has ``max_drawings`` drawings kept."""
        code, _ = self._student(code, token)
        kept = {**check_drawing_view(pixels, predicted, label), "t": self.clock()}
        return self.store.put_item(code, "drawing", token, text_id("slot", slot), json.dumps(kept),
                                   self.max_drawings) != FULL

    def class_runs(self, code, key) -> tuple[RunView, ...]:
        """Every shared run, the best validation accuracy first (the teacher only)."""
        code, _ = self._teacher(code, key)
        names, out = self.store.students(code), []
        for token, runs in self.store.items(code, "run").items():
            for run, raw in runs.items():
                r = json.loads(raw)
                out.append(RunView(names.get(token, "?"), run, tuple(r["sw"]), r["model"], r["opt"], r["sched"],
                                   r["epochs"], r["lr"], r["acc"], r["params"], r["s"], tuple(r["curve"])))
        return tuple(sorted(out, key=lambda r: (-r.val_acc, r.params, r.nickname.casefold(), r.run)))

    def class_drawings(self, code, key) -> DrawingsView:
        """Every shared drawing, newest first, and the confusion of the labelled ones (the teacher only)."""
        code, _ = self._teacher(code, key)
        names, out = self.store.students(code), []
        for token, drawn in self.store.items(code, "drawing").items():
            for raw in drawn.values():
                d = json.loads(raw)
                out.append(DrawingView(names.get(token, "?"), _pixels(d["px"]), d["p"], d["l"], d["t"]))
        out.sort(key=lambda d: -d.at)
        confusion = [[0] * DIGITS for _ in range(DIGITS)]
        for d in out:
            if d.label is not None:
                confusion[d.label][d.predicted] += 1
        labelled = sum(map(sum, confusion))
        return DrawingsView(tuple(out), tuple(map(tuple, confusion)), labelled,
                            sum(confusion[i][i] for i in range(DIGITS)))
