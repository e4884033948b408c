"""Feature visualisation by optimisation: on the shipped models' last conv layer the optimised image excites its
channel more than every validation image does (each regulariser on and off), the cost is refused by arithmetic
beyond the caps, the model is left as it was, and a stop request ends the ascent early."""
import threading

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from cnnviz import ConfigError
from cnnviz.inside import channel_means, check_cost, forward_flops, load_model, validation_set, visualise_channel
from cnnviz.limits import FEATURE_VIS_MAX_FLOPS, FEATURE_VIS_MAX_IMAGES, FEATURE_VIS_MAX_STEPS

OFF = dict(jitter=False, robust=False, fourier=False, blur=False)
CONFIGS = {"none": OFF, "all": dict(jitter=True, robust=True, fourier=True, blur=True),
           **{k: {**OFF, k: True} for k in OFF}}


def _setup(key):
    model, info = load_model(key)
    layer = [n for n, m in model.named_modules() if isinstance(m, nn.Conv2d)][-1]  # the last conv layer
    xs, _ = validation_set(info.dataset)
    shape = (info.kwargs["in_channels"], info.kwargs["size"], info.kwargs["size"])
    return model, layer, shape, channel_means(model, layer, xs)


@pytest.fixture(scope="module")
def digits():
    return _setup("digits_TinyVGG")


@pytest.mark.parametrize("name", CONFIGS)
def test_digits_visualisation_beats_every_validation_image(digits, name):
    model, layer, shape, val = digits
    for ch in (0, 5):
        v = visualise_channel(model, layer, ch, shape, steps=64, lr=0.1, seed=1, **CONFIGS[name])
        assert v.images.shape == (1, *shape) and 0 <= float(v.images.min()) and float(v.images.max()) <= 1
        assert v.steps_done == 64 and not v.stopped
        assert v.activation[0] > float(val[:, ch].max()), (name, ch)


@pytest.mark.parametrize("name", ["none", "all"])
def test_shapes_visualisation_beats_every_validation_image(name):
    model, layer, shape, val = _setup("shapes_TinyVGG")
    for ch in val.max(0).values.topk(2).indices.tolist():  # the two liveliest channels (several never fire)
        v = visualise_channel(model, layer, ch, shape, steps=48, lr=0.1, **CONFIGS[name])
        assert v.activation[0] > float(val[:, ch].max()), (name, ch)


def test_reported_activation_is_the_channel_mean_of_the_image(digits):
    model, layer, shape, _ = digits
    v = visualise_channel(model, layer, 3, shape, steps=4, images=2)
    assert v.activation == pytest.approx(channel_means(model, layer, v.images)[:, 3].tolist(), abs=1e-5)
    out = dict(model.named_modules())[layer]
    with torch.no_grad():
        assert float(model.features[:8](v.images[:1])[0, 3].mean()) == pytest.approx(v.activation[0], abs=1e-5)
    assert out is model.features[7]


def test_flops_count_convs_and_linears_by_hand():
    m = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 5 * 5, 4))
    conv = 2 * (3 * 5 * 5) * 2 * 9
    assert forward_flops(m, (2, 5, 5)) == conv + 75 + 75 + 2 * 4 * 75  # ReLU and Flatten: one op per value


def test_refused_by_arithmetic_beyond_the_caps(digits):
    model, layer, shape, _ = digits
    with pytest.raises(ConfigError, match="steps"):
        check_cost(model, shape, FEATURE_VIS_MAX_STEPS + 1, 1)
    with pytest.raises(ConfigError, match="images"):
        check_cost(model, shape, 10, FEATURE_VIS_MAX_IMAGES + 1)
    big = nn.Sequential(nn.Conv2d(3, 256, 3, padding=1), nn.Conv2d(256, 256, 3, padding=1))
    per_pass = forward_flops(big, (3, 64, 64))
    steps = FEATURE_VIS_MAX_FLOPS // (3 * per_pass) + 1
    assert steps <= FEATURE_VIS_MAX_STEPS
    with pytest.raises(ConfigError) as err:
        visualise_channel(big, "1", 0, (3, 64, 64), steps=steps)
    assert err.value.field == "steps" and f"{3 * steps * per_pass:,}" in str(err.value)
    assert check_cost(big, (3, 64, 64), steps - 1, 1) == 3 * (steps - 1) * per_pass
    with pytest.raises(ConfigError, match="channel"):
        visualise_channel(model, layer, 99, shape, steps=2)
    with pytest.raises(ConfigError, match="layer"):
        visualise_channel(model, "nope", 0, shape, steps=2)


def test_model_unchanged_afterwards():
    model, info = load_model("digits_TinyVGG")
    model.train()
    model.features[1].eval()  # a mixed state must come back as it was
    before = {k: v.clone() for k, v in model.state_dict().items()}
    modes = [m.training for m in model.modules()]
    grads = [p.requires_grad for p in model.parameters()]
    visualise_channel(model, "features.7", 2, (1, 8, 8), steps=3, images=2, blur=True)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert [m.training for m in model.modules()] == modes
    assert [p.requires_grad for p in model.parameters()] == grads
    assert all(p.grad is None for p in model.parameters())
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())


def test_stop_ends_early_and_progress_counts_steps(digits):
    model, layer, shape, _ = digits
    seen, ev = [], threading.Event()

    def progress(step, total):
        seen.append((step, total))
        if step == 5:
            ev.set()
    v = visualise_channel(model, layer, 0, shape, steps=50, progress=progress, stop=ev)
    assert v.stopped and v.steps_done == 5 and seen == [(i, 50) for i in range(1, 6)]
    v = visualise_channel(model, layer, 0, shape, steps=50, stop=lambda: True)
    assert v.stopped and v.steps_done == 0


def test_diversity_makes_images_differ_and_is_seeded(digits):
    model, layer, shape, _ = digits
    a = visualise_channel(model, layer, 1, shape, steps=16, images=3, diversity=5.0, seed=3)
    b = visualise_channel(model, layer, 1, shape, steps=16, images=3, diversity=5.0, seed=3)
    assert torch.equal(a.images, b.images) and a.images.shape == (3, *shape)
    flat = F.normalize(a.images.flatten(1) - 0.5, dim=1)
    assert float((flat @ flat.T).triu(1).max()) < 0.99
