"""User-supplied strings (class names from a ZIP's folders or a checkpoint, file names) are shown as text,
never as markup. Two renderers interpret markup: Streamlit's markdown (captions, st.markdown) and plotly's
text (tick labels, titles, annotations accept <b>, <a href>, <span style> ...). Escape for the one used;
widgets such as st.metric values, selectbox options and dataframes are plain text already."""
from __future__ import annotations

import html
import re
import unicodedata

from cnnviz.limits import MAX_SHOWN_CHARS

# Every ASCII punctuation character may be backslash-escaped in CommonMark; these are the ones that start
# markup in Streamlit's flavour (emphasis, links, code, HTML, LaTeX $, :emoji:/:color[...] directives).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=\"'])")


def shown(value, limit: int = MAX_SHOWN_CHARS) -> str:
    """A user-controlled value as a short, one-line, printable string for a message (still to be escaped for
    the renderer: ``md_text``/``notice``): strings quoted as ``repr`` does, at most ``limit`` characters then
    "…". Never raises: an int past Python's int-to-string limit (int('9' * 5000)) is described, not printed."""
    if isinstance(value, str):
        text = repr(value[: limit + 1])  # repr of the head only: a 100 kB value costs nothing
    else:
        try:
            text = str(value)
        except ValueError:  # int too large to convert to a string (sys.set_int_max_str_digits)
            bits = value.bit_length() if isinstance(value, int) else 0
            text = f"<a number of about {int(bits * 0.30103) + 1:,} digits>" if bits else "<a value too large to show>"
    text = "".join(c if unicodedata.category(c)[0] != "C" else " " for c in text[: 4 * limit])  # NUL, bidi, newlines
    return text if len(text) <= limit else text[: limit - 1] + "…"


def notice(text) -> str:
    """A plain-text message (a link notice, an error quoting user input) as Streamlit markdown that shows
    exactly that text: the one escaping path for messages. Long messages are cut at 8 × MAX_SHOWN_CHARS."""
    text = str(text)
    cap = 8 * MAX_SHOWN_CHARS
    return md_text(text if len(text) <= cap else text[: cap - 1] + "…")


def md_text(value) -> str:
    """``value`` as literal text inside Streamlit markdown."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(value)).replace("\n", " ")


def plot_text(value) -> str:
    """``value`` as literal text inside a plotly label: its tags become entities that plotly prints."""
    return html.escape(str(value), quote=False)
