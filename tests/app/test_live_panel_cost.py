"""What a Training Lab live-panel poll costs the server (issue 30: ten classmates training together must not slow
thirty browsing students): the curves are built in one go from numpy arrays and thinned to a few hundred points,
with the same look and data as training.curves_figure; a poll that brought no new report reuses the figure; a big
class group's pages (the live panel and the first layer's) poll every 3 s instead of every 2 s and 1.5 s, a
small group's every 2 s, a training alone's every 1.5 s, and the group line stays honest at the slower pace; when
a poll finds the job started, the fragments re-pace themselves without a full run of the page."""
import base64
import json
from types import SimpleNamespace

import numpy as np
import plotly.io
from streamlit.testing.v1 import AppTest

from cnnviz.figures import training
from cnnviz.figures.learning_live import (CURVE_POINTS, epoch_figures, kernels_figure, live_curves_figure, maps_figure,
                                         thin)
from cnnviz.figures.prebuilt import Prebuilt
from cnnviz.jobs.events import STAGES, Evaluation, Progress
from cnnviz.training.history import History
from cnnviz.ui import jobs_status, jobs_training
from tests.support.fake_runner import FakeRunner, group_status


def _progress(i: int, per_epoch: int = 10, device: str = "CPU, with 9 classmates") -> Progress:
    rng = np.random.default_rng(i)
    return Progress(step=8 * (i + 1), epoch=(i + 1) / per_epoch, train_loss=float(2 / (1 + i) + rng.random() / 10),
                    train_acc=float(min(1, i / 500 + rng.random() / 20)), lr=float(0.01 * (1 - i / 1000)),
                    samples_per_s=900.0, eta_s=30.0, device=device)


def _eval(epoch: int) -> Evaluation:
    return Evaluation(step=80 * epoch, epoch=epoch, train_loss=1 / epoch, train_acc=1 - 0.5 / epoch,
                      val_loss=1.1 / epoch, val_acc=1 - 0.6 / epoch, confusion=[[3, 1], [0, 4]], predictions=[0, 1],
                      timings={"forward": 0.1})


def _history(n: int) -> History:
    return History(progress=[_progress(i) for i in range(n)], evals=[_eval(e) for e in range(1, n // 10 + 1)])


def _plain(fig) -> dict:
    """A figure as the browser gets it, base64 typed arrays decoded to lists (plotly writes numpy that way)."""
    def arr(v):
        return np.frombuffer(base64.b64decode(v["bdata"]), v["dtype"]).tolist() if isinstance(v, dict) and \
            "bdata" in v else v
    spec = json.loads(plotly.io.to_json(fig))
    return dict(layout=spec["layout"], data=[{k: arr(v) for k, v in t.items()} for t in spec["data"]])


def test_the_live_curves_are_the_curves_figure_built_in_one_go():
    h = _history(60)
    assert _plain(live_curves_figure(h, most=10 ** 6)) == _plain(training.curves_figure(h))


def test_long_curves_are_thinned_to_evenly_spaced_points_with_the_latest_and_every_validation_point():
    assert thin(5, 200).tolist() == [0, 1, 2, 3, 4]
    assert thin(11, 3).tolist() == [0, 5, 10]
    h = _history(950)
    spec = _plain(live_curves_figure(h))
    train_loss, val_loss, _, val_acc, lr = spec["data"]
    assert len(train_loss["x"]) == CURVE_POINTS and len(lr["y"]) == CURVE_POINTS
    keep = thin(950)
    assert train_loss["x"] == [h.progress[i].epoch for i in keep] and train_loss["x"][-1] == h.progress[-1].epoch
    assert train_loss["y"] == [h.progress[i].train_loss for i in keep]
    assert np.all(np.diff(keep) >= 950 // CURVE_POINTS) and np.all(np.diff(keep) <= -(-949 // (CURVE_POINTS - 1)))
    assert val_loss["y"] == [e.val_loss for e in h.evals] and len(val_acc["x"]) == 95   # every epoch's point


def _runner(job, classmates, events) -> FakeRunner:
    return FakeRunner(group_status("running", classmates=classmates), events, job)


def _panels():
    """The live panel and the first layer's panel, each fragment's ``run_every`` recorded (AppTest copies this
    function's source)."""
    import streamlit as st

    from cnnviz.ui import jobs as jobs_ui
    from cnnviz.ui import learning_live
    runner = st.session_state["fake_runner"]
    st.session_state.setdefault("train_jobs", [runner.job])
    st.session_state["runs"] = st.session_state.get("runs", 0) + 1  # full runs of the page
    real, paces = st.fragment, []

    def spy(func=None, *, run_every=None):
        paces.append(run_every)
        return real(func, run_every=run_every) if func is not None else (lambda f: real(f, run_every=run_every))
    st.fragment = spy
    try:
        jobs_ui.training_panel(runner, None, 8, active=True)
        learning_live.panel(runner, True)
    finally:
        st.fragment = real
    st.session_state["paces"] = paces


def _show(runner) -> AppTest:
    at = AppTest.from_function(_panels, default_timeout=60)
    at.session_state["fake_runner"] = runner
    at.run()
    assert not at.exception, at.exception
    return at


def test_a_poll_that_brought_no_new_report_reuses_the_curves(monkeypatch):
    built = []

    def counted(h, *a, **k):
        built.append(len(h.progress))
        return live_curves_figure(h, *a, **k)
    monkeypatch.setattr(jobs_training, "live_curves_figure", counted)
    runner = _runner("c" * 32, 9, [_progress(i) for i in range(30)])
    at = _show(runner)
    at.run()  # a poll with nothing new
    assert built == [30] and not at.exception
    runner.events.append(_progress(30))
    at.run()  # a new report: one build, with it
    assert built == [30, 31]
    assert [m.value for m in at.metric if m.label == "Epoch"] == ["3.1 / 8"]


def test_a_big_class_group_polls_slower_and_its_line_stays_honest():
    pace = jobs_status.poll_every
    assert pace(SimpleNamespace(state="running", classmates=jobs_status.BIG_GROUP), False) == 3.0
    assert pace(SimpleNamespace(state="running", classmates=jobs_status.BIG_GROUP - 1), False) == 2.0
    assert pace(SimpleNamespace(state="running", classmates=9), True) == 0.5  # until its first event: as before
    for mates, paces in ((9, [3.0, 3.0]), (2, [2.0, 2.0]), (0, [1.5, 1.5])):
        at = _show(_runner(f"{mates:x}" * 32, mates, [_progress(i, device="CPU") for i in range(12)]))
        assert at.session_state["paces"] == paces, mates  # the live panel's, then the first layer's
        line = [i.value for i in at.info if "classmate" in i.value]
        assert line == ([f"Training together with {mates} classmates · about 30 s left"] if mates else [])


class MovingRunner(FakeRunner):
    """Its status moves on after the page declared its fragments: the first call of each panel (its declaration)
    sees ``before``, the next (the fragment's poll) ``after``: what a poll sees when the group has just started."""

    def __init__(self, job, before, after, events):
        super().__init__(before, events, job)
        self.seq, self.calls = [before, after, before, after], 0

    def status(self, job):
        self.calls += 1
        return self.seq[min(self.calls, len(self.seq)) - 1]


def test_a_poll_that_finds_the_group_started_repaces_its_fragment_without_a_full_run(monkeypatch):
    from cnnviz.ui import learning_live
    sent = []

    def spy(every, real=jobs_status.repace):
        sent.append(every)
        real(every)  # the real message, in a real script run: must not fail
    monkeypatch.setattr(jobs_status, "repace", spy)  # both fragments re-pace through jobs_status.keep_pace
    gathering, running = group_status("queued", classmates=9, running=0), group_status("running", classmates=9)
    at = _show(MovingRunner("d" * 32, gathering, running, [_progress(i) for i in range(5)]))
    assert at.session_state["paces"] == [jobs_status.GATHER_POLL_S, learning_live.POLL_S]  # declared while gathering
    assert sent == [3.0, 3.0]  # the live panel's poll, then the first layer's: the big group's pace
    assert at.session_state["runs"] == 1  # no full run of the page for it (st.rerun(scope="app") used to)
    assert at.session_state["train_poll_s"] == at.session_state["train_live_poll_s"] == 3.0
    assert "Training together with 9 classmates · about 30 s left" in [i.value for i in at.info]


def _same(fast, checked) -> bool:
    """The same JSON for the browser (NaN gaps included): a prebuilt figure and plotly's validated one."""
    def gaps(v):  # NaN != NaN: compare the gaps as a marker
        if isinstance(v, dict):
            return {k: gaps(x) for k, x in v.items()}
        if isinstance(v, list):
            return [gaps(x) for x in v]
        return "NaN" if isinstance(v, float) and v != v else v
    assert isinstance(fast, Prebuilt) and not isinstance(checked, Prebuilt)
    return gaps(_plain(fast)) == gaps(_plain(checked))


def test_the_prebuilt_live_figures_are_the_validated_figures():
    """The per-epoch figures (confusion, timings, predictions) and the first layer's kernels and maps, built into
    a skeleton plotly validated once, give the JSON of the validated builders: on grey 8×8 digits with 10 classes
    and on 3-channel shapes, with stages missing from the timings and wrong predictions in the grid."""
    from cnnviz.io.data import load_dataset
    rng = np.random.default_rng(3)
    for name in ("digits", "shapes"):
        ds = load_dataset(name)
        k = len(ds.classes)
        evals = [Evaluation(step=9 * e, epoch=e, train_loss=1.0, train_acc=0.5, val_loss=1.0, val_acc=0.5,
                            confusion=rng.integers(0, 9, (k, k)).tolist(), predictions=rng.integers(0, k, 32).tolist(),
                            timings={s: float(rng.random()) for s in STAGES[:3]}) for e in (1, 2, 3)]
        confusion, timings, predictions = epoch_figures(evals, ds)
        assert _same(confusion, training.confusion_figure(evals[-1].confusion, ds.classes)), name
        assert _same(timings, training.timings_figure(evals)), name
        assert _same(predictions, training.prediction_grid(ds.x_val.numpy(), ds.y_val.numpy(), evals[-1].predictions,
                                                           ds.classes)), name
        z = np.reshape(_plain(confusion)["data"][0]["z"], (k, k))
        assert z.tolist() == evals[-1].confusion  # and it is this epoch's matrix
    for c_in in (1, 3):
        snap = SimpleNamespace(kernels=rng.normal(size=(12, c_in, 3, 3)).astype(np.float32), layer="conv1", step=7,
                               maps=rng.normal(size=(12, 5, 5)).astype(np.float32), image=4)
        assert _same(kernels_figure(snap, prebuilt=True), kernels_figure(snap))
        assert _same(maps_figure(snap, prebuilt=True), maps_figure(snap))
    assert _same(live_curves_figure(_history(30)), training.curves_figure(_history(30)))
