"""The server settings a class relies on, as Streamlit itself parses them from .streamlit/config.toml (a typo
would silently fall back to Streamlit's default)."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

OPTIONS = ("client.showErrorDetails", "client.toolbarMode", "server.maxUploadSize", "server.fileWatcherType",
           "runner.postScriptGC")


def test_streamlit_reads_the_class_settings():
    code = ("import json; from streamlit import config; config.get_config_options(force_reparse=True); "
            f"print(json.dumps({{k: config.get_option(k) for k in {OPTIONS!r}}}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    from cnnviz.limits import SERVER_UPLOAD_MB
    assert got == {"client.showErrorDetails": "none",   # no exception text or traceback in a student's browser
                   "client.toolbarMode": "minimal",      # no clear-cache or rerun entries
                   "server.maxUploadSize": SERVER_UPLOAD_MB,
                   "server.fileWatcherType": "none",
                   "runner.postScriptGC": False}
