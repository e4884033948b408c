"""The Metrics & Losses page in AppTest: sliders change IoU, Dice, losses, precision/recall; values match the engine."""
from functools import partial

import pytest

from tests.support import apptest


open_page = partial(apptest.open_page, "metrics_losses", via_app=True)
metric = apptest.metric


open_tab = partial(apptest.open_tab, prefix="metrics")


@pytest.fixture(scope="module")
def page():
    return open_page()


def test_defaults_are_hand_computed(page):
    # A = (15, 20, 55, 55), B = (35, 35, 75, 75): overlap 20×20 = 400, union 1400 + 1600 − 400 = 2600
    open_tab(page, "Box IoU")
    assert metric(page, "IoU") == "0.154" and metric(page, "Intersection") == "400"
    assert metric(page, "Union") == "2600"
    open_tab(page, "Cross-entropy vs focal loss")
    assert metric(page, "Cross-entropy") == "0.1054" and metric(page, "Focal loss") == "0.0011"  # p=0.9, γ=2
    assert metric(page, "Focal / CE") == "0.0100"


def test_moving_box_a_onto_b_gives_iou_one(page):
    at = open_tab(page, "Box IoU")
    for name, v in (("ax", 35), ("ay", 35), ("aw", 40), ("ah", 40)):
        at.slider(key=f"metrics_{name}").set_value(v)
    at.run()
    assert metric(at, "IoU") == "1.000"
    at.slider(key="metrics_ax").set_value(55).run()  # half overlapping: 20·40 / (1600 + 1600 − 800)
    assert metric(at, "IoU") == "0.333"
    ax = at.query_params["ax"]
    assert (ax[0] if isinstance(ax, list) else ax) == "55"  # the link keeps the state


def test_dice_of_two_empty_masks_is_one(page):
    at = open_tab(page, "Dice vs IoU")
    at.slider(key="metrics_ra").set_value(0.0)
    at.slider(key="metrics_rb").set_value(0.0).run()
    assert metric(at, "Dice") == "1.000"
    at.slider(key="metrics_ra").set_value(5.0).run()  # one empty mask: no overlap
    assert metric(at, "Dice") == "0.000"


def test_gamma_zero_focal_equals_cross_entropy(page):
    at = open_tab(page, "Cross-entropy vs focal loss")
    at.slider(key="metrics_gamma").set_value(0.0).run()
    assert metric(at, "Focal loss") == metric(at, "Cross-entropy")


def test_threshold_moves_precision_recall_not_ap(page):
    at = open_tab(page, "Precision–recall, AP, mAP")
    ap = metric(at, "AP (cat)")
    at.slider(key="metrics_thr").set_value(1.0).run()
    assert (metric(at, "Precision"), metric(at, "Recall")) == ("1.000", "0.000")
    at.slider(key="metrics_thr").set_value(0.0).run()
    from cnnviz.metrics import demo_detections
    dets, n_gt = demo_detections(0)
    cats = [d for d in dets if d.cls == "cat"]
    assert metric(at, "Recall") == f"{sum(d.is_tp for d in cats) / n_gt['cat']:.3f}"
    assert metric(at, "Precision") == f"{sum(d.is_tp for d in cats) / len(cats):.3f}"
    assert metric(at, "AP (cat)") == ap


def test_map_formulas_carry_the_iou_threshold_and_the_shown_numbers():
    at = open_page({"iou_thr": "0.7", "tab": "Precision–recall, AP, mAP"})
    bodies = [x.body.strip("$\n") for x in at.latex]  # st.latex wraps its source in $$ … $$
    assert any(r"p_{\mathrm{interp}}(r_n) = \max_{m \ge n} p_m" in b for b in bodies)  # AP, all-point
    assert any(r"\mathrm{mAP}@[.5{:}.95]" in b and "0.95" in b for b in bodies)
    m = next(b for b in bodies if b.startswith(r"\mathrm{mAP}@0.70"))  # mAP at the slider's threshold
    assert m.endswith(f"= {metric(at, 'mAP@0.7')}")
    coco = next(b for b in bodies if r"\boxed" in b)
    assert r"_{0.70}}" in coco and coco.endswith(f"= {metric(at, 'mAP@[.5:.95]')}")
    assert f"\\boxed{{\\underbrace{{{metric(at, 'mAP@0.7')}}}" in coco  # the boxed term is the tab's mAP@0.7
    ap = next(b for b in bodies if b.startswith(r"\mathrm{AP}_{\text{cat}}"))
    assert ap.endswith(f"= {metric(at, 'AP (cat)')}")
    at.slider(key="metrics_iou_thr").set_value(0.5).run()
    assert any(x.body.strip("$\n").startswith(r"\mathrm{mAP}@0.50") for x in at.latex)

def test_topk_metrics_match_torch_topk(page):
    import torch
    from cnnviz.compression import predict
    from cnnviz.compression.distill import digits_model
    ds, model, _ = digits_model()
    logits = predict(model, ds.x_val)
    at = open_tab(page, "Top-k")
    for k in (1, 5, 2):
        at.slider(key="metrics_k").set_value(k).run()
        hits = (torch.topk(logits, k, dim=1).indices == ds.y_val[:, None]).any(dim=1)
        assert metric(at, f"Top-{k} accuracy") == f"{hits.float().mean().item():.1%}"
    wrong = int((logits.argmax(1) != ds.y_val).nonzero()[0])  # an image the model gets wrong at top-1
    at.number_input(key="metrics_img").set_value(wrong).run()
    for k in (1, 10):
        at.slider(key="metrics_k").set_value(k).run()
        in_top = int(ds.y_val[wrong]) in torch.topk(logits[wrong], k).indices.tolist()
        assert metric(at, f"True class in top-{k}") == ("yes" if in_top else "no")
        assert in_top == (k == 10)
    assert not at.exception


def test_focal_alpha_moves_the_loss_towards_the_rare_class(page):
    at = open_tab(page, "Cross-entropy vs focal loss")
    at.slider(key="metrics_gamma").set_value(2.0).run()
    shares = lambda: {t["name"].split(" (")[0]: t["y"][1] for t in next(  # noqa: E731 - the focal bar
        f for f in apptest.figures(at) if "made of" in str(f["layout"].get("title")))["data"]}
    at.slider(key="metrics_alpha").set_value(0.25).run()
    low = shares()
    at.slider(key="metrics_alpha").set_value(0.75).run()
    high = shares()
    assert high["minority, hard"] > low["minority, hard"] and high["majority, easy"] < low["majority, easy"]
    assert sum(high.values()) == pytest.approx(1.0)
    assert any(r"\alpha_t = 0.75" in x.value for x in at.latex)


def test_link_restores_state_and_ignores_garbage():
    at = open_page({"ax": "35", "ay": "35", "aw": "40", "ah": "40", "gamma": "banana"})
    assert metric(at, "IoU") == "1.000"
    assert any("Ignored" in i.value and "gamma" in i.value for i in at.info)
