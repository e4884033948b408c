"""The opt-in Quiz kinds 'gridding' and 'MACs': every answer is what PyTorch computes (the zero entries of an
all-ones stack's input gradient; FlopCounterMode's FLOPs / 2), and a seed's other quizzes do not move."""
import pytest
import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode
from tests.support.torch_oracle import conv_module

from cnnviz import ConfigError
from cnnviz.classroom.quiz import DIFFICULTIES, EXTRA_KINDS, KINDS, make_quiz


def unreached_by_pytorch(layers) -> int:
    """Input cells of one output's receptive field whose gradient through all-ones nn.Conv1d layers is 0."""
    mods = [nn.Conv1d(1, 1, l["kernel_size"], stride=l["stride"], dilation=l["dilation"], bias=False) for l in layers]
    for m in mods:
        nn.init.ones_(m.weight)
    r, j = 1, 1
    for l in layers:
        r, j = r + l["dilation"] * (l["kernel_size"] - 1) * j, j * l["stride"]
    x = torch.zeros(1, 1, r, dtype=torch.float64, requires_grad=True)  # (1, 1, r)
    y = nn.Sequential(*mods).double()(x)
    assert y.shape == (1, 1, 1)
    y.sum().backward()
    return int((x.grad == 0).sum())


def macs_by_pytorch(cfg) -> int:
    m = conv_module(**cfg)
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        m(torch.zeros(1, *cfg["in_shape"]))  # (1, C, *spatial)
    flops = fc.get_total_flops()
    assert flops % 2 == 0
    return flops // 2


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_gridding_and_macs_answers_equal_pytorch(difficulty):
    seen = set()
    for seed in range(5):
        for q in make_quiz(seed, difficulty, 12, extra=("gridding", "MACs")):
            seen.add(q.kind)
            if q.kind == "gridding":
                assert q.answer == q.formula.value == unreached_by_pytorch(q.layers), q.code
            elif q.kind == "MACs":
                assert q.answer == q.formula.value == macs_by_pytorch(dict(q.conv)), q.code
    assert seen == set(KINDS) | {"gridding", "MACs"}


def test_easy_gridding_is_the_textbook_case_by_hand():
    q = next(q for s in range(20) for q in make_quiz(s, "easy", 6, extra=("gridding",)) if q.kind == "gridding")
    assert len({l["dilation"] for l in q.layers}) == 1 and q.layers[0]["kernel_size"] == 3
    n, d = len(q.layers), q.layers[0]["dilation"]
    r = 1 + n * d * 2
    assert q.answer == r - (2 * n + 1)  # only the 2n+1 multiples of d are reached (e.g. 13 − 7 = 6 for 2,2,2)


def test_extras_are_opt_in_and_leave_the_other_quizzes_alone():
    for d in DIFFICULTIES:
        plain = [(q.kind, q.answer) for q in make_quiz(4, d, 10)]
        assert [(q.kind, q.answer) for q in make_quiz(4, d, 10, extra=False)] == plain
        assert all(k in KINDS for k, _ in plain)
        tf = [(q.kind, q.answer) for q in make_quiz(4, d, 10, extra=True)]
        assert [(q.kind, q.answer) for q in make_quiz(4, d, 10, extra=(EXTRA_KINDS[0],))] == tf
        assert {k for k, _ in tf} <= set(KINDS) | {EXTRA_KINDS[0]}
    for bad in ("gridding", ("banana",), 1):
        with pytest.raises(ConfigError, match="extra"):
            make_quiz(1, "easy", 4, extra=bad)
