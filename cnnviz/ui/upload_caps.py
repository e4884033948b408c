"""Caps on the uploads the server holds: any client with a session id can PUT files to
``/_stcore/upload_file/<session>/<file id>`` under ids it invents, and Streamlit keeps each one in memory until
the session ends. Here (:mod:`cnnviz.limits`):

- a session holds at most ``UPLOAD_SESSION_FILES`` files and ``UPLOAD_SESSION_BYTES`` bytes, all sessions
  together ``UPLOAD_TOTAL_FILES`` and ``UPLOAD_TOTAL_BYTES``; an upload beyond is refused with HTTP 413 and a
  message saying which cap (the server keeps nothing of it);
- an upload that no widget has asked for (``get_files``: a file uploader's run reads it) within
  ``UPLOAD_UNCLAIMED_S`` seconds is dropped: a browser's upload is claimed by the rerun that follows it at once.

Written against streamlit==1.67.0's ``MemoryUploadedFileManager`` (``add_file`` is called by the upload route,
on the server's event loop, after the body is read; an ``HTTPException`` raised there is the response);
tests/e2e/test_upload_caps.py fails if those internals move."""
from __future__ import annotations

import asyncio
import logging
import threading
import time

from starlette.exceptions import HTTPException
from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager

from cnnviz import limits

log = logging.getLogger(__name__)
_ADD, _GET = MemoryUploadedFileManager.add_file, MemoryUploadedFileManager.get_files
_META = "_cnnviz_upload_meta"  # on the manager: {(session id, file id): [uploaded at, claimed]}
_META_LOCK = threading.RLock()
STATS = {"refused": 0, "dropped": 0}


def _meta(mgr) -> dict:
    with _META_LOCK:
        if not hasattr(mgr, _META):
            setattr(mgr, _META, {})
        return getattr(mgr, _META)


def refusal(mgr, session_id: str, file_id: str, size: int) -> str | None:
    """Why adding ``size`` bytes as ``file_id`` to ``session_id`` would pass a cap, or None. A file id already
    held is replaced, so its old bytes do not count."""
    with mgr._lock:
        own = mgr.file_storage.get(session_id, {})
        old = own.get(file_id)
        files = len(own) + (old is None)
        own_bytes = sum(len(f.data) for f in own.values()) - (len(old.data) if old else 0) + size
        all_files = mgr._file_count + (old is None)
        all_bytes = mgr._total_bytes - (len(old.data) if old else 0) + size
    mib = limits.MiB
    if files > limits.UPLOAD_SESSION_FILES:
        return (f"this session already holds {files - 1} uploaded files; the limit is "
                f"{limits.UPLOAD_SESSION_FILES}: remove one first")
    if own_bytes > limits.UPLOAD_SESSION_BYTES:
        return (f"this session's uploads would hold {own_bytes / mib:.1f} MiB; the limit is "
                f"{limits.UPLOAD_SESSION_BYTES // mib} MiB: remove a file first")
    if all_files > limits.UPLOAD_TOTAL_FILES or all_bytes > limits.UPLOAD_TOTAL_BYTES:
        return (f"the server holds as many uploads as it may ({limits.UPLOAD_TOTAL_FILES} files, "
                f"{limits.UPLOAD_TOTAL_BYTES // mib} MiB in all); try again in a few minutes")
    return None


def sweep(mgr, now: float | None = None) -> int:
    """Drop the uploads no widget has claimed within ``UPLOAD_UNCLAIMED_S``, and forget the records of files
    that are gone (deleted by the browser, or their session ended). The number dropped."""
    now = time.monotonic() if now is None else now
    meta, dropped = _meta(mgr), 0
    with _META_LOCK:
        items = list(meta.items())
    for (sid, fid), (at, claimed) in items:
        with mgr._lock:
            held = fid in mgr.file_storage.get(sid, {})
        if held and not claimed and now - at > limits.UPLOAD_UNCLAIMED_S:
            mgr.remove_file(sid, fid)
            dropped += 1
            held = False
        if not held:
            with _META_LOCK:
                meta.pop((sid, fid), None)
    if dropped:
        STATS["dropped"] += dropped
        log.warning("dropped %d upload(s) no widget claimed within %d s", dropped, limits.UPLOAD_UNCLAIMED_S)
    return dropped


def add_file(self, session_id: str, file) -> None:
    sweep(self)
    why = refusal(self, session_id, file.file_id, len(file.data))
    if why is not None:
        STATS["refused"] += 1
        log.warning("refused an upload of %d bytes: %s", len(file.data), why)
        raise HTTPException(status_code=413, detail=f"Upload refused: {why}.")
    _ADD(self, session_id, file)
    with _META_LOCK:
        _meta(self)[(session_id, file.file_id)] = [time.monotonic(), False]
    try:  # a sweep when this file's time is up, even if nothing else happens on the server
        asyncio.get_running_loop().call_later(limits.UPLOAD_UNCLAIMED_S + 1, sweep, self)
    except RuntimeError:
        pass  # not on the event loop: the next add_file sweeps


def get_files(self, session_id: str, file_ids):
    recs = _GET(self, session_id, file_ids)
    meta = _meta(self)
    with _META_LOCK:
        for rec in recs:
            entry = meta.get((session_id, rec.file_id))
            if entry is not None:
                entry[1] = True
    return recs


def install() -> None:
    """Idempotent."""
    MemoryUploadedFileManager.add_file = add_file
    MemoryUploadedFileManager.get_files = get_files
