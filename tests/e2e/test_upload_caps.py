"""Uploads to the real server's upload endpoint (``PUT /_stcore/upload_file/<session>/<file id>``, the XSRF
cookie and header as the browser sends them) under file ids a script invents: a session may hold at most
UPLOAD_SESSION_FILES files and UPLOAD_SESSION_BYTES bytes (cnnviz.ui.upload_caps); beyond, HTTP 413 with a message
naming the cap, and nothing is kept. Deleting a file frees its room; another session has its own."""
import uuid

import pytest
import requests

from bench.classroom_load import Client
from cnnviz.limits import MiB, UPLOAD_SESSION_BYTES, UPLOAD_SESSION_FILES
from tests.support.aio import run


def put(http: requests.Session, url: str, sid: str, size: int, fid: str | None = None) -> tuple[int, str, str]:
    fid = fid or str(uuid.uuid4())
    r = http.put(f"{url}/_stcore/upload_file/{sid}/{fid}", files={"file": ("x.zip", b"\0" * size, "application/zip")},
                 headers={"X-Xsrftoken": http.cookies.get("_streamlit_xsrf", "")}, timeout=60)
    return r.status_code, r.text, fid


async def scenario(url: str) -> None:
    clients = [Client(url, "uploader"), Client(url, "classmate")]
    for c in clients:
        await c.connect()
        await c.rerun(page="conv_arithmetic", timeout=180)
    sid, sid2 = (c.session_id for c in clients)
    http = requests.Session()
    http.get(f"{url}/_stcore/health", timeout=60)  # the XSRF cookie, as the browser gets it
    xsrf = {"X-Xsrftoken": http.cookies.get("_streamlit_xsrf", "")}
    try:
        big = 20 * MiB - 1024
        fids = []
        for _ in range(3):  # three 20 MiB uploads: 60 MiB, the session's bytes
            status, text, fid = put(http, url, sid, big)
            assert status == 204, (status, text)
            fids.append(fid)
        status, text, _ = put(http, url, sid, big)
        assert status == 413 and "MiB" in text and "limit" in text, (status, text)  # over the bytes cap
        status, text, _ = put(http, url, sid, 1024)
        assert status == 204, (status, text)  # a fourth, small, file fits
        status, text, _ = put(http, url, sid, 1024)
        assert status == 413 and "uploaded files" in text, (status, text)  # a fifth file does not
        assert put(http, url, sid, big, fid=fids[0])[0] == 204  # re-sending a file it holds replaces it
        assert http.delete(f"{url}/_stcore/upload_file/{sid}/{fids[1]}", headers=xsrf).status_code == 204
        assert put(http, url, sid, 1024)[0] == 204  # the deleted file's room is free again
        assert put(http, url, sid2, big)[0] == 204  # another session has its own share
    finally:
        for c in clients:
            await c.close()


def test_a_session_cannot_hold_more_than_its_share_of_uploads(server):
    assert UPLOAD_SESSION_FILES == 4 and UPLOAD_SESSION_BYTES == 60 * MiB  # the sizes below are built on these
    run(scenario(server))
