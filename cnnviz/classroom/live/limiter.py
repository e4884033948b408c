"""Join attempts per client address: a token bucket that only failures drain.

An address holds up to ``CLASS_JOIN_BURST`` tokens and earns one every ``CLASS_JOIN_REFILL_S`` seconds. A join
with a wrong code spends one; a right one spends none, so a class behind one school NAT joins in seconds. An
empty bucket refuses every attempt, right code or not, until a token returns (so a guesser learns nothing
while refused). One bucket per process: behind N replicas a guesser gets N times the rate, which the code's
length allows for (see cnnviz.classroom.live.names)."""
from __future__ import annotations

import threading
import time

from cnnviz.errors import ConfigError
from cnnviz.limits import CLASS_JOIN_BURST, CLASS_JOIN_REFILL_S, CLASS_MAX_ADDRESSES


class JoinLimiter:
    def __init__(self, burst: int = CLASS_JOIN_BURST, refill_s: float = CLASS_JOIN_REFILL_S,
                 max_addresses: int = CLASS_MAX_ADDRESSES, clock=time.monotonic):
        self.burst, self.refill_s, self.max_addresses, self.clock = burst, refill_s, max_addresses, clock
        self._buckets: dict[str, tuple[float, float]] = {}  # address -> (tokens, at)
        self._lock = threading.Lock()

    def _tokens(self, address: str, now: float) -> float:
        tokens, at = self._buckets.get(address, (self.burst, now))
        return min(self.burst, tokens + (now - at) / self.refill_s)

    def check(self, address: str) -> None:
        """Refuse (ConfigError) when ``address`` has no token left, saying how long to wait."""
        with self._lock:
            tokens = self._tokens(address, self.clock())
        if tokens < 1:
            wait = (1 - tokens) * self.refill_s
            raise ConfigError("code", f"too many wrong codes from this computer; wait {wait:.0f} s and type the "
                                      "code again (ask the teacher to show it)")

    def failed(self, address: str) -> None:
        """One wrong attempt from ``address``: spend a token."""
        with self._lock:
            now = self.clock()
            if len(self._buckets) >= self.max_addresses and address not in self._buckets:
                self._forget(now)
            self._buckets[address] = (max(0.0, self._tokens(address, now) - 1), now)

    def _forget(self, now: float) -> None:
        """Drop the full buckets (they equal a fresh one); if none is full, the oldest half."""
        full = [a for a in self._buckets if self._tokens(a, now) >= self.burst]
        for a in full or sorted(self._buckets, key=lambda a: self._buckets[a][1])[:len(self._buckets) // 2]:
            del self._buckets[a]
