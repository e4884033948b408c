"""The per-session rerun limit (cnnviz.ui.rate_limit) on a fake clock: a quiet session's reruns run at once,
a flood is deferred and coalesced into runs at the bucket's rate, and the deferred run carries the latest widget
values and any button press sent in between."""
import pytest
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.runtime.app_session import AppSession

import cnnviz.ui  # noqa: F401 - installs the protocol guards
from cnnviz.ui import rate_limit
from cnnviz.ui.rate_limit import SessionLimiter, merge


class Clock:
    def __init__(self):
        self.t = 0.0
        self.timers: list[tuple[float, object]] = []

    def __call__(self):
        return self.t

    def later(self, delay, fn):
        assert delay > 0
        self.timers.append((self.t + delay, fn))

    def advance(self, dt):
        """Move time on by ``dt``, firing the timers that fall due, in order."""
        end = self.t + dt
        while True:
            due = sorted((t, i) for i, (t, _) in enumerate(self.timers) if t <= end)
            if not due:
                break
            t, i = due[0]
            self.t = max(self.t, t)
            self.timers.pop(i)[1]()
        self.t = end


def cs(value: float | None = None, wid: str = "k", trigger: str | None = None, fragment: str = "") -> ClientState:
    c = ClientState(query_string=f"v={value}", fragment_id=fragment)
    if value is not None:
        c.widget_states.widgets.append(WidgetState(id=wid, double_value=value))
    if trigger:
        c.widget_states.widgets.append(WidgetState(id=trigger, trigger_value=True))
    return c


def limiter(rate=4.0, burst=8.0):
    clock, ran = Clock(), []
    return SessionLimiter(rate, burst, run=ran.append, later=clock.later, clock=clock), clock, ran


def test_a_student_clicking_a_few_times_a_second_is_never_delayed():
    rate, burst = rate_limit.DEFAULT_RATE, rate_limit.DEFAULT_BURST
    lim, clock, ran = limiter(rate, burst)
    for i in range(15):  # 3 clicks a second for 5 s, each run at once
        lim.submit(cs(i))
        assert len(ran) == i + 1 and not lim.waiting
        clock.advance(1 / 3)
    lim2, clock2, ran2 = limiter(rate, burst)
    for i in range(6):  # a burst of 6 clicks at once: all run at once
        lim2.submit(cs(i))
    assert len(ran2) == 6 and lim2.deferred == 0 and clock2.timers == []
    clock2.advance(60)
    for i in range(120):  # then a click every 0.5 s for a minute: at the rate, never delayed
        lim2.submit(cs(i))
        clock2.advance(1 / rate)
    assert lim2.deferred == 0 and len(ran2) == 126


def test_a_flood_runs_at_the_bucket_rate_and_ends_on_its_latest_values():
    clock, ran, at = Clock(), [], []
    lim = SessionLimiter(4, 8, run=lambda c: ran.append(c) or at.append(clock.t), later=clock.later, clock=clock)
    sent = 0
    for _ in range(1000):  # 1000 requests in 10 s (one per 10 ms)
        lim.submit(cs(float(sent)))
        sent += 1
        clock.advance(0.01)
    clock.advance(1.0)  # let the last deferred run fire
    # burst + rate × time, at most (the 10 s of requests plus the last deferred run)
    assert 8 + 4 * 10 - 1 <= len(ran) <= 8 + 4 * 11
    assert lim.coalesced + len(ran) == 1000
    last = ran[-1]
    assert last.widget_states.widgets[0].double_value == 999.0 and last.query_string == "v=999.0"
    gaps = [b - a for a, b in zip(at[8:], at[9:])]
    assert min(gaps) >= 0.25 - 1e-9  # after the burst, each run waited for its token: 1/rate apart
    assert not lim.waiting and clock.timers == []


def test_a_quiet_session_is_not_slowed_by_a_flooding_one():
    flood, clock, ran_f = limiter()
    quiet = SessionLimiter(4, 8, run=(ran_q := []).append, later=clock.later, clock=clock)
    for i in range(500):
        flood.submit(cs(i))
        if i % 100 == 0:
            quiet.submit(cs(i))
            assert ran_q[-1].query_string == f"v={i}"  # ran at once, in the same instant it was sent
        clock.advance(0.01)
    assert quiet.deferred == 0 and len(ran_q) == 5 and flood.deferred > 0


def test_a_button_press_folded_into_a_deferred_run_is_kept():
    lim, clock, ran = limiter(rate=1, burst=1)
    lim.submit(cs(1.0))
    lim.submit(cs(2.0, trigger="go"))  # deferred
    lim.submit(cs(3.0))  # folded in: the browser sends a trigger once only
    assert len(ran) == 1 and lim.waiting
    clock.advance(1.0)
    states = {w.id: w for w in ran[-1].widget_states.widgets}
    assert states["k"].double_value == 3.0 and states["go"].trigger_value is True


def test_fragment_runs_merge_into_a_full_run():
    full_then_fragment = merge(cs(1.0), cs(2.0, fragment="f1"))
    assert full_then_fragment.fragment_id == "" and full_then_fragment.widget_states.widgets[0].double_value == 2.0
    same = merge(cs(1.0, fragment="f1"), cs(2.0, fragment="f1"))
    assert same.fragment_id == "f1"
    assert merge(cs(1.0, fragment="f1"), cs(2.0, fragment="f2")).fragment_id == ""
    assert merge(None, cs(1.0)).query_string == "v=1.0" and merge(cs(1.0), None).query_string == "v=1.0"


@pytest.mark.parametrize("rate, burst, expected", [("2", "3", (2.0, 3.0)), ("", "", (2.0, 6.0)),
                                                   ("nan", "-1", (2.0, 6.0)), ("0", "0", (0.0, 1.0))])
def test_the_limit_is_set_by_the_environment(monkeypatch, rate, burst, expected):
    monkeypatch.setenv(rate_limit.RATE_ENV, rate)
    monkeypatch.setenv(rate_limit.BURST_ENV, burst)
    assert rate_limit.settings() == expected


def test_it_is_installed_on_streamlits_rerun_handler():
    handler = AppSession._handle_rerun_script_request
    assert handler.__wrapped__.__qualname__ == "AppSession._handle_rerun_script_request"


def test_a_live_panels_polls_and_the_students_clicks_have_separate_budgets():
    """Through the installed handler, on an event loop: a job panel polling 4 times a second (its fastest, while a
    training starts) and six clicks at once all run at once; a flood of polls is limited on its own budget."""
    import asyncio
    import concurrent.futures
    ran = []

    class Session:
        pass

    handle = rate_limit.limited(lambda session, client_state: ran.append(client_state))

    async def scenario():
        s = Session()
        for i in range(4):
            handle(s, ClientState(fragment_id="live", is_auto_rerun=True))
        assert len(ran) == 4  # none deferred
        for i in range(50):
            handle(s, ClientState(fragment_id="live", is_auto_rerun=True))
        assert len(ran) == 4  # the polls' budget is spent: deferred, folded into one
        for i in range(6):
            handle(s, cs(float(i)))
        assert len(ran) == 10  # the clicks have their own budget: all six at once
        await asyncio.sleep(1 / rate_limit.AUTO_RATE + 0.1)
        return s

    # A loop of its own in a thread of its own: a browser test in the same worker may hold the main thread's loop.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        s = pool.submit(asyncio.run, scenario()).result(timeout=60)
    limiters = getattr(s, rate_limit._ATTR)
    assert limiters[1].deferred == 1 and limiters[1].coalesced == 49 and limiters[0].deferred == 0
    assert len(ran) == 11 and ran[-1].fragment_id == "live"  # the folded polls ran as one
