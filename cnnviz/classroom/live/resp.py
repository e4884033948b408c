"""A tiny Redis client: RESP2 over one TCP socket, enough for the class store (SET, GET, HSET, HSETNX, HGET,
HGETALL, HLEN, INCR, DECR, PEXPIRE, DEL, SCAN). The ``redis`` package is not a requirement of this app; a
store that needs a few commands speaks them itself. One connection per client, guarded by a lock; a
broken connection is reopened once on the next command."""
from __future__ import annotations

import socket
import threading
from urllib.parse import urlsplit

from cnnviz.errors import ConfigError

MAX_BULK = 16 * 2 ** 20  # a reply longer than this is not one the class store wrote


class RedisError(Exception):
    """An error reply from the server (``-ERR ...``)."""


def _encode(args) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        b = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


class Redis:
    """``Redis("redis://127.0.0.1:6379/0")``: commands as ``r.call("HSET", key, field, value)``; replies as
    str, int, None or lists of them; ``r.pipeline([...])`` sends several commands in one round trip."""

    def __init__(self, url: str = "redis://127.0.0.1:6379/0", timeout_s: float = 5.0):
        parts = urlsplit(url)
        if parts.scheme != "redis" or not parts.hostname:
            raise ConfigError("CNNVIZ_CLASS_REDIS", f"must be redis://host:port/db, got {url!r}")
        try:
            self.host, self.port = parts.hostname, parts.port or 6379
        except ValueError:
            raise ConfigError("CNNVIZ_CLASS_REDIS", f"has a bad port: {url!r}") from None
        self.db = int(parts.path.strip("/") or 0) if parts.path.strip("/").isdigit() or not parts.path.strip("/") \
            else None
        if self.db is None:
            raise ConfigError("CNNVIZ_CLASS_REDIS", f"the database must be a number: {url!r}")
        self.password, self.timeout_s = parts.password, timeout_s
        self._lock = threading.Lock()
        self._sock = None
        self._buf = b""

    def _connect(self) -> None:
        self._sock = socket.create_connection((self.host, self.port), timeout=self.timeout_s)
        self._buf = b""
        if self.password:
            self._roundtrip([("AUTH", self.password)])
        if self.db:
            self._roundtrip([("SELECT", self.db)])

    def _line(self) -> bytes:
        while b"\r\n" not in self._buf:
            chunk = self._sock.recv(65536)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\r\n")
        return line

    def _exact(self, n: int) -> bytes:
        while len(self._buf) < n + 2:
            chunk = self._sock.recv(max(65536, n + 2 - len(self._buf)))
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self._buf += chunk
        data, self._buf = self._buf[:n], self._buf[n + 2:]
        return data

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RedisError(rest.decode(errors="replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n > MAX_BULK:
                raise ConnectionError(f"redis sent a {n}-byte value")
            return None if n < 0 else self._exact(n).decode()
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise ConnectionError(f"not a redis reply: {line[:40]!r}")

    def _roundtrip(self, commands):
        self._sock.sendall(b"".join(_encode(c) for c in commands))
        return [self._reply() for _ in commands]

    def pipeline(self, commands) -> list:
        """Send every command, then read every reply; an error reply raises RedisError after all are read."""
        if not commands:
            return []
        with self._lock:
            for attempt in (0, 1):
                try:
                    if self._sock is None:
                        self._connect()
                    replies = self._roundtrip(commands)
                    break
                except OSError as e:  # ConnectionError, timeouts: drop the socket, retry once on a fresh one
                    self.close_unlocked()
                    if attempt:
                        raise ConfigError("CNNVIZ_CLASS_REDIS",
                                          f"cannot reach redis at {self.host}:{self.port}: {e}") from None
        for r in replies:
            if isinstance(r, RedisError):
                raise r
        return replies

    def call(self, *args):
        return self.pipeline([args])[0]

    def close_unlocked(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None

    def close(self) -> None:
        with self._lock:
            self.close_unlocked()
