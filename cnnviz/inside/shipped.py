"""The trained models shipped in ``assets/models/`` (made by ``scripts/train_shipped_models.py``), a small
deterministic training loop that made them, and a safe loader for checkpoints users upload.

Every file is read with ``torch.load(weights_only=True)``: tensors and plain containers only, never pickled
code. An upload is either a bare ``state_dict`` whose architecture matches a shipped model, or a Training Lab
checkpoint (``{"spec"/"meta": {...}, "state_dict": {...}}``)."""
from __future__ import annotations

import functools
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn

from cnnviz.device import pick_device, to_model_device
from cnnviz.errors import ConfigError
from cnnviz.io import budgets
from cnnviz.architecture.models import MODELS, build_model

ROOT = Path(__file__).resolve().parents[2]
MODEL_DIR = ROOT / "assets" / "models"
SAMPLE_DIR = ROOT / "assets" / "samples"
INDEX = MODEL_DIR / "models.json"
MAX_CHECKPOINT_BYTES = budgets.CHECKPOINT_FILE_BYTES


@dataclass(frozen=True)
class ModelInfo:
    key: str                  # e.g. "digits_TinyVGG"
    model: str                # class name in cnnviz.architecture.models.MODELS
    kwargs: dict              # in_channels, num_classes, size, width
    dataset: str
    classes: tuple[str, ...]
    val_accuracy: float
    file: str = ""
    note: str = ""

    @property
    def title(self) -> str:
        return f"{self.model} on {self.dataset} ({100 * self.val_accuracy:.1f}% val. accuracy)"

    @property
    def short(self) -> str:
        """What a model select box shows, short enough for presenter mode: ``TinyVGG · digits``."""
        return f"{self.model} · {self.dataset}"

    @property
    def accuracy_text(self) -> str:
        """``96.9% validation accuracy``, shown next to the select box; empty when unknown (an upload)."""
        acc = self.val_accuracy
        return "" if acc != acc else f"{100 * acc:.1f}% validation accuracy"  # acc != acc: NaN

    def build(self) -> nn.Module:
        return build_model(self.model, **self.kwargs)


def _info(key: str, d: dict) -> ModelInfo:
    return ModelInfo(key, d["model"], dict(d["kwargs"]), d["dataset"], tuple(d["classes"]),
                     float(d["val_accuracy"]), d.get("file", ""), d.get("note", ""))


def list_models() -> dict[str, ModelInfo]:
    """Shipped models by key, in the index's order; empty when the assets are missing."""
    if not INDEX.exists():
        return {}
    return {k: _info(k, d) for k, d in json.loads(INDEX.read_text())["models"].items()}


def load_model(key: str) -> tuple[nn.Module, ModelInfo]:
    models = list_models()
    if key not in models:
        raise ConfigError("model", f"no shipped model {key!r}; choose one of {', '.join(models) or '(none)'}")
    info = models[key]
    model = info.build()
    model.load_state_dict(torch.load(MODEL_DIR / info.file, map_location="cpu", weights_only=True))
    return model.eval().to(pick_device()), info  # loaded on the CPU (weights_only), then moved by the policy


# --------------------------------------------------------------------------- user checkpoints
def load_uploaded(data: bytes, name: str = "upload") -> tuple[nn.Module, ModelInfo]:
    """A checkpoint file's bytes -> (model in eval mode on ``pick_device()``, info). Refuses pickled code,
    unknown architectures and weights that do not fit, with a message naming the problem."""
    device = pick_device()  # before any work: an unusable CNNVIZ_DEVICE is refused first
    model, info = _load_uploaded_cpu(data, name)
    return model.to(device), info


def _load_uploaded_cpu(data: bytes, name: str) -> tuple[nn.Module, ModelInfo]:
    from cnnviz.io.uploads import load_weights
    from cnnviz.training.checkpoint import check_kwargs, check_state_dict
    obj = load_weights(data, "checkpoint")  # size-checked archive, torch.load(weights_only=True)
    if not isinstance(obj, dict):
        raise ConfigError("checkpoint", f"holds a {type(obj).__name__}; expected a state_dict or a Training Lab "
                          "checkpoint (a dict with 'state_dict' and its model description)")
    if str(obj.get("format", "")).startswith("cnnviz-checkpoint/"):
        return _training_lab(data, name)
    meta = next((obj[k] for k in ("meta", "spec", "config") if isinstance(obj.get(k), dict)), None)
    state = obj.get("state_dict", obj if all(isinstance(v, torch.Tensor) for v in obj.values()) else None)
    if not isinstance(state, dict) or not state:
        raise ConfigError("checkpoint", "has no 'state_dict' of tensors")
    candidates = []
    if meta and isinstance(meta.get("model"), str) and meta["model"] in MODELS:  # validated before any build
        kw = check_kwargs(meta["kwargs"] if "kwargs" in meta else {k: meta[k] for k in ("in_channels", "num_classes",
                                                                                     "size", "width") if k in meta},
                          "meta.kwargs")
        classes = meta.get("classes") or [str(i) for i in range(kw["num_classes"])]
        if not isinstance(classes, (list, tuple)) or len(classes) != kw["num_classes"] or not all(
                isinstance(c, str) and 1 <= len(c) <= 100 for c in classes):
            raise ConfigError("checkpoint.meta.classes", f"must be {kw['num_classes']} class names (text of 1..100 "
                              "characters), one per output")
        acc = meta.get("val_accuracy", float("nan"))
        acc = float(acc) if isinstance(acc, (int, float)) and not isinstance(acc, bool) else float("nan")
        check_state_dict(state, meta["model"], kw)  # the spec's fields are named when the weights disagree
        candidates.append(ModelInfo(name, meta["model"], kw, str(meta.get("dataset", "?"))[:40], tuple(classes),
                                    acc))
    candidates += list(list_models().values())
    for info in candidates:
        try:
            check_state_dict(state, info.model, info.kwargs)  # shapes on the meta device: nothing allocated
            model = info.build()
            model.load_state_dict(state)
        except (ConfigError, RuntimeError, TypeError, KeyError):
            continue
        return model.eval(), ModelInfo(name, info.model, info.kwargs, info.dataset, info.classes,
                                       float("nan") if info.key != name else info.val_accuracy,
                                       note="uploaded")
    raise ConfigError("checkpoint", "its weights match none of the known architectures "
                      f"({', '.join(MODELS)} with the shipped sizes); save a Training Lab checkpoint with "
                      "its model description")


# --------------------------------------------------------------------------- the training that made them
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 512) -> float:
    was = model.training
    model.eval()
    x, y = to_model_device(x, model), to_model_device(y, model)
    with torch.no_grad():
        correct = sum(int((model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum()) for i in range(0, len(y), batch))
    model.train(was)
    return correct / len(y)


def train(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int, lr: float = 3e-3, batch: int = 64,
          seed: int = 0) -> nn.Module:
    """Adam + cross-entropy, seeded shuffling: the same data, seed and thread count give the same weights."""
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * -(-len(y) // batch))
    model.train()
    x, y = to_model_device(x, model), to_model_device(y, model)
    for _ in range(epochs):
        perm = torch.randperm(len(y), generator=g).to(y.device)
        for i in range(0, len(y), batch):
            idx = perm[i:i + batch]
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    return model.eval()


# --------------------------------------------------------------------------- inputs for a model
@functools.lru_cache(maxsize=6)
def validation_set(dataset: str, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """The validation images (N, C, H, W) and labels a shipped model was scored on. Cached (a few hundred small
    images each): the shapes set is generated, and pages read it on every rerun. Callers must not modify them."""
    if dataset == "cleverhans":
        from cnnviz.inside.cleverhans import load_cleverhans
        ds = load_cleverhans(seed)
    else:
        from cnnviz.io.data import load_dataset
        ds = load_dataset(dataset, seed=seed)
    return ds.x_val, ds.y_val


def samples_for(info: ModelInfo) -> dict[str, Path]:
    """Sample PNGs made for the model's data set (all samples when none match, e.g. an uploaded model)."""
    from cnnviz.io.images import list_samples
    every = list_samples(SAMPLE_DIR)
    mine = {k: p for k, p in every.items() if k.startswith(info.dataset + "_")}
    return mine or every


def _training_lab(data: bytes, name: str) -> tuple[nn.Module, ModelInfo]:
    """A Training Lab checkpoint, read by the Training Lab's own loader (weights_only=True as well)."""
    from cnnviz.training.checkpoint import load_checkpoint
    model, meta = load_checkpoint(data)
    spec, extra, config = meta["spec"], meta.get("extra") or {}, meta.get("config") or {}
    kwargs = dict(spec.get("kwargs", {}))
    classes = tuple(meta["classes"])  # validated: one name per output
    acc = extra.get("val_accuracy", extra.get("val_acc", float("nan")))
    return model.eval(), ModelInfo(name, spec["model"], kwargs, str(config.get("dataset", "?"))[:40], classes,
                                   float(acc) if isinstance(acc, (int, float)) and not isinstance(acc, bool)
                                   else float("nan"),
                                   note="Training Lab checkpoint")


SOURCES = ("sample", "validation", "upload")
VALIDATION_SETS = ("digits", "shapes", "fashion", "cleverhans")  # data sets whose validation images ship


def class_slug(name: str) -> str:
    """A class name as it appears in a sample's file name: letters, digits and '-' ("T-shirt/top" -> "T-shirt-top",
    "Ankle boot" -> "Ankle-boot")."""
    return re.sub(r"[^0-9A-Za-z]+", "-", name).strip("-")


def sample_title(name: str) -> str:
    """What a sample selector shows: ``digits_3_0`` -> ``3 · #1``, ``shapes_circle_1`` -> ``circle · #2`` (the
    class the file shows, then which one); any other name unchanged."""
    parts = name.split("_")
    if len(parts) >= 3 and parts[-1].isdigit():
        return f"{' '.join(parts[1:-1])} · #{int(parts[-1]) + 1}"
    return name


def input_image(info: ModelInfo, source: str, sample: str = "", index: int = 0, data: bytes | None = None,
                invert: bool = False) -> tuple[torch.Tensor, int | None]:
    """The image a page looks at, ready for the model: ``(x (1, C, H, W), true class or None)``.
    ``source``: a shipped sample PNG by name, the ``index``-th validation image, or uploaded file bytes."""
    from cnnviz.io.images import load_image
    c, size = info.kwargs["in_channels"], info.kwargs["size"]
    if source == "sample":
        samples = samples_for(info)
        if sample not in samples:
            raise ConfigError("sample", f"no sample {sample!r}; choose one of {', '.join(samples)}")
        stem_class = sample.split("_")[-2] if sample.count("_") >= 2 else None
        slugs = [class_slug(c) for c in info.classes]
        label = slugs.index(stem_class) if stem_class in slugs else None
        return load_image(samples[sample].read_bytes(), c, size, invert), label
    if source == "validation":
        if info.dataset not in VALIDATION_SETS:
            raise ConfigError("image", f"this model's data set ({info.dataset}) has no validation images here; "
                              "pick a sample or upload an image")
        x, y = validation_set(info.dataset)
        if not 0 <= index < len(y):
            raise ConfigError("index", f"must be in 0..{len(y) - 1}, got {index}")
        return x[index:index + 1].clone(), int(y[index])  # a copy: the cached set stays as it was
    if source == "upload":
        if not data:
            raise ConfigError("image", "upload an image file first (PNG, JPEG, BMP, GIF or WebP)")
        return load_image(data, c, size, invert), None
    raise ConfigError("source", f"unknown image source {source!r}; choose one of {', '.join(SOURCES)}")
