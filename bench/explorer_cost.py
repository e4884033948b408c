"""Server CPU per Network Explorer interaction, as a class uses it: one protocol client (bench/classroom_load.py's
Client, Streamlit's own BackMsg/ForwardMsg) against a fresh app opens the page, then, per shipped model, goes
through a fixed script — open the link, click thumbnails (the overview's selection event, as the browser sends it),
change the channel / row / column, pick another layer, flip "Before training" and "Every layer" — reading the
server process's own CPU time (utime + stime, children excluded) around each rerun, as bench/rerun_cost.py does.

    python -m bench.explorer_cost            # every shipped model, 4 rounds each
    python -m bench.explorer_cost -r 2 --models digits_TinyVGG
    python -m bench.explorer_cost --present  # presenter mode

Prints each model's overview figure JSON size (goal ≤ 2 MB). The last line is the p95 over every interaction in
milliseconds; the summary line before it gives the max."""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics

from streamlit.proto.WidgetStates_pb2 import WidgetState

from bench.classroom_load import Client, cpu_s, on_server, pct, user_key  # noqa: E402
from cnnviz.inside.shipped import list_models  # noqa: E402

PAGE = "network_explorer"


class ChartClient(Client):
    """A Client that also remembers the page's plotly charts (the overview's selection is a widget)."""

    def _handle(self, msg):
        super()._handle(msg)
        if msg.WhichOneof("type") == "delta" and msg.delta.WhichOneof("type") == "new_element":
            el = msg.delta.new_element
            if el.WhichOneof("type") == "plotly_chart" and el.plotly_chart.id:
                spec = json.loads(el.plotly_chart.spec)
                marks = next((t for t in spec["data"] if t.get("customdata") and t.get("mode") == "markers"), None)
                if marks:  # the overview (the other charts take no clicks)
                    self.widgets[el.plotly_chart.id] = ("plotly_chart", marks["customdata"])
                    self.spec_bytes = len(el.plotly_chart.spec.encode())


def state(c: Client, key: str, **value) -> WidgetState:
    wid = next(w for w in c.widgets if user_key(w) == key)
    s = WidgetState(id=wid)
    for k, v in value.items():
        setattr(s, k, v)
    return s


def click_state(c: Client, rng: random.Random) -> WidgetState:
    wid, (_, cells) = next((w, v) for w, v in c.widgets.items() if user_key(w) == "net_click")
    cell = rng.choice([p for p in cells if p[0] > 0])
    sel = {"selection": {"points": [{"customdata": cell, "curve_number": 0, "point_number": 0, "point_index": 0}],
                         "point_indices": [0], "box": [], "lasso": []}}
    return WidgetState(id=wid, string_value=json.dumps(sel))


async def measure(url: str, pid: int, models, rounds: int, seed: int, extra: str = "") -> list[dict]:
    rng = random.Random(seed)
    rows, sizes = [], {}
    warm = ChartClient(url, "warm-up")
    await warm.connect()
    await warm.rerun(page=PAGE)  # imports, the default model
    await warm.close()
    for model in models:
        c = ChartClient(url, model)  # a new tab opening the link, as a lesson opens it
        await c.connect()

        async def timed(kind, states=(), **kw):
            await asyncio.sleep(0.2)
            c0 = cpu_s(pid)
            wall = await c.rerun(states, **kw)
            rows.append(dict(kind=kind, model=model, cpu_ms=(cpu_s(pid) - c0) * 1000, wall_ms=wall * 1000))

        try:
            await timed("open link", page=PAGE, query=f"model={model}{extra}")
            sizes[model] = getattr(c, "spec_bytes", 0)
            for _ in range(rounds):
                for _ in range(3):
                    await timed("click thumbnail", [click_state(c, rng)])
                for name in ("net_ch", "net_i", "net_j"):
                    proto = next(v[1] for w, v in c.widgets.items() if user_key(w) == name)
                    hi = int(proto.max) if proto.has_max else 0
                    await timed(f"number {name[4:]}", [state(c, name, double_value=float(rng.randint(0, hi)))])
                layers = next(v[1].options for w, v in c.widgets.items() if user_key(w) == "net_layer")
                await timed("select layer", [state(c, "net_layer", string_value=rng.choice(list(layers)))])
            for name in ("net_before", "net_every"):
                for flag in (True, False):
                    await timed(f"switch {name[4:]}", [state(c, name, bool_value=flag)])
        finally:
            await c.close()
    print("overview figure JSON: " + ", ".join(f"{m} {b / 1024:.0f} KB" for m, b in sizes.items()))
    return rows


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default=",".join(list_models()))
    ap.add_argument("-r", "--rounds", type=int, default=4, help="rounds of clicks and number changes per model")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--present", action="store_true", help="presenter mode (?present=1): every font at least 16 px")
    a = ap.parse_args(argv)
    rows = on_server(measure, a.models.split(","), a.rounds, a.seed, "&present=1" if a.present else "")
    print(f"{'interaction':18s} {'n':>4s} {'median ms':>10s} {'p95 ms':>8s} {'max ms':>8s}")
    for kind in dict.fromkeys(r["kind"] for r in rows):
        cpus = [r["cpu_ms"] for r in rows if r["kind"] == kind]
        print(f"{kind:18s} {len(cpus):4d} {statistics.median(cpus):10.0f} {pct(cpus, 0.95):8.0f} {max(cpus):8.0f}")
    cpus = [r["cpu_ms"] for r in rows]
    worst = max(rows, key=lambda r: r["cpu_ms"])
    print(f"{len(rows)} interactions: server CPU median {statistics.median(cpus):.0f} ms, p95 {pct(cpus, 0.95):.0f} ms, "
          f"max {max(cpus):.0f} ms ({worst['kind']}, {worst['model']})")
    print(f"p95_ms: {pct(cpus, 0.95):.0f}")


if __name__ == "__main__":
    main()
