"""A class group's step in parts (cnnviz.training.group_parts): each part's forward / backward on its own
thread gives every member the numbers of the whole group's one pass (weights after 2 epochs within 1e-5 of the
largest weight of their tensor, the same accuracies and confusion matrices), the process's thread count comes
back afterwards, and the part count follows the CPU's threads and the group's size."""
import io
import threading

import pytest
import torch

from cnnviz.io.data import load_dataset
from cnnviz.jobs import Evaluation
from cnnviz.training import group_train
from cnnviz.training.group import GroupJob, train_group
from cnnviz.training.group_parts import PART_MIN, part_count
from cnnviz.training.recipe import SWITCHES, from_switches

CPU = torch.device("cpu")
DATA = load_dataset("digits", 0, 200)
BASE = dict(dataset="digits", data=DATA, model="TinyVGG", width=4, epochs=2, batch_size=32)


def _train(cfgs, parts, monkeypatch):
    monkeypatch.setattr(group_train, "part_count", lambda *a, **k: parts)
    events, blobs = [[] for _ in cfgs], [[] for _ in cfgs]
    threads = torch.get_num_threads()
    train_group([GroupJob(c, events[k].append, threading.Event(), blobs[k].append) for k, c in enumerate(cfgs)],
                CPU)
    assert torch.get_num_threads() == threads
    return events, blobs


def test_members_trained_in_parts_get_the_whole_groups_numbers(monkeypatch):
    names = [name for name, _, _ in SWITCHES][:6]
    cfgs = [from_switches(8, {name: True}, False, seed=k + 1, lr=0.01 * (k + 1), **BASE)
            for k, name in enumerate(names)]
    whole, parted = _train(cfgs, 1, monkeypatch), _train(cfgs, 3, monkeypatch)
    for k in range(len(cfgs)):
        ev_a, ev_b = whole[0][k], parted[0][k]
        assert [type(e) for e in ev_a if isinstance(e, Evaluation)] and len(ev_a) > 0
        for a, b in zip([e for e in ev_a if isinstance(e, Evaluation)], [e for e in ev_b if isinstance(e, Evaluation)]):
            assert (a.step, a.val_acc, a.confusion) == (b.step, b.val_acc, b.confusion)
            assert b.val_loss == pytest.approx(a.val_loss, rel=1e-5)
            assert b.train_loss == pytest.approx(a.train_loss, rel=1e-5)
        assert ev_a[-1] == ev_b[-1]
        assert len(whole[1][k]) == len(parted[1][k]) == 2
        wa = torch.load(io.BytesIO(whole[1][k][-1]), weights_only=True)["state_dict"]
        wb = torch.load(io.BytesIO(parted[1][k][-1]), weights_only=True)["state_dict"]
        for n in wa:
            scale = wa[n].abs().max().clamp_min(1e-12)
            assert ((wa[n] - wb[n]).abs().max() / scale).item() < 1e-5, (k, n)
        assert not torch.equal(wa["features.0.weight"], torch.load(io.BytesIO(whole[1][(k + 1) % len(cfgs)][-1]),
                                                                   weights_only=True)["state_dict"]["features.0.weight"])


@pytest.mark.parametrize("dev,members,amp,threads,want", [
    ("cpu", 30, "off", 2, 2), ("cpu", 30, "off", 1, 1), ("cpu", 2 * PART_MIN - 1, "off", 2, 1),
    ("cpu", 30, "off", 16, 30 // PART_MIN), ("cuda", 30, "off", 2, 1), ("cpu", 30, "bf16", 2, 1)])
def test_part_count_follows_the_threads_and_the_groups_size(dev, members, amp, threads, want):
    assert part_count(torch.device(dev), members, amp, threads) == want
