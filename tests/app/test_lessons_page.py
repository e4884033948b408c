"""Lessons: the page runs through the real app and links every step to its page, with the step's example."""
from pathlib import Path

import pytest

import apptest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def at():
    return apptest.open_page("lessons", timeout=60, via_app=True)  # through app.py: page links resolve there


def test_lessons_link_every_step_with_its_example(at):
    steps = [line for line in (ROOT / "pages" / "lessons.py").read_text().splitlines() if line.startswith('    ("')]
    links = at.get("page_link")
    assert len(links) == len(steps) == 12
    pages = [link.proto.page for link in links]
    order = ["conv_arithmetic", "conv_arithmetic", "conv_arithmetic", "conv_animation", "architecture_lab",
             "training_lab", "feature_maps", "saliency", "compression", "metrics_losses", "metrics_losses", "quiz"]
    assert [Path(p).stem for p in pages] == order  # teaching order, each step to its page
    assert [h.value for h in at.subheader][0].startswith("1 · ") and len(at.subheader) == 12
    first = links[0].proto
    assert {"size=9", "k=3", "s=2", "p=1"} <= set(first.query_string.split("&"))
    assert links[-1].proto.query_string in ("level=easy&seed=1", "seed=1&level=easy")
    assert set(links[2].proto.query_string.split("&")) == {"tfl=8", "tfk=3", "tfs=2", "macs=1"}  # TF 'same', MACs
    assert set(links[10].proto.query_string.split("&")) == {"small=1", "temp=0.5"}  # soft Dice, a small object
