"""The Feature Maps page's Embedding tab: the validation set in a model's penultimate layer (the input of its last
Linear), projected to 2-D, coloured by true class, the misclassified images marked. A click on a point shows that
image (true → predicted) beside the chart, with a button that opens it in the Network Explorer.

- **PCA** at once: cached per model key (one forward pass over the validation set and one SVD, for every session).
- **t-SNE** as a job of the app's runner (:class:`cnnviz.inside.TsneJob`: scikit-learn's, seeded), polled by a
  fragment (progress bar, Stop); its coordinates are kept for every session per (model, features' digest,
  perplexity, seed, iterations), so pressing Run again, or another student asking the same, reads the cache.
- **A Training Lab run** of this browser: its initial weights (epoch 0, rebuilt from the recipe's seed) beside its
  last checkpoint, both on the PCA axes fitted on the last (:func:`cnnviz.inside.first_and_last`), cached per
  checkpoint."""
from __future__ import annotations

import hashlib
from collections import OrderedDict

import numpy as np
import streamlit as st
import torch

from cnnviz import ConfigError
from cnnviz.device import pick_device
from cnnviz.figures.embedding import embedding_figure
from cnnviz.inside import TSNE_MAX_PERPLEXITY, TsneJob, TsneResult, TsneStep, embedding, penultimate_features, \
    first_and_last, run_checkpoint, validation_set
from cnnviz.io.data import DATASETS, load_dataset
from cnnviz.io.images import png_bytes
from cnnviz.io.text import md_text
from cnnviz.jobs import get_local_runner, get_runner
from cnnviz.training import MAX_RUNS, runs_of
from cnnviz.ui import jobs
from cnnviz.ui.feature_maps import load
from cnnviz.ui.job_panel import JobLabels, job_result_panel, put_bounded
from cnnviz.ui.state import Setting
from cnnviz.ui.widgets import show_chart, show_error

METHODS = ("PCA", "t-SNE")
OF = {"model": "This page's model", "run": "A Training Lab run: before and after"}
SEED, ITERATIONS = 0, 1_000   # t-SNE's seed and iterations (scikit-learn's default iterations)
KEPT = 32                     # t-SNE results kept, all sessions together (N × 2 floats each)
THUMB_PX = 168                # the clicked image's side on screen

SETTINGS = dict(
    emb_of=Setting("model", "Embedding of", "The model chosen above, or one of this browser's Training Lab runs at "
                   "its first and last checkpoint.", options=tuple(OF), widget="radio"),
    emb_method=Setting("PCA", "Projection", "PCA: the two directions of largest variance, at once; distances "
                       "mean something. t-SNE: keeps each point's neighbours together (a background job of some "
                       "seconds); only neighbourhoods mean something.", options=METHODS, widget="radio"),
    emb_perp=Setting(30, "Perplexity", "t-SNE's effective number of neighbours per point: small keeps tiny "
                     "clusters, large shows the global layout. Below the number of points.",
                     (2, int(TSNE_MAX_PERPLEXITY)), widget="slider"),
    emb_run=Setting(0, "Training run", "This browser's finished trainings (the Training Lab's Runs tab).",
                    (0, MAX_RUNS - 1), widget="selectbox"))


@st.cache_data(max_entries=16, ttl=3600, show_spinner="Projecting the validation set…")
def embedding_view(model_key: str) -> dict:
    """The shipped model's validation embedding as plain values: coords (N, 2), labels, predictions, ratio."""
    model, info = load(model_key)
    xs, ys = validation_set(info.dataset)
    e = embedding(model, xs, ys)
    return dict(coords=e.coords, labels=e.labels, preds=e.predictions, ratio=e.ratio)


@st.cache_resource(max_entries=8, ttl=3600, show_spinner=False)
def features_view(model_key: str) -> tuple[np.ndarray, str]:
    """The shipped model's penultimate features of its validation set (what t-SNE reads) and their digest."""
    model, info = load(model_key)
    f = penultimate_features(model, validation_set(info.dataset)[0]).numpy().astype(np.float32)
    return f, hashlib.sha256(f.tobytes()).hexdigest()[:20]


@st.cache_resource
def _kept() -> OrderedDict:
    """Finished t-SNE coordinates by (model, features' digest, perplexity, seed, iterations), LRU-bounded."""
    return OrderedDict()


@st.cache_data(max_entries=256, ttl=3600, show_spinner=False)
def thumbnail(dataset: str, seed: int, n: int | None, index: int) -> bytes:
    """One validation image as a PNG, enlarged with nearest neighbour to about THUMB_PX pixels."""
    xs = validation_set(dataset)[0] if (seed, n) == (0, None) else load_dataset(dataset, seed, n).x_val
    x = xs[index]
    return png_bytes(x, max(1, THUMB_PX // x.shape[-1]))


@st.cache_data(max_entries=8, ttl=3600, show_spinner="Projecting the run's validation set at both checkpoints…")
def run_view(ckpt: bytes) -> dict:
    """A Training Lab checkpoint's run before and after training, as plain values."""
    rc = run_checkpoint(ckpt)
    if rc.dataset not in DATASETS:
        raise ConfigError("dataset", f"the run trained on {rc.dataset!r}, not a data set shipped with cnnviz")
    data = load_dataset(rc.dataset, rc.seed, rc.n)
    dev = pick_device()
    first, last = first_and_last(rc.first.to(dev), rc.last.to(dev), data.x_val, data.y_val)
    return dict(first=first, last=last, classes=rc.classes, epoch=rc.epoch, dataset=rc.dataset, seed=rc.seed,
                n=rc.n)


def _runner():
    return get_local_runner((TsneJob,))  # this server's runner, behind the limiter (like a distillation)


def _picked(chart_keys: tuple, context) -> int | None:
    """The image index of the point last clicked on one of the charts ``chart_keys`` (its customdata) while they
    showed ``context`` (a model key, a run): kept in the session, since a chart's selection is not sent again on
    every rerun (a button's, say)."""
    ss, keep = st.session_state, f"{chart_keys[0]}_pick"
    for chart in chart_keys:
        state = ss.get(chart)
        points = (state or {}).get("selection", {}).get("points", []) if isinstance(state, dict) else []
        data = points[0].get("customdata") if points and isinstance(points[0], dict) else None
        data = data[0] if isinstance(data, list) and len(data) == 1 else data
        if isinstance(data, int) and not isinstance(data, bool) and data >= 0 and ss.get(f"{chart}_seen") != data:
            ss[f"{chart}_seen"] = data  # a new click (the same selection sent again changes nothing)
            ss[keep] = (context, data)
    kept = ss.get(keep)
    return kept[1] if isinstance(kept, tuple) and kept[0] == context else None


def _detail(where, picked: int | None, labels, preds, classes, dataset: str, seed: int = 0, n: int | None = None,
            explore: dict | None = None, key: str = "emb_open") -> None:
    """The clicked image, true → predicted, and (``explore``: the Explorer's query) the button that opens it."""
    if picked is None or picked >= len(labels):
        where.caption("Click a point to see its image here and open it in the Network Explorer.")
        return
    t, p = int(labels[picked]), int(preds[picked])
    where.image(thumbnail(dataset, seed, n, picked), width=THUMB_PX)
    where.markdown(f"**#{picked}** · true **{md_text(classes[t])}** → predicted **{md_text(classes[p])}** "
                   + (":red[✗]" if t != p else "✓"))
    if explore is None:
        return
    if where.button("Explore", key=key, icon=":material/hub:", help="Open this image with this model in the "
                    "Network Explorer: every layer, and any neuron's arithmetic."):
        ss = st.session_state
        if explore.get("bytes") is not None:
            ss["explorer_model_bytes"] = explore["bytes"]
        ss["net_model"], ss["net_src"], ss["net_idx"], ss["net_before"] = explore["model"], "validation", picked, False
        st.switch_page("pages/network_explorer.py", query_params={"model": explore["model"], "src": "validation",
                                                                  "idx": str(picked)})


TSNE_LABELS = JobLabels(
    what=lambda key: f" (perplexity {key[2]:g}: the setting it was started with)",
    progress=lambda step, what: f"t-SNE: iteration {step.step} of at most {step.total}{what}",
    stopped=lambda steps, what: f"t-SNE stopped after {steps} iterations: nothing kept. Press Run t-SNE to start "
                                "again.",
    stop_help="Stop t-SNE (within an iteration); nothing is kept.",
    done=lambda steps, what: f"t-SNE done: {steps:,} iterations{what}. Kept for every student.")


def _tsne_panel(S, runner, shown) -> bool:
    """This session's t-SNE job: queue position or progress bar and Stop, polled twice a second while it runs; a
    finished result goes to the cache. True while the job for the ``shown`` settings is queued or running."""
    return job_result_panel(runner, S.key("emb_job"), shown, result_type=TsneResult, step_type=TsneStep,
                            put=lambda key, end: put_bounded(_kept(), key, np.array(end.coords, dtype=np.float64),
                                                             KEPT),
                            labels=TSNE_LABELS, stop_key=S.key("emb_stop"), poll_s=0.5)


def _tsne_coords(S, model_key: str, n: int):
    """t-SNE's coordinates for the chosen perplexity from the cache, or None (then the Run button or the job)."""
    perp = S.widget("emb_perp", bounds=(2, min(int(TSNE_MAX_PERPLEXITY), n - 1)))
    f, digest = features_view(model_key)
    key = (model_key, digest, float(perp), SEED, ITERATIONS)
    busy = S.key("emb_job") in st.session_state and _tsne_panel(S, _runner(), key)  # first: it may fill the cache
    coords = _kept().get(key)
    if coords is not None or busy:
        return coords
    b = st.columns([1, 3])
    if b[0].button("Run t-SNE", type="primary", key=S.key("emb_go"), icon=":material/scatter_plot:",
                   help="scikit-learn's t-SNE in the background (kept afterwards for every student)."):
        try:
            jobs.distill_restart(_runner(), S.key("emb_job"), TsneJob(f, perp, SEED, ITERATIONS), info=key)
            st.rerun()  # the job's panel, with its progress bar and Stop
        except ConfigError as err:
            show_error(err)
    b[1].caption(f"t-SNE of {n} points × {f.shape[1]} features, perplexity {perp}, seed {SEED}: some seconds in the "
                 "background, with a progress bar and Stop. Once done it is kept for everyone.")
    return None


def embedding_tab(S, model_key: str | None, info) -> None:
    """Draw the tab; ``model_key`` None for an uploaded model (no validation set of its own to project)."""
    st.markdown("Every validation image as one point: the **penultimate layer**'s values (what the classifier's "
                "last Linear layer reads) squeezed to two dimensions. Images the network finds alike sit close "
                "together; **×** marks an image it gets wrong. Click a point to see its image.")
    c = st.columns([3, 2])
    of = S.widget("emb_of", c[0], horizontal=True, format_func=OF.get)
    if of == "run":
        return run_panel(S)
    if model_key is None:
        st.info("The embedding is drawn for the shipped models (their validation sets ship with cnnviz).")
        return
    method = S.widget("emb_method", c[1], horizontal=True)
    v = embedding_view(model_key)
    n = len(v["labels"])
    coords, ratio = v["coords"], v["ratio"]
    if method == "t-SNE":
        coords = _tsne_coords(S, model_key, n)
        if coords is None:
            return
    wrong = int((v["preds"] != v["labels"]).sum())
    chart, side = st.columns([5, 2])
    picked = _picked((S.key("embed_fig"),), (model_key, method))
    show_chart(embedding_figure(torch.as_tensor(coords), v["labels"], v["preds"], info.classes, ratio,
                                title=f"{n} validation images · {wrong} misclassified · {method}", method=method,
                                selected=picked), S.key("embed_fig"), chart, on_select="rerun", selection_mode="points")
    _detail(side, picked, v["labels"], v["preds"], info.classes, info.dataset, explore=dict(model=model_key))
    if method == "PCA":
        st.caption(f"The two axes keep {sum(ratio):.0%} of the features' variance: points far apart really differ, "
                   f"points close together may still differ along the dimensions PCA dropped. Click a class in the "
                   f"legend to hide it. Model: {md_text(info.short)}.")
    else:
        st.caption(f"t-SNE keeps neighbours together and pulls clusters apart: the distances *between* clusters and "
                   f"their sizes mean little. Seed {SEED}, {ITERATIONS} iterations at most. Model: "
                   f"{md_text(info.short)}.")


def run_panel(S) -> None:
    """A Training Lab run of this browser: its initial weights beside its last checkpoint, same PCA axes."""
    runner, owner = get_runner(), jobs.owner_token()
    history = runs_of(runner, owner)
    runs = [(i, r) for i, r in enumerate(history) if r.ended and r.epoch and r.epoch[0] == 1
            and r.recipe.get("dataset") in DATASETS]
    if not runs:
        st.info("No finished training of this browser yet. Train one in the **Training Lab** (from scratch, on a "
                "shipped data set), then come back: its validation images at epoch 0 and at its last checkpoint "
                "are drawn side by side.", icon=":material/model_training:")
        return
    jobs.remember_owner()
    pick = S.widget("emb_run", options=list(range(len(runs))), format_func=lambda k: _run_title(*runs[k]))
    run = runs[min(pick, len(runs) - 1)][1]
    try:
        ckpt = runner.checkpoint(run.job, owner)
        if not ckpt:
            raise ConfigError("checkpoint", "this run kept no checkpoint (it stopped before its first epoch ended)")
        v = run_view(ckpt)
    except ConfigError as err:
        return show_error(err)
    classes, first, last = v["classes"], v["first"], v["last"]
    picked = _picked((S.key("emb_last_fig"), S.key("emb_first_fig")), run.job)
    cols = st.columns(2)
    for col, e, name, title in ((cols[0], first, "emb_first_fig", "Epoch 0 · initial weights"),
                                (cols[1], last, "emb_last_fig", f"Epoch {v['epoch']} · last checkpoint")):
        acc = 1 - float(e.wrong.float().mean())
        show_chart(embedding_figure(e.coords, e.labels, e.predictions, classes, e.ratio, height=430, selected=picked,
                                    title=f"{title} · {acc:.0%} right", legend=col is cols[1],
                                    mark_wrong=e is last),
                   S.key(name), col, on_select="rerun", selection_mode="points")
    st.caption(f"Both on the PCA axes fitted at the last checkpoint (they keep {sum(last.ratio):.0%} of its features' "
               f"variance, {sum(first.ratio):.0%} of the initial weights'). Before training the classes lie mixed in one "
               f"cloud (the initial weights are right {1 - float(first.wrong.float().mean()):.0%} of the time: no × "
               "marks there); after it, each class has its own region and **×** marks what the last checkpoint gets "
               "wrong.")
    same_split = v["dataset"] in ("digits", "shapes") and (v["seed"], v["n"]) == (0, None)
    _detail(st.container(), picked, last.labels, last.predictions, classes, v["dataset"], v["seed"], v["n"],
            explore=dict(model="session", bytes=ckpt) if same_split else None, key="emb_run_open")


def _run_title(i: int, r) -> str:
    acc = f" · {r.final_val_acc:.0%}" if r.final_val_acc is not None else ""
    return f"Run {i + 1} · {str(r.recipe.get('model', '?'))[:24]} on {r.recipe.get('dataset')} · {len(r.epoch)} " \
           f"epochs{acc}"  # a select box's option: plain text
