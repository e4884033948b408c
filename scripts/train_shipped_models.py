"""Train the models shipped in assets/models/ and write a few sample images to assets/samples/.

Deterministic: seeded data, seeded initialisation and shuffling, one CPU thread. About a minute and a half on one idle core,
plus about a minute for fashion_TinyVGG (6,000 images of 28×28, trained on the subset's training split only).
    python -m scripts.train_shipped_models            # everything
    python -m scripts.train_shipped_models digits_TinyVGG
"""
from __future__ import annotations

import json
import sys
import time

import torch


from cnnviz.inside.cleverhans import load_cleverhans, swapped  # noqa: E402
from cnnviz.io.data import load_dataset  # noqa: E402
from cnnviz.io.images import save_png  # noqa: E402
from cnnviz.architecture.models import build_model  # noqa: E402
from cnnviz.inside.shipped import INDEX, MODEL_DIR, SAMPLE_DIR, accuracy, class_slug, train  # noqa: E402

# key -> how it is trained. "dataset" is a cnnviz.io.data name, or "cleverhans" (shapes + give-away patch).
CONFIGS = {
    "digits_TinyVGG": dict(model="TinyVGG", dataset="digits", width=8, epochs=8, lr=2e-2, batch=128),
    "digits_SmallResNet": dict(model="SmallResNet", dataset="digits", width=8, epochs=8, lr=1e-2),
    "shapes_TinyVGG": dict(model="TinyVGG", dataset="shapes", width=8, epochs=5, lr=1e-2),
    "shapes_SmallResNet": dict(model="SmallResNet", dataset="shapes", width=8, epochs=3, lr=1e-2),
    "fashion_TinyVGG": dict(model="TinyVGG", dataset="fashion", width=16, epochs=10, lr=1e-2, batch=64),
    "cleverhans_TinyVGG": dict(model="TinyVGG", dataset="cleverhans", width=8, epochs=2, lr=1e-2,
                               note="trained on shapes whose top-left patch colour gives the class away"),
}
SEED = 0


def dataset(name: str):
    return load_cleverhans(SEED) if name == "cleverhans" else load_dataset(name, seed=SEED)


def train_config(key: str):
    """(model, meta) for one entry of CONFIGS; the same result on every run with one thread."""
    cfg = CONFIGS[key]
    ds = dataset(cfg["dataset"])
    torch.manual_seed(SEED)
    kwargs = dict(in_channels=ds.in_channels, num_classes=ds.num_classes, size=ds.size, width=cfg["width"])
    model = build_model(cfg["model"], **kwargs)
    train(model, ds.x_train, ds.y_train, epochs=cfg["epochs"], lr=cfg["lr"],
          batch=cfg.get("batch", 64), seed=SEED)
    meta = dict(model=cfg["model"], kwargs=kwargs, dataset=cfg["dataset"], classes=list(ds.classes),
                val_accuracy=round(accuracy(model, ds.x_val, ds.y_val), 6), epochs=cfg["epochs"], seed=SEED,
                file=f"{key}.pt", note=cfg.get("note", ""))
    if cfg["dataset"] == "cleverhans":
        meta["swapped_patch_accuracy"] = round(accuracy(model, swapped(ds), ds.y_val), 6)
    return model, meta


def write_samples() -> None:
    """Validation images of each data set as small PNGs (digits upscaled ×4 for the eye): two per shape, one per
    Fashion-MNIST class (28×28, the pixels the model reads), digits 0, 3 and 7. File names carry the class
    (``class_slug``: "T-shirt/top" -> "T-shirt-top")."""
    SAMPLE_DIR.mkdir(parents=True, exist_ok=True)
    for name in ("digits", "shapes", "cleverhans", "fashion"):
        ds = dataset(name)
        for c, cls in enumerate(ds.classes):
            if name == "digits" and c not in (0, 3, 7):
                continue
            idx = torch.nonzero(ds.y_val == c).flatten()[:1 if name != "shapes" else 2]
            for j, i in enumerate(idx.tolist()):
                save_png(ds.x_val[i], SAMPLE_DIR / f"{name}_{class_slug(cls)}_{j}.png", scale=4 if name == "digits" else 1)


def main(keys: list[str]) -> None:
    torch.set_num_threads(1)
    MODEL_DIR.mkdir(parents=True, exist_ok=True)
    index = json.loads(INDEX.read_text()) if INDEX.exists() else {"models": {}}
    for key in keys:
        t = time.time()
        model, meta = train_config(key)
        torch.save(model.state_dict(), MODEL_DIR / meta["file"])
        index["models"][key] = meta
        print(f"{key}: val accuracy {meta['val_accuracy']:.4f}  ({time.time() - t:.1f} s)", flush=True)
    index["models"] = {k: index["models"][k] for k in CONFIGS if k in index["models"]}
    index["note"] = "made by scripts/train_shipped_models.py; do not edit by hand"
    INDEX.write_text(json.dumps(index, indent=1) + "\n")
    write_samples()


if __name__ == "__main__":
    main(sys.argv[1:] or list(CONFIGS))
