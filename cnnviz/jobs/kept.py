"""What the thread runner keeps on disk (:class:`Keeper`), so nothing a student trained is lost when the server
restarts or its replica dies: every job is written to the job storage (:mod:`.storage`, the Ray runner's layout)
as it happens, and a job this process does not hold is read from there.

- A job another process holds is *running* while that process lives (its pid on this host, its heartbeat file
  younger than :data:`STALE_S` on any host); once that process is gone the job is *interrupted*: the first reader
  appends a ``Failed`` event saying so (once: a flag file), with the step of its last checkpoint, so every page shows
  it as ended, with its curve and its checkpoint for Resume.
- Bounded: an ended job keeps only its curve, its checkpoint and its owner (its data set goes at once); the runner
  forgets it after ``forget_s`` (its directory goes too), and :meth:`Keeper.sweep` deletes the oldest ended jobs
  beyond :data:`MAX_STORED` jobs or :data:`MAX_STORED_MB` in all, and interrupted or foreign ended jobs older than
  ``forget_s``. A job that is queued or running is never deleted.
- A failing disk never fails a job: a write that raises ``OSError`` is logged and the job goes on in memory."""
from __future__ import annotations

import logging
import os
import threading
import time

from cnnviz.errors import ConfigError
from cnnviz.jobs.events import Checkpoint, Failed
from cnnviz.jobs.storage import JobStore, recipe_fields

log = logging.getLogger(__name__)


def env_number(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError:
        raise ConfigError(name, f"must be a number, got {raw!r}") from None


HEARTBEAT_S = 2.0                                          # a runner with live jobs says so this often
STALE_S = env_number("CNNVIZ_STALE_S", 30)                 # a heartbeat older than this: its jobs are interrupted
MAX_STORED = int(env_number("CNNVIZ_MAX_STORED_JOBS", 1000))  # jobs kept on disk at most (ended ones go first)
MAX_STORED_MB = env_number("CNNVIZ_MAX_STORAGE_MB", 2048)  # and this many MiB in all
SWEEP_S = 60.0                                             # the storage is looked over at most this often
INTERRUPTED = "interrupted: the server stopped while it ran"
GONE = "no such training job on this server (it may have been forgotten, or the link is old)"


class Keeper:
    """The thread runner's side of the job storage. ``io`` calls never raise ``OSError``."""

    def __init__(self, store: JobStore):
        self.store = store
        self.index: dict[str, str | None] = {}  # job id -> owner, of the jobs on disk (refreshed by sweep)
        self.swept_at: float | None = None
        self.max_jobs, self.max_mb = MAX_STORED, MAX_STORED_MB
        self.indexed = threading.Event()  # the first sweep has ended: ``index`` knows the jobs on disk

    def io(self, fn, default=None):
        try:
            return fn()
        except (OSError, ValueError) as e:  # a full or unreadable disk, a half-written file: never the job's end
            log.warning("job storage %s: %s", self.store.root, e)
            return default

    # ---------------------------------------------------------------- what this process writes
    def created(self, job_id: str, config, owner: str | None, title: str) -> None:
        """The new job on disk: owner, title, recipe and its checkpoint to resume from; this process holds it."""
        def write():
            self.store.beat()  # first: no reader may find the job without its process's heartbeat
            self.store.create(job_id, config, owner, pickled=False, title=title, fields=recipe_fields(config))
            self.store.add_attempt(job_id)
        self.io(write)
        self.index[job_id] = owner

    def event(self, job_id: str, event) -> None:
        self.io(lambda: self.store.append(job_id, event))

    def checkpoint(self, job_id: str, blob: bytes) -> None:
        self.io(lambda: self.store.write_checkpoint(job_id, blob))

    def ended(self, job_id: str) -> None:
        self.io(lambda: self.store.slim(job_id))

    def forget(self, job_id: str) -> None:
        self.index.pop(job_id, None)
        self.io(lambda: self.store.delete(job_id))

    # ---------------------------------------------------------------- jobs this process does not hold
    def knows(self, job_id: str) -> bool:
        return bool(self.io(lambda: self.store.exists(job_id), False))

    def _read(self, fn):
        try:
            return fn()
        except (OSError, ValueError, KeyError):  # deleted meanwhile, or unreadable: as good as gone
            raise ConfigError("job", GONE) from None

    def owner(self, job_id: str) -> str | None:
        return self._read(lambda: self.store.owner(job_id))

    def title(self, job_id: str) -> str:
        return self._read(lambda: self.store.config(job_id).get("title", "job"))

    def fields(self, job_id: str) -> dict:
        return self._read(lambda: self.store.config(job_id).get("fields", {}))

    def events(self, job_id: str, since: int = 0) -> list:
        self.settle(job_id)
        return self._read(lambda: self.store.events(job_id, since))

    def read_checkpoint(self, job_id: str) -> bytes | None:
        return self._read(lambda: self.store.checkpoint(job_id))

    def settle(self, job_id: str) -> str:
        """"running" (its process lives, here or on another replica) or "done" (ended, or interrupted: then the
        first caller appends the ``Failed`` that says so, with its last checkpoint's step)."""
        if self._read(lambda: self.store.is_done(job_id)):
            return "done"
        if self._read(lambda: self.store.alive(job_id, STALE_S)):
            return "running"
        if self.io(lambda: self.store.mark_once(job_id, "interrupted"), False):
            evs = self._read(lambda: self.store.events(job_id))
            ckpt = [e.step for e in evs if isinstance(e, Checkpoint)]
            step = max([getattr(e, "step", 0) for e in evs if isinstance(getattr(e, "step", 0), int)], default=0)
            self.event(job_id, Failed(step, INTERRUPTED, ckpt[-1] if ckpt else None))
            log.info("job %s: interrupted (its process is gone)", job_id)
        # Another reader marked it first (this process's sweep thread, another replica) and is appending its Failed:
        # the flag already says the job is over, so it is never read as running meanwhile.
        deadline = time.monotonic() + 1.0
        while not self._read(lambda: self.store.is_done(job_id)) and time.monotonic() < deadline:
            time.sleep(0.02)
        return "done"

    def stop(self, job_id: str) -> None:
        """Ask the process that holds the job to stop it (a flag its heartbeat looks for)."""
        if self.settle(job_id) == "running":
            self.io(lambda: self.store.request_stop(job_id))

    def stop_requested(self, job_id: str) -> bool:
        return bool(self.io(lambda: self.store.stop_requested(job_id), False))

    def beat(self) -> None:
        self.io(self.store.beat)

    def jobs_of(self, owner: str, skip) -> list[tuple[str, str, str]]:
        """``(job id, title, state)`` of ``owner``'s jobs on disk that are not in ``skip`` (the runner's own); waits
        for the first sweep (started with the runner) to have read the disk."""
        self.indexed.wait(30)
        out = []
        for jid in [j for j, o in dict(self.index).items() if o == owner and j not in skip]:
            try:
                out.append((jid, self.title(jid), self.settle(jid)))
            except ConfigError:
                self.index.pop(jid, None)
        return out

    # ---------------------------------------------------------------- the bounds
    def sweep(self, ended_here: dict[str, bool], forget_s: float) -> list[str]:
        """Look the storage over: delete foreign and interrupted jobs ended more than ``forget_s`` ago, then the
        oldest ended jobs beyond the caps; refresh the index. ``ended_here``: this runner's jobs, id -> ended.
        Returns this runner's job ids it deleted (the runner forgets them too)."""
        self.swept_at = time.monotonic()
        try:
            return self._sweep(ended_here, forget_s)
        finally:
            self.indexed.set()

    def _sweep(self, ended_here: dict[str, bool], forget_s: float) -> list[str]:
        now, index, ended, total, dropped = time.time(), {}, [], 0, []
        for jid in self.store.job_ids():  # oldest first
            try:
                owner = self.store.owner(jid)
                done = ended_here[jid] if jid in ended_here else self.settle(jid) == "done"
                if done and jid not in ended_here and now - self.store.last_write(jid) > forget_s:
                    self.store.delete(jid)
                    continue
                total += self.store.nbytes(jid)
            except (OSError, ValueError, KeyError, ConfigError):  # half-created, or removed meanwhile
                continue
            index[jid] = owner
            if done:
                ended.append(jid)
        cap = self.max_mb * 2 ** 20
        while ended and (len(index) > self.max_jobs or total > cap):
            jid = ended.pop(0)
            total -= self.io(lambda: self.store.nbytes(jid), 0)
            self.store.delete(jid)
            index.pop(jid, None)
            if jid in ended_here:
                dropped.append(jid)
        self.index = index
        for beat in self.io(lambda: list((self.store.root / ".alive").glob("*")), []):  # processes long gone
            self.io(lambda: now - beat.stat().st_mtime > max(forget_s, 86400) and beat.unlink())
        return dropped

    def due(self) -> bool:
        return self.swept_at is None or time.monotonic() - self.swept_at > SWEEP_S
