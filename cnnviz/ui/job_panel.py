"""One background job's panel (the Feature Maps page's t-SNE and feature visualisation): its queue position or
progress bar and Stop, in a fragment that polls the runner while the job is queued or running. A finished result
goes to a bounded cache shared by every session and the page reruns to show it, saying once that it is done (as a
training's panel says "Finished"); a stopped one is said once, too.

The job is this session's ``st.session_state[jkey]`` = (job id, cache key), as :func:`cnnviz.ui.jobs.distill_restart`
keeps it; its events are the runner's: step reports of ``step_type`` (with ``step`` and ``total``), then one
``result_type`` event (with ``step`` and ``reason``, "done" or "stopped") and the runner's ``Finished``, or
:class:`cnnviz.jobs.Failed`."""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable

import streamlit as st

from cnnviz.jobs import Failed
from cnnviz.ui import jobs


@dataclass(frozen=True)
class JobLabels:
    """What the panel says. ``what(key)``: a suffix naming the settings a job was started with when they are not
    the ones shown (called only then); ``progress(step, what)``: the bar's text; ``stopped(steps, what)``: the
    notice after a Stop; ``stop_help``: the Stop button's tooltip; ``done(steps, what)``: the notice once its
    result is shown."""

    what: Callable[[Any], str]
    progress: Callable[[Any, str], str]
    stopped: Callable[[int, str], str]
    stop_help: str
    done: Callable[[int, str], str]


def put_bounded(kept: OrderedDict, key, value, limit: int) -> None:
    """``kept[key] = value``, dropping the least recently put entries beyond ``limit``."""
    kept[key] = value
    while len(kept) > limit:
        kept.popitem(last=False)


def last_of(events: list, kind: type):
    """The last event of type ``kind`` (None when there is none)."""
    return next((e for e in reversed(events) if isinstance(e, kind)), None)


def job_result_panel(runner, jkey: str, shown, *, result_type: type, step_type: type,
                     put: Callable[[Any, Any], None], labels: JobLabels, stop_key: str, poll_s: float) -> bool:
    """Draw this session's job ``jkey`` (nothing when there is none): polled every ``poll_s`` seconds while it is
    queued or running; when it has finished, ``put(cache key, result event)`` and (when it ended while watched)
    a rerun of the page. True while the job for the ``shown`` cache key is queued or running."""
    state = jobs.distill_state(runner, jkey)
    if state is None:
        return False

    @st.fragment(run_every=poll_s if state in ("queued", "running") else None)
    def live():
        now = jobs.distill_state(runner, jkey)
        if now is None:
            return
        job, key = st.session_state[jkey]
        events, status = runner.poll(job), runner.status(job)
        jobs.job_notices(now, events, status)
        end = last_of(events, result_type)
        what = "" if key == shown else labels.what(key)
        if now == "done":
            if end is not None and end.reason == "done":
                put(key, end)
                if state != "done":  # it ended while this fragment watched: show the result at once (the full run
                    st.rerun(scope="app")  # draws this panel again, as done: it says so below, once)
                st.success(labels.done(end.step, what), icon=":material/check_circle:")
            elif not (events and isinstance(events[-1], Failed)):  # a Failed one's message is shown above
                st.info(labels.stopped(end.step if end else 0, what), icon=":material/stop_circle:")
            st.session_state.pop(jkey, None)  # said once; a failure's message likewise
            return
        step = last_of(events, step_type)
        c = st.columns([5, 1])
        c[0].progress(0.0 if step is None else step.step / step.total,
                      text=("Waiting for a free slot…" if now == "queued" else "Starting…") if step is None else
                      labels.progress(step, what))
        if c[1].button("Stop", key=stop_key, icon=":material/stop:", help=labels.stop_help):
            jobs.distill_stop(runner, jkey, 2)
            st.rerun(scope="app")

    live()
    return state in ("queued", "running") and st.session_state.get(jkey, (None, None))[1] == shown
