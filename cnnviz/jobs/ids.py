"""Job ids and owner checks, shared by every runner (thread, child-process and Ray) and light enough for the
Ray job manager (no torch).

A job id is 128 random bits (``secrets``), so nobody finds another student's job by counting; an id that
comes from a URL is checked against the strict pattern before it is used (it also names a directory on the
Ray runner's shared storage). Control of a job (stop, its checkpoint, resuming from it) belongs to the
``owner`` given at submit time: a per-browser-session random token that never appears in a URL."""
from __future__ import annotations

import re
import secrets

from cnnviz.errors import ConfigError

JOB_ID = re.compile(r"^job-[0-9a-f]{32}$")
OWNER = re.compile(r"^[A-Za-z0-9_-]{22,64}$")


def new_job_id() -> str:
    """``job-`` and 32 hex digits: 128 bits from the operating system's CSPRNG."""
    return f"job-{secrets.token_hex(16)}"


def new_owner() -> str:
    """A browser session's owner token (256 random bits, URL-safe characters)."""
    return secrets.token_urlsafe(32)


def is_job_id(job_id) -> bool:
    return isinstance(job_id, str) and len(job_id) == 36 and JOB_ID.match(job_id) is not None


def check_job_id(job_id) -> str:
    if not is_job_id(job_id):
        raise ConfigError("job", "that is not a training job id (expected job- and 32 hex digits)")
    return job_id


def check_owner(job_owner: str | None, caller: str | None) -> None:
    """ConfigError("job") unless ``caller`` is the job's owner (jobs submitted without an owner, by scripts and
    tests, are controlled by callers without one)."""
    same = job_owner == caller if job_owner is None or caller is None else secrets.compare_digest(
        str(job_owner).encode(), str(caller).encode())
    if not same:
        raise ConfigError("job", "that training belongs to another browser session: only the session that "
                          "started it can stop it, resume it or download its checkpoint")
