"""A class group's step on a CPU with several threads, as parts: the members split into ``T`` runs of rows, each
part's forward, loss and backward on its own Python thread while the process runs one intra-op thread (torch's
CPU ops release the GIL, and the CPU autograd engine runs a backward pass on its calling thread).

With two OpenMP threads every small operation of the grouped pass (hundreds a step) ends in a barrier where
one thread waits for the other; on a shared machine a descheduled thread stalls both. Independent parts have
no barrier between them. ``bench/group_step.py`` measures ``step halves`` against the two-thread ``step``.

Each part reads its own leaves (views of its rows of the group's flat parameters, :meth:`GroupState.part`) and
writes its gradients into its rows of the flat gradient, so the parts share nothing but read-only data; a
member's numbers are those of the whole group's pass (the same grouped operations on fewer groups)."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import torch

from cnnviz.training.group_forward import GroupedForward

PART_MIN = 4  # members per part at least: smaller parts lose more to per-operation overhead than they gain


def part_count(dev: torch.device, members: int, amp_used: str, threads: int | None = None) -> int:
    """How many parts a group of ``members`` runs in: the CPU's intra-op threads (without mixed precision,
    which is CUDA only), at most one part per ``PART_MIN`` members; 1 = the whole group in one pass."""
    threads = torch.get_num_threads() if threads is None else threads
    if torch.device(dev).type != "cpu" or amp_used != "off" or threads < 2:
        return 1
    return max(1, min(threads, members // PART_MIN))


class Parts:
    """The forward / backward of a group in ``n`` parts on ``n`` threads (the caller's and ``n − 1`` workers).
    Use as a context manager: the process runs one intra-op thread meanwhile (restored on exit)."""

    def __init__(self, model: torch.nn.Module, n: int):
        self.n = n
        self.fwds = [GroupedForward(model) for _ in range(n)]  # a GroupedForward holds its call's state
        self.pool = ThreadPoolExecutor(n - 1, thread_name_prefix="group-part") if n > 1 else None
        self.threads = torch.get_num_threads()
        self._graphs = None

    def __enter__(self) -> Parts:
        if self.n > 1:
            torch.set_num_threads(1)
        return self

    def __exit__(self, *exc) -> None:
        if self.n > 1:
            torch.set_num_threads(self.threads)
            self.pool.shutdown(wait=True)

    def rows(self, m: int) -> list[slice]:
        n = min(self.n, m)
        cuts = [round(j * m / n) for j in range(n + 1)]
        return [slice(a, b) for a, b in zip(cuts, cuts[1:])]

    def _each(self, fn, rows: list[slice]) -> list:
        futures = [self.pool.submit(_one_thread, fn, j, r) for j, r in enumerate(rows) if j > 0]
        first = fn(0, rows[0])
        return [first] + [f.result() for f in futures]

    def forward(self, state, x: torch.Tensor, y: torch.Tensor, smoothing: torch.Tensor, loss_fn):
        """Every part's forward pass and per-member losses; (out (M, B, K), losses (M,)), both detached (the
        parts keep their graphs for :meth:`backward`)."""
        rows = self.rows(len(x))

        def one(j, r):
            leaves, _ = state.part(r)
            out = self.fwds[j](leaves, {k: v[r] for k, v in state.buffers.items()}, x[r])
            return out, loss_fn(out, y[r], smoothing[r])
        self._graphs = list(zip(rows, self._each(one, rows)))
        return (torch.cat([out.detach() for _, (out, _) in self._graphs]),
                torch.cat([loss.detach() for _, (_, loss) in self._graphs]))

    def evaluate(self, state, num_classes: int, evaluate_fn) -> list[tuple]:
        """``evaluate_fn`` (:func:`.group_train.evaluate_group`) of each part's members, on the parts' threads:
        one result per member, in row order."""
        rows = self.rows(state.m)
        return [r for part in self._each(lambda j, r: evaluate_fn(self.fwds[j], state, state.runs, num_classes, r),
                                         rows) for r in part]

    def backward(self, state) -> None:
        """Each part's gradients into its rows of the group's flat gradient."""
        graphs, self._graphs = self._graphs, None

        def one(j, r):
            leaves, grads = state.part(r)
            got = torch.autograd.grad(graphs[j][1][1].sum(), list(leaves.values()))
            with torch.no_grad():
                for dst, g in zip(grads, got):
                    dst.copy_(g)
        self._each(one, [r for r, _ in graphs])


def _one_thread(fn, j, r):
    torch.set_num_threads(1)  # this thread's OpenMP setting (a worker's own is the machine's default)
    return fn(j, r)
