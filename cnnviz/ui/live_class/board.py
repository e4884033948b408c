"""The teacher's view of what the class made (the teacher key only): the finished Training Lab runs (each
student's switches and final accuracy, a scatter against parameters or seconds, the best recipe, two runs' curves
overlaid) and the digits drawn in the Network Explorer (a grid, and "our handwriting vs the model"). Its own
fragment, refreshed every ``BOARD_S`` seconds: runs and drawings arrive slowly, so the 1-s answers stay cheap."""
from __future__ import annotations

import streamlit as st

from cnnviz.errors import ConfigError
from cnnviz.figures import live_class as figs
from cnnviz.io.text import md_text
from cnnviz.ui.live_class.panels import engine
from cnnviz.ui.widgets import show_chart, show_error

BOARD_S = 5.0


def _label(i: int, run) -> str:
    return f"{i + 1}. {run.nickname} · {run.val_acc:.1%}"


def runs_panel(code: str, key: str) -> None:
    try:
        runs = engine().class_runs(code, key)
    except ConfigError as err:
        return show_error(err)
    if not runs:
        return st.caption("No finished runs yet: a student's Training Lab run appears here when it finishes.")
    best = runs[0]
    st.success(f"Best so far: **{md_text(best.nickname)}**, {best.val_acc:.1%} with {best.params:,} parameters "
               f"in {best.seconds:.0f} s — {md_text(best.recipe)}", icon=":material/emoji_events:")
    table, scatter = st.columns([4, 3], gap="medium")
    table.dataframe([{"#": i + 1, "Nickname": r.nickname, "Switches": ", ".join(r.switches) or "—",
                      "Model": r.model, "Val. acc.": f"{r.val_acc:.1%}"} for i, r in enumerate(runs)],
                    hide_index=True, key="live_runs_table", width="stretch")
    axis = scatter.segmented_control("Accuracy against", ("parameters", "seconds"), default="parameters",
                                     key="live_runs_axis") or "parameters"
    show_chart(figs.runs_scatter(runs, "seconds" if axis == "seconds" else "params", height=260),
               "live_runs_scatter", scatter)
    labels = [_label(i, r) for i, r in enumerate(runs)]
    pick, curves = st.columns([2, 5], gap="medium", vertical_alignment="center")
    chosen = pick.multiselect("Overlay two runs' curves", labels, default=labels[:2], max_selections=2,
                              key="live_runs_pick", help="The validation accuracy after each epoch.")
    chosen = [runs[labels.index(p)] for p in chosen if p in labels]
    if chosen:
        show_chart(figs.curves_overlay(*chosen[:2], height=240), "live_runs_curves", curves)


def drawings_panel(code: str, key: str) -> None:
    try:
        view = engine().class_drawings(code, key)
    except ConfigError as err:
        return show_error(err)
    if not view.drawings:
        return st.caption("No drawings yet: digits drawn in the Network Explorer during the class appear here "
                          "(each student may keep a drawing to themselves).")
    said = (f"{view.labelled} say which digit they are; the model read {view.agreed} of them as their authors "
            "meant." if view.labelled else "None says which digit it is yet.")
    st.caption(f"{len(view.drawings)} drawings (the newest {min(len(view.drawings), figs.GRID_MAX)} shown: "
               f"what the student said → what the model read). {said}")
    grid, matrix = st.columns([3, 2], gap="medium")
    show_chart(figs.drawings_grid(view.drawings), "live_drawings_grid", grid)
    if view.labelled:
        matrix.markdown("**Our handwriting vs the model**")
        show_chart(figs.handwriting_confusion(view.confusion, height=300), "live_drawings_confusion", matrix)


@st.fragment(run_every=BOARD_S)
def class_work(code: str, key: str) -> None:
    """Runs and drawings, side by side on a wide screen as two tabs (one screen at 1280×720 each)."""
    runs, drawings = st.tabs(["The class's runs", "The class's drawings"])
    with runs:
        runs_panel(code, key)
    with drawings:
        drawings_panel(code, key)
