"""Run history (cnnviz.training.runs) and the comparison's pure functions (cnnviz.training.compare): an owner keeps
their newest 12 trainings, bounded in bytes, across runners that share the job storage (a restarted server);
a classmate sees and deletes none of them; the legend names exactly the differing settings; a one-change copy
equals its source but for that field."""
from dataclasses import dataclass

import pytest

from cnnviz import ConfigError
from cnnviz.figures.run_compare import compare_figure
from cnnviz.jobs import JobLimiter, ThreadRunner
from cnnviz.jobs.events import Evaluation, Finished, Progress
from cnnviz.jobs.ids import new_owner
from cnnviz.training.compare import CHANGES, legend_labels, one_change
from cnnviz.training.recipe import TrainConfig, from_switches
from cnnviz.training.runs import MAX_POINTS, MAX_RUNS, delete_run, nbytes, run_from_events, runs_of, thin


@dataclass(frozen=True)
class FakeTraining:
    """A training's events in a millisecond: 300 reports and 50 epochs, val accuracy = lr (to tell runs apart)."""
    lr: float = 0.01
    augment_flip: bool = False
    epochs: int = 50
    title = "training"

    def run(self, emit, stop, keep, device=None):
        for s in range(300):
            emit(Progress(s, s / 6, 1.0 / (s + 1), s / 300, self.lr, 1000.0, 0.0))
        for e in range(1, self.epochs + 1):
            emit(Evaluation(6 * e, e, 0.5, 0.9, 0.4, self.lr, [[1] * 10] * 10, list(range(64)),
                            {"forward": 0.01}))
        emit(Finished(300, self.epochs, "done", self.lr))


def submit(runner, owner, **kw):
    job = runner.submit(FakeTraining(**kw), owner=owner)
    assert runner.join(job, timeout=10)
    return job


def test_an_owner_keeps_the_newest_12_runs_bounded_and_a_restart_finds_them(tmp_path):
    runner, me, other = ThreadRunner(JobLimiter(1), storage=tmp_path), new_owner(), new_owner()
    jobs = [submit(runner, me, lr=(i + 1) / 100) for i in range(MAX_RUNS + 1)]
    submit(runner, other, lr=0.5)
    runs = runs_of(runner, me)
    assert [r.job for r in runs] == jobs[1:]                        # the 13th evicted the oldest ...
    with pytest.raises(ConfigError):
        runner.status(jobs[0])                                     # ... from the runner and its storage
    assert not (tmp_path / jobs[0]).exists() and (tmp_path / jobs[1]).exists()
    r = runs[-1]
    assert r.state == "finished" and r.val_acc == (0.13,) * 50 and r.epoch == tuple(range(1, 51))
    assert len(r.steps_x) == MAX_POINTS and r.steps_x[0] == 0 and r.steps_x[-1] == 299 / 6
    assert r.recipe == {"lr": 0.13, "augment_flip": False, "epochs": 50} and r.seconds == pytest.approx(0.5)
    total = sum(nbytes(x) for x in runs)
    assert total < 12 * 12_000, total                              # 12 runs × their curves: < 144 KB
    restarted = ThreadRunner(JobLimiter(1), storage=tmp_path)        # a new process reads the same storage
    again = runs_of(restarted, me)
    assert [x.job for x in again] == jobs[1:] and again[-1].val_acc == r.val_acc
    assert [x.recipe["lr"] for x in runs_of(restarted, other)] == [0.5]


def test_a_classmate_neither_sees_nor_deletes_my_runs(tmp_path):
    runner, me, other = ThreadRunner(JobLimiter(1), storage=tmp_path), new_owner(), new_owner()
    job = submit(runner, me)
    assert runs_of(runner, other) == [] and runs_of(runner, None) == []
    with pytest.raises(ConfigError):
        delete_run(runner, job, other)
    assert [r.job for r in runs_of(runner, me)] == [job]
    delete_run(runner, job, me)
    assert runs_of(runner, me) == [] and not (tmp_path / job).exists()


def test_thin_keeps_ends_and_at_most_k():
    assert thin(5, 10) == [0, 1, 2, 3, 4]
    idx = thin(1000, 7)
    assert idx == [0, 166, 333, 500, 666, 832, 999]  # i·999/6 rounded half to even


def test_run_states_from_events():
    ev = [Progress(1, 0.5, 1.0, 0.5, 0.1, 10.0, 1.0)]
    assert run_from_events("j", {}, ev, state="running").state == "running"
    assert run_from_events("j", {}, ev + [Finished(2, 1, "stopped", 0.0)]).state == "stopped"


def recipe(**kw):
    return from_switches(8, {"crop": True, "ls": True, **kw.pop("sw", {})}, False, dataset="digits",
                         model="TinyVGG", epochs=8, lr=kw.pop("lr", 0.02), optimizer="adamw",
                         schedule="onecycle").to_dict()


def test_the_legend_names_exactly_the_differing_settings():
    base, flip_noise = recipe(), recipe(sw={"flip": True, "noise": True}, lr=0.05)
    assert legend_labels([base, flip_noise]) == ["no flip, no noise, lr 0.02", "flip + noise, lr 0.05"]
    assert legend_labels([base, recipe(sw={"flip": True})]) == ["no flip", "flip"]
    no_crop = {**base, "augment_crop": 0}
    assert legend_labels([base, no_crop, {**base, "optimizer": "sgd"}]) == [
        "crop, AdamW", "no crop, AdamW", "crop, SGD"]
    assert legend_labels([base, {**base, "augment_noise": 0.05}, {**base, "augment_noise": 0.1}]) == [
        "no noise", "noise 0.05", "noise 0.1"]
    assert legend_labels([base, base], ["Run 1", "Run 2"]) == ["same recipe (Run 1)", "same recipe (Run 2)"]


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_one_change_copy_equals_its_source_but_for_that_field(change):
    src = recipe()
    value = {"lr": 0.05, "optimizer": "sgd", "schedule": "cosine", "model": "SmallResNet", "epochs": 3,
             "wd": 0.01}.get(change)
    new = one_change(src, change, value, size=8)
    field = CHANGES[change][1]
    assert [k for k in src if src[k] != new[k]] == [field] and set(new) == set(src)
    assert new["seed"] == src["seed"]
    back = TrainConfig.from_dict(new).to_dict()                   # a valid recipe, the page's checks passed
    assert back == new
    if change in ("flip", "noise", "ema"):                        # off by default: on with the page's value
        assert new[field] == {"flip": True, "noise": 0.05, "ema": True}[change]
    if change in ("crop", "ls"):                                  # on by default: off
        assert not new[field]


def test_a_change_that_changes_nothing_or_is_invalid_is_refused():
    with pytest.raises(ConfigError, match="lr"):
        one_change(recipe(), "lr", 0.02)
    with pytest.raises(ConfigError, match="lr"):
        one_change(recipe(), "lr", -1.0)
    with pytest.raises(ConfigError, match="change"):
        one_change(recipe(), "seed", 3)


def test_the_figure_has_one_coloured_line_per_run_and_metric():
    runs = [run_from_events(f"j{i}", recipe(lr=0.01 * (i + 1)),
                            [Evaluation(1, 1, 0.5, 0.8, 0.4, 0.9, [], [], {})]) for i in range(3)]
    labels = legend_labels([r.recipe for r in runs])
    fig = compare_figure(runs, labels, train=True)
    assert [t.name for t in fig.data if t.showlegend is not False] == labels == ["lr 0.01", "lr 0.02", "lr 0.03"]
    assert len(fig.data) == 12 and len({t.line.color for t in fig.data}) == 3
