"""The Training Lab's Compare runs tab in AppTest: a training and its one-change copy (Train again with one change)
both stay in this browser's history, on one chart whose legend names only the change; a reload of the same browser
(the owner cookie) finds both; a classmate's browser sees none and cannot delete them; the owner deletes one."""
import pytest

from tests.support import apptest
import cnnviz.ui.jobs as jobs_ui
from cnnviz import ConfigError
from cnnviz.jobs import get_runner
from cnnviz.training.runs import delete_run

TAB = {"tab": "Compare runs"}


def button(at, label):
    return next(b for b in at.button if b.label == label)


def legend(at):
    fig = apptest.figures(at)[-1]
    return [t["name"] for t in fig["data"] if t.get("showlegend") is not False]


def test_runs_survive_a_reload_compare_cleanly_and_stay_private(monkeypatch):
    runner = get_runner()
    a = apptest.open_page("training_lab")
    a.number_input(key="train_epochs").set_value(1).run()
    button(a, "Start").click().run()
    first, token = a.session_state["train_jobs"][-1], a.session_state["job_owner"]
    assert runner.join(first, timeout=120)
    apptest.open_tab(a, "Compare runs", "train")
    assert not a.exception, a.exception
    assert len(a.dataframe) == 1 and a.dataframe[0].value["State"].tolist() == ["finished"]
    a.selectbox(key="train_ab_change").set_value("noise").run()
    assert any("Noise: off → on" in c.value for c in a.caption)
    button(a, "Train again with this change").click().run()
    assert not a.exception and not a.error, a.error
    second = a.session_state["train_jobs"][-1]
    assert second != first and runner.join(second, timeout=120)
    one, two = runner.recipe(first, token), runner.recipe(second, token)
    assert [k for k in one if one[k] != two[k]] == ["augment_noise"] and two["augment_noise"] == 0.05
    a.run()
    assert legend(a) == ["no noise", "noise"]                              # only what differs
    assert any(c.value.startswith("Run 1 (no noise): ") and "Run 2 (noise)" in c.value for c in a.caption)
    assert a.dataframe[0].value["Differs"].tolist() == ["no noise", "noise"]

    monkeypatch.setattr(jobs_ui, "_cookie", lambda: token)                 # the same browser, reloaded
    b = apptest.open_page("training_lab", TAB)
    assert b.session_state["job_owner"] == token and b.session_state["train_jobs"] == []
    assert a.dataframe[0].value["Run"].tolist() == b.dataframe[0].value["Run"].tolist() == ["Run 1", "Run 2"]
    assert legend(b) == ["no noise", "noise"]

    monkeypatch.setattr(jobs_ui, "_cookie", lambda: None)                  # a classmate's browser
    c = apptest.open_page("training_lab", TAB)
    assert c.session_state["job_owner"] != token and not c.dataframe
    assert any("No runs yet" in i.value for i in c.info)
    with pytest.raises(ConfigError):
        delete_run(runner, first, c.session_state["job_owner"])

    b.selectbox(key="train_cmp_delete").set_value(first).run()            # the owner deletes the first run
    button(b, "Delete").click().run()
    assert not b.exception and not b.error, b.error
    assert b.dataframe[0].value["State"].tolist() == ["finished"] and len(b.dataframe[0].value) == 1
    with pytest.raises(ConfigError):
        runner.status(first)
