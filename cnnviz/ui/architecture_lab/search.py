"""The Architecture Lab's Search (NAS) tab: strategy, FLOPs budget and trials, Start and Stop (Stop only while this
session's search is queued or running: the distillation's bookkeeping in cnnviz.ui.jobs; the job id in the link,
``search_job``, so a reload of the owner's browser reconnects), the
queue position, the Pareto and compound-scaling rules as formulas, and the accuracy-vs-FLOPs figure and the table of
trials, growing as the runner's events arrive. With the page's MACs switch every count reads MACs = FLOPs / 2."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from cnnviz.architecture.search import STRATEGIES, SearchConfig, SearchTrial, search_summary
from cnnviz.architecture.search_formulas import compound_scaling_latex, pareto_latex
from cnnviz.errors import ConfigError
from cnnviz.figures.search import search_figure
from cnnviz.geometry.padding import macs_from_flops
from cnnviz.jobs.events import Finished
from cnnviz.ui import jobs
from cnnviz.ui.state import PageState, Setting
from cnnviz.ui.widgets import show_chart, show_error

BUDGETS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0)  # MFLOPs the budget slider offers
RUN = SearchConfig()  # what the page leaves at its defaults: epochs and digits per candidate
SETTINGS = dict(  # the tab's controls, each declared once
    nas=Setting("evolution", "Strategy", "random: every candidate drawn from the space. evolution: the first half at "
                "random, then one gene (stages, width, kernel or block) of one of the best three so far is changed.",
                options=STRATEGIES),
    nbud=Setting(0.3, "FLOPs budget (millions)", "A candidate needing more FLOPs for one 8×8 digit is rejected before "
                 "any training (grey ✕ in the figure). The control is in FLOPs also when the switch counts MACs (then "
                 "the caption under it gives the budget in MACs).", options=BUDGETS, widget="select_slider"),
    ntr=Setting(8, "Trials", f"Candidates trained ({RUN.epochs} epochs on {RUN.n_train} digits each); the 3 "
                "compound-scaling networks train after them.", (1, 12), widget="slider"))
NOTICE = ("What to notice: the green staircase is the Pareto front, the trials no other trial beats with fewer "
          "or equal FLOPs (first formula below). Compound scaling (orange, EfficientNet's α = 1.2, β = 1.1, γ = 1.15 applied to one "
          "baseline of 2 plain stages, width 8) is one line through the space: depth, width and input size grow "
          "together. The search explores around it: other block types, kernels and widths at the same FLOPs. "
          f"Each candidate trains only {RUN.epochs} epochs on {RUN.n_train} digits, so one network's accuracy moves "
          "by up to about 10 points between seeds: read the overall shape, not single points.")
UNIT_NOTE = {False: "Counts are FLOPs (2 per multiply-add; the switch at the top counts MACs: half).",
             True: "Counts are MACs (multiply-accumulates) = FLOPs / 2; the budget control stays in FLOPs."}


def count(flops: int, macs: bool) -> int:
    return macs_from_flops(flops) if macs else flops


def formulas(macs: bool = False) -> None:
    """The two rules the figure shows: the Pareto front and compound scaling, with the values the search uses."""
    unit = "MACs" if macs else "FLOPs"
    st.markdown("**Pareto front**: candidate *i* is on it when no other *j* is at least as accurate for at most the "
                f"{unit}, one of the two strictly.")
    st.latex(pareto_latex(unit))
    st.markdown("**Compound scaling** (EfficientNet): depth d, width w and input resolution r grow together with φ.")
    for line in compound_scaling_latex(unit):
        st.latex(line)


def search_tab(S: PageState, runner, macs: bool = False) -> None:
    c = st.columns(3)
    strategy, budget = S.widget("nas", c[0]), S.widget("nbud", c[1])
    if macs:
        c[1].caption(f"= **{count(round(budget * 1e6), True):,} MACs** ({budget:g} MFLOPs / 2)")
    trials = S.widget("ntr", c[2])
    st.caption(f"{NOTICE} {UNIT_NOTE[macs]}")
    with st.expander("The rules in formulas", icon=":material/function:"):
        formulas(macs)
    key = S.key("search_job")
    jobs.linked_job(runner, key, "search_job", lambda recipe: SearchConfig(**recipe))  # a reload reconnects
    jobs.show_linked_notice(key)
    state = jobs.distill_state(runner, key)
    b = st.columns([1, 1, 4])
    if b[0].button("Start", icon=":material/play_arrow:", key=S.key("search_start"), help="Run the search in the "
                   "background (a child process, queued behind the other trainings); points appear as candidates "
                   "finish. Starting again replaces this session's search; a reload of the page reconnects to it."):
        try:
            cfg = SearchConfig(strategy=strategy, budget_mflops=budget, trials=trials)
            jobs.distill_restart(runner, key, cfg, info=cfg)
            state = jobs.distill_state(runner, key)
        except ConfigError as err:
            show_error(err)
    if b[1].button("Stop", icon=":material/stop:", key=S.key("search_stop"),
                   disabled=state not in ("queued", "running"),
                   help="Stop this session's search (enabled while it is queued or running)."):
        jobs.distill_stop(runner, key, 2)
        st.rerun()
    search_panel(runner, key, state, macs)


def trial_rows(trials: list[SearchTrial], front: set, macs: bool = False) -> list[dict]:
    """One row per decided candidate, in order, with readable headers and formatted numbers (``macs``: the
    compute column is "MACs", FLOPs / 2)."""
    rows = []
    for t in trials:
        g = t.genes
        rows.append({"Trial": str(t.index) if t.kind != "rejected" else "–",
                     "Kind": {"search": "searched", "rejected": "over the budget"}.get(t.kind, f"scaling φ = {t.phi}"),
                     "Stages": g.depth, "Width": g.width, "Kernel": f"{g.kernel}×{g.kernel}", "Block": g.block,
                     "Input": f"{g.resolution}×{g.resolution}", ("MACs" if macs else "FLOPs"): f"{count(t.flops, macs):,}", "Parameters": f"{t.params:,}",
                     "Accuracy": "not trained" if t.accuracy is None else f"{t.accuracy:.1%}",
                     "Pareto front": "✓" if id(t) in front else "", "Seconds": f"{t.seconds:.1f}"})
    return rows


def search_panel(runner, key: str, state: str | None, macs: bool = False) -> None:
    """The search's live panel: queue position, errors, progress, the figure and the table (polled every second
    while the job is queued or running)."""
    @st.fragment(run_every=1.0 if state in ("queued", "running") else None)
    def live():
        now = jobs.distill_state(runner, key)
        if now is None:
            return st.info("Press Start to search: every trained candidate becomes a point, accuracy against FLOPs.",
                           icon=":material/travel_explore:")
        job, cfg = st.session_state[key]
        events, status = runner.poll(job), runner.status(job)
        jobs.job_notices(now, events, status)
        s = search_summary(events)
        end = events[-1].reason if events and isinstance(events[-1], Finished) else None
        budget = f"{count(cfg.budget_flops, macs):,} {'MACs' if macs else 'FLOPs'}"
        family = (f" + {len(s['family'])} of {cfg.total - cfg.trials} compound-scaling networks"
                  if cfg.total > cfg.trials else "")  # the Trials control counts the searched candidates only
        st.caption(f"{len(s['searched'])} of {cfg.trials} trials trained{family}, {len(s['rejected'])} rejected over "
                   f"the budget of {budget} ({cfg.strategy} search) — {end or now}")
        if end == "done" and len(s["searched"]) < cfg.trials:
            st.caption(f"Only {len(s['searched'])} different candidates of the space fit under this budget "
                       "among those drawn: raise the budget for more.")
        show_chart(search_figure(s, cfg.budget_flops, macs), "arch_search_fig")
        trials = [e for e in events if isinstance(e, SearchTrial)]
        if trials:
            front = {id(s["searched"][i]) for i in s["front"]}
            st.dataframe(pd.DataFrame(trial_rows(trials, front, macs)), hide_index=True, width="stretch")
        if state in ("queued", "running") and now == "done":
            st.rerun()  # re-enable the controls' state at once
    live()
