"""The Training Lab's background job: this session's training jobs (``train_jobs``, reconnected from a
``train_job`` link only for the browser that owns them), start/stop/checkpoint bookkeeping in
``st.session_state``, and the live panel that polls the runner with ``st.fragment``: metrics, where the job
stands (queued with an estimate, or training together with classmates: :mod:`cnnviz.ui.jobs_status`), curves
and the per-epoch figures. The owner token and its cookie are :mod:`cnnviz.ui.jobs`' (it passes them in)."""
from __future__ import annotations

import streamlit as st

from cnnviz.errors import ConfigError
from cnnviz.figures.learning_live import epoch_figures, live_curves_figure
from cnnviz.io.text import md_text
from cnnviz.jobs.kept import INTERRUPTED
from cnnviz.training.history import History
from cnnviz.ui.jobs_status import keep_pace, poll_every, show_job_status
from cnnviz.ui.presenter import presenting
from cnnviz.ui.widgets import device_caption, show_chart, show_error

FOREIGN = ("That training belongs to another session: only the session that started it can watch, stop or "
           "download it. Start your own below.")
GONE = ("That training is no longer on this server (it was forgotten after some hours, or the link is old). Start a "
        "new one below.")
MAX_LINKED = 8  # train_job values looked at (a resumed training is a few jobs)


def linked_jobs(runner, owner: str) -> list[str]:
    """This session's training jobs (``train_jobs``). On the session's first run they come from the link's
    ``train_job`` values that this owner owns (a reconnect); every other value is dropped from the URL and
    leaves a notice (``train_notice``, shown by :func:`show_job_notice`)."""
    ss = st.session_state
    if "train_jobs" not in ss:
        kept, notice = [], None
        for raw in st.query_params.get_all("train_job")[:MAX_LINKED]:
            try:
                runner.status(raw)
            except ConfigError:
                notice = notice or GONE
                continue
            try:
                runner.check_owner(raw, owner)
                kept.append(raw)
            except ConfigError:
                notice = FOREIGN
        if len(st.query_params.get_all("train_job")) > len(kept):
            notice = notice or GONE
        ss["train_jobs"], ss["train_notice"] = kept, notice
        if kept:
            st.query_params["train_job"] = kept
        else:
            st.query_params.pop("train_job", None)
    return ss["train_jobs"]


def show_job_notice() -> None:
    if st.session_state.get("train_notice"):
        st.info(st.session_state["train_notice"], icon=":material/link_off:")


def training_alive(runner, job: str) -> bool:
    """Whether this session's training ``job`` is queued or running; forgets it if the server restarted."""
    ss = st.session_state
    try:
        return runner.status(job).state != "done"
    except ConfigError:  # the server restarted: the job is gone
        ss["train_jobs"], ss["train_notice"], ss["train_run"] = [], GONE, None
        st.query_params.pop("train_job", None)
        return False


def last_checkpoint(runner, jobs: list[str], owner: str) -> bytes | None:
    """The checkpoint of this session's last job (None when there is none or the server forgot the job)."""
    try:
        return runner.checkpoint(jobs[-1], owner=owner) if jobs else None
    except ConfigError:
        return None


def stop_training(runner, jobs: list[str], owner: str) -> None:
    """Stop this session's last training and wait up to 2 s for it to end; the page, which calls this before it
    draws its buttons, then shows them for a stopped run in the same run (no second run of the page)."""
    try:
        runner.stop(jobs[-1], owner=owner)
        runner.join(jobs[-1], timeout=2)
    except ConfigError as err:
        show_error(err)


def started(job: str, resumed: bool, data: str, ds, epochs: int) -> None:
    """Record a submitted job with what it runs on: the panels draw a run's results with its own data set and
    epochs (``train_run``), never with the widgets' current ones."""
    ss = st.session_state
    ss["train_jobs"] = [*ss["train_jobs"], job] if resumed else [job]
    ss["train_run"], ss["train_notice"] = dict(data=data, ds=ds, epochs=epochs), None
    st.query_params["train_job"] = ss["train_jobs"]


@st.cache_resource(max_entries=64, show_spinner=False)  # figures are read-only once built: no copies
def epoch_panels(job: str, n_evals: int, _h, _ds):
    """The per-epoch figures change only when an evaluation arrives: built once per (job, epoch), not on
    every poll (the prediction grid is the slowest figure of the page)."""
    return epoch_figures(_h.evals, _ds)  # prebuilt: the figures of figures.training, no validation pass


@st.cache_resource(max_entries=64, show_spinner=False)  # read-only once built, like epoch_panels
def curves(jobs: tuple, n_progress: int, n_evals: int, _h):
    """The curves change only when a report arrives: a poll that brought nothing new reuses the figure. Built in
    one go and thinned to a few hundred points (:func:`~cnnviz.figures.learning_live.live_curves_figure`): a
    class group's pages rebuild it at nearly every poll."""
    return live_curves_figure(_h)


def fits(ev, ds) -> bool:
    """Whether an evaluation's confusion matrix and predictions belong to data set ``ds`` (its classes, its
    validation images): a reconnected job's results are drawn with the page's data set only when they do."""
    return (ds is not None and len(ev.confusion) == len(ds.classes) and len(ev.predictions) <= len(ds.y_val)
            and all(0 <= int(p) < len(ds.classes) for p in ev.predictions))


def live_panel(runner, ds, epochs: int, active: bool, data: str | None, owner: str) -> None:
    """The Training Lab's live panel: metrics, status, curves and the per-epoch figures of this session's
    jobs (``train_jobs``), polled while a job is queued or running. Drawn with the data set and epochs the job
    ran with (``train_run``, see :func:`started`), never with the widgets' current ones. ``owner``: this browser's
    token (each poll tells the runner the page is open)."""
    ss, jobs = st.session_state, st.session_state["train_jobs"]
    run = ss.get("train_run") or {}
    ds, epochs = run.get("ds", ds), run.get("epochs", epochs)
    # How often the live panel asks the runner (jobs_status.poll_every): faster right after Start, slower while
    # queued, and in a class group at a pace a whole class's pages can afford. When the pace changes (the job
    # starts, its first event arrives) the fragment re-paces itself (jobs_status.repace), without a full run.
    status = runner.status(jobs[-1]) if active else None
    state = status.state if status is not None else None
    ss["train_poll_s"] = poll_s = poll_every(status, state == "running" and not runner.poll(jobs[-1])) \
        if active else None  # the pace this run declares

    @st.fragment(run_every=poll_s)
    def live():
        jobs = ss["train_jobs"]
        if not jobs:
            return st.info("Press **Start** to train; the curves grow here while it learns.",
                           icon=":material/school:")
        runner.seen(owner)  # this page is open: its job is not abandoned
        status, h = runner.status(jobs[-1]), History.from_events([e for j in jobs for e in runner.poll(j)])
        if active and status.state == "done":
            st.rerun(scope="app")  # the job ended on its own or after Stop: re-enable Start/Resume at once
        if active:  # it has started, or its first event is here: the pace of that state
            keep_pace("train_poll_s", poll_every(status, status.state == "running" and not runner.poll(jobs[-1])))
        show_job_status(status, h.last)  # queued: the wait; in a class group: classmates and time left
        # Four metrics in a row cut their values and labels at 1280 px ("12.0 …", "Time …"): three in a row with
        # the speed as a caption, or in presenter mode two rows of two
        four = presenting()
        m, p = ([*st.columns(2), *st.columns(2)] if four else st.columns([1, 1.35, 1])), h.last
        m[0].metric("Epoch", f"{p.epoch:.1f} / {epochs}" if p else "–",
                    help="Passes over the training images so far.")
        m[1].metric("Validation accuracy", f"{h.val_acc:.1%}" if h.val_acc is not None else "–",
                    help="On images the model never trains on (the EMA weights when EMA is on).")
        if four:
            m[2].metric("Samples / s", f"{p.samples_per_s:,.0f}" if p else "–", help="Training images per second.")
        m[-1].metric("Time left", f"{p.eta_s:.0f} s" if p and status.state == "running" else "–",
                     help="Estimated from the speed so far.")
        if not four and p is not None:
            st.caption(f"{p.samples_per_s:,.0f} training images per second.")
        if h.failed and INTERRUPTED in h.end.message:
            at = h.end.checkpoint_step
            st.warning("Interrupted: the server restarted while this training ran. " + (
                f"Its curve and its last checkpoint (step {at}) are kept: press **Resume** to continue from it."
                if at is not None else "It had no checkpoint yet: press **Start** to train again."),
                icon=":material/restart_alt:")
        else:
            (st.error if h.failed else st.success if h.end else st.caption)(h.status())
        if p is not None and getattr(p, "device", None):
            device_caption(p.device)  # what the worker chose, where the job ran (a Ray node included)
        show_chart(curves(tuple(jobs), len(h.progress), len(h.evals), h), "train_curves")
        if run and data is not None and run.get("data") != data:
            st.caption(f"These results are from the training on {md_text(run.get('data'))}; Start trains on the "
                       "data chosen now.")
        if h.evals and not fits(h.evals[-1], ds):
            st.caption("The confusion matrix and predictions of this training need the data set it ran on.")
        elif h.evals:
            confusion, timings, predictions = epoch_panels(jobs[-1], len(h.evals), h, ds)
            c = st.columns(2)
            show_chart(confusion, "train_confusion", c[0])
            show_chart(timings, "train_timings", c[1])
            show_chart(predictions, "train_predictions")
        if active and status.state == "done":
            st.rerun(scope="app")  # stop polling; re-enable Start and Resume

    live()
