"""Two Streamlit replicas behind the sticky HAProxy of deploy/: affinity by cookie, a killed replica's browser is
sent to the other one, and — with trainings on a local Ray head — a student whose replica dies mid-training
reconnects to the same, still-running job. Needs the Debian haproxy package (skipped without it); the last test
also needs chromium."""
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.browser import LOSS_POINTS, free_port

pytest.importorskip("ray")  # the scale-out extra as a whole
if shutil.which("haproxy") is None:
    pytest.skip("haproxy is not installed (apt-get install -y haproxy)", allow_module_level=True)

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "e2e" / "artifacts"


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def can_listen(port: int) -> bool:
    """A new server could listen on ``port`` now (SO_REUSEADDR, as servers bind: TIME_WAIT does not count)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            s.listen()
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


@contextlib.contextmanager
def replicas(tmp_path, **env):
    """deploy/run_replicas.sh with 2 replicas on 127.0.0.1: yields (proxy URL, run dir), both replicas healthy;
    stops the script's process group (replicas + haproxy) afterwards."""
    proxy, first = free_port(), free_port()
    while not port_is_free(first + 1):  # the replicas listen on first and first + 1
        first = free_port()
    run_file = tmp_path / "run_dir"
    env = dict(os.environ, FIRST_PORT=str(first), SECONDS_LIMIT="240", RUN_DIR_FILE=str(run_file),
               CNNVIZ_STORAGE=str(tmp_path / "jobs"), **env)
    script = subprocess.Popen(["bash", str(ROOT / "deploy/run_replicas.sh"), "2", str(proxy)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        run = Path(wait_for(lambda: run_file.exists() and run_file.read_text().strip(), 30))
        for port in (first, first + 1):  # both replicas up (HAProxy checks them every second)
            wait_for(lambda port=port: get(f"http://127.0.0.1:{port}/_stcore/health")[0] == 200, 60)
        time.sleep(2.5)
        yield f"http://127.0.0.1:{proxy}", run
    finally:
        with contextlib.suppress(ProcessLookupError):         # a test may have ended the script itself
            os.killpg(script.pid, signal.SIGTERM)             # the script's own group: replicas + haproxy
        script.wait(30)


def test_sigterm_to_the_script_stops_every_process_and_frees_the_ports(tmp_path):
    """A service manager sends SIGTERM to the script alone: within seconds the replicas and HAProxy are gone and
    their ports free (a foreground sleep used to defer the trap for the whole SECONDS_LIMIT)."""
    proxy, first = free_port(), free_port()
    while not port_is_free(first + 1):
        first = free_port()
    run_file = tmp_path / "run_dir"
    env = dict(os.environ, FIRST_PORT=str(first), SECONDS_LIMIT="600", RUN_DIR_FILE=str(run_file),
               CNNVIZ_STORAGE=str(tmp_path / "jobs"))
    script = subprocess.Popen(["bash", str(ROOT / "deploy/run_replicas.sh"), "2", str(proxy)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        run = Path(wait_for(lambda: run_file.exists() and run_file.read_text().strip(), 30))
        for port in (first, first + 1):
            wait_for(lambda port=port: get(f"http://127.0.0.1:{port}/_stcore/health")[0] == 200, 60)
        pids = [int((run / f"{name}.pid").read_text()) for name in ("replica1", "replica2", "haproxy")]
        t0 = time.time()
        script.send_signal(signal.SIGTERM)                    # the script only, not its group
        assert script.wait(20) == 143 and time.time() - t0 < 20
        for pid in pids:
            wait_for(lambda pid=pid: not os.path.exists(f"/proc/{pid}") or
                     open(f"/proc/{pid}/stat").read().split()[2] == "Z", 10)
        assert all(can_listen(p) for p in (proxy, first, first + 1))
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(script.pid, signal.SIGKILL)
        script.wait(30)


def test_an_unfinished_request_is_closed_by_the_proxy(tmp_path):
    """A slow-loris client (headers that never end) holds no connection longer than HAProxy's
    ``timeout http-request`` (10 s): it is answered 408 and closed."""
    with replicas(tmp_path) as (url, _run):
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            s.sendall(b"GET /_stcore/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # no blank line: never finished
            t0 = time.time()
            answer = s.recv(4096)
            waited = time.time() - t0
        assert answer.startswith(b"HTTP/1.1 408") and 8 < waited < 15, (answer[:60], waited)


def test_sticky_replicas_and_failover(tmp_path):
    with replicas(tmp_path) as (url, run):
        health = f"{url}/_stcore/health"
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


def test_a_student_whose_replica_dies_mid_training_reconnects_to_the_running_job(tmp_path, browser):
    """The whole school set-up: chromium → HAProxy → 2 Streamlit replicas → a Ray head (all on 127.0.0.1,
    started here). Start a training, SIGKILL the replica serving this browser, reload: the other replica shows
    the same job, still training, from the job id in the URL and this browser's owner cookie (the job is this
    browser's: its Stop works there); one attempt, nothing restarted. A second browser given the same link gets a
    notice, none of the job."""
    ray = pytest.importorskip("ray")
    from cnnviz.jobs.cluster.ray_runner import RayRunner
    from cnnviz.jobs import Finished
    os.environ.setdefault("RAY_memory_monitor_refresh_ms", "0")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    old_path = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), old_path) if p)  # Ray workers import cnnviz
    ray.init(address="local", num_cpus=2, include_dashboard=False, namespace="cnnviz", log_to_driver=False,
             configure_logging=False, _node_ip_address="127.0.0.1")
    runner = None
    try:
        address = ray.get_runtime_context().gcs_address
        with replicas(tmp_path, CNNVIZ_RAY_ADDRESS=address, CNNVIZ_RAY_MAX_RUNNING="1") as (url, run):
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            page = context.new_page()
            try:
                page.set_default_timeout(120_000)
                page.goto(f"{url}/training_lab?data=shapes&model=SmallResNet&epochs=30")
                main = page.get_by_test_id("stMain")
                main.get_by_role("button", name="Start", exact=True).click()
                page.wait_for_function("() => window.location.search.includes('train_job=')")
                job = re.search(r"train_job=(job-[0-9a-f]{32})", page.url).group(1)
                page.wait_for_function(f"() => ({LOSS_POINTS})() >= 2", timeout=180_000)  # it trains on Ray
                name = next(c["value"] for c in page.context.cookies() if c["name"] == "CNNVIZ_REPLICA")
                # this student's replica dies mid-training
                os.kill(int((run / f"replica{name[1]}.pid").read_text()), signal.SIGKILL)
                before = page.evaluate(LOSS_POINTS)
                # HAProxy notices within its health checks (1 s, fall 2); until then a request for the dead
                # replica is retried and redispatched. Wait for the former, so the test is not a race.
                wait_for(lambda: get(f"{url}/_stcore/health", f"CNNVIZ_REPLICA={name}")[1]["X-Cnnviz-Replica"]
                         != name, 20)
                page.goto(f"{url}/training_lab?train_job={job}")  # the student reloads: HAProxy redispatches
                # the other replica shows the same job, further on
                page.wait_for_function(f"() => ({LOSS_POINTS})() > {before}", timeout=180_000)
                other = next(c["value"] for c in page.context.cookies() if c["name"] == "CNNVIZ_REPLICA")
                assert other != name and page.get_by_test_id("stException").count() == 0
                assert main.get_by_role("button", name="Stop", exact=True).is_enabled()  # still this browser's
                classmate = browser.new_context(viewport={"width": 1400, "height": 900})  # no cookies shared
                try:
                    theirs = classmate.new_page()
                    theirs.goto(f"{url}/training_lab?train_job={job}")
                    theirs.get_by_text("That training belongs to another session").wait_for(timeout=60_000)
                    assert theirs.evaluate(LOSS_POINTS) == 0 and theirs.get_by_test_id("stException").count() == 0
                finally:
                    classmate.close()
            except BaseException:
                ARTIFACTS.mkdir(parents=True, exist_ok=True)  # what CI keeps for a failure: the page and the logs
                page.screenshot(path=str(ARTIFACTS / "failover.png"), full_page=True)
                for log in run.glob("*.log"):
                    shutil.copy(log, ARTIFACTS / f"failover-{log.name}")
                raise
            finally:
                context.close()
            runner = RayRunner(root=tmp_path / "jobs")  # a third view of the same storage and manager
            assert len(runner.store.attempts(job)) == 1   # never restarted: the job did not depend on the replica
            runner.stop(job, owner=runner.store.owner(job))  # the test, as the owner
            assert runner.join(job, timeout=60) and isinstance(runner.poll(job)[-1], Finished)
    finally:
        if runner is not None:
            ray.kill(runner.manager)
        ray.shutdown()
        if old_path is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old_path


def test_a_class_setup_serves_the_lan_through_the_proxy_only(tmp_path):
    """CNNVIZ_BIND=0.0.0.0: HAProxy answers on this machine's LAN address, the replicas still listen on 127.0.0.1
    only (nothing bypasses the proxy), and the replicas show the proxy's LAN address as the join address. Without
    CNNVIZ_BIND the proxy binds 127.0.0.1; a bad value is refused before anything starts."""
    from cnnviz.classroom.live import lan_address
    lan = lan_address()
    if lan == "127.0.0.1":
        pytest.skip("this machine has no network interface besides loopback")
    bad = subprocess.run(["bash", str(ROOT / "deploy/run_replicas.sh"), "2", "1"], capture_output=True, text=True,
                         env=dict(os.environ, CNNVIZ_BIND="0.0.0.0;rm -rf /"), timeout=30)
    assert bad.returncode == 2 and "CNNVIZ_BIND" in bad.stderr
    with replicas(tmp_path, CNNVIZ_BIND="0.0.0.0") as (url, run):
        proxy = int(url.rsplit(":", 1)[1])
        assert f"bind 0.0.0.0:{proxy}" in (run / "haproxy.cfg").read_text()
        assert get(f"http://{lan}:{proxy}/_stcore/health")[0] == 200        # students reach the proxy
        first = int(re.search(r"server r1 127\.0\.0\.1:(\d+)", (run / "haproxy.cfg").read_text())[1])
        with pytest.raises(OSError):                                        # but not a replica
            get(f"http://{lan}:{first}/_stcore/health")
        pid = int((run / "replica1.pid").read_text())
        environ = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
        assert f"CNNVIZ_PUBLIC_URL=http://{lan}:{proxy}".encode() in environ
    (tmp_path / "default").mkdir()
    with replicas(tmp_path / "default") as (url, run):
        assert f"bind 127.0.0.1:{url.rsplit(':', 1)[1]}" in (run / "haproxy.cfg").read_text()
