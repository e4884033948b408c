"""A small thread-safe cache bounded three ways — entries, bytes and age — for decoded uploads (the Training
Lab's data sets): whatever users upload, the server keeps at most ``max_entries`` of them, at most
``max_bytes`` in all, none older than ``ttl_s``. Least recently used goes first."""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Callable

import torch


def nbytes(obj) -> int:
    """Bytes held by the tensors of a value (a Dataset, a tensor, a tuple or dict of them)."""
    if isinstance(obj, torch.Tensor):
        return obj.numel() * obj.element_size()
    if isinstance(obj, dict):
        return sum(nbytes(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(nbytes(v) for v in obj)
    if hasattr(obj, "__dataclass_fields__"):
        return sum(nbytes(getattr(obj, f)) for f in obj.__dataclass_fields__)
    return 0


class BoundedCache:
    def __init__(self, max_entries: int, max_bytes: int, ttl_s: float, clock: Callable[[], float] = time.monotonic):
        self.max_entries, self.max_bytes, self.ttl_s, self.clock = max_entries, max_bytes, ttl_s, clock
        self._items: OrderedDict = OrderedDict()  # key -> (value, bytes, made at)
        self._lock = threading.Lock()

    def _expire(self) -> None:
        now = self.clock()
        for key in [k for k, (_, _, t) in self._items.items() if now - t > self.ttl_s]:
            del self._items[key]

    def get(self, key):
        with self._lock:
            self._expire()
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key][0]

    def put(self, key, value, size: int | None = None) -> bool:
        """Keep ``value``; False (not kept) when it alone is over ``max_bytes``. Evicts the least recently used
        until both bounds hold."""
        size = nbytes(value) if size is None else size
        with self._lock:
            self._expire()
            self._items.pop(key, None)
            if size > self.max_bytes:
                return False
            self._items[key] = (value, size, self.clock())
            while len(self._items) > self.max_entries or self.nbytes > self.max_bytes:
                self._items.popitem(last=False)
            return True

    @property
    def nbytes(self) -> int:
        return sum(s for _, s, _ in self._items.values())

    def __len__(self) -> int:
        with self._lock:
            self._expire()
            return len(self._items)
