"""The class's runs and drawings in the live-class engine: kept per student and bounded, read back by the teacher
key only, every value checked (a forged run, a drawing of the wrong size or dtype are refused naming the field)."""
import numpy as np
import pytest

from cnnviz.classroom.live import RUN_SWITCHES, JoinLimiter, LiveClasses, SQLiteStore
from cnnviz.classroom.live.session import NOT_STUDENT, NOT_TEACHER
from cnnviz.errors import ConfigError
from cnnviz.limits import CLASS_CURVE_POINTS
from cnnviz.training.recipe import SWITCHES

RECIPE = {"switches": {"flip": False, "crop": True, "ema": True}, "model": "TinyVGG", "optimizer": "adamw",
          "schedule": "onecycle", "epochs": 3, "lr": 0.02}


class Clock:
    t = 1_000.0

    def __call__(self):
        return self.t


@pytest.fixture
def live(tmp_path):
    clock = Clock()
    lc = LiveClasses(SQLiteStore(tmp_path / "c.sqlite3", clock=clock), JoinLimiter(clock=clock), clock=clock)
    lc.max_runs, lc.max_drawings = 2, 3
    return lc, clock


def test_the_switch_names_are_the_training_labs():
    assert RUN_SWITCHES == tuple(name for name, _, _ in SWITCHES)


def test_runs_are_kept_per_student_best_first_and_bounded(live):
    lc, _ = live
    s = lc.start_class()
    ana, bo = lc.join(s.code, "Ana", "a"), lc.join(s.code, "Bo", "b")
    assert lc.record_run(s.code, ana.token, "job1", RECIPE, 0.8, 1234, 12.5, [0.5, 0.7, 0.8])
    assert lc.record_run(s.code, ana.token, "job1", RECIPE, 0.85, 1234, 12.5, [0.5, 0.7, 0.85])  # replaced
    assert lc.record_run(s.code, bo.token, "job9", {**RECIPE, "switches": {}}, 0.9, 999, 3.0, [0.9])
    assert lc.record_run(s.code, ana.token, "job2", RECIPE, 0.1, 5, 1.0, [0.1])
    assert not lc.record_run(s.code, ana.token, "job3", RECIPE, 0.2, 5, 1.0, [0.2])  # max_runs = 2
    runs = lc.class_runs(s.code, s.key)
    assert [(r.nickname, r.run, r.val_acc) for r in runs] == [("Bo", "job9", 0.9), ("Ana", "job1", 0.85),
                                                             ("Ana", "job2", 0.1)]
    assert runs[1].switches == ("crop", "ema") and runs[1].curve == (0.5, 0.7, 0.85) and runs[1].params == 1234
    assert runs[0].recipe == "TinyVGG · adamw · onecycle · lr 0.02 · no switches"


@pytest.mark.parametrize("change, field", [
    (dict(val_acc=1.5), "val_acc"), (dict(val_acc=float("nan")), "val_acc"), (dict(val_acc="0.9"), "val_acc"),
    (dict(params=-1), "params"), (dict(params=2.5), "params"), (dict(params=10 ** 12), "params"),
    (dict(seconds=float("inf")), "seconds"), (dict(curve=[0.5] * (CLASS_CURVE_POINTS + 1)), "curve"),
    (dict(curve=[]), "curve"), (dict(curve=[0.5, 7.0]), "curve"), (dict(curve="0.5"), "curve"),
    (dict(recipe={**RECIPE, "switches": {"rm -rf": True}}), "switches"),
    (dict(recipe={**RECIPE, "switches": {"ema": "yes"}}), "switches"),
    (dict(recipe={**RECIPE, "model": "<b>x</b>"}), "model"), (dict(recipe={**RECIPE, "model": "A" * 40}), "model"),
    (dict(recipe={**RECIPE, "epochs": 10 ** 6}), "epochs"), (dict(recipe={**RECIPE, "lr": -1}), "lr"),
    (dict(run_id="../../etc"), "run"), (dict(recipe="nope"), "recipe")])
def test_a_forged_run_is_refused_naming_the_field(live, change, field):
    lc, _ = live
    s = lc.start_class()
    ana = lc.join(s.code, "Ana", "a")
    args = dict(run_id="job1", recipe=RECIPE, val_acc=0.8, params=100, seconds=1.0, curve=[0.8]) | change
    with pytest.raises(ConfigError) as err:
        lc.record_run(s.code, ana.token, **args)
    assert err.value.field == field
    assert lc.class_runs(s.code, s.key) == ()


def _digit(v: int) -> np.ndarray:
    a = np.zeros((28, 28), np.uint8)
    a[4:24, 10 + v % 5] = 200 + v
    return a


def test_drawings_newest_first_with_the_confusion_of_the_labelled_ones(live):
    lc, clock = live
    s = lc.start_class()
    ana, bo = lc.join(s.code, "Ana", "a"), lc.join(s.code, "Bo", "b")
    for t, (who, slot, pred, label) in enumerate([(ana, "d1", 7, 1), (ana, "d2", 3, 3), (bo, "d1", 3, 3),
                                                  (bo, "d2", 5, None), (ana, "d1", 1, 1)]):  # d1 redrawn
        clock.t = 1_000.0 + t
        assert lc.share_drawing(s.code, who.token, slot, _digit(pred), pred, label)
    clock.t = 1_010.0
    assert lc.share_drawing(s.code, ana.token, "d3", _digit(0), 0)      # Ana's third drawing
    assert not lc.share_drawing(s.code, ana.token, "d4", _digit(9), 9)  # max_drawings = 3: a fourth is refused
    v = lc.class_drawings(s.code, s.key)
    assert [(d.nickname, d.predicted, d.label) for d in v.drawings] == [
        ("Ana", 0, None), ("Ana", 1, 1), ("Bo", 5, None), ("Bo", 3, 3), ("Ana", 3, 3)]
    assert np.array_equal(v.drawings[1].pixels, _digit(1)) and v.drawings[1].pixels.dtype == np.uint8
    expected = np.zeros((10, 10), int)
    expected[1, 1], expected[3, 3] = 1, 2
    assert np.array_equal(np.array(v.confusion), expected) and (v.labelled, v.agreed) == (3, 3)


@pytest.mark.parametrize("pixels", [np.zeros((28, 28), np.float32), np.zeros((16, 16), np.uint8),
                                    np.zeros((28, 28, 3), np.uint8), np.zeros((280, 280), np.uint8),
                                    [[0] * 28] * 28, "AAAA"])
def test_a_drawing_of_the_wrong_size_or_dtype_is_refused(live, pixels):
    lc, _ = live
    s = lc.start_class()
    ana = lc.join(s.code, "Ana", "a")
    with pytest.raises(ConfigError) as err:
        lc.share_drawing(s.code, ana.token, "d1", pixels, 3)
    assert err.value.field == "drawing" and "28×28 uint8" in str(err.value)
    for pred, label, field in ((10, None, "prediction"), (3, -1, "label"), (3, True, "label")):
        with pytest.raises(ConfigError) as err:
            lc.share_drawing(s.code, ana.token, "d1", _digit(3), pred, label)
        assert err.value.field == field
    assert lc.class_drawings(s.code, s.key).drawings == ()


def test_only_the_teacher_key_reads_runs_and_drawings(live):
    lc, _ = live
    s = lc.start_class()
    ana = lc.join(s.code, "Ana", "a")
    lc.record_run(s.code, ana.token, "job1", RECIPE, 0.8, 100, 1.0, [0.8])
    lc.share_drawing(s.code, ana.token, "d1", _digit(3), 3, 3)
    other = lc.start_class()
    for key in (ana.token, other.key, "", "A" * 32, None, "x" * 10_000):
        for read in (lc.class_runs, lc.class_drawings):
            with pytest.raises(ConfigError) as err:
                read(s.code, key)
            assert NOT_TEACHER in str(err.value)
    with pytest.raises(ConfigError) as err:  # a student of another class (or none) records nothing here
        lc.record_run(s.code, "B" * 32, "job1", RECIPE, 0.8, 100, 1.0, [0.8])
    assert NOT_STUDENT in str(err.value)
    lc.end_class(s.code, s.key)
    assert lc.store.items(s.code, "run") == {} and lc.store.items(s.code, "drawing") == {}
