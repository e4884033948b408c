"""Engine training loop vs a bare PyTorch loop: same model, data, optimizer and number of steps.

Interleaved repetitions; prints the median samples/s of each and, last, ``ratio: X.XX`` (engine ÷ bare).
Both loops keep the data on the device as tensors and evaluate once per epoch (as pytorch/examples' mnist
does); the engine also times its stages, tracks loss/accuracy on the device, reports progress and writes a
checkpoint per epoch.  Usage: python -m bench.train_throughput [--reps 5] [--epochs 2] [--data digits]"""
import argparse
import math
import statistics
import threading
import time

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

from cnnviz.io.data import load_dataset  # noqa: E402
from cnnviz.device import pick_device  # noqa: E402
from cnnviz.architecture.models import build_model  # noqa: E402
from cnnviz.training.loop import run_training  # noqa: E402
from cnnviz.training.recipe import TrainConfig  # noqa: E402


def sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize()


def bare(cfg: TrainConfig, ds, dev) -> float:
    """The plain loop (pytorch/examples' mnist, data as device tensors): samples/s."""
    sync(dev)
    t0 = time.perf_counter()
    torch.manual_seed(cfg.seed)
    model = build_model(cfg.model, ds.in_channels, ds.num_classes, ds.size, width=cfg.width).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    x, y = ds.x_train.to(dev), ds.y_train.to(dev)
    xv, yv = ds.x_val.to(dev), ds.y_val.to(dev)
    g = torch.Generator(device=dev).manual_seed(cfg.seed)
    n, b = len(y), cfg.batch_size
    for _ in range(cfg.epochs):
        model.train()
        order = torch.randperm(n, device=dev, generator=g)
        for i in range(math.ceil(n / b)):
            idx = order[i * b:(i + 1) * b]
            out = model(x[idx])
            loss = nn.functional.cross_entropy(out, y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            acc = (model(xv).argmax(1) == yv).float().mean().item()
    sync(dev)
    assert acc > 0
    return cfg.epochs * n / (time.perf_counter() - t0)


def engine(cfg: TrainConfig, ds, dev) -> float:
    events = []
    sync(dev)
    t0 = time.perf_counter()
    run_training(cfg, events.append, threading.Event(), device=dev)
    sync(dev)
    assert type(events[-1]).__name__ == "Finished", events[-1]
    return cfg.epochs * len(ds.y_train) / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--data", default="shapes")
    ap.add_argument("--n", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    dev = pick_device()
    ds = load_dataset(args.data, n=args.n)
    cfg = TrainConfig(dataset=args.data, model="TinyVGG", width=16, epochs=args.epochs, batch_size=args.batch,
                      lr=2e-3, schedule="constant", label_smoothing=0.0, data=ds)
    print(f"device {dev}, {args.data}: {len(ds.y_train)} training images {tuple(ds.x_train.shape[1:])}, "
          f"TinyVGG, batch {args.batch}, {args.epochs} epochs, {args.reps} interleaved repetitions")
    engine(cfg, ds, dev), bare(cfg, ds, dev)  # warm-up
    e, b = [], []
    for r in range(args.reps):
        order = (engine, bare) if r % 2 == 0 else (bare, engine)
        for fn in order:
            (e if fn is engine else b).append(fn(cfg, ds, dev))
        print(f"rep {r + 1}: engine {e[-1]:,.0f} samples/s, bare {b[-1]:,.0f} samples/s")
    me, mb = statistics.median(e), statistics.median(b)
    print(f"median engine {me:,.0f} samples/s, median bare {mb:,.0f} samples/s")
    print(f"ratio: {me / mb:.2f}")


if __name__ == "__main__":
    main()
