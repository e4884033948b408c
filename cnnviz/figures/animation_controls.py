"""The sliding-window animation's controls, which run in the browser: Play / Pause, Step back / Step, Slower /
Faster (three button groups in one row) and the step slider. Pure plotly dicts, no figure.

Everything is sent once, in the layout, except the Step group's two targets: plotly.js has no "next frame"
action (``animate`` takes frame names, and ``fromcurrent`` plays on to the end), so each frame sets them to the
frames before and after it. The Step group is an updatemenu of its own, so a frame carries only those two
buttons (not Play, Pause, Slower and Faster as well): plotly merges a frame's ``updatemenus`` into the layout's
one menu at a time, and an empty ``{}`` leaves a menu as it is.
"""
from __future__ import annotations

SPEED_MS = {"slow": 1400, "normal": 700, "fast": 250}  # Play's time per step
STEP_BACK, STEP = "◀ Step back", "Step ▶"  # one frame back / on (cnnviz/ui/keys.py finds them by these labels)
FONT_PX = 16                 # the buttons' font size (presenter mode keeps 16: cnnviz/ui/widgets.py)
# each button's width at FONT_PX in Chromium (its text plus plotly's padding), measured; plotly places a button
# group at a paper x only, so the groups after the first are moved right by pixel padding (pad.l) this wide
BUTTON_PX = {"Play": 56, "Pause": 70, STEP_BACK: 113, STEP: 75, "Slower": 74, "Faster": 71}
BUTTON_GAP, GROUP_GAP = 2, 10  # plotly's gap between buttons; ours between groups (room for a wider font)
PLAY_MENU, STEP_MENU, SPEED_MENU = 0, 1, 2  # the groups' places in layout.updatemenus


def goto(k: int) -> list:
    """A plotly ``animate`` call's args that show frame ``k`` at once (the slider's steps and the Step buttons)."""
    return [[str(k)], dict(frame=dict(duration=0, redraw=True), mode="immediate", transition=dict(duration=0))]


def play(ms: int) -> list:
    """``animate`` args that play the frames from the one shown, ``ms`` per frame."""
    return [None, dict(frame=dict(duration=ms, redraw=True), fromcurrent=True, mode="immediate",
                       transition=dict(duration=0))]


PAUSE = [[None], dict(frame=dict(duration=0, redraw=False), mode="immediate", transition=dict(duration=0))]


def step_buttons(k: int, n: int) -> list[dict]:
    """The Step group at frame ``k`` of ``n``: jump to frame k−1 / k+1, clamped at both ends."""
    return [dict(label=STEP_BACK, method="animate", args=goto(max(k - 1, 0))),
            dict(label=STEP, method="animate", args=goto(min(k + 1, n - 1)))]


def frame_menus(k: int, n: int) -> list[dict]:
    """A frame's ``layout.updatemenus``: the Play and Speed groups left as they are, the Step group's targets set."""
    menus: list[dict] = [{} for _ in range(STEP_MENU + 1)]
    menus[STEP_MENU] = dict(buttons=step_buttons(k, n))
    return menus


def _width(buttons: list[dict]) -> int:
    return sum(BUTTON_PX[b["label"]] for b in buttons) + BUTTON_GAP * (len(buttons) - 1)


def controls(step: int, n: int, speed_ms: int, y: float) -> list[dict]:
    """The layout's ``updatemenus``: the three groups left to right in one row at paper height ``y``."""
    groups = [[dict(label="Play", method="animate", args=play(speed_ms)),
               dict(label="Pause", method="animate", args=PAUSE)],
              step_buttons(step, n),
              [dict(label="Slower", method="animate", args=play(speed_ms * 2)),
               dict(label="Faster", method="animate", args=play(max(speed_ms // 3, 50)))]]
    menus, left = [], 0
    for buttons in groups:
        menus.append(dict(type="buttons", direction="right", x=0, y=y, xanchor="left", yanchor="top",
                          showactive=False, pad=dict(t=0, r=8, l=left), buttons=buttons, font=dict(size=FONT_PX)))
        left += _width(buttons) + GROUP_GAP
    return menus


def slider(step: int, n: int, y: float) -> dict:
    """The step slider (labels 1…n, hidden above 24 steps) at paper height ``y``; its steps show a frame at once."""
    return dict(active=step, steps=[dict(label=str(k + 1), method="animate", args=goto(k)) for k in range(n)],
                x=0, len=1, y=y, yanchor="top", pad=dict(t=0, b=0), currentvalue=dict(visible=False),
                font=dict(size=11, color="rgba(0,0,0,0)" if n > 24 else "#333"), transition=dict(duration=0))
