"""The Compression page in AppTest: every number it shows is the engine's on the real validation set."""
import time
from functools import partial

import pytest

from tests.support import apptest
from cnnviz.compression import accuracy, model_size_bytes, prune_model, quantize_model, sparsity_per_layer
from cnnviz.compression.distill import FitEvent, digits_model
from cnnviz.jobs import Finished, get_local_runner


open_page = partial(apptest.open_page, "compression", via_app=True)
DISTILL = {"tab": "Knowledge distillation"}  # lazy tabs: only the open tab's elements are in the tree


open_tab = partial(apptest.open_tab, prefix="compress")


def metrics(at, label):
    return [m.value for m in at.metric if m.label == label]


@pytest.fixture(scope="module")
def page():
    return open_page()


@pytest.fixture(scope="module")
def trained():
    ds, model, _ = digits_model()
    return ds, model


def test_quantization_numbers_match_engine(page, trained):
    ds, model = trained
    at = open_tab(page, "Quantization")
    for bits in (4, 8):
        at.slider(key="compress_bits").set_value(bits).run()
        q = quantize_model(model, bits)
        assert metrics(at, "Validation accuracy")[0] == f"{accuracy(q, ds.x_val, ds.y_val):.1%}"
        assert metrics(at, "Model size")[0] == f"{model_size_bytes(q, bits):,} B"
    at.toggle(key="compress_perch").set_value(True).run()
    assert not at.exception
    q = quantize_model(model, 8, per_channel=True)
    assert metrics(at, "Model size")[0] == f"{model_size_bytes(q, 8, per_channel=True):,} B"
    assert at.slider(key="compress_ch").max == 7  # one grid per output channel of features.0


def test_layer_select_shows_readable_names_with_paths_in_help(page, trained):
    """A student reads "conv 1", not "features.0"; the module path is still one hover away."""
    from cnnviz.compression import prunable_layers
    from cnnviz.inside.names import layer_titles
    _, model = trained
    sel = open_tab(page, "Quantization").selectbox(key="compress_layer")
    paths = [n for n, _ in prunable_layers(model)]
    assert sel.options == [layer_titles(model)[n] for n in paths] and sel.options[0] == "conv 1"
    assert not any("." in o for o in sel.options) and all(p in sel.help for p in paths)


def test_pruning_numbers_match_engine(page, trained):
    ds, model = trained
    at = open_tab(page, "Pruning")
    at.slider(key="compress_tau").set_value(0.0).run()
    assert metrics(at, "Sparsity")[0] == "0.0%"
    at.slider(key="compress_tau").set_value(0.2).run()
    rows = sparsity_per_layer(prune_model(model, 0.2))
    assert metrics(at, "Sparsity")[0] == f"{sum(r.zeros for r in rows) / sum(r.total for r in rows):.1%}"
    at.toggle(key="compress_struct").set_value(True).run()
    p = prune_model(model, 0.2, structured=True)
    assert metrics(at, "Validation accuracy")[0] == f"{accuracy(p, ds.x_val, ds.y_val):.1%}"


def test_distillation_runs_on_the_training_runner_and_reports(page):
    """The job goes to the process's training runner (a child process behind the limiter), not a page thread;
    the page shows exactly the runner's events."""
    at = open_tab(page, "Knowledge distillation")
    at.slider(key="compress_epochs").set_value(2).run()
    next(b for b in at.button if b.label == "Start").click().run()
    assert not at.exception, at.exception
    job, epochs = at.session_state["compress_job"]
    runner = get_local_runner()
    assert epochs == 2 and runner.join(job, timeout=240)
    at.run()
    events = runner.poll(job)
    fits = [e for e in events if isinstance(e, FitEvent)]
    assert sorted((e.run, e.epoch) for e in fits) == [("distilled", 1), ("distilled", 2),
                                                     ("labels only", 1), ("labels only", 2)]
    assert isinstance(events[-1], Finished) and events[-1].reason == "done"
    assert events[-1].best_val_acc == max(e.val_accuracy for e in fits if e.run == "distilled")
    assert any("2 of 2 epochs — done" in c.value for c in at.caption)
    shown_acc = [t["y"] for t in apptest.figures(at)[-1]["data"] if "distilled" in t.get("name", "")]
    assert shown_acc and shown_acc[0][-1] == pytest.approx(fits[-2].val_accuracy, abs=1e-6)


def test_stop_is_enabled_only_while_this_sessions_distillation_runs():
    at = open_page(DISTILL)
    stop = lambda: next(b for b in at.button if b.label == "Stop")  # noqa: E731
    assert stop().disabled
    at.slider(key="compress_epochs").set_value(20).run()
    next(b for b in at.button if b.label == "Start").click().run()
    job, _ = at.session_state["compress_job"]
    assert not stop().disabled
    stop().click().run()
    assert not at.exception and get_local_runner().join(job, timeout=30)
    at.run()
    assert stop().disabled


def test_few_labels_and_unlabelled_controls_reach_the_job_and_the_formula():
    at = open_page({"lpc": "10", "unl": "0", **DISTILL})
    assert at.selectbox(key="compress_lpc").value == "10" and at.toggle(key="compress_unl").value is False
    assert any("100 labelled digits" in x.value for x in at.latex)
    at.toggle(key="compress_unl").set_value(True).run()
    assert any("teacher only" in x.value for x in at.latex)
    next(b for b in at.button if b.label == "Start").click().run()
    job, _ = at.session_state["compress_job"]
    runner = get_local_runner()
    cfg = runner._jobs[job].config  # what the runner was given
    assert cfg.labels_per_class == 10 and cfg.unlabelled is True
    runner.stop(job, owner=at.session_state["job_owner"])
    runner.join(job, timeout=30)
    at.selectbox(key="compress_lpc").set_value("all").run()
    assert at.toggle(key="compress_unl").disabled
    assert not any("labelled" in x.value for x in at.latex)


def test_default_is_the_few_labels_setting():
    at = open_page(DISTILL)
    assert at.selectbox(key="compress_lpc").value == "5" and at.toggle(key="compress_unl").value is True


def test_link_restores_bits():
    at = open_page({"bits": "2", "sym": "0"})
    assert at.slider(key="compress_bits").value == 2 and at.toggle(key="compress_sym").value is False


def test_distillation_job_forgotten_by_a_restarted_server_is_dropped_quietly():
    at = open_page(DISTILL)
    at.session_state["compress_job"] = ("job-999999", 8)  # what a session holds after the server restarted
    at.run()
    assert not at.exception and "compress_job" not in at.session_state
    assert next(b for b in at.button if b.label == "Stop").disabled  # nothing of this session runs
    at.slider(key="compress_epochs").set_value(2).run()
    at.session_state["compress_job"] = ("job-999999", 8)
    next(b for b in at.button if b.label == "Start").click().run()  # Start first stops the old job: unknown
    assert not at.exception and not at.error
    job, _ = at.session_state["compress_job"]
    assert job != "job-999999" and get_local_runner().join(job, timeout=240)


def test_a_distillation_waits_for_its_browsers_training_and_belongs_to_its_session():
    """One job per browser, of any kind: while this browser trains, the distillation's Start says where the
    training is; once it has ended, the distillation starts. Another session holding the distillation's id (it is
    never in a link; here put into its state by hand) cannot stop it: its Stop only forgets the id."""
    from cnnviz.training import TrainConfig
    runner = get_local_runner()
    a = open_page(DISTILL)
    token = "A" * 43                                                          # this browser's owner token
    a.session_state["job_owner"] = token
    training = runner.submit(TrainConfig(dataset="digits", epochs=300, batch_size=64), owner=token)
    job = None
    try:
        a.slider(key="compress_epochs").set_value(20).run()
        next(b for b in a.button if b.label == "Start").click().run()
        assert not a.exception and "compress_job" not in a.session_state
        assert any("already has a training" in e.value for e in a.error), [e.value for e in a.error]
        runner.stop(training, owner=token)
        assert runner.join(training, timeout=30)
        next(b for b in a.button if b.label == "Start").click().run()
        assert not a.exception and not a.error, a.error
        job, _ = a.session_state["compress_job"]
        assert runner.status(job).state in ("queued", "running")
        b = open_page(DISTILL)
        b.session_state["compress_job"] = (job, 20)
        b.run()  # the id is of a job that runs: its Stop is enabled
        next(x for x in b.button if x.label == "Stop").click().run()
        assert not b.exception and "compress_job" not in b.session_state
        time.sleep(0.5)
        assert runner.status(job).state in ("queued", "running")              # untouched
        assert not any(isinstance(e, Finished) for e in runner.poll(job))
        next(x for x in a.button if x.label == "Stop").click().run()          # its own session stops it
        assert not a.exception and runner.join(job, timeout=30)
        assert runner.poll(job)[-1].reason in ("stopped", "done")
    finally:
        runner.stop(training, owner=token)
        runner.join(training, timeout=30)
        if job is not None:
            runner.stop(job, owner=token)
            runner.join(job, timeout=30)
