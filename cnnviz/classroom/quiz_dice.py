"""The Quiz's opt-in Dice kind: two small masks, the Dice coefficient (easy) or the soft Dice loss with
smooth = 1 (medium: 0/1 masks; hard: predicted probabilities), in percent rounded to a whole number.

The answer comes from the metrics engine (``cnnviz.metrics.dice_loss``: the coefficient is 1 − the loss with
smooth 0), never from the generator; the explanation is a Formula with the question's sums substituted."""
from __future__ import annotations

import math
import random
from dataclasses import dataclass

import torch

from cnnviz.geometry.formulas import Formula
from cnnviz.metrics import dice_loss

# per difficulty: grid side, what is asked, smooth, predicted values (0/1 masks, or probabilities in tenths)
_LEVELS = {"easy": (4, "coefficient", 0.0, (0, 1)),
           "medium": (5, "loss", 1.0, (0, 1)),
           "hard": (4, "loss", 1.0, tuple(i / 10 for i in range(11)))}


@dataclass(frozen=True)
class DiceItem:
    prompt: str
    code: str
    answer: int
    formula: Formula
    masks: dict  # pred, target (tuples of rows), smooth, measure ("coefficient" or "loss")


def percent(x: float) -> int:
    """Half up: 66.5 % -> 67 (the generator never draws a value that near .5 anyway)."""
    return math.floor(100 * x + 0.5)


def _tensor_code(name: str, rows, probs: bool) -> str:
    cell = (lambda v: f"{v:.1f}") if probs else (lambda v: str(int(v)))
    lines = ["[" + ", ".join(cell(v) for v in row) + "]" for row in rows]
    pad = " " * (len(name) + len(" = torch.tensor(["))
    return f"{name} = torch.tensor([" + (",\n" + pad).join(lines) + "])"


def _draw(rng: random.Random, side: int, values) -> tuple[tuple, tuple]:
    """A target blob (a rectangle of 2–3 × 2–3 cells) and a prediction near it."""
    h, w = rng.randint(2, 3), rng.randint(2, 3)
    r, c = rng.randint(0, side - h), rng.randint(0, side - w)
    target = [[int(r <= i < r + h and c <= j < c + w) for j in range(side)] for i in range(side)]
    dr, dc = rng.choice([(0, 0), (0, 1), (1, 0), (1, 1), (0, -1), (-1, 0)])
    pred = []
    for i in range(side):
        row = []
        for j in range(side):
            inside = r + dr <= i < r + dr + h and c + dc <= j < c + dc + w
            if len(values) == 2:  # a 0/1 mask: the shifted blob, a cell flipped now and then
                v = int(inside) if rng.random() > 0.08 else 1 - int(inside)
            else:                 # probabilities: high inside the shifted blob, low outside
                v = rng.choice(values[6:]) if inside else rng.choice(values[:4])
            row.append(v)
        pred.append(tuple(row))
    return tuple(pred), tuple(tuple(row) for row in target)


def dice_item(difficulty: str, rng: random.Random) -> DiceItem:
    side, measure, smooth, values = _LEVELS[difficulty]
    for _ in range(200):
        pred, target = _draw(rng, side, values)
        p = torch.tensor(pred, dtype=torch.float64)[None]      # (1, side, side)
        g = torch.tensor(target, dtype=torch.float64)[None]    # (1, side, side)
        if float(p.sum()) == 0:
            continue
        loss = float(dice_loss(p, g, smooth))
        value = 1 - loss if measure == "coefficient" else loss
        if abs((100 * value) % 1 - 0.5) > 0.02:  # never a value whose rounding is a coin toss
            break
    else:  # pragma: no cover - the draws above almost never land on .5
        raise RuntimeError("no Dice question drawn")
    inter, sp, sg = float((p * g).sum()), float(p.sum()), float(g.sum())
    probs = len(values) > 2
    num = lambda x: f"{x:.4g}"  # noqa: E731 - sums of tenths: 3.4, not 3.4000000000000004
    code = _tensor_code("pred", pred, probs) + "\n" + _tensor_code("target", target, False)
    answer = percent(value)
    if measure == "coefficient":
        prompt = ("`pred` is a predicted mask, `target` the true one (1 = object). What is their **Dice coefficient** "
                  "2·|P ∩ G| / (|P| + |G|), **in percent**, rounded to a whole number?")
        general = r"\text{Dice (\%)} = \operatorname{round}\Big(100\cdot\frac{2\,|P\cap G|}{|P| + |G|}\Big)"
        sub = (rf"\operatorname{{round}}\Big(100\cdot\frac{{2\cdot{num(inter)}}}{{{num(sp)} + {num(sg)}}}\Big)"
               rf" = \operatorname{{round}}({100 * value:.2f})")
        label = "Dice coefficient (%)"
    else:
        what = "predicted probabilities" if probs else "a predicted mask"
        prompt = (f"`pred` holds {what}, `target` the true mask (1 = object). What is the **soft Dice loss** "
                  f"1 − (2·Σ p·g + s) / (Σ p + Σ g + s) with smooth s = {smooth:g}, **in percent**, rounded to a "
                  f"whole number?")
        general = (r"\mathcal{L}_{Dice}\,(\%) = \operatorname{round}\Big(100\cdot\Big(1 - "
                   r"\frac{2\sum p\,g + s}{\sum p + \sum g + s}\Big)\Big)")
        sub = (rf"\operatorname{{round}}\Big(100\cdot\Big(1 - \frac{{2\cdot{num(inter)} + {smooth:g}}}"
               rf"{{{num(sp)} + {num(sg)} + {smooth:g}}}\Big)\Big) = \operatorname{{round}}({100 * value:.2f})")
        label = "Soft Dice loss (%)"
    return DiceItem(prompt, code, answer, Formula(label, general, sub, answer),
                    dict(pred=pred, target=target, smooth=smooth, measure=measure))
