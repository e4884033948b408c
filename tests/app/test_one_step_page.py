"""The Training Lab's "One step" tab in AppTest: it renders the batch, the loss, the gradient as a sum with
autograd's value beside it (equal), the update with torch.optim's value beside it (equal); "Step again" moves to
the next step (the new "before" is the last "after"), "Run 10 steps" runs, a new optimiser starts over."""
from functools import partial

import pytest

from tests.support import apptest

open_page = partial(apptest.open_page, "training_lab")
metric = apptest.metric


def button(at, label):
    return next(b for b in at.button if b.label == label)


def delta(at, label):
    return next(m.proto.delta for m in at.metric if m.label == label)


def step_charts(at):
    return [el.key for el in at.get("plotly_chart") if el.key.startswith("train_step_")]


def test_one_step_renders_checks_and_steps_again():
    at = apptest.open_tab(open_page(), "One step", "train")
    assert not at.exception, at.exception
    assert metric(at, "Step") == "0"
    assert delta(at, "autograd ∂L/∂w") == "equal ✓" and metric(at, "Σ terms = ∂L/∂w") == metric(at, "autograd ∂L/∂w")
    assert delta(at, "torch.optim gives") == "equal ✓" and metric(at, "after") == metric(at, "torch.optim gives")
    assert step_charts(at) == ["train_step_batch_fig", "train_step_terms_fig"]  # no loss curve before a step
    assert any(r"w_{0,0,1,1}" in x.value for x in at.latex)       # the default entry: features.0, (0, 0, 1, 1)
    assert any(r"b = d = " in x.value for x in at.latex)          # SGD's first momentum buffer
    shown = (metric(at, "Batch loss"), metric(at, "Σ terms = ∂L/∂w"), metric(at, "after"))
    after = metric(at, "after")
    button(at, "Step again").click().run()
    assert not at.exception, at.exception
    assert metric(at, "Step") == "1" and metric(at, "before") == after       # the step was taken
    assert (metric(at, "Batch loss"), metric(at, "Σ terms = ∂L/∂w"), metric(at, "after")) != shown
    assert any(r"b \leftarrow \mu b + d" in x.value for x in at.latex)      # the buffer now carries momentum
    assert delta(at, "autograd ∂L/∂w") == "equal ✓" and delta(at, "torch.optim gives") == "equal ✓"
    assert step_charts(at)[-1] == "train_step_loss_fig"                     # + the loss per step
    button(at, "Run 10 steps").click().run()
    assert metric(at, "Step") == "11" and delta(at, "torch.optim gives") == "equal ✓"
    curve = apptest.figures(at)[-1]["data"][0]                              # the loss of steps 0..10 and this one
    assert curve["x"] == list(range(12)) and len(curve["y"]) == 12 and curve["y"][-1] == pytest.approx(
        float(metric(at, "Batch loss")), abs=5e-5)


def test_another_entry_and_adamw():
    at = apptest.open_tab(open_page(), "One step", "train")
    button(at, "Step again").click().run()
    at.selectbox(key="train_step_layer").set_value("features.5").run()
    at.number_input(key="train_step_o").set_value(7).run()
    at.number_input(key="train_step_i").set_value(3).run()
    at.number_input(key="train_step_ky").set_value(9).run()                 # past the 3×3 kernel: refused, kept 0..2
    assert not at.exception, at.exception
    assert any(r"w_{7,3," in x.value for x in at.latex) and metric(at, "Step") == "1"
    assert delta(at, "autograd ∂L/∂w") == "equal ✓"
    at.selectbox(key="train_step_opt").set_value("adamw").run()              # a new optimiser: step 0 again
    assert metric(at, "Step") == "0"
    assert any(r"\hat m = \frac{m}{1-\beta_1^{1}}" in x.value for x in at.latex)
    button(at, "Step again").click().run()
    assert metric(at, "Step") == "1" and delta(at, "torch.optim gives") == "equal ✓"
    assert at.query_params["step_opt"] in ("adamw", ["adamw"]) and at.query_params["tab"] in ("One step", ["One step"])
