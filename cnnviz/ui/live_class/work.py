"""What a student makes during a live class, handed to the class (the teacher's dashboard only): a finished
Training Lab run and the digits drawn in the Network Explorer. One call from each page; outside a class each
does nothing (it reads only this session).

The values come from the server: the run from the runner's own recipe and events of this browser's job, the
drawing from the pad's intensities through the drawing model (``recognise_drawing``) on this server. The engine
checks and bounds them again (cnnviz.classroom.live.work)."""
from __future__ import annotations

import time

import numpy as np
import streamlit as st
import torch

from cnnviz.errors import ConfigError
from cnnviz.limits import CLASS_CURVE_POINTS
from cnnviz.ui.live_class.panels import STUDENT, _remembered, engine

RUN_KEPT = "live_run_kept"      # session: the job id this browser last handed to its class
DRAWN_NOW = "live_drawing"      # session: (slot, ink mask, label) of the drawing being drawn
NO_LABEL = "not said"
# The Training Lab's switches as its job's recipe (TrainConfig's fields) holds them.
SWITCH_FIELDS = dict(flip=lambda r: bool(r.get("augment_flip")), crop=lambda r: (r.get("augment_crop") or 0) > 0,
                     noise=lambda r: (r.get("augment_noise") or 0) > 0,
                     ls=lambda r: (r.get("label_smoothing") or 0) > 0, ema=lambda r: bool(r.get("ema")),
                     clip=lambda r: (r.get("grad_clip") or 0) > 0, early=lambda r: (r.get("patience") or 0) > 0,
                     balanced=lambda r: bool(r.get("balanced")), amp=lambda r: r.get("amp", "off") != "off")


@st.cache_resource(max_entries=32, show_spinner=False)
def _params(model: str, in_channels: int, classes: int, size: int, width: int) -> int:
    from cnnviz.architecture.models import build_model
    return sum(p.numel() for p in build_model(model, in_channels, classes, size, width=width).parameters())


def run_record(recipe: dict, ds, history) -> dict:
    """The class's record of a finished run: the recipe's switches and choices, the final validation accuracy,
    the parameters of its model on ``ds``, the seconds its epochs took, the validation accuracy per epoch."""
    curve = [e.val_acc for e in history.evals][-CLASS_CURVE_POINTS:]
    return dict(recipe={"switches": {k: f(recipe) for k, f in SWITCH_FIELDS.items()}, "model": recipe.get("model"),
                        "optimizer": recipe.get("optimizer"), "schedule": recipe.get("schedule"),
                        "epochs": recipe.get("epochs"), "lr": recipe.get("lr")},
                val_acc=history.val_acc, curve=curve,
                params=_params(recipe.get("model"), ds.in_channels, ds.num_classes, ds.size,
                               int(recipe.get("width") or 16)),
                seconds=sum(sum(e.timings.values()) for e in history.evals))


def record_run(runner, owner: str) -> None:
    """For the Training Lab, after its live panel: once this browser's last run has finished (not failed), hand
    it to its class. Nothing outside a class, while it trains, or for a run already handed over."""
    pair, ss = _remembered(STUDENT), st.session_state
    jobs, run = ss.get("train_jobs") or [], ss.get("train_run") or {}
    if pair is None or not jobs or ss.get(RUN_KEPT) == jobs[-1] or run.get("ds") is None:
        return
    from cnnviz.jobs.events import Finished
    from cnnviz.training.history import History
    try:
        if runner.status(jobs[-1]).state != "done":
            return
        h = History.from_events([e for j in jobs for e in runner.poll(j)])
        if isinstance(h.end, Finished) and h.evals:
            engine().record_run(*pair, jobs[-1], **run_record(runner.recipe(jobs[-1], owner), run["ds"], h))
    except ConfigError:
        pass  # the class ended, or the student's cap: the Training Lab works as alone
    ss[RUN_KEPT] = jobs[-1]


def _slot(ink: np.ndarray, label) -> str | None:
    """The drawing's slot: the same while strokes are added to it (its ink grows), a new one for a new drawing;
    None when nothing changed since it was shared."""
    was = st.session_state.get(DRAWN_NOW)
    if was is not None and was[1].shape == ink.shape and not (was[1] & ~ink).any():
        if (was[1] == ink).all() and was[2] == label:
            return None
        return was[0]
    return f"d{time.time_ns() // 1_000_000}"


def share_drawing(where, drawing) -> None:
    """For the Network Explorer's drawing path, under the pad: in a class, a "share my drawing" checkbox (on) and
    "it is the digit ..." (optional); each drawing, with the drawing model's reading, goes to the teacher."""
    pair = _remembered(STUDENT)
    if pair is None or not drawing:
        return
    share = where.checkbox("Share my drawing with the teacher", value=True, key="live_share",
                           help="Your class's teacher (no one else) sees this drawing, what the drawing model read "
                                "and the digit you say it is, with your nickname. Off: this drawing stays here.")
    said = where.selectbox("It is the digit", (NO_LABEL, *range(10)), key="live_said", disabled=not share,
                           help="Optional: the teacher compares what you meant with what the model read.")
    if not share:
        return
    from cnnviz.explorer.drawing import pad_image, preprocess, recognise_drawing
    try:
        image = pad_image(list(drawing))
        label = None if said == NO_LABEL else int(said)
        slot = _slot(image > 0, label)
        if slot is None:
            return
        view = preprocess(image)[0, 0]
        pixels = (view.clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()
        predicted = int(recognise_drawing(image).argmax())
        kept = engine().share_drawing(*pair, slot, pixels, predicted, label)
    except ConfigError:
        return  # an empty pad, or the class ended
    st.session_state[DRAWN_NOW] = (slot, image > 0, label)
    if not kept:
        where.caption("The teacher already has as many of your drawings as a class keeps.")
