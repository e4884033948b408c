"""cnnviz: an interactive explorer of convolutional neural networks."""
import streamlit as st

st.set_page_config(page_title="cnnviz — see how CNNs compute", page_icon=":material/grid_on:", layout="wide")
st.navigation({
    "Start": [st.Page("pages/home.py", title="Home", icon=":material/home:", default=True)],
    "Convolution": [st.Page("pages/conv_arithmetic.py", title="Conv Arithmetic", icon=":material/straighten:"),
                    st.Page("pages/conv_animation.py", title="Conv Animation", icon=":material/play_circle:")],
}).run()
