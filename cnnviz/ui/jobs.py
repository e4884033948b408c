"""Background-job panels: this session's training (Training Lab) and distillation (Compression) jobs, their
start/stop bookkeeping in ``st.session_state`` and the live panels that poll the runner with ``st.fragment``."""
from __future__ import annotations

import streamlit as st

from cnnviz.compression.distill import FitEvent
from cnnviz.errors import ConfigError
from cnnviz.figures import compression as compression_figs
from cnnviz.figures import training as figs
from cnnviz.io.text import md_text
from cnnviz.training.events import Failed, Finished
from cnnviz.training.history import History
from cnnviz.ui.widgets import device_caption, show_chart


def training_alive(runner, job: str) -> bool:
    """Whether this session's training ``job`` is queued or running; forgets it if the server restarted."""
    ss = st.session_state
    try:
        return runner.status(job).state != "done"
    except ConfigError:  # the server restarted: the job is gone
        ss["train_jobs"] = []
        st.query_params.pop("train_job", None)
        return False


@st.cache_resource(max_entries=64, show_spinner=False)  # figures are read-only once built: no copies
def epoch_panels(job: str, n_evals: int, _h, _ds):
    """The per-epoch figures change only when an evaluation arrives: built once per (job, epoch), not on
    every poll (the prediction grid alone takes ~250 ms to build)."""
    last = _h.evals[-1]
    return (figs.confusion_figure(last.confusion, _ds.classes), figs.timings_figure(_h.evals),
            figs.prediction_grid(_ds.x_val.numpy(), _ds.y_val.numpy(), last.predictions, _ds.classes))


def training_panel(runner, ds, epochs: int, active: bool) -> None:
    """The Training Lab's live panel: metrics, status, curves and the per-epoch figures of this session's
    jobs (``train_jobs``), polled while a job is queued or running."""
    ss, jobs = st.session_state, st.session_state["train_jobs"]
    # Poll every 1.5 s while training; a queued job changes slowly, so its page asks every 5 s. Right after Start,
    # until the job's first event (within a second, from the runner's warm spare child), it asks every 0.25 s.
    state = runner.status(jobs[-1]).state if active else None
    queued_poll = state == "queued"
    starting = state == "running" and not runner.poll(jobs[-1])
    poll_s = (5.0 if queued_poll else 0.25 if starting else 1.5) if active else None

    @st.fragment(run_every=poll_s)
    def live():
        jobs = ss["train_jobs"]
        if not jobs:
            return st.info("Press **Start** to train; the curves grow here while it learns.",
                           icon=":material/school:")
        status, h = runner.status(jobs[-1]), History.from_events([e for j in jobs for e in runner.poll(j)])
        if active and status.state == "done":
            st.rerun(scope="app")  # the job ended on its own or after Stop: re-enable Start/Resume at once
        if queued_poll and status.state != "queued":
            st.rerun(scope="app")  # it has started: poll at the running pace
        if starting and runner.poll(jobs[-1]):
            st.rerun(scope="app")  # its first event is here: poll at the running pace
        if status.state == "queued":
            st.info(f"Waiting for a free slot: position {status.queue_position} in the queue "
                    f"({status.running_jobs} of {status.capacity} trainings running).",
                    icon=":material/hourglass_top:")
        m, p = st.columns(4), h.last
        m[0].metric("Epoch", f"{p.epoch:.1f} / {epochs}" if p else "–",
                    help="Passes over the training images so far.")
        m[1].metric("Validation accuracy", f"{h.val_acc:.1%}" if h.val_acc is not None else "–",
                    help="On images the model never trains on (the EMA weights when EMA is on).")
        m[2].metric("Samples / s", f"{p.samples_per_s:,.0f}" if p else "–", help="Training images per second.")
        m[3].metric("Time left", f"{p.eta_s:.0f} s" if p and status.state == "running" else "–",
                    help="Estimated from the speed so far.")
        (st.error if h.failed else st.success if h.end else st.caption)(h.status())
        if p is not None and getattr(p, "device", None):
            device_caption(p.device)  # what the worker chose, where the job ran (a Ray node included)
        show_chart(figs.curves_figure(h), "train_curves")
        if h.evals:
            confusion, timings, predictions = epoch_panels(jobs[-1], len(h.evals), h, ds)
            c = st.columns(2)
            show_chart(confusion, "train_confusion", c[0])
            show_chart(timings, "train_timings", c[1])
            show_chart(predictions, "train_predictions")
        if active and status.state == "done":
            st.rerun(scope="app")  # stop polling; re-enable Start and Resume

    live()


# ---------------------------------------------------------------- distillation (Compression page)
def distill_state(runner, key: str) -> str | None:
    """"queued", "running", "done", or None (no job, or the server restarted and forgot it)."""
    if key not in st.session_state:
        return None
    try:
        return runner.status(st.session_state[key][0]).state
    except ConfigError:
        del st.session_state[key]
        return None


def distill_stop(runner, key: str, wait_s: float) -> None:
    """Stop this session's job, if the runner still knows it (a restarted server does not)."""
    if key in st.session_state:
        try:
            runner.stop(st.session_state[key][0])
            runner.join(st.session_state[key][0], timeout=wait_s)
        except ConfigError:
            del st.session_state[key]


def distill_restart(runner, key: str, owner: str, cfg) -> None:
    """Stop this session's job (one per session), then submit ``cfg``; (job id, epochs) go to the session."""
    distill_stop(runner, key, 10)
    st.session_state[key] = (runner.submit(cfg, owner=owner), cfg.epochs)


def distill_panel(runner, key: str, state: str | None, t_acc: float) -> None:
    """The distillation job's live panel: queue position, errors, epochs done and both students' curves
    (polled every 1.5 s while the job is queued or running)."""
    @st.fragment(run_every=1.5 if state in ("queued", "running") else None)
    def live():
        now = distill_state(runner, key)
        if now is None:
            return st.info("Press Start to distil a student from the teacher.", icon=":material/school:")
        job, n_epochs = st.session_state[key]
        events, status = runner.poll(job), runner.status(job)
        if now == "queued":
            st.info(f"Waiting for a free slot: number {status.queue_position} in the queue ({status.running_jobs} "
                    f"of {status.capacity} jobs training).", icon=":material/hourglass_top:")
        if events and isinstance(events[-1], Failed):
            st.error(md_text(events[-1].message), icon=":material/error:")
        fits = [e for e in events if isinstance(e, FitEvent)]
        end = events[-1].reason if events and isinstance(events[-1], Finished) else None
        st.caption(f"{len(fits) // 2} of {n_epochs} epochs — {end or now}")
        show_chart(compression_figs.distill_figure(fits, t_acc), "compress_distill")
        if state in ("queued", "running") and now == "done":
            st.rerun()  # re-enable the controls' state at once
    live()
