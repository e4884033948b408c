"""cnnviz: an interactive explorer of convolutional neural networks."""
import streamlit as st

st.set_page_config(page_title="cnnviz — see how CNNs compute", page_icon=":material/grid_on:", layout="wide")
st.navigation({
    "Start": [st.Page("pages/home.py", title="Home", icon=":material/home:", default=True)],
    "Convolution": [st.Page("pages/conv_arithmetic.py", title="Conv Arithmetic", icon=":material/straighten:"),
                    st.Page("pages/conv_animation.py", title="Convolution Animation", icon=":material/animation:")],
    "Architectures": [st.Page("pages/architecture_lab.py", title="Architecture Lab", icon=":material/account_tree:")],
    "Inside the model": [st.Page("pages/feature_maps.py", title="Feature Maps", icon=":material/layers:"),
                         st.Page("pages/saliency.py", title="Saliency", icon=":material/visibility:")],
}).run()
