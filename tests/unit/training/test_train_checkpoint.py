"""Checkpoints: round trip, a pickle gadget is refused without running, garbage gets a message."""
import io
import json
import pickle

import pytest
import torch

from cnnviz import ConfigError
from cnnviz.architecture.models import TinyVGG
from cnnviz.training.checkpoint import FORMAT, load_checkpoint, model_spec, save_checkpoint

FIRED = []


def _fire(tag):  # what the gadget calls when unpickled
    FIRED.append(tag)
    return tag


class Gadget:
    def __reduce__(self):
        return (_fire, ("code ran",))


def tiny():
    torch.manual_seed(0)
    spec = model_spec("TinyVGG", 1, 3, 8, 4, ("a", "b", "c"))
    return spec, TinyVGG(1, 3, 8, width=4).eval()


def test_round_trip_gives_the_same_outputs(tmp_path):
    spec, model = tiny()
    blob = save_checkpoint(spec, model, step=7, epoch=1, config={"lr": 0.1}, extra={"val_acc": 0.5})
    x = torch.rand(5, 1, 8, 8)
    for src in (blob, tmp_path / "c.pt"):
        if not isinstance(src, bytes):
            src.write_bytes(blob)
        loaded, meta = load_checkpoint(src)
        torch.testing.assert_close(loaded(x), model(x), rtol=0, atol=0)
        assert meta["classes"] == ("a", "b", "c") and meta["step"] == 7 and meta["config"] == {"lr": 0.1}
        assert meta["extra"]["val_acc"] == 0.5 and not loaded.training


def gadget_bytes(where: str) -> bytes:
    spec, model = tiny()
    payload = dict(format=FORMAT, spec=json.dumps(spec), config="{}", extra="{}", step=0, epoch=0,
                   state_dict=model.state_dict())
    payload[where] = Gadget()
    buf = io.BytesIO()
    torch.save(payload, buf)
    return buf.getvalue()


@pytest.mark.parametrize("where", ["extra", "state_dict_hook"])
def test_pickle_gadget_is_refused_and_never_runs(where):
    blob = gadget_bytes(where)
    FIRED.clear()
    # the gadget is real: the unsafe loader runs it
    torch.load(io.BytesIO(blob), weights_only=False)
    assert FIRED == ["code ran"]
    FIRED.clear()
    with pytest.raises(ConfigError) as e:
        load_checkpoint(blob)
    assert e.value.field == "checkpoint" and "refused" in str(e.value)
    assert FIRED == []


def test_plain_pickle_and_garbage_and_foreign_checkpoints_are_refused():
    FIRED.clear()
    with pytest.raises(ConfigError):
        load_checkpoint(pickle.dumps({"x": Gadget()}))
    assert FIRED == []
    with pytest.raises(ConfigError, match="not a readable"):
        load_checkpoint(b"this is not a checkpoint")
    buf = io.BytesIO()
    torch.save({"weights": torch.zeros(3)}, buf)
    with pytest.raises(ConfigError, match="not a cnnviz checkpoint"):
        load_checkpoint(buf.getvalue())


def test_spec_that_does_not_fit_the_weights_is_refused():
    spec, model = tiny()
    blob = save_checkpoint({**spec, "kwargs": {**spec["kwargs"], "width": 5}}, model, step=0, epoch=0)
    with pytest.raises(ConfigError, match="do not fit"):
        load_checkpoint(blob)
    blob = save_checkpoint({**spec, "model": "os.system"}, model, step=0, epoch=0)
    with pytest.raises(ConfigError, match="unknown model"):
        load_checkpoint(blob)
