"""The shipped models: the weights give the stored accuracy, the script reproduces them, uploads are safe."""
import io
import json
import sys
from pathlib import Path

import pytest
import torch

from cnnviz import ConfigError
from cnnviz.inside.cleverhans import load_cleverhans, patch_share, swapped
from cnnviz.io.data import load_dataset
from cnnviz.inside.saliency import attribute, to_map
from cnnviz.inside.shipped import INDEX, MODEL_DIR, accuracy, list_models, load_model, load_uploaded

ROOT = Path(__file__).resolve().parents[3]
from scripts import train_shipped_models as script  # noqa: E402


def test_index_lists_every_config_and_files_are_small():
    models = list_models()
    assert list(models) == list(script.CONFIGS)
    total = sum((MODEL_DIR / m.file).stat().st_size for m in models.values()) + INDEX.stat().st_size
    assert total < 1_000_000
    # Fashion-MNIST is harder (a shirt, a T-shirt and a pullover look alike at 28×28): issue 33 asks for ≥ 85 %
    assert all(m.val_accuracy >= (0.85 if m.dataset == "fashion" else 0.9) for m in models.values())


@pytest.mark.parametrize("key", ["digits_TinyVGG", "shapes_TinyVGG", "digits_SmallResNet"])
def test_saved_weights_give_the_stored_val_accuracy(key):
    model, info = load_model(key)
    ds = load_dataset(info.dataset, seed=script.SEED)
    assert accuracy(model, ds.x_val, ds.y_val) == pytest.approx(info.val_accuracy, abs=1e-6)
    assert info.classes == ds.classes


# Training is not bit-reproducible across machines, thread counts or load (oneDNN/BLAS choose kernels and
# reduction orders), so the retrained weights are not compared with the shipped ones. What the script promises is a
# model of the stored quality; what the shipped file promises (deterministic inference) is checked exactly above.
ACCURACY_TOLERANCE = 0.01   # ±1 point of validation accuracy on the same seed and split


def test_script_reproduces_digits_tinyvgg_quality():
    model, meta = script.train_config("digits_TinyVGG")
    stored = list_models()["digits_TinyVGG"]
    assert abs(meta["val_accuracy"] - stored.val_accuracy) <= ACCURACY_TOLERANCE
    # the shipped file holds the same architecture the script builds: the same keys with the same shapes
    saved = torch.load(MODEL_DIR / stored.file, weights_only=True)
    assert {k: tuple(v.shape) for k, v in saved.items()} == {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert all(torch.isfinite(v).all() for v in saved.values() if v.is_floating_point())


def test_clever_hans_model_reads_the_patch():
    model, info = load_model("cleverhans_TinyVGG")
    ds = load_cleverhans(script.SEED)
    assert accuracy(model, ds.x_val, ds.y_val) > 0.95
    assert accuracy(model, swapped(ds), ds.y_val) < 0.2  # repainted patch -> wrong class: it never saw the shape
    x = ds.x_val[:1]
    share = patch_share(to_map(attribute(model, x, int(ds.y_val[0]), "saliency")))
    assert share > 25 / 1024 * 4  # the 5×5 patch is 2.4 % of the image but gets far more of the gradient


def _bytes(obj):
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def test_upload_of_state_dict_or_checkpoint_loads():
    ref, info = load_model("digits_TinyVGG")
    model, up = load_uploaded(_bytes(ref.state_dict()), "mine.pt")
    x = torch.rand(1, 1, 8, 8)
    torch.testing.assert_close(model(x), ref(x))
    assert up.model == "TinyVGG" and up.classes == info.classes
    meta = json.loads(INDEX.read_text())["models"]["shapes_TinyVGG"]
    ref2, _ = load_model("shapes_TinyVGG")
    model2, up2 = load_uploaded(_bytes({"meta": meta, "state_dict": ref2.state_dict()}), "ck.pt")
    assert up2.kwargs["in_channels"] == 3 and up2.val_accuracy == meta["val_accuracy"]


class Evil:
    def __reduce__(self):
        return (print, ("pwned",))


@pytest.mark.parametrize("payload,match", [
    (_bytes(Evil()), "weights_only"),
    (b"not a checkpoint at all", "not a PyTorch weights file"),
    (_bytes([1, 2, 3]), "holds a list"),
    (_bytes({"state_dict": {"w": torch.zeros(3)}}), "match none"),
], ids=["pickled-code", "garbage", "list", "unknown-arch"])
def test_bad_uploads_are_refused_with_a_clear_message(payload, match, capsys):
    with pytest.raises(ConfigError, match=match):
        load_uploaded(payload)
    assert "pwned" not in capsys.readouterr().out


def test_training_lab_checkpoint_is_read_with_its_own_loader():
    ckpt = pytest.importorskip("cnnviz.training.checkpoint")
    ref, info = load_model("digits_TinyVGG")
    data = ckpt.save_checkpoint(ckpt.model_spec("TinyVGG", 1, 10, 8, 8, info.classes), ref, step=5, epoch=1,
                                config={"dataset": "digits"}, extra={"val_accuracy": 0.5})
    model, up = load_uploaded(data, "lab.pt")
    x = torch.rand(1, 1, 8, 8)
    torch.testing.assert_close(model(x), ref(x))
    assert up.dataset == "digits" and up.val_accuracy == 0.5 and up.classes == info.classes


def test_sample_titles_read_as_class_and_number():
    from cnnviz.inside.shipped import list_models, sample_title, samples_for
    assert sample_title("digits_3_0") == "3 · #1"
    assert sample_title("shapes_circle_1") == "circle · #2"
    assert sample_title("mine") == "mine"
    for info in list_models().values():  # every shipped sample: its title names the class input_image reads
        for name in samples_for(info):
            cls = name.split("_")[-2]
            assert sample_title(name).startswith(f"{cls} · #")


def test_model_select_labels_are_short_and_the_accuracy_is_said_apart():
    """"TinyVGG on digits (96.9% val. accu…" was cut in presenter mode; the select box shows the short
    name, the caption under the controls the accuracy (none for an upload, whose accuracy is unknown)."""
    from cnnviz.inside.shipped import ModelInfo
    info = ModelInfo("digits_TinyVGG", "TinyVGG", {}, "digits", ("0", "1"), 0.969359)
    assert info.short == "TinyVGG · digits"
    assert info.accuracy_text == "96.9% validation accuracy"
    assert ModelInfo("up", "SmallResNet", {}, "shapes", ("a",), float("nan")).accuracy_text == ""
    assert max(len(m.short) for m in list_models().values()) <= 24  # fits a third of a 1280 px presenter row
