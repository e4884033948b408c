"""The Training Lab's "Compare runs" tab: every training of this browser (``cnnviz.training.runs``: the owner
cookie finds them after a reload too) on one chart, the legend naming only what differs; a table of the runs with
their switches and results; delete a run; and "Train again with one change", a clean A/B (the copy's recipe equals
its source's but for the one setting, seed included).

Links: ``?tab=Compare+runs`` opens this tab; ``&ab_change=<name>`` (a key of ``CHANGES``: flip, crop, noise, ls, ema,
clip, early, balanced, lr, optimizer, schedule, model, epochs, wd) preselects the one change. Runs are private: no
job id ever goes into a link from here."""
from __future__ import annotations

import hashlib
import time
from dataclasses import replace

import streamlit as st

from cnnviz.errors import ConfigError
from cnnviz.figures.run_compare import compare_figure
from cnnviz.io.data import DATASETS
from cnnviz.training.compare import (CHANGES, CHOICES, OPTIMIZER_NAMES, SWITCH_FIELDS, describe_change, is_on,
                                     is_switch, legend_labels, one_change)
from cnnviz.training.recipe import TrainConfig
from cnnviz.training.runs import MAX_RUNS, delete_run, runs_of
from cnnviz.ui import jobs as jobs_ui
from cnnviz.ui.presenter import presenting
from cnnviz.ui.state import PageState, Setting
from cnnviz.ui.training_lab import offline
from cnnviz.ui.widgets import show_chart, show_error

TAB = "Compare runs"
SETTINGS = dict(
    ab_change=Setting("flip", "Change", "The one setting the copy trains with differently; everything else, the "
                      "seed included, stays the run's.", options=tuple(CHANGES)),
    cmp_train=Setting(False, "Training curves too", "Each run's training accuracy and loss per report, dotted."))
VALUE_BOUNDS = {"lr": (1e-4, 1.0), "epochs": (1, 50), "wd": (0.0, 0.1)}  # as the Train tab's controls
STATES = {"finished": "finished", "stopped": "stopped", "early stopping": "stopped early", "failed": "failed",
          "running": "training now", "queued": "waiting"}


def run_names(runs) -> dict[str, str]:
    return {r.job: f"Run {i + 1}" for i, r in enumerate(runs)}


def _ago(t: float | None) -> str:
    if t is None:
        return "–"
    m = int(max(0.0, time.time() - t) // 60)
    return "just now" if m < 1 else f"{m} min ago" if m < 60 else f"{m // 60} h {m % 60} min ago"


def table(runs, names: dict) -> list[dict]:
    """One row per run: its name, what differs, the recipe's main values and switches, its results."""
    labels = legend_labels([r.recipe for r in runs], [names[r.job] for r in runs]) if len(runs) > 1 else \
        ["–"] * len(runs)
    rows = []
    for r, label in zip(runs, labels):
        q = r.recipe
        rows.append({"Run": names[r.job], "Differs": label,  # the results first: a wide table scrolls
                     "Last val. acc.": f"{r.final_val_acc:.1%}" if r.val_acc else "–",
                     "Best val. acc.": f"{r.best_val_acc:.1%}" if r.val_acc else "–",
                     "Last val. loss": round(r.final_val_loss, 3) if r.val_loss else None,
                     "State": STATES.get(r.state, r.state),
                     "Switches on": ", ".join(n for f, n in SWITCH_FIELDS.items() if is_on(f, q.get(f))) or "none",
                     "Data": str(q.get("dataset")), "Model": str(q.get("model")),
                     "Optimizer": OPTIMIZER_NAMES.get(q.get("optimizer"), str(q.get("optimizer"))),
                     "lr": q.get("lr"), "Epochs": q.get("epochs"), "Started": _ago(r.started)})
    return rows


@st.cache_resource(max_entries=32, show_spinner=False)  # read-only once built: a poll with nothing new reuses it
def _figure(key: tuple, labels: tuple, train: bool, _runs):
    return compare_figure(_runs, labels, train=train)


def chart(runs, train: bool):
    labels = tuple(legend_labels([r.recipe for r in runs])) if len(runs) > 1 else \
        tuple(f"{r.recipe.get('model')} on {r.recipe.get('dataset')}" for r in runs)
    return _figure(tuple((r.job, r.n_events) for r in runs), labels, train, runs)


def _shown(runs) -> list[str]:
    """The runs on the chart: the last choice, plus every run that appeared since (a new run shows at once)."""
    ss, ids = st.session_state, [r.job for r in runs]
    new = [j for j in ids if j not in ss.get("cmp_known", set())]
    ss["cmp_known"] = set(ids)
    return [j for j in ss.get("cmp_shown", ids) if j in ids and j not in new] + new


def _dataset(recipe: dict, page_ds, page_data: str):
    """The data set a copy of ``recipe`` trains on: an offline one by name, or the page's own ZIP when that is the
    run's data (a ZIP is never kept with a run)."""
    name = recipe.get("dataset")
    if name in DATASETS:
        return offline(name)
    if page_data == name and page_ds is not None:
        return page_ds
    raise ConfigError("dataset", "this run trained on your own ZIP, which is not kept with the run: choose "
                      "\"own ZIP\" on the Train a model tab and upload it again to train its copy")


def _value(S: PageState, change: str, recipe: dict, where):
    """The new value for a value change (a switch needs none)."""
    if is_switch(change):
        return None
    label, field = CHANGES[change]
    key = f"train_ab_{change}"
    if change in CHOICES:
        options = [o for o in CHOICES[change] if o != recipe.get(field)] or list(CHOICES[change])
        return where.selectbox(f"New {label.lower()}", options, key=key,
                               format_func=lambda o: OPTIMIZER_NAMES.get(o, o))
    lo, hi = VALUE_BOUNDS[change]
    now = recipe.get(field, lo)
    if change == "epochs":
        return where.number_input(f"New {label.lower()}", int(lo), int(hi), min(int(hi), max(int(lo), now * 2)),
                                  key=key)
    return where.number_input(f"New {label[0].lower() + label[1:]}", float(lo), float(hi),
                              min(hi, max(lo, float(now) * 2.5 or 1e-3)), format="%.4f", key=key)


def ab_controls(S: PageState, runner, owner: str, runs, names: dict, active: bool, page_ds, page_data: str) -> None:
    """"Train again with one change": pick a run and one change; the copy trains as this browser's training."""
    ended = [r for r in runs if r.ended and r.val_acc]
    st.subheader("Train again with one change")
    if not ended:
        st.caption("When a run has finished, pick it here with one switch or value to change: its copy trains with "
                   "everything else equal, the seed included, and both curves show on the chart above.")
        return
    c = st.columns([1, 1, 1]) if not presenting() else [st.container()] * 3
    src = c[0].selectbox("Run to copy", [r.job for r in reversed(ended)], key="train_ab_run",
                         format_func=lambda j: f"{names[j]} ({next(r for r in ended if r.job == j).final_val_acc:.1%})")
    run = next(r for r in ended if r.job == src)
    change = S.widget("ab_change", c[1], format_func=lambda k: CHANGES[k][0])
    value = _value(S, change, run.recipe, c[2])
    try:
        ds = _dataset(run.recipe, page_ds, page_data)
        size = ds.size
        new = one_change(run.recipe, change, value, size)
        st.caption(f"{names[src]} again with **{describe_change(run.recipe, change, value, size)}**; everything "
                   f"else as it was (seed {run.recipe.get('seed')}).")
    except ConfigError as err:
        show_error(err)
        return
    if st.button("Train again with this change", type="primary", icon=":material/compare_arrows:", disabled=active,
                 help="Stop the training that runs first." if active else "Trains the copy now; the chart shows "
                 "the two runs."):
        try:
            job = runner.submit(replace(TrainConfig.from_dict(new), data=ds), owner=owner)
        except ConfigError as err:
            show_error(err)
            return
        jobs_ui.started(job, False, str(new.get("dataset")), ds, int(new["epochs"]))
        ss = st.session_state
        ss["cmp_shown"], ss["cmp_known"] = [src, job], {*ss.get("cmp_known", set()), job}
        st.rerun()


def delete_controls(runner, owner: str, runs, names: dict) -> None:
    ended = [r for r in runs if r.ended]
    if not ended:
        return
    with st.expander("Delete a run"):
        c = st.columns([2, 1])
        gone = c[0].selectbox("Run", [r.job for r in ended], format_func=names.get, key="train_cmp_delete",
                              label_visibility="collapsed")
        if c[1].button("Delete", icon=":material/delete:", help="Its curves, results and checkpoint go for good."):
            try:
                delete_run(runner, gone, owner)
            except ConfigError as err:
                show_error(err)
                return
            st.rerun()


def panel(S: PageState, runner, owner: str, active: bool, page_ds, page_data: str) -> None:
    """The tab: chart, table, delete, and the one-change A/B (polled while one of the runs trains)."""
    runs = runs_of(runner, owner)
    if not runs:
        st.info(f"No runs yet. Train one on the **Train a model** tab: every training of this browser is kept here "
                f"(the newest {MAX_RUNS}, also after a reload), to put their curves side by side.",
                icon=":material/stacked_line_chart:")
        return
    jobs_ui.remember_owner()  # the cookie that finds these runs again after a reload
    training = any(not r.ended for r in runs)

    @st.fragment(run_every=1.5 if training else None)
    def live():
        now = runs_of(runner, owner)
        names = run_names(now)
        ids = st.multiselect("Runs on the chart", [r.job for r in now], default=_shown(now), format_func=names.get,
                             key="train_cmp_runs_" + hashlib.sha256("".join(names).encode()).hexdigest()[:12])
        st.session_state["cmp_shown"] = ids
        train = S.widget("cmp_train")
        shown = [r for r in now if r.job in ids]
        show_chart(chart(shown, train), "train_cmp_chart")
        if len(shown) == 2 and all(r.val_acc for r in shown):  # an A/B: the difference in one sentence
            (x, y), (lx, ly) = shown, legend_labels([r.recipe for r in shown])
            st.caption(f"{names[x.job]} ({lx}): {x.final_val_acc:.1%} → {names[y.job]} ({ly}): "
                       f"{y.final_val_acc:.1%} last validation accuracy, "
                       f"{100 * (y.final_val_acc - x.final_val_acc):+.1f} points.")
        st.dataframe(table(now, names), hide_index=True, width="stretch")
        if training and not any(not r.ended for r in now):
            st.rerun(scope="app")  # the last one ended: stop polling, enable the buttons
    live()
    names = run_names(runs)
    ab_controls(S, runner, owner, runs, names, active, page_ds, page_data)
    delete_controls(runner, owner, runs, names)
