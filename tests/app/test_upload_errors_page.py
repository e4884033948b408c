"""Pages that take uploads show a refused checkpoint or ZIP as an st.error naming the field, never a
traceback: a checkpoint whose spec lies about its sizes and an inflating archive (Network Explorer, through
the Training Lab's "Explore this model" bytes), and the shared ZIP helper refusing a pixel bomb."""

import pytest
import torch
from PIL import Image

from tests.support import apptest
from tests.support.bombs import class_zip, inflating, png
from tests.support.rendered import shown
from cnnviz import ConfigError
from cnnviz.architecture.models import TinyVGG
from cnnviz.training.checkpoint import model_spec, save_checkpoint


def lying_checkpoint() -> bytes:
    torch.manual_seed(0)
    spec = model_spec("TinyVGG", 1, 3, 8, 4, ("a", "b", "c"))
    spec["kwargs"].update(width=200, size=128)
    return save_checkpoint(spec, TinyVGG(1, 3, 8, width=4), step=0, epoch=0)


def inflating_checkpoint() -> bytes:
    return inflating(save_checkpoint(model_spec("TinyVGG", 1, 3, 8, 4, ("a", "b", "c")), TinyVGG(1, 3, 8, width=4),
                                     step=0, epoch=0), n_mib=128)


def extreme_checkpoint() -> bytes:
    """Finite weights of 1e38: one layer overflows float32."""
    net = TinyVGG(1, 3, 8, width=4)
    with torch.no_grad():
        net.features[0].weight.fill_(1e38)
    return save_checkpoint(model_spec("TinyVGG", 1, 3, 8, 4, ("a", "b", "c")), net, step=0, epoch=0)


@pytest.mark.parametrize("make,field", [(lying_checkpoint, "checkpoint.spec.kwargs.width"),
                                        (inflating_checkpoint, "checkpoint"),
                                        (extreme_checkpoint, "checkpoint.state_dict.features.0.weight")],
                         ids=["lying-spec", "inflating", "extreme-weights"])
def test_network_explorer_shows_a_refused_checkpoint_as_an_error(make, field):
    at = apptest.AppTest.from_file(str(apptest.ROOT / "pages/network_explorer.py"), default_timeout=120)
    at.session_state["explorer_model_bytes"] = make()
    at.session_state["net_model"] = "session"
    at.run()
    assert not at.exception, at.exception
    assert any(field in shown(e.value) for e in at.error), [shown(e.value) for e in at.error]


def test_zip_helper_refuses_a_pixel_bomb_with_config_error():
    from cnnviz.ui.uploads import zip_dataset
    with pytest.raises(ConfigError, match="million pixel values"):
        zip_dataset(class_zip(png(Image.new("RGB", (4000, 4000))), 20))
    good = class_zip(png(Image.new("RGB", (6, 6), (255, 0, 0))), 4)
    ds = zip_dataset(good, size=4)
    assert ds.x_train.shape[1:] == (3, 4, 4) and float(ds.x_train[:, 0].min()) == 1.0
    assert zip_dataset(good, size=4) is ds  # the bounded cache


def test_a_zip_in_the_cache_counts_its_bytes_and_expires():
    from cnnviz.io.cache import BoundedCache
    now = [0.0]
    c = BoundedCache(max_entries=2, max_bytes=100, ttl_s=10, clock=lambda: now[0])
    c.put("a", torch.zeros(10))  # 40 bytes
    c.put("b", torch.zeros(10))
    assert len(c) == 2 and c.nbytes == 80
    c.put("c", torch.zeros(10))  # 3 entries > 2: "a" goes
    assert c.get("a") is None and c.get("b") is not None
    c.put("d", torch.zeros(20))  # 80 bytes: with "b" and "c" over 100 bytes, the least recent go
    assert c.nbytes <= 100 and c.get("d") is not None
    assert not c.put("huge", torch.zeros(100))  # alone over the byte bound: not kept
    now[0] = 11.0
    assert len(c) == 0 and c.get("d") is None  # expired
