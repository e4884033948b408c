"""AppTest fuzz: random legal widget values on every page (through the real app.py): no page ever shows an
exception. Seeded per page, a few changes per page, so a failure names the page, widget and value and replays."""
import random
from pathlib import Path

import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted(f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py") if not p.name.startswith("_"))
KINDS = ("number_input", "slider", "select_slider", "selectbox", "radio", "toggle", "checkbox", "text_input")
CHANGES = 4
TEXTS = ("", "3", "-1", "abc", "<script>alert(1)</script>", "x" * 200, "0,0", "../../etc/passwd")


def random_value(w, kind, rng):
    """A random value the widget itself would accept (min/max/options respected)."""
    if kind in ("toggle", "checkbox"):
        return not w.value
    if kind == "text_input":
        return rng.choice(TEXTS)[: w.max_chars or None]
    if kind in ("selectbox", "radio", "select_slider"):  # options are the displayed (formatted) strings
        if kind == "select_slider" and isinstance(w.value, (tuple, list)):
            return tuple(w.options[i] for i in sorted(rng.sample(range(len(w.options)), 2)))
        return rng.choice(list(w.options))
    lo, hi = w.min, w.max
    if kind == "slider" and isinstance(w.value, (tuple, list)):
        a, b = sorted(random_value_scalar(lo, hi, w.step, rng) for _ in range(2))
        return (a, b)
    return random_value_scalar(lo, hi, w.step, rng)


def random_value_scalar(lo, hi, step, rng):
    is_float = any(isinstance(v, float) for v in (lo, hi, step))
    lo = -50 if lo is None else lo
    hi = (lo + 100) if hi is None or hi > 1e9 else hi  # open-ended inputs: a moderate range
    if is_float:
        return rng.choice([lo, hi, rng.uniform(lo, hi)])
    return rng.choice([int(lo), int(hi), rng.randint(int(lo), int(hi))])


def choose_option(w, kind, shown):
    """Send the displayed option string(s), exactly as the browser does: AppTest's set_value wants the raw
    value and re-applies format_func, which cannot be inverted in general."""
    def widget_state(self):
        ws = WidgetState()
        ws.id = self.id
        if kind == "select_slider":
            ws.string_array_value.data[:] = list(shown) if isinstance(shown, tuple) else [shown]
        else:
            ws.string_value = shown
        return ws
    w.__class__ = type(f"Chosen{type(w).__name__}", (type(w),), {"_widget_state": property(widget_state)})
    w._value = shown
    return w


def widgets(at):
    found = []
    for kind in KINDS:
        for i, w in enumerate(getattr(at, kind)):
            if getattr(w, "disabled", False):  # a browser user cannot change it either
                continue
            if kind in ("selectbox", "radio", "select_slider") and len(w.options) < 2:
                continue
            if kind in ("number_input", "slider") and w.min is not None and w.min == w.max:
                continue
            found.append((kind, i, w))
    return found


@pytest.mark.parametrize("page", PAGES)
def test_random_widget_values_never_raise(page):
    if page not in (ROOT / "app.py").read_text():
        pytest.skip(f"{page} is not registered in app.py yet (test_pages.py fails for it)")
    rng = random.Random(f"fuzz:{page}")
    at = AppTest.from_file("../../app.py", default_timeout=120)
    at.run()
    if page != "pages/home.py":
        at.switch_page(page).run()
    assert not at.exception, f"{page} raises on open: {at.exception}"
    history = []
    for _ in range(CHANGES):
        ws = widgets(at)
        if not ws:
            break
        kind, i, w = rng.choice(ws)
        value = random_value(w, kind, rng)
        label = getattr(w, "label", "?")
        history.append(f"{kind}[{i}] {label!r} = {value!r}")
        (choose_option(w, kind, value) if kind in ("selectbox", "radio", "select_slider")
         else w.set_value(value)).run()
        assert not at.exception, f"{page}: after {history}: {at.exception}"
