"""What "watch the network learn" costs (issue 32, item 5): on the training side, one snapshot per report (the first
conv's kernels and its maps of one validation image, ``cnnviz.training.live.snapshot``); on the server, one refresh of
the live panel's fragment: the job's events read back, the latest snapshot found, its two figures built (once per new
snapshot; a poll that brought none reuses them) and serialised as Streamlit sends them (plotly.io.to_json). Measured
in-process (thread CPU time), median of ``-n`` repeats; Streamlit's own message overhead is not included.

    python -m bench.live_cost -n 30
"""
from __future__ import annotations

import argparse
import statistics
import time

import plotly.io as pio
import torch

from cnnviz.architecture.models import build_model
from cnnviz.figures.learning_live import kernels_figure, maps_figure
from cnnviz.io.data import load_dataset
from cnnviz.jobs.events import Progress
from cnnviz.training.live import latest, snapshot


def cpu_ms(fn, n: int) -> float:
    out = []
    for _ in range(n):
        t = time.thread_time()
        fn()
        out.append((time.thread_time() - t) * 1000)
    return statistics.median(out)


def main(n: int) -> None:
    torch.set_num_threads(1)
    for data, model_name in (("digits", "TinyVGG"), ("shapes", "TinyVGG"), ("shapes", "SmallResNet")):
        ds = load_dataset(data, n=300)
        model = build_model(model_name, ds.in_channels, ds.num_classes, ds.size, width=16).train()
        x = ds.x_val[:1]
        snap = snapshot(model, x, 100, 1.0)
        events = [Progress(i, i / 10, 1.0, 0.5, 0.01, 1000.0, 5.0) for i in range(300)] + [snap] * 40  # a long run's stream
        report = cpu_ms(lambda: snapshot(model, x, 100, 1.0), n)
        size = snap.kernels.nbytes + snap.maps.nbytes
        poll = cpu_ms(lambda: latest(list(events)), n)
        cold = cpu_ms(lambda: [pio.to_json(f, validate=False) for f in (kernels_figure(snap), maps_figure(snap))], n)
        figs = (kernels_figure(snap), maps_figure(snap))
        warm = cpu_ms(lambda: [pio.to_json(f, validate=False) for f in figs], n)
        print(f"{data:7s} {model_name:12s} per report {report:6.2f} ms ({size / 1024:.1f} KiB sent) | per refresh: "
              f"events {poll:5.2f} ms, new snapshot {poll + cold:6.1f} ms, same snapshot {poll + warm:6.1f} ms")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=30)
    main(ap.parse_args().n)
