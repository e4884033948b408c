"""A crawler of the real app in a real browser: load a page, operate every control once or more and,
after every step, collect what a presenter would be embarrassed by: a traceback (``stException``), cut text
(an ellipsis, text wider than its box, a word broken over two lines), a formula (KaTeX) or a code block wider than
its column, a page wider than the window, and in presenter mode (``?present=1``) text and chart text under 16 px
and, as the page opens, a main figure below the fold. A select box's chosen value counts as text: it is an
``<input>``'s value in Streamlit 1.67, measured in the input's font against its box. ``lesson_links()``: every
Lessons step's link, crawled as it opens. Shared by bench/crawl.py and tests/e2e/test_crawl.py; the server
start-up and the chromium flags come from tests/support/browser.py.

One *step* = one user action (pick an option, flip a toggle, set a number, click a tab or a harmless button)
followed by a wait until the app is idle again (script state ``notRunning``, no ``stSkeleton``, no running
status widget); the time to idle is recorded per step."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from tests.support.crawler_js import (CHECK_JS, CONTROLS_JS, EXCEPTIONS_JS, FOLD_JS, IDLE_JS, MARK_JS,  # noqa: F401
                                      RUNNING_JS)

# Buttons and toggles that start long jobs (training, search, distillation) or change the whole session:
# never operated by the crawler. Matched against the control's label, case-insensitive, at its start.
# Buttons that start a long job (crawled in their own short tests). A label's innerText starts with its Material
# icon's name ("play_arrow Start"): an optional icon name comes first.
DENY = re.compile(r"^\s*([a-z0-9_]+\s+)?(start|resume|train|run search|distil|presenter mode)\b", re.I)

# The 13 pages: url path (st.navigation derives it from the file name; home is the default page at "/").
PAGES = {"home": "", "lessons": "lessons", "quiz": "quiz", "live_class": "live_class",
         "conv_arithmetic": "conv_arithmetic",
         "conv_animation": "conv_animation", "architecture_lab": "architecture_lab",
         "training_lab": "training_lab", "network_explorer": "network_explorer", "feature_maps": "feature_maps",
         "saliency": "saliency", "compression": "compression", "metrics_losses": "metrics_losses"}

VIEWPORTS = {"normal": {"width": 1400, "height": 900, "present": False},
             "present": {"width": 1280, "height": 720, "present": True}}


# Presenter mode, as the page opens: the page's main figure starts in the top FOLD_SHARE of the window, so a
# projector shows at least a third of the window's height of it without scrolling. The main figure is the first
# chart, or MAIN_FIGURE's element where the page's result is not a chart (Conv Arithmetic's four numbers).
# None when the page shows neither as it opens (Home, Lessons, Quiz).
FOLD_SHARE = 2 / 3
MAIN_FIGURE = {"conv_arithmetic": "[data-testid=stMetric]"}


@dataclass
class Finding:
    page: str
    viewport: str
    kind: str        # exception | label | button | tab | metric | select | nav | heading | ... | page-width | chart-font
    #                  | fold (presenter mode: the main figure starts below FOLD_SHARE of the window)
    text: str
    detail: str
    step: int
    state: str       # the action after which it was first seen


@dataclass
class CrawlResult:
    page: str
    viewport: str
    steps: int = 0
    step_times: list = field(default_factory=list)   # (action, seconds to idle)
    exceptions: list = field(default_factory=list)   # Finding
    truncated: list = field(default_factory=list)    # Finding (cut text, page width, chart font)
    screenshot: str = ""
    skipped: list = field(default_factory=list)      # controls not operated (deny list / gone), for the record

    def p95(self) -> float:
        ts = sorted(t for a, t in self.step_times if a != "load")
        return ts[min(len(ts) - 1, int(round(0.95 * (len(ts) - 1))))] if ts else 0.0


def wait_idle(page, timeout: float = 60.0, settle: float = 0.15) -> float:
    """Seconds until the app is idle (a rerun that starts within ``settle`` s is waited for, too)."""
    t0 = time.time()
    try:  # a rerun the action triggers starts a moment after the event
        page.wait_for_function(RUNNING_JS, timeout=settle * 1000, polling=30)
    except Exception:
        pass
    page.wait_for_function(IDLE_JS, timeout=timeout * 1000, polling=50)
    page.wait_for_timeout(80)  # the last delta is painted
    page.wait_for_function(IDLE_JS, timeout=timeout * 1000, polling=50)
    return time.time() - t0


def page_url(server: str, name: str, present: bool, query: dict | None = None) -> str:
    q = {**(query or {}), **({"present": "1"} if present else {})}
    return f"{server}/{PAGES[name]}" + (f"?{urlencode(q)}" if q else "")


def lesson_links() -> list[tuple[str, str, dict]]:
    """Every step of the Lessons path as a link opens it: (label "lesson N", page, query: the step's example and
    ``lesson=N``, which shows the step's banner above the page)."""
    from cnnviz.classroom.lessons import LESSONS
    return [(f"lesson{n}", Path(step[1]).stem, {**(step[3] or {}), "lesson": str(n)})
            for n, step in enumerate(LESSONS, 1)]


# What a finding counts as in the summary (issue: 0 of each): a formula or code block wider than its column, cut
# text of a label, button, tab, heading … (every other kind of cut text), text or chart text under 16 px in presenter
# mode, content wider than the window, the main figure below the fold.
CATEGORIES = {"formula": "clipped formulas", "code": "clipped code blocks", "font": "small text",
              "chart-font": "small text", "page-width": "wider than the window", "fold": "below the fold",
              "overlap": "covering content"}


def category(kind: str) -> str:
    return CATEGORIES.get(kind, "truncated labels")


def _current_last(n: int, cur: int, max_options: int | None) -> list:
    """Every option of a select box or radio, the one chosen now last (capped at ``max_options``, the current
    one kept): a person tries the others and comes back, and the page ends as it was, so the controls that only
    its current choice shows (Feature Maps' layers under a shipped model, not under "Upload a checkpoint") are
    crawled too."""
    others = [k for k in range(n) if k != cur]
    if not 0 <= cur < n:
        return others[:max_options] if max_options else others
    return (others[:max_options - 1] if max_options else others) + [cur]


def _actions(ctrl: dict, max_options: int | None) -> list:
    kind, n = ctrl["kind"], ctrl["n"]
    if kind == "radio":
        return _current_last(n, ctrl.get("cur", -1), max_options)
    if kind in ("buttongroup", "tabs"):
        opts = list(range(n))
    elif kind == "selectbox":
        opts = [None]  # the option count is only known once the list is open: expanded at run time
    elif kind == "toggle":
        opts = ["flip", "flip back"]
    elif kind in ("number", "slider"):
        opts = ["min", "max", "middle"]
    else:
        opts = ["click"]
    if max_options is not None and kind in ("buttongroup", "tabs"):
        opts = opts[:max_options]
    return opts


class Crawler:
    def __init__(self, browser, server: str, shots: Path, *, max_steps: int | None = None,
                 max_options: int | None = None, min_font: float = 16.0, step_timeout: float = 90.0,
                 log=None):
        self.browser, self.server, self.shots = browser, server, Path(shots)
        self.max_steps, self.max_options, self.min_font = max_steps, max_options, min_font
        self.step_timeout = step_timeout
        self.log = log or (lambda *_: None)

    def crawl(self, name: str, viewport: str, query: dict | None = None, label: str | None = None) -> CrawlResult:
        """Crawl page ``name`` opened with ``query`` (a lesson link's example); ``label`` names the result (default
        the page)."""
        vp = VIEWPORTS[viewport]
        res = CrawlResult(label or name, viewport)
        ctx = self.browser.new_context(viewport={"width": vp["width"], "height": vp["height"]})
        page = ctx.new_page()
        page.set_default_timeout(30_000)
        seen_findings = set()

        def check(state: str):
            for text in page.evaluate(EXCEPTIONS_JS):
                key = ("exception", text)
                if key not in seen_findings:
                    seen_findings.add(key)
                    res.exceptions.append(Finding(res.page, viewport, "exception", text, "", res.steps, state))
            for f in page.evaluate(CHECK_JS, [vp["present"], self.min_font]):
                key = (f["kind"], f.get("key") or f["text"])
                if key not in seen_findings:
                    seen_findings.add(key)
                    res.truncated.append(Finding(res.page, viewport, f["kind"], f["text"], f["detail"], res.steps, state))

        try:
            t0 = time.time()
            page.goto(page_url(self.server, name, vp["present"], query))
            page.wait_for_selector("[data-testid=stApp]", timeout=120_000)
            wait_idle(page, timeout=180, settle=1.0)
            res.step_times.append(("load", time.time() - t0))
            check("page loaded")
            if vp["present"] and query is None:  # a lesson link: its key element, tests/e2e/test_lesson_keys.py
                top = page.evaluate(FOLD_JS, MAIN_FIGURE.get(name, ".js-plotly-plot"))
                if top is not None and top > FOLD_SHARE * vp["height"]:
                    res.truncated.append(Finding(res.page, viewport, "fold", "main figure below the fold",
                                                 f"first chart starts at {top} px of {vp['height']}", 0, "page loaded"))
            shot = self.shots / f"{res.page}-{viewport}.png"
            page.screenshot(path=str(shot), full_page=False)
            res.screenshot = str(shot)
            done: set = set()
            queue: list = []

            def discover(at: int):
                new = []
                for c in page.evaluate(CONTROLS_JS):
                    key = (c["kind"], c["label"], c["idx"])
                    if key in done:
                        continue
                    done.add(key)
                    if DENY.search(c["label"]) or (c["kind"] == "button" and not c["label"]):
                        res.skipped.append(f"{c['kind']} {c['label']!r} (deny list)")
                        continue
                    new += [(c, o) for o in _actions(c, self.max_options)]
                queue[at:at] = new  # depth first: what a tab or an expander revealed is crawled before the next tab

            discover(0)
            i = 0
            while i < len(queue):
                if self.max_steps is not None and res.steps >= self.max_steps:
                    break
                ctrl, opt = queue[i]
                i += 1
                state = f"{ctrl['kind']} {ctrl['label']!r} → {opt if opt is not None else 'open'}"
                try:
                    more = self._operate(page, ctrl, opt)
                except Exception as e:  # the control is gone, hidden or not operable: not a product error
                    res.skipped.append(f"{state}: {type(e).__name__}: {str(e).splitlines()[0][:100]}")
                    page.keyboard.press("Escape")
                    continue
                if more:  # a selectbox: one step per option
                    queue[i:i] = [(ctrl, k) for k in more]
                    continue
                res.steps += 1
                try:
                    dt = wait_idle(page, timeout=self.step_timeout)
                except Exception:
                    dt = self.step_timeout
                    res.skipped.append(f"{state}: not idle within {self.step_timeout:g} s")
                res.step_times.append((state, dt))
                self.log(f"  {name}/{viewport} step {res.steps}: {state} ({dt:.2f} s)")
                check(state)
                discover(i)
            shot = self.shots / f"{res.page}-{viewport}-end.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            ctx.close()
        return res

    def _operate(self, page, ctrl: dict, opt):
        """Do one action; returns a list of further options (selectbox), else None."""
        if not page.evaluate(MARK_JS, [ctrl["kind"], ctrl["label"], ctrl["idx"]]):
            raise LookupError("control not visible")
        w = page.locator("[data-crawl-target]")
        kind = ctrl["kind"]
        if kind == "selectbox":  # Streamlit 1.67: a react-aria combobox (an <input>), its list a virtual dropdown
            box = w.locator("input[role=combobox]").first
            if box.is_disabled():
                raise LookupError("select box disabled")
            current = box.input_value().strip()
            box.click()
            options = page.locator("[data-testid=stSelectboxVirtualDropdown] [role=option]")
            options.first.wait_for(timeout=5000)
            n = options.count()
            if opt is None:
                texts = [t.strip() for t in options.all_inner_texts()]
                page.keyboard.press("Escape")
                return _current_last(n, texts.index(current) if current in texts else -1, self.max_options)
            options.nth(opt).click()
        elif kind == "radio":
            if w.locator("input").nth(opt).is_disabled():
                raise LookupError("option disabled")
            w.locator("[role=radiogroup] label").nth(opt).click()
        elif kind == "buttongroup":
            w.locator("button").nth(opt).click()
        elif kind == "tabs":
            w.locator("[role=tablist]").first.locator("[role=tab]").nth(opt).click()
        elif kind == "toggle":
            if w.locator("input").first.is_disabled():
                raise LookupError("toggle disabled")
            w.locator("label").first.click()
        elif kind == "expander":
            w.locator("summary").first.click()
        elif kind == "button":
            w.locator("button").first.click()
        elif kind == "number":
            inp = w.locator("input").first
            if inp.is_disabled():  # e.g. the builder's Kernel for a layer that has none: fill() would wait 30 s
                raise LookupError("number input disabled")
            lo, hi, step = (inp.get_attribute(a) for a in ("min", "max", "step"))
            if lo is not None and hi is not None and lo != "" and hi != "":
                lo_f, hi_f = float(lo), float(hi)
                integer = all(re.fullmatch(r"-?\d+", v or "0") for v in (lo, hi, step or "1"))
                mid = (lo_f + hi_f) / 2
                val = {"min": lo_f, "max": hi_f, "middle": round(mid) if integer else mid}[opt]
                inp.fill(str(int(val)) if integer else f"{val:g}")
                inp.press("Enter")
            else:  # unbounded: the step buttons
                btn = {"min": "stNumberInputStepDown", "max": "stNumberInputStepUp",
                       "middle": "stNumberInputStepDown"}[opt]
                b = w.get_by_test_id(btn)
                if b.is_disabled():
                    raise LookupError("step button disabled")
                b.click()
        elif kind == "slider":
            s = w.get_by_role("slider").first
            if s.get_attribute("aria-disabled") == "true":
                raise LookupError("slider disabled")
            if opt == "middle":
                track = w.locator("[data-baseweb=slider]").first
                box = (track if track.count() else s).bounding_box()
                s.focus()
                page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            else:
                s.focus()
                s.press("Home" if opt == "min" else "End")
        return None


def format_table(results: list[CrawlResult]) -> str:
    rows = [("page", "viewport", "steps", "exceptions", "truncated", "p95 step s")]
    for r in results:
        rows.append((r.page, r.viewport, str(r.steps), str(len(r.exceptions)), str(len(r.truncated)),
                     f"{r.p95():.2f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows)


def summary_line(results: list[CrawlResult]) -> str:
    times = sorted(t for r in results for a, t in r.step_times if a != "load")
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))] if times else 0.0
    counts = {c: 0 for c in dict.fromkeys(["clipped formulas", "clipped code blocks", "truncated labels",
                                            *CATEGORIES.values()])}
    for r in results:
        for f in r.truncated:
            counts[category(f.kind)] += 1
    detail = ", ".join(f"{n} {c}" for c, n in counts.items())
    return (f"crawl: {sum(len(r.exceptions) for r in results)} exceptions, "
            f"{sum(len(r.truncated) for r in results)} truncated ({detail}), {sum(r.steps for r in results)} steps, "
            f"p95 {p95:.2f} s")


def describe(r: CrawlResult) -> str:
    lines = []
    for f in r.exceptions + r.truncated:
        lines.append(f"  [{f.page} {f.viewport}] {f.kind}: {f.text!r} {f.detail} — at step {f.step}, after {f.state}")
    if r.screenshot:
        lines.append(f"  screenshot: {r.screenshot}")
    return "\n".join(lines)
