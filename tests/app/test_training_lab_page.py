"""Training Lab in AppTest: the data grid shows, Start trains (the job runs in this process), Stop stops."""
import time
from functools import partial

from tests.support import apptest
from cnnviz.jobs import get_runner


open_page = partial(apptest.open_page, "training_lab")
metric = apptest.metric


def button(at, label):
    return next(b for b in at.button if b.label == label)


def test_start_trains_and_shows_accuracy_confusion_and_checkpoint():
    at = open_page()
    assert any("Press **Start**" in i.value for i in at.info)
    assert len(at.get("plotly_chart")) == 1  # the sample grid
    at.number_input(key="train_epochs").set_value(2).run()
    button(at, "Start").click().run()
    assert not at.exception, at.exception
    job = at.session_state["train_jobs"][-1]
    assert get_runner().join(job, timeout=120)
    at.run()
    assert metric(at, "Validation accuracy").endswith("%")
    assert float(metric(at, "Validation accuracy").rstrip("%")) > 50
    assert any("Finished after epoch 2" in s.value for s in at.success)
    assert [c.key for c in at.get("plotly_chart")] == [  # the results at the top of the right column (curves,
        "train_curves", "train_confusion", "train_timings", "train_predictions", "train_samples_fig",  # confusion,
        "train_live_kernels", "train_live_maps", "train_drill_click"]  # timings, predictions), then the samples,
    # the first layer live and the errors to open
    assert len(at.get("download_button")) == 1 and not button(at, "Resume").disabled
    assert at.query_params["epochs"] in ("2", ["2"])  # the page state is in the URL


def test_stop_stops_and_speed_run_preset_sets_the_recipe():
    at = open_page()
    button(at, "Speed-run preset").click().run()
    assert at.selectbox(key="train_model").value == "SmallResNet" and at.toggle(key="train_ema").value
    at.radio(key="train_data").set_value("shapes").run()
    at.number_input(key="train_epochs").set_value(50).run()
    button(at, "Start").click().run()
    job = at.session_state["train_jobs"][-1]
    assert get_runner().status(job).state in ("queued", "running") and button(at, "Start").disabled
    time.sleep(1)
    button(at, "Stop").click().run()
    assert not at.exception, at.exception
    assert get_runner().join(job, timeout=30)  # the child process exits after its current step
    at.run()
    assert get_runner().status(job).state == "done"
    assert any("Stopped" in s.value for s in at.success)
    assert not button(at, "Start").disabled


def test_weight_decay_control_reaches_the_job_and_the_formulas():
    at = open_page({"wd": "0.005", "opt": "sgd", "lr": "0.05"})
    assert at.number_input(key="train_wd").value == 0.005
    assert any(r"\tfrac{0.005}{2}" in x.value for x in at.latex)            # SGD: an L2 penalty in the loss
    assert any(r"0.005\,\theta" in x.value and r"0.05\,v" in x.value for x in at.latex)
    assert at.selectbox(key="train_ampk").disabled                           # no CUDA here
    assert any("off on the CPU" in c.value for c in at.caption)
    at.selectbox(key="train_opt").set_value("adamw").run()
    assert any(r"- 0.05\cdot0.005\,\theta" in x.value for x in at.latex)    # AdamW: decoupled, in the update
    at.number_input(key="train_epochs").set_value(1).run()
    button(at, "Start").click().run()
    assert not at.exception, at.exception
    job = at.session_state["train_jobs"][-1]
    runner = get_runner()
    cfg = runner._jobs[job].config                                           # what the runner was given
    assert cfg.weight_decay == 0.005 and cfg.optimizer == "adamw" and cfg.amp == "off"
    runner.stop(job, owner=at.session_state["job_owner"])
    assert runner.join(job, timeout=60)
    button(at, "Speed-run preset").click().run()
    assert at.number_input(key="train_wd").value == 5e-4


def test_start_runs_the_page_once_and_its_buttons_show_the_new_job(monkeypatch):
    """Start used to end in st.rerun(): every press ran the whole page twice (ten classmates pressing together, twenty
    runs at one instant). The click is read before the buttons are drawn, so the one run shows Start and Resume
    disabled and Stop enabled, and the live panel polls the new job; Stop is read the same way."""
    import streamlit as st
    at = open_page()
    at.number_input(key="train_epochs").set_value(1).run()
    reruns = []
    monkeypatch.setattr(st, "rerun", lambda *a, **k: reruns.append(k))  # a call would run the page again
    button(at, "Start").click().run()
    assert not at.exception, at.exception
    job = at.session_state["train_jobs"][-1]
    runner = get_runner()
    try:
        assert reruns == [] and runner.status(job).state in ("queued", "running")
        assert button(at, "Start").disabled and button(at, "Resume").disabled and not button(at, "Stop").disabled
        assert not any("Press **Start**" in i.value for i in at.info)  # the live panel shows the new job
        at.run()  # the next run (a widget change): the button is not pressed again
        assert at.session_state["train_jobs"] == [job]
        button(at, "Stop").click().run()  # Stop likewise: stopped before the buttons are drawn, no st.rerun()
        assert not at.exception, at.exception
        assert runner.join(job, timeout=60) and runner.poll(job)[-1].reason == "stopped"
        assert not [k for k in reruns if k.get("scope") != "app"]  # (the live panel's own, when it sees the end)
    finally:
        runner.stop(job, owner=at.session_state["job_owner"])
        assert runner.join(job, timeout=60)


def test_resume_continues_the_last_run_in_the_same_single_run(monkeypatch):
    """Resume, read before its button is drawn like Start: the resumed job joins the session's jobs (its curve
    continues the first's) in one page run, with Start and Resume disabled."""
    import streamlit as st
    at = open_page()
    at.number_input(key="train_epochs").set_value(1).run()
    button(at, "Start").click().run()
    first = at.session_state["train_jobs"][-1]
    runner = get_runner()
    assert runner.join(first, timeout=120)
    at.run()
    assert not button(at, "Resume").disabled
    at.number_input(key="train_epochs").set_value(2).run()
    reruns = []
    monkeypatch.setattr(st, "rerun", lambda *a, **k: reruns.append(k))
    button(at, "Resume").click().run()
    assert not at.exception, at.exception
    jobs = at.session_state["train_jobs"]
    try:
        assert reruns == [] and len(jobs) == 2 and jobs[0] == first
        assert button(at, "Start").disabled and button(at, "Resume").disabled and not button(at, "Stop").disabled
    finally:
        runner.stop(jobs[-1], owner=at.session_state["job_owner"])
        assert runner.join(jobs[-1], timeout=60)
