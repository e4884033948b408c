"""The Live class page in AppTest: a teacher and three students in separate sessions sharing one SQLite file
(join, answer, reveal, bring the class to a page, end), and the hostile cases through the page."""
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
    assert "**1:easy:0** — 3 answered, 33% right" in texts(teacher)
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
