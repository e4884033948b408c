"""A per-session rerun rate limit at the protocol boundary: one websocket sending reruns back to back (any client
can) must not take the process's CPU from its classmates.

Each session has a token bucket: ``CNNVIZ_RERUN_RATE`` reruns per second (default 2), bursts of up to
``CNNVIZ_RERUN_BURST`` (default 6); ``CNNVIZ_RERUN_RATE=0`` turns the limit off. A rerun request (a widget
change, a page switch) that finds a token runs at once, exactly as Streamlit would run it. One that finds none
is deferred until the next token, and every request that arrives while one is deferred is folded into it: the
newest query string, page and widget values win, a button press (trigger) sent in between is kept (Streamlit's
own coalescing of widget states), two different fragments become one full run. So a flooding session runs at
most ``burst + rate × seconds`` scripts and still ends on its latest widget values.

A live panel's timed polls (fragment auto-reruns) have a bucket of their own (``AUTO_RATE`` = 4/s, the Training
Lab's fastest poll), so polling never delays a click; a hostile client may add at most that many fragment runs.
A student never meets the limit by dragging a slider (Streamlit 1.67 sends its value on release) or clicking a
few times a second (six clicks at once, or three a second for five seconds, run at once). Measured with
bench/flood.py (2 cores): a limit of 4/s left a classmate's p95 above 2 × its quiet p95 + 0.1 s in 2 of 3 runs,
2/s within it.

Written against streamlit==1.67.0's ``AppSession._handle_rerun_script_request`` (the handler of the
``rerun_script`` BackMsg, on the server's event loop) and ``ScriptRequests``' ``_coalesce_widget_states``;
tests/unit/ui/test_rate_limit.py and tests/e2e/test_flood.py fail if those internals move."""
from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Callable

from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.runtime.scriptrunner_utils.script_requests import _coalesce_widget_states

log = logging.getLogger(__name__)
RATE_ENV, BURST_ENV = "CNNVIZ_RERUN_RATE", "CNNVIZ_RERUN_BURST"
DEFAULT_RATE, DEFAULT_BURST = 2.0, 6.0    # reruns per second per session, and the burst a session may spend at once
STATS = {"immediate": 0, "deferred": 0, "coalesced": 0}  # the process's counters, all sessions together


def settings() -> tuple[float, float]:
    """``(rate per second, burst)`` from the environment; a value that is not a finite number >= 0 is ignored
    (the default is used and a warning logged). Rate 0: no limit."""
    out = []
    for env, default in ((RATE_ENV, DEFAULT_RATE), (BURST_ENV, DEFAULT_BURST)):
        raw = os.environ.get(env, "")
        try:
            v = float(raw) if raw.strip() else default
            if not (0 <= v < float("inf")):
                raise ValueError(raw)
        except ValueError:
            log.warning("%s=%r is not a number >= 0; using %g", env, raw[:40], default)
            v = default
        out.append(v)
    rate, burst = out
    return rate, max(1.0, burst)


def merge(old: ClientState | None, new: ClientState | None) -> ClientState | None:
    """One rerun request standing for ``old`` then ``new``: ``new``'s query, page and widget values, with a
    trigger (button press) that only ``old`` carries kept. None (Streamlit: "the previous client state") yields
    to the other. A fragment run merged with a full run, or with another fragment's run, is a full run."""
    if old is None or new is None:
        return new if old is None else old
    out = ClientState()
    out.CopyFrom(new)
    states = _coalesce_widget_states(old.widget_states, new.widget_states)
    if states is not None and states is not new.widget_states:
        out.widget_states.CopyFrom(states)
    out.is_auto_rerun = old.is_auto_rerun and new.is_auto_rerun
    if old.fragment_id != new.fragment_id:  # a full run covers every fragment
        out.fragment_id, out.is_auto_rerun = "", False
    return out


class SessionLimiter:
    """One session's token bucket and its deferred request. ``run(client_state)`` starts a script run;
    ``later(delay, fn)`` calls ``fn`` after ``delay`` seconds (the event loop's ``call_later``). Called only on the
    server's event loop thread, so it needs no lock."""

    def __init__(self, rate: float, burst: float, run: Callable, later: Callable,
                 clock: Callable[[], float] = time.monotonic):
        self.rate, self.burst, self._run, self._later, self.clock = rate, burst, run, later, clock
        self.tokens, self.stamp = burst, clock()
        self.pending: ClientState | None = None
        self.waiting = False
        self.runs = self.deferred = self.coalesced = 0

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def submit(self, client_state: ClientState | None) -> None:
        if self.waiting:  # a deferred run is due: this request only updates what it will run with
            self.pending = merge(self.pending, client_state)
            self.coalesced += 1
            STATS["coalesced"] += 1
            return
        self._refill()
        if self.tokens >= 1:
            self.tokens -= 1
            self.runs += 1
            STATS["immediate"] += 1
            self._run(client_state)
            return
        self.pending, self.waiting = client_state, True
        self.deferred += 1
        STATS["deferred"] += 1
        if self.deferred == 1 or self.deferred % 100 == 0:
            log.warning("a session sends reruns faster than %g/s (burst %g): deferring and coalescing them "
                        "(%d deferred so far)", self.rate, self.burst, self.deferred)
        self._later((1 - self.tokens) / self.rate, self.flush)

    def flush(self) -> None:
        """The deferred run: it spends the token that has just come in."""
        if not self.waiting:
            return
        self._refill()
        self.tokens = max(0.0, self.tokens - 1)
        state, self.pending, self.waiting = self.pending, None, False
        self.runs += 1
        try:
            self._run(state)
        except Exception:  # noqa: BLE001 - on the event loop, outside Streamlit's handle_backmsg try block
            log.exception("a deferred rerun failed")


_ATTR = "_cnnviz_rerun_limiters"
AUTO_RATE = AUTO_BURST = 4.0  # a live panel's own polls (fragment auto-reruns): the fastest polls every 0.25 s


def limited(original: Callable) -> Callable:
    """``AppSession._handle_rerun_script_request`` behind the session's :class:`SessionLimiter`: one for what the
    student does, one for a live panel's timed polls (fragment auto-reruns, at most ``AUTO_RATE`` a second), so
    a job panel polling while a training starts never delays a click, nor a click its poll."""

    def handle(self, client_state: ClientState | None = None) -> None:
        limiters = getattr(self, _ATTR, None)
        if limiters is None:
            rate, burst = settings()
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # not on the server's event loop (a test's direct call): no limit
                loop = None
            if rate <= 0 or loop is None:
                return original(self, client_state)
            limiters = (SessionLimiter(rate, burst, run=lambda cs: original(self, cs), later=loop.call_later),
                        SessionLimiter(AUTO_RATE, AUTO_BURST, run=lambda cs: original(self, cs),
                                       later=loop.call_later))
            setattr(self, _ATTR, limiters)
        auto = client_state is not None and client_state.is_auto_rerun and bool(client_state.fragment_id)
        limiters[auto].submit(client_state)

    handle.__wrapped__ = original
    return handle
