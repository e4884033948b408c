"""Job storage every replica and every Ray worker can read: one directory per job under a shared root.

``<root>/<job_id>/`` holds ``config.json`` (the owner, and the job's recipe when its kind has ``to_dict``),
``job.pkl`` (the job kind itself, pickled by the submitting replica: the user's own images travel inside it;
only this server's replicas write the storage, so it is trusted like the child process's pipe),
``events.jsonl`` (one event per line, appended by the one process that runs the job), ``checkpoint.pt`` (the
last good checkpoint, replaced atomically), ``stop`` (a flag file: stop at the next step) and ``attempts``
(one line per worker attempt: pid and host, so a retried job is visible).

The root is ``CNNVIZ_STORAGE`` (a path, or a ``file://`` URI; point it at a shared mount such as NFS or EFS
on a real cluster), else ``~/.cache/cnnviz/jobs``. The job id is the only key: it is what the page keeps in its
URL, so a student whose replica died reconnects to the same job from another one. Job ids are checked against a
strict pattern before they touch the file system (they come from URLs); they are 128 random bits
(cnnviz.jobs.ids), and ``config.json`` keeps the owner, the only session that may stop the job or read its checkpoint."""
from __future__ import annotations

import dataclasses
import json
import os
import pickle
import socket
from pathlib import Path

from cnnviz.errors import ConfigError
from cnnviz.jobs import events
from cnnviz.jobs.ids import check_job_id

TERMINAL = ("Finished", "Failed")


def default_root() -> Path:
    raw = os.environ.get("CNNVIZ_STORAGE", "").strip()
    if raw.startswith("file://"):
        raw = raw[len("file://"):]
    elif "://" in raw:
        raise ConfigError("CNNVIZ_STORAGE", f"only local paths and file:// URIs are supported (mount shared "
                          f"storage such as NFS/EFS and give its path), got {raw!r}")
    return Path(raw).expanduser() if raw else Path.home() / ".cache" / "cnnviz" / "jobs"


def event_to_dict(event) -> dict:
    return {"kind": type(event).__name__, **dataclasses.asdict(event)}


def event_from_dict(d: dict):
    d = dict(d)
    cls = getattr(events, d.pop("kind"))
    return cls(**d)


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
    def create(self, job_id: str, job, owner: str | None = None) -> None:
        """Write a new job: its kind pickled, its checkpoint to resume from (``job.resume``, if any), its owner."""
        d = self.dir(job_id)
        d.mkdir(parents=True, exist_ok=False)
        _atomic_write(d / "job.pkl", pickle.dumps(job))
        resume = getattr(job, "resume", None)
        if resume is not None:
            self.write_checkpoint(job_id, resume)
        recipe = job.to_dict() if callable(getattr(job, "to_dict", None)) else {}
        _atomic_write(d / "config.json", json.dumps(dict(config=recipe, kind=type(job).__name__, owner=owner)).encode())

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
        p = self.dir(job_id) / "events.jsonl"
        if not p.exists():
            return None
        lines = p.read_bytes().split(b"\n")[:-1]
        return json.loads(lines[-1])["kind"] if lines else None

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


def _atomic_write(path: Path, blob: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:  # readers see the old file or the new one, never half of one
        f.write(blob)
    os.replace(tmp, path)
