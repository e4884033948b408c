"""Soft Dice, COCO mAP, MACs and TF 'same' controls in AppTest, through the real app: the Soft Dice loss view, the IoU threshold with COCO
mAP (Metrics & Losses), the MACs switch and the TF 'same' with stride tab (Conv Arithmetic). Every number shown
is compared with the engine, which the unit tests compare with PyTorch and hand-worked values."""
import pytest

from tests.support import apptest
from cnnviz.geometry import conv_geometry, conv_macs
from cnnviz.metrics import coco_map, demo_scene, detections_by_class, map_at_iou, soft_dice_view

metric = apptest.metric


def help_of(at, label):
    return next(m.proto.help for m in at.metric if m.label == label)


# --------------------------------------------------------------------------- Metrics & Losses
@pytest.fixture(scope="module")
def metrics_page():
    return apptest.open_page("metrics_losses", via_app=True)


def open_tab(at, label, prefix="metrics"):
    return apptest.open_tab(at, label, prefix)


def soft_dice_numbers(at):
    return metric(at, "Dice loss"), metric(at, "BCE"), metric(at, "IoU (p ≥ 0.5)")


def expected(v):
    return f"{v.dice_loss:.3f}", f"{v.bce:.4f}", f"{v.iou:.3f}"


def test_soft_dice_defaults_are_the_engines(metrics_page):
    at = open_tab(metrics_page, "Soft Dice loss")
    v = soft_dice_view(0.0, 1.0, False)
    assert soft_dice_numbers(at) == expected(v) == ("0.165", "0.0804", "1.000")
    assert any(v.latex in el.value for el in at.latex)  # the formula with these numbers substituted
    assert any("What to notice" in c.value for c in at.caption)


def test_sharpen_shift_and_small_object_move_the_numbers(metrics_page):
    at = open_tab(metrics_page, "Soft Dice loss")
    at.slider(key="metrics_temp").set_value(0.25).run()
    sharp = soft_dice_view(0.0, 0.25, False)
    assert soft_dice_numbers(at) == expected(sharp) and sharp.dice_loss < 0.165  # sharper, closer to the target
    at.slider(key="metrics_shift").set_value(6.0).run()
    assert soft_dice_numbers(at) == expected(soft_dice_view(6.0, 0.25, False))
    at.toggle(key="metrics_small").set_value(True).run()
    small = soft_dice_view(6.0, 0.25, True)
    assert not at.exception and soft_dice_numbers(at) == expected(small)
    assert small.iou == 0.0 and small.dice_loss > 0.9  # the object is missed
    assert small.empty_bce < 0.1 < 0.9 < small.empty_dice_loss  # background everywhere: BCE forgives it, Dice not
    shown = " ".join(m.value for m in at.markdown)
    assert f"BCE **{small.empty_bce:.4f}**" in shown and f"Dice loss **{small.empty_dice_loss:.3f}**" in shown
    assert at.query_params["small"] in ("1", ["1"])  # the link keeps the view


def test_iou_threshold_changes_map_and_shows_coco_map(metrics_page):
    at = open_tab(metrics_page, "Precision–recall, AP, mAP")
    dets, gt = demo_scene(0)
    coco = f"{coco_map(detections_by_class(dets), gt):.3f}"
    assert metric(at, "mAP@0.5") == "0.706" and metric(at, "mAP@[.5:.95]") == coco == "0.247"
    at.slider(key="metrics_iou_thr").set_value(0.75).run()
    m, aps = map_at_iou(detections_by_class(dets), gt, 0.75)
    assert not at.exception and metric(at, "mAP@0.75") == f"{m:.3f}" == "0.163"
    assert metric(at, "AP (cat)") == f"{aps['cat']:.3f}"
    assert metric(at, "mAP@[.5:.95]") == coco  # the COCO number does not depend on the chosen threshold
    at.slider(key="metrics_iou_thr").set_value(0.95).run()
    assert metric(at, "mAP@0.95") == "0.000"  # no jittered box overlaps its object by 95 %


def test_a_link_opens_the_soft_dice_view_and_threshold():
    at = apptest.open_page("metrics_losses", {"temp": "0.5", "shift": "3", "small": "1", "iou_thr": "0.6",
                                              "tab": "Soft Dice loss"}, via_app=True)
    assert soft_dice_numbers(at) == expected(soft_dice_view(3.0, 0.5, True))
    open_tab(at, "Precision–recall, AP, mAP")  # the link's threshold waits in its own tab
    assert metric(at, "mAP@0.6") == f"{map_at_iou(detections_by_class(demo_scene(0)[0]), demo_scene(0)[1], 0.6)[0]:.3f}"


# --------------------------------------------------------------------------- Conv Arithmetic
@pytest.fixture(scope="module")
def arith_page():
    return apptest.open_page("conv_arithmetic", via_app=True)


def test_macs_switch_halves_the_figure_and_its_formula(arith_page):
    at = arith_page
    assert metric(at, "FLOPs") == "21.2 k" and "21,168" in help_of(at, "FLOPs")   # 2·7·7·9·8·3
    at.toggle(key="arith_macs").set_value(True).run()
    assert not at.exception and not [m for m in at.metric if m.label == "FLOPs"]
    macs = conv_macs(conv_geometry((3, 7, 7), 8, 3, padding=1))
    assert macs == 10_584 and metric(at, "MACs") == "10.6 k" and "10,584" in help_of(at, "MACs")
    assert any(r"\mathrm{MACs}" in el.value and "10{,}584" in el.value for el in at.latex)
    toggle = at.toggle(key="arith_macs")
    assert "FLOPs / 2" in toggle.help and "FlopCounterMode" in toggle.help and "pooling" in toggle.help
    note = next(c.value for c in at.caption if "FlopCounterMode's convention" in c.value)  # visible, not only a tooltip
    assert "pooling, activations and normalisation count 0" in note and "other tools" in note
    assert any("checked by PyTorch" in s.value and "21,168 FLOPs" in s.value for s in at.success)  # badge: FLOPs
    at.toggle(key="arith_macs").set_value(False).run()
    assert metric(at, "FLOPs") == "21.2 k"


def test_tf_same_with_stride_two_is_refused_by_pytorch_and_padded_explicitly(arith_page):
    at = arith_page
    at.session_state["arith_tab"] = "TF 'same' with stride"
    at.run()
    # defaults L = 8, k = 3, s = 2, d = 1: out ⌈8/2⌉ = 4, total (4−1)·2 + 2 + 1 − 8 = 1 -> (0, 1)
    assert (metric(at, "TF output length"), metric(at, "Pad before"), metric(at, "Pad after")) == ("4", "0", "1")
    assert metric(at, "PyTorch 'same' length") == "refused"
    assert any("PyTorch refuses padding='same' with stride 2" in w.value for w in at.warning)
    assert any("F.pad(x, (0, 1))" in c.value and "stride=2" in c.value for c in at.code)
    for key, v in (("tfl", 64), ("tfk", 7)):
        at.number_input(key=f"arith_{key}").set_value(v).run()
    # L = 64, k = 7, s = 2: out 32, total 31·2 + 6 + 1 − 64 = 5 -> (2, 3), the extra cell after
    assert (metric(at, "TF output length"), metric(at, "Pad before"), metric(at, "Pad after")) == ("32", "2", "3")
    assert any(r"\max\big((32-1)\cdot2 + 1\cdot(7-1) + 1 - 64" in el.value for el in at.latex)
    assert any("F.conv1d gives length 32" in s.value for s in at.success)


def test_tf_same_with_stride_one_is_pytorchs_same(arith_page):
    at = arith_page
    at.session_state["arith_tab"] = "TF 'same' with stride"
    at.run()
    for key, v in (("tfl", 64), ("tfk", 7), ("tfs", 1), ("tfd", 2)):
        at.number_input(key=f"arith_{key}").set_value(v).run()
    # L = 64, k = 7, d = 2: total d·(k−1) = 12 -> (6, 6), and PyTorch's own 'same' agrees
    assert (metric(at, "TF output length"), metric(at, "Pad before"), metric(at, "Pad after")) == ("64", "6", "6")
    assert metric(at, "PyTorch 'same' length") == "64"
    assert any("pads (6, 6), the same as TF" in s.value for s in at.success)
    assert not any("refuses" in w.value for w in at.warning)
    at.number_input(key="arith_tfs").set_value(2).run()  # stride and dilation: Keras says no, ONNX's rule is this
    assert any("SAME_UPPER" in i.value for i in at.info)
    # L = 64, k = 7, s = 2, d = 2: out 32, total 31·2 + 2·6 + 1 − 64 = 11 -> (5, 6)
    assert (metric(at, "TF output length"), metric(at, "Pad before"), metric(at, "Pad after")) == ("32", "5", "6")


# --------------------------------------------------------------------------- Quiz
def test_quiz_toggle_adds_tf_same_questions_marked_by_the_engine():
    from cnnviz.classroom.quiz import make_quiz
    at = apptest.open_page("quiz", {"seed": "3", "n": "5"}, via_app=True)
    assert not any("TF 'same' padding" in m.value for m in at.markdown)  # the default quiz is unchanged
    assert [c.value for c in at.main.code] == [q.code for q in make_quiz(3, "easy", 5)]
    at.toggle(key="quiz_tf").set_value(True).run()
    quiz = make_quiz(3, "easy", 5, extra=True)
    assert not at.exception and [c.value for c in at.main.code] == [q.code for q in quiz]
    i, q = next((i, q) for i, q in enumerate(quiz) if q.kind == "TF 'same' padding")
    assert any(m.value == f"#### {i + 1}. TF 'same' padding" for m in at.markdown)
    at.number_input(key=f"quiz_in_3_easy_tf_{i}").set_value(q.answer)
    at.button(key=f"quiz_check_{i}").click().run()
    assert not at.exception and metric(at, "Score this session") == "1 / 1"
    assert any(q.formula.substituted in el.body for el in at.latex)  # max((out − 1)·s + …) with the numbers
    assert at.query_params["tf"] in ("1", ["1"])


def test_the_macs_note_sits_beside_its_switch_and_only_in_its_help_in_presenter_mode():
    at = apptest.open_page("architecture_lab")
    assert any("FlopCounterMode's convention" in c.value for c in at.caption)
    cols = [c for c in at.columns if any(t.key == "arch_macs" for t in c.toggle)]
    assert len(cols) == 1  # the switch in its column, the note beside it
    at.session_state["presenter_on"] = True
    at.run()
    assert not at.exception
    assert not [c for c in at.columns if any(t.key == "arch_macs" for t in c.toggle)]  # no row of its own
    assert not any("FlopCounterMode's convention" in c.value for c in at.caption)  # the figure stays above the fold
    assert "pooling, activations and normalisation count 0" in at.toggle(key="arch_macs").help
