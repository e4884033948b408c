"""The live class engine: roles proved by secrets, answers locked and revealed, the teacher's view, pushed links,
and the hostile cases (a guessed code, a forged or missing key, huge or marked-up nicknames, 500 join attempts)."""
import ast
import hashlib
import math
import re
from pathlib import Path

import pytest

from cnnviz.classroom.live import LIVE_PAGES, JoinLimiter, LiveClasses, SQLiteStore, check_link, clean_code, nickname
from cnnviz.classroom.live.session import MyAnswer
from cnnviz.classroom.live.names import CODE_ALPHABET, NO_CLASS
from cnnviz.classroom.live.session import NOT_STUDENT, NOT_TEACHER
from cnnviz.errors import ConfigError
from cnnviz.limits import CLASS_CODE_LENGTH, CLASS_JOIN_BURST

ROOT = Path(__file__).resolve().parents[3]


class Clock:
    def __init__(self, t=1_000_000.0):
        self.t = t

    def __call__(self):
        return self.t


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def live(tmp_path, clock):
    return LiveClasses(SQLiteStore(tmp_path / "c.sqlite3", clock=clock), JoinLimiter(clock=clock), clock=clock,
                       max_students=4)


def test_start_gives_a_code_from_the_alphabet_and_a_long_key_stored_only_as_a_hash(live, clock):
    s = live.start_class()
    assert len(s.code) == CLASS_CODE_LENGTH and set(s.code) <= set(CODE_ALPHABET)
    assert len(s.key) >= 32 and s.expires == clock.t + 3 * 3600  # token_urlsafe(24): 192 bits
    info = live.store.read_class(s.code)
    assert info["key_hash"] == hashlib.sha256(s.key.encode()).hexdigest() and s.key not in str(info)
    assert clean_code(f" {s.code[:3].lower()}-{s.code[3:]} ") == s.code
    assert len({live.start_class().code for _ in range(20)}) == 20


def test_a_class_round_trip(live, clock):
    s = live.start_class()
    ana = live.join(s.code.lower(), "  Ana  ", "10.0.0.1")
    ana2 = live.join(s.code, "ana", "10.0.0.2")
    bo = live.join(s.code, "Bo", "10.0.0.3")
    assert (ana.nickname, ana2.nickname, bo.nickname) == ("Ana", "ana (2)", "Bo")
    assert len({ana.token, ana2.token, bo.token}) == 3
    assert live.answer(s.code, ana.token, "q1", "4", correct=True)
    assert not live.answer(s.code, ana.token, "q1", "5", correct=False)  # locked after the first Check
    live.answer(s.code, ana2.token, "q1", "5", correct=False)
    live.answer(s.code, bo.token, "q1", "5", correct=False)
    live.answer(s.code, bo.token, "q2", 7, correct=True)
    assert live.my_answer(s.code, ana.token, "q1").correct is None  # not revealed yet
    clock.t += 12
    live.seen(s.code, ana.token, "quiz")
    clock.t += 40
    live.seen(s.code, bo.token, "network_explorer")
    view = live.dashboard(s.code, s.key)
    assert view.students == 3 and view.left_s == 3 * 3600 - 52
    q1, q2 = view.questions
    assert (q1.qid, q1.answered, q1.revealed) == ("q1", 3, False) and math.isclose(q1.share_correct, 1 / 3)
    assert [(a.value, a.count, a.correct) for a in q1.answers] == [("5", 2, False), ("4", 1, True)]  # wrong first
    assert (q2.answered, q2.share_correct, q2.answers[0].value) == (1, 1.0, "7")
    where = {p.nickname: (p.page, p.seen_s_ago, p.connected) for p in view.presence}
    assert where == {"Ana": ("quiz", 40.0, False), "ana (2)": (None, None, False),
                     "Bo": ("network_explorer", 0.0, True)}
    live.reveal(s.code, s.key, "q1")
    assert live.my_answer(s.code, ana.token, "q1").correct is True
    assert live.my_answer(s.code, ana2.token, "q1") == MyAnswer("5", False)
    assert live.my_answer(s.code, ana2.token, "q2") is None
    assert live.dashboard(s.code, s.key).questions[0].revealed
    assert live.student(s.code, bo.token).nickname == "Bo"  # after a reload
    live.end_class(s.code, s.key)
    assert live.store.students(s.code) == {} and live.store.read_class(s.code) is None
    for call in (lambda: live.student(s.code, bo.token), lambda: live.dashboard(s.code, s.key)):
        with pytest.raises(ConfigError):
            call()


def test_bring_the_class_here(live):
    s = live.start_class()
    st = live.join(s.code, "Ana", "a")
    assert live.pushed_link(s.code, st.token) is None
    first = live.push_link(s.code, s.key, "/network_explorer?layer=conv1&k=5,5")
    assert (first.link, first.seq) == ("/network_explorer?layer=conv1&k=5,5", 1)
    second = live.push_link(s.code, s.key, "quiz?seed=42&level=hard")
    assert live.pushed_link(s.code, st.token) == second and (second.link, second.seq) == ("/quiz?seed=42&level=hard", 2)
    assert live.dashboard(s.code, s.key).link == "/quiz?seed=42&level=hard"


@pytest.mark.parametrize("link", ["https://evil.example/quiz", "//evil.example/quiz", "javascript:alert(1)",
                                  "/admin", "/quiz?train_job=abc", "/quiz?key=abc", "/quiz#x", "/quiz?seed=<b>",
                                  "/quiz?Seed=1", "/quiz?seed=1\n", "\\\\evil", "/quiz?" + "a=1&" * 40, "",
                                  "/quiz?x=" + "1" * 2000, None, 42])
def test_a_pushed_link_stays_inside_the_app(live, link):
    s = live.start_class()
    with pytest.raises(ConfigError, match="link"):
        live.push_link(s.code, s.key, link)


def test_links_name_only_known_settings_when_asked():
    assert check_link("/saliency?method=ig", params={"method"}) == "/saliency?method=ig"
    with pytest.raises(ConfigError, match="not a setting"):
        check_link("/saliency?other=1", params={"method"})


def test_the_pages_are_app_py_navigation():
    tree = ast.parse((ROOT / "app.py").read_text())
    pages = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "Page":
            kw = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg in ("url_path", "default")}
            stem = Path(ast.literal_eval(node.args[0])).stem
            pages[stem] = "" if kw.get("default") else kw.get("url_path", stem)
    assert set(pages.values()) == set(LIVE_PAGES)


@pytest.mark.parametrize("raw,shown", [("Ana", "Ana"), ("  Ana \t  Lu ", "Ana Lu"), ("Cafe\u0301", "Café"),
                                       ("go\u202edog", "godog"), ("a\u200bb", "ab"),
                                       ("**bold** <b>x</b>", "**bold** <b>x</b>"),
                                       ("x" * 24, "x" * 24)])
def test_nicknames_are_clean_text(raw, shown):
    assert nickname(raw) == shown


@pytest.mark.parametrize("raw,message", [("x" * 10_000, "10,000 characters"), ("x" * 25, "25 characters"),
                                         ("", "empty"), ("\u200b\u202e \n", "empty"), (None, "text"),
                                         (["Ana"], "text")])
def test_bad_nicknames_are_refused_clearly(live, raw, message):
    s = live.start_class()
    with pytest.raises(ConfigError, match=message) as e:
        live.join(s.code, raw, "a")
    assert e.value.field == "nickname"
    assert live.store.students(s.code) == {}


def test_markup_in_a_nickname_reaches_the_teacher_as_the_same_text(live):
    s = live.start_class()
    live.join(s.code, "<script>x</script>", "a")
    assert [p.nickname for p in live.dashboard(s.code, s.key).presence] == ["<script>x</script>"]


def test_a_guessed_code_reads_like_a_missing_class(live):
    s = live.start_class()
    guess = next(c for c in ("AAAAAA", "BBBBBB") if c != s.code)
    for code in (guess, "0O1IL0", "abc", "", None, "A" * 10_000):
        with pytest.raises(ConfigError) as e:
            live.join(code, "Ana", f"addr-{code!s:.8}")
        assert (e.value.field, str(e.value)) == ("code", f"code: {NO_CLASS}")


def test_forged_missing_or_other_keys_never_open_the_teacher_view(live):
    s, other = live.start_class(), live.start_class()
    st = live.join(s.code, "Ana", "a")
    forged = [None, "", s.key[:-1] + ("A" if s.key[-1] != "A" else "B"), other.key, st.token, "x" * 10_000,
              hashlib.sha256(s.key.encode()).hexdigest()]
    for key in forged:
        for call in (live.dashboard, live.end_class):
            with pytest.raises(ConfigError) as e:
                call(s.code, key)
            assert str(e.value) == f"key: {NOT_TEACHER}"
        with pytest.raises(ConfigError, match=re.escape(NOT_TEACHER)):
            live.reveal(s.code, key, "q1")
        with pytest.raises(ConfigError, match=re.escape(NOT_TEACHER)):
            live.push_link(s.code, key, "/quiz")
    with pytest.raises(ConfigError, match=re.escape(NOT_TEACHER)):  # a right key with a made-up code reads the same
        live.dashboard("ZZZZZZ" if s.code != "ZZZZZZ" else "YYYYYY", s.key)
    assert live.dashboard(s.code, s.key).students == 1  # nothing ended


def test_a_student_token_opens_only_its_own_class_and_answers(live):
    a, b = live.start_class(), live.start_class()
    sa = live.join(a.code, "Ana", "x")
    for code, token in ((b.code, sa.token), (a.code, None), (a.code, "forged"), (a.code, a.key), ("??", sa.token)):
        for call in (lambda: live.answer(code, token, "q1", "1", True), lambda: live.pushed_link(code, token),
                     lambda: live.seen(code, token, "quiz"), lambda: live.my_answer(code, token, "q1")):
            with pytest.raises(ConfigError) as e:
                call()
            assert str(e.value) == f"token: {NOT_STUDENT}"
    assert live.store.answers(a.code) == {} and live.store.answers(b.code) == {}
    with pytest.raises(ConfigError, match="page"):
        live.seen(a.code, sa.token, "../../etc/passwd")


def test_500_join_attempts_are_refused_after_the_first_few(live, clock):
    s = live.start_class()
    errors = []
    for i in range(500):
        try:
            live.join(f"{i:06d}", "Eve", "203.0.113.9")
        except ConfigError as e:
            errors.append(str(e))
    assert len(errors) == 500
    assert errors[:CLASS_JOIN_BURST] == [f"code: {NO_CLASS}"] * CLASS_JOIN_BURST
    assert all("too many wrong codes" in e and "wait" in e for e in errors[CLASS_JOIN_BURST:])
    with pytest.raises(ConfigError, match="too many"):  # the right code too, while refused: nothing learnt
        live.join(s.code, "Eve", "203.0.113.9")
    assert live.join(s.code, "Ann", "203.0.113.10").nickname == "Ann"  # another address is not held up
    clock.t += 10  # one token back
    assert live.join(s.code, "Eve", "203.0.113.9").nickname == "Eve"


def test_a_class_behind_one_address_joins_without_tripping_the_limit(tmp_path, clock):
    live = LiveClasses(SQLiteStore(tmp_path / "c.sqlite3", clock=clock), JoinLimiter(clock=clock), clock=clock)
    s = live.start_class()
    names = [live.join(s.code, "Student", "192.168.1.1").nickname for _ in range(40)]  # one school NAT
    assert names[:3] == ["Student", "Student (2)", "Student (3)"] and len(set(names)) == 40


def test_a_class_has_a_size_limit_and_a_lifetime(live, clock):
    s = live.start_class()
    for i in range(4):
        live.join(s.code, f"S{i}", f"a{i}")
    with pytest.raises(ConfigError, match="full"):
        live.join(s.code, "Late", "a9")
    clock.t += 3 * 3600
    with pytest.raises(ConfigError, match="no such class"):
        live.join(s.code, "Late", "a9")
    with pytest.raises(ConfigError, match=re.escape(NOT_TEACHER)):
        live.dashboard(s.code, s.key)
    assert live.store.students(s.code) == {}  # expired: deleted, not just hidden


def test_answers_are_bounded_text(live):
    s = live.start_class()
    st = live.join(s.code, "Ana", "a")
    for qid, value in (("q" * 65, "1"), ("q1", "x" * 65), ("q1", "<b>"), ("q1", ""), ("q1", None), ("q1", math.nan)):
        with pytest.raises(ConfigError):
            live.answer(s.code, st.token, qid, value, True)
    small = LiveClasses(live.store, live.limiter, clock=live.clock, max_questions=2)
    small.answer(s.code, st.token, "q1", "1", True)
    small.answer(s.code, st.token, "q2", "1", True)
    with pytest.raises(ConfigError, match="at most 2 answers"):
        small.answer(s.code, st.token, "q3", "1", True)


def test_open_classes_are_capped(tmp_path):
    live = LiveClasses(SQLiteStore(tmp_path / "c.sqlite3"), max_open=2)
    a = live.start_class()
    live.start_class()
    with pytest.raises(ConfigError, match="2 classes open"):
        live.start_class()
    live.end_class(a.code, a.key)
    live.start_class()


def test_the_limiter_forgets_addresses_within_its_bound(clock):
    lim = JoinLimiter(burst=2, refill_s=10, max_addresses=100, clock=clock)
    for i in range(1000):
        lim.failed(f"a{i}")
    assert len(lim._buckets) <= 100
