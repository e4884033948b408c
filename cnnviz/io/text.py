"""User-supplied strings (class names from a ZIP's folders or a checkpoint, file names) are shown as text,
never as markup. Two renderers interpret markup: Streamlit's markdown (captions, st.markdown) and plotly's
text (tick labels, titles, annotations accept <b>, <a href>, <span style> ...). Escape for the one used;
widgets such as st.metric values, selectbox options and dataframes are plain text already."""
from __future__ import annotations

import html
import re

# Every ASCII punctuation character may be backslash-escaped in CommonMark; these are the ones that start
# markup in Streamlit's flavour (emphasis, links, code, HTML, LaTeX $, :emoji:/:color[...] directives).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=\"'])")


def md_text(value) -> str:
    """``value`` as literal text inside Streamlit markdown."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(value)).replace("\n", " ")


def plot_text(value) -> str:
    """``value`` as literal text inside a plotly label: its tags become entities that plotly prints."""
    return html.escape(str(value), quote=False)
