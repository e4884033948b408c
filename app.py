"""cnnviz: an interactive explorer of convolutional neural networks."""
import cnnviz.warm  # noqa: F401 - first: heavy libraries imported once, one session at a time
import streamlit as st

from cnnviz.ui import lesson_mode, presenter_mode
from cnnviz.ui.jobs import heartbeat
from cnnviz.ui.live_class import class_bar

st.set_page_config(page_title="cnnviz — see how CNNs compute", page_icon=":material/grid_on:", layout="wide")
presenter_mode()  # ?present=1: large fonts, high contrast, no sidebar — one switch for every page
heartbeat()  # any page of a browser with jobs keeps them alive
pg = st.navigation({
    "Start": [st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
              st.Page("pages/lessons.py", title="Lessons", icon=":material/school:"),
              st.Page("pages/quiz.py", title="Quiz", icon=":material/quiz:"),
              st.Page("pages/live_class.py", title="Live class", icon=":material/groups:")],
    "Convolution": [st.Page("pages/conv_arithmetic.py", title="Conv Arithmetic", icon=":material/straighten:"),
                    st.Page("pages/conv_animation.py", title="Convolution Animation", icon=":material/animation:")],
    "Architectures": [st.Page("pages/architecture_lab.py", title="Architecture Lab", icon=":material/account_tree:")],
    "Training": [st.Page("pages/training_lab.py", title="Training Lab", icon=":material/model_training:")],
    "Inside the model": [st.Page("pages/network_explorer.py", title="Network Explorer", icon=":material/hub:",
                                 url_path="network_explorer"),
                         st.Page("pages/feature_maps.py", title="Feature Maps", icon=":material/layers:"),
                         st.Page("pages/saliency.py", title="Saliency", icon=":material/visibility:")],
    "Compression & metrics": [st.Page("pages/compression.py", title="Compression", icon=":material/compress:"),
                              st.Page("pages/metrics_losses.py", title="Metrics & Losses",
                                      icon=":material/functions:")],
})
class_bar(pg.url_path)  # in a class: this page for "who is where", the banner to follow the teacher
lesson_mode(pg)  # ?lesson=N (a Lessons link): the step's banner with Previous / Next; the ← → Space keys
pg.run()
