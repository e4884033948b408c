"""Home: what the app teaches, and a link to every page."""
import streamlit as st

import cnnviz.ui  # noqa: F401 - shared page set-up

st.title("cnnviz — see how convolutional networks compute")
st.markdown(
    "cnnviz teaches the arithmetic of convolutional networks by letting you move the numbers yourself: "
    "kernel, stride, padding, dilation and groups, and what they do to shapes, parameters and FLOPs. "
    "Every number on every page is computed by the engine and checked against PyTorch itself. "
    "Change a control and the formulas, pictures and results update at once, so a whole class can "
    "explore together on a projector."
)
st.subheader("Pages")
st.page_link("pages/conv_arithmetic.py", label="Conv Arithmetic — output size, parameters, FLOPs, receptive field",
             icon=":material/straighten:")
