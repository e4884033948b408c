"""Lessons: the page runs through the real app and links every step to its page, with the step's example and
its lesson number; the routes and their minutes; the Lessons URL's own state; lesson mode's banner (Previous /
Next switch to the right page with the right query, All steps returns to the same step)."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.support import apptest
from cnnviz.classroom.lessons import LESSONS, ROUTES, route_minutes, route_steps

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def at():
    return apptest.open_page("lessons", timeout=60, via_app=True)  # through app.py: page links resolve there


def test_lessons_link_every_step_with_its_example(at):
    links = at.get("page_link")
    assert len(links) == len(LESSONS) >= 12
    pages = [link.proto.page for link in links]
    assert [Path(p).stem for p in pages] == [Path(step[1]).stem for step in LESSONS]  # each step to its page
    order = ["conv_arithmetic", "conv_animation", "architecture_lab", "training_lab", "feature_maps", "saliency",
             "compression", "metrics_losses", "quiz"]
    ranks = [order.index(Path(p).stem) for p in pages]
    assert ranks == sorted(ranks)  # teaching order: the pages in the navigation's order
    assert [h.value for h in at.subheader] == [f"{i} · {step[0]}" for i, step in enumerate(LESSONS, 1)]
    first = links[0].proto
    assert {"size=9", "k=3", "s=2", "p=1"} <= set(first.query_string.split("&"))
    assert set(links[-1].proto.query_string.split("&")) == {"level=easy", "seed=1", "lesson=18"}
    assert [q.split("lesson=")[1].split("&")[0] for q in (link.proto.query_string for link in links)] == [
        str(n) for n in range(1, len(LESSONS) + 1)]  # each link opens its step's banner
    queries = [set(link.proto.query_string.split("&")) - {f"lesson={n}"} for n, link in enumerate(links, 1)]
    assert {"tfl=8", "tfk=3", "tfs=2", "macs=1", "tab=TF+%27same%27+with+stride"} in queries  # TF 'same', MACs
    assert {"small=1", "temp=0.5", "tab=Soft+Dice+loss"} in queries  # soft Dice, a small object
    assert {"shc=12", "shg=3", "pp=16", "macs=1", "tab=Blocks+drawn"} in queries  # blocks drawn, MACs
    assert {"nas=evolution", "nbud=0.2", "ntr=8", "tab=Search+%28NAS%29"} in queries  # the search
    assert any({"emk=blur", "emp=1", "source=random"} <= q for q in queries)  # padding modes at the border
    assert any(any(p.startswith("stack=3-1-2") for p in q) and any(p.startswith("hyb=1") for p in q)
               for q in queries)  # gridding: one rate in every layer, next to hybrid rates


@pytest.mark.parametrize("title", ["Distillation with few labels", "Focal loss and class imbalance",
                                   "Searching for an architecture"])
def test_new_steps_links_are_read_by_their_page(title):
    page, params = next((step.page, step.params) for step in LESSONS if step.title == title)
    at = apptest.open_page(Path(page).stem, params, via_app=True)
    assert not at.exception and not any("Ignored" in i.value for i in at.info)
    prefix = {"compression": "compress", "metrics_losses": "metrics", "architecture_lab": "arch"}[Path(page).stem]
    for k, v in params.items():  # every key of the step set its control
        w = at.session_state[f"{prefix}_{k}"]
        assert str(int(w) if isinstance(w, bool) else w) == v or float(w) == float(v)


def test_routes_and_their_minutes(at):
    assert route_steps("full") == tuple(range(1, len(LESSONS) + 1))
    short = route_steps("45")
    assert list(short) == sorted(set(short)) and short[0] == 1 and short[-1] == len(LESSONS)  # in order, to the quiz
    assert route_minutes("45") == sum(LESSONS[n - 1].minutes for n in short) <= 45
    assert route_minutes("full") == sum(s.minutes for s in LESSONS) > route_minutes("45")
    radio = at.radio(key="lessons_route")
    assert radio.options == [f"{ROUTES[r][0]} · {route_minutes(r)} min" for r in ROUTES]
    assert f"{len(LESSONS)} steps, {route_minutes('full')} minutes in all." in [c.value for c in at.main.caption]
    radio.set_value("45").run()
    assert [h.value for h in at.subheader] == [f"{n} · {LESSONS[n - 1].title}" for n in short]
    assert all("route=45" in link.proto.query_string for link in at.get("page_link"))
    assert [c.value for c in at.caption if c.value.endswith(" min")] == [f"{LESSONS[n - 1].minutes} min" for n in short]
    assert at.query_params["route"] in ("45", ["45"])


def test_lessons_url_carries_only_its_own_state_and_returns_to_a_step():
    """All steps comes back with ?step=N: the page scrolls to that step's heading; another page's settings in the
    query (here the Convolution Animation's) are dropped from the Lessons URL."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for k, v in dict(kernel="sharpen", source="random", lesson="5", step="7", route="45", present="1").items():
        at.query_params[k] = v
    at.switch_page("pages/lessons.py").run()
    assert not at.exception
    assert set(at.query_params) == {"step", "route", "present"} and at.query_params["step"] in ("7", ["7"])
    scroll = [h.proto.body for h in at.get("html") if "scrollIntoView" in h.proto.body]
    assert len(scroll) == 1 and "getElementById('step-7')" in scroll[0]
    came_back = [c.value for c in at.caption if "came back" in c.value]
    assert came_back == [f"{LESSONS[6].minutes} min · you came back from this step"]
    assert [h.proto.anchor for h in at.subheader if h.value.startswith("7 ·")] == ["step-7"]


def through_app(at: AppTest) -> AppTest:
    """The next run goes through app.py, as every run of a browser does (AppTest runs a switched-to page alone
    after its first run; page_setup reruns a session's first run through app.py)."""
    del at.session_state["cnnviz_session"]
    return at


def banner_text(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown if "lesson-title" in m.value or m.value.startswith("**Try:**"))


def open_step(number: int, route: str | None = None) -> AppTest:
    step = LESSONS[number - 1]
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for k, v in {**(step.params or {}), "lesson": str(number), **({"route": route} if route else {})}.items():
        at.query_params[k] = v
    at.switch_page(step.page).run()
    assert not at.exception, at.exception
    return at


def test_previous_and_next_open_the_neighbouring_steps_with_their_examples():
    at = open_step(5)
    assert f"Step 5 · {LESSONS[4].title}" in banner_text(at) and LESSONS[4].notice in banner_text(at)
    assert at.session_state["anim_source"] == "digit"
    back = [link.proto for link in at.get("page_link") if link.proto.page.endswith("lessons")]
    assert [(Path(b.page).stem, b.query_string) for b in back] == [("lessons", "step=5")]  # All steps: this step
    through_app(at).button(key="lesson_next").click().run()  # step 6: the same page, another tab and input
    assert not at.exception and f"Step 6 · {LESSONS[5].title}" in banner_text(at)
    assert at.query_params["lesson"] in ("6", ["6"]) and at.query_params["tab"] in ("Padding modes", ["Padding modes"])
    assert at.session_state["anim_tab"] == "Padding modes" and at.session_state["anim_source"] == "random"
    through_app(at).button(key="lesson_prev").click().run()  # back to 5: its own example again
    assert "Step 5 ·" in banner_text(at) and at.session_state["anim_tab"] == "Convolution"
    assert at.session_state["anim_source"] == "digit" and "tab" not in at.query_params
    through_app(at).button(key="lesson_prev").click().run()  # step 4: another page
    assert f"Step 4 · {LESSONS[3].title}" in banner_text(at) and [t.value for t in at.title] == ["Conv Arithmetic"]
    assert at.session_state["arith_tab"] == "Receptive field of a stack"


def test_the_45_minute_route_skips_steps_and_the_ends_are_disabled():
    at = open_step(2, route="45")
    assert "(45-minute class)" in banner_text(at) and "2 of 9" in banner_text(at)
    through_app(at).button(key="lesson_next").click().run()  # 3 and 4 are not on the route
    assert "Step 5 ·" in banner_text(at) and at.query_params["route"] in ("45", ["45"])
    assert open_step(1).button(key="lesson_prev").disabled
    last = open_step(len(LESSONS))
    assert last.button(key="lesson_next").disabled and not last.button(key="lesson_prev").disabled


@pytest.mark.parametrize("value", ["99", "five", "5" * 40, "1"])
def test_a_bad_or_foreign_lesson_value_shows_no_banner(value):
    """Garbage is ignored with a plain-text notice; step 1 is a step of another page: no banner, no notice."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["lesson"] = value
    at.switch_page("pages/conv_animation.py").run()
    assert not at.exception and not banner_text(at)
    notices = [i.value for i in at.info if "lesson" in i.value]
    assert len(notices) == (value != "1") and all(value[:20] in n for n in notices)
