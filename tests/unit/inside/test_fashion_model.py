"""The shipped TinyVGG for Fashion-MNIST: its accuracy on the shipped validation split, recomputed here, is the
figure its json records (which the README quotes) within 0.5 point and at least 85 %; it was trained by the
script's config; its samples name their class; a 1-epoch tiny Training Lab run on the data set works."""
import json
import threading

import pytest
import torch

from cnnviz.inside.shipped import INDEX, MODEL_DIR, accuracy, class_slug, input_image, load_model, samples_for
from cnnviz.io.data import FASHION_CLASSES, load_dataset
from cnnviz.jobs import Evaluation, Finished
from cnnviz.training import TrainConfig
from cnnviz.training.loop import run_training

from scripts import train_shipped_models as script

KEY = "fashion_TinyVGG"


def test_recomputed_validation_accuracy_is_the_recorded_one():
    recorded = json.loads(INDEX.read_text())["models"][KEY]
    model, info = load_model(KEY)
    ds = load_dataset("fashion")
    acc = accuracy(model, ds.x_val, ds.y_val)
    assert len(ds.y_val) == 1000 and abs(acc - recorded["val_accuracy"]) <= 0.005
    assert acc >= 0.85
    # the model was scored by hand here too: 1,000 validation images, argmax of the logits
    with torch.no_grad():
        hits = int((model(ds.x_val.to(next(model.parameters()).device)).argmax(1).cpu() == ds.y_val).sum())
    assert hits / 1000 == pytest.approx(acc)
    assert info.classes == FASHION_CLASSES and info.dataset == "fashion"
    cfg = script.CONFIGS[KEY]
    assert recorded["kwargs"] == dict(in_channels=1, num_classes=10, size=28, width=cfg["width"])
    assert recorded["epochs"] == cfg["epochs"] and (MODEL_DIR / recorded["file"]).stat().st_size < 100_000


def test_every_class_has_a_sample_that_names_it():
    model, info = load_model(KEY)
    samples = samples_for(info)
    assert sorted(samples) == sorted(f"fashion_{class_slug(c)}_0" for c in FASHION_CLASSES)
    assert class_slug("T-shirt/top") == "T-shirt-top" and class_slug("Ankle boot") == "Ankle-boot"
    right = 0
    for name in samples:
        x, label = input_image(info, "sample", name)
        assert x.shape == (1, 1, 28, 28) and FASHION_CLASSES[label].startswith(name.split("_")[1][:3])
        right += int(model(x.to(next(model.parameters()).device)).argmax()) == label
    assert right >= 7                                  # samples are validation images: most are recognised
    x, y = input_image(info, "validation", index=999)  # the validation source reads the shipped split
    assert y == int(load_dataset("fashion").y_val[999])


def test_one_epoch_tiny_training_run_on_fashion():
    events = []
    cfg = TrainConfig(dataset="fashion", n=200, epochs=1, width=4, batch_size=32, lr=2e-2)
    run_training(cfg, events.append, threading.Event(), lambda blob: None, torch.device("cpu"))
    evals = [e for e in events if isinstance(e, Evaluation)]
    assert [e.epoch for e in evals] == [1]
    conf = torch.tensor(evals[0].confusion)
    assert conf.shape == (10, 10) and conf.sum() == 40 and 0.0 <= evals[0].val_acc <= 1.0
    assert isinstance(events[-1], Finished) and events[-1].reason == "done"
