"""Train what you build: an Architecture Lab stack checked against a data set (refused with the reason when it does
not fit), fitted in one step, trained one tiny epoch, and its checkpoint loaded like any model (weights_only)."""
import json
import threading
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

from cnnviz import ConfigError
from cnnviz.architecture import codegen as cg
from cnnviz.inside.features import capture
from cnnviz.inside.saliency import attribute
from cnnviz.inside.shipped import load_uploaded
from cnnviz.io.data import load_dataset
from cnnviz.training import TrainConfig, load_checkpoint, read_checkpoint
from cnnviz.training.built_model import BUILT, MAX_TRAIN_EPOCH_FLOPS, built_spec, check_fits, fit_to, stack_text
from cnnviz.training.checkpoint import save_checkpoint
from cnnviz.training.live import LiveSnapshot
from cnnviz.training.loop import run_training

DIGITS = load_dataset("digits", n=200)  # 1×8×8, 10 classes; 160 training images
CPU = torch.device("cpu")
CONVS = [cg.conv(1, 8, 3, padding=1), {"type": "act", "kind": "relu"}, cg.pool(2),
         cg.conv(8, 16, 3, padding=1), {"type": "act", "kind": "relu"}, cg.pool(2)]  # 8×8 -> 16×2×2


def test_a_stack_that_does_not_fit_the_data_is_refused_with_the_reason():
    with pytest.raises(ConfigError, match=r"the stack takes 3×32×32 inputs; the digits are 1×8×8: set Input "
                                          r"channels to 1 and Input size to 8"):
        check_fits(cg.EXAMPLE, cg.EXAMPLE_SHAPE, DIGITS, "the digits")
    with pytest.raises(ConfigError, match=r"ends with 16 channels at 2×2; the digits have 10 classes: add a classifier"):
        check_fits(CONVS, (1, 8, 8), DIGITS, "the digits")
    with pytest.raises(ConfigError, match=r"ends with 4 outputs; the digits have 10 classes: set the last linear"):
        check_fits([*CONVS, {"type": "linear", "out_features": 4}], (1, 8, 8), DIGITS, "the digits")
    with pytest.raises(ConfigError, match=r"layer 8 .*would be 0"):  # a third pool leaves 1×1, a fourth nothing
        check_fits([*CONVS, cg.pool(2), cg.pool(2), {"type": "linear", "out_features": 10}], (1, 8, 8), DIGITS)
    with pytest.raises(ConfigError, match="2-D images"):
        check_fits([cg.conv(1, 4, 3, dims=1)], (1, 8), DIGITS)
    wide = [cg.conv(1, 512, 7, padding=3), cg.conv(512, 512, 7, padding=3), {"type": "linear", "out_features": 10}]
    flops = cg.stack_cost(wide, (1, 8, 8))[2]  # 1.6 GFLOPs per image: fine to build, too much to train on many
    n = MAX_TRAIN_EPOCH_FLOPS // (3 * flops)
    check_fits(wide, (1, 8, 8), SimpleNamespace(in_channels=1, size=8, num_classes=10, y_train=range(n)))
    with pytest.raises(ConfigError, match=r"one epoch on the digits \(%s images × 3 × .* above the limit of 2\.0 "
                                          r"TFLOPs per epoch" % f"{n + 1:,}"):
        check_fits(wide, (1, 8, 8), SimpleNamespace(in_channels=1, size=8, num_classes=10, y_train=range(n + 1)),
                   "the digits")


def test_fit_to_sets_the_input_and_adds_a_head_and_nothing_else():
    layers, shape, changes = fit_to(cg.EXAMPLE, cg.EXAMPLE_SHAPE, DIGITS)
    assert shape == (1, 8, 8) and changes == ["input 3×32×32 → 1×8×8"]
    assert [x["type"] for x in layers] == [x["type"] for x in cg.EXAMPLE]
    assert layers[0]["in_channels"] == 1 and layers[0]["out_channels"] == 8  # re-chained, widths kept
    check_fits(layers, shape, DIGITS)
    layers, shape, changes = fit_to(CONVS, (1, 8, 8), DIGITS)
    assert layers[:-1] == CONVS and layers[-1] == {"type": "linear", "out_features": 10, "bias": True}
    assert cg.shapes(layers, shape)[-1] == (10,) and len(changes) == 1


def test_a_built_stack_trains_one_epoch_and_its_checkpoint_loads_like_any_model():
    layers, shape, _ = fit_to(cg.EXAMPLE, cg.EXAMPLE_SHAPE, DIGITS)
    cfg = TrainConfig(model=BUILT, stack=stack_text(layers, shape), epochs=1, batch_size=32, lr=1e-2, n=200)
    events, blobs = [], []
    run_training(cfg, events.append, threading.Event(), blobs.append, CPU)
    assert events[-1].reason == "done" and len(blobs) == 1
    payload = read_checkpoint(blobs[0])  # weights_only=True, every field validated
    assert json.loads(payload["spec"])["stack"]["layers"] == json.loads(stack_text(layers, shape))["layers"]
    model, meta = load_checkpoint(blobs[0])
    reference = cg.build_stack(layers, shape).eval()
    reference.load_state_dict(payload["state_dict"])
    x = DIGITS.x_val[:5]
    torch.testing.assert_close(model(x), reference(x))
    # the inside-the-model pages load it through load_uploaded, and their engines run on it
    loaded, info = load_uploaded(blobs[0], "your model")
    assert info.model == BUILT and info.classes == DIGITS.classes and info.dataset == "digits"
    logits, maps = capture(loaded, x[:1])
    torch.testing.assert_close(logits, reference(x[:1]))
    assert maps and attribute(loaded, x[:1], 3, "gradcam").shape == x[:1].shape
    # watch the network learn: the last snapshot is the checkpoint's first conv at that step, exactly
    snap = [e for e in events if isinstance(e, LiveSnapshot)][-1]
    assert snap.step == payload["step"] and snap.layer == "0"
    torch.testing.assert_close(torch.from_numpy(snap.kernels), payload["state_dict"]["0.weight"], rtol=0, atol=0)
    bn_free = payload["state_dict"]["0.weight"], payload["state_dict"]["0.bias"]
    torch.testing.assert_close(torch.from_numpy(snap.maps), F.conv2d(DIGITS.x_val[:1], *bn_free, padding=1)[0, :16])


def _resave(blob: bytes, **spec_changes) -> bytes:
    p = read_checkpoint(blob)
    spec = json.loads(p["spec"]) | spec_changes
    model = load_checkpoint(blob)[0]
    return save_checkpoint(spec, model, step=p["step"], epoch=p["epoch"], config=json.loads(p["config"]))


def test_a_checkpoint_whose_stack_does_not_fit_its_weights_or_spec_is_refused():
    layers, shape, _ = fit_to(CONVS, (1, 8, 8), DIGITS)
    model = cg.build_stack(layers, shape)
    blob = save_checkpoint(built_spec(layers, shape, DIGITS.classes), model, step=0, epoch=0)
    assert load_checkpoint(blob)[1]["spec"]["model"] == BUILT
    wider = [cg.conv(1, 9, 3, padding=1), *layers[1:]]  # another stack: the weights no longer fit
    with pytest.raises(ConfigError, match=r"checkpoint\.state_dict"):
        load_checkpoint(_resave(blob, stack=json.loads(stack_text(cg.rechain(wider, shape), shape))))
    with pytest.raises(ConfigError, match=r"checkpoint\.spec\.stack.*takes 1×8×8 inputs"):
        load_checkpoint(_resave(blob, kwargs=dict(in_channels=1, num_classes=10, size=16, width=8)))
    with pytest.raises(ConfigError, match=r"checkpoint\.spec\.stack"):
        load_checkpoint(_resave(blob, stack={"in_shape": [1, 8, 8], "layers": [{"type": "exec"}]}))
    with pytest.raises(ConfigError, match=r"checkpoint\.spec\.stack.*unknown field"):
        load_checkpoint(_resave(blob, model="TinyVGG", kwargs=dict(in_channels=1, num_classes=10, size=8, width=8)))


def test_train_config_takes_a_stack_only_as_a_built_model():
    text = stack_text(*fit_to(CONVS, (1, 8, 8), DIGITS)[:2])
    assert TrainConfig(model=BUILT, stack=text).stack == text
    with pytest.raises(ConfigError, match="stack"):
        TrainConfig(model=BUILT, stack="{not json")
    with pytest.raises(ConfigError, match="stack"):
        TrainConfig(model=BUILT)
    with pytest.raises(ConfigError, match="stack"):
        TrainConfig(model="TinyVGG", stack=text)
    with pytest.raises(ConfigError, match="stack"):  # JSON text only
        TrainConfig(model=BUILT, stack=text.encode())
