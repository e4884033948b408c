"""Job storage: one directory per job under a root that every runner of this server writes (the thread runner of
each replica, and the Ray runner and its workers), so a restarted server or another replica finds every job.

``<root>/<job_id>/`` holds ``config.json`` (the owner, the kind's name and title, and the job's recipe when its kind
has ``to_dict``), ``job.pkl`` (the job kind itself, pickled by the submitting replica, for a Ray worker; the thread
runner writes none: it may hold a student's whole data set), ``events.jsonl`` (one event per line, appended by the
one process that runs the job; the events of :mod:`.events` as JSON, any other kind's events pickled:
only this server's processes write the storage, so it is trusted like the child process's pipe),
``checkpoint.pt`` (the last good checkpoint, replaced atomically), ``stop`` (a flag file: stop at the next step) and
``attempts`` (one line per runner or worker attempt: pid and host, so a retried job is visible and a job whose
process has died is known as interrupted). ``<root>/.alive/<host>-<pid>`` is touched every few seconds by each
thread runner that holds jobs (:meth:`JobStore.beat`).

The root is ``CNNVIZ_STORAGE`` (a path, or a ``file://`` URI; point it at a shared mount such as NFS or EFS
for replicas on several machines), else ``~/.cache/cnnviz/jobs``. The job id is the only key: it is what the page
keeps in its URL, so a student whose replica died or restarted reconnects to the same job. Job ids are checked
against a strict pattern before they touch the file system (they come from URLs); they are 128 random bits
(cnnviz.jobs.ids), and ``config.json`` keeps the owner, the only session that may stop the job or read its
checkpoint."""
from __future__ import annotations

import base64
import dataclasses
import json
import os
import pickle
import shutil
import socket
import time
from pathlib import Path

from cnnviz.errors import ConfigError
from cnnviz.jobs import events
from cnnviz.jobs.ids import check_job_id, is_job_id

TERMINAL = ("Finished", "Failed")


def default_root() -> Path:
    raw = os.environ.get("CNNVIZ_STORAGE", "").strip()
    if raw.startswith("file://"):
        raw = raw[len("file://"):]
    elif "://" in raw:
        raise ConfigError("CNNVIZ_STORAGE", f"only local paths and file:// URIs are supported (mount shared "
                          f"storage such as NFS/EFS and give its path), got {raw!r}")
    return Path(raw).expanduser() if raw else Path.home() / ".cache" / "cnnviz" / "jobs"


KEEP = ("config.json", "events.jsonl", "checkpoint.pt", "attempts")  # what an ended job keeps: the curve, the checkpoint
HOST = socket.gethostname()


def event_to_dict(event) -> dict:
    """The events of :mod:`.events` as JSON fields (the job manager reads them without torch); any other kind's event
    (a search trial, a distillation epoch) pickled."""
    if getattr(events, type(event).__name__, None) is type(event):
        return {"kind": type(event).__name__, **dataclasses.asdict(event)}
    return {"kind": type(event).__name__, "pickle": base64.b64encode(pickle.dumps(event)).decode()}


def event_from_dict(d: dict):
    d = dict(d)
    if "pickle" in d:
        return pickle.loads(base64.b64decode(d["pickle"]))
    cls = getattr(events, d.pop("kind"))
    return cls(**d)


def recipe_fields(job) -> dict:
    """A dataclass job's fields that JSON keeps as they are (numbers, strings, booleans, None): what a page needs
    to draw a reconnected job (a search's budget and trials, a distillation's epochs)."""
    if not dataclasses.is_dataclass(job):
        return {}
    plain = (int, float, str, bool, type(None))
    return {f.name: getattr(job, f.name) for f in dataclasses.fields(job) if isinstance(getattr(job, f.name), plain)}


class JobStore:
    """Files of the jobs under ``root``. Each job has ONE writer at a time (its worker, or the job manager when
    no worker exists), so appends need no lock; readers skip a trailing half-written line."""

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root is not None else default_root()
        self.root.mkdir(parents=True, exist_ok=True)

    def dir(self, job_id: str) -> Path:
        return self.root / check_job_id(job_id)

    def exists(self, job_id: str) -> bool:
        return (self.dir(job_id) / "config.json").exists()

    # ---------------------------------------------------------------- creation (by the submitting replica)
    def create(self, job_id: str, job, owner: str | None = None, pickled: bool = True, **extra) -> None:
        """Write a new job: its kind pickled (unless not ``pickled``), its checkpoint to resume from (``job.resume``,
        if any), its owner, and ``extra`` (JSON values) in ``config.json``, which comes last: a job exists once it is
        there."""
        d = self.dir(job_id)
        d.mkdir(parents=True, exist_ok=False)
        if pickled:
            _atomic_write(d / "job.pkl", pickle.dumps(job))
        resume = getattr(job, "resume", None)
        if resume is not None:
            self.write_checkpoint(job_id, resume)
        recipe = job.to_dict() if callable(getattr(job, "to_dict", None)) else {}
        _atomic_write(d / "config.json", json.dumps(dict(config=recipe, kind=type(job).__name__, owner=owner,
                                                         **extra)).encode())

    def owner(self, job_id: str) -> str | None:
        return self.config(job_id).get("owner")

    def config(self, job_id: str) -> dict:
        return json.loads((self.dir(job_id) / "config.json").read_text())

    def job(self, job_id: str):
        """The job kind written by :meth:`create` (read by the job's Ray worker)."""
        return pickle.loads((self.dir(job_id) / "job.pkl").read_bytes())

    # ---------------------------------------------------------------- events
    def append(self, job_id: str, event) -> None:
        """``event``: an event dataclass, or its dict form (the job manager writes those: no torch import)."""
        line = json.dumps(event if isinstance(event, dict) else event_to_dict(event)) + "\n"
        with open(self.dir(job_id) / "events.jsonl", "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()

    def repair(self, job_id: str) -> None:
        """Cut a half-written last line left by a worker that died mid-write (before a new writer appends)."""
        p = self.dir(job_id) / "events.jsonl"
        if not p.exists():
            return
        raw = p.read_bytes()
        if raw and not raw.endswith(b"\n"):
            with open(p, "r+b") as f:
                f.truncate(raw.rfind(b"\n") + 1)

    def raw_events(self, job_id: str, since: int = 0) -> list[dict]:
        p = self.dir(job_id) / "events.jsonl"
        if not p.exists():
            if not self.exists(job_id):
                raise ConfigError("job", "no such training job in the shared storage")
            return []
        lines = p.read_bytes().split(b"\n")[:-1]  # the part after the last newline may be half-written
        return [json.loads(x) for x in lines[since:]]

    def events(self, job_id: str, since: int = 0) -> list:
        return [event_from_dict(d) for d in self.raw_events(job_id, since)]

    def last_kind(self, job_id: str) -> str | None:
        """The kind of the last complete event; only the file's tail is read when the last line fits in it."""
        p = self.dir(job_id) / "events.jsonl"
        if not p.exists():
            return None
        with open(p, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - 8192))
            tail = f.read()
        lines = tail.split(b"\n")[:-1]  # the part after the last newline may be half-written
        if not lines:
            return None
        if len(lines) == 1 and size > len(tail):  # the last line starts before the tail: read it all
            lines = p.read_bytes().split(b"\n")[:-1]
        return json.loads(lines[-1])["kind"]

    def is_done(self, job_id: str) -> bool:
        return self.last_kind(job_id) in TERMINAL

    # ---------------------------------------------------------------- checkpoints, stop flag, attempts
    def write_checkpoint(self, job_id: str, blob: bytes) -> None:
        _atomic_write(self.dir(job_id) / "checkpoint.pt", blob)

    def checkpoint(self, job_id: str) -> bytes | None:
        p = self.dir(job_id) / "checkpoint.pt"
        return p.read_bytes() if p.exists() else None

    def request_stop(self, job_id: str) -> None:
        (self.dir(job_id) / "stop").touch()

    def stop_requested(self, job_id: str) -> bool:
        return (self.dir(job_id) / "stop").exists()

    def add_attempt(self, job_id: str) -> int:
        with open(self.dir(job_id) / "attempts", "a") as f:
            f.write(f"{os.getpid()} {socket.gethostname()}\n")
        return len(self.attempts(job_id))

    def attempts(self, job_id: str) -> list[tuple[int, str]]:
        p = self.dir(job_id) / "attempts"
        if not p.exists():
            return []
        return [(int(a), b) for a, b in (line.split(" ", 1) for line in p.read_text().splitlines() if line)]


    # ---------------------------------------------------------------- the thread runners' liveness and the bounds
    def beat(self) -> None:
        """This process holds live jobs: its heartbeat file is touched (:meth:`alive` reads it)."""
        p = self.root / ".alive" / f"{HOST}-{os.getpid()}"
        p.parent.mkdir(exist_ok=True)
        p.touch()

    def alive(self, job_id: str, fresh_s: float) -> bool:
        """Whether the process that holds the job (its last ``attempts`` line) is alive: on this host its pid
        exists, and on any host its heartbeat is younger than ``fresh_s``."""
        tries = self.attempts(job_id)
        if not tries:  # being created (its attempt follows its config.json), or never started by a Ray worker
            return time.time() - (self.dir(job_id) / "config.json").stat().st_mtime < fresh_s
        pid, host = tries[-1]
        if host == HOST and not os.path.exists(f"/proc/{pid}") and pid != os.getpid():
            return False
        try:
            return time.time() - (self.root / ".alive" / f"{host}-{pid}").stat().st_mtime < fresh_s
        except OSError:
            return False

    def job_ids(self) -> list[str]:
        """Every job's id, oldest written first."""
        found = []
        for d in self.root.iterdir():
            try:
                if is_job_id(d.name):
                    found.append((d.stat().st_mtime, d.name))
            except OSError:  # removed meanwhile by another replica
                pass
        return [j for _, j in sorted(found)]

    def last_write(self, job_id: str) -> float:
        """When the job's files last changed (its last event, checkpoint or creation), wall-clock seconds."""
        times = []
        for name in ("config.json", "events.jsonl", "checkpoint.pt"):
            try:
                times.append((self.dir(job_id) / name).stat().st_mtime)
            except OSError:
                pass
        return max(times, default=0.0)

    def nbytes(self, job_id: str) -> int:
        total = 0
        for p in self.dir(job_id).iterdir():
            try:
                total += p.stat().st_size
            except OSError:
                pass
        return total

    def slim(self, job_id: str) -> None:
        """An ended job keeps what its owner needs when they come back (:data:`KEEP`): its data set goes."""
        for p in self.dir(job_id).iterdir():
            if p.name not in KEEP:
                p.unlink(missing_ok=True)

    def delete(self, job_id: str) -> None:
        shutil.rmtree(self.dir(job_id), ignore_errors=True)

    def mark_once(self, job_id: str, name: str) -> bool:
        """Create the flag file ``name`` if it is not there; True for the one caller that created it."""
        try:
            os.close(os.open(self.dir(job_id) / name, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            return True
        except FileExistsError:
            return False


def _atomic_write(path: Path, blob: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:  # readers see the old file or the new one, never half of one
        f.write(blob)
    os.replace(tmp, path)
