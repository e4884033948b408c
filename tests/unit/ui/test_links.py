"""Below the page: a link's value is parsed into the default's type or refused (never
NaN, ±inf, an unprintable integer, a RecursionError); quoted user text is short, one-line and escaped; and a
stack link whose input alone is too large is refused by arithmetic before any tensor exists."""
import base64
import json
import math
import zlib

import pytest
import torch
import torch.nn as nn

from cnnviz import ConfigError, limits
from cnnviz.architecture import builder as bld
from cnnviz.architecture import codegen as cg
from cnnviz.architecture.summary import summarize
from cnnviz.io.text import notice, shown
from cnnviz.ui.state import PageState, _parse
from tests.support.rendered import shown as rendered
from tests.support.record_ops import RecordOps

DIRECTIVES = "**bold** [x](http://evil.example) ![i](http://evil.example/a.png) <b>x</b> $\\huge X$ :red[x]"


# --------------------------------------------------------------------------- the state parser
@pytest.mark.parametrize("raw,default", [
    ("nan", 0.5), ("inf", 0.5), ("-inf", 0.5), ("1e999", 0.5), ("NaN", 0.5),
    ("9" * 5000, 3), ("9" * 4000, 3), ("1" + "0" * 40, 3), ("-" + "9" * 31, 3),   # past int-to-str / 30 digits
    ("[" * 5000, 3), ('{"a":' * 3000, "x"), ("[1, 2]", 3), ("", 3), ("", 0.5), ("abc", 3),
    ("1,2,3,4", (1, 1, 1)), ("1,nan", (1.0, 1.0)), ("9" * 5000 + ",1", (1, 1)), ("yes", False),
    ("a\x00b", "x"), ("x" * (limits.MAX_QUERY_VALUE_CHARS + 1), "x"), ("1" * (limits.MAX_QUERY_VALUE_CHARS + 1), 3),
])
def test_garbage_is_refused_with_value_error(raw, default):
    with pytest.raises(ValueError):
        _parse(raw, default)


@pytest.mark.parametrize("raw,default,expected", [
    ("7", 3, 7), (" -2 ", 3, -2), ("0.25", 0.5, 0.25), ("1e-3", 0.5, 0.001), ("true", False, True), ("0", True, False),
    ("5", (1, 1, 1), (5, 5, 5)), ("5,3", (1, 1, 1), (5, 3, 3)), ("hello", "x", "hello"), ("é ✓", "x", "é ✓"),
    ("9" * 30, 3, int("9" * 30)),
])
def test_good_values_parse(raw, default, expected):
    value = _parse(raw, default)
    assert value == expected and type(value) is type(expected)


def test_nan_no_longer_passes_a_range_check():
    """nan < lo and nan > hi are both False: a bounds check alone let it through."""
    assert not (math.nan < 1e-4 or math.nan > 1.0)  # why: the old _validate accepted nan for lr in [1e-4, 1]
    for raw in ("nan", "-nan", "inf"):
        with pytest.raises(ValueError):
            _parse(raw, 0.02)


# --------------------------------------------------------------------------- quoting and escaping
def test_shown_is_short_one_line_and_never_raises():
    assert shown("x" * 100_000) == repr("x" * 78)[:79] + "…" and len(shown("x" * 100_000)) == limits.MAX_SHOWN_CHARS
    assert shown("abc") == "'abc'" and shown(12) == "12" and shown((3, 8)) == "(3, 8)"
    assert shown(10 ** 5000) == "<a number of about 5,001 digits>"    # str() raises ValueError past 4300 digits
    assert shown((3, 10 ** 5000)) == "<a value too large to show>"
    s = shown("a\x00\u202eb\nc")
    assert s == "'a\\x00\\u202eb\\nc'" and "\n" not in s                 # repr escapes controls and bidi marks
    assert "\u202e" not in shown(ValueError("a\u202eb\nc")) and "\n" not in shown(ValueError("a\nb"))


def test_notice_escapes_every_directive_and_reads_back():
    text = f"Ignored the link's value k={shown(DIRECTIVES)}"
    md = notice(text)
    for active in ("**", "](", "![", "<b>", "$\\h", ":red["):
        assert active not in md, active
    assert rendered(md) == text                                     # what the student reads: the literal text
    assert len(notice("y" * 10_000)) == 8 * limits.MAX_SHOWN_CHARS  # "…" included


def test_page_state_notice_quotes_the_value_as_text(monkeypatch):
    """PageState outside a page: st.query_params and st.session_state as plain dicts."""
    import cnnviz.ui.state as state
    fake = type("FakeSt", (), {"query_params": {"lr": "nan", "n": "9" * 5000, "s": DIRECTIVES * 200},
                               "session_state": {}})
    monkeypatch.setattr(state, "st", fake)
    monkeypatch.setattr(state, "page_setup", lambda: None)
    S = PageState("p", dict(lr=0.02, n=3, s="x"), options=dict(s=("x", "y")), bounds=dict(lr=(1e-4, 1.0)))
    assert (S["lr"], S["n"], S["s"]) == (0.02, 3, "x")  # every value fell back to its default
    assert S.notices == ["Ignored the link's value lr='nan'", "Ignored the link's value n=" + shown("9" * 5000),
                         "Ignored the link's value s=" + shown(DIRECTIVES * 200)]
    assert all(len(n) < 120 for n in S.notices)


# --------------------------------------------------------------------------- budgets, input included
def token(obj) -> str:
    return base64.urlsafe_b64encode(zlib.compress(json.dumps(obj).encode(), 9)).decode().rstrip("=")


HUGE_INPUT = {"in_shape": [1, 65536, 65536], "layers": [{"type": "pool", "dims": 2, "kind": "max",
                                                          "kernel_size": 64, "stride": 64}]}


def test_the_17_gb_link_is_refused_by_arithmetic_before_any_tensor():
    """A 1×65536² input (17 GB in float32) pooled down to 1×1024²: the outputs alone (1 M values) are within the
    activation budget, so the old check passed and the summary allocated the input. Now the input counts."""
    link = token(HUGE_INPUT)
    assert len(link) < 240
    params, acts, flops = cg.stack_cost(HUGE_INPUT["layers"], tuple(HUGE_INPUT["in_shape"]))
    assert acts == 1024 * 1024 <= limits.MAX_STACK_ACTIVATIONS < 65536 ** 2 + acts  # why it passed before
    with RecordOps() as rec:
        with pytest.raises(ConfigError, match=f"{65536 ** 2 + 1024 ** 2:,} activation values \\(the input and "
                                              f"all layer outputs\\) is above the limit of "
                                              f"{limits.MAX_STACK_ACTIVATIONS:,}") as e:
            bld.decode_stack(link)
        with pytest.raises(ConfigError, match="limit") as e2:
            cg.build_stack(HUGE_INPUT["layers"], tuple(HUGE_INPUT["in_shape"]))
    assert e.value.field == e2.value.field == "stack"
    assert rec.ops == []  # no ATen op ran: nothing was allocated


def test_summarize_refuses_a_huge_input_before_allocating():
    with RecordOps() as rec:
        with pytest.raises(ConfigError, match=f"above the limit of {limits.MAX_SUMMARY_INPUT:,}") as e:
            summarize(nn.Identity(), (1, 65536, 65536))
    assert e.value.field == "in_shape" and rec.ops == []


def test_a_stack_at_the_limit_still_builds():
    side = int(math.isqrt(limits.MAX_STACK_ACTIVATIONS // 2))  # input + one same-size output: just under
    layers = [{"type": "act", "kind": "relu"}]
    assert cg.check_budget(layers, (1, side, side))[1] == side * side
    with pytest.raises(ConfigError, match="input and all layer outputs"):
        cg.check_budget(layers, (1, side + 1, side + 1))


@pytest.mark.parametrize("text", [
    "[" * 100_000,                                                           # RecursionError in json
    '{"in_shape": [3, ' + "9" * 5000 + '], "layers": []}',                   # ValueError: int-to-str limit
    '{"in_shape": [3, ' + "9" * 4000 + ', 8], "layers": []}',                # parses; unprintable in a message
    '{"in_shape": [3, 8, 8], "layers": ' + "[" * 50_000 + "]" * 50_000 + "}",
])
def test_hostile_stack_json_is_a_config_error(text):
    with RecordOps() as rec:
        with pytest.raises(ConfigError) as e:
            cg.stack_from_json(text)
    assert e.value.field in ("JSON", "in_shape", "layers", "layer 1") and len(str(e.value)) < 400
    assert rec.ops == []


def test_hostile_nested_stack_link_is_a_config_error():
    with pytest.raises(ConfigError) as e:
        bld.decode_stack(token({"in_shape": [3, 8, 8], "layers": []})[:0] + base64.urlsafe_b64encode(
            zlib.compress(b"[" * 60_000, 9)).decode().rstrip("="))
    assert e.value.field in ("stack", "JSON")


# --------------------------------------------------------------------------- the receptive-field stack of a link
def test_rf_stack_parses_and_refuses_with_the_field():
    from cnnviz.geometry import parse_rf_stack, receptive_field
    assert parse_rf_stack("3-1-1;3-1-1;3-2-1") == [(3, 1, 1), (3, 1, 1), (3, 2, 1)]
    rows = parse_rf_stack("3-1-1;3-2-1")
    assert receptive_field([dict(kernel_size=k, stride=s, dilation=d) for k, s, d in rows]) == 5
    for text in ("3-1", "3-1-x", "[{\"a\":", "9" * 5000 + "-1-1", "٣-1-1", DIRECTIVES):
        with pytest.raises(ConfigError, match="kernel-stride-dilation") as e:
            parse_rf_stack(text)
        assert e.value.field == "stack" and len(str(e.value)) < 200
    with pytest.raises(ConfigError, match=f"65 layers is above the limit of {limits.MAX_RF_LAYERS}"):
        parse_rf_stack("2-2147483647-1;" * 65)  # 65 strides of 2³¹: a jump of ~600 digits, refused
    rows = parse_rf_stack("2-2147483647-1;" * 64)
    assert len(rows) == 64 and rows[-1] == (2, 2**31 - 1, 1)
