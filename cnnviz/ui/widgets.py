"""The small widgets every page uses: per-axis number inputs, the image picker, formulas, errors, numbers."""
from __future__ import annotations

import re

import streamlit as st

from cnnviz.errors import ConfigError
from cnnviz.geometry.arithmetic import AXIS_NAMES, PADDING_MODES, PADDING_STRINGS
from cnnviz.geometry.formulas import Formula
from cnnviz.io.text import notice
from cnnviz.limits import IMAGE_UPLOAD_MB
from cnnviz.ui.presenter import presenting
from cnnviz.ui.state import PageState, Setting


def axis_inputs(state: PageState, name: str, dims: int, same: bool, where=None) -> tuple[int, ...]:
    """The declared tuple setting ``name`` as one number input (same value on every axis) or one per axis, its
    label (``Kernel``, then ``Kernel H`` ... per axis), help and bounds from the declaration; ``dims`` ints.
    ``where``: a column or container (default: where the caller is)."""
    if where is not None:
        with where:
            return axis_inputs(state, name, dims, same)
    for i in range(1 if same else dims):  # a widget hidden on the last run lost its state: re-seed it
        if state.key(name, i) not in st.session_state:
            st.session_state[state.key(name, i)] = st.session_state.get(state.key(name, 0), state.defaults[name][i])
    if same:
        return (int(state.widget(name, i=0)),) * dims
    cols = st.columns(dims) if dims < 3 else [st.container()] * dims  # 3 side by side: labels break mid-word
    label = state.settings[name].label
    return tuple(int(state.widget(name, col, i, f"{label} {ax}")) for i, (col, ax) in enumerate(zip(cols, AXIS_NAMES[dims])))


def int_inputs(state: PageState, cols, *names: str) -> list[int]:
    """The declared number inputs ``names``, one per column (or container) of ``cols``."""
    return [int(state.widget(name, col)) for name, col in zip(names, cols)]


PAD_KINDS = ("numbers", *PADDING_STRINGS)  # explicit numbers, or PyTorch's own padding strings
# what the Padding box shows for each kind ("numbers", the links' value, read as an unclear "Padding: numbers")
PAD_LABELS = {"numbers": "explicit", "same": "same", "valid": "valid"}


def padding_settings(pad: tuple, amount: tuple, mode: tuple, what: str = "size") -> dict:
    """The declarations of the Padding / Pad / Padding-mode trio, each ``(name, default, ...)``: ``pad`` and ``mode``
    are (name, default, help of the mode), ``amount`` is (name, default, label, help, bounds); ``what`` the thing
    'same' keeps ("size", "length")."""
    (pn, pd_), (an, ad, alabel, ahelp, abounds), (mn, md, mhelp) = pad, amount, mode
    return {pn: Setting(pd_, "Padding", f"explicit: the cells added on each side, set in the box beside; 'same' "
                        f"pads so that the {what} stays (stride 1 only); 'valid' means no padding.", options=PAD_KINDS),
            an: Setting(ad, alabel, ahelp, bounds=abounds),
            mn: Setting(md, "Padding mode", mhelp, options=PADDING_MODES)}


def padding_inputs(state: PageState, names: tuple[str, str, str], cols, dims: int = 1, same: bool = True):
    """The Padding / Pad / Padding-mode trio of ``padding_settings`` in ``cols`` (the kind's, the amount's, the
    mode's column): returns (padding, padding mode), padding a number, a per-axis tuple, 'same' or 'valid'."""
    kind, amount, mode = names
    pad_kind = state.widget(kind, cols[0], format_func=lambda k: PAD_LABELS.get(k, k))
    padding = pad_kind
    if pad_kind == "numbers" and isinstance(state.defaults[amount], tuple):
        padding = axis_inputs(state, amount, dims, same, cols[1])
    elif pad_kind == "numbers":
        padding = state.widget(amount, cols[1])
    return padding, state.widget(mode, cols[2])


MACS_HELP = ("One multiply-accumulate (a·b + c) is 2 FLOPs, so MACs = FLOPs / 2 under the convention of "
             "torch.utils.flop_counter.FlopCounterMode used here. There, pooling, activations and normalisation "
             "count 0; other tools (fvcore, ptflops, thop) count some of them, so their totals differ. "
             "Papers quoting 'FLOPs' often mean MACs: check which.")
MACS_NOTE = ("1 MAC (a·b + c) = 2 FLOPs. Counted as torch's FlopCounterMode counts: pooling, activations and "
             "normalisation count 0 under FlopCounterMode's convention; other tools (fvcore, ptflops, thop) count "
             "them, so their totals differ.")


MACS = Setting(False, "Count MACs instead of FLOPs", MACS_HELP)  # a page declares ``macs=MACS``


def macs_toggle(S: PageState) -> bool:
    """The "Count MACs instead of FLOPs" switch (``MACS``, drawn before the layer is validated, so an error keeps
    it), with the counting convention beside it. In presenter mode the convention is in the switch's help only, like
    the pages' introductions: as a second line it would push the main figure below the fold (the presenter crawl
    checks the fold)."""
    if presenting():
        return S.widget("macs")
    c = st.columns([2, 5], vertical_alignment="center")
    on = S.widget("macs", c[0])
    c[1].caption(MACS_NOTE)
    return on


PICTURE_SOURCES = ("photo", "camera")  # beside a model's own image sources: a shipped photograph, the webcam
PICTURE_LABELS = {"photo": "Photo", "camera": "Camera"}


def as_upload(src: str) -> str:
    """The engine's source for a page's ``src``: a photograph or a camera picture goes down the upload's path (its
    file bytes, checked and resized to the model's input as an upload is)."""
    return "upload" if src in PICTURE_SOURCES else src


def photo_setting(help: str = "A photograph shipped with cnnviz (assets/photos: CC0 or public domain).") -> Setting:
    from cnnviz.io.photos import photo_names
    names = photo_names()
    return Setting(names[0], "Photograph", help, options=names, widget="selectbox")


def image_settings(sources: tuple, src_help: str) -> dict:
    """The declarations of the model pages' image controls: the source (``sources``, a radio) and, for
    ``image_picker``, the shipped sample (its options are the model's samples, given when drawn), the validation
    index and the shipped photograph."""
    return dict(src=Setting("sample", "Image", src_help, options=sources, widget="radio"),
                sample=Setting("", "Sample", "Small images shipped in assets/samples: the class each shows, and which "
                               "one.", widget="selectbox"),
                idx=Setting(0, "Validation image #", "Index into the held-out images.", (0, 2000)),
                photo=photo_setting())


CAMERA_HELP = (f"Your webcam: the browser asks first; the picture is sent like an upload (at most {IMAGE_UPLOAD_MB} "
               "MiB) and kept only for this session.")


def picture_bytes(state: PageState, col, src: str, upload_key: str, upload_help: str,
                  photo: str = "photo") -> bytes | None:
    """A shipped photograph (the declared setting ``photo``), a camera picture or an uploaded file, as file bytes
    (None while nothing is uploaded or taken). All three go the upload's way: the caller decodes them with the
    upload checks (type, bytes, pixels); the camera's picture is held by Streamlit's upload store, so the upload
    caps (cnnviz.ui.upload_caps) count it."""
    from cnnviz.io.images import EXTENSIONS
    from cnnviz.io.photos import photo_bytes, photo_title
    if src == "photo":
        return photo_bytes(state.widget(photo, col, format_func=photo_title))
    if src == "camera":
        up = col.camera_input("Take a picture", key=upload_key + "_cam", help=CAMERA_HELP)
        if up is None:
            col.caption("No picture yet: allow the webcam when the browser asks, then press Take Photo.")
    else:
        up = col.file_uploader("Image file", type=list(EXTENSIONS), key=upload_key, help=upload_help,
                               max_upload_size=IMAGE_UPLOAD_MB)
    return up.getvalue() if up is not None else None


def image_picker(state: PageState, col, src: str, names: list[str], upload_key: str,
                 upload_help: str) -> bytes | None:
    """The image controls of the model pages (declared by ``image_settings``): a shipped sample, a validation index,
    a shipped photograph, the camera or an upload. Returns the file bytes of a photograph, a camera picture or an
    upload (None for the other sources, or while nothing is uploaded); pass ``as_upload(src)`` to the engine."""
    from cnnviz.inside.shipped import sample_title
    if state["sample"] not in names:  # another model ships other samples
        st.session_state[state.key("sample")] = names[0]
    if src == "sample":
        state.widget("sample", col, options=names, format_func=sample_title)
    elif src == "validation":
        state.widget("idx", col)
    else:
        data = picture_bytes(state, col, src, upload_key, upload_help)
        if not presenting():  # said, not silent: what a model of 1 or 3 input channels makes of a colour picture
            col.caption("Colours are kept for a model that reads 3 channels (shapes); a 1-channel model (digits) "
                        "sees the picture in grey (ITU-R 601 luma), centre-cropped and resized to its input.")
        return data
    return None


def show_formulas(formulas: list[Formula]) -> None:
    for f in formulas:
        st.markdown(f"**{f.label}**")
        st.latex(f.latex)


def show_error(err: ConfigError) -> None:
    # The message quotes user input (file and class names, a link's stack) and identifiers like kernel_size:
    # all literal, and bounded in length (cnnviz.io.text.notice).
    st.error(f"**{notice(err.field)}** — {notice(str(err).split(': ', 1)[-1])}", icon=":material/error:")


def fmt_int(n: int) -> str:
    """12345678 -> '12.3 M' for metrics; exact value goes in the help text."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:,}"


# Where plotly draws text without a font object of its own in the figure: these get one, sized explicitly (a
# size left unset would come from Streamlit's theme template, 12-14 px, not from layout.font).
_LAYOUT_FONTS = ("font", "title.font", "legend.font", "legend.title.font", "hoverlabel.font")
_AXIS = re.compile(r"^[xy]axis\d*$")
_AXIS_FONTS = ("tickfont", "title.font")
_TRACE_FONTS = {"*": ("textfont", "hoverlabel.font", "legendgrouptitle.font"),
                "bar pie treemap sunburst icicle funnel funnelarea waterfall histogram": ("insidetextfont",
                                                                                         "outsidetextfont"),
                "table": ("header.font", "cells.font"),
                "heatmap contour histogram2d histogram2dcontour": ("colorbar.tickfont", "colorbar.title.font")}


def _font_at(d: dict, path: str) -> dict:
    for part in path.split("."):
        d = d.setdefault(part, {})
    return d


def presenter_fonts(fig, size: int = 18, min_size: int = 16):
    """Every text a plotly figure can carry at least ``min_size`` px (base ``size``) for a projector: the layout
    font, the title, every axis of every subplot (ticks and titles), legend, annotations (subplot titles too),
    colour bars (traces' and coloraxes'), sliders and buttons, hover labels, and every trace's text (treemap and
    pie inside/outside text, heatmap cell text, table cells), frames included. Returns a new ``go.Figure``."""
    import numpy as np
    import plotly.graph_objects as go

    def lift(font: dict) -> None:
        v = font.get("size")
        if isinstance(v, (list, tuple, np.ndarray)):  # a size per point
            font["size"] = [max(float(x), min_size) for x in v]
        elif v is None or v < min_size:
            font["size"] = size

    def walk(node) -> None:  # every font object the figure already has, however deep
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "template":
                    continue
                if isinstance(v, dict) and (k == "font" or k.endswith("font")):
                    lift(v)
                walk(v)
        elif isinstance(node, (list, tuple)):
            for v in node:
                walk(v)

    d = fig.to_dict()
    lay = d.setdefault("layout", {})
    for path in _LAYOUT_FONTS:
        lift(_font_at(lay, path))
    axes = {"xaxis", "yaxis", *(k for k in lay if _AXIS.match(k)),  # and the axes traces name ("x3" → xaxis3)
            *(a[0] + "axis" + a[1:] for tr in d.get("data", ()) for a in (tr.get("xaxis"), tr.get("yaxis")) if a)}
    for name in axes:
        for path in _AXIS_FONTS:
            lift(_font_at(lay.setdefault(name, {}), path))
        if lay[name].get("type") == "log":  # plotly draws a log axis's in-between digits (2, 5, …) at 3/4 size
            tick = lay[name]["tickfont"]
            tick["size"] = max(tick["size"], -(-min_size * 4 // 3))  # 22 px powers of ten, 16.5 px digits
    for name in [k for k in lay if k.startswith("coloraxis")]:
        for path in ("colorbar.tickfont", "colorbar.title.font"):
            lift(_font_at(lay[name], path))
    for a in lay.get("annotations", ()):
        lift(a.setdefault("font", {}))
    for m in lay.get("updatemenus", ()):
        lift(m.setdefault("font", {}))
    for sl in lay.get("sliders", ()):
        lift(sl.setdefault("font", {}))
        lift(_font_at(sl, "currentvalue.font"))
    for tr in d.get("data", ()):
        kind = tr.get("type", "scatter")
        for kinds, paths in _TRACE_FONTS.items():
            if kinds == "*" or kind in kinds.split():
                for path in paths:
                    lift(_font_at(tr, path))
        if isinstance(tr.get("marker"), dict) and tr["marker"].get("showscale"):
            for path in ("colorbar.tickfont", "colorbar.title.font"):
                lift(_font_at(tr["marker"], path))
    lay["uniformtext"] = dict(minsize=min_size, mode="hide")  # text plotly would shrink to fit: hidden instead
    walk(d)  # the rest: fonts set anywhere else, frames (their data and layout) included
    from cnnviz.figures.prebuilt import Prebuilt
    return Prebuilt(d) if isinstance(fig, Prebuilt) else go.Figure(d, _validate=False)


def show_chart(fig, key: str, where=None, width: str = "stretch", **kwargs):
    """Every chart of the app goes through here: a stable, unique ``key`` (no duplicate auto IDs) and, in
    presenter mode, fonts of at least 16 px. ``where`` is a column or container (default: ``st``)."""
    if presenting():
        fig = presenter_fonts(fig)
    return (where or st).plotly_chart(fig, width=width, key=key, **kwargs)


def device_caption(device=None, note: str = "", where=None) -> None:
    """"Ran on CPU" / "Ran on CUDA (NVIDIA …)": ``device`` a torch.device, a model (its device) or a string a
    job reported; default the device policy's choice. ``where``: a column or container (default the page)."""
    import torch
    from cnnviz.device import describe, model_device, pick_device
    if isinstance(device, torch.nn.Module):
        device = model_device(device)
    text = device if isinstance(device, str) and not device.startswith(("cpu", "cuda")) else describe(
        device if device is not None else pick_device())
    (where or st).caption(f"Ran on {text}." + (f" {note}" if note else ""))


def model_caption(model, info, untrained: bool = False, where=None) -> None:
    """Under a model select box (which shows only ``TinyVGG · digits``, short enough for presenter mode): the
    device and the model's validation accuracy, "Ran on CPU. TinyVGG · digits: 96.9% validation accuracy.";
    ``untrained``: the same layers with random weights, the accuracy is the trained model's. ``where``: the select
    box's column (the caption then takes no row of its own)."""
    acc = info.accuracy_text
    if untrained:
        device_caption(model, f"{info.short} with random weights" + (f" (trained: {acc})." if acc else "."), where)
    else:
        device_caption(model, f"{info.short}: {acc}." if acc else "", where)
