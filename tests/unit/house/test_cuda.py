"""On CUDA every engine path equals the CPU result within tolerance (skipped without a GPU; see conftest)."""
import copy

import pytest
import torch

from cnnviz.architecture.models import TinyVGG

pytestmark = pytest.mark.cuda
CUDA = torch.device("cuda")


def _pair():
    torch.manual_seed(0)
    m = TinyVGG(1, 10, 8, width=4).eval()
    return m, copy.deepcopy(m).to(CUDA), torch.rand(1, 1, 8, 8)


def test_features_capture():
    from cnnviz.inside.features import capture
    m, g, x = _pair()
    (a, fa), (b, fb) = capture(m, x), capture(g, x)
    assert b.device.type == "cpu" and torch.allclose(a, b, atol=1e-4)
    assert all(torch.allclose(fa[k], fb[k], atol=1e-4) for k in fa)


@pytest.mark.parametrize("method", ["saliency", "integrated_gradients", "gradcam"])
def test_saliency(method):
    from cnnviz.inside.saliency import attribute
    m, g, x = _pair()
    a, b = attribute(m, x, 3, method), attribute(g, x, 3, method)
    assert b.device.type == "cpu" and torch.allclose(a, b, atol=1e-3, rtol=1e-3)


def test_explorer_neuron_detail():
    from cnnviz.explorer.neuron import neuron_detail
    m, g, x = _pair()
    conv = next(n for n, mod in m.named_modules() if isinstance(mod, torch.nn.Conv2d))
    a, b = neuron_detail(m, x, conv, 1, (2, 2)), neuron_detail(g, x, conv, 1, (2, 2))
    assert a.value == pytest.approx(b.value, abs=1e-4) and torch.allclose(a.patch, b.patch)


def test_compression_accuracy_and_summary():
    from cnnviz.architecture.summary import summarize
    from cnnviz.compression.evaluate import tradeoff_curves
    m, g, _ = _pair()
    x, y = torch.rand(64, 1, 8, 8), torch.randint(0, 10, (64,))
    ca = [p.accuracy for p in tradeoff_curves(m, x, y, bits_list=(4, 8), sparsities=(0.5,))]
    cb = [p.accuracy for p in tradeoff_curves(g, x, y, bits_list=(4, 8), sparsities=(0.5,))]
    assert ca == pytest.approx(cb, abs=2 / 64)
    assert summarize(m, (1, 8, 8)).table() == summarize(g, (1, 8, 8)).table()


def test_distillation_one_epoch():
    import threading
    from cnnviz.compression.distill import DistillConfig, run_distill
    res = {}
    for dev in ("cpu", "cuda"):
        ev = []
        run_distill(DistillConfig(epochs=1, n_train=256, student_width=2), ev.append, threading.Event(), device=dev)
        res[dev] = ev[-1].best_val_acc
    assert res["cuda"] == pytest.approx(res["cpu"], abs=0.1)


def test_gradients_demo():
    from cnnviz.training.gradients import compare
    x, y = torch.rand(64, 1, 8, 8), torch.randint(0, 10, (64,))
    a = compare(x, y, 10, depth=6, steps=3, batch=16, device="cpu")
    b = compare(x, y, 10, depth=6, steps=3, batch=16, device="cuda")
    assert a["plain"]["grad_norms"] == pytest.approx(b["plain"]["grad_norms"], rel=1e-2, abs=1e-6)


@pytest.mark.parametrize("amp", ["off", "fp16", "bf16"])
def test_short_training_on_cuda_lands_in_the_cpu_band(amp):
    """Not bit-equal (other kernels, other reduction order): the same seeded run reaches the CPU's accuracy band."""
    import threading

    from cnnviz.jobs import Evaluation
    from cnnviz.training import TrainConfig
    from cnnviz.training.loop import run_training
    if amp == "bf16" and not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU has no bfloat16")

    def final_acc(device, amp_mode):
        events = []
        run_training(TrainConfig(dataset="digits", epochs=2, batch_size=64, lr=2e-2, amp=amp_mode), events.append,
                     threading.Event(), lambda _b: None, device)
        return [e for e in events if isinstance(e, Evaluation)][-1].val_acc

    cpu, gpu = final_acc(torch.device("cpu"), "off"), final_acc(CUDA, amp)
    assert gpu >= 0.90 and abs(gpu - cpu) <= 0.03
