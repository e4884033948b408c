"""Generated quiz questions on output size, parameters, FLOPs and receptive field (and, opt-in, TF/Keras
padding="same" with a stride, the gridding holes of a dilated stack, MACs, and the Dice coefficient or soft Dice
loss of two small masks).

A quiz is a pure function of (seed, difficulty): a teacher fixes the seed and the whole class gets the same
questions. Every answer is computed by the engine (cnnviz.geometry.arithmetic through cnnviz.geometry.formulas; the
Dice kind by cnnviz.metrics), never by the generator, and the explanation is the same Formula, with the question's
numbers substituted.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from cnnviz.classroom.quiz_dice import dice_item
from cnnviz.geometry import arithmetic as ar
from cnnviz.errors import ConfigError
from cnnviz.geometry.formulas import (Formula, conv_flops_formula, conv_macs_formula, conv_output_formulas,
                                     conv_params_formula, receptive_field_formula, tf_same_formulas)
from cnnviz.geometry.gridding import coverage, unreached_formula
from cnnviz.geometry.specs import ConvSpec

KINDS = ("output size", "parameters", "FLOPs", "receptive field")
EXTRA_KINDS = ("TF 'same' padding",)  # opt-in (``extra=True``), so a seed's default quiz never depends on it
# every opt-in kind: ``extra`` may also name some of them, e.g. ``extra=("gridding", "MACs")``; a kind is added
# last, so a seed with any existing set of kinds keeps drawing the same quiz
OPT_IN_KINDS = EXTRA_KINDS + ("gridding", "MACs", "Dice")
DIFFICULTIES = ("easy", "medium", "hard")


@dataclass(frozen=True)
class Question:
    kind: str            # one of KINDS or OPT_IN_KINDS
    difficulty: str
    prompt: str          # markdown: what is asked
    code: str            # the layer(s) as PyTorch code
    answer: int          # the engine's value
    formula: Formula     # explanation: general formula, the numbers substituted, the value
    conv: dict | None    # conv_geometry arguments (+ bias) for a single-layer question
    layers: tuple = ()   # (kernel, stride, dilation) dicts for a receptive-field or gridding question
    tf_same: dict | None = None  # tf_same_padding arguments for a TF 'same' padding question
    masks: dict | None = None    # pred, target, smooth, measure for a Dice question

    def check(self, value) -> bool:
        """True when ``value`` is the right whole number (5.0 counts as 5; None or text never)."""
        try:
            return value is not None and float(value) == self.answer
        except (TypeError, ValueError):
            return False


# --------------------------------------------------------------------------- random layers per difficulty
def _conv_config(rng: random.Random, difficulty: str) -> dict:
    if difficulty == "easy":  # 2-D, square, odd kernel, stride 1–2, no dilation or groups
        size = rng.choice([5, 6, 7, 8, 10, 12, 16, 28, 32])
        k = rng.choice([1, 3, 3, 5])
        return dict(in_shape=(rng.choice([1, 3]), size, size), out_channels=rng.choice([4, 8, 16]), kernel_size=k,
                    stride=rng.choice([1, 1, 2]), padding=rng.choice([0, k // 2]), bias=True)
    if difficulty == "medium":  # stride up to 3, dilation, groups, bias on/off
        size = rng.choice([7, 9, 11, 14, 15, 28, 32, 56])
        groups = rng.choice([1, 1, 2, 4])
        return dict(in_shape=(groups * rng.choice([1, 2, 4, 8]), size, size), out_channels=groups * rng.choice([2, 4, 8]),
                    kernel_size=rng.choice([2, 3, 5, 7]), stride=rng.choice([1, 2, 3]), padding=rng.randint(0, 3),
                    dilation=rng.choice([1, 1, 2]), groups=groups, bias=rng.random() < 0.7)
    # hard: 1-D/2-D/3-D, per-axis values, depthwise, transposed with output padding
    n = rng.choice([1, 2, 2, 3])
    spatial = tuple(rng.randint(5, 40 if n < 3 else 16) for _ in range(n))
    c_in = rng.choice([4, 8, 12, 16])
    groups = rng.choice([1, 2, c_in])
    transposed = rng.random() < 0.35
    stride = tuple(rng.choice([1, 2, 3]) for _ in range(n))
    dilation = tuple(rng.choice([1, 1, 2, 3]) for _ in range(n))
    cfg = dict(in_shape=(c_in, *spatial), out_channels=groups * rng.choice([1, 2, 3]),
               kernel_size=tuple(rng.choice([1, 2, 3, 4, 5]) for _ in range(n)), stride=stride,
               padding=tuple(rng.randint(0, 3) for _ in range(n)), dilation=dilation, groups=groups,
               transposed=transposed, bias=rng.random() < 0.5)
    if transposed:
        cfg["output_padding"] = tuple(rng.randint(0, max(s, d) - 1) for s, d in zip(stride, dilation))
    return cfg


def _rf_layers(rng: random.Random, difficulty: str) -> tuple:
    n = {"easy": rng.randint(2, 3), "medium": rng.randint(3, 4), "hard": rng.randint(4, 6)}[difficulty]
    kernels, strides, dilations = {"easy": ([3, 3, 5], [1, 1], [1]), "medium": ([2, 3, 3, 5], [1, 1, 2], [1]),
                                   "hard": ([2, 3, 3, 5, 7], [1, 1, 2, 3], [1, 1, 2, 4])}[difficulty]
    return tuple(dict(kernel_size=rng.choice(kernels), stride=rng.choice(strides), dilation=rng.choice(dilations))
                 for _ in range(n))


def _shape(t) -> str:
    return "×".join(map(str, t))


def _conv_question(kind: str, difficulty: str, rng: random.Random) -> Question:
    for _ in range(200):  # draw until the engine accepts the layer (it rejects what PyTorch would)
        cfg = _conv_config(rng, difficulty)
        geo_args = {k: v for k, v in cfg.items() if k != "bias"}
        try:
            g = ar.conv_geometry(**geo_args)
        except ConfigError:
            continue
        if kind == "output size" and g.spatial_out == g.spatial_in and difficulty != "easy" and rng.random() < 0.7:
            continue  # "same size" is a fine question, but not every time
        break
    else:  # pragma: no cover - the ranges above always contain valid layers
        raise RuntimeError("no valid layer drawn")
    spec = ConvSpec(g.dims, g.in_channels, g.out_channels, cfg["kernel_size"], cfg.get("stride", 1),
                    cfg.get("padding", 0), cfg.get("dilation", 1), cfg.get("groups", 1), cfg["bias"],
                    transposed=cfg.get("transposed", False), output_padding=cfg.get("output_padding", 0))
    layer = f"This layer on an input of shape **{_shape(cfg['in_shape'])}** (C×{_shape(ar.AXIS_NAMES[g.dims])})"
    if kind == "output size":
        axis = rng.randrange(g.dims)
        name = ar.AXIS_NAMES[g.dims][axis]
        formula = conv_output_formulas(g)[axis]
        prompt = f"{layer}: what is the output size along **{name}**?"
    elif kind == "parameters":
        formula = conv_params_formula(g, cfg["bias"])
        prompt = f"{layer}: how many learnable **parameters** (weights{' and biases' if cfg['bias'] else ''}) " \
                 f"does the layer have?"
    elif kind == "MACs":
        formula = conv_macs_formula(g)
        prompt = f"{layer}: how many **MACs** (multiply-accumulates, a·b + c; 1 MAC = 2 FLOPs, bias not counted) " \
                 f"does one forward pass take (batch 1)?"
    else:
        formula = conv_flops_formula(g)
        prompt = f"{layer}: how many **FLOPs** does one forward pass take (batch 1, 2 per multiply-add, bias " \
                 f"not counted)?"
    return Question(kind, difficulty, prompt, spec.to_code(), formula.value, formula, dict(cfg))


def _stack_code(layers) -> str:
    return "\n".join(f"nn.Conv1d(1, 1, kernel_size={l['kernel_size']}"
                     + (f", stride={l['stride']}" if l["stride"] != 1 else "")
                     + (f", dilation={l['dilation']}" if l["dilation"] != 1 else "") + ")" for l in layers)


def _rf_question(difficulty: str, rng: random.Random) -> Question:
    layers = _rf_layers(rng, difficulty)
    rows = ar.receptive_field_table(list(layers))
    formula = receptive_field_formula(rows)
    code = _stack_code(layers)
    prompt = (f"This stack of {len(layers)} convolutions, first to last: how many input positions along one axis "
              f"does **one output position** see (its receptive field)?")
    return Question("receptive field", difficulty, prompt, code, formula.value, formula, None, layers)


def _tf_same_question(difficulty: str, rng: random.Random) -> Question:
    """Total padding of Keras ``padding="same"``: stride > 1 (Keras refuses stride > 1 with dilation > 1)."""
    size = rng.randint(*{"easy": (5, 16), "medium": (5, 32), "hard": (7, 64)}[difficulty])
    k = rng.choice({"easy": [3, 5], "medium": [2, 3, 4, 5, 7], "hard": [2, 3, 4, 5, 6, 7, 11]}[difficulty])
    stride = rng.choice({"easy": [2], "medium": [2, 3], "hard": [2, 3, 4]}[difficulty])
    dilation = 1
    if difficulty == "hard" and rng.random() < 0.3:  # stride 1 with dilation: PyTorch's 'same' would do
        stride, dilation = 1, rng.choice([2, 3])
    formula = tf_same_formulas(size, k, stride, dilation)[1]
    code = (f"tf.keras.layers.Conv1D(8, kernel_size={k}" + (f", strides={stride}" if stride != 1 else "")
            + (f", dilation_rate={dilation}" if dilation != 1 else "") + ', padding="same")')
    prompt = (f"This Keras layer on a sequence of length **{size}**: how many zero cells does TensorFlow pad in "
              f"**total** (before + after) to make it 'same'?")
    return Question(EXTRA_KINDS[0], difficulty, prompt, code, formula.value, formula, None,
                    tf_same=dict(size=size, kernel_size=k, stride=stride, dilation=dilation))


def _gridding_question(difficulty: str, rng: random.Random) -> Question:
    """Cells of one output's receptive field (one axis) that no path through a dilated stack reaches."""
    n = {"easy": rng.randint(2, 3), "medium": rng.randint(3, 4), "hard": rng.randint(3, 5)}[difficulty]
    k = rng.choice({"easy": [3], "medium": [2, 3, 3, 5], "hard": [2, 3, 4, 5]}[difficulty])
    if difficulty == "easy" or rng.random() < 0.5:  # one rate in every layer: the gridding case
        rates = [rng.choice([2, 3] if difficulty == "easy" else [2, 3, 4])] * n
    else:  # mixed (hybrid or not): the answer may be 0
        rates = [rng.choice([1, 2, 3, 4]) for _ in range(n)]
    strides = [1] * n
    if difficulty == "hard" and rng.random() < 0.4:
        strides[0] = 2  # a stride in the first layer: later rates are in units of 2 input cells
    layers = tuple(dict(kernel_size=k, stride=s, dilation=d) for s, d in zip(strides, rates))
    cov = coverage(list(layers))
    prompt = (f"This stack of {len(layers)} convolutions, first to last: one output position sees "
              f"**{cov.receptive_field}** input positions along one axis (its receptive field). How many of them does "
              f"**no path** through the stack ever reach (the holes of gridding)?")
    return Question("gridding", difficulty, prompt, _stack_code(layers), cov.unreached, unreached_formula(cov), None,
                    layers)


def _dice_question(difficulty: str, rng: random.Random) -> Question:
    item = dice_item(difficulty, rng)
    return Question("Dice", difficulty, item.prompt, item.code, item.answer, item.formula, None, masks=item.masks)


def _extras(extra) -> tuple[str, ...]:
    if isinstance(extra, bool):
        return EXTRA_KINDS if extra else ()
    if not isinstance(extra, (list, tuple, set, frozenset)) or not all(e in OPT_IN_KINDS for e in extra):
        raise ConfigError("extra", f"must be True, False or some of {', '.join(OPT_IN_KINDS)}, got {extra!r}")
    return tuple(e for e in OPT_IN_KINDS if e in extra)


def make_quiz(seed: int, difficulty: str = "easy", n: int = 8, extra: bool = False) -> list[Question]:
    """``n`` questions, the four kinds in turn (in an order fixed by the seed); same seed, same quiz.
    ``extra``: True (EXTRA_KINDS: the TF kind), or a collection of OPT_IN_KINDS, join the rotation (a different
    quiz for the same seed)."""
    if difficulty not in DIFFICULTIES:
        raise ConfigError("difficulty", f"must be one of {', '.join(DIFFICULTIES)}, got {difficulty!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigError("seed", f"must be a whole number, got {seed!r}")
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 50:
        raise ConfigError("questions", f"must be a whole number from 1 to 50, got {n!r}")
    extras = _extras(extra)
    order = list(KINDS + extras)
    # the TF kind alone (``extra=True``) seeds with ":extra", other sets with their kinds' names: a shared seed
    # always draws the same quiz
    suffix = "" if not extras else ":extra" if extras == EXTRA_KINDS else ":extra:" + "+".join(extras)
    random.Random(f"cnnviz-quiz:{seed}:{difficulty}{suffix}").shuffle(order)
    quiz = []
    for i in range(n):
        rng = random.Random(f"cnnviz-quiz:{seed}:{difficulty}:{i}")  # str seeds hash the same in every process
        kind = order[i % len(order)]
        quiz.append(_rf_question(difficulty, rng) if kind == "receptive field" else
                    _tf_same_question(difficulty, rng) if kind == EXTRA_KINDS[0] else
                    _gridding_question(difficulty, rng) if kind == "gridding" else
                    _dice_question(difficulty, rng) if kind == "Dice" else
                    _conv_question(kind, difficulty, rng))
    return quiz
