"""The animation's controls (cnnviz/figures/animation_controls.py): Play / Pause | Step back / Step | Slower /
Faster, three button groups sent once in the layout. Plotly has no "next frame" action, so the Step group at
frame k jumps to frames k−1 and k+1 (clamped at the ends) and every frame rewrites that group, and only that one;
the slider steps use the same jump. The Lessons data the banner and the keys read: every step names its minutes,
key element and one-liners."""
import copy
import json
import re

import numpy as np
import pytest

from cnnviz.animation import conv2d_steps, pool2d_steps
from cnnviz.classroom.lessons import LESSONS, neighbours
from cnnviz.figures.animation import STEP, STEP_BACK, animation_figure
from cnnviz.figures.animation_controls import BUTTON_PX

def targets(buttons):
    by = {b["label"]: b for b in buttons}
    return int(by[STEP_BACK]["args"][0][0]), int(by[STEP]["args"][0][0])


def four_steps(step, pool=False):
    x = np.arange(16.0).reshape(4, 4)
    steps = pool2d_steps(x, 2) if pool else conv2d_steps(x, np.ones((2, 2)), stride=2)  # 2×2 output: 4 steps
    return json.loads(animation_figure(steps, step=step).to_json())  # what the browser gets


def merged(layout, frame_layout):
    """plotly.js's ``Plots.extendLayout`` for updatemenus: a frame's menus merge into the layout's one by one (a
    frame's ``{}`` keeps a menu), the buttons of a menu the frame names replace the old ones."""
    out = copy.deepcopy(layout)
    for old, new in zip(out["updatemenus"], frame_layout.get("updatemenus", [])):
        old.update(new)
    return out


def test_step_buttons_target_the_neighbouring_frames():
    fig = four_steps(2)
    labels = [[b["label"] for b in m["buttons"]] for m in fig["layout"]["updatemenus"]]
    assert labels == [["Play", "Pause"], [STEP_BACK, STEP], ["Slower", "Faster"]]
    assert targets(fig["layout"]["updatemenus"][1]["buttons"]) == (1, 3)  # shown first: step 2 (0-based)
    per_frame = [targets(f["layout"]["updatemenus"][1]["buttons"]) for f in fig["frames"]]
    assert per_frame == [(0, 1), (0, 2), (1, 3), (2, 3)]  # clamped at both ends
    assert [f["name"] for f in fig["frames"]] == ["0", "1", "2", "3"]  # the targets are frame names
    slider = [int(s["args"][0][0]) for s in fig["layout"]["sliders"][0]["steps"]]
    assert slider == [0, 1, 2, 3]


def test_the_controls_are_sent_once_and_frames_carry_only_the_two_step_targets():
    fig = four_steps(0)
    text = json.dumps(fig, ensure_ascii=False)
    for label in ("Play", "Pause", "Slower", "Faster"):
        assert text.count(f'"label": "{label}"') == 1, label  # in the layout only, never in a frame
    assert text.count(f'"label": "{STEP}"') == 1 + 4  # the layout's, then one per frame (its own target)
    for f in fig["frames"]:
        menus = f["layout"]["updatemenus"]
        assert menus[0] == {} and len(menus) == 2 and [b["label"] for b in menus[1]["buttons"]] == [STEP_BACK, STEP]
        assert len(json.dumps(menus)) < 400  # 344 bytes; the 6 buttons frames used to carry took 1026


@pytest.mark.parametrize("pool", [False, True], ids=["convolution", "max pooling"])
def test_pressing_step_and_step_back_walks_the_frames_as_plotly_merges_them(pool):
    fig = four_steps(1, pool)
    frames = {f["name"]: f for f in fig["frames"]}
    layout, shown, seen = fig["layout"], 1, []

    def press(label):
        nonlocal layout, shown
        button = next(b for m in layout["updatemenus"] for b in m["buttons"] if b["label"] == label)
        assert button["method"] == "animate" and button["args"][1]["frame"]["duration"] == 0
        name = button["args"][0][0]
        layout, shown = merged(layout, frames[name]["layout"]), int(name)
        assert [[b["label"] for b in m["buttons"]] for m in layout["updatemenus"]][0] == ["Play", "Pause"]
        seen.append(shown)

    for label in [STEP, STEP, STEP, STEP_BACK, STEP_BACK, STEP_BACK, STEP_BACK, STEP]:
        press(label)
    assert seen == [2, 3, 3, 2, 1, 0, 0, 1]  # one frame on / back per press, held at both ends
    title = frames[str(shown)]["layout"]["title"]["text"]
    want = 7 if pool else 2 + 3 + 6 + 7  # out[0,1]: the window rows 0–1, cols 2–3 of 0…15 (max / sum, kernel 1s)
    assert f"Step {shown + 1} of 4" in title and f"out[0,1] = <b>{want}</b>" in title


def test_the_button_groups_stand_side_by_side_without_overlapping():
    menus = four_steps(0)["layout"]["updatemenus"]
    lefts = [m["pad"]["l"] for m in menus]
    assert lefts == [0, 56 + 2 + 70 + 10, 56 + 2 + 70 + 10 + 113 + 2 + 75 + 10]  # widths measured in Chromium
    for m, right in zip(menus, lefts[1:]):
        assert m["pad"]["l"] + sum(BUTTON_PX[b["label"]] for b in m["buttons"]) < right
    assert {(m["x"], m["y"], m["xanchor"], m["type"], m["direction"]) for m in menus} == {
        (0, menus[0]["y"], "left", "buttons", "right")}  # one row


def test_every_lesson_step_has_minutes_a_key_element_and_short_lines():
    for n, step in enumerate(LESSONS, 1):
        assert 1 <= step.minutes <= 15 and step.key.strip()
        assert len(step.try_) + len(step.notice) <= 110, n  # two lines of the banner at most, on a projector
        assert not re.search(r"[*_`$#<>\[\]]", step.try_ + step.notice), n  # plain text inside markdown
    assert neighbours(1) == (None, 2) and neighbours(len(LESSONS)) == (len(LESSONS) - 1, None)
    assert neighbours(3, "45") == (2, 5)  # a step off the route: the route's steps on either side
