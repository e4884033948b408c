"""The join address on Home, in presenter mode and on the teacher's Live class view: the address as text, and a
QR code whose drawn modules are exactly segno's matrix for that address."""
import base64
from pathlib import Path

import pytest
import segno
from streamlit.testing.v1 import AppTest

from cnnviz.classroom.live import lan_address, svg_modules
from tests.support.rendered import shown as rendered

ROOT = Path(__file__).resolve().parents[2]


def qr_codes(at) -> list[list[list[bool]]]:
    """The QR codes the page draws, read back from the SVG data URLs of its images."""
    out = []
    for el in at.get("image"):
        for img in el.proto.imgs:
            if img.url.startswith("data:image/svg+xml;base64,"):
                out.append(svg_modules(base64.b64decode(img.url.split(",", 1)[1]).decode()))
    return out


def popovers(node) -> list[str]:
    """The label, else the help (the presenter bar's QR button is an icon with the address as its tooltip), of
    the page's popovers (blocks: not in ``at.get``)."""
    out = []
    for child in (node.children.values() if isinstance(getattr(node, "children", None), dict) else ()):
        if getattr(child, "type", None) == "popover":
            out.append(child.proto.popover.label or child.proto.popover.help)
        out += popovers(child)
    return out


def matrix(url):
    return [[bool(v) for v in row] for row in segno.make(url, error="m", micro=False).matrix]


def shown(at) -> str:
    return " ".join(m.value for kind in ("markdown", "caption") for m in at.get(kind))


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_CLASS_DB", str(tmp_path / "classes.sqlite3"))
    monkeypatch.delenv("CNNVIZ_PUBLIC_URL", raising=False)


def test_home_shows_the_lan_address_and_its_qr_code(db):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception, at.exception
    url = f"http://{lan_address()}:8501"  # AppTest's server.port is Streamlit's default
    assert f"Students open **{url}**" in shown(at)
    assert qr_codes(at) == [matrix(url)]


def test_presenter_mode_and_the_teacher_show_the_public_url(db, monkeypatch):
    url = "http://10.1.2.3:8500"
    monkeypatch.setenv("CNNVIZ_PUBLIC_URL", url + "/")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["present"] = "1"
    at.run()
    assert not at.exception, at.exception
    assert popovers(at._tree) == [f"Join: {url}"]  # presenter mode's bar (app.py: every page): its QR button's tooltip
    assert shown(at).count(f"Students open **{url}**") == 2  # Home's and the corner's
    assert qr_codes(at) == [matrix(url)] * 2
    at.switch_page("pages/live_class.py").run()  # (AppTest drops app.py's part on a switch's run)
    at.button(key="live_start").click().run()
    assert not at.exception, at.exception
    assert shown(at).count(f"Students open **{url}**") == 2  # the corner's and the teacher's, beside the join code
    assert qr_codes(at) == [matrix(url)] * 2


def test_a_bad_public_url_is_a_clear_message_not_a_crash(db, monkeypatch):
    monkeypatch.setenv("CNNVIZ_PUBLIC_URL", "javascript:alert(1)")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception and not qr_codes(at)
    assert any("CNNVIZ_PUBLIC_URL" in rendered(e.value) for e in at.error)
