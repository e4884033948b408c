"""The Saliency page's Adversarial tab in AppTest: before → after with probabilities, ε = 0 changes nothing, the
perturbation stays within ε, targeted PGD raises the goal's probability, the accuracy-vs-ε curve of the shipped
digits model, and the nine-method grid above it (Grad-CAM++ and Score-CAM included)."""
from cnnviz.inside import validation_set, load_model, accuracy_vs_eps
from cnnviz.ui.adversarial import CURVE_LEVELS
from tests.support import apptest

metric = apptest.metric


def probabilities(at) -> tuple[list[float], list[float]]:
    """(before, after) from the probability bars."""
    fig = next(f for f in apptest.figures(at) if f["data"][0].get("type") == "bar")
    return fig["data"][0]["y"], fig["data"][1]["y"]


def test_adversarial_tab_shows_before_and_after():
    at = apptest.open_page("saliency", {"tab": "Adversarial"})  # digits TinyVGG, sample "0", FGSM at ε = 24/255
    grid = apptest.figures(at)[0]
    titles = [a["text"] for a in grid["layout"]["annotations"]]
    assert titles[7:9] == ["Grad-CAM++", "Score-CAM"] and len(titles) == len(grid["data"]) == 10
    before, after = probabilities(at)
    assert metric(at, "Before") == f"0 · {max(before):.0%}"
    shown = after.index(max(after))
    assert shown != 0 and metric(at, "After") == f"{shown} · {max(after):.0%}"  # fooled at the default ε
    assert 0 < int(metric(at, "Largest pixel change").split("/")[0]) <= 24

    curve = next(f for f in apptest.figures(at) if f["data"][0].get("mode") == "lines+markers")
    model, info = load_model("digits_TinyVGG")
    xs, ys = validation_set("digits")
    assert curve["data"][0]["x"] == list(CURVE_LEVELS)
    assert curve["data"][0]["y"] == accuracy_vs_eps(model, xs, ys, [v / 255 for v in CURVE_LEVELS], 0.0, 1.0)
    assert curve["data"][0]["y"][0] > 0.95 and curve["data"][0]["y"][-1] < 0.2

    at.slider(key="sal_eps").set_value(0).run()                      # ε = 0: nothing moves
    assert not at.exception
    assert metric(at, "Largest pixel change") == "0/255"
    assert probabilities(at)[0] == probabilities(at)[1]

    at.radio(key="sal_attack").set_value("targeted").run()
    at.slider(key="sal_eps").set_value(48).run()
    at.selectbox(key="sal_goal").set_value(3).run()                   # "make it a 3"
    assert not at.exception
    before, after = probabilities(at)
    assert after[3] > before[3] + 0.3
    assert at.query_params["attack"] in ("targeted", ["targeted"])   # a shared link opens the same attack
