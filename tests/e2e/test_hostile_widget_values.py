"""The protocol boundary: a websocket client (not a browser) sends widget values no browser would — a string, NaN,
±∞, 1e308 or -2⁶³ where a number input sends a small number, an option that does not exist — and the page shows a notice and
the default, never an exception, and the session keeps working. Spoken with Streamlit's own protobuf messages
(bench/classroom_load.py's client)."""
import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState

from bench.classroom_load import Client, user_key
from tests.support.aio import run as _run
from tests.support.browser import start_server, stop_server


def state(wid: str, **value) -> WidgetState:
    s = WidgetState(id=wid)
    for k, v in value.items():
        setattr(s, k, v)
    return s


HOSTILE = [("string for a number", dict(string_value="abc")), ("NaN", dict(double_value=float("nan"))),
           ("infinity", dict(double_value=float("inf"))), ("-infinity", dict(double_value=float("-inf"))),
           ("1e308", dict(double_value=1e308)), ("an int64 extreme", dict(int_value=-2 ** 63))]


async def scenario(url: str) -> list[tuple[str, list, str | None]]:
    c = Client(url, "hostile")
    await c.connect()
    out = []
    try:
        await c.rerun(page="conv_arithmetic", timeout=180)
        stride = next(w for w, (t, _) in c.widgets.items() if user_key(w) == "arith_s_0")
        pad_kind = next(w for w, (t, _) in c.widgets.items() if user_key(w) == "arith_pad")
        for what, value in HOSTILE + [("an option that does not exist", None)]:
            c.exceptions.clear()
            sent = state(pad_kind, string_value="<script>") if value is None else state(stride, **value)
            await c.rerun([sent], timeout=120)
            out.append((what, list(c.exceptions), c.metrics.get("Output shape")))
            c.states.pop(sent.id, None)  # the next case starts from a clean tab
        c.exceptions.clear()
        await c.rerun([state(stride, double_value=2.0)], timeout=120)  # a good value afterwards: the page answers
        out.append(("a good value after them", list(c.exceptions), c.metrics.get("Output shape")))
    finally:
        await c.close()
    return out


@pytest.mark.timeout(600)
def test_hostile_widget_values_fall_back_to_the_default_with_no_exception():
    proc, url = start_server(timeout=120)
    try:
        results = _run(scenario(url))
    finally:
        stop_server(proc)
    for what, exceptions, shape in results:
        assert exceptions == [], (what, exceptions)
        assert shape, (what, "no output shape shown")
    default_shape = results[0][2]
    assert all(shape == default_shape for _, _, shape in results[:-1]), results  # every bad value: the default
    assert results[-1][2] != default_shape, results[-1]  # stride 2 halves the output: the session still works
