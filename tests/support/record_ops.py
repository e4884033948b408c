"""A torch dispatch mode that records every ATen op: "no op ran" means no tensor was made, a bound that holds on
any machine (unlike a wall-clock one)."""
from torch.utils._python_dispatch import TorchDispatchMode


class RecordOps(TorchDispatchMode):
    """Records every ATen op, factories (torch.empty, zeros ...) included."""

    def __init__(self):
        super().__init__()
        self.ops = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops.append(str(func))
        return func(*args, **(kwargs or {}))
