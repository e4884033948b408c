"""A live class: the teacher starts it (a join code to show, a key to keep), students join with the code and a
nickname, answer questions (the first answer locks), the teacher watches who is where and how the class
answers, reveals answers, pushes a link everyone may follow, and ends the class (which deletes it).

Roles are proved by secrets, never by a link: the teacher key (``secrets.token_urlsafe(24)``, 192 bits; only
its SHA-256 is stored, compared with ``hmac.compare_digest``) and each student's token (the same size). Every
refusal of a code, key or token reads the same whether or not the class exists. A student's calls return
only that student's own data; the nickname list, presence and everyone's answers go to the teacher only."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass

from cnnviz.classroom.live.limiter import JoinLimiter
from cnnviz.classroom.live.names import LIVE_PAGES, NO_CLASS, check_link, clean_code, new_code, nickname, text_id
from cnnviz.classroom.live.store import FULL, LOCKED, ClassStore, SQLiteStore
from cnnviz.classroom.live.work import ClassWork
from cnnviz.errors import ConfigError
from cnnviz.limits import CLASS_LIFETIME_S, CLASS_MAX_OPEN, CLASS_MAX_QUESTIONS, CLASS_MAX_STUDENTS

NOT_TEACHER = "no such class, or not its teacher key (start a class, or open it from the browser that started it)"
NOT_STUDENT = "no such class, or not joined to it (the class may have ended: join again with the code)"
PRESENT_S = 30.0  # a student seen within this many seconds counts as connected
SECRET_CHARS = 64  # a key or token longer than this is not one we made (token_urlsafe(24) is 32 characters)


def open_store() -> ClassStore:
    """Redis when ``CNNVIZ_CLASS_REDIS`` names a server (replicas on several machines), else the SQLite file."""
    url = os.environ.get("CNNVIZ_CLASS_REDIS", "").strip()
    if url:
        from cnnviz.classroom.live.redis_store import RedisStore
        return RedisStore(url)
    return SQLiteStore()


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Started:
    code: str
    key: str        # the teacher's: shown to no one, kept in the teacher's browser
    expires: float  # epoch seconds


@dataclass(frozen=True)
class Joined:
    code: str
    token: str      # the student's: kept in the student's browser
    nickname: str


@dataclass(frozen=True)
class MyAnswer:
    value: str
    correct: bool | None  # None until the teacher reveals the question


@dataclass(frozen=True)
class AnswerCount:
    value: str
    count: int
    correct: bool


@dataclass(frozen=True)
class QuestionView:
    qid: str
    answered: int
    share_correct: float
    answers: tuple[AnswerCount, ...]  # wrong answers first (most common first), then the right one(s)
    revealed: bool


@dataclass(frozen=True)
class Present:
    nickname: str
    page: str | None        # None: never seen on a page
    seen_s_ago: float | None
    connected: bool


@dataclass(frozen=True)
class ClassView:
    code: str
    expires: float
    left_s: float
    students: int
    presence: tuple[Present, ...]
    questions: tuple[QuestionView, ...]
    link: str | None


@dataclass(frozen=True)
class Pushed:
    link: str
    seq: int  # grows with every push: a student follows each push once


def _secret(field: str, value, message: str) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= SECRET_CHARS:
        raise ConfigError(field, message)
    return value


class LiveClasses(ClassWork):
    """Every class of one store (its runs and drawings: cnnviz.classroom.live.work). ``clock`` gives epoch
    seconds (a test passes a fake one, to the store too)."""

    def __init__(self, store: ClassStore | None = None, limiter: JoinLimiter | None = None, clock=time.time,
                 lifetime_s: float = CLASS_LIFETIME_S, max_students: int = CLASS_MAX_STUDENTS,
                 max_open: int = CLASS_MAX_OPEN, max_questions: int = CLASS_MAX_QUESTIONS):
        self.store = store if store is not None else open_store()
        self.limiter = limiter if limiter is not None else JoinLimiter()
        self.clock, self.lifetime_s = clock, lifetime_s
        self.max_students, self.max_open, self.max_questions = max_students, max_open, max_questions

    # ------------------------------------------------------------------ roles
    def _teacher(self, code, key) -> tuple[str, dict]:
        key = _secret("key", key, NOT_TEACHER)
        try:
            code = clean_code(code)
        except ConfigError:
            raise ConfigError("key", NOT_TEACHER) from None
        info = self.store.read_class(code)
        stored = info["key_hash"] if info else _digest(secrets.token_urlsafe(24))  # same work either way
        if not hmac.compare_digest(_digest(key), stored) or info is None:
            raise ConfigError("key", NOT_TEACHER)
        return code, info

    def _student(self, code, token) -> tuple[str, str]:
        token = _secret("token", token, NOT_STUDENT)
        try:
            code = clean_code(code)
        except ConfigError:
            raise ConfigError("token", NOT_STUDENT) from None
        name = self.store.nickname_of(code, token) if self.store.read_class(code) else None
        if name is None:
            raise ConfigError("token", NOT_STUDENT)
        return code, name

    # ------------------------------------------------------------------ the teacher
    def start_class(self) -> Started:
        if self.store.open_classes() >= self.max_open:
            raise ConfigError("class", f"this server has {self.max_open} classes open; try again when one ends")
        key, now = secrets.token_urlsafe(24), self.clock()
        info = {"key_hash": _digest(key), "created": now, "expires": now + self.lifetime_s}
        for _ in range(20):  # 200 open classes among 8.9e8 codes: a collision is rare, twenty in a row never
            code = new_code()
            if self.store.create_class(code, info, self.lifetime_s):
                return Started(code, key, info["expires"])
        raise ConfigError("class", "no free join code found; try again")  # pragma: no cover

    def end_class(self, code, key) -> None:
        code, _ = self._teacher(code, key)
        self.store.end_class(code)

    def reveal(self, code, key, qid) -> None:
        code, _ = self._teacher(code, key)
        self.store.put_meta(code, f"reveal:{text_id('question', qid)}", "1")

    def push_link(self, code, key, link, params=None) -> Pushed:
        """Bring the class here: ``link`` (checked: this app's pages only) becomes every student's latest."""
        code, _ = self._teacher(code, key)
        link = check_link(link, params=params)
        old = self.store.meta(code).get("link")
        pushed = Pushed(link, (json.loads(old)["seq"] if old else 0) + 1)
        self.store.put_meta(code, "link", json.dumps({"link": pushed.link, "seq": pushed.seq}))
        return pushed

    def dashboard(self, code, key) -> ClassView:
        """Who is there and where, and per question how the class answered."""
        code, info = self._teacher(code, key)
        now, names = self.clock(), self.store.students(code)
        seen = self.store.presence(code)
        presence = []
        for token, name in names.items():
            page, at = seen.get(token, (None, None))
            ago = None if at is None else max(0.0, now - at)
            presence.append(Present(name, page, ago, ago is not None and ago <= PRESENT_S))
        meta = self.store.meta(code)
        per_q: dict[str, dict[tuple[str, bool], int]] = {}
        for token, answers in self.store.answers(code).items():
            for qid, raw in answers.items():
                a = json.loads(raw)
                counts = per_q.setdefault(qid, {})
                counts[(a["v"], a["ok"])] = counts.get((a["v"], a["ok"]), 0) + 1
        questions = []
        for qid in sorted(per_q):
            counts = per_q[qid]
            n = sum(counts.values())
            rows = sorted((AnswerCount(v, c, ok) for (v, ok), c in counts.items()),
                          key=lambda r: (r.correct, -r.count, r.value))
            questions.append(QuestionView(qid, n, sum(r.count for r in rows if r.correct) / n, tuple(rows),
                                          f"reveal:{qid}" in meta))
        link = json.loads(meta["link"])["link"] if "link" in meta else None
        return ClassView(code, info["expires"], max(0.0, info["expires"] - now), len(names),
                         tuple(sorted(presence, key=lambda p: p.nickname.casefold())), tuple(questions), link)

    # ------------------------------------------------------------------ a student
    def join(self, code, name, address: str = "unknown") -> Joined:
        """Join with a code and a nickname; wrong codes from one address are rate-limited."""
        address = str(address)[:64]
        self.limiter.check(address)
        name = nickname(name)  # a bad nickname is the student's typo, not a guess: it costs no attempt
        try:
            code = clean_code(code)
            if self.store.read_class(code) is None:
                raise ConfigError("code", NO_CLASS)
        except ConfigError:
            self.limiter.failed(address)
            raise
        token = secrets.token_urlsafe(24)
        given = self.store.add_student(code, token, name, self.max_students)
        if given is None:
            raise ConfigError("code", f"this class is full ({self.max_students} students); ask the teacher")
        return Joined(code, token, given)

    def student(self, code, token) -> Joined:
        """The student a token belongs to (after a reload); refused when the class ended."""
        code, name = self._student(code, token)
        return Joined(code, token, name)

    def answer(self, code, token, qid, value, correct: bool) -> bool:
        """Record the student's answer; True when recorded, False when one was already there (locked)."""
        code, _ = self._student(code, token)
        qid, value = text_id("question", qid), text_id("answer", value)
        raw = json.dumps({"v": value, "ok": bool(correct)})
        done = self.store.put_answer(code, token, qid, raw, self.max_questions)
        if done == FULL:
            raise ConfigError("question", f"at most {self.max_questions} answers are kept per student")
        return done != LOCKED

    def my_answer(self, code, token, qid) -> MyAnswer | None:
        """The student's own answer; whether it is right only once the teacher revealed the question."""
        code, _ = self._student(code, token)
        qid = text_id("question", qid)
        raw = self.store.own_answer(code, token, qid)
        if raw is None:
            return None
        a = json.loads(raw)
        return MyAnswer(a["v"], a["ok"] if f"reveal:{qid}" in self.store.meta(code) else None)

    def seen(self, code, token, page) -> None:
        """The student is on ``page`` (a URL path of this app) now."""
        code, _ = self._student(code, token)
        if page not in LIVE_PAGES:
            raise ConfigError("page", "is not one of this app's pages")
        self.store.touch(code, token, page, self.clock())

    def pushed_link(self, code, token) -> Pushed | None:
        code, _ = self._student(code, token)
        raw = self.store.meta(code).get("link")
        return None if raw is None else Pushed(**json.loads(raw))
