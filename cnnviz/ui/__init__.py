"""UI: the only package that imports streamlit. The shared pieces every page uses, one concern per module:
``protocol`` (widget values Streamlit cannot deserialize are dropped, installed on import), ``state`` (URL-backed
page state, the copy-link control, deep-link setup), ``widgets`` (small inputs and outputs,
the MACs switch), ``presenter`` (presenter mode), ``keys`` (the keyboard), ``lesson_banner`` (lesson mode: a
Lessons step's banner above its page), ``uploads`` (checked uploads) and ``jobs`` (background-job panels).
Then one module or package per page, named after its file in ``pages/``, for that page's panels, views and caches:
``conv_arithmetic``, ``conv_animation``, ``architecture_lab/``, ``compression/``, ``feature_maps``, ``saliency``,
``network_explorer``, ``training_lab``, ``metrics_losses``, ``live_class``, ``adversarial``, ``one_step``.

May import: streamlit and any engine room of cnnviz. Nothing in cnnviz imports this package."""
from cnnviz.ui import protocol
from cnnviz.ui.keys import keyboard
from cnnviz.ui.lesson_banner import lesson_mode
from cnnviz.ui.presenter import PRESENTER_CSS, columns, presenter_mode, presenting
from cnnviz.ui.state import PageState, Setting, page_setup, share_link
from cnnviz.ui.widgets import (MACS, PAD_KINDS, axis_inputs, device_caption, fmt_int, image_picker, macs_toggle,
                               model_caption, padding_inputs, padding_settings, show_chart, show_error, show_formulas)

__all__ = ["PageState", "Setting", "page_setup", "share_link", "MACS", "PAD_KINDS", "padding_inputs", "padding_settings",
           "axis_inputs", "image_picker", "macs_toggle", "show_formulas",
           "show_error", "fmt_int", "show_chart", "device_caption", "model_caption", "PRESENTER_CSS", "presenter_mode",
           "presenting", "columns", "keyboard", "lesson_mode"]

protocol.install()  # before any page reads a widget value
