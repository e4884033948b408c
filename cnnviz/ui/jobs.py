"""Background jobs on the pages, by topic:

- here: the browser's owner token (:func:`owner_token`, its same-site cookie, :func:`heartbeat`) and the
  bookkeeping the distillation (cnnviz.ui.compression.panels) and the search (cnnviz.ui.architecture_lab.search)
  share (:func:`linked_job`, :func:`distill_restart` ...);
- :mod:`cnnviz.ui.jobs_training`: the Training Lab's jobs and its live panel (:func:`training_panel`);
- :mod:`cnnviz.ui.jobs_status`: where a job stands, in words (queued with an estimate of the wait, or training
  together with classmates in a class group).
Every public name of those is importable from here.

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
from cnnviz.jobs.factory import started_local_runner
from cnnviz.jobs.ids import OWNER, new_owner
from cnnviz.ui.jobs_status import (GATHER_TEXT, GROUP_HELP, WAIT_HELP, classmates, group_text, job_notices,
                                   queue_text, show_job_status)
from cnnviz.ui.jobs_training import (FOREIGN, GONE, MAX_LINKED, curves, epoch_panels, fits, last_checkpoint,
                                     linked_jobs, live_panel, show_job_notice, started, stop_training,
                                     training_alive)

__all__ = ["owner_token", "heartbeat", "remember_owner", "training_panel", "linked_job", "show_linked_notice",
           "distill_state", "distill_stop", "distill_restart", "where", "job_notices", "linked_jobs",
           "show_job_notice", "training_alive", "last_checkpoint", "stop_training", "started", "fits", "curves",
           "epoch_panels", "live_panel", "show_job_status", "queue_text", "group_text", "classmates",
           "FOREIGN", "GONE", "MAX_LINKED", "JOB_FOREIGN", "JOB_GONE", "WHERE", "OWNER_COOKIE", "OWNER_DAYS",
           "GATHER_TEXT", "GROUP_HELP", "WAIT_HELP"]

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


def training_panel(runner, ds, epochs: int, active: bool, data: str | None = None) -> None:
    """The Training Lab's live panel (:func:`cnnviz.ui.jobs_training.live_panel`) for this browser: its owner
    token, and its cookie while the session has a job (written outside the fragment: it goes to the sidebar)."""
    if st.session_state["train_jobs"]:
        remember_owner()
    live_panel(runner, ds, epochs, active, data, owner_token())


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
