"""The small widgets every page uses: per-axis number inputs, the image picker, formulas, errors, numbers."""
from __future__ import annotations

import streamlit as st

from cnnviz.errors import ConfigError
from cnnviz.geometry.formulas import Formula
from cnnviz.io.text import notice
from cnnviz.ui.state import PageState


def axis_inputs(state: PageState, name: str, label: str, dims: int, same: bool, lo: int, hi: int,
                help: str) -> tuple[int, ...]:
    """One number input (same value on every axis) or one per axis; returns a tuple of ``dims`` ints."""
    from cnnviz.geometry.arithmetic import AXIS_NAMES
    for i in range(1 if same else dims):  # a widget hidden on the last run lost its state: re-seed it
        if state.key(name, i) not in st.session_state:
            st.session_state[state.key(name, i)] = st.session_state.get(state.key(name, 0), state.defaults[name][i])
    if same:
        v = st.number_input(label, lo, hi, key=state.key(name, 0), help=help)
        return (int(v),) * dims
    cols = st.columns(dims) if dims < 3 else [st.container()] * dims  # 3 side by side: labels break mid-word
    return tuple(int(col.number_input(f"{label} {ax}", lo, hi, key=state.key(name, i), help=help))
                 for i, (col, ax) in enumerate(zip(cols, AXIS_NAMES[dims])))


def image_picker(state: PageState, col, src: str, names: list[str], upload_key: str,
                 upload_help: str) -> bytes | None:
    """The image controls of the model pages: a shipped sample, a validation index, or an upload.
    Returns the uploaded bytes (None for the other sources, or while nothing is uploaded)."""
    from cnnviz.inside.shipped import sample_title
    from cnnviz.io.images import EXTENSIONS
    if state["sample"] not in names:  # another model ships other samples
        st.session_state[state.key("sample")] = names[0]
    if src == "sample":
        col.selectbox("Sample", names, key=state.key("sample"), format_func=sample_title,
                      help="Small images shipped in assets/samples: the class each shows, and which one.")
    elif src == "validation":
        col.number_input("Validation image #", 0, 2000, key=state.key("idx"), help="Index into the held-out images.")
    else:
        up = col.file_uploader("Image file", type=list(EXTENSIONS), key=upload_key, help=upload_help)
        return up.getvalue() if up is not None else None
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


def presenter_fonts(fig, size: int = 18, min_size: int = 16):
    """Every text of ``fig`` at least ``min_size`` px (base ``size``) for a projector; returns ``fig``."""
    def bump(font) -> None:
        if font is not None and (font.size is None or font.size < min_size):
            font.size = size

    fig.update_layout(font_size=size, uniformtext=dict(minsize=min_size, mode="hide"))
    for lay in [fig.layout, *(fr.layout for fr in fig.frames or () if fr.layout is not None)]:
        bump(lay.legend.font)
        bump(lay.title.font)
        for a in lay.annotations or ():
            bump(a.font)
        for s in lay.sliders or ():
            bump(s.font)
            bump(s.currentvalue.font)
        for m in lay.updatemenus or ():
            bump(m.font)
    fig.for_each_xaxis(lambda ax: (bump(ax.tickfont), bump(ax.title.font)))
    fig.for_each_yaxis(lambda ax: (bump(ax.tickfont), bump(ax.title.font)))
    for lay in [fig.layout]:
        for name in [k for k in lay if k.startswith("coloraxis")]:
            bump(lay[name].colorbar.tickfont)
            bump(lay[name].colorbar.title.font)
    for tr in [*fig.data, *(t for fr in fig.frames or () for t in fr.data or ())]:
        for attr in ("textfont", "insidetextfont", "outsidetextfont"):
            if attr in tr and tr[attr].size is not None:
                bump(tr[attr])
        # a marker's colorbar only when the figure has one: setting its fonts would make plotly.js draw a stray
        # colour scale beside every bar chart
        for cb in [tr.colorbar] if "colorbar" in tr else [tr.marker.colorbar] if "marker" in tr and \
                "colorbar" in tr.marker.to_plotly_json() else []:
            bump(cb.tickfont)
            bump(cb.title.font)
    return fig


def show_chart(fig, key: str, where=None, width: str = "stretch", **kwargs):
    """Every chart of the app goes through here: a stable, unique ``key`` (no duplicate auto IDs) and, in
    presenter mode, fonts of at least 16 px. ``where`` is a column or container (default: ``st``)."""
    if st.session_state.get("presenter_on"):
        presenter_fonts(fig)
    return (where or st).plotly_chart(fig, width=width, key=key, **kwargs)


def device_caption(device=None, note: str = "") -> None:
    """"Ran on CPU" / "Ran on CUDA (NVIDIA …)": ``device`` a torch.device, a model (its device) or a string a
    job reported; default the device policy's choice."""
    import torch
    from cnnviz.device import describe, model_device, pick_device
    if isinstance(device, torch.nn.Module):
        device = model_device(device)
    text = device if isinstance(device, str) and not device.startswith(("cpu", "cuda")) else describe(
        device if device is not None else pick_device())
    st.caption(f"Ran on {text}." + (f" {note}" if note else ""))
