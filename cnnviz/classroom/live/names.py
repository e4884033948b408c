"""What a live class takes as text: join codes, nicknames, question ids and answers, and the link a teacher
pushes. Each is checked here once, so the session engine and both stores see only clean values.

A join code is ``CLASS_CODE_LENGTH`` characters from a 31-letter alphabet without the look-alikes 0/O, 1/I/L:
31**6 ≈ 8.9e8 codes. A guesser gets ``CLASS_JOIN_BURST`` failed tries at once and one more every
``CLASS_JOIN_REFILL_S`` seconds per address (cnnviz.classroom.live.limiter), so ≈ 1,085 tries in a class's 3 h
lifetime; with ``CLASS_MAX_OPEN`` = 200 classes open at once, one address finds some class with probability
≤ 1,085 × 200 / 8.9e8 ≈ 2.4e-4, and a given class with ≈ 1.2e-6. Five characters (2.9e7 codes) would give 7e-3:
too close to "a bored class with 30 laptops finds one"; eight would be harder to read off a projector."""
from __future__ import annotations

import re
import secrets
import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit

from cnnviz.errors import ConfigError
from cnnviz.limits import (CLASS_ANSWER_CHARS, CLASS_CODE_LENGTH, CLASS_LINK_CHARS, CLASS_NICKNAME_CHARS,
                           MAX_QUERY_VALUE_CHARS)

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read off a projector without doubt
NO_CLASS = "no such class, or a wrong code (codes are 6 letters and digits, shown on the teacher's screen)"

# The app's pages by URL path ("" is Home), as app.py's st.navigation names them; a test compares the two.
LIVE_PAGES = ("", "lessons", "quiz", "conv_arithmetic", "conv_animation", "architecture_lab", "training_lab",
              "network_explorer", "feature_maps", "saliency", "compression", "metrics_losses", "live_class")
PRIVATE_PARAMS = ("train_job", "key", "teacher", "token")  # never pushed: one browser's own, or a credential
_PARAM = re.compile(r"[a-z][a-z0-9_]{0,31}")
_VALUE = re.compile(r"[A-Za-z0-9_.,:+\- ]*")
_ID = re.compile(r"[A-Za-z0-9_.:\-]+")


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CLASS_CODE_LENGTH))


def clean_code(code) -> str:
    """A typed code as stored: upper case, spaces and dashes dropped; anything else reads as no class."""
    if not isinstance(code, str) or len(code) > 4 * CLASS_CODE_LENGTH:
        raise ConfigError("code", NO_CLASS)
    code = re.sub(r"[\s\-]", "", code).upper()
    if len(code) != CLASS_CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        raise ConfigError("code", NO_CLASS)
    return code


def nickname(raw) -> str:
    """A nickname as the class sees it: NFC-normalised (so "é" typed two ways is one name), every control,
    format (zero-width, right-to-left override ...), private-use and unassigned character removed, runs of
    white space made one space; 1 to CLASS_NICKNAME_CHARS characters. Markup stays text: the page escapes it."""
    if not isinstance(raw, str):
        raise ConfigError("nickname", "must be text")
    if len(raw) > 8 * CLASS_NICKNAME_CHARS:
        raise ConfigError("nickname", f"is {len(raw):,} characters long; at most {CLASS_NICKNAME_CHARS} please")
    name = unicodedata.normalize("NFC", raw)
    name = "".join(c for c in name if not unicodedata.category(c).startswith(("C", "Zl", "Zp")))
    name = " ".join(name.split())
    if not name:
        raise ConfigError("nickname", "is empty; type a nickname (letters, digits, spaces)")
    if len(name) > CLASS_NICKNAME_CHARS:
        raise ConfigError("nickname", f"is {len(name):,} characters long; at most {CLASS_NICKNAME_CHARS} please")
    return name


def name_key(name: str) -> str:
    """Two nicknames that differ only in case are one name ("Ana" and "ana" get told apart)."""
    return name.casefold()


def text_id(field: str, value) -> str:
    """A question id or an answer: 1 to CLASS_ANSWER_CHARS characters of letters, digits and ``_.:-``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == value \
            and abs(value) < 1e15:
        value = str(value)
    if not isinstance(value, str) or not 0 < len(value) <= CLASS_ANSWER_CHARS or not _ID.fullmatch(value):
        raise ConfigError(field, f"must be 1 to {CLASS_ANSWER_CHARS} letters, digits or _.:- characters")
    return value


def check_link(link, pages=LIVE_PAGES, params=None) -> str:
    """The link a teacher pushes, as ``/<page>?<query>``: a path of this app only (no scheme, host or fragment,
    so never another site), a known page, query names from ``params`` (or any lower-case name when None) but
    no private one, values of plain characters. Returns it re-encoded, so what students follow is what was checked."""
    if not isinstance(link, str) or not 0 < len(link) <= CLASS_LINK_CHARS:
        raise ConfigError("link", f"must be a link of 1 to {CLASS_LINK_CHARS} characters")
    if any(unicodedata.category(c).startswith("C") for c in link) or "\\" in link:
        raise ConfigError("link", "holds control characters or a backslash")
    parts = urlsplit(link)
    if parts.scheme or parts.netloc or parts.fragment or link.startswith("//"):
        raise ConfigError("link", "must be a page of this app (a path such as /quiz?seed=42), not another site")
    page = parts.path.strip("/")
    if page not in pages:
        raise ConfigError("link", f"page {page!r} is not one of this app's pages")
    try:
        query = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query),
                          max_num_fields=32)
    except ValueError as e:
        raise ConfigError("link", f"has a malformed query ({e})") from None
    for name, value in query:
        if not _PARAM.fullmatch(name) or name in PRIVATE_PARAMS or (params is not None and name not in params):
            raise ConfigError("link", f"query name {name[:40]!r} is not a setting a page shares")
        if len(value) > MAX_QUERY_VALUE_CHARS or not _VALUE.fullmatch(value):
            raise ConfigError("link", f"the value of {name!r} is too long or holds unusual characters")
    return "/" + page + ("?" + urlencode(query, safe=",:") if query else "")
