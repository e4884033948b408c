"""The join address (LAN address + served port, or CNNVIZ_PUBLIC_URL) and its QR code: the SVG we draw holds
exactly segno's modules, with the three finder patterns where the QR standard puts them."""
import ipaddress
import socket

import pytest
import segno

from cnnviz.classroom.live import join_address, lan_address, qr_matrix, qr_svg, svg_modules
from cnnviz.errors import ConfigError

LAN = lambda: "192.168.1.20"  # noqa: E731 - a fixed LAN address


def test_the_lan_address_is_an_ipv4_address_or_loopback_when_there_is_no_route(monkeypatch):
    assert ipaddress.ip_address(lan_address()).version == 4

    class NoRoute(socket.socket):
        def connect(self, addr):
            raise OSError("Network is unreachable")
    monkeypatch.setattr(socket, "socket", NoRoute)
    assert lan_address() == "127.0.0.1"


def test_the_join_address_is_the_lan_address_and_the_served_port():
    assert join_address(8501, None, env={}, lan=LAN).url == "http://192.168.1.20:8501"
    assert join_address(8500, "0.0.0.0", env={}, lan=LAN).url == "http://192.168.1.20:8500"
    assert join_address(80, "", env={}, lan=LAN).url == "http://192.168.1.20"
    assert not join_address(8501, None, env={}, lan=LAN).local_only
    only_here = join_address(8501, "127.0.0.1", env={}, lan=LAN)  # listening on loopback: students cannot reach it
    assert only_here.url == "http://127.0.0.1:8501" and only_here.local_only
    assert join_address(8501, None, env={}, lan=lambda: "127.0.0.1").local_only  # no network at all


def test_the_public_url_overrides_everything_and_bad_values_are_refused():
    env = {"CNNVIZ_PUBLIC_URL": " http://10.0.0.7:8500/ "}
    assert join_address(8601, "127.0.0.1", env=env, lan=LAN).url == "http://10.0.0.7:8500"
    assert not join_address(8601, "127.0.0.1", env=env, lan=LAN).local_only
    for bad in ("javascript:alert(1)", "http://a b", "ftp://x", "http://x:8500?q=<b>"):
        with pytest.raises(ConfigError) as err:
            join_address(8501, None, env={"CNNVIZ_PUBLIC_URL": bad}, lan=LAN)
        assert err.value.field == "CNNVIZ_PUBLIC_URL"
    for bad in (0, 70000, "8501", True, None):
        with pytest.raises(ConfigError) as err:
            join_address(bad, None, env={}, lan=LAN)
        assert err.value.field == "server.port"


def finder_at(m, r, c) -> bool:
    """A 7×7 finder pattern (dark ring, light ring, dark 3×3 core) with its top-left corner at (r, c)."""
    for i in range(7):
        for j in range(7):
            ring = max(abs(i - 3), abs(j - 3))
            if m[r + i][c + j] != (ring != 2):
                return False
    return True


@pytest.mark.parametrize("url", ["http://192.168.1.20:8501", "http://10.0.0.7:8500", "https://class.example.org/x"])
def test_the_qr_svg_holds_exactly_segnos_modules(url):
    want = [[bool(v) for v in row] for row in segno.make(url, error="m", micro=False).matrix]
    assert qr_matrix(url) == want
    svg = qr_svg(url)
    assert svg.startswith("<svg ") and "<script" not in svg
    assert svg_modules(svg) == want
    n = len(want)
    assert n >= 21 and (n - 17) % 4 == 0  # a QR version's size
    assert finder_at(want, 0, 0) and finder_at(want, 0, n - 7) and finder_at(want, n - 7, 0)
    assert not finder_at(want, n - 7, n - 7)
    assert qr_matrix(url + "1") != want


def test_a_bad_qr_text_is_refused():
    for bad in ("", "x" * 301, None):
        with pytest.raises(ConfigError):
            qr_matrix(bad)
