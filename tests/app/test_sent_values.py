"""Values that deserialize but that no browser would send are replaced by the setting's default before the page
reads them, with a notice (cnnviz.ui.state.PageState._check_sent). The protocol-level half, through a websocket
client, is tests/e2e/test_hostile_widget_values.py."""
import math

import pytest

from cnnviz.limits import MAX_QUERY_VALUE_CHARS
from cnnviz.ui.state import _sent_ok
from tests.support import apptest


@pytest.mark.parametrize("value", [float("nan"), float("inf")], ids=["nan", "inf"])
def test_a_value_no_browser_sends_falls_back_to_the_default(value):
    at = apptest.open_page("conv_arithmetic")
    shape = apptest.metric(at, "Output shape")
    at.session_state["arith_s_0"] = value
    at.run()
    assert not at.exception, at.exception
    assert apptest.metric(at, "Output shape") == shape and at.session_state["arith_s_0"] == 1
    assert any("Ignored an invalid value for Stride; back to 1" in i.value for i in at.info), [i.value for i in at.info]


def test_a_good_value_is_kept():
    at = apptest.open_page("conv_arithmetic")
    at.session_state["arith_s_0"] = 2
    at.run()
    assert not at.exception and not any("Ignored an invalid value" in i.value for i in at.info)
    assert apptest.metric(at, "Output shape") == "8×4×4"


@pytest.mark.parametrize("value,default,bounds,options,ok", [
    (3, 1, (1, 16), None, True), (3.0, 1, (1, 16), None, True), (2.5, 1, (1, 16), None, False),
    (-1, 1, (1, 16), None, False), (17, 1, (1, 16), None, False), (math.nan, 1, (1, 16), None, False),
    (-math.inf, 0.5, None, None, False), (0.25, 0.5, (0.0, 1.0), None, True), (True, 1, (0, 5), None, False),
    ("3", 1, (1, 16), None, False), (None, 1, (1, 16), None, False), (False, True, None, None, True),
    (1, True, None, None, False), ("same", "numbers", None, ("numbers", "same", "valid"), True),
    ("<script>", "numbers", None, ("numbers", "same", "valid"), False), ("x" * MAX_QUERY_VALUE_CHARS, "", None, None, True),
    ("x" * (MAX_QUERY_VALUE_CHARS + 1), "", None, None, False), (b"abc", "", None, None, False),
])
def test_what_a_setting_accepts(value, default, bounds, options, ok):
    assert _sent_ok(value, default, bounds, options) is ok
