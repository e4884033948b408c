"""Recipe pieces against hand-computed values: schedules, crop/flip, balanced sampling, EMA, validation."""
import pytest
import torch

from cnnviz import ConfigError
from cnnviz.training.steps import EMA, augment, epoch_order, lr_at, random_crop
from cnnviz.training.recipe import TrainConfig


def test_schedules_hand_computed():
    one = TrainConfig(lr=1.0, schedule="onecycle", warmup=0.2)
    assert [lr_at(s, 10, one) for s in (0, 1)] == [0.5, 1.0]               # warm-up over 2 steps
    assert lr_at(2, 10, one) == 1.0 and lr_at(10, 10, one) == pytest.approx(0.01)
    assert lr_at(6, 10, one) == pytest.approx(1 - 0.5 * 0.99)             # halfway down
    cos = TrainConfig(lr=2.0, schedule="cosine", warmup=0.0)
    assert lr_at(0, 8, cos) == 2.0 and lr_at(4, 8, cos) == pytest.approx(1.0) and lr_at(8, 8, cos) == pytest.approx(0)
    assert lr_at(5, 8, TrainConfig(lr=0.3, schedule="constant")) == 0.3


def test_random_crop_is_a_shift_of_the_zero_padded_image():
    x = torch.arange(2 * 1 * 4 * 4, dtype=torch.float32).view(2, 1, 4, 4) + 1
    g = torch.Generator().manual_seed(0)
    out = random_crop(x, 1, g)
    g = torch.Generator().manual_seed(0)
    oy, ox = torch.randint(0, 3, (2, 1), generator=g), torch.randint(0, 3, (2, 1), generator=g)
    padded = torch.nn.functional.pad(x, (1, 1, 1, 1))
    for i in range(2):
        torch.testing.assert_close(out[i], padded[i, :, oy[i, 0]:oy[i, 0] + 4, ox[i, 0]:ox[i, 0] + 4])


def test_flip_mirrors_about_half_of_the_batch():
    x = torch.rand(200, 3, 5, 5)
    out = augment(x, TrainConfig(augment_flip=True), torch.Generator().manual_seed(1))
    same = (out == x).flatten(1).all(1)
    mirrored = (out == x.flip(3)).flatten(1).all(1)
    assert bool((same | mirrored).all()) and 70 < int(mirrored.sum()) < 130


def test_balanced_order_draws_classes_equally():
    y = torch.tensor([0] * 900 + [1] * 100)
    g = torch.Generator().manual_seed(0)
    assert sorted(epoch_order(y, False, g).tolist()) == list(range(1000))
    counts = torch.bincount(y[epoch_order(y, True, g)])
    assert 420 < counts[1] < 580  # ≈ 500 of 1000, not 100


def test_ema_follows_hand_computed_average():
    m = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        m.weight.fill_(0.0)
    ema = EMA(m, decay=0.5)
    with torch.no_grad():
        m.weight.fill_(1.0)
    ema.update()  # decay = min(0.5, 2/11) = 2/11: 0 + (1 − 2/11)·(1 − 0)
    assert ema.model.weight.item() == pytest.approx(9 / 11)
    ema.update()  # min(0.5, 3/12) = 0.25
    assert ema.model.weight.item() == pytest.approx(9 / 11 + 0.75 * (1 - 9 / 11))


@pytest.mark.parametrize("kw,field", [(dict(epochs=0), "epochs"), (dict(model="VGG16"), "model"),
                                      (dict(lr=-1), "lr"), (dict(optimizer="adam"), "optimizer"),
                                      (dict(augment_crop=20), "augment_crop"), (dict(warmup=1.0), "warmup")])
def test_bad_config_names_the_field(kw, field):
    with pytest.raises(ConfigError) as e:
        TrainConfig(**kw)
    assert e.value.field == field


def test_config_round_trips_through_a_dict():
    cfg = TrainConfig(dataset="shapes", ema=True, lr=0.05)
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg


def test_switches_map_to_recipe_values():
    from cnnviz.training.recipe import from_switches
    cfg = from_switches(8, dict(crop=True, clip=True, ls=True, amp=True), cuda=False, optimizer="sgd")
    assert (cfg.augment_crop, cfg.grad_clip, cfg.label_smoothing, cfg.amp) == (1, 2.0, 0.1, "off")
    assert cfg.weight_decay == 5e-4 and cfg.batch_size == 64 and not cfg.augment_flip and cfg.patience == 0
    cfg = from_switches(32, dict(crop=True, early=True, amp=True), cuda=True)
    assert (cfg.augment_crop, cfg.patience, cfg.amp, cfg.weight_decay, cfg.batch_size) == (2, 3, "fp16", 1e-4, 128)


def test_history_folds_events_and_explains_the_end():
    from cnnviz.jobs.events import Evaluation, Failed, Finished, Progress
    from cnnviz.training.history import History
    p = Progress(5, 0.5, 1.0, 0.5, 0.1, 100.0, 3.0)
    ev = Evaluation(10, 1, 1.0, 0.5, 0.9, 0.75, [[1]], [0])
    h = History.from_events([p, ev, Finished(10, 1, "stopped", 0.75)])
    assert h.last is p and h.val_acc == 0.75 and h.status().startswith("Stopped after epoch 1")
    assert History.from_events([p]).status() == "Training: step 5, epoch 0.5."  # live: where it is, in words
    assert History.from_events([]).status() == "Starting: the first step is on its way."
    # a resumed job's progress after an earlier end makes the run live again
    assert History.from_events([p, Finished(5, 0, "stopped", 0.0), Progress(6, 0.6, 1, 1, 0.1, 1, 1)]).end is None
    f = History.from_events([Failed(7, "the training loss became nan", 5)])
    assert f.failed and "checkpoint (step 5) is kept" in f.status()
