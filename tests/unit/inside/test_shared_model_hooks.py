"""The app's models are shared by every session: a hook one session puts on a module must see only that session's
forward pass. Two threads, one model: thread A captures a layer and is held (after the layer, before returning)
while thread B runs its own image through the same model; A must still get its own activation."""
import threading

import torch
import torch.nn as nn

from cnnviz.device import this_thread
from cnnviz.inside.features import capture


class Gate(nn.Module):
    """Holds the thread ``held`` (after the hooked layer) until ``release`` is set."""

    def __init__(self):
        super().__init__()
        self.held, self.inside, self.release = None, threading.Event(), threading.Event()

    def forward(self, x):
        if threading.get_ident() == self.held:
            self.inside.set()
            assert self.release.wait(10)
        return x


def test_a_capture_sees_its_own_pass_while_another_thread_runs_the_model():
    torch.manual_seed(0)
    gate = Gate()
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), gate, nn.Flatten(), nn.Linear(2 * 8 * 8, 3)).eval()
    xa, xb = torch.rand(1, 1, 8, 8), torch.rand(1, 1, 8, 8) + 5.0
    gate.held = threading.get_ident()

    def other_session():
        assert gate.inside.wait(10)        # A's hook is on the conv, A's pass is held after it
        with torch.no_grad():
            model(xb)                      # B's pass through the same conv
        gate.release.set()

    b = threading.Thread(target=other_session)
    b.start()
    _, acts = capture(model, xa, ["0"])
    b.join(10)
    with torch.no_grad():
        torch.testing.assert_close(acts["0"], model[0](xa))       # A's own activation, not B's


def test_this_thread_runs_the_hook_for_its_own_thread_only():
    calls = []
    hook = this_thread(lambda *args: calls.append(len(args)))
    hook(1, 2, 3)
    t = threading.Thread(target=hook, args=(1, 2, 3))
    t.start()
    t.join()
    assert calls == [3]
