"""Open the errors (Training Lab, after a run): click a confusion-matrix cell (or pick it in a list, for keyboards)
and see that cell's validation images, each with its top-3 probabilities, a Grad-CAM or Integrated Gradients map of
the predicted class, and a button that opens it in the Network Explorer. Built from the run's last checkpoint
(loaded with ``weights_only=True`` and validated, as every page loads one); predictions and maps are cached per
checkpoint."""
from __future__ import annotations

import hashlib

import streamlit as st

from cnnviz.errors import ConfigError
from cnnviz.figures.learning_live import clickable_confusion, saliency_tile, with_cell
from cnnviz.inside.saliency import attribute, to_map
from cnnviz.io.text import md_text
from cnnviz.training.validation import MAX_CELL_IMAGES, cell_indices, predict, top_k
from cnnviz.ui.jobs import last_checkpoint
from cnnviz.ui.presenter import presenting
from cnnviz.ui.state import PageState, Setting
from cnnviz.ui.uploads import uploaded_model
from cnnviz.ui.widgets import show_chart, show_error

MAPS = {"gradcam": "Grad-CAM", "integrated_gradients": "Integrated Gradients"}
SETTINGS = dict(errmap=Setting("gradcam", "Map", "Grad-CAM: where the last conv layer saw the predicted class (coarse). "
                               "Integrated Gradients: each pixel's share of the predicted class's score.",
                               options=tuple(MAPS), widget="radio"))
EXPLORABLE = ("digits", "shapes")  # data sets whose validation images the Network Explorer can open by index
CLICK, PICK = "train_drill_click", "train_drill_pick"


def _digest(ckpt: bytes) -> str:
    return hashlib.sha256(ckpt).hexdigest()[:16]


@st.cache_resource(max_entries=8, show_spinner="Running the validation images…")
def predictions(digest: str, _model, _ds):
    """Every validation image's probabilities under the checkpoint ``digest`` (read-only once made)."""
    return predict(_model, _ds.x_val, _ds.y_val)


@st.cache_resource(max_entries=8, show_spinner=False)
def confusion_fig(digest: str, _preds, _classes):
    return clickable_confusion(_preds.confusion, _classes)


@st.cache_resource(max_entries=64, show_spinner="Computing the maps…")
def tiles(digest: str, method: str, indices: tuple, _model, _ds, _preds) -> list:
    """The image | map picture of each of ``indices`` (the map of its predicted class)."""
    out = []
    for i in indices:
        x = _ds.x_val[i:i + 1]  # (1, C, H, W)
        m = to_map(attribute(_model, x, int(_preds.pred[i]), method))
        out.append(saliency_tile(x[0].numpy(), m.numpy()))
    return out


def _cells(confusion) -> list[tuple[int, int]]:
    """Non-empty cells, the errors first (most images first), then the right answers."""
    k = len(confusion)
    cells = [(i, j) for i in range(k) for j in range(k) if confusion[i][j]]
    return sorted(cells, key=lambda c: (c[0] == c[1], -confusion[c[0]][c[1]], c))


def _clicked() -> tuple[int, int] | None:
    state = st.session_state.get(CLICK)
    points = (state or {}).get("selection", {}).get("points", []) if isinstance(state, dict) else []
    data = points[0].get("customdata") if points and isinstance(points[0], dict) else None
    if isinstance(data, (list, tuple)) and len(data) == 2 and all(isinstance(v, int) for v in data):
        return int(data[0]), int(data[1])
    return None


def panel(runner, owner: str, active: bool) -> None:
    """The drill-down of this session's last finished run (nothing while it trains)."""
    ss = st.session_state
    jobs, ds = ss.get("train_jobs") or [], (ss.get("train_run") or {}).get("ds")
    if active or not jobs or ds is None:
        return
    ckpt = last_checkpoint(runner, jobs, owner)
    if not ckpt:
        return
    S = PageState("drill", SETTINGS)
    st.subheader("Open the errors")
    try:
        model, info = uploaded_model(ckpt, "your model")
        if list(info.classes) != list(ds.classes):
            return st.caption("The errors can be opened with the data set this run trained on.")
        digest = _digest(ckpt)
        preds = predictions(digest, model, ds)
    except ConfigError as err:
        return show_error(err)
    confusion, names = preds.confusion, [md_text(c) for c in ds.classes]
    cells = _cells(confusion)
    clicked = _clicked()
    if clicked is None:  # no selection (or a click on the selected cell took it away): the next click counts
        ss.pop("train_drill_last", None)
    elif clicked in cells and clicked != ss.get("train_drill_last"):
        ss[PICK] = ss["train_drill_last"] = clicked  # the list follows the click
    if ss.get(PICK) not in cells:
        ss[PICK] = cells[0]
    c = st.columns([1, 1]) if not presenting() else [st.container()] * 2
    show_chart(with_cell(confusion_fig(digest, preds, ds.classes), ss[PICK]), CLICK, c[0], on_select="rerun",
               selection_mode="points")
    with c[1]:
        t, p = st.selectbox("Cell (true → predicted)", cells, key=PICK, help="The same as clicking a cell.",
                            format_func=lambda cell: f"{ds.classes[cell[0]]} → {ds.classes[cell[1]]} "
                                                     f"({confusion[cell[0]][cell[1]]} images)")
        method = S.widget("errmap", horizontal=True, format_func=MAPS.get)
    S.sync_url()
    shown = cell_indices(preds.y, preds.pred, t, p, len(ds.classes))
    kind = "right" if t == p else "wrong"
    st.markdown(f"**True {names[t]}, predicted {names[p]}** ({kind}): {len(shown)} validation image(s)"
                + (f", the first {MAX_CELL_IMAGES} shown" if len(shown) > MAX_CELL_IMAGES else "")
                + f". Left the image, right its {MAPS[method]} map for {names[p]}.")
    shown = shown[:MAX_CELL_IMAGES]
    try:
        pictures = tiles(digest, method, tuple(shown), model, ds, preds)
    except ConfigError as err:
        return show_error(err)
    per_row = 3 if presenting() else 4
    for start in range(0, len(shown), per_row):
        cols = st.columns(per_row)
        for col, i, picture in zip(cols, shown[start:start + per_row], pictures[start:start + per_row]):
            col.image(picture, width="stretch")
            col.caption(f"#{i}: " + " · ".join(f"{md_text(n)} {v:.0%}" for n, v in top_k(preds.probs[i], ds.classes)))
            if info.dataset in EXPLORABLE and col.button("Open in Explorer", key=f"train_drill_open_{i}",
                                                         icon=":material/hub:", help="This image and this model in the "
                                                         "Network Explorer: every layer."):
                ss["explorer_model_bytes"], ss["net_model"] = ckpt, "session"
                ss["net_src"], ss["net_idx"] = "validation", int(i)
                st.switch_page("pages/network_explorer.py", query_params={"model": "session", "src": "validation",
                                                                          "idx": str(int(i))})
    if info.dataset not in EXPLORABLE:
        st.caption("The Network Explorer opens validation images of the digits and shapes only.")
