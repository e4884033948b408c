"""The app's models are shared by every session: the feature visualisation's cost count (``forward_flops``) and its
validation means (``channel_means``) hook the shared model, and another session's forward pass through it while
the hook is on must not count. A module that runs the whole model once more from another thread in the middle of
the pass makes that happen every time; the counts equal the hand-computed ones."""
import threading

import torch
import torch.nn as nn
import torch.nn.functional as F

from cnnviz.inside import channel_means, forward_flops


class Intruder(nn.Module):
    """Identity; on its first call, another thread runs the whole model on 3 images (another session's pass)."""

    def __init__(self):
        super().__init__()
        self.whole, self.fired = [], False  # a list: the model is not registered as a submodule (a leaf)

    def forward(self, x):
        if not self.fired:
            self.fired = True
            t = threading.Thread(target=lambda: self.whole[0](torch.ones(3, 2, 5, 5)))
            t.start()
            t.join()
        return x


def make():
    torch.manual_seed(0)
    intruder = Intruder()
    model = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), intruder, nn.ReLU()).eval()
    intruder.whole.append(model)
    return model, intruder


def test_forward_flops_counts_this_threads_pass_only():
    model, _ = make()
    # conv: 2 FLOPs × 4·5·5 outputs × 2 input channels × 3·3 taps; the intruder and the ReLU: one per output value
    assert forward_flops(model, (2, 5, 5)) == 2 * 100 * 2 * 9 + 100 + 100


def test_channel_means_counts_this_threads_pass_only():
    model, intruder = make()
    xs = torch.rand(6, 2, 5, 5)
    got = channel_means(model, "0", xs)
    assert intruder.fired and got.shape == (6, 4)
    assert torch.allclose(got, F.conv2d(xs, model[0].weight, model[0].bias, padding=1).mean((2, 3)))
