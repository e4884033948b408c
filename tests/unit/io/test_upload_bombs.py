"""Upload bombs, built here at run time: each is refused with ConfigError within 2 s, and the process's peak
memory grows by less than 100 MB while it is refused (VmHWM, reset through /proc/self/clear_refs).

- a ``torch.save`` archive whose tensor member is 512 MiB of deflated zeros (≈ 0.5 MB on disk),
- a ZIP of real PNGs, each 4000×4000 (just under the per-image limit) and ~50 KB on disk,
- a ZIP of PNGs whose headers declare 20000×20000 pixels,
- a checkpoint whose spec lies about its sizes (the weights are tiny, the spec builds a 400 MB layer),
- a state_dict whose "meta" lies the same way (the Feature Maps / Network Explorer loader),
- a tensor that claims 10¹² elements over one stored number (stride 0)."""
import io
import re
import time
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from cnnviz import ConfigError
from cnnviz.architecture.models import TinyVGG
from cnnviz.inside.shipped import load_uploaded
from cnnviz.io import budgets
from cnnviz.io.uploads import load_zip
from cnnviz.training.checkpoint import load_checkpoint, model_spec, save_checkpoint
from tests.support.bombs import INFLATE_MIB, MB, class_zip, header_png, inflating, png


# --------------------------------------------------------------------------- measuring
def _status(key: str) -> int:
    return int(re.search(rf"{key}:\s+(\d+) kB", open("/proc/self/status").read()).group(1)) * 1024


def refused_quickly(fn, *args, match=None, **kwargs) -> ConfigError:
    """Runs fn, expects ConfigError; asserts < 2 s and < 100 MB of peak-RSS growth. Returns the error."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM (peak RSS) to the current RSS
        can_reset = True
    except OSError:
        can_reset = False
    before = _status("VmRSS") if can_reset else _status("VmHWM")
    t0 = time.perf_counter()
    with pytest.raises(ConfigError, match=match) as e:
        fn(*args, **kwargs)
    took = time.perf_counter() - t0
    grew = _status("VmHWM") - before
    assert took < 2.0, f"took {took:.2f} s"
    assert grew < 100 * MB, f"peak RSS grew by {grew / MB:.0f} MB"
    return e.value


def tiny_checkpoint(**spec_kwargs) -> bytes:
    torch.manual_seed(0)
    model = TinyVGG(1, 3, 8, width=4)
    spec = model_spec("TinyVGG", 1, 3, 8, 4, ("a", "b", "c"))
    spec["kwargs"].update(spec_kwargs)
    if "num_classes" in spec_kwargs:
        spec["classes"] = [f"c{i}" for i in range(spec_kwargs["num_classes"])]
    return save_checkpoint(spec, model, step=0, epoch=0, config={"epochs": 1})


# --------------------------------------------------------------------------- checkpoints
def test_the_inflating_archive_is_a_real_bomb():
    blob = inflating(tiny_checkpoint())
    assert len(blob) < 2 * MB  # ≈ 0.5 MB on disk
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        assert sum(i.file_size for i in zf.infolist()) > INFLATE_MIB * MB  # what torch.load would allocate


@pytest.mark.parametrize("loader", [load_checkpoint, load_uploaded], ids=["training-lab", "pages"])
def test_archive_member_inflation_is_refused_before_torch_load(loader):
    blob = inflating(tiny_checkpoint())
    err = refused_quickly(loader, blob, match="unpack to more than|compressed")
    assert err.field == "checkpoint"


def test_highly_compressed_small_member_is_refused_by_ratio():
    blob = inflating(tiny_checkpoint(), n_mib=8)  # 8 MiB: under the size budget, but 1000:1
    err = refused_quickly(load_checkpoint, blob, match="compressed")
    assert f"at most {budgets.CHECKPOINT_MAX_RATIO}:1" in str(err)


def test_spec_that_lies_about_sizes_is_refused_before_anything_is_built():
    # the weights are a width-4 TinyVGG; the spec would build Linear(200·32², 500): 102 M floats, 410 MB
    blob = tiny_checkpoint(width=200, size=128, num_classes=500)
    err = refused_quickly(load_checkpoint, blob, match="do not fit")
    assert err.field.startswith("checkpoint.spec.kwargs.")
    blob = tiny_checkpoint(width=4, size=10 ** 6)  # beyond the budget: named before any arithmetic on it
    assert refused_quickly(load_checkpoint, blob).field == "checkpoint.spec.kwargs.size"


def test_state_dict_meta_that_lies_about_sizes_is_refused():
    state = TinyVGG(1, 3, 8, width=4).state_dict()
    for meta, field in [(dict(model="TinyVGG", in_channels=1, num_classes=500, size=128, width=200),
                         "checkpoint.spec.kwargs.width"),
                        (dict(model="TinyVGG", in_channels=1, num_classes=3, size=8, width=10 ** 9),
                         "checkpoint.meta.kwargs.width")]:
        buf = io.BytesIO()
        torch.save({"meta": meta, "state_dict": state}, buf)
        assert refused_quickly(load_uploaded, buf.getvalue()).field == field


def test_a_tensor_claiming_a_trillion_elements_is_refused_by_its_shape():
    state = TinyVGG(1, 3, 8, width=4).state_dict()
    state["features.0.weight"] = torch.zeros(1).expand(10 ** 6, 10 ** 6)  # one float stored, 10¹² claimed
    spec = model_spec("TinyVGG", 1, 3, 8, 4, ("a", "b", "c"))
    model = TinyVGG(1, 3, 8, width=4)
    blob = save_checkpoint(spec, model, step=0, epoch=0)
    payload = torch.load(io.BytesIO(blob), weights_only=True)
    payload["state_dict"] = state
    buf = io.BytesIO()
    torch.save(payload, buf)
    assert len(buf.getvalue()) < MB
    err = refused_quickly(load_checkpoint, buf.getvalue(), match="do not fit")
    assert err.field.startswith("checkpoint.")


# --------------------------------------------------------------------------- ZIPs of images
def test_zip_of_huge_real_pngs_is_refused_from_the_headers():
    # 40 real, decodable 4000×4000 RGB PNGs (each just under the per-image limit, ~50 KB on disk):
    # 1.9 G pixel values in all, over the ZIP_DECODED_VALUES budget; decoding them took minutes of CPU
    big = png(Image.new("RGB", (4000, 4000)))
    assert len(big) < 200_000 and 4000 * 4000 <= budgets.ZIP_IMAGE_PIXELS
    data = class_zip(big, 20)
    assert len(data) < 5 * MB
    err = refused_quickly(load_zip, data, match="million pixel values")
    assert err.field == "zip" and "refused before decoding" in str(err)


def test_zip_of_20000_pixel_headers_is_refused():
    data = class_zip(header_png(20_000, 20_000), 5)
    assert len(data) < 10_000
    err = refused_quickly(load_zip, data, match="decompression bomb")
    assert err.field == "zip"


def test_the_pixel_budget_counts_channels_and_sums_over_the_zip():
    small = png(Image.fromarray(np.zeros((10, 10, 3), np.uint8)))  # 300 values each
    data = class_zip(small, 5)  # 10 images: 3000 values
    assert load_zip(data, size=4, max_decoded=3000).x_train.shape[1:] == (3, 4, 4)
    with pytest.raises(ConfigError, match="more than 0 million|pixel values"):
        load_zip(data, size=4, max_decoded=2999)


def test_a_data_set_too_big_in_memory_is_refused_by_arithmetic():
    small = png(Image.new("L", (2, 2)))
    data = class_zip(small, 4)  # 8 images of 3×S×S float32
    too_big = int((budgets.DATASET_BYTES / (8 * 3 * 4)) ** 0.5) + 1
    err = refused_quickly(load_zip, data, size=too_big)
    assert "MiB" in str(err) and err.field == "zip"


def test_progress_is_reported_and_reaches_one():
    small = png(Image.new("RGB", (6, 6), (10, 20, 30)))
    seen = []
    load_zip(class_zip(small, 4), size=4, progress=lambda frac, text: seen.append((frac, text)))
    fracs = [f for f, _ in seen]
    assert fracs == sorted(fracs) and fracs[-1] == 1.0 and len(seen) >= 3


def test_an_image_member_padded_far_beyond_its_pixels_is_refused_without_reading_it():
    padded = png(Image.new("RGB", (10, 10))) + np.random.default_rng(0).integers(0, 256, 2 * MB, np.uint8).tobytes()
    data = class_zip(padded, 4)  # 8 members of 2 MiB: 16 MiB, under the file limit
    err = refused_quickly(load_zip, data, match="MiB for 300 pixel values")
    assert err.field == "zip"
