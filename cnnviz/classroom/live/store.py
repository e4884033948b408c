"""Where a live class is kept, behind one small interface (:class:`ClassStore`), so that every replica of the
app sees the same class: :class:`SQLiteStore` (the default: one file beside the job storage, shared by the
replicas of one machine) and ``RedisStore`` (cnnviz.classroom.live.redis_store: replicas on several machines).

The store knows nothing of keys, tokens or who may read what: it keeps strings under a class's code and
deletes them when the class ends or expires. The session engine (cnnviz.classroom.live.session) decides.
Every write that must not race (a student joining: the size limit and a free nickname; a first answer, which
locks it) is one atomic step of the backend: one SQLite transaction, one Redis HSETNX/INCR."""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from cnnviz.classroom.live.names import name_key
from cnnviz.errors import ConfigError

RECORDED, LOCKED, FULL = "recorded", "locked", "full"  # what put_answer did


class ClassStore(Protocol):
    def create_class(self, code: str, info: dict, ttl_s: float) -> bool:
        """Keep a new class for ``ttl_s`` seconds; False when ``code`` is taken."""

    def open_classes(self) -> int:
        """Classes not yet expired or ended."""

    def read_class(self, code: str) -> dict | None:
        """The class's info, None when it does not exist (any more)."""

    def add_student(self, code: str, token: str, nickname: str, limit: int) -> str | None:
        """Add a student under a free form of ``nickname`` ("Ana", "Ana (2)", ...; names equal but for case
        count as equal) and return it; None when the class already has ``limit`` students."""

    def nickname_of(self, code: str, token: str) -> str | None: ...

    def students(self, code: str) -> dict[str, str]:
        """token -> nickname."""

    def put_answer(self, code: str, token: str, qid: str, value: str, limit: int) -> str:
        """Keep the first answer only: RECORDED, LOCKED (one was there) or FULL (``limit`` answers kept)."""

    def own_answer(self, code: str, token: str, qid: str) -> str | None: ...

    def answers(self, code: str) -> dict[str, dict[str, str]]:
        """token -> {question id: answer}."""

    def put_meta(self, code: str, field: str, value: str) -> None: ...

    def meta(self, code: str) -> dict[str, str]: ...

    def touch(self, code: str, token: str, page: str, when: float) -> None:
        """The student was last seen on ``page`` at ``when``."""

    def presence(self, code: str) -> dict[str, tuple[str, float]]:
        """token -> (page, last seen)."""

    def put_item(self, code: str, kind: str, token: str, slot: str, value: str, limit: int) -> str:
        """Keep a student's ``kind`` of work ("run", "drawing") under ``slot``: a slot already kept is replaced
        (RECORDED), a new one is refused once ``limit`` slots of that kind are kept (FULL)."""

    def items(self, code: str, kind: str) -> dict[str, dict[str, str]]:
        """token -> {slot: value} of one kind."""

    def end_class(self, code: str) -> None:
        """Delete the class and everything kept under it."""


def default_path() -> Path:
    """``CNNVIZ_CLASS_DB``, else ``classes.sqlite3`` beside the job storage root (``CNNVIZ_STORAGE``, else
    ~/.cache/cnnviz/jobs): one file that every replica of one machine opens."""
    raw = os.environ.get("CNNVIZ_CLASS_DB", "").strip()
    if raw:
        return Path(raw).expanduser()
    jobs = os.environ.get("CNNVIZ_STORAGE", "").strip().removeprefix("file://")
    root = Path(jobs).expanduser() if jobs and "://" not in jobs else Path.home() / ".cache" / "cnnviz" / "jobs"
    return root.parent / "classes.sqlite3"


SCHEMA = """
CREATE TABLE IF NOT EXISTS classes (code TEXT PRIMARY KEY, info TEXT NOT NULL, expires REAL NOT NULL);
CREATE INDEX IF NOT EXISTS classes_expires ON classes (expires);
CREATE TABLE IF NOT EXISTS students (code TEXT, token TEXT, nickname TEXT NOT NULL, name_key TEXT NOT NULL,
    PRIMARY KEY (code, token), UNIQUE (code, name_key));
CREATE TABLE IF NOT EXISTS answers (code TEXT, token TEXT, qid TEXT, value TEXT NOT NULL,
    PRIMARY KEY (code, token, qid));
CREATE TABLE IF NOT EXISTS meta (code TEXT, field TEXT, value TEXT NOT NULL, PRIMARY KEY (code, field));
CREATE TABLE IF NOT EXISTS presence (code TEXT, token TEXT, page TEXT NOT NULL, seen REAL NOT NULL,
    PRIMARY KEY (code, token));
CREATE TABLE IF NOT EXISTS items (code TEXT, kind TEXT, token TEXT, slot TEXT, value TEXT NOT NULL,
    PRIMARY KEY (code, kind, token, slot));
"""
TABLES = ("students", "answers", "meta", "presence", "items", "classes")


def _free_names(nickname: str):
    yield nickname
    for i in range(2, 10 ** 6):
        yield f"{nickname} ({i})"


class SQLiteStore:
    """One SQLite file in WAL mode: readers never wait for the writer, several processes share it, and a
    committed transaction survives the process being killed (``synchronous=NORMAL`` loses, at most, the last
    transactions on a power cut, never on a crash). Short transactions; a writer waits up to ``busy_s`` for
    another (``busy_timeout``). One connection per thread (Streamlit runs each session on its own thread)."""

    def __init__(self, path: str | Path | None = None, busy_s: float = 5.0, clock=time.time):
        self.path = Path(path) if path is not None else default_path()
        self.busy_s, self.clock = busy_s, clock
        self._local = threading.local()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db().executescript(SCHEMA)  # each statement its own transaction (IF NOT EXISTS: idempotent)
        except (OSError, sqlite3.Error) as e:
            raise ConfigError("CNNVIZ_CLASS_DB", f"cannot open the class store {str(self.path)!r}: {e}") from None

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=self.busy_s, isolation_level=None, check_same_thread=False)
            db.execute(f"PRAGMA busy_timeout = {int(self.busy_s * 1000)}")
            if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            self._local.db = db
        return db

    @contextmanager
    def _tx(self):
        """One write transaction, taken at once (BEGIN IMMEDIATE: no upgrade deadlock between two writers)."""
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _purge(self, db) -> None:
        gone = [r[0] for r in db.execute("SELECT code FROM classes WHERE expires <= ?", (self.clock(),))]
        for code in gone:
            for t in TABLES:
                db.execute(f"DELETE FROM {t} WHERE code = ?", (code,))

    def create_class(self, code, info, ttl_s):
        with self._tx() as db:
            self._purge(db)
            cur = db.execute("INSERT OR IGNORE INTO classes VALUES (?, ?, ?)",
                             (code, json.dumps(info), self.clock() + ttl_s))
            return cur.rowcount == 1

    def open_classes(self):
        return self._db().execute("SELECT COUNT(*) FROM classes WHERE expires > ?", (self.clock(),)).fetchone()[0]

    def read_class(self, code):
        row = self._db().execute("SELECT info, expires FROM classes WHERE code = ?", (code,)).fetchone()
        if row is None:
            return None
        if row[1] <= self.clock():
            self.end_class(code)
            return None
        return json.loads(row[0])

    def add_student(self, code, token, nickname, limit):
        with self._tx() as db:
            if db.execute("SELECT COUNT(*) FROM students WHERE code = ?", (code,)).fetchone()[0] >= limit:
                return None
            for name in _free_names(nickname):
                cur = db.execute("INSERT OR IGNORE INTO students VALUES (?, ?, ?, ?)",
                                 (code, token, name, name_key(name)))
                if cur.rowcount == 1:
                    return name

    def nickname_of(self, code, token):
        row = self._db().execute("SELECT nickname FROM students WHERE code = ? AND token = ?",
                                 (code, token)).fetchone()
        return row[0] if row else None

    def students(self, code):
        return dict(self._db().execute("SELECT token, nickname FROM students WHERE code = ?", (code,)))

    def put_answer(self, code, token, qid, value, limit):
        with self._tx() as db:
            if db.execute("SELECT 1 FROM answers WHERE code = ? AND token = ? AND qid = ?",
                          (code, token, qid)).fetchone():
                return LOCKED
            if db.execute("SELECT COUNT(*) FROM answers WHERE code = ? AND token = ?",
                          (code, token)).fetchone()[0] >= limit:
                return FULL
            db.execute("INSERT INTO answers VALUES (?, ?, ?, ?)", (code, token, qid, value))
            return RECORDED

    def own_answer(self, code, token, qid):
        row = self._db().execute("SELECT value FROM answers WHERE code = ? AND token = ? AND qid = ?",
                                 (code, token, qid)).fetchone()
        return row[0] if row else None

    def answers(self, code):
        out: dict[str, dict[str, str]] = {}
        for token, qid, value in self._db().execute("SELECT token, qid, value FROM answers WHERE code = ?", (code,)):
            out.setdefault(token, {})[qid] = value
        return out

    def put_meta(self, code, field, value):
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?, ?)", (code, field, value))

    def meta(self, code):
        return dict(self._db().execute("SELECT field, value FROM meta WHERE code = ?", (code,)))

    def touch(self, code, token, page, when):
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO presence VALUES (?, ?, ?, ?)", (code, token, page, when))

    def presence(self, code):
        return {t: (p, s) for t, p, s in
                self._db().execute("SELECT token, page, seen FROM presence WHERE code = ?", (code,))}

    def put_item(self, code, kind, token, slot, value, limit):
        with self._tx() as db:
            if db.execute("UPDATE items SET value = ? WHERE code = ? AND kind = ? AND token = ? AND slot = ?",
                          (value, code, kind, token, slot)).rowcount == 1:
                return RECORDED
            if db.execute("SELECT COUNT(*) FROM items WHERE code = ? AND kind = ? AND token = ?",
                          (code, kind, token)).fetchone()[0] >= limit:
                return FULL
            db.execute("INSERT INTO items VALUES (?, ?, ?, ?, ?)", (code, kind, token, slot, value))
            return RECORDED

    def items(self, code, kind):
        out: dict[str, dict[str, str]] = {}
        for token, slot, value in self._db().execute(
                "SELECT token, slot, value FROM items WHERE code = ? AND kind = ?", (code, kind)):
            out.setdefault(token, {})[slot] = value
        return out

    def end_class(self, code):
        with self._tx() as db:
            for t in TABLES:
                db.execute(f"DELETE FROM {t} WHERE code = ?", (code,))

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None
