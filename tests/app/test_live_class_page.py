"""The Live class page in AppTest: a teacher and three students in separate sessions sharing one SQLite file
(join, answer, reveal, bring the class to a page, end), and the hostile cases through the page."""
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.classroom.live import LiveClasses, SQLiteStore
from cnnviz.classroom.quiz import make_quiz
from cnnviz.ui.live_class import STUDENT, TEACHER
from tests.support.rendered import shown

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def db(tmp_path, monkeypatch):
    path = tmp_path / "classes.sqlite3"
    monkeypatch.setenv("CNNVIZ_CLASS_DB", str(path))
    return path


def session() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/live_class.py").run()
    assert not at.exception, at.exception
    return at


def metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def texts(at) -> str:
    return " ".join(shown(el.value) for kind in ("markdown", "caption", "info", "error", "success")
                    for el in at.get(kind))


def errors(at) -> list[str]:
    return [shown(e.value) for e in at.error]


def keys(at) -> set:
    return {w.key for kind in ("number_input", "button", "text_input") for w in at.get(kind)}


def join(at, code, nick):
    at.text_input(key="live_code").set_value(code)
    at.text_input(key="live_nick").set_value(nick)
    at.button(key="live_join").click().run()
    assert not at.exception, at.exception
    return at


def test_a_teacher_and_three_students(db):
    teacher = session()
    teacher.button(key="live_start").click().run()
    code = metric(teacher, "Join code")
    assert len(code) == 6 and metric(teacher, "Students") == "0"
    assert metric(teacher, "Class ends in") in ("2 h 59 min", "3 h 00 min")
    key = teacher.session_state[TEACHER][1]
    assert key not in str(dict(teacher.query_params))  # never in the link
    students = [join(session(), code.lower(), nick) for nick in ("Ana", "Ana", "**Bo** <b>x</b>")]
    assert "as **Ana**." in texts(students[0]) and "as **Ana (2)**." in texts(students[1])
    raw = " ".join(m.value for m in students[2].markdown)
    assert r"as **\*\*Bo\*\* \<b\>x\</b\>**." in raw  # the nickname's markup escaped: shown as text
    live = LiveClasses(SQLiteStore(db))  # another process's view of the same file
    tokens = [at.session_state[STUDENT][1] for at in students]
    right = make_quiz(1, "easy", 6)[0].answer
    for at, value in zip(students, (right, right + 1, right + 1)):  # through the Quiz page (seed 1, easy)
        at.switch_page("pages/quiz.py").run()
        at.number_input(key="quiz_in_1_easy_0").set_value(value)
        at.button(key="quiz_check_0").click().run()
        assert not at.exception, at.exception
        assert f"Your answer {value:,} is in" in texts(at) and not at.success and not at.error  # not marked yet
        at.button(key="quiz_reset").click().run()  # "Reset score" unlocks nothing in a class
        assert f"Your answer {value:,} is in" in texts(at) and "quiz_in_1_easy_0" not in keys(at)
    teacher.run()
    assert metric(teacher, "Students") == "3"
    assert "**Quiz 1 · easy · question 1** — 3 answered, 33% right" in texts(teacher)  # not the raw id 1:easy:0
    table = teacher.dataframe[-1].value
    assert list(table["Answer"]) == [str(right + 1), str(right)] and list(table["Students"]) == [2, 1]  # wrong first
    who = teacher.dataframe[0].value
    assert sorted(who["Nickname"]) == ["**Bo** <b>x</b>", "Ana", "Ana (2)"] and set(who["Page"]) == {"quiz"}  # app.py's beat
    assert live.my_answer(code, tokens[0], "1:easy:0").correct is None
    teacher.button(key="live_reveal_1:easy:0").click().run()
    assert live.my_answer(code, tokens[0], "1:easy:0").correct is True
    for at, ok in zip(students, (True, False, False)):
        at.run()
        assert bool(at.success) == ok and bool(at.error) == (not ok)  # marked now, with the formula
        at.switch_page("pages/live_class.py").run()
    teacher.text_input(key="live_link").set_value("/quiz?seed=42&level=hard")
    teacher.button(key="live_push").click().run()
    for at in students:
        at.run()
        assert [(el.proto.page, el.proto.query_string) for el in at.get("page_link")] == \
            [("quiz", "seed=42&level=hard")]
        assert "The teacher brings the class to **quiz**." in texts(at)
    teacher.button(key="live_end").click().run()
    assert not teacher.exception and "live_start" in [b.key for b in teacher.button]
    assert live.store.read_class(code) is None and live.store.students(code) == {}
    for at in students:
        at.run()
        assert [t.key for t in at.text_input][:2] == ["live_code", "live_nick"]  # back to the join form


def test_hostile_joins_are_refused_with_clear_messages(db):
    teacher = session()
    teacher.button(key="live_start").click().run()
    code = metric(teacher, "Join code")
    at = session()
    join(at, code, "x" * 10_000)
    assert any("nickname" in e and "10,000 characters" in e for e in errors(at))
    guess = "AAAAAA" if code != "AAAAAA" else "BBBBBB"
    join(at, guess, "Eve")
    assert any("no such class" in e for e in errors(at))
    for _ in range(5):
        join(at, guess, "Eve")
    assert any("too many wrong codes" in e for e in errors(at))
    join(at, code, "Eve")  # the right code too, while refused
    assert any("too many wrong codes" in e for e in errors(at)) and STUDENT not in at.session_state


def test_a_forged_or_stolen_key_opens_no_dashboard(db):
    teacher = session()
    teacher.button(key="live_start").click().run()
    code, key = teacher.session_state[TEACHER]
    intruder = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    intruder.session_state[TEACHER] = (code, key[:-1] + ("A" if key[-1] != "A" else "B"))
    intruder.run()
    intruder.switch_page("pages/live_class.py").run()
    assert not intruder.exception and not [m for m in intruder.metric if m.label == "Join code"]
    assert TEACHER not in intruder.session_state
    for link in ({"key": key}, {"teacher": key, "code": code}):  # nothing in a link grants the role
        other = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        for k, v in link.items():
            other.query_params[k] = v
        other.run()
        other.switch_page("pages/live_class.py").run()
        assert not [m for m in other.metric if m.label == "Join code"]


def test_beat_records_a_joined_students_page_and_ignores_the_rest(db):
    live = LiveClasses(SQLiteStore(db))
    s = live.start_class()
    ana = live.join(s.code, "Ana", "x")

    def page(code, token, where):
        import streamlit as st
        from cnnviz.ui.live_class import STUDENT, beat
        if token:
            st.session_state[STUDENT] = (code, token)
        beat(where)
    for token, where in ((ana.token, "saliency"), (None, "quiz"), ("A" * 32, "quiz"), (ana.token, "../x")):
        at = AppTest.from_function(page, args=(s.code, token, where), default_timeout=30).run()
        assert not at.exception, at.exception
    assert [(p.nickname, p.page) for p in live.dashboard(s.code, s.key).presence] == [("Ana", "saliency")]


def test_the_key_goes_into_one_strict_cookie_once(db):
    teacher = session()
    teacher.button(key="live_start").click().run()
    code, key = teacher.session_state[TEACHER]
    frames = [el for el in teacher.get("iframe") if "cnnviz_live_teacher" in str(el.proto)]
    assert len(frames) == 1 and f"cnnviz_live_teacher={code}.{key}" in str(frames[0].proto)
    assert "SameSite=Strict" in str(frames[0].proto)
    teacher.run()
    assert not [el for el in teacher.get("iframe") if "cnnviz_live_teacher" in str(el.proto)]


# --------------------------------------------------------------------------- the class's runs, drawings, banner
def _one(side=140):
    """A drawn "1" on the Explorer's pad: a vertical stroke, intensities in [0, 1], row by row."""
    pad = [[0.0] * side for _ in range(side)]
    for r in range(25, 115):
        for c in range(66, 74):
            pad[r][c] = 1.0
    return tuple(v for row in pad for v in row)


class Runner:
    """A finished job as the Training Lab's runner reports it (its recipe and events, never a browser's)."""

    def __init__(self, recipe, events):
        self.recipe_, self.events = recipe, events

    def status(self, job):
        from cnnviz.jobs.events import JobStatus
        return JobStatus("done", None, 0, 1)

    def poll(self, job, since=0):
        return self.events

    def recipe(self, job, owner=None):
        return self.recipe_


def test_a_finished_run_and_a_drawing_reach_the_teachers_board_only(db):
    import numpy as np
    import torch
    from cnnviz.architecture.models import build_model
    from cnnviz.explorer.drawing import pad_image, preprocess, recognise_drawing
    from cnnviz.jobs.events import Evaluation, Finished
    from cnnviz.training.recipe import from_switches
    live = LiveClasses(SQLiteStore(db))
    s = live.start_class()
    ana = live.join(s.code, "<i>Ana</i>", "x")
    from cnnviz.jobs.storage import recipe_fields  # what the runner keeps of a job's recipe
    recipe = recipe_fields(from_switches(8, {"crop": True, "ema": True, "clip": True}, False, model="TinyVGG",
                                         epochs=2, lr=0.05))
    evals = [Evaluation(10 * e, e, 1.0, 0.5, 0.9, acc, [[1]], [0], {"train": 1.5, "evaluate": 0.25})
             for e, acc in ((1, 0.6), (2, 0.75))]

    def lab(code, token, recipe, events):
        import streamlit as st
        from cnnviz.io.data import load_dataset
        from cnnviz.ui.live_class import STUDENT, record_run, share_drawing
        from tests.app.test_live_class_page import Runner, _one
        st.session_state[STUDENT] = (code, token)
        st.session_state["train_jobs"] = ["job1"]
        st.session_state["train_run"] = {"ds": load_dataset("digits")}
        record_run(Runner(recipe, events), "owner")
        share_drawing(st, _one())
    events = [*evals, Finished(20, 2, "done", 0.75)]
    at = AppTest.from_function(lab, args=(s.code, ana.token, recipe, events), default_timeout=60).run()
    assert not at.exception, at.exception
    assert at.checkbox(key="live_share").value is True  # on by default, said plainly
    assert at.checkbox(key="live_share").label == "Share my drawing with the teacher"
    (run,) = live.class_runs(s.code, s.key)
    params = sum(p.numel() for p in build_model("TinyVGG", 1, 10, 8, width=16).parameters())
    assert (run.nickname, run.val_acc, run.curve, run.params, run.seconds) == ("<i>Ana</i>", 0.75, (0.6, 0.75),
                                                                              params, 3.5)
    assert run.switches == ("crop", "ema", "clip") and (run.model, run.lr, run.epochs) == ("TinyVGG", 0.05, 2)
    (drawn,) = live.class_drawings(s.code, s.key).drawings
    image = pad_image(list(_one()))
    assert drawn.predicted == int(recognise_drawing(image).argmax()) and drawn.label is None
    want = (preprocess(image)[0, 0] * 255).round().to(torch.uint8).numpy()
    assert drawn.pixels.shape == (28, 28) and np.array_equal(drawn.pixels, want)
    at.selectbox(key="live_said").set_value(1).run()  # saying which digit: the same drawing, now labelled
    (drawn,) = live.class_drawings(s.code, s.key).drawings
    assert drawn.label == 1 and live.class_drawings(s.code, s.key).labelled == 1
    at.checkbox(key="live_share").uncheck().run()  # opted out: nothing more is sent
    assert at.selectbox(key="live_said").disabled and len(live.class_drawings(s.code, s.key).drawings) == 1

    student = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)  # the student's own browser
    student.session_state[STUDENT] = (s.code, ana.token)
    student.run()
    student.switch_page("pages/live_class.py").run()
    assert not student.exception and not student.get("plotly_chart") and not student.dataframe
    assert "Best so far" not in texts(student)
    teacher = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    teacher.session_state[TEACHER] = (s.code, s.key)
    teacher.run()
    teacher.switch_page("pages/live_class.py").run()
    assert not teacher.exception, teacher.exception
    assert f"Best so far: **\\<i\\>Ana\\</i\\>**, 75.0% with {params:,} parameters in 4 s" in \
        " ".join(m.value for m in teacher.success)
    table = teacher.dataframe[-1].value
    assert list(table["Switches"]) == ["crop, ema, clip"] and list(table["Val. acc."]) == ["75.0%"]
    figs = [json.loads(el.proto.spec) for el in teacher.get("plotly_chart")]
    assert len(figs) == 4  # scatter, curves, drawings grid, our handwriting vs the model
    hover = figs[0]["data"][0]["text"][0]
    assert hover.startswith("&lt;i&gt;Ana&lt;/i&gt;<br>") and "<i>" not in hover  # a nickname is text in plotly
    assert [t["y"] for t in figs[1]["data"]] == [[60.0, 75.0]]  # the run's curve, in %
    assert figs[3]["data"][0]["z"][1][drawn.predicted] == 1  # said 1, read as the model read it


def through_app(at: AppTest) -> AppTest:
    """Run the page through app.py, where the banner is drawn: AppTest runs a switched-to page in "pages/
    directory" mode, and page_setup reroutes a session's first run (its marker removed) through app.py."""
    if "cnnviz_session" in at.session_state:
        del at.session_state["cnnviz_session"]
    return at.run()


def test_the_banner_brings_a_student_to_the_teachers_page(db):
    from cnnviz.ui.live_class import FOLLOW
    live = LiveClasses(SQLiteStore(db))
    s = live.start_class()
    ana, bo = live.join(s.code, "Ana", "x"), live.join(s.code, "Bo", "y")
    students = []
    for who, follow in ((ana, False), (bo, True)):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        at.session_state[STUDENT] = (s.code, who.token)
        at.session_state[FOLLOW] = follow
        at.run()
        through_app(at.switch_page("pages/quiz.py"))
        assert not at.exception and "live_banner_go" not in [b.key for b in at.button]  # nothing pushed yet
        students.append(at)
    live.push_link(s.code, s.key, "/conv_arithmetic?s=2")
    ana_at, bo_at = (through_app(at) for at in students)
    assert "The teacher brings the class to **conv\\_arithmetic**." in " ".join(i.value for i in ana_at.info)
    assert ana_at.button(key="live_banner_go").label == "Follow"
    assert {p.nickname: p.page for p in live.dashboard(s.code, s.key).presence} == \
        {"Ana": "quiz", "Bo": "conv_arithmetic"}  # Bo at once (Follow is on); Ana's click: the Chromium test
    assert bo_at.session_state["live_followed"] == 1 and "live_followed" not in ana_at.session_state
    assert "live_banner_go" not in [b.key for b in through_app(bo_at).button]  # followed: no banner
    live.push_link(s.code, s.key, "/quiz")  # the page Ana is on: nothing to follow, the banner goes
    assert "live_banner_go" not in [b.key for b in through_app(ana_at).button]
    assert ana_at.session_state["live_followed"] == 2


def test_question_titles_read_as_the_quiz_and_anything_else_as_escaped_text():
    from cnnviz.ui.live_class import question_title
    assert question_title("42:hard_tf_dice:5") == "Quiz 42 · hard + tf, dice · question 6"
    assert question_title("**x**:<b>:0") == r"\*\*x\*\*\:\<b\>\:0"  # not the Quiz page's: shown as text


def test_an_open_page_keeps_its_student_connected_without_a_click(db, monkeypatch):
    """The banner's and the Live class page's polling fragments say "still here" at most every BEAT_S seconds
    (the teacher's Connected column: seen within 30 s). Before, only a full run of a page did, so a student reading
    one page for half a minute showed as gone."""
    from cnnviz.ui.live_class import BEAT_S
    live = LiveClasses(SQLiteStore(db))
    s = live.start_class()
    ana = live.join(s.code, "Ana", "x")
    seen, real = [], LiveClasses.seen
    monkeypatch.setattr(LiveClasses, "seen", lambda self, code, token, page: seen.append((code, token, page)))

    def page(code, token, back_s):
        import streamlit as st
        from cnnviz.ui.live_class import still_here
        still_here(code, token, "quiz")
        still_here(code, token, "quiz")  # within BEAT_S: not again
        st.session_state["live_beat"] -= back_s  # as if that long ago
        still_here(code, token, "quiz")
    AppTest.from_function(page, args=(s.code, ana.token, BEAT_S - 1), default_timeout=30).run()
    assert seen == [(s.code, ana.token, "quiz")]
    seen.clear()
    at = AppTest.from_function(page, args=(s.code, ana.token, BEAT_S), default_timeout=30).run()
    assert not at.exception and seen == [(s.code, ana.token, "quiz")] * 2
    live.end_class(s.code, s.key)
    monkeypatch.setattr(LiveClasses, "seen", real)  # an ended class: the engine refuses, the page stays silent
    at = AppTest.from_function(page, args=(s.code, ana.token, BEAT_S), default_timeout=30).run()
    assert not at.exception
