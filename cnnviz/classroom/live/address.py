"""The address students type to join: this machine's LAN address and the port the app is served on, or
``CNNVIZ_PUBLIC_URL`` (replicas behind HAProxy: the proxy's address), and its QR code (segno, offline).

The LAN address is found without the network: ``connect`` on a UDP socket only picks the interface the kernel
would route a private address through (no packet is sent); without one, 127.0.0.1."""
from __future__ import annotations

import ipaddress
import os
import re
import socket
from dataclasses import dataclass

import segno

from cnnviz.errors import ConfigError

PROBE = "10.255.255.255"  # a private address: connect() chooses the LAN interface, sends nothing
QUIET = 4                 # modules of white border around a QR code (the standard's quiet zone)
_URL = re.compile(r"https?://[A-Za-z0-9.\-]{1,253}(:\d{1,5})?(/[A-Za-z0-9._~\-/]*)?")
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class JoinAddress:
    url: str          # what students type
    local_only: bool  # True: only this machine can open it (the app listens on 127.0.0.1)


def lan_address(probe: str = PROBE) -> str:
    """This machine's address on the network a private address is routed through; 127.0.0.1 without one."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect((probe, 1))
            ip = s.getsockname()[0]
    except OSError:
        return "127.0.0.1"
    return "127.0.0.1" if ipaddress.ip_address(ip).is_unspecified else ip


def join_address(port, bind: str | None = None, env=None, lan=lan_address) -> JoinAddress:
    """The join address for an app served on ``port`` and listening on ``bind`` (Streamlit's ``server.port`` and
    ``server.address``; None or 0.0.0.0: every interface). ``CNNVIZ_PUBLIC_URL`` in ``env`` overrides both."""
    env = os.environ if env is None else env
    public = (env.get("CNNVIZ_PUBLIC_URL") or "").strip()
    if public:
        if not _URL.fullmatch(public):
            raise ConfigError("CNNVIZ_PUBLIC_URL", "must look like http://192.168.1.20:8500 (http or https, a host, "
                                                   "an optional port and path)")
        return JoinAddress(public.rstrip("/"), public.split("/")[2].split(":")[0] in LOOPBACK)
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ConfigError("server.port", f"must be a port number 1–65535, got {port!r}")
    local = (bind or "").strip() in LOOPBACK
    host = "127.0.0.1" if local else lan()
    return JoinAddress(f"http://{host}" + ("" if port == 80 else f":{port}"), local or host == "127.0.0.1")


def qr_matrix(text: str) -> list[list[bool]]:
    """The QR code of ``text`` (error correction M), dark modules True, without the quiet zone."""
    if not isinstance(text, str) or not 1 <= len(text) <= 300:
        raise ConfigError("address", "must be text of 1–300 characters")
    return [[bool(v) for v in row] for row in segno.make(text, error="m", micro=False).matrix]


def qr_svg(text: str, size_px: int = 240) -> str:
    """The QR code of ``text`` as a self-contained SVG: one black unit square per dark module of
    :func:`qr_matrix`, inside a white quiet zone of :data:`QUIET` modules."""
    m = qr_matrix(text)
    n = len(m) + 2 * QUIET
    d = "".join(f"M{x + QUIET} {y + QUIET}h1v1h-1z" for y, row in enumerate(m) for x, v in enumerate(row) if v)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {n} {n}" width="{size_px}" height="{size_px}" '
            f'shape-rendering="crispEdges"><rect width="{n}" height="{n}" fill="#fff"/>'
            f'<path fill="#000" d="{d}"/></svg>')


def svg_modules(svg: str) -> list[list[bool]]:
    """Read back the dark modules of an SVG made by :func:`qr_svg` (the tests compare it with segno's matrix)."""
    n = int(re.search(r'viewBox="0 0 (\d+) \1"', svg)[1]) - 2 * QUIET
    out = [[False] * n for _ in range(n)]
    for x, y in re.findall(r"M(\d+) (\d+)h1v1h-1z", svg):
        out[int(y) - QUIET][int(x) - QUIET] = True
    return out
