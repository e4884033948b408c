"""Checkpoints are validated against their weights before anything is built or shown: every malformed field
(wrong type, NaN, negative, huge, missing, extra nested junk, disagreeing with the weights) is a ConfigError
whose field names it; resuming never runs more epochs than requested."""
import io
import json
import math

import pytest
import torch

from cnnviz import ConfigError
from cnnviz.architecture.models import SmallResNet, TinyVGG
from cnnviz.inside.shipped import load_uploaded
from cnnviz.training.checkpoint import load_checkpoint, model_spec, save_checkpoint
from cnnviz.training.recipe import TrainConfig


def good_payload(model="TinyVGG", epoch=2, epochs=4) -> dict:
    torch.manual_seed(0)
    net = TinyVGG(1, 3, 8, width=4) if model == "TinyVGG" else SmallResNet(1, 3, 8, width=4)
    opt = torch.optim.AdamW(net.parameters(), lr=0.01)
    net(torch.rand(2, 1, 8, 8)).sum().backward()
    opt.step()
    spec = model_spec(model, 1, 3, 8, 4, ("a", "b", "c"))
    blob = save_checkpoint(spec, net, step=epoch * 5, epoch=epoch, config={"epochs": epochs, "model": model},
                           optimizer=opt.state_dict(), ema=net.state_dict(), rng=torch.Generator().get_state(),
                           extra={"val_acc": 0.5, "best_val_loss": math.inf, "ema_updates": 3})
    return torch.load(io.BytesIO(blob), weights_only=True)


def blob_of(payload: dict) -> bytes:
    buf = io.BytesIO()
    torch.save(payload, buf)
    return buf.getvalue()


def with_spec(p: dict, change) -> dict:
    spec = json.loads(p["spec"])
    change(spec)
    return {**p, "spec": json.dumps(spec)}


def kw(key, value):
    return lambda s: s["kwargs"].__setitem__(key, value)


def _set(d: dict, key, value) -> dict:
    d = dict(d)
    d[key] = value
    return d


def _json_set(p, key, **fields):
    return {**p, key: json.dumps({**json.loads(p[key]), **fields})}


CASES = {  # id: (how the good payload is broken, the field the error must name)
    "spec-missing": (lambda p: {k: v for k, v in p.items() if k != "spec"}, "checkpoint.spec"),
    "spec-not-json": (lambda p: {**p, "spec": "{not json"}, "checkpoint.spec"),
    "spec-not-text": (lambda p: {**p, "spec": {"model": "TinyVGG"}}, "checkpoint.spec"),
    "spec-deeply-nested": (lambda p: {**p, "spec": "[" * 20000 + "]" * 20000}, "checkpoint.spec"),
    "spec-too-long": (lambda p: {**p, "spec": " " * 300_000 + p["spec"]}, "checkpoint.spec"),
    "model-unknown": (lambda p: with_spec(p, lambda s: s.__setitem__("model", "os.system")), "checkpoint.spec.model"),
    "model-other-kind": (lambda p: with_spec(p, lambda s: s.__setitem__("model", "SmallResNet")),
                         "checkpoint.state_dict"),
    "spec-extra-junk": (lambda p: with_spec(p, lambda s: s.__setitem__("junk", [[[{"a": [1]}]]])),
                        "checkpoint.spec.junk"),
    "kwargs-missing": (lambda p: with_spec(p, lambda s: s["kwargs"].pop("width")), "checkpoint.spec.kwargs.width"),
    "kwargs-extra": (lambda p: with_spec(p, kw("depth", 3)), "checkpoint.spec.kwargs.depth"),
    "kwargs-not-dict": (lambda p: with_spec(p, lambda s: s.__setitem__("kwargs", [1, 2])), "checkpoint.spec.kwargs"),
    "width-mismatch": (lambda p: with_spec(p, kw("width", 5)), "checkpoint.spec.kwargs.width"),
    "width-nan": (lambda p: with_spec(p, kw("width", float("nan"))), "checkpoint.spec.kwargs.width"),
    "width-negative": (lambda p: with_spec(p, kw("width", -4)), "checkpoint.spec.kwargs.width"),
    "width-huge": (lambda p: with_spec(p, kw("width", 10 ** 30)), "checkpoint.spec.kwargs.width"),
    "width-text": (lambda p: with_spec(p, kw("width", "4")), "checkpoint.spec.kwargs.width"),
    "width-bool": (lambda p: with_spec(p, kw("width", True)), "checkpoint.spec.kwargs.width"),
    "width-float": (lambda p: with_spec(p, kw("width", 4.0)), "checkpoint.spec.kwargs.width"),
    "in-channels-mismatch": (lambda p: with_spec(p, kw("in_channels", 3)), "checkpoint.spec.kwargs.in_channels"),
    "in-channels-2": (lambda p: with_spec(p, kw("in_channels", 2)), "checkpoint.spec.kwargs.in_channels"),
    "classes-vs-output": (lambda p: with_spec(p, lambda s: (s["kwargs"].__setitem__("num_classes", 4),
                                                            s.__setitem__("classes", list("abcd")))),
                          "checkpoint.spec.kwargs.num_classes"),
    "num-classes-huge": (lambda p: with_spec(p, kw("num_classes", 10 ** 7)), "checkpoint.spec.kwargs.num_classes"),
    "class-names-count": (lambda p: with_spec(p, lambda s: s.__setitem__("classes", ["a", "b"])),
                          "checkpoint.spec.classes"),
    "class-names-many": (lambda p: with_spec(p, lambda s: s.__setitem__("classes", ["x"] * 2000)),
                         "checkpoint.spec.classes"),
    "class-name-not-text": (lambda p: with_spec(p, lambda s: s.__setitem__("classes", ["a", {"b": 1}, "c"])),
                            "checkpoint.spec.classes"),
    "class-name-huge": (lambda p: with_spec(p, lambda s: s.__setitem__("classes", ["a", "b" * 10_000, "c"])),
                        "checkpoint.spec.classes"),
    "classes-missing": (lambda p: with_spec(p, lambda s: s.pop("classes")), "checkpoint.spec.classes"),
    "size-vs-first-linear": (lambda p: with_spec(p, kw("size", 16)), "checkpoint.spec.kwargs.size"),
    "size-huge": (lambda p: with_spec(p, kw("size", 10 ** 6)), "checkpoint.spec.kwargs.size"),
    "size-zero": (lambda p: with_spec(p, kw("size", 0)), "checkpoint.spec.kwargs.size"),
    "step-negative": (lambda p: {**p, "step": -1}, "checkpoint.step"),
    "step-nan": (lambda p: {**p, "step": float("nan")}, "checkpoint.step"),
    "step-float": (lambda p: {**p, "step": 1.5}, "checkpoint.step"),
    "step-text": (lambda p: {**p, "step": "10"}, "checkpoint.step"),
    "step-huge": (lambda p: {**p, "step": 10 ** 40}, "checkpoint.step"),
    "step-tensor": (lambda p: {**p, "step": torch.tensor(3)}, "checkpoint.step"),
    "step-missing": (lambda p: {k: v for k, v in p.items() if k != "step"}, "checkpoint.step"),
    "epoch-negative": (lambda p: {**p, "epoch": -100}, "checkpoint.epoch"),
    "epoch-over-configured": (lambda p: {**p, "epoch": 5}, "checkpoint.epoch"),
    "epoch-bool": (lambda p: {**p, "epoch": True}, "checkpoint.epoch"),
    "epoch-list": (lambda p: {**p, "epoch": [1]}, "checkpoint.epoch"),
    "config-epochs-nan": (lambda p: _json_set(p, "config", epochs=float("nan")), "checkpoint.config.epochs"),
    "config-epochs-negative": (lambda p: _json_set(p, "config", epochs=-3), "checkpoint.config.epochs"),
    "config-nested-junk": (lambda p: _json_set(p, "config", junk={"a": [[1]]}), "checkpoint.config.junk"),
    "config-not-object": (lambda p: {**p, "config": "[1, 2]"}, "checkpoint.config"),
    "extra-nan": (lambda p: _json_set(p, "extra", val_acc=float("nan")), "checkpoint.extra.val_acc"),
    "extra-nested-junk": (lambda p: _json_set(p, "extra", junk=[{}]), "checkpoint.extra.junk"),
    "extra-ema-updates-negative": (lambda p: _json_set(p, "extra", ema_updates=-1), "checkpoint.extra.ema_updates"),
    "top-level-junk": (lambda p: {**p, "junk": {"nested": [1, [2, [3]]]}}, "checkpoint.junk"),
    "state-missing-tensor": (lambda p: {**p, "state_dict": {k: v for k, v in p["state_dict"].items()
                                                            if k != "classifier.1.bias"}}, "checkpoint.state_dict"),
    "state-extra-tensor": (lambda p: {**p, "state_dict": _set(p["state_dict"], "evil", torch.zeros(1))},
                           "checkpoint.state_dict"),
    "state-nan-weight": (lambda p: {**p, "state_dict": _set(p["state_dict"], "features.0.weight",
                                                            torch.full((4, 1, 3, 3), float("nan")))},
                         "checkpoint.state_dict.features.0.weight"),
    "state-wrong-dtype": (lambda p: {**p, "state_dict": _set(p["state_dict"], "features.0.bias",
                                                             torch.zeros(4, dtype=torch.float64))},
                          "checkpoint.state_dict.features.0.bias"),
    "state-not-tensor": (lambda p: {**p, "state_dict": _set(p["state_dict"], "features.0.bias", [0.0] * 4)},
                         "checkpoint.state_dict.features.0.bias"),
    "state-not-dict": (lambda p: {**p, "state_dict": [1, 2]}, "checkpoint.state_dict"),
    "ema-wrong-shape": (lambda p: {**p, "ema": _set(p["ema"], "features.0.bias", torch.zeros(5))},
                        "checkpoint.ema"),
    "optimizer-junk": (lambda p: {**p, "optimizer": {"state": {}, "param_groups": [{"params": [0], "x": {}}]}},
                       "checkpoint.optimizer.param_groups"),
    "optimizer-state-shape": (lambda p: {**p, "optimizer": {**p["optimizer"], "state": {
        **p["optimizer"]["state"], 0: {**p["optimizer"]["state"][0], "exp_avg": torch.zeros(7, 7)}}}},
        "checkpoint.optimizer.state.0.exp_avg"),
    "optimizer-params-count": (lambda p: {**p, "optimizer": {**p["optimizer"], "param_groups": [
        {**p["optimizer"]["param_groups"][0], "params": [0, 1]}]}}, "checkpoint.optimizer.param_groups.params"),
    "rng-wrong": (lambda p: {**p, "rng": torch.zeros(10 ** 6, dtype=torch.uint8)}, "checkpoint.rng"),
    "rng-float": (lambda p: {**p, "rng": torch.zeros(16)}, "checkpoint.rng"),
}


def test_the_good_payload_loads():
    model, meta = load_checkpoint(blob_of(good_payload()))
    assert meta["epoch"] == 2 and meta["step"] == 10 and meta["classes"] == ("a", "b", "c")
    assert meta["extra"]["best_val_loss"] == math.inf
    x = torch.rand(1, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    ref = TinyVGG(1, 3, 8, width=4)
    ref.load_state_dict(good_payload()["ema"])
    torch.testing.assert_close(model(x), ref.eval()(x))


@pytest.mark.parametrize("case", list(CASES))
def test_each_malformed_field_is_named(case):
    breaks, field = CASES[case]
    blob = blob_of(breaks(good_payload()))
    with pytest.raises(ConfigError) as e:
        load_checkpoint(blob)
    assert e.value.field == field or e.value.field.startswith(field + "."), (e.value.field, str(e.value))
    # the pages' loader reads Training Lab checkpoints with the same validation
    with pytest.raises(ConfigError) as e2:
        load_uploaded(blob, "x.pt")
    assert e2.value.field == e.value.field


@pytest.mark.parametrize("part", ["state_dict", "ema"])
@pytest.mark.parametrize("value", [1e38, -2e6])
def test_finite_but_extreme_weights_are_refused_at_load(part, value):
    """1e38 is finite, but one layer of it overflows float32: refused at load, naming the tensor and the bound."""
    p = good_payload()
    name = next(iter(p[part]))
    p[part] = {**p[part], name: p[part][name].clone().fill_(value)}
    for load in (load_checkpoint, lambda b: load_uploaded(b, "x.pt")):
        with pytest.raises(ConfigError) as e:
            load(blob_of(p))
        assert e.value.field == f"checkpoint.{part}.{name}" and f"{abs(value):.3g}" in str(e.value) and "1e+06" in str(e.value)
    p[part] = {**p[part], name: p[part][name].clone().fill_(9.9e5)}  # just under the bound: loads
    load_checkpoint(blob_of(p))


def test_smallresnet_checkpoint_validates_too():
    p = good_payload("SmallResNet")
    load_checkpoint(blob_of(p))
    with pytest.raises(ConfigError) as e:
        load_checkpoint(blob_of(with_spec(p, kw("width", 8))))
    assert e.value.field == "checkpoint.spec.kwargs.width"
    with pytest.raises(ConfigError) as e:
        load_checkpoint(blob_of(with_spec(p, kw("num_classes", 5)) | {}))
    assert e.value.field in ("checkpoint.spec.classes", "checkpoint.spec.kwargs.num_classes")


def test_resume_never_runs_more_epochs_than_requested():
    blob = blob_of(good_payload(epoch=2, epochs=4))
    TrainConfig(epochs=2, resume=blob)  # 0 more epochs: fine
    TrainConfig(epochs=4, resume=blob)  # 2 more
    with pytest.raises(ConfigError) as e:
        TrainConfig(epochs=1, resume=blob)  # the checkpoint has run 2 already
    assert e.value.field == "epochs" and "2 epochs" in str(e.value)
    for bad, field in [({"epoch": -100}, "checkpoint.epoch"), ({"step": -5}, "checkpoint.step")]:
        with pytest.raises(ConfigError) as e:
            TrainConfig(epochs=4, resume=blob_of({**good_payload(), **bad}))
        assert e.value.field == field
    with pytest.raises(ConfigError) as e:
        TrainConfig(epochs=4, model="SmallResNet", resume=blob)
    assert e.value.field == "resume"


@pytest.mark.parametrize("meta,field", [
    ({"model": "TinyVGG", "kwargs": [1, 2]}, "checkpoint.meta.kwargs"),
    ({"model": "TinyVGG", "kwargs": {"in_channels": 1, "num_classes": 3, "size": 8, "width": float("nan")}},
     "checkpoint.meta.kwargs.width"),
    ({"model": "TinyVGG", "in_channels": 1, "num_classes": 3, "size": -8, "width": 4}, "checkpoint.meta.kwargs.size"),
    ({"model": "TinyVGG", "kwargs": {"in_channels": 1, "num_classes": 3, "size": 8, "width": 4, "x": {"y": []}}},
     "checkpoint.meta.kwargs.x"),
    ({"model": "TinyVGG", "kwargs": {"in_channels": 1, "num_classes": 3, "size": 8, "width": 4}, "classes": ["a"]},
     "checkpoint.meta.classes"),
    ({"model": "TinyVGG", "kwargs": {"in_channels": 1, "num_classes": 3, "size": 16, "width": 4}},
     "checkpoint.spec.kwargs.size"),
], ids=["kwargs-list", "width-nan", "size-negative", "nested-junk", "class-count", "size-vs-linear"])
def test_state_dict_uploads_validate_their_meta(meta, field):
    buf = io.BytesIO()
    torch.save({"meta": meta, "state_dict": TinyVGG(1, 3, 8, width=4).state_dict()}, buf)
    with pytest.raises(ConfigError) as e:
        load_uploaded(buf.getvalue(), "x.pt")
    assert e.value.field == field, str(e.value)
