"""Job ownership and one state per page, in AppTest: two sessions share the server's runner (as two students on
one server do). A link with another session's job id gives a notice and a working page of one's own — no view,
no Stop, no checkpoint of that job; a stale or garbage id gives a notice too; changing the data set after a
training never draws that training's results with the new data set."""
import time

import pytest

from tests.support import apptest
from cnnviz import ConfigError
from cnnviz.jobs.ids import JOB_ID
from cnnviz.jobs import get_runner
from cnnviz.ui.jobs import FOREIGN, GONE


def button(at, label):
    return next(b for b in at.button if b.label == label)


def texts(at):
    return [el.value for kind in ("info", "caption", "success", "error", "warning", "markdown") for el in at.get(kind)]


def test_a_link_to_another_sessions_job_gives_a_notice_and_no_control():
    runner = get_runner()
    a = apptest.open_page("training_lab")
    a.number_input(key="train_epochs").set_value(50).run()
    button(a, "Start").click().run()
    assert not a.exception, a.exception
    job = a.session_state["train_jobs"][-1]
    assert JOB_ID.fullmatch(job) and a.query_params["train_job"] in (job, [job])
    assert a.session_state["job_owner"] not in str(dict(a.query_params))     # the owner token is never in the URL
    try:
        b = apptest.open_page("training_lab", {"train_job": job})           # a classmate opens A's link
        assert FOREIGN in texts(b)
        assert b.session_state["train_jobs"] == [] and "train_job" not in b.query_params
        assert not button(b, "Start").disabled and button(b, "Stop").disabled   # a working page of B's own
        assert not b.get("download_button") and not any("Explore this model" == x.label for x in b.button)
        assert len(b.get("plotly_chart")) == 1                               # the sample grid: none of A's curves
        assert any("Press **Start**" in i.value for i in b.info)
        with pytest.raises(ConfigError):                                     # nor with B's token, by hand
            runner.stop(job, owner=b.session_state["job_owner"])
        with pytest.raises(ConfigError):
            runner.checkpoint(job, owner=b.session_state["job_owner"])
        button(b, "Start").click().run()                                     # B trains its own model
        assert not b.exception, b.exception
        mine = b.session_state["train_jobs"][-1]
        assert mine != job and FOREIGN not in texts(b)
        button(b, "Stop").click().run()
        assert not b.exception, b.exception
        assert runner.join(mine, timeout=30) and runner.poll(mine)[-1].reason == "stopped"
        time.sleep(0.5)
        assert runner.status(job).state in ("queued", "running")               # A's training goes on
        assert not any(getattr(e, "reason", None) == "stopped" for e in runner.poll(job))
    finally:
        button(a.run(), "Stop").click().run()                                # A, the owner, stops it
        assert not a.exception, a.exception
        assert runner.join(job, timeout=30)
    a.run()
    assert any("Stopped" in s.value for s in a.success)


def test_a_reload_in_the_owners_browser_reconnects_and_keeps_control(monkeypatch):
    """The owner's browser keeps the token in a same-site cookie (never in the URL): a new session of that browser
    (a reload, or another replica after a failover) reconnects from the link with Stop; other browsers do not."""
    import cnnviz.ui.jobs as jobs_ui
    runner = get_runner()
    a = apptest.open_page("training_lab")
    a.number_input(key="train_epochs").set_value(50).run()
    button(a, "Start").click().run()
    job, token = a.session_state["train_jobs"][-1], a.session_state["job_owner"]
    frames = [e for e in a.sidebar if getattr(e, "type", None) == "iframe"]  # the cookie writer
    assert len(frames) == 1 and f"cnnviz_owner={token};" in frames[0].proto.srcdoc
    assert "SameSite=Strict" in frames[0].proto.srcdoc
    try:
        monkeypatch.setattr(jobs_ui, "_cookie", lambda: token)              # the owner's browser, reloaded
        again = apptest.open_page("training_lab", {"train_job": job})
        assert again.session_state["train_jobs"] == [job] and not again.session_state["train_notice"]
        assert button(again, "Start").disabled and not button(again, "Stop").disabled
        assert not [e for e in again.sidebar if getattr(e, "type", None) == "iframe"]  # the cookie is there
        monkeypatch.setattr(jobs_ui, "_cookie", lambda: None)               # a classmate's browser
        other = apptest.open_page("training_lab", {"train_job": job})
        assert FOREIGN in texts(other) and other.session_state["train_jobs"] == []
        button(again, "Stop").click().run()                                  # the owner stops it from the reload
        assert not again.exception, again.exception
        assert runner.join(job, timeout=30) and runner.poll(job)[-1].reason == "stopped"
    finally:
        if runner.status(job).state != "done":
            runner.stop(job, owner=token)
            runner.join(job, timeout=30)


@pytest.mark.parametrize("value", ["job-" + "0" * 32, "job-1", "<script>alert(1)</script>", "x" * 10_000,
                                   "**bold** [x](https://example.com)", "../../etc/passwd"],
                         ids=["unknown", "short", "script", "10k", "markdown", "path"])
def test_a_stale_or_garbage_job_link_gives_a_notice_and_a_working_page(value):
    at = apptest.open_page("training_lab", {"train_job": value})
    assert GONE in texts(at)
    assert not button(at, "Start").disabled and button(at, "Stop").disabled
    assert at.session_state["train_jobs"] == [] and "train_job" not in at.query_params
    assert not any(value in t for t in texts(at))                            # the value is never echoed
    assert any("Press **Start**" in i.value for i in at.info)


def test_changing_the_data_during_and_after_a_training_draws_its_results_with_its_own_data():
    """Digits (10 classes) trains; the data radio moves to shapes (3 classes) while it runs: its confusion matrix
    and predictions are still drawn with the digits (before: IndexError, a digit class looked up among 3 shapes)."""
    at = apptest.open_page("training_lab")
    at.number_input(key="train_epochs").set_value(2).run()
    button(at, "Start").click().run()
    job = at.session_state["train_jobs"][-1]
    at.radio(key="train_data").set_value("shapes").run()                       # while it runs
    assert not at.exception, at.exception
    assert get_runner().join(job, timeout=120)
    at.run()                                                                 # its epoch-2 figures, drawn now
    assert not at.exception, at.exception
    assert any("from the training on digits" in c.value for c in at.caption)
    assert len(at.get("plotly_chart")) == 8  # samples, curves, 3 epoch figures, first layer live (2), errors to open
    heat = next(f for f in apptest.figures(at) if f["data"][0]["type"] == "heatmap")
    z = heat["data"][0]["z"]                                                 # plotly may write it as typed bytes
    assert (z["shape"] if isinstance(z, dict) else f"{len(z)}, {len(z[0])}") == "10, 10"  # the digits' confusion
    keys = [c.key for c in at.get("plotly_chart")]                           # the live panel first, then the samples
    grid = apptest.figures(at)[keys.index("train_predictions")]
    labels = [a["text"].split(" ")[0] for a in grid["layout"]["annotations"]]
    assert labels and set(labels) <= set("0123456789")                      # digits' predictions, not shapes
    at.radio(key="train_data").set_value("own ZIP").run()                    # no data set at all yet
    assert not at.exception, at.exception
    assert any("from the training on digits" in c.value for c in at.caption) and len(at.get("plotly_chart")) == 7
    at.radio(key="train_data").set_value("digits").run()
    assert not at.exception and not any("from the training on" in c.value for c in at.caption)
    assert not button(at, "Start").disabled and not button(at, "Resume").disabled
