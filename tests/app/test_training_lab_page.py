"""Training Lab in AppTest: the data grid shows, Start trains (the job runs in this process), Stop stops."""
import time
from functools import partial

import apptest
from cnnviz.training import get_runner


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
    assert len(at.get("plotly_chart")) == 5  # samples, curves, confusion, timings, predictions
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
