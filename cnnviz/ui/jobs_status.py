"""What a background job's page says about where the job stands, as plain sentences: queued (an honest estimate of
the wait when the runner has one, else the queue position), gathering its class group, or training together with
classmates (how many, and about how long is left). Pure text builders (:func:`queue_text`, :func:`group_text`) and
the small panels that draw them with their tooltips (:func:`show_job_status`, :func:`job_notices`).

The runner's :class:`~cnnviz.jobs.JobStatus` may carry ``classmates`` (the others in the same class group) and
``wait_s`` (a queued job's estimated seconds until it starts); a runner without them (the Ray runner, an older
one) gets the plain queue position, as before."""
from __future__ import annotations

import math
import re

import streamlit as st

from cnnviz.io.text import md_text
from cnnviz.jobs import turns_text
from cnnviz.jobs.events import Failed

FIRST_POINT_S = 1.0  # from a job's start to its first curve point: the warm spare child reports within ~1 s
GROUP_HELP = ("A class group: trainings of the same model, data set, image size, batch size and optimizer that "
              "were started within about a second of each other train as one computation in one worker (their "
              "weights stacked side by side), which costs a handful of solo runs instead of one each. Everything "
              "else stays yours: seed, learning rate and schedule, every switch, epochs, your curve, Stop, "
              "checkpoint and download; the numbers are those of the same training run alone.")
WAIT_HELP = ("The estimate adds up the time left of the trainings running now and of those queued before "
             "yours, from their speed so far; a class group counts as one, since its members train together, so "
             "a whole class waits for one turn, not one turn each. " + GROUP_HELP)
GATHER_TEXT = ("Gathering your class group: trainings like yours started within about a second train together with "
               "it. The first curve point follows in a moment.")
SOLO_POLL_S, START_POLL_S = 1.5, 0.25  # a training alone: every 1.5 s; right after its start until its first event
GROUP_POLL_S, GROUP_START_POLL_S = 2.0, 0.5  # in a class group (up to 30 pages polling at once)
BIG_GROUP, BIG_GROUP_POLL_S = 5, 3.0  # with this many classmates or more: every 3 s (their polls share the server)
GATHER_POLL_S, QUEUED_POLL_S = 0.5, 5.0  # in the gathering window (about a second); queued behind others (at most)
_CLASSMATES = re.compile(r"with (\d+) classmates?")


def classmates(status, progress=None) -> int:
    """The others training in this job's class group: the runner's ``classmates`` when it says, else what the
    group's worker wrote into the Progress event's device text ("…, with 29 classmates"), else 0."""
    n = getattr(status, "classmates", 0) or 0
    if not n and progress is not None and (m := _CLASSMATES.search(getattr(progress, "device", None) or "")):
        n = int(m[1])
    return int(n)


def poll_every(status, starting: bool) -> float:
    """Seconds between the live panel's polls for a job in ``status`` (``starting``: running, no event yet).
    Alone: every 1.5 s, every 0.25 s until the first event (the warm spare reports within a second). In a class
    group every 2 s, 0.5 s until the first event: a whole class's pages poll at once, and a group's members
    advance together, a little slower than one alone; with :data:`BIG_GROUP` classmates or more every 3 s (ten
    trainers' polls every 2 s cost the browsing students' pages a second at their p95, bench/live_panel_cost.py).
    Queued: every 0.5 s in the gathering window (the group starts within about a second), else half the estimated
    wait, between 0.5 and 5 s (5 s when unknown)."""
    mates = getattr(status, "classmates", 0) or 0
    grouped = mates > 0
    if status.state == "queued":
        if status.queue_position is None:
            return GATHER_POLL_S
        wait = getattr(status, "wait_s", None)
        return QUEUED_POLL_S if wait is None or not math.isfinite(wait) else min(QUEUED_POLL_S, max(GATHER_POLL_S,
                                                                                                     wait / 2))
    if starting:
        return GROUP_START_POLL_S if grouped else START_POLL_S
    return (BIG_GROUP_POLL_S if mates >= BIG_GROUP else GROUP_POLL_S) if grouped else SOLO_POLL_S


def repace(every: float) -> None:
    """Poll the fragment running now every ``every`` seconds from its next poll on, without a full run of the page:
    the browser keeps one timer per fragment and replaces its interval when the server sends that fragment's
    ``auto_rerun`` message again (what ``st.fragment(run_every=...)`` sends when it is declared; an unchanged
    interval is ignored). A full run declares the fragment with :func:`poll_every` of that moment, as before. This
    spares a class group's pages a full run each at the moments they all change pace together (the group starts,
    its first points arrive): ten full Training Lab runs at once held thirty students' clicks for seconds."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from streamlit.runtime.scriptrunner_utils.script_run_context import ThreadState, get_script_run_ctx
    ctx = get_script_run_ctx(suppress_warning=True)
    try:
        fragment = ThreadState.get().fragment_id
    except RuntimeError:  # not in a script run
        fragment = None
    if ctx is None or not fragment:
        return
    msg = ForwardMsg()
    msg.auto_rerun.interval, msg.auto_rerun.fragment_id = float(every), fragment
    ctx.enqueue(msg)


def keep_pace(key: str, every: float) -> None:
    """:func:`repace` the running fragment when ``every`` differs from the pace last declared for it, which session
    state keeps under ``key`` (set by the page run that declared the fragment, and here)."""
    if every != st.session_state.get(key):
        repace(every)
        st.session_state[key] = every


def _seconds(s: float) -> str:
    """'about 40 s' / 'about 3 min' (whole numbers: an estimate, not a stopwatch)."""
    s = max(1, math.ceil(s))
    return f"about {s} s" if s < 120 else f"about {round(s / 60)} min"


def _mates(n: int) -> str:
    return f"{n} classmate{'s' if n != 1 else ''}"


def queue_text(status, noun: str = "trainings") -> str:
    """A queued job's notice. With the runner's estimate (``wait_s``): "Waiting: about 12 s until your first curve
    point: position 2 in the queue (1 of 1 trainings running), 2 ahead of yours." Without it, the position only
    (the text bench/load.py reads: "position k in the queue (R of C trainings running)"). In the gathering window
    (no position yet): :data:`GATHER_TEXT`."""
    pos = status.queue_position
    if pos is None:
        return GATHER_TEXT
    where = f"position {pos} in the queue ({status.running_jobs} of {status.capacity} {noun} running)"
    wait = getattr(status, "wait_s", None)
    if wait is None or not math.isfinite(wait) or wait < 0:
        return f"Waiting for a free slot: {where}."
    ahead = status.running_jobs + pos - 1
    mates = classmates(status)
    first, end = _known(getattr(status, "first_s", None)), _known(getattr(status, "end_s", None))
    first = first if first is not None else wait + FIRST_POINT_S  # the runner's estimate with turns, when it has one
    to_end = f", {_seconds(end)} to the end" if end is not None and end >= first else ""
    return (f"Waiting: {_seconds(first)} until your first curve point{to_end}: {where}, {ahead} ahead of "
            f"yours." + (f" You will train together with {_mates(mates)}." if mates else ""))


def _known(s) -> float | None:
    return s if s is not None and math.isfinite(s) and s >= 0 else None


def group_text(status, progress=None) -> str | None:
    """A running group member's line: "Training together with 29 classmates · about 40 s left" (the Progress
    event's ``eta_s``; before the first point: "first curve point in a moment"); None for a job training alone."""
    n = classmates(status, progress)
    if status.state != "running" or n < 1:
        return None
    # the runner's estimate counts the turns still to come on a shared machine; Progress's eta only those so far
    eta = _known(getattr(status, "end_s", None))
    eta = eta if eta is not None else getattr(progress, "eta_s", None)
    left = f"{_seconds(eta)} left" if eta is not None and math.isfinite(eta) and eta >= 0 else \
        "first curve point in a moment"
    return f"Training together with {_mates(n)} · {left}"


def show_job_status(status, progress=None, noun: str = "trainings") -> None:
    """The queued notice (with what a class group is, in the caption's tooltip) or the class-group line of a
    running member; nothing for a job running alone or done."""
    if status.state == "queued":
        st.info(queue_text(status, noun), icon=":material/hourglass_top:")
        if status.queue_position is None or getattr(status, "wait_s", None) is not None:
            st.caption("How the wait is estimated, and what a class group is.", help=WAIT_HELP)
    elif (line := group_text(status, progress)) is not None:
        st.info(line, icon=":material/groups:")
        st.caption("Your own run in a class group: your curve, your Stop, your checkpoint.", help=GROUP_HELP)
    if status.state == "running" and (turns := turns_text(status)) is not None:  # taking turns (jobs.slicing)
        st.caption(md_text(turns))


def job_notices(now: str, events: list, status) -> None:
    """A background job's queue position (or estimate) while it waits, and its failure message (shown as text)."""
    if now == "queued":
        show_job_status(status, None, "jobs")
    if events and isinstance(events[-1], Failed):
        st.error(md_text(events[-1].message), icon=":material/error:")
