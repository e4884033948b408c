"""The opt-in Quiz kind 'Dice': the answer (from cnnviz.metrics.dice_loss) is what torch sums of the masks the
question shows give by hand, and adding the kind leaves the other quizzes alone."""
import math

import pytest
import torch

from cnnviz import ConfigError
from cnnviz.classroom.quiz import DIFFICULTIES, KINDS, make_quiz
from cnnviz.classroom.quiz_dice import percent
from cnnviz.metrics import dice_loss


def shown_masks(code: str):
    """Run the question's code as a student would: the tensors it shows."""
    scope, before = {"torch": torch}, torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # read 0.3 as the double 0.3, as the engine holds it
    try:
        exec(code, scope)  # noqa: S102 - our own generated two-line torch.tensor code
    finally:
        torch.set_default_dtype(before)
    return scope["pred"].double(), scope["target"].double()


def by_hand(q) -> int:
    p, g = shown_masks(q.code)
    inter, sp, sg = float((p * g).sum()), float(p.sum()), float(g.sum())
    if q.masks["measure"] == "coefficient":
        value = 2 * inter / (sp + sg)
    else:
        s = q.masks["smooth"]
        value = 1 - (2 * inter + s) / (sp + sg + s)
    return math.floor(100 * value + 0.5)


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_dice_answers_equal_the_hand_computation_from_the_shown_masks(difficulty):
    seen = set()
    for seed in range(6):
        for q in make_quiz(seed, difficulty, 10, extra=("Dice",)):
            seen.add(q.kind)
            if q.kind != "Dice":
                continue
            p, g = shown_masks(q.code)
            assert p.tolist() == [[float(v) for v in row] for row in q.masks["pred"]]  # the code shows the masks
            assert set(g.unique().tolist()) <= {0.0, 1.0}
            assert q.answer == q.formula.value == by_hand(q), q.code
            assert 0 <= q.answer <= 100
            assert q.check(q.answer) and not q.check(q.answer + 1)
    assert seen == set(KINDS) | {"Dice"}


def test_levels_ask_coefficient_then_soft_loss_then_probabilities():
    kinds = {d: next(q for s in range(10) for q in make_quiz(s, d, 5, extra=("Dice",)) if q.kind == "Dice")
             for d in DIFFICULTIES}
    assert kinds["easy"].masks["measure"] == "coefficient" and "Dice coefficient" in kinds["easy"].prompt
    assert kinds["medium"].masks["measure"] == "loss" and kinds["medium"].masks["smooth"] == 1
    hard_pred = shown_masks(kinds["hard"].code)[0]
    assert set(shown_masks(kinds["medium"].code)[0].unique().tolist()) <= {0.0, 1.0}
    assert not set(hard_pred.unique().tolist()) <= {0.0, 1.0}  # probabilities, not a mask


def test_a_hand_example_and_the_rounding():
    # |P| = 3, |G| = 4, |P ∩ G| = 2: Dice = 4/7 = 57.14 % -> 57; soft loss, s = 1: 1 − 5/8 = 37.5 % -> 38 (half up)
    p, g = torch.tensor([[1., 1., 1., 0., 0.]]), torch.tensor([[1., 1., 0., 1., 1.]])  # (1, 5)
    assert percent(1 - float(dice_loss(p, g, 0.0))) == 57
    assert percent(float(dice_loss(p, g, 1.0))) == 38
    assert percent(0.665) == 67 and percent(0.6649) == 66


def test_dice_is_opt_in_and_named_in_extra():
    for d in DIFFICULTIES:
        assert all(q.kind != "Dice" for q in make_quiz(2, d, 12, extra=("gridding", "MACs")))
        assert all(q.kind != "Dice" for q in make_quiz(2, d, 12, extra=True))
    with pytest.raises(ConfigError, match="extra"):
        make_quiz(1, "easy", 4, extra=("dice!",))
