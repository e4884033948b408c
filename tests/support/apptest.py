"""Opening a page in Streamlit's AppTest: the one way every tests/app module does it."""
import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def open_page(page: str, query: dict | None = None, timeout: float = 120, via_app: bool = False) -> AppTest:
    """Run ``pages/<page>.py`` with these query parameters and check it raised nothing. ``via_app``: through
    app.py's navigation (the real sidebar: presenter toggle, share link), as a browser opens it."""
    at = AppTest.from_file(str(ROOT / ("app.py" if via_app else f"pages/{page}.py")), default_timeout=timeout)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    if via_app and page != "home":
        at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def metric(at: AppTest, label: str, i: int = 0) -> str:
    """The value of the i-th metric with this label."""
    return [m.value for m in at.metric if m.label == label][i]


def figures(at: AppTest) -> list[dict]:
    """Every plotly figure on the page, as dicts, in page order. (Parse, never search the raw spec: plotly writes
    it with orjson when that is installed, as UTF-8, and with json otherwise, where "·" becomes "\\u00b7".)"""
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def open_tab(at: AppTest, label: str, prefix: str) -> AppTest:
    """Open the tab ``label`` of the page whose state prefix is ``prefix`` (lazy tabs: only the open tab's
    elements are in the tree)."""
    at.session_state[f"{prefix}_tab"] = label
    return at.run()
