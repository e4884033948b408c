"""The Architecture Lab's Search (NAS) tab in AppTest: it renders from a link's settings, Start submits this
session's search to the process's training runner (a child process behind the limiter) with the controls' values,
Stop is enabled only while it is queued or running, and the figure and the table show the runner's events."""
from functools import partial

import pytest

from tests.support import apptest
from cnnviz.architecture.search import SearchConfig, SearchTrial
from cnnviz.jobs import Finished, get_local_runner

open_page = partial(apptest.open_page, "architecture_lab", via_app=True)
SEARCH = {"tab": "Search (NAS)"}  # lazy tabs: the link opens the search's tab, the only one that runs


def stop_button(at):
    return at.button(key="arch_search_stop")


def test_start_submits_the_controls_and_stop_ends_it():
    at = open_page({"nas": "random", "nbud": "0.2", "ntr": "12", **SEARCH})
    assert at.selectbox(key="arch_nas").value == "random" and at.select_slider(key="arch_nbud").value == 0.2
    assert at.slider(key="arch_ntr").value == 12
    assert stop_button(at).disabled and any("Press Start to search" in i.value for i in at.info)
    at.button(key="arch_search_start").click().run()
    assert not at.exception and not at.error, at.error
    job, cfg = at.session_state["arch_search_job"]
    runner = get_local_runner()
    assert runner._jobs[job].config == cfg == SearchConfig(strategy="random", budget_mflops=0.2, trials=12)
    assert not stop_button(at).disabled
    stop_button(at).click().run()
    assert not at.exception and runner.join(job, timeout=60)
    at.run()
    assert stop_button(at).disabled
    assert isinstance(runner.poll(job)[-1], Finished)


def test_a_finished_search_is_drawn_and_tabled_from_its_events(monkeypatch):
    # one candidate and the three of the compound-scaling family, each 1 epoch on 50 digits: seconds even on a
    # box loaded by other suites (at the page's 3 epochs on 600 digits one clean-clone run needed > 240 s)
    monkeypatch.setattr("cnnviz.ui.architecture_lab.search.SearchConfig", partial(SearchConfig, epochs=1, n_train=50))
    at = open_page({"ntr": "1", **SEARCH})
    at.button(key="arch_search_start").click().run()
    job, _ = at.session_state["arch_search_job"]
    runner = get_local_runner()
    assert runner.join(job, timeout=240)
    at.run()
    assert not at.exception
    events = runner.poll(job)
    assert isinstance(events[-1], Finished) and events[-1].reason == "done", events[-1]
    trained = [e for e in events if isinstance(e, SearchTrial) and e.kind != "rejected"]
    assert [e.kind for e in trained] == ["search", "family", "family", "family"]
    assert any("1 of 1 trials trained + 3 of 3 compound-scaling networks" in c.value for c in at.caption)
    fig = next(f for f in apptest.figures(at) if any(t.get("name") == "searched" for t in f["data"]))
    shown = {t["name"]: t for t in fig["data"]}
    assert shown["searched"]["y"] == pytest.approx([100 * trained[0].accuracy])
    assert shown["compound scaling (φ = 0, 1, 2)"]["x"] == [e.flops for e in trained[1:]]
    table = at.dataframe[-1].value
    assert {"FLOPs", "Accuracy", "Parameters", "Pareto front"} <= set(table.columns)
    assert table["FLOPs"].tolist()[-1] == f"{trained[-1].flops:,}" and "," in table["FLOPs"].tolist()[-1]
    searched = table[table["Kind"] == "searched"]
    assert searched["Accuracy"].tolist() == [f"{trained[0].accuracy:.1%}"] and searched["Trial"].tolist() == ["1"]
    assert stop_button(at).disabled
    at.toggle(key="arch_macs").set_value(True).run()  # the page's MACs switch: the same trials, counted in MACs
    fig = next(f for f in apptest.figures(at) if any(t.get("name") == "searched" for t in f["data"]))
    assert fig["layout"]["xaxis"]["title"]["text"].startswith("MACs")
    assert {t["name"]: t for t in fig["data"]}["searched"]["x"] == [trained[0].flops // 2]
    table = at.dataframe[-1].value
    assert "FLOPs" not in table.columns and table["MACs"].tolist()[-1] == f"{trained[-1].flops // 2:,}"
    assert any("of 150,000 MACs" in c.value for c in at.caption)  # the 0.3 MFLOPs default budget, halved


def test_macs_switch_and_formulas_without_a_search():
    """No training: the rules as LaTeX (compound scaling with the α, β, γ the family uses), and the budget's MACs."""
    at = open_page({"nbud": "0.2", "macs": "1"} | SEARCH)
    bodies = [l.body for l in at.latex]
    assert any(r"\nexists" in b and r"\mathrm{MACs}_j \le \mathrm{MACs}_i" in b for b in bodies)  # Pareto rule
    assert any(r"\alpha = 1.2,\; \beta = 1.1,\; \gamma = 1.15" in b for b in bodies)
    assert any(r"\propto d\,w^2 r^2" in b for b in bodies)
    assert any("100,000 MACs" in c.value for c in at.caption)  # 0.2 MFLOPs / 2
    assert any("Counts are MACs" in c.value for c in at.caption)
    at.toggle(key="arch_macs").set_value(False).run()
    assert not any("100,000 MACs" in c.value for c in at.caption)
    assert any(r"\mathrm{FLOPs}_j \le \mathrm{FLOPs}_i" in l.body for l in at.latex)
