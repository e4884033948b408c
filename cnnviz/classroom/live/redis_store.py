"""The class store on Redis, for replicas on several machines (``CNNVIZ_CLASS_REDIS=redis://host:port/db``).

Keys of one class share the prefix ``cnnviz:class:<code>:`` — ``info`` (a string, set with NX and the class's
lifetime), ``count`` (INCR), ``names`` (name key -> token, HSETNX: a free nickname is taken atomically),
``students`` (token -> nickname), ``ans:<token>`` (question -> answer, HSETNX: the first answer locks),
``meta`` and ``presence`` (hashes), ``<kind>:<token>`` (a student's runs or drawings: slot -> value). Every key expires with the class (PEXPIRE to ``info``'s remaining time),
so a class nobody ends still leaves nothing behind; ``end_class`` deletes the prefix (SCAN + DEL)."""
from __future__ import annotations

import json
import time

from cnnviz.classroom.live.names import name_key
from cnnviz.classroom.live.resp import Redis
from cnnviz.classroom.live.store import FULL, LOCKED, RECORDED, _free_names

ROOT = "cnnviz:class:"


def _pairs(flat) -> dict[str, str]:
    return dict(zip(flat[::2], flat[1::2]))


class RedisStore:
    """:class:`~cnnviz.classroom.live.store.ClassStore` on a Redis server, through the small RESP client."""

    def __init__(self, url: str = "redis://127.0.0.1:6379/0", timeout_s: float = 5.0):
        self.r = Redis(url, timeout_s)
        self._deadline: dict[str, float] = {}  # code -> monotonic time its info key expires (read once)

    @staticmethod
    def _k(code: str, part: str) -> str:
        return f"{ROOT}{code}:{part}"

    def _ttl_ms(self, code: str) -> int:
        """Milliseconds the class has left (≥ 1), from its info key's PTTL, remembered per code."""
        if code not in self._deadline:
            if len(self._deadline) > 1000:
                self._deadline.clear()
            pttl = self.r.call("PTTL", self._k(code, "info"))
            self._deadline[code] = time.monotonic() + max(pttl, 1) / 1000
        return max(1, int((self._deadline[code] - time.monotonic()) * 1000))

    def _write(self, code: str, command: tuple, *keys: str):
        """One command and the PEXPIRE of the keys it writes, in one round trip; the command's reply."""
        ttl = self._ttl_ms(code)
        return self.r.pipeline([command] + [("PEXPIRE", k, ttl) for k in keys])[0]

    def create_class(self, code, info, ttl_s):
        ttl = max(1, int(ttl_s * 1000))
        ok = self.r.call("SET", self._k(code, "info"), json.dumps(info), "PX", ttl, "NX") == "OK"
        if ok:
            self._deadline[code] = time.monotonic() + ttl / 1000
        return ok

    def _scan(self, pattern: str) -> list[str]:
        cursor, keys = "0", []
        while True:
            cursor, batch = self.r.call("SCAN", cursor, "MATCH", pattern, "COUNT", 1000)
            keys += batch
            if cursor == "0":
                return keys

    def open_classes(self):
        return len(self._scan(f"{ROOT}*:info"))

    def read_class(self, code):
        raw = self.r.call("GET", self._k(code, "info"))
        if raw is None:
            self._deadline.pop(code, None)
        return None if raw is None else json.loads(raw)

    def add_student(self, code, token, nickname, limit):
        count = self._k(code, "count")
        if self._write(code, ("INCR", count), count) > limit:
            self.r.call("DECR", count)
            return None
        names = self._k(code, "names")
        for name in _free_names(nickname):
            if self._write(code, ("HSETNX", names, name_key(name), token), names) == 1:
                students = self._k(code, "students")
                self._write(code, ("HSET", students, token, name), students)
                return name

    def nickname_of(self, code, token):
        return self.r.call("HGET", self._k(code, "students"), token)

    def students(self, code):
        return _pairs(self.r.call("HGETALL", self._k(code, "students")))

    def put_answer(self, code, token, qid, value, limit):
        key = self._k(code, f"ans:{token}")
        there, n = self.r.pipeline([("HEXISTS", key, qid), ("HLEN", key)])
        if there:
            return LOCKED
        if n >= limit:
            return FULL
        return RECORDED if self._write(code, ("HSETNX", key, qid, value), key) == 1 else LOCKED

    def own_answer(self, code, token, qid):
        return self.r.call("HGET", self._k(code, f"ans:{token}"), qid)

    def answers(self, code):
        tokens = self.r.call("HKEYS", self._k(code, "students"))
        replies = self.r.pipeline([("HGETALL", self._k(code, f"ans:{t}")) for t in tokens])
        return {t: _pairs(flat) for t, flat in zip(tokens, replies) if flat}

    def put_meta(self, code, field, value):
        key = self._k(code, "meta")
        self._write(code, ("HSET", key, field, value), key)

    def meta(self, code):
        return _pairs(self.r.call("HGETALL", self._k(code, "meta")))

    def touch(self, code, token, page, when):
        key = self._k(code, "presence")
        self._write(code, ("HSET", key, token, json.dumps([page, when])), key)

    def presence(self, code):
        return {t: tuple(json.loads(v)) for t, v in
                _pairs(self.r.call("HGETALL", self._k(code, "presence"))).items()}

    def put_item(self, code, kind, token, slot, value, limit):
        key = self._k(code, f"{kind}:{token}")
        there, n = self.r.pipeline([("HEXISTS", key, slot), ("HLEN", key)])
        if not there and n >= limit:
            return FULL
        self._write(code, ("HSET", key, slot, value), key)
        return RECORDED

    def items(self, code, kind):
        tokens = self.r.call("HKEYS", self._k(code, "students"))
        replies = self.r.pipeline([("HGETALL", self._k(code, f"{kind}:{t}")) for t in tokens]) if tokens else []
        return {t: _pairs(flat) for t, flat in zip(tokens, replies) if flat}

    def end_class(self, code):
        keys = self._scan(f"{ROOT}{code}:*")
        if keys:
            self.r.call("DEL", *keys)
        self._deadline.pop(code, None)

    def close(self) -> None:
        self.r.close()
