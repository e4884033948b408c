"""One training in a child process, its events and checkpoints streamed back to the web process.

Why: a training loop is Python between small tensor ops, and in the web process it holds the GIL most of the
time; every page of every student then waits behind it. A child process has its own interpreter, and a
lower CPU priority, so a class's clicks are served before the trainings' steps.

The child is ``python -m cnnviz.jobs.worker [module ...]`` (:mod:`.worker`, its side of the protocol), not multiprocessing: multiprocessing re-imports the parent's
``__main__``, which under Streamlit is a page script. Protocol: the parent pickles (config, device, threads)
to the child's stdin; the child pickles ("event" | "checkpoint" | "failed", payload) messages to its stdout,
then ("end", None); SIGUSR1 asks it to stop (a job stops within a step). A class group (:func:`run_isolated_group`)
is one child for all its members, with the member's index in its messages and ("stop", k) on its stdin.

A job takes a spare child (:mod:`.spares`, :class:`SparePool`: started ahead, its imports done) when its pool has
one, and has the pool start the next once it has shown its first event (or ended)."""
from __future__ import annotations

import logging
import pickle
import signal
import subprocess
import threading
import time

from cnnviz.jobs.events import Failed, Finished
from cnnviz.jobs.kind import Member
from cnnviz.jobs.limiter import job_threads
from cnnviz.jobs.spares import SparePool, _discard, _spawn

log = logging.getLogger(__name__)
EXIT_GRACE_S = 10


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
    threads = threads or job_threads()
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
