"""Two Streamlit replicas behind the sticky HAProxy of deploy/: affinity by cookie, and a killed replica's
browser is sent to the other one. Needs the Debian haproxy package (skipped without it)."""
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("ray")  # the scale-out extra as a whole
if shutil.which("haproxy") is None:
    pytest.skip("haproxy is not installed (apt-get install -y haproxy)", allow_module_level=True)

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def get(url, cookie=None):
    req = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status, r.headers


def wait_for(fn, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            got = fn()
            if got:
                return got
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError("timed out")


def test_sticky_replicas_and_failover(tmp_path):
    proxy, first = free_port(), free_port()
    while not port_is_free(first + 1):  # the replicas listen on first and first + 1
        first = free_port()
    run_file = tmp_path / "run_dir"
    env = dict(os.environ, FIRST_PORT=str(first), SECONDS_LIMIT="120", RUN_DIR_FILE=str(run_file),
               CNNVIZ_STORAGE=str(tmp_path / "jobs"))
    script = subprocess.Popen(["bash", str(ROOT / "deploy/run_replicas.sh"), "2", str(proxy)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        run = Path(wait_for(lambda: run_file.exists() and run_file.read_text().strip(), 30))
        health = f"http://127.0.0.1:{proxy}/_stcore/health"
        for port in (first, first + 1):  # both replicas up (HAProxy checks them every second)
            wait_for(lambda port=port: get(f"http://127.0.0.1:{port}/_stcore/health")[0] == 200, 60)
        time.sleep(2.5)
        status, headers = get(health)
        assert status == 200
        cookie, = [c.split(";")[0] for c in headers.get_all("Set-Cookie") if c.startswith("CNNVIZ_REPLICA=")]
        name = cookie.split("=")[1]                           # CNNVIZ_REPLICA=r1 or r2
        assert name in ("r1", "r2") and headers["X-Cnnviz-Replica"] == name
        for _ in range(5):                                    # sticky: the same replica every time
            assert get(health, cookie)[1]["X-Cnnviz-Replica"] == name
        other = {"r1": "r2", "r2": "r1"}[name]
        pid = int((run / f"replica{name[1]}.pid").read_text())
        os.kill(pid, signal.SIGKILL)                          # that replica dies
        status, headers = wait_for(lambda: (lambda r: r if r[0] == 200 else None)(get(health, cookie)), 10)
        assert headers["X-Cnnviz-Replica"] == other           # redispatched to the living one
    finally:
        os.killpg(script.pid, signal.SIGTERM)                 # the script's own group: replicas + haproxy
        script.wait(30)
