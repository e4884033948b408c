"""Background-job panels: this session's training (Training Lab) job and its live panel that polls the runner with
``st.fragment``, and the start/stop/reconnect bookkeeping in ``st.session_state`` that the distillation
(cnnviz.ui.compression.panels) and the search (cnnviz.ui.architecture_lab.search) share.

Ownership: a job belongs to the browser that started it, and a browser has one job at a time, of any kind (the
runner says where the first one is when a second tab presses Start). Every live panel tells the runner the page
is open (``runner.seen``): the job of a browser that has closed its tabs is stopped after a while. The session's owner token
(:func:`owner_token`) lives in ``st.session_state`` and in a same-site cookie of that browser (so a reload, or
a replica's death that sends the browser to another replica, keeps it), never in a URL; the runner checks it on
stop, checkpoint and resume. A ``train_job`` link reconnects only the browser that owns the job; any other
value (a classmate's job, a job the server forgot, garbage) is dropped from the URL with a short notice. The
distillation and the search reconnect the same way from ``distill_job`` and ``search_job`` (:func:`linked_job`).
The runner keeps jobs in the job storage, so a link still reconnects after the server restarts: a job that was
running then reads as interrupted, with its curve, its checkpoint and Resume."""
from __future__ import annotations

import streamlit as st

from cnnviz.errors import ConfigError
from cnnviz.figures import training as figs
from cnnviz.io.text import md_text
from cnnviz.jobs.factory import started_local_runner
from cnnviz.jobs.ids import OWNER, new_owner
from cnnviz.jobs.events import Failed
from cnnviz.jobs.kept import INTERRUPTED
from cnnviz.training.history import History
from cnnviz.ui.presenter import presenting
from cnnviz.ui.widgets import device_caption, show_chart, show_error


FOREIGN = ("That training belongs to another session: only the session that started it can watch, stop or "
           "download it. Start your own below.")
GONE = ("That training is no longer on this server (it was forgotten after some hours, or the link is old). Start a "
        "new one below.")
MAX_LINKED = 8  # train_job values looked at (a resumed training is a few jobs)
JOB_FOREIGN = ("That job belongs to another session: only the session that started it can watch or stop it. "
               "Start your own below.")
JOB_GONE = "That job is no longer on this server (it was forgotten, or the link is old). Start a new one below."
WHERE = {"training": "the Training Lab", "distillation": "the Compression page's Knowledge distillation tab",
         "architecture search": "the Architecture Lab's Search (NAS) tab"}  # job kind's title -> where its panel is


OWNER_COOKIE = "cnnviz_owner"
OWNER_DAYS = 7


def _cookie() -> str | None:
    try:
        value = st.context.cookies.get(OWNER_COOKIE)  # as the browser sent it when this session connected
    except Exception:  # noqa: BLE001 - no browser context (bare mode): no cookie
        return None
    return value if isinstance(value, str) and OWNER.fullmatch(value) else None


def owner_token() -> str:
    """This browser's owner token (256 random bits): the session's, else the browser's cookie (set by
    :func:`remember_owner` in an earlier session), else a new one. Never in the URL."""
    if not isinstance(st.session_state.get("job_owner"), str):
        st.session_state["job_owner"] = _cookie() or new_owner()
    return st.session_state["job_owner"]


def heartbeat() -> None:
    """Every page run of a browser that has an owner token keeps its jobs alive (a student may watch another page
    while training); the runner stops only the job of a browser with no page run for a while."""
    runner = started_local_runner()  # never starts one: a process with no runner has nothing to keep alive
    token = st.session_state.get("job_owner") or _cookie()
    if runner is not None and isinstance(token, str) and OWNER.fullmatch(token):
        runner.seen(token)


def remember_owner() -> None:
    """Keep the owner token in this browser (a same-site cookie, written by a zero-height frame in the sidebar)
    while the session has a job, so its ``train_job`` link still gives it control after a reload or a replica's
    death. The token is ours (random, checked against OWNER): nothing from a user goes into the script."""
    token = owner_token()
    if _cookie() == token or not OWNER.fullmatch(token):
        return
    st.sidebar.iframe(f"<script>parent.document.cookie = '{OWNER_COOKIE}={token}; path=/; max-age="
                      f"{OWNER_DAYS * 86400}; SameSite=Strict' + (parent.location.protocol === 'https:' ? '; Secure' : '');"
                      "</script>", height=1)


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
    try:
        runner.stop(jobs[-1], owner=owner)
        runner.join(jobs[-1], timeout=2)
    except ConfigError as err:
        show_error(err)
        return
    st.rerun()


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
    last = _h.evals[-1]
    return (figs.confusion_figure(last.confusion, _ds.classes), figs.timings_figure(_h.evals),
            figs.prediction_grid(_ds.x_val.numpy(), _ds.y_val.numpy(), last.predictions, _ds.classes))


@st.cache_resource(max_entries=64, show_spinner=False)  # read-only once built, like epoch_panels
def curves(jobs: tuple, n_progress: int, n_evals: int, _h):
    """The curves change only when a report arrives: a poll that brought nothing new reuses the figure."""
    return figs.curves_figure(_h)


def fits(ev, ds) -> bool:
    """Whether an evaluation's confusion matrix and predictions belong to data set ``ds`` (its classes, its
    validation images): a reconnected job's results are drawn with the page's data set only when they do."""
    return (ds is not None and len(ev.confusion) == len(ds.classes) and len(ev.predictions) <= len(ds.y_val)
            and all(0 <= int(p) < len(ds.classes) for p in ev.predictions))


def training_panel(runner, ds, epochs: int, active: bool, data: str | None = None) -> None:
    """The Training Lab's live panel: metrics, status, curves and the per-epoch figures of this session's
    jobs (``train_jobs``), polled while a job is queued or running. Drawn with the data set and epochs the job
    ran with (``train_run``, see :func:`started`), never with the widgets' current ones."""
    ss, jobs = st.session_state, st.session_state["train_jobs"]
    if jobs:
        remember_owner()
    run = ss.get("train_run") or {}
    ds, epochs = run.get("ds", ds), run.get("epochs", epochs)
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
        runner.seen(owner_token())  # this page is open: its job is not abandoned
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
        # "Validation accuracy" needs a wider column; presenter mode: two rows of two (four in a row cut it)
        m, p = (st.columns([1, 1.4, 1, 1]) if not presenting() else [*st.columns(2), *st.columns(2)]), h.last
        m[0].metric("Epoch", f"{p.epoch:.1f} / {epochs}" if p else "–",
                    help="Passes over the training images so far.")
        m[1].metric("Validation accuracy", f"{h.val_acc:.1%}" if h.val_acc is not None else "–",
                    help="On images the model never trains on (the EMA weights when EMA is on).")
        m[2].metric("Samples / s", f"{p.samples_per_s:,.0f}" if p else "–", help="Training images per second.")
        m[3].metric("Time left", f"{p.eta_s:.0f} s" if p and status.state == "running" else "–",
                    help="Estimated from the speed so far.")
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


# ---------------------------------------------------------------- distillation (Compression page)
def linked_job(runner, key: str, param: str, info) -> None:
    """A reload reconnects this browser's distillation or search: on the session's first look, the link's ``param``
    job id becomes the session's job (``key``: (job id, ``info(recipe)``), what its panel draws with) when this
    browser owns it. Any other value leaves the URL with a notice (:func:`show_linked_notice`)."""
    ss = st.session_state
    if ss.get(f"{key}_linked"):
        return
    ss[f"{key}_linked"], ss[f"{key}_param"] = True, param
    raw = st.query_params.get(param)
    if raw is None or key in ss:
        return
    notice, owner = None, owner_token()
    try:
        runner.status(raw)
        runner.check_owner(raw, owner)
    except ConfigError:
        try:
            runner.status(raw)
            notice = JOB_FOREIGN
        except ConfigError:
            notice = JOB_GONE
    if notice is None:
        try:
            ss[key] = (raw, info(runner.recipe(raw, owner)))
        except (ConfigError, TypeError, KeyError):  # a recipe this version cannot draw
            notice = JOB_GONE
    if notice is not None:
        ss[f"{key}_notice"] = notice
        st.query_params.pop(param, None)


def show_linked_notice(key: str) -> None:
    """The link's notice, and (outside any fragment: it writes to the sidebar) the owner cookie while the session
    has a job, so a reload reconnects from the link."""
    if st.session_state.get(f"{key}_notice"):
        st.info(st.session_state[f"{key}_notice"], icon=":material/link_off:")
    if key in st.session_state:
        remember_owner()


def _forget(key: str) -> None:
    st.session_state.pop(key, None)
    if st.session_state.get(f"{key}_param"):
        st.query_params.pop(st.session_state[f"{key}_param"], None)


def distill_state(runner, key: str) -> str | None:
    """"queued", "running", "done", or None (no job, or the server forgot it)."""
    if key not in st.session_state:
        return None
    runner.seen(owner_token())  # this page is open (its live panel asks every second): the job is not abandoned
    try:
        return runner.status(st.session_state[key][0]).state
    except ConfigError:
        _forget(key)
        return None


def distill_stop(runner, key: str, wait_s: float) -> None:
    """Stop this session's job, if the runner still knows it (a restarted server does not)."""
    if key in st.session_state:
        try:
            runner.stop(st.session_state[key][0], owner=owner_token())
            runner.join(st.session_state[key][0], timeout=wait_s)
        except ConfigError:
            _forget(key)


def where(runner, owner: str) -> str:
    """Where this browser's queued or running job is shown (for the message that refuses a second one)."""
    live = [title for _, title, state in runner.jobs_of(owner) if state in ("queued", "running")]
    return f" It is on {WHERE[live[-1]]}." if live and live[-1] in WHERE else ""


def distill_restart(runner, key: str, cfg, info=None) -> None:
    """Stop this session's job, then submit ``cfg`` as this browser's (one job per browser, of any kind: the
    runner refuses a second one, and the message says where the first one is); (job id, ``info``: what its panel
    needs, default its epochs) go to the session, the job id to the link (``linked_job``'s parameter)."""
    distill_stop(runner, key, 10)
    owner = owner_token()
    try:
        job = runner.submit(cfg, owner=owner)
    except ConfigError as err:
        said = str(err)[len(err.field) + 2:]
        raise ConfigError(err.field, said + ("." if said[-1:] != "." else "") + where(runner, owner)) from None
    st.session_state[key] = (job, cfg.epochs if info is None else info)
    st.session_state.pop(f"{key}_notice", None)
    if st.session_state.get(f"{key}_param"):
        st.query_params[st.session_state[f"{key}_param"]] = job
    remember_owner()


def job_notices(now: str, events: list, status) -> None:
    """A background job's queue position while it waits, and its failure message (shown as text)."""
    if now == "queued":
        st.info(f"Waiting for a free slot: number {status.queue_position} in the queue ({status.running_jobs} "
                f"of {status.capacity} jobs training).", icon=":material/hourglass_top:")
    if events and isinstance(events[-1], Failed):
        st.error(md_text(events[-1].message), icon=":material/error:")
