"""Spare children for :mod:`.child`: a job child started ahead, its imports done, waiting for its job.

Starting a child costs seconds (importing torch), so a runner may keep ONE child (two when jobs take turns,
:mod:`.slicing`) started ahead, blocked on reading its job from stdin (:class:`SparePool`). A job takes it (still
one process per job) and the pool starts the next spare once that job has shown its first event. A spare also
imports the modules of the job kinds its pool has been told to expect (``expect``), so unpickling a job costs
nothing. A spare that has died (killed, out of memory) is replaced by a fresh start; a spare exits when its stdin
closes (its parent is gone), and the pool closes it at shutdown.

On a busy machine (a class's pages on every core, a second replica) a spare's imports are slow, and the first
Start of a server takes its first spare: so spares start one at a time (the next when the previous is warm), do
their imports at nice 10 (:mod:`.priority`), and one still importing when a job takes a spare is paused until
that job's first event."""
from __future__ import annotations

import atexit
import os
import select
import signal
import subprocess
import sys
import threading
import time

from cnnviz.jobs import priority

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WARM_WAIT_S = 300  # a spare's imports longer than this: the pool starts the next one anyway


def _spawn(modules=()) -> subprocess.Popen:
    """A new child: it does its imports (torch, and ``modules``), then waits for its job on stdin. Its job runs
    under ``CNNVIZ_JOB_SCHED`` (:mod:`.priority`; checked here, so a bad value is a ConfigError, not a dead child)."""
    env = {**os.environ, priority.SCHED_ENV: priority.job_sched()}
    return subprocess.Popen([sys.executable, "-m", "cnnviz.jobs.worker", *sorted(modules)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, cwd=ROOT, env=env)


def _warm_now(proc: subprocess.Popen) -> bool:
    """A spare has done its imports: its "imported" message (or its end) is waiting on its stdout."""
    try:
        return bool(select.select([proc.stdout], [], [], 0)[0])
    except (ValueError, OSError):
        return True


def _signal(proc: subprocess.Popen, sig) -> bool:
    try:
        os.kill(proc.pid, sig)
        return True
    except (ProcessLookupError, PermissionError):  # it has just ended
        return False


def _discard(proc: subprocess.Popen) -> None:
    """End a child that has no job (or has died): closing its stdin ends a waiting one; reap it."""
    for f in (proc.stdin, proc.stdout):
        try:
            f.close()
        except OSError:
            pass
    try:
        proc.wait(2)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class SparePool:
    """Up to ``size`` spare children (default one), started ahead of the next jobs. ``take`` hands the oldest over
    (None when there is none or it has died: the caller starts a fresh child); ``refill`` starts new ones up to
    ``size``; ``close`` ends them. Two spares (the app's runner when jobs take turns, :mod:`.slicing`) let two
    class groups that start together both skip a process start-up."""

    def __init__(self, start: bool = True, expect=(), size: int = 1):
        self._lock = threading.Lock()
        self._procs: list[subprocess.Popen] = []
        self.size = max(1, size)
        self._closed = False
        self._watched: set[subprocess.Popen] = set()  # cold spares a thread waits on, to start the next one
        self._paused: set[subprocess.Popen] = set()   # cold spares paused while a job that took a spare starts
        self._modules: set[str] = set(expect)
        atexit.register(self.close)
        if start:
            self.refill()

    @property
    def pid(self) -> int | None:
        """The pid of the spare ``take`` hands over next (None when there is none)."""
        with self._lock:
            return self._procs[0].pid if self._procs else None

    def warm(self, timeout: float) -> bool:
        """Wait until the pool holds ``size`` spares that have done their imports (each one's "imported" message is
        waiting, unread); False when a spare has died or they are not all there and warm within ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                procs, size = list(self._procs), self.size
            if not procs or any(p.poll() is not None for p in procs):
                return False
            for proc in procs:
                left = max(0.0, deadline - time.monotonic())
                if not select.select([proc.stdout], [], [], left)[0]:
                    return False
            if len(procs) >= size:
                return all(p.poll() is None for p in procs)
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)  # the next spare starts once this one is warm (:meth:`refill`)

    def expect(self, module: str) -> None:
        """Have the next spares import ``module`` (a job kind's module) while they wait."""
        with self._lock:
            self._modules.add(module)

    def take(self) -> subprocess.Popen | None:
        """The oldest spare (resumed if it was paused), or None. A spare still importing is paused (SIGSTOP) until
        :meth:`refill` (the taking job's first event, or its end): its imports, at nice 10, would otherwise come
        before the job's first steps (at nice 10 too, or SCHED_IDLE)."""
        with self._lock:
            proc = self._procs.pop(0) if self._procs else None
            self._resume([proc] if proc is not None else [])
            self._pause([p for p in self._procs if not _warm_now(p)] if proc is not None else [])
        if proc is not None and proc.poll() is not None:  # died while waiting (killed, out of memory)
            _discard(proc)
            return None
        return proc

    def refill(self) -> None:
        """Start spares up to ``size``, ONE at a time: the next starts when this one's imports are done. Two
        spares importing at once on a busy machine take twice as long before either is warm, and a class's first
        Start takes the first (a replica's cold pool beside a class's pages: seconds, not a first point at 14 s)."""
        with self._lock:
            if self._closed:
                return
            self._resume(list(self._paused))
            dead = [p for p in self._procs if p.poll() is not None]
            self._procs = [p for p in self._procs if p.poll() is None]
            cold = next((p for p in self._procs if not _warm_now(p)), None)
            if cold is None and len(self._procs) < self.size:
                cold = _spawn(self._modules)
                self._procs.append(cold)
            wait = cold is not None and len(self._procs) < self.size and cold not in self._watched
            if wait:
                self._watched.add(cold)
        for proc in dead:
            _discard(proc)
        if wait:
            threading.Thread(target=self._refill_when_warm, args=(cold,), name="cnnviz-spare-refill",
                             daemon=True).start()

    def _refill_when_warm(self, proc: subprocess.Popen) -> None:
        try:
            select.select([proc.stdout], [], [], WARM_WAIT_S)  # its "imported" (or its end) is there to read
        except (ValueError, OSError):  # taken, and its job has ended: its pipe is closed
            pass
        with self._lock:
            self._watched.discard(proc)
            kept = proc in self._procs  # a job took it: that job's first event refills (child._drive)
        if kept:
            self.refill()

    def _pause(self, procs) -> None:
        for proc in procs:
            if _signal(proc, signal.SIGSTOP):
                self._paused.add(proc)

    def _resume(self, procs) -> None:
        for proc in procs:
            if proc in self._paused:
                self._paused.discard(proc)
                _signal(proc, signal.SIGCONT)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            procs, self._procs = self._procs, []
            self._resume(list(self._paused))
        for proc in procs:
            _discard(proc)
