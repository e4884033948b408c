"""The device policy: CNNVIZ_DEVICE=cpu runs every path on the CPU; an unknown or unavailable value
is refused with a ConfigError naming CNNVIZ_DEVICE by every path that picks a device."""
import pytest
import torch

from cnnviz.architecture.models import TinyVGG
from cnnviz.device import model_device, pick_device, to_model_device
from cnnviz.errors import ConfigError


@pytest.mark.parametrize("value", ["tpu", "nonsense", "mps"] + ([] if torch.cuda.is_available() else ["cuda", "cuda:0"]))
def test_unknown_or_unavailable_device_is_refused(monkeypatch, value):
    monkeypatch.setenv("CNNVIZ_DEVICE", value)
    with pytest.raises(ConfigError) as e:
        pick_device()
    assert e.value.field == "CNNVIZ_DEVICE"


def test_cpu_override_and_model_device(monkeypatch):
    monkeypatch.setenv("CNNVIZ_DEVICE", "cpu")
    assert pick_device() == torch.device("cpu")
    assert model_device(torch.nn.ReLU()) == torch.device("cpu")
    m = TinyVGG(1, 10, 8, width=2)
    assert to_model_device(torch.zeros(1), m).device == model_device(m)


def _nonsense(monkeypatch):
    monkeypatch.setenv("CNNVIZ_DEVICE", "nonsense")


def test_paths_call_the_policy(monkeypatch):
    from cnnviz.compression.distill import DistillConfig, run_distill
    from cnnviz.inside.shipped import list_models, load_model, load_uploaded
    from cnnviz.training.gradients import compare
    _nonsense(monkeypatch)
    x, y = torch.rand(8, 1, 8, 8), torch.randint(0, 10, (8,))
    with pytest.raises(ConfigError, match="CNNVIZ_DEVICE"):
        compare(x, y, 10, depth=2, steps=1, batch=4)
    with pytest.raises(ConfigError, match="CNNVIZ_DEVICE"):
        load_uploaded(b"not a checkpoint")
    if list_models():
        with pytest.raises(ConfigError, match="CNNVIZ_DEVICE"):
            load_model(next(iter(list_models())))
    import threading
    with pytest.raises(ConfigError, match="CNNVIZ_DEVICE"):
        run_distill(DistillConfig(epochs=1, n_train=64), lambda e: None, threading.Event())


def test_paths_on_cpu_return_cpu_tensors(monkeypatch):
    from cnnviz.compression.evaluate import accuracy
    from cnnviz.explorer.beyond import gradient_map
    from cnnviz.explorer.neuron import neuron_detail
    from cnnviz.inside.features import capture
    from cnnviz.inside.saliency import attribute
    from cnnviz.training.gradients import compare
    monkeypatch.setenv("CNNVIZ_DEVICE", "cpu")
    torch.manual_seed(0)
    m = TinyVGG(1, 10, 8, width=2).eval()
    x = torch.rand(1, 1, 8, 8)
    logits, acts = capture(m, x)
    assert logits.device.type == "cpu" and all(a.device.type == "cpu" for a in acts.values())
    assert attribute(m, x, 0, "saliency").device.type == "cpu"
    conv = next(n for n, mod in m.named_modules() if isinstance(mod, torch.nn.Conv2d))
    assert neuron_detail(m, x, conv, 0, (0, 0)).patch.device.type == "cpu"
    assert gradient_map(m, x, conv, 0, (0, 0)).device.type == "cpu"
    assert 0 <= accuracy(m, torch.rand(4, 1, 8, 8), torch.zeros(4, dtype=torch.long)) <= 1
    out = compare(torch.rand(16, 1, 8, 8), torch.randint(0, 10, (16,)), 10, depth=2, steps=2, batch=4)
    assert all(isinstance(v, float) for v in out["plain"]["losses"])


def test_amp_modes():
    from cnnviz.training.recipe import TrainConfig
    from cnnviz.training.steps import amp_mode
    assert TrainConfig(amp=True).amp == "fp16" and TrainConfig(amp=False).amp == "off"
    assert TrainConfig(amp="bf16").amp == "bf16"
    with pytest.raises(ConfigError, match="amp"):
        TrainConfig(amp="fp8")
    assert amp_mode("fp16", torch.device("cpu"))[0] == "off"
