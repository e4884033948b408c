"""The animation's Step back / Step buttons: plotly has no "next frame" action, so the figure's buttons at frame k
jump to frames k−1 and k+1 (clamped at the ends), and every frame rewrites them; the slider steps use the same
jump. The Lessons data the banner and the keys read: every step names its minutes, key element and one-liners."""
import re

import numpy as np

from cnnviz.animation import conv2d_steps
from cnnviz.classroom.lessons import LESSONS, neighbours
from cnnviz.figures.animation import STEP, STEP_BACK, animation_figure


def targets(buttons):
    by = {b["label"]: b for b in buttons}
    return int(by[STEP_BACK]["args"][0][0]), int(by[STEP]["args"][0][0])


def test_step_buttons_target_the_neighbouring_frames():
    steps = conv2d_steps(np.arange(16.0).reshape(4, 4), np.ones((2, 2)), stride=2)  # 2×2 output: 4 steps
    fig = animation_figure(steps, step=2).to_dict()  # what the browser gets
    labels = [b["label"] for b in fig["layout"]["updatemenus"][0]["buttons"]]
    assert labels == ["Play", "Pause", STEP_BACK, STEP, "Slower", "Faster"]
    assert targets(fig["layout"]["updatemenus"][0]["buttons"]) == (1, 3)  # shown first: step 2 (0-based)
    per_frame = [targets(f["layout"]["updatemenus"][0]["buttons"]) for f in fig["frames"]]
    assert per_frame == [(0, 1), (0, 2), (1, 3), (2, 3)]  # clamped at both ends
    assert [f["name"] for f in fig["frames"]] == ["0", "1", "2", "3"]  # the targets are frame names
    slider = [int(s["args"][0][0]) for s in fig["layout"]["sliders"][0]["steps"]]
    assert slider == [0, 1, 2, 3]


def test_every_lesson_step_has_minutes_a_key_element_and_short_lines():
    for n, step in enumerate(LESSONS, 1):
        assert 1 <= step.minutes <= 15 and step.key.strip()
        assert len(step.try_) + len(step.notice) <= 110, n  # two lines of the banner at most, on a projector
        assert not re.search(r"[*_`$#<>\[\]]", step.try_ + step.notice), n  # plain text inside markdown
    assert neighbours(1) == (None, 2) and neighbours(len(LESSONS)) == (len(LESSONS) - 1, None)
    assert neighbours(3, "45") == (2, 5)  # a step off the route: the route's steps on either side
