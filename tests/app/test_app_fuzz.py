"""AppTest fuzz: random legal widget values on every page (through the real app.py): no page ever shows an
exception. Seeded per page, a few changes per page, so a failure names the page, widget and value and replays."""
import base64
import random
import zlib
from pathlib import Path

import pytest
from streamlit.proto.Block_pb2 import Block as BlockProto
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


def lazy_tabs(at):
    """(session-state key, labels) of the page's lazy tabs (PageState.tabs: keyed, only the open one runs), or
    None: their widgets are in the tree only while their tab is open, so the fuzz visits every tab."""
    def walk(node):
        for child in getattr(node, "children", {}).values():
            proto = getattr(child, "proto", None)
            if isinstance(proto, BlockProto) and proto.WhichOneof("type") == "tab_container" \
                    and proto.id.startswith("$$ID-") and proto.id.count("-") >= 2:
                return proto.id.split("-", 2)[2], [t.label for t in child.children.values()]
            if (found := walk(child)) is not None:
                return found
    return walk(at._tree)


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
    tabs = lazy_tabs(at)
    history = []
    for tab in tabs[1] if tabs else [None]:  # a few changes in every tab, the settings of the tabs before kept
        if tab is not None:
            at.session_state[tabs[0]] = tab
            history.append(f"tab {tab!r}")
            at.run()
            assert not at.exception, f"{page}: after {history}: {at.exception}"
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


# --------------------------------------------------------------------------- hostile links
# Every page × every query key × a hostile corpus. Payload i goes to key (i + run) mod len(PAYLOADS) in run
# ``run``, so after len(PAYLOADS) runs of a page every key has had every payload once, each run mixing garbage
# with values that parse. Pages run on their own (fast), home and lessons through app.py (``present``). Streamlit
# drops a whole query string past 512 kB (conv_animation has ~100 keys): 2 keys a run get 100 kB, the others 4 kB.
DIRECTIVES = "**bold** [x](http://evil.example) ![i](http://evil.example/a.png) <b>x</b> $\\huge X$ :red[x]"
LONG = "9" * 100_000
# LONG is also an integer past Python's int-to-string limit (int("9" * 5000) raises); the last payload repeats
# the key (st.query_params takes the last value).
NESTED = '[{"a":' * 1000
# ``stack=`` is a deflated, base64 token: its nested payload is nested JSON inside a valid token
NESTED_STACK = base64.urlsafe_b64encode(zlib.compress(b"[" * 60_000, 9)).decode().rstrip("=")
PAYLOADS = (LONG, NESTED, "nan", "1,2,3,4,5,6,7", "", "zzz_unknown\x00\u202e\n", DIRECTIVES, ["1", "-inf"])
EXTRA_KEYS = ("stack", "present", "train_job", "tab")  # tab: PageState.tabs' open tab, not in the defaults
# A directive still active after rendering: markdown emphasis, a link, an image, HTML, LaTeX, a colour.
ACTIVE = ("**bold**", "](http", "![i]", "<b>", "$\\huge", ":red[")
MARKDOWN_ELEMENTS = ("markdown", "caption", "info", "warning", "error", "success", "toast", "title", "header",
                     "subheader", "exception")


def page_keys(page, monkeypatch):
    """Every key the page's PageState(s) read from the link, found by running it once."""
    import cnnviz.ui.state as state
    seen, init = [], state.PageState.__init__

    def recording(self, name, defaults, *a, **k):
        seen.extend(defaults)
        return init(self, name, defaults, *a, **k)
    monkeypatch.setattr(state.PageState, "__init__", recording)
    at = open_at(page, {})
    assert not at.exception, f"{page} raises without a link: {at.exception}"
    return list(dict.fromkeys(seen + list(EXTRA_KEYS)))


def active_directives(at) -> list[str]:
    """(element, body) of every rendered text that shows the payload's markup as markup."""
    found = []
    for kind in MARKDOWN_ELEMENTS:
        for el in at.get(kind):
            body = str(getattr(el, "value", "") or getattr(el, "body", "") or getattr(el, "message", ""))
            found += [f"{kind}: {body[:200]!r}"] if any(d in body for d in ACTIVE) else []
    for kind in KINDS + ("metric", "text_area", "button", "file_uploader"):
        for el in at.get(kind):
            for attr in ("label", "help"):
                body = str(getattr(el, attr, "") or "")
                found += [f"{kind}.{attr}: {body[:200]!r}"] if any(d in body for d in ACTIVE) else []
    return found


def open_at(page, link):
    """The page with this link; home and lessons through app.py (lessons' page links need its navigation)."""
    via_app = page in ("pages/home.py", "pages/lessons.py")
    at = AppTest.from_file(str(ROOT / ("app.py" if via_app else page)), default_timeout=120)
    for k, v in link.items():
        at.query_params[k] = v
    at.run()
    if page == "pages/lessons.py" and not at.exception:
        at.switch_page(page).run()
    return at


@pytest.mark.parametrize("page", PAGES)
def test_hostile_links_never_raise_nor_inject(page, monkeypatch):
    keys = page_keys(page, monkeypatch)
    for run in range(len(PAYLOADS)):
        link = {k: PAYLOADS[(i + run) % len(PAYLOADS)] for i, k in enumerate(keys)}
        for k in [k for k, v in link.items() if v is LONG][2:]:
            link[k] = LONG[:4000]  # still past MAX_QUERY_VALUE_CHARS
        if link.get("stack") is NESTED:
            link["stack"] = NESTED_STACK
        at = open_at(page, link)
        shown = {k: (v if isinstance(v, list) else v[:40]) for k, v in link.items()}
        assert not at.exception, f"{page} with {shown}: {[e.message for e in at.exception]}"
        active = active_directives(at)
        assert not active, f"{page} with {shown}: active markup {active}"
        if len(keys) > len(EXTRA_KEYS):  # a page with settings says which of the link's values it ignored
            assert any("Ignored the link" in n.value for n in at.info), f"{page} with {shown}: no notice"
