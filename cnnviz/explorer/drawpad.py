"""Where the drawing pad's static files live (cnnviz/ui_assets/draw_canvas: vanilla JS, no CDN) and its
declaration. Streamlit names a v1 component after the *module* that declares it and finds no module for a page
script, so the page hands ``streamlit.components.v1.declare_component`` to :func:`declare` (this module never
imports streamlit)."""
from pathlib import Path

DRAW_CANVAS = Path(__file__).resolve().parents[1] / "ui_assets" / "draw_canvas"


def declare(declare_component):
    """The drawing pad: call it with ``size`` (the side it sends: ``cnnviz.explorer.drawing.PAD_SIDE``, 140 of its
    280 px) and a ``key``; it returns the drawing as ``size``·``size`` intensities in [0, 1] (2×2 block means, see
    :func:`cnnviz.explorer.drawing_input`), or None before the first stroke."""
    return declare_component("draw_canvas", path=str(DRAW_CANVAS))
