"""The Feature Maps page's "Feature visualisation" tab: the image that excites one channel of a conv layer most,
found by gradient ascent from noise (:func:`cnnviz.inside.visualise_channel`), beside the validation patches that
excite it most (the Network Explorer's :func:`cnnviz.explorer.top_patches`).

Server cost: the ascent runs only when the Visualise button is pressed; its result is kept for every session per
(model, layer, channel, settings), so a rerun that finds it reads a cache. Its cost is estimated by arithmetic first
(:func:`cnnviz.inside.feature_vis_job.estimate_seconds`: steps × images × the model's FLOPs): up to about a second it
runs in the page's run, on a private copy of the model, with a progress bar (Cancel reruns the page, which stops it
at its next progress update); above, it is a job of the app's runner (:class:`FeatureVisJob`, a child process at a
lower priority, one job per browser like a training) that a fragment polls every second (as the search's panel
does) for its progress bar and its Stop button, and whose result goes to the same cache."""
from __future__ import annotations

import copy
from collections import OrderedDict

import streamlit as st
import torch.nn as nn

from cnnviz import ConfigError
from cnnviz.explorer import top_patches
from cnnviz.figures.feature_vis import feature_vis_figure
from cnnviz.figures.network import top_patches_figure
from cnnviz.inside import REGULARISERS, channel_means, conv_layers, validation_set, visualise_channel
from cnnviz.inside.feature_vis_job import INLINE_MAX_S, FeatureVisDone, FeatureVisJob, FeatureVisStep, \
    estimate_seconds
from cnnviz.inside.names import layer_titles
from cnnviz.jobs import get_local_runner
from cnnviz.inside.shipped import VALIDATION_SETS
from cnnviz.limits import FEATURE_VIS_MAX_IMAGES
from cnnviz.ui.feature_maps import load
from cnnviz.ui import jobs
from cnnviz.ui.job_panel import JobLabels, job_result_panel, put_bounded
from cnnviz.ui.presenter import columns
from cnnviz.ui.state import Setting
from cnnviz.ui.widgets import show_chart, show_error

KEPT = 64  # visualisations kept, all sessions together (a few KB each)

SETTINGS = dict(
    fv_layer=Setting("", "Conv layer", "The layer whose channel is visualised (default: the last conv layer, "
                     "whose channels respond to the largest patterns).", widget="selectbox"),
    fv_ch=Setting(0, "Channel", "Which of the layer's output channels to excite.", (0, 255)),
    fv_steps=Setting(64, "Steps", "Gradient-ascent steps: more steps, a stronger (and slower) result.", (8, 256),
                     widget="slider"),
    fv_images=Setting(1, "Images", "Several images per channel, pushed apart by a diversity penalty, show different "
                      "ways to excite it.", (1, FEATURE_VIS_MAX_IMAGES), widget="slider"),
    fv_jitter=Setting(True, "Jitter", "Roll the image by a pixel or two every step. Without it the ascent finds "
                      "pixel-exact high-frequency patterns the network reacts to but nobody sees as a picture."),
    fv_robust=Setting(True, "Scale & rotate", "A small random zoom and rotation every step: the pattern must survive "
                      "the small changes real objects go through, so it looks more like one."),
    fv_fourier=Setting(True, "Fourier (1/f)", "Optimise the image's frequencies scaled by 1/f instead of its pixels, "
                       "so coarse shapes learn as fast as fine noise (a decorrelated parameterisation)."),
    fv_blur=Setting(False, "Blur", "Blur the image a little every few steps: a blunt penalty on high frequencies "
                    "that smooths the result."))


@st.cache_resource
def _kept() -> OrderedDict:
    """The finished visualisations by (model, layer, channel, settings), shared by every session, LRU-bounded."""
    return OrderedDict()


@st.cache_data(max_entries=32, ttl=3600, show_spinner="Searching the validation set…")
def _validation_view(model_key: str, layer: str, ch: int) -> dict:
    """The channel's strongest validation patches and the largest mean activation of any validation image."""
    model, info = load(model_key)
    xs, ys = validation_set(info.dataset)
    means = channel_means(model, layer, xs)[:, ch]
    best = int(means.argmax())
    patches = top_patches(model, xs, layer, ch, k=4)
    return dict(patches=patches, best=float(means[best]), best_index=best,
                classes=[info.classes[int(ys[p.image])] for p in patches])


def _runner():
    return get_local_runner((FeatureVisJob,))  # the distillations' runner: this server's, behind the limiter


def _inline(model, layer, ch, shape, steps, images, flags, go_box, cancel, S):
    """The ascent in this page run (estimated under a second), with a progress bar; None after a ConfigError."""
    # pressing Cancel reruns the page: the ascent stops at its next progress update
    cancel.button("Cancel", key=S.key("fv_cancel"), icon=":material/stop:", help="Stop the ascent.")
    try:
        bar = st.progress(0.0, text="Starting…")
        every = max(1, steps // 32)
        result = visualise_channel(copy.deepcopy(model), layer, ch, shape, steps=steps, images=images, **flags,
                                   progress=lambda s, n: (s % every == 0 or s == n) and bar.progress(
                                       s / n, text=f"Step {s} of {n}"))
    except ConfigError as err:
        show_error(err)
        return None
    bar.empty()
    go_box.empty()
    cancel.empty()
    return result


FV_LABELS = JobLabels(
    what=lambda key: f" (layer {key[1]}, channel {key[2]}: the settings it was started with)",
    progress=lambda step, what: f"Step {step.step} of {step.total}, about {step.eta_s:.0f} s left{what}",
    stopped=lambda steps, what: f"Stopped after {steps} steps{what}: nothing kept. Press Visualise to start again.",
    stop_help="Stop the ascent (within a step); nothing is kept.",
    done=lambda steps, what: f"Done: {steps} steps{what}. Kept for every student.")


def _job_panel(S, runner, shown) -> bool:
    """This session's background visualisation: its queue position or progress bar and Stop, polled every second
    while it runs; when it has finished, its result goes to the cache (and the page reruns to show it). True while
    the job for the ``shown`` settings is queued or running."""
    return job_result_panel(runner, S.key("fv_job"), shown, result_type=FeatureVisDone, step_type=FeatureVisStep,
                            put=lambda key, done: put_bounded(_kept(), key, done.result, KEPT),
                            labels=FV_LABELS, stop_key=S.key("fv_stop"), poll_s=1.0)


def feature_vis_tab(S, model_key: str | None, model: nn.Module, info) -> None:
    """Draw the tab; ``model_key`` None for an uploaded model (no validation set to compare with)."""
    st.markdown("The image that makes one channel fire most: start from noise and follow the gradient of the "
                "channel's **mean activation** with respect to the input pixels. Switch the regularisers off to see "
                "why they are needed.")
    layers = conv_layers(model)
    if not layers:
        st.info("This model has no conv layer to visualise.")
        return
    if S["fv_layer"] not in layers:
        st.session_state[S.key("fv_layer")] = layers[-1]
    titles = layer_titles(model)
    c = st.columns([3, 2, 3, 3])
    layer = S.widget("fv_layer", c[0], options=layers, format_func=lambda n: titles.get(n, n))
    n_ch = dict(model.named_modules())[layer].out_channels
    st.session_state[S.key("fv_ch")] = min(S["fv_ch"], n_ch - 1)
    ch = S.widget("fv_ch", c[1], bounds=(0, n_ch - 1))
    steps, images = S.widget("fv_steps", c[2]), S.widget("fv_images", c[3])
    t = columns(len(REGULARISERS), 2)  # presenter mode: two switches a row, whole labels
    flags = {k: S.widget(f"fv_{k}", t[n % len(t)]) for n, k in enumerate(REGULARISERS)}
    shape = (info.kwargs["in_channels"], info.kwargs["size"], info.kwargs["size"])
    key = (model_key or f"upload:{id(model)}", layer, ch, steps, images, tuple(flags.items()))
    kept = _kept()
    busy = S.key("fv_job") in st.session_state and _job_panel(S, _runner(), key)  # first: it may fill the cache
    result = kept.get(key)
    if result is None and not busy:
        try:
            est = estimate_seconds(model, shape, steps, images)
        except ConfigError as err:
            show_error(err)
            return
        as_job = est > INLINE_MAX_S
        b = st.columns([1, 1, 3])
        go_box, cancel = b[0].empty(), b[1].empty()
        pressed = go_box.button("Visualise", type="primary", key=S.key("fv_go"), icon=":material/auto_awesome:",
                                help="Run the gradient ascent (kept afterwards for every student)." + (
                                    f" Estimated {est:.0f} s: it runs in the background." if as_job else ""))
        if as_job:
            b[2].caption(f"About {est:.0f} s by arithmetic ({steps} steps × {images} image(s) × this model's FLOPs): "
                         "runs in the background with a progress bar and Stop.")
        if pressed and as_job:
            try:
                cfg = FeatureVisJob(layer, ch, shape, steps, images, **flags, model_key=model_key,
                                    model=None if model_key else model)
                jobs.distill_restart(_runner(), S.key("fv_job"), cfg, info=key)
                st.rerun()  # the job's panel, with its progress bar and Stop
            except ConfigError as err:
                show_error(err)
        elif pressed:
            result = _inline(model, layer, ch, shape, steps, images, flags, go_box, cancel, S)
            if result is None:
                return
            put_bounded(kept, key, result, KEPT)
    if result is None:
        if not busy:
            st.info("Press **Visualise** to run the ascent for this channel and these settings.")
    else:
        kept.move_to_end(key)
        show_chart(feature_vis_figure(result.images, result.activation, height=210), S.key("fv_fig"))
        st.caption("Colours saturate: the ascent drives pixels to the ends of the input range. Patterns repeated "
                   "across the image are what the channel looks for.")
    if model_key is None or info.dataset not in VALIDATION_SETS:
        st.caption("No validation set ships for this model: nothing to compare with.")
        return
    v = _validation_view(model_key, layer, ch)
    m = st.columns(2)
    m[0].metric("Visualisation's mean activation", "—" if result is None else f"{max(result.activation):.2f}",
                help="The channel's mean over its feature map, for the optimised image (the best one of several).")
    m[1].metric("Best validation image", f"{v['best']:.2f}", help=f"Validation image #{v['best_index']}: the largest "
                "mean activation of this channel (averaged over its whole feature map) in the validation set.")
    st.markdown("**Strongest validation patches**: receptive fields at the channel's peak, with the peak's value.")
    show_chart(top_patches_figure(v["patches"], v["classes"]), S.key("fv_patches"))
