"""Training samples/s on the GPU vs the CPU for TinyVGG and the speed-run preset (SmallResNet), and the engine's
loop vs a bare PyTorch loop on the GPU (bench/train_throughput.py's two loops, side by side in one process).

Usage: python -m bench.gpu_throughput [--epochs 2] [--n 3000] [--reps 3]. Without CUDA it prints the CPU figures
and says so. Last line: ``gpu_vs_cpu_tinyvgg: X, gpu_vs_cpu_speedrun: Y, engine_vs_bare_gpu: Z`` (n/a where no
GPU)."""
import argparse
import statistics

import torch  # noqa: E402

from cnnviz.io.data import load_dataset  # noqa: E402
from cnnviz.training.recipe import SPEED_RUN, TrainConfig  # noqa: E402
from bench.train_throughput import bare, engine  # noqa: E402


def configs(ds, epochs: int) -> dict[str, TrainConfig]:
    tiny = TrainConfig(dataset="shapes", model="TinyVGG", width=16, epochs=epochs, batch_size=64, lr=2e-3,
                       schedule="constant", label_smoothing=0.0, data=ds)
    speed = TrainConfig(dataset="shapes", epochs=epochs, data=ds, **SPEED_RUN)
    return {"TinyVGG": tiny, "speed-run": speed}


def median_rate(fn, cfg, ds, dev, reps: int) -> float:
    fn(cfg, ds, dev)  # warm-up: cuDNN autotuning, allocator, lazy CUDA context
    return statistics.median(fn(cfg, ds, dev) for _ in range(reps))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    ds = load_dataset("shapes", n=args.n)
    cpu, cuda = torch.device("cpu"), torch.device("cuda") if torch.cuda.is_available() else None
    print(f"shapes: {len(ds.y_train)} training images {tuple(ds.x_train.shape[1:])}, {args.epochs} epochs, "
          f"median of {args.reps}; CPU threads {torch.get_num_threads()}; "
          f"GPU: {torch.cuda.get_device_name() if cuda else 'none'}")
    ratios = {}
    for name, cfg in configs(ds, args.epochs).items():
        c = median_rate(engine, cfg, ds, cpu, args.reps)
        line = f"{name:10s} CPU {c:10,.0f} samples/s"
        if cuda:
            g = median_rate(engine, cfg, ds, cuda, args.reps)
            ratios[name] = g / c
            line += f"   GPU {g:10,.0f} samples/s   GPU/CPU {g / c:6.1f}x"
        print(line)
    if cuda:
        tiny = configs(ds, args.epochs)["TinyVGG"]
        e = median_rate(engine, tiny, ds, cuda, args.reps)
        b = median_rate(bare, tiny, ds, cuda, args.reps)
        ratios["engine"] = e / b
        print(f"GPU TinyVGG: engine {e:,.0f} samples/s, bare loop {b:,.0f} samples/s")
    fmt = lambda k: f"{ratios[k]:.2f}" if k in ratios else "n/a"  # noqa: E731
    print(f"gpu_vs_cpu_tinyvgg: {fmt('TinyVGG')}, gpu_vs_cpu_speedrun: {fmt('speed-run')}, "
          f"engine_vs_bare_gpu: {fmt('engine')}")


if __name__ == "__main__":
    main()
