"""The upload caps (cnnviz.ui.upload_caps) on Streamlit's own MemoryUploadedFileManager: the caps count what a
session and the server hold, a file a widget has read (claimed) stays, one nobody claimed is dropped after
UPLOAD_UNCLAIMED_S, and a refusal is the HTTP error the upload route answers with."""
import time

import pytest
from starlette.exceptions import HTTPException
from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
from streamlit.runtime.uploaded_file_manager import UploadedFileRec

import cnnviz.ui  # noqa: F401 - installs the protocol guards
from cnnviz import limits
from cnnviz.ui import upload_caps


def rec(fid: str, size: int) -> UploadedFileRec:
    return UploadedFileRec(file_id=fid, name=f"{fid}.png", type="image/png", data=b"\0" * size)


def test_caps_per_session_and_in_all(monkeypatch):
    monkeypatch.setattr(limits, "UPLOAD_SESSION_FILES", 2)
    monkeypatch.setattr(limits, "UPLOAD_SESSION_BYTES", 100)
    monkeypatch.setattr(limits, "UPLOAD_TOTAL_BYTES", 250)
    mgr = MemoryUploadedFileManager("/_stcore/upload_file")
    mgr.add_file("s1", rec("a", 60))
    with pytest.raises(HTTPException) as e:
        mgr.add_file("s1", rec("b", 41))  # 101 bytes > 100
    assert e.value.status_code == 413 and "this session's uploads" in e.value.detail and "limit" in e.value.detail
    mgr.add_file("s1", rec("a", 100))  # the same id replaces: 100 bytes held, not 160
    mgr.add_file("s2", rec("c", 10))
    mgr.add_file("s2", rec("d", 10))
    with pytest.raises(HTTPException, match="uploaded files"):
        mgr.add_file("s2", rec("e", 1))  # a third file in s2
    mgr.add_file("s3", rec("f", 100))
    with pytest.raises(HTTPException, match="as many uploads as it may"):
        mgr.add_file("s4", rec("g", 31))  # 220 + 31 > 250 in all
    assert mgr._total_bytes == 220 and [r.file_id for r in mgr.get_files("s1", ["a", "b"])] == ["a"]
    mgr.remove_session_files("s3")
    mgr.add_file("s4", rec("g", 31))  # room again


def test_unclaimed_uploads_are_dropped_and_claimed_ones_kept():
    mgr = MemoryUploadedFileManager("/_stcore/upload_file")
    mgr.add_file("s1", rec("claimed", 10))
    mgr.add_file("s1", rec("unclaimed", 10))
    assert [r.file_id for r in mgr.get_files("s1", ["claimed"])] == ["claimed"]  # a file uploader's run reads it
    now = time.monotonic()
    assert upload_caps.sweep(mgr, now + limits.UPLOAD_UNCLAIMED_S - 5) == 0  # not yet
    assert upload_caps.sweep(mgr, now + limits.UPLOAD_UNCLAIMED_S + 5) == 1
    assert set(mgr.file_storage["s1"]) == {"claimed"} and mgr._file_count == 1 and mgr._total_bytes == 10
    mgr.remove_file("s1", "claimed")
    upload_caps.sweep(mgr, now + 10 * limits.UPLOAD_UNCLAIMED_S)
    assert getattr(mgr, upload_caps._META) == {}  # the records of files that are gone are forgotten
