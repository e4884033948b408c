"""The Convolution Animation's Photo kernels tab: a photograph (or an upload, or the webcam) as grey or one colour
channel, a kernel from the gallery or typed, the padding mode, and the step whose window the zoom shows. The
filtered picture is cached per (picture, channel, kernel, mode); moving the step only redraws the figures."""
from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st

from cnnviz.animation.image_kernels import (KERNEL_CHOICES, MAGNITUDE, PHOTO_PAD_MODES, TYPED, TYPED_DEFAULT,
                                            TYPED_MAX_CHARS, apply_kernel)
from cnnviz.errors import ConfigError
from cnnviz.figures.photo_kernels import photo_kernel_figure, window_figure
from cnnviz.io.photos import load_photo, picture_from_bytes
from cnnviz.ui.presenter import columns, presenting
from cnnviz.ui.state import PageState, Setting
from cnnviz.ui.widgets import CAMERA_HELP, photo_setting, picture_bytes, show_chart, show_error

PICTURE_SOURCES = ("photo", "upload", "camera")
CHANNEL_CHOICES = ("grey", "red", "green", "blue")
MAX_SIDE_STEPS = 256 * 256
CENTRE_STEP = 128 * 256 + 128 + 1  # a 256×256 picture's centre: where the window starts
SETTINGS = dict(
    phsrc=Setting("photo", "Picture", "A photograph shipped with cnnviz, your file, or your webcam ("
                  + CAMERA_HELP[len("Your webcam: "):] + ")", options=PICTURE_SOURCES, widget="radio"),
    phphoto=photo_setting(),
    phch=Setting("grey", "Channel", "The picture in grey (ITU-R 601 luma), or one of its colour channels.",
                 options=CHANNEL_CHOICES),
    phk=Setting("sobel x", "Image kernel", "Sobel and Prewitt find edges (x: vertical edges, y: horizontal); "
                "sobel magnitude is √(Gx² + Gy²) of both Sobels; typed: your own numbers.", options=KERNEL_CHOICES),
    phtext=Setting(TYPED_DEFAULT, "Your kernel", f"Rows on lines (or separated by ';'), numbers by spaces; 1/9 is "
                   f"allowed. Square, odd side up to 7, at most {TYPED_MAX_CHARS} characters.", widget="text_area"),
    phmode=Setting("zeros", "Padding", "'same' size: a ring of k // 2 cells holding zeros, a mirror image, the "
                   "edge value, or the opposite edge.", options=PHOTO_PAD_MODES),
    phstep=Setting(CENTRE_STEP, "Window at step", "Step n puts the window on output cell (row, column) = "
                   "divmod(n − 1, width), as the scan goes: arrow keys move it one pixel.",
                   (1, MAX_SIDE_STEPS), widget="slider"),
)


@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def picture(src: str, name: str, data: bytes | None, channel: str) -> np.ndarray:
    """(H, W) float32 in 0..255 (whole numbers, as an 8-bit picture stores them: short numbers in the zoom): the
    photograph ``name``, or the uploaded / camera bytes (shrunk to 256 px)."""
    if src == "photo":
        x = load_photo(name, channel)
    elif not data:
        raise ConfigError("image", "take a picture first" if src == "camera" else
                          "upload an image file first (PNG, JPEG, BMP, GIF or WebP)")
    else:
        x = picture_from_bytes(data, channel)
    return np.round(x[0].numpy() * 255).astype(np.float32)


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def filtered(src: str, name: str, digest: str, channel: str, kernel: str, text: str, mode: str, _data=None):
    """The kernel's result on the picture, once per (picture, channel, kernel, mode); ``digest`` names uploaded
    bytes (``_data``, not hashed again)."""
    return apply_kernel(picture(src, name, _data, channel), kernel, mode, text if kernel == TYPED else TYPED_DEFAULT)


def photo_kernels_tab(S: PageState) -> None:
    """The tab: picture and kernel controls, then the picture | output figure beside the zoom on the window."""
    c = columns([3, 3, 2, 3, 2], [4.2, 2.5, 1.5, 2.4, 1.8])  # presenter mode: the three sources on one line
    src = S.widget("phsrc", c[0], horizontal=True, format_func=str.capitalize)
    channel = S.widget("phch", c[2])
    kernel = S.widget("phk", c[3])
    mode = S.widget("phmode", c[4])
    try:
        data = picture_bytes(S, c[1], src, S.key("phup"), "Shrunk to at most 256 px on its long side.", "phphoto")
        text = S.widget("phtext", c[3], max_chars=TYPED_MAX_CHARS, height=140) if kernel == TYPED else TYPED_DEFAULT
        digest = hashlib.sha256(data).hexdigest() if data and src != "photo" else ""
        res = filtered(src, S["phphoto"], digest, channel, kernel, text, mode, _data=data)
    except ConfigError as err:
        show_error(err)
        return
    n = res.steps
    st.session_state[S.key("phstep")] = min(max(1, st.session_state.get(S.key("phstep"), CENTRE_STEP)), n)
    left, right = st.columns([6, 4])
    step = S.widget("phstep", right, bounds=(1, n))
    what = "√(Gx² + Gy²)" if kernel == MAGNITUDE else "output"
    show_chart(photo_kernel_figure(res, step, out_title=what, white=255), S.key("ph_fig"), left, theme=None,
               config=dict(displayModeBar=False))
    show_chart(window_figure(res, step, white=255), S.key("ph_win"), right, theme=None,
               config=dict(displayModeBar=False))
    if not presenting():
        st.caption("Pixels are 0 (black) to 255 (white). Red: the kernel's response is positive; blue: negative; "
                   "white: 0. The colours saturate at the 99.5th percentile of |output| (the colour bar's ends), so "
                   "a few extreme pixels do not leave every edge pale; hover for the exact value.")
