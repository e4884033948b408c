"""The class store's contract, run on SQLite (always) and on a real redis-server (Debian's, started here on a free
127.0.0.1 port, stopped by PID; skipped when it is missing); SQLite shared by two processes, and a process
killed mid-class."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from cnnviz.classroom.live import RedisStore, SQLiteStore, default_path
from cnnviz.classroom.live.resp import Redis
from cnnviz.classroom.live.store import FULL, LOCKED, RECORDED

ROOT = Path(__file__).resolve().parents[3]
REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    if not os.path.exists(REDIS):
        pytest.skip("redis-server is not installed (Debian: apt-get install redis-server)")
    port, tmp = _free_port(), tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen([REDIS, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp), "--save", "",
                             "--appendonly", "no", "--protected-mode", "yes"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        for _ in range(100):
            try:
                if Redis(url, timeout_s=0.5).call("PING") == "PONG":
                    break
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.05)
        else:
            pytest.fail("redis-server did not answer PING within 5 s")
        yield url
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


@pytest.fixture(params=["sqlite", "redis"])
def store(request, tmp_path):
    if request.param == "sqlite":
        s = SQLiteStore(tmp_path / "classes.sqlite3")
    else:
        s = RedisStore(request.getfixturevalue("redis_url"))
        s.r.call("FLUSHDB")
    yield s
    s.close()


def test_a_class_is_created_once_and_read_back(store):
    assert store.create_class("ABCDEF", {"key_hash": "h", "expires": 1.5}, 60)
    assert not store.create_class("ABCDEF", {"key_hash": "other"}, 60)  # a taken code is not overwritten
    assert store.read_class("ABCDEF") == {"key_hash": "h", "expires": 1.5}
    assert store.read_class("ZZZZZZ") is None
    assert store.open_classes() == 1


def test_students_get_free_nicknames_up_to_the_limit(store):
    store.create_class("ABCDEF", {}, 60)
    assert store.add_student("ABCDEF", "t1", "Ana", 3) == "Ana"
    assert store.add_student("ABCDEF", "t2", "ana", 3) == "ana (2)"  # equal but for case: told apart
    assert store.add_student("ABCDEF", "t3", "Ana", 3) == "Ana (3)"
    assert store.add_student("ABCDEF", "t4", "Bo", 3) is None       # full
    assert store.students("ABCDEF") == {"t1": "Ana", "t2": "ana (2)", "t3": "Ana (3)"}
    assert store.nickname_of("ABCDEF", "t2") == "ana (2)"
    assert store.nickname_of("ABCDEF", "nobody") is None


def test_concurrent_joins_respect_the_limit_and_names(store):
    store.create_class("ABCDEF", {}, 60)
    got = []
    threads = [threading.Thread(target=lambda i=i: got.append(store.add_student("ABCDEF", f"t{i}", "Kim", 5)))
               for i in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    names = [g for g in got if g is not None]
    assert len(names) == 5 and got.count(None) == 3
    assert sorted(names) == sorted(["Kim"] + [f"Kim ({i})" for i in range(2, 6)])


def test_the_first_answer_locks_and_the_cap_holds(store):
    store.create_class("ABCDEF", {}, 60)
    assert store.put_answer("ABCDEF", "t1", "q1", "a", 2) == RECORDED
    assert store.put_answer("ABCDEF", "t1", "q1", "b", 2) == LOCKED
    assert store.own_answer("ABCDEF", "t1", "q1") == "a"
    assert store.put_answer("ABCDEF", "t1", "q2", "c", 2) == RECORDED
    assert store.put_answer("ABCDEF", "t1", "q3", "d", 2) == FULL
    store.add_student("ABCDEF", "t1", "A", 9)
    store.add_student("ABCDEF", "t2", "B", 9)
    store.put_answer("ABCDEF", "t2", "q1", "x", 2)
    assert store.answers("ABCDEF") == {"t1": {"q1": "a", "q2": "c"}, "t2": {"q1": "x"}}
    assert store.own_answer("ABCDEF", "t2", "q2") is None


def test_meta_and_presence(store):
    store.create_class("ABCDEF", {}, 60)
    store.put_meta("ABCDEF", "link", "/quiz")
    store.put_meta("ABCDEF", "link", "/lessons")
    store.put_meta("ABCDEF", "reveal:q1", "1")
    assert store.meta("ABCDEF") == {"link": "/lessons", "reveal:q1": "1"}
    store.touch("ABCDEF", "t1", "quiz", 100.0)
    store.touch("ABCDEF", "t1", "saliency", 105.5)
    assert store.presence("ABCDEF") == {"t1": ("saliency", 105.5)}


def test_runs_and_drawings_replace_a_slot_and_stop_at_the_limit(store):
    store.create_class("ABCDEF", {}, 60)
    store.add_student("ABCDEF", "t1", "Ana", 9)
    store.add_student("ABCDEF", "t2", "Bo", 9)
    assert store.put_item("ABCDEF", "run", "t1", "job1", "r1", 2) == RECORDED
    assert store.put_item("ABCDEF", "run", "t1", "job1", "r1b", 2) == RECORDED  # the same slot: replaced
    assert store.put_item("ABCDEF", "run", "t1", "job2", "r2", 2) == RECORDED
    assert store.put_item("ABCDEF", "run", "t1", "job3", "r3", 2) == FULL      # a third slot: refused
    assert store.put_item("ABCDEF", "run", "t1", "job2", "r2b", 2) == RECORDED  # a kept one still changes
    assert store.put_item("ABCDEF", "drawing", "t1", "d1", "x", 1) == RECORDED  # kinds are counted apart
    assert store.put_item("ABCDEF", "drawing", "t2", "d1", "y", 1) == RECORDED
    assert store.items("ABCDEF", "run") == {"t1": {"job1": "r1b", "job2": "r2b"}}
    assert store.items("ABCDEF", "drawing") == {"t1": {"d1": "x"}, "t2": {"d1": "y"}}
    assert store.items("GHJKMN", "run") == {}


def _everything(store, code):
    return (store.read_class(code), store.students(code), store.answers(code), store.meta(code),
            store.presence(code), store.items(code, "run"), store.items(code, "drawing"))


def _fill(store, code):
    store.add_student(code, "t1", "Ana", 9)
    store.put_answer(code, "t1", "q1", "a", 9)
    store.put_meta(code, "link", "/quiz")
    store.touch(code, "t1", "quiz", 1.0)
    store.put_item(code, "run", "t1", "j1", "{}", 9)
    store.put_item(code, "drawing", "t1", "d1", "{}", 9)


def test_ending_a_class_deletes_everything_and_only_it(store):
    for code in ("ABCDEF", "GHJKMN"):
        store.create_class(code, {"c": code}, 60)
        _fill(store, code)
    store.end_class("ABCDEF")
    assert _everything(store, "ABCDEF") == (None, {}, {}, {}, {}, {}, {})
    assert _everything(store, "GHJKMN")[0] == {"c": "GHJKMN"} and store.answers("GHJKMN") == {"t1": {"q1": "a"}}
    assert store.items("GHJKMN", "drawing") == {"t1": {"d1": "{}"}}
    assert store.open_classes() == 1
    if isinstance(store, RedisStore):
        assert store.r.call("KEYS", "cnnviz:class:ABCDEF:*") == []


def test_a_class_expires_with_all_it_holds(store):
    store.create_class("ABCDEF", {}, 0.3)
    _fill(store, "ABCDEF")
    assert store.read_class("ABCDEF") == {}
    time.sleep(0.45)
    assert store.read_class("ABCDEF") is None
    assert _everything(store, "ABCDEF") == (None, {}, {}, {}, {}, {}, {})
    assert store.open_classes() == 0
    assert store.create_class("ABCDEF", {"new": 1}, 60)  # the code is free again


def test_sqlite_is_in_wal_mode_and_the_default_path_sits_beside_the_jobs(tmp_path, monkeypatch):
    s = SQLiteStore(tmp_path / "c.sqlite3")
    assert s._db().execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert s._db().execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    monkeypatch.delenv("CNNVIZ_CLASS_DB", raising=False)
    monkeypatch.setenv("CNNVIZ_STORAGE", str(tmp_path / "store" / "jobs"))
    assert default_path() == tmp_path / "store" / "classes.sqlite3"
    monkeypatch.setenv("CNNVIZ_CLASS_DB", str(tmp_path / "x.db"))
    assert default_path() == tmp_path / "x.db"


WRITER = textwrap.dedent("""
    import sys, types
    # only the store: cnnviz.classroom's own __init__ imports the quiz and with it torch (seconds on a busy box)
    sys.modules["cnnviz.classroom"] = types.ModuleType("cnnviz.classroom")
    sys.modules["cnnviz.classroom"].__path__ = ["cnnviz/classroom"]
    sys.modules["cnnviz.classroom.live"] = types.ModuleType("cnnviz.classroom.live")
    sys.modules["cnnviz.classroom.live"].__path__ = ["cnnviz/classroom/live"]
    from cnnviz.classroom.live.store import SQLiteStore
    path, who, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    s = SQLiteStore(path)
    for i in range(n):
        assert s.put_answer("ABCDEF", who, f"q{i}", f"{who}-{i}", 10 ** 6) == "recorded"
        print(i, flush=True)
""")


def _writer(path, who, n):
    return subprocess.Popen([sys.executable, "-c", WRITER, str(path), who, str(n)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_processes_write_one_sqlite_file_and_nothing_is_lost(tmp_path):
    path = tmp_path / "classes.sqlite3"
    SQLiteStore(path).create_class("ABCDEF", {}, 600)
    procs = [_writer(path, who, 150) for who in ("p1", "p2")]
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    answers = SQLiteStore(path).answers("ABCDEF")
    assert {who: len(a) for who, a in answers.items()} == {"p1": 150, "p2": 150}
    assert answers["p2"]["q149"] == "p2-149"


def test_a_process_killed_mid_class_loses_no_committed_answer(tmp_path):
    path = tmp_path / "classes.sqlite3"
    SQLiteStore(path).create_class("ABCDEF", {}, 600)
    proc = _writer(path, "p1", 10 ** 6)
    committed = [int(proc.stdout.readline()) for _ in range(60)]
    os.kill(proc.pid, signal.SIGKILL)  # mid-write: no chance to close or checkpoint
    proc.wait(timeout=10)
    proc.stdout.close()
    proc.stderr.close()
    kept = SQLiteStore(path).answers("ABCDEF")["p1"]
    assert all(kept[f"q{i}"] == f"p1-{i}" for i in committed)
    assert len(kept) >= 60
    assert json.dumps(kept)  # the file opens and reads after the kill


def test_the_engine_runs_a_class_on_either_store(store):
    from cnnviz.classroom.live import LiveClasses
    live = LiveClasses(store)
    s = live.start_class()
    a, b = live.join(s.code, "Ana", "x"), live.join(s.code, "ANA", "y")
    assert (a.nickname, b.nickname) == ("Ana", "ANA (2)")
    assert live.answer(s.code, a.token, "q1", "3", True) and live.answer(s.code, b.token, "q1", "4", False)
    assert not live.answer(s.code, b.token, "q1", "3", True)
    live.seen(s.code, b.token, "saliency")
    live.reveal(s.code, s.key, "q1")
    assert live.push_link(s.code, s.key, "/saliency?method=ig").seq == 1
    view = live.dashboard(s.code, s.key)
    assert [(r.value, r.count, r.correct) for r in view.questions[0].answers] == [("4", 1, False), ("3", 1, True)]
    assert {p.nickname: p.page for p in view.presence} == {"Ana": None, "ANA (2)": "saliency"}
    assert live.my_answer(s.code, b.token, "q1").correct is False
    assert live.pushed_link(s.code, a.token).link == "/saliency?method=ig"
    live.end_class(s.code, s.key)
    assert store.read_class(s.code) is None and store.students(s.code) == {} and store.answers(s.code) == {}
