"""Quiz: same seed -> same questions; every answer is what PyTorch itself computes."""
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode
from tests.support.torch_oracle import conv_module

from cnnviz import ConfigError
from tests.support.fuzzing import torch_receptive_field
from cnnviz.classroom.quiz import DIFFICULTIES, KINDS, make_quiz


def test_same_seed_same_questions_other_seed_other_questions():
    for d in DIFFICULTIES:
        a, b = make_quiz(42, d, 8), make_quiz(42, d, 8)
        assert [(q.prompt, q.answer) for q in a] == [(q.prompt, q.answer) for q in b]
        assert [q.prompt for q in make_quiz(43, d, 8)] != [q.prompt for q in a]
    assert [q.prompt for q in make_quiz(42, "easy")] != [q.prompt for q in make_quiz(42, "hard")]


def test_a_seed_gives_the_same_quiz_in_every_process():
    """Pinned values: the seed goes through random.Random(str) (sha512), never hash(), so a teacher's seed
    gives the same quiz on every server process and every machine."""
    quiz = make_quiz(7, "hard", 6)
    assert [q.kind for q in quiz] == ["FLOPs", "output size", "parameters", "receptive field", "FLOPs", "output size"]
    assert [q.answer for q in quiz] == [388800, 5, 435, 63, 21600, 15]


def test_every_kind_appears_and_a_quiz_starts_with_a_prefix_of_a_longer_one():
    quiz = make_quiz(5, "medium", 8)
    assert sorted(q.kind for q in quiz) == sorted(KINDS * 2)
    assert [q.prompt for q in make_quiz(5, "medium", 3)] == [q.prompt for q in quiz[:3]]


def pytorch_answer(q):
    """The question's answer from PyTorch: build the module, run zeros (and count FLOPs), or take the
    receptive field from the gradient of a stack of Conv1d."""
    if q.kind == "receptive field":
        return torch_receptive_field(list(q.layers))
    cfg = dict(q.conv)
    m = conv_module(**cfg)
    x = torch.zeros(1, *cfg["in_shape"])  # (1, C, *spatial)
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        y = m(x)
    if q.kind == "parameters":
        return sum(p.numel() for p in m.parameters())
    if q.kind == "FLOPs":
        return fc.get_total_flops()
    sizes = tuple(y.shape[2:])  # (N, C, *spatial) -> spatial
    axis_name = q.prompt.split("along **")[1][0]  # "... output size along **H**?"
    return sizes[{1: "L", 2: "HW", 3: "DHW"}[len(sizes)].index(axis_name)]


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_every_answer_equals_pytorch(difficulty):
    for seed in range(6):
        for q in make_quiz(seed, difficulty, 8):
            assert q.answer == q.formula.value == pytorch_answer(q), (q.prompt, q.code)


def test_explanation_substitutes_the_numbers():
    q = next(q for q in make_quiz(1, "easy", 8) if q.kind == "parameters")
    cfg = q.conv
    assert str(cfg["out_channels"]) in q.formula.substituted and str(q.answer) in q.formula.latex.replace("{,}", "")
    assert r"\frac" in q.formula.general


def test_check_accepts_only_the_right_whole_number():
    q = make_quiz(0, "easy", 1)[0]
    assert q.check(q.answer) and q.check(float(q.answer))
    assert not q.check(q.answer + 1) and not q.check(None) and not q.check("banana")


def test_hard_questions_are_harder():
    hard, easy = make_quiz(3, "hard", 16), make_quiz(3, "easy", 16)
    assert any(q.conv and q.conv.get("transposed") for q in hard) or any(
        q.conv and len(q.conv["in_shape"]) != 3 for q in hard)
    assert all(q.conv is None or (len(q.conv["in_shape"]) == 3 and q.conv.get("groups", 1) == 1) for q in easy)


@pytest.mark.parametrize("bad", [dict(difficulty="impossible"), dict(seed="x"), dict(n=0), dict(n=True)])
def test_bad_arguments_raise_config_error(bad):
    with pytest.raises(ConfigError):
        make_quiz(**{"seed": 1, "difficulty": "easy", "n": 4, **bad})
