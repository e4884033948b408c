"""Time-slicing: more trainings than the machine's slots share it, so every class group shows progress early.

With ``isolate`` each job (or class group) trains in its own child process. The limiter admits up to
``CNNVIZ_SLICE_EXTRA`` more children than its ``capacity`` (the CPU slots, ``CNNVIZ_MAX_JOBS``); a
:class:`Slicer` thread then decides which of them run: at most ``capacity`` children run at any moment, the
others are paused with SIGSTOP (their memory stays, their CPU time goes to the running ones) and resumed with
SIGCONT when their turn comes, every ``CNNVIZ_SLICE_S`` seconds (the quantum, default 3 s; 0 turns slicing off:
first-come as before). Whom to run, in order:

1. a child one of whose members was asked to stop (Stop and Delete act within a step, as for a job alone);
2. a running child within its quantum, or one that has not shown its first point yet (it keeps running until
   it has, for at most ``FIRST_CAP_S`` of running time: a new group's start-up is not cut into slices);
3. the child that has waited longest since it last ran (a new child has never run: it comes first), so with
   ``n`` children and ``c`` slots each trains ``quantum`` seconds of every ``ceil(n / c) · quantum``.

Without ``isolate`` (threads of one process: tests, debugging) nothing is paused: jobs start first-come.

:mod:`cnnviz.jobs.turns` holds the estimates with turns counted (processor sharing: ``n`` children on ``c``
slots each advance at ``min(1, c / n)`` of their solo pace) and what a job taking turns is told."""
from __future__ import annotations

import math
import os
import signal
import threading
import time
from dataclasses import dataclass
from typing import Callable

from cnnviz.jobs.kept import env_number
from cnnviz.jobs.turns import share_of

SLICE_S = env_number("CNNVIZ_SLICE_S", 3.0)         # a running child's turn before a paused one takes its slot
SLICE_EXTRA = int(env_number("CNNVIZ_SLICE_EXTRA", 3))  # children admitted beyond the CPU slots, paused in turn
FIRST_CAP_S = 30.0   # a child without its first point runs on (not sliced) for at most this many running seconds
TICK_S = 0.1         # the slicer looks at its children this often (a Stop, a quantum's end)


@dataclass(eq=False)
class Ticket:
    """One child under the slicer. ``urgent()``: one of its members was asked to stop (it must run to see it)."""
    pid: int
    urgent: Callable[[], bool]
    arrived: float
    name: str = ""                # the limiter's id of its job or group
    running: bool = True          # as the slicer last left it (a new child runs until the slicer decides)
    turn_at: float = 0.0          # when its current turn began
    last_ran: float = -math.inf   # when it was last paused (never: -inf, it goes first)
    ran_s: float = 0.0            # running seconds, its current turn excluded
    first: bool = False           # it has shown an event (its first point)
    fresh: bool = True            # not yet placed by the slicer (it runs as it came, until its first decision)
    gone: bool = False

    def ran(self, now: float) -> float:
        """Seconds it has run (its current turn included)."""
        return self.ran_s + (now - self.turn_at if self.running else 0.0)


class Slicer:
    """Pauses and resumes the children of one limiter's jobs so at most ``capacity`` run at once (see module)."""

    def __init__(self, capacity: int, quantum: float = SLICE_S, clock=time.monotonic, kill=os.kill,
                 tick: float = TICK_S):
        self.capacity, self.quantum, self.clock, self._kill, self.tick = capacity, quantum, clock, kill, tick
        self._lock = threading.Condition()
        self._tickets: list[Ticket] = []
        self._ran: dict[str, float] = {}  # name -> running seconds of an ended child (read once by ran_of)
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ the children's side (child._drive)
    def enter(self, pid: int, urgent: Callable[[], bool] = lambda: False, name: str = "") -> Ticket:
        """A child starts its job; it runs when a slot is free, else at the next turn (see module)."""
        with self._lock:
            now = self.clock()
            t = Ticket(pid, urgent, now, name, turn_at=now)
            self._tickets.append(t)
            self._schedule()
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="cnnviz-slicer", daemon=True)
                self._thread.start()
            self._lock.notify_all()
        return t

    def moved(self, ticket: Ticket, pid: int) -> None:
        """The child was replaced (a dead spare): the same turn, another process."""
        with self._lock:
            ticket.pid = pid
            self._signal(ticket, signal.SIGCONT if ticket.running else signal.SIGSTOP)

    def shown(self, ticket: Ticket) -> None:
        """Its first event has come: from now on it is sliced like the others."""
        with self._lock:
            ticket.first = True
            self._lock.notify_all()

    def leave(self, ticket: Ticket) -> None:
        """The child has ended (or is about to be reaped): resumed so it can exit, and its slot is free."""
        with self._lock:
            if ticket.gone:
                return
            ticket.gone = True
            self._tickets.remove(ticket)
            if ticket.name:  # its running time, for the mean duration of its kind (:meth:`ran_of`)
                self._ran[ticket.name] = ticket.ran(self.clock())
                while len(self._ran) > 100:
                    self._ran.pop(next(iter(self._ran)))
            if not ticket.running:
                self._signal(ticket, signal.SIGCONT)
            self._schedule()
            self._lock.notify_all()

    def poke(self) -> None:
        """Look again now (a Stop was asked for)."""
        with self._lock:
            self._schedule()

    # ------------------------------------------------------------------ what a status reads
    def children(self) -> int:
        with self._lock:
            return len(self._tickets)

    def ticket(self, name: str) -> Ticket | None:
        """The live child of the job or group ``name``."""
        with self._lock:
            return next((t for t in self._tickets if t.name == name), None)

    def ran_of(self, name: str) -> float | None:
        """The running seconds of the ended child ``name`` (its pauses left out); None when unknown."""
        with self._lock:
            return self._ran.pop(name, None)

    def share(self, extra: int = 0) -> tuple[float, float] | None:
        """(N, M): with ``extra`` more children than now, each trains about N s of every M s; None when all of
        them run at once (no slicing)."""
        with self._lock:
            n = len(self._tickets) + extra
        return share_of(n, self.capacity, self.quantum)

    def running_pids(self) -> list[int]:
        with self._lock:
            return [t.pid for t in self._tickets if t.running]

    # ------------------------------------------------------------------ the scheduler
    def _loop(self) -> None:
        while True:
            with self._lock:
                self._lock.wait(self.tick)
                self._schedule()

    def _schedule(self) -> None:
        """Pause and resume so the right children run (the module's order); the lock is held."""
        now, cap = self.clock(), self.capacity
        tickets = self._tickets
        if len(tickets) <= cap:
            chosen = set(tickets)
        else:
            def rank(t: Ticket):
                if t.urgent():
                    return (0, t.arrived)
                if t.fresh:  # never placed: first among those waiting for a turn
                    return (2, -math.inf, t.arrived)
                within = t.running and (now - t.turn_at < self.quantum or (not t.first and t.ran(now) < FIRST_CAP_S))
                if within:
                    return (1, t.turn_at)
                return (2, t.last_ran if not t.running else now, t.arrived)
            chosen = set(sorted(tickets, key=rank)[:cap])
        for t in tickets:  # pause first, then resume: never more than ``capacity`` running
            if t.running and t not in chosen:
                t.running, t.ran_s = False, t.ran(now)
                t.last_ran = -math.inf if t.fresh else now
                self._signal(t, signal.SIGSTOP)
        for t in tickets:
            if t in chosen:
                t.fresh = False
            if not t.running and t in chosen:
                t.running, t.turn_at = True, now
                self._signal(t, signal.SIGCONT)

    def _signal(self, t: Ticket, sig) -> None:
        try:
            self._kill(t.pid, sig)
        except (ProcessLookupError, PermissionError):  # it has just ended: leave() follows
            pass


def extra_children(capacity: int) -> int:
    """How many children beyond ``capacity`` may be admitted to take turns: ``CNNVIZ_SLICE_EXTRA``, fewer when
    the memory available now would not hold that many more jobs at the per-job limit (``CNNVIZ_MAX_JOB_MB``, the
    training's own check of each job); paused children keep their memory."""
    per_job = env_number("CNNVIZ_MAX_JOB_MB", 1536) * 2 ** 20
    try:
        with open("/proc/meminfo") as f:
            avail = next(int(line.split()[1]) * 1024 for line in f if line.startswith("MemAvailable:"))
    except (OSError, StopIteration, ValueError, IndexError):  # not Linux: the setting alone
        return max(0, SLICE_EXTRA)
    return max(0, min(SLICE_EXTRA, int(avail // per_job) - capacity))
