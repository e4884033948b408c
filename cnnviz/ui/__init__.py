"""UI: the only package that imports streamlit. The pages' shared pieces, one concern per module:
``state`` (URL-backed page state, the copy-link control, deep-link setup), ``widgets`` (small inputs and
outputs every page uses), ``presenter`` (presenter mode), and the repeated blocks of several pages
(``animation_tabs``: the 1-D/3-D animation tabs, ``jobs``: background-job panels, ``*_panels``: a page's
larger panels, so the page stays layout).

May import: streamlit and any engine room of cnnviz. Nothing in cnnviz imports this package."""
from cnnviz.ui.presenter import PRESENTER_CSS, columns, presenter_mode, presenting
from cnnviz.ui.state import PageState, page_setup, share_link
from cnnviz.ui.widgets import (axis_inputs, device_caption, fmt_int, image_picker, model_caption, show_chart,
                               show_error, show_formulas)

__all__ = ["PageState", "page_setup", "share_link", "axis_inputs", "image_picker", "show_formulas", "show_error",
           "fmt_int", "show_chart", "device_caption", "model_caption", "PRESENTER_CSS", "presenter_mode", "presenting",
           "columns"]
