"""A class group's weights, optimizer state and EMA as the source of truth: one flat ``(M, N)`` tensor each.

Row ``k`` holds member ``k``'s N parameters in its ``named_parameters`` order; the member's own ``nn.Module``
parameters are views of its row (``p.data = row[a:b].view(shape)``, as FSDP's flat parameters), and its BatchNorm
buffers views of stacked ``(M, ...)`` buffers, so its checkpoint, evaluation, live snapshots and "Explore this
model" read its own model while the group's step touches every member at once. The grouped forward reads
persistent leaf views ``(M, ...)`` of the flat tensor whose gradients are views of one flat gradient, so after
the backward pass a step is a handful of operations on ``(M, N)`` tensors with per-member ``(M, 1)``
hyper-parameters:

- AdamW as ``torch.optim.AdamW`` (decoupled decay ``p·(1 − lr·wd)``, ``lerp`` of the first moment, bias
  corrections from each member's own step count, ``eps`` added after ``√v̂``); SGD as ``torch.optim.SGD``
  (``g + wd·p``; momentum buffer ``μ·b + g``; Nesterov ``g + μ·b`` when μ > 0, which is plain ``g`` at μ = 0);
- ``clip_grad_norm_`` per member (coefficient ``min(1, max / (‖g‖ + 1e-6))``, 1 for members without clipping);
- the EMA of :class:`cnnviz.training.steps.EMA` (decay ``min(d, (1 + t) / (10 + t))``) for the members with one;
- float16 loss scaling per member as ``torch.amp.GradScaler`` (skip a member's step on inf/NaN, back off ×0.5,
  grow ×2 after 2000 good steps).

:meth:`GroupState.export` writes each member's state into its ``torch.optim`` optimizer in ``state_dict()`` form
(for its checkpoint; a resumed member's saved state is read back the same way when the state is built)."""
from __future__ import annotations

import math
import warnings

import torch

SCALER = dict(init=2.0 ** 16, growth=2.0, backoff=0.5, interval=2000)  # torch.amp.GradScaler's defaults


class GroupState:
    """The stacked state of ``runs`` (:class:`cnnviz.training.loop.Run`, same structure), built from their
    modules and ``torch.optim`` states (fresh or resumed); ``fp16`` adds per-member loss scales."""

    def __init__(self, runs: list, dev: torch.device, fp16: bool = False, scaler: dict | None = None):
        self.runs, self.m = runs, len(runs)
        self._parts = {}
        first = runs[0]
        self.names = [n for n, _ in first.model.named_parameters()]
        shapes = [p.shape for p in first.model.parameters()]
        sizes = [math.prod(s) for s in shapes]
        self.offsets = [0]
        for s in sizes:
            self.offsets.append(self.offsets[-1] + s)
        self.sgd = isinstance(first.opt, torch.optim.SGD)
        with torch.no_grad():
            self.flat = torch.stack([_flatten(r.model.parameters()) for r in runs])
            self.grad = torch.zeros_like(self.flat)
            self.leaves = {}
            for n, s, a, b in zip(self.names, shapes, self.offsets, self.offsets[1:]):
                leaf = self.flat[:, a:b].view(self.m, *s).requires_grad_()
                leaf.grad = self.grad[:, a:b].view(self.m, *s)  # the backward pass adds into the flat gradient
                self.leaves[n] = leaf
            bufs = [dict(r.model.named_buffers()) for r in runs]
            self.buffers = {n: torch.stack([b[n] for b in bufs]) for n in bufs[0]}
            self.ema_rows = [k for k, r in enumerate(runs) if r.ema is not None]
            self.ema = (torch.stack([_flatten(runs[k].ema.model.parameters()) for k in self.ema_rows])
                        if self.ema_rows else None)
            self.ema_index = torch.tensor(self.ema_rows, device=dev, dtype=torch.long)
            self._import_optimizer(dev)
        self._point()
        groups = [r.opt.param_groups[0] for r in runs]
        col = lambda v: torch.tensor(v, device=dev, dtype=self.flat.dtype).view(-1, 1)  # noqa: E731
        self.wd_list = [float(g["weight_decay"]) for g in groups]
        self.wd = col(self.wd_list)
        self.momentum = col([g.get("momentum", 0.0) for g in groups])
        self.betas = groups[0].get("betas", (0.9, 0.999))
        self.eps = groups[0].get("eps", 1e-8)
        self.clip_max = col([r.cfg.grad_clip or 0.0 for r in runs])
        self.clip_on = self.clip_max > 0
        self.any_clip = bool(self.clip_on.any())
        self.col = col
        self.fp16 = fp16
        if fp16:
            old = scaler or {}
            self.scale = torch.tensor([old.get(id(r), (SCALER["init"], 0))[0] for r in runs], device=dev)
            self.tracker = torch.tensor([old.get(id(r), (SCALER["init"], 0))[1] for r in runs], device=dev)

    # ---------------------------------------------------------------- members' modules as views
    def _point(self) -> None:
        """Each member's parameters (and its EMA model's) become views of its row; its buffers of its slice."""
        with torch.no_grad():
            for k, r in enumerate(self.runs):
                for p, a, b in zip(r.model.parameters(), self.offsets, self.offsets[1:]):
                    p.data = self.flat[k, a:b].view(p.shape)
                for (n, buf) in r.model.named_buffers():
                    buf.data = self.buffers[n][k]
                if r.ema is not None:
                    row = self.ema[self.ema_rows.index(k)]
                    for p, a, b in zip(r.ema.model.parameters(), self.offsets, self.offsets[1:]):
                        p.data = row[a:b].view(p.shape)

    # ---------------------------------------------------------------- torch.optim state in and out
    def _import_optimizer(self, dev) -> None:
        self.exp_avg = torch.zeros_like(self.flat)
        self.second = torch.zeros_like(self.flat) if not self.sgd else None  # AdamW's exp_avg_sq
        steps = []
        for k, r in enumerate(self.runs):
            states = [r.opt.state.get(p, {}) for p in r.model.parameters()]
            key = "momentum_buffer" if self.sgd else "exp_avg"
            if all(s.get(key) is not None for s in states):
                self.exp_avg[k] = _flatten(s[key] for s in states)
                if not self.sgd:
                    self.second[k] = _flatten(s["exp_avg_sq"] for s in states)
            steps.append(float(states[0]["step"]) if states and "step" in states[0] else
                         (1.0 if self.sgd and states and states[0].get(key) is not None else 0.0))
        self.steps = steps  # AdamW: each member's step count (bias correction); SGD: whether a buffer exists

    def export(self) -> None:
        """Each member's optimizer state into its ``torch.optim`` optimizer as ``state_dict()`` expects it
        (views of the stacked state: :func:`cnnviz.training.checkpoint.save_checkpoint` copies them out)."""
        for k, r in enumerate(self.runs):
            r.opt.state.clear()
            if not self.steps[k] or (self.sgd and not float(self.momentum[k])):
                continue  # torch keeps no state before the first step (nor for SGD without momentum)
            for p, a, b in zip(r.model.parameters(), self.offsets, self.offsets[1:]):
                if self.sgd:
                    r.opt.state[p] = {"momentum_buffer": self.exp_avg[k, a:b].view(p.shape)}
                else:
                    r.opt.state[p] = {"step": torch.tensor(self.steps[k], dtype=torch.float32),
                                      "exp_avg": self.exp_avg[k, a:b].view(p.shape),
                                      "exp_avg_sq": self.second[k, a:b].view(p.shape)}

    def scaler_state(self) -> dict:
        return ({id(r): (float(s), int(t)) for r, s, t in zip(self.runs, self.scale.tolist(), self.tracker.tolist())}
                if self.fp16 else {})

    # ---------------------------------------------------------------- one step
    def backward(self, losses: torch.Tensor) -> None:
        """The members' losses (M,) (scaled per member under float16) back into the flat gradient. Its views have
        the parameters' strides but gaps between rows: autograd adds into them in place and would warn once that
        such a layout "may impair performance" (the adds are the same)."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="grad and param do not obey the gradient layout contract")
            (losses * self.scale if self.fp16 else losses).sum().backward()

    @torch.no_grad()
    def step(self, lrs: list[float]) -> None:
        """After the backward pass: unscale (fp16), clip, optimizer step, EMA; ``lrs`` each member's rate."""
        g, p, col = self.grad, self.flat, self.col
        ok = None
        if self.fp16:
            g.mul_(self.scale.double().reciprocal().float().view(-1, 1))
            ok = torch.isfinite(g).all(1, keepdim=True)
        if self.any_clip:
            norm = torch.linalg.vector_norm(g, dim=1, keepdim=True)
            coef = torch.where(self.clip_on, (self.clip_max / (norm + 1e-6)).clamp(max=1.0), torch.ones_like(norm))
            g.mul_(coef)
        old = (p.clone(), self.exp_avg.clone(), None if self.sgd else self.second.clone()) if ok is not None else None
        if self.sgd:
            lr = col(lrs)
            d = g.add(p * self.wd)
            self.exp_avg.mul_(self.momentum).add_(d)
            p.sub_(lr * d.add_(self.momentum * self.exp_avg))
            self.steps = [1.0] * self.m
        else:
            b1, b2 = self.betas
            if ok is None:
                self.steps = [s + 1 for s in self.steps]
            else:
                good = ok.view(-1).tolist()
                self.steps = [s + 1 if k else s for s, k in zip(self.steps, good)]
            steps = [max(s, 1.0) for s in self.steps]
            # per member, as torch computes them in double: 1 − lr·wd, lr / (1 − β1^t), √(1 − β2^t); one transfer
            decay, step_size, bc2_sqrt = torch.tensor(
                [[1 - x * w for x, w in zip(lrs, self.wd_list)], [x / (1 - b1 ** t) for x, t in zip(lrs, steps)],
                 [(1 - b2 ** t) ** 0.5 for t in steps]], dtype=p.dtype).to(p.device).unsqueeze(-1)
            p.mul_(decay)
            self.exp_avg.lerp_(g, 1 - b1)
            self.second.mul_(b2).addcmul_(g, g, value=1 - b2)
            denom = torch.sqrt(self.second).div_(bc2_sqrt).add_(self.eps)
            p.sub_(torch.div(self.exp_avg, denom, out=denom).mul_(step_size))
        if old is not None:  # a member whose gradient overflowed keeps its weights and state (GradScaler.step)
            for new, before in zip((p, self.exp_avg, self.second), old):
                if before is not None:
                    new.copy_(torch.where(ok, new, before))
            bad = ~ok.view(-1)
            grow = (self.tracker + 1) >= SCALER["interval"]
            self.scale = torch.where(bad, self.scale * SCALER["backoff"],
                                     torch.where(grow, self.scale * SCALER["growth"], self.scale))
            self.tracker = torch.where(bad | grow, torch.zeros_like(self.tracker), self.tracker + 1)
        if self.ema is not None:
            decays = []
            for k in self.ema_rows:
                ema = self.runs[k].ema
                ema.updates += 1
                decays.append(min(ema.decay, (1 + ema.updates) / (10 + ema.updates)))
            self.ema.lerp_(p.index_select(0, self.ema_index), 1 - col(decays))
        g.zero_()

    def part(self, rows: slice) -> tuple[dict, list]:
        """Leaves of members ``rows`` (views of their rows of the flat parameters, as :attr:`leaves`) and the
        matching views of the flat gradient, for a part of the group's step (:mod:`.group_parts`)."""
        key = (rows.start, rows.stop)
        if key not in self._parts:
            with torch.no_grad():
                leaves, grads = {}, []
                for n, a, b in zip(self.names, self.offsets, self.offsets[1:]):
                    shape = (rows.stop - rows.start, *self.leaves[n].shape[1:])
                    leaves[n] = self.flat[rows, a:b].view(shape).requires_grad_()
                    grads.append(self.grad[rows, a:b].view(shape))
            self._parts[key] = (leaves, grads)
        return self._parts[key]

    def eval_leaves(self) -> dict:
        """Parameters to evaluate: each member's EMA weights where it has an EMA, else its weights."""
        flat = self.flat.detach()
        if self.ema is not None:
            flat = flat.index_copy(0, self.ema_index, self.ema)
        return {n: flat[:, a:b].view(self.m, *self.leaves[n].shape[1:])
                for n, a, b in zip(self.names, self.offsets, self.offsets[1:])}


def _flatten(tensors) -> torch.Tensor:
    return torch.cat([t.detach().reshape(-1) for t in tensors])
