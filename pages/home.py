"""Home: what the app teaches, and a link to every page."""
import cnnviz.warm  # noqa: F401 - first: heavy libraries imported once, one session at a time
import streamlit as st

from cnnviz.ui import page_setup
from cnnviz.ui.presenter import join_box

page_setup()  # a deep link to a fresh server goes through app.py

st.title("cnnviz — see how convolutional networks compute")
intro, join = st.columns([3, 1], gap="large")
intro.markdown(
    "cnnviz teaches how convolutional networks compute by letting you move the numbers yourself: kernel, "
    "stride, padding, dilation and groups, and what they do to shapes, parameters, FLOPs and what a trained "
    "model sees. Every number on every page is computed by the engine and checked against PyTorch itself. "
    "Change a control and the formulas, pictures and results update at once, so a whole class can explore "
    "together on a projector."
)
join_box(join, qr_px=160)  # the address students type (and its QR code), for a class
LINKS = [
    ("Classroom", [("pages/lessons.py", "Lessons — a path through the app for a class, each step with its example set",
                    ":material/school:"),
                   ("pages/quiz.py", "Quiz — output size, parameters, FLOPs, receptive field, marked by the engine",
                    ":material/quiz:"),
                   ("pages/live_class.py", "Live class — start a class with a join code, or join one; the teacher "
                    "sees who is where and how the class answers", ":material/groups:")]),
    ("Convolution", [("pages/conv_arithmetic.py", "Conv Arithmetic — output size, parameters, FLOPs, receptive field",
                      ":material/straighten:"),
                     ("pages/conv_animation.py", "Conv Animation — the sliding window step by step, on real numbers",
                      ":material/animation:")]),
    ("Architectures", [("pages/architecture_lab.py", "Architecture Lab — presets, modern blocks compared, export "
                        "as code", ":material/account_tree:")]),
    ("Training", [("pages/training_lab.py", "Training Lab — watch a small network learn, live",
                   ":material/model_training:")]),
    ("Inside the model", [("pages/feature_maps.py", "Feature Maps — activations and kernels of a trained model",
                           ":material/layers:"),
                          ("pages/saliency.py", "Saliency — where the model looks (captum)", ":material/visibility:"),
                          ("pages/network_explorer.py", "Network Explorer — the whole network for one image, any "
                           "neuron down to its arithmetic", ":material/hub:")]),
    ("Compression & metrics", [("pages/compression.py", "Compression — quantization, pruning, distillation",
                                ":material/compress:"),
                               ("pages/metrics_losses.py", "Metrics & Losses — IoU, Dice, focal loss, mAP",
                                ":material/functions:")]),
]
for row in (LINKS[:3], LINKS[3:]):  # 3 per row: wide enough for whole words and the links' text
    for col, (section, links) in zip(st.columns(3, gap="large"), row):
        col.subheader(section)
        for path, label, icon in links:  # page links never wrap: the name as the link, the rest as a caption
            name, _, what = label.partition(" — ")
            col.page_link(path, label=name, icon=icon)
            col.caption(what)
