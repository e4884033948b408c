"""Lessons: the page runs through the real app and links every step to its page, with the step's example."""
from pathlib import Path

import pytest

from tests.support import apptest
from cnnviz.classroom.lessons import LESSONS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def at():
    return apptest.open_page("lessons", timeout=60, via_app=True)  # through app.py: page links resolve there


def test_lessons_link_every_step_with_its_example(at):
    links = at.get("page_link")
    assert len(links) == len(LESSONS) >= 12
    pages = [link.proto.page for link in links]
    assert [Path(p).stem for p in pages] == [Path(step[1]).stem for step in LESSONS]  # each step to its page
    order = ["conv_arithmetic", "conv_animation", "architecture_lab", "training_lab", "feature_maps", "saliency",
             "compression", "metrics_losses", "quiz"]
    ranks = [order.index(Path(p).stem) for p in pages]
    assert ranks == sorted(ranks)  # teaching order: the pages in the navigation's order
    assert [h.value for h in at.subheader] == [f"{i} · {step[0]}" for i, step in enumerate(LESSONS, 1)]
    first = links[0].proto
    assert {"size=9", "k=3", "s=2", "p=1"} <= set(first.query_string.split("&"))
    assert links[-1].proto.query_string in ("level=easy&seed=1", "seed=1&level=easy")
    queries = [set(link.proto.query_string.split("&")) for link in links]
    assert {"tfl=8", "tfk=3", "tfs=2", "macs=1", "tab=TF+%27same%27+with+stride"} in queries  # TF 'same', MACs
    assert {"small=1", "temp=0.5", "tab=Soft+Dice+loss"} in queries  # soft Dice, a small object
    assert {"shc=12", "shg=3", "pp=16", "macs=1", "tab=Blocks+drawn"} in queries  # blocks drawn, MACs
    assert {"nas=evolution", "nbud=0.2", "ntr=8", "tab=Search+%28NAS%29"} in queries  # the search
    assert any({"emk=blur", "emp=1", "source=random"} <= q for q in queries)  # padding modes at the border
    assert any(any(p.startswith("stack=3-1-2") for p in q) and any(p.startswith("hyb=1") for p in q)
               for q in queries)  # gridding: one rate in every layer, next to hybrid rates


@pytest.mark.parametrize("title", ["Distillation with few labels", "Focal loss and class imbalance",
                                   "Searching for an architecture"])
def test_new_steps_links_are_read_by_their_page(title):
    _, page, _, params, _ = next(step for step in LESSONS if step[0] == title)
    at = apptest.open_page(Path(page).stem, params, via_app=True)
    assert not at.exception and not any("Ignored" in i.value for i in at.info)
    prefix = {"compression": "compress", "metrics_losses": "metrics", "architecture_lab": "arch"}[Path(page).stem]
    for k, v in params.items():  # every key of the step set its control
        w = at.session_state[f"{prefix}_{k}"]
        assert str(int(w) if isinstance(w, bool) else w) == v or float(w) == float(v)
