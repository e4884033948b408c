"""One training in a child process, its events and checkpoints streamed back to the web process.

Why: a training loop is Python between small tensor ops, and in the web process it holds the GIL most of the
time; every page of every student then waits behind it. A child process has its own interpreter, and a
lower CPU priority, so a class's clicks are served before the trainings' steps.

The child is ``python -m cnnviz.jobs.worker [module ...]`` (:mod:`.worker`, its side of the protocol), not multiprocessing: multiprocessing re-imports the parent's
``__main__``, which under Streamlit is a page script. Protocol: the parent pickles (config, device, threads)
to the child's stdin; the child pickles ("event" | "checkpoint" | "failed", payload) messages to its stdout,
then ("end", None); SIGUSR1 asks it to stop (a job stops within a step). A class group (:func:`run_isolated_group`)
is one child for all its members, with the member's index in its messages and ("stop", k) on its stdin.

A spare (:class:`SparePool`): starting a child costs seconds (importing torch), so a runner may keep ONE child
(two when jobs take turns) started ahead, its imports done, blocked on reading its job from stdin. A job takes
it (still one process per job) and the pool starts the next spare once that job has shown its first event. A
spare also imports the modules of the job kinds its pool has been told to expect (``expect``), so unpickling a
job costs nothing. A spare that has died (killed, out of memory) is replaced by a fresh start; a spare exits
when its stdin closes (its parent is gone), and the pool closes it at shutdown."""
from __future__ import annotations

import atexit
import logging
import os
import pickle
import select
import signal
import subprocess
import sys
import threading
import time

from cnnviz.jobs import priority
from cnnviz.jobs.events import Failed, Finished
from cnnviz.jobs.kind import Member

log = logging.getLogger(__name__)
EXIT_GRACE_S = 10
WARM_WAIT_S = 300  # a spare's imports longer than this: the pool starts the next one anyway


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


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
        with self._lock:
            proc = self._procs.pop(0) if self._procs else None
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

    def close(self) -> None:
        with self._lock:
            self._closed = True
            procs, self._procs = self._procs, []
        for proc in procs:
            _discard(proc)


def run_isolated(config, emit, stop: threading.Event, keep, device=None, threads: int | None = None,
                 spares: SparePool | None = None, slicer=None, slot: str = "") -> str | None:
    """Like ``run_job(config, emit, stop, keep, device)`` (a training, a distillation or a search), in a child process;
    blocks until it ends. ``spares``: take the pool's spare child when it has a live one, and have it start the
    next spare once this job has shown its first event (or ended), so the spare's imports do not compete with
    this job's start.
    ``slicer`` (:class:`cnnviz.jobs.slicing.Slicer`): the child runs in its turns (paused in between), known
    to it as ``slot`` (the limiter's id of the job or group).
    Returns None, or the failure message (a ConfigError, a crash, or the child dying, e.g. killed for memory)."""
    return _drive(config, [Member(config, emit, stop, keep)], False, device, threads, spares, slicer, slot)


def run_isolated_group(members: list, device=None, threads: int | None = None,
                       spares: SparePool | None = None, slicer=None, slot: str = "") -> str | None:
    """A class group (``kind.Member`` each, one key) in ONE child process, as :func:`run_isolated` runs one job.
    The group's protocol: the parent pickles ([config, ...], device, threads) and keeps the child's stdin open to
    write ("stop", k) when member k's Stop is set; the child's messages carry the member: ("event", (k, e)),
    ("checkpoint", (k, blob)); ("failed", message) is the whole group's failure. Returns None or that failure."""
    return _drive([m.config for m in members], list(members), True, device, threads, spares, slicer, slot)


def _drive(payload, members: list, group: bool, device, threads, spares, slicer=None, slot: str = "") -> str | None:
    threads = threads or max(1, (os.cpu_count() or 2) - 1)
    job = pickle.dumps((payload, device, threads))
    proc = spares.take() if spares is not None else None
    spare = proc is not None
    if not spare:
        proc = _spawn()
    refilled = [spares is None]

    def refill():
        if not refilled[0]:
            refilled[0] = True
            spares.refill()

    done, ready, killed, sent = threading.Event(), threading.Event(), threading.Event(), threading.Event()
    over: set[int] = set()  # members whose end event has come
    ticket = None if slicer is None else slicer.enter(  # paused between its turns; a Stop makes it run at once
        proc.pid, lambda: any(m.stop.is_set() for k, m in enumerate(members) if k not in over), slot)

    def forward_stop():
        """A solo job's Stop is SIGUSR1; a group member's is ("stop", k) on the child's stdin (once it has the
        job). Before the child is ready nothing has trained: it is killed when every member has stopped."""
        told: set[int] = set()
        while not done.is_set():
            time.sleep(0.1)
            stopped = {k for k, m in enumerate(members) if m.stop.is_set()}
            if not stopped - told or proc.poll() is not None:
                continue
            if ticket is not None:
                slicer.poke()  # a paused child runs now, to see its Stop
            if not ready.is_set() and len(stopped) == len(members):  # still starting up: nothing to keep
                killed.set()
                proc.kill()
                return
            if ready.is_set() and not group:  # its SIGUSR1 handler is in place: it stops after the current step
                proc.send_signal(signal.SIGUSR1)
                return
            if group and sent.is_set():
                try:
                    for k in sorted(stopped - told):
                        pickle.dump(("stop", k), proc.stdin)
                    proc.stdin.flush()
                except (BrokenPipeError, OSError, ValueError):  # the child has ended
                    return
                told |= stopped

    def ended(failure: str | None, template: str) -> str | None:
        """The child is gone without its "end": stopped during start-up (None), else its own failure or
        ``template`` with its exit code."""
        proc.wait(EXIT_GRACE_S)
        if killed.is_set():
            for m in members:
                m.emit(Finished(0, 0, "stopped", 0.0))
            return None
        return failure or template.format(code=proc.returncode)

    def send_job():
        proc.stdin.write(job)  # a spare reads it at once; a fresh child after its imports
        if group:
            proc.stdin.flush()
            sent.set()
        else:
            proc.stdin.close()

    watcher = threading.Thread(target=forward_stop, name="cnnviz-stop-forward", daemon=True)
    watcher.start()
    failure = None
    t0 = time.perf_counter()
    try:
        try:
            send_job()
        except BrokenPipeError:
            if not spare or killed.is_set():
                raise
            _discard(proc)  # the spare died after take() looked at it: fall back to a fresh child
            proc = _spawn()
            if ticket is not None:
                slicer.moved(ticket, proc.pid)
            send_job()
        while True:
            try:
                kind, payload = pickle.load(proc.stdout)
            except (EOFError, pickle.UnpicklingError):
                return ended(failure, "the training process ended unexpectedly (exit code {code}); the last "
                                      "good checkpoint is kept")
            if kind == "imported":  # its imports are done (a spare says so before it has its job)
                continue
            if kind == "ready":
                ready.set()
                log.info("training child %d (%s, %s) ready %.3f s after its job was sent", proc.pid,
                         "spare" if spare else "fresh", payload, time.perf_counter() - t0)
            elif kind in ("event", "checkpoint"):
                k, item = payload if group else (0, payload)
                (members[k].emit if kind == "event" else members[k].keep)(item)
                if kind == "event":
                    refill()
                    if ticket is not None:
                        slicer.shown(ticket)
                    if isinstance(item, (Finished, Failed)):
                        over.add(k)
            elif kind == "failed":
                failure = payload
            else:  # "end"
                return failure
    except BrokenPipeError:  # the child died before reading its config
        return ended(None, "the training process could not start (exit code {code})")
    finally:
        done.set()
        if ticket is not None:  # before the child is reaped: its pid is still its own
            slicer.leave(ticket)
        if group:
            try:
                proc.stdin.close()
            except (BrokenPipeError, OSError):
                pass
        try:
            proc.wait(EXIT_GRACE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        if spares is not None:
            refill()
