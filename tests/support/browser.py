"""Headless chromium and the app's server, for the browser tests and bench/load.py: one place for the flags, the
start-up on 127.0.0.1 and the page probes they share."""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CNNVIZ_CHROMIUM", "/usr/bin/chromium")  # Debian's package; never `playwright install`
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# How long a browser test waits for the app (ms). Generous on purpose: a cold server imports torch and captum, and a
# clean-clone CI run beside a second suite (load average above 20 on 2 cores) took over 90 s for a first page. A
# passing test never waits this long; a broken one fails after it (e2e tests get a 600 s pytest timeout, conftest).
E2E_WAIT_MS = 240_000
# How many points the Training Lab's loss curve has (0 before it is drawn): the page's progress, as a browser sees it.
# Read from plotly's full data: a figure built from numpy arrays reaches the page as {dtype, bdata} (base64), which
# plotly.js decodes into its _fullData; `data[0].x` keeps the undecoded object (no length).
LOSS_POINTS = """() => {
  const plots = [...document.querySelectorAll('[data-testid=stPlotlyChart] .js-plotly-plot')];
  const curves = plots.find(p => (p.layout && p.layout.annotations || []).some(a => a.text === 'Loss'));
  const t = curves && (curves._fullData || curves.data)[0];
  return t && t.x ? t.x.length : 0;
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env: dict | None = None, timeout: float = 60, port: int | None = None,
                 log=subprocess.DEVNULL) -> tuple[subprocess.Popen, str]:
    """``streamlit run app.py`` on 127.0.0.1 and ``port`` (default: a free one), its output to ``log``; (process,
    URL) once it answers its health check. RuntimeError (the process killed) when it does not within ``timeout``."""
    port = port or free_port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                             "--server.address", "127.0.0.1", "--server.port", str(port),
                             "--browser.gatherUsageStats", "false"],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return proc, url
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.3)
    proc.kill()
    proc.wait()
    raise RuntimeError(f"streamlit server did not start within {timeout:g} s")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def rss_mib(pid: int) -> float:
    """Resident memory of a process, MiB (NaN once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")
