"""Watch the network learn (Training Lab): the first layer's kernels and its feature maps of one fixed validation
image, redrawn from the run's latest snapshot (:mod:`cnnviz.training.live`) at each poll while it trains. The
figures are built once per snapshot (cached by job and step) and polled every ``POLL_S`` seconds, or at the live
panel's slower pace in a class group (:func:`cnnviz.ui.jobs_status.poll_every`)."""
from __future__ import annotations

import streamlit as st

from cnnviz.errors import ConfigError
from cnnviz.figures.learning_live import kernels_figure, maps_figure
from cnnviz.training.live import latest
from cnnviz.ui.jobs_status import keep_pace, poll_every
from cnnviz.ui.presenter import columns
from cnnviz.ui.widgets import show_chart

POLL_S = 1.5  # the curves' pace


@st.cache_resource(max_entries=16, show_spinner=False)  # read-only once built: one pair per (job, step)
def figures(job: str, step: int, _snap):
    return kernels_figure(_snap, prebuilt=True), maps_figure(_snap, prebuilt=True)


def pace(runner, job: str) -> float | None:
    """Seconds between polls: every ``POLL_S``, or at the live panel's slower pace in a class group
    (:func:`cnnviz.ui.jobs_status.poll_every`); None when the server forgot the job (a restart)."""
    try:
        return max(POLL_S, poll_every(runner.status(job), False))
    except ConfigError:
        return None


def panel(runner, active: bool) -> None:
    """The live kernels and maps of this session's last run (nothing before its first snapshot)."""
    jobs = st.session_state.get("train_jobs") or []
    if not jobs:
        return

    ss = st.session_state
    ss["train_live_poll_s"] = every = pace(runner, jobs[-1]) if active else None  # the pace this run declares

    @st.fragment(run_every=every)
    def live():
        if active and (now := pace(runner, jobs[-1])) is not None:
            keep_pace("train_live_poll_s", now)  # the job started in a class group: its pace, without a full run
        snap = latest(runner.poll(jobs[-1]))
        if snap is None:
            return st.caption("The first layer's kernels appear here at the run's first report.")
        kernels, maps = figures(jobs[-1], snap.step, snap)
        c = columns(2, 1)
        show_chart(kernels, "train_live_kernels", c[0])
        show_chart(maps, "train_live_maps", c[1])
        c_in, (h, w) = snap.kernels.shape[1], snap.out_shape[-2:]  # kernels (K, C, k, k); out_shape (C', H', W')
        small = "" if tuple(snap.maps.shape[-2:]) == (h, w) else f" (its {h}×{w} maps averaged down to " \
            f"{snap.maps.shape[-2]}×{snap.maps.shape[-1]})"
        st.caption(f"Step {snap.step:,}, epoch {snap.epoch:.1f}. Each kernel starts as random noise and turns into a "
                   "detector (edges, blobs) as the run learns" + (f"; a column per kernel, one row per input channel "
                   f"({c_in})" if c_in > 1 else "") + f". The maps show what each finds in one fixed image{small}; "
                   "red positive, blue negative.")

    with st.expander("Watch the network learn: the first layer, live", expanded=True):
        live()
