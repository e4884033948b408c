"""The Feature Maps page's Embedding tab in AppTest: the shipped digits model's validation set projected by PCA,
one scatter trace per class, the points, misclassified marks and axis titles equal to the engine's."""
from cnnviz.inside import embedding, load_model, validation_set
from tests.support import apptest


def test_embedding_tab_draws_one_trace_per_class():
    at = apptest.open_page("feature_maps", {"tab": "Embedding"})  # digits TinyVGG
    assert not at.exception and not at.error
    fig = next(f for f in apptest.figures(at) if f["data"] and f["data"][0].get("type") == "scatter")
    model, info = load_model("digits_TinyVGG")
    xs, ys = validation_set(info.dataset)
    e = embedding(model, xs, ys)
    assert [t["name"] for t in fig["data"]] == list(info.classes)
    assert sum(len(t["x"]) for t in fig["data"]) == len(ys)
    xs_shown = sorted(v for t in fig["data"] for v in t["x"])
    assert xs_shown == sorted(e.coords[:, 0].tolist())
    marked = sum(s == "x" for t in fig["data"] for s in t["marker"]["symbol"])
    assert marked == int(e.wrong.sum()) > 0
    assert f"{e.ratio[0]:.1%}" in fig["layout"]["xaxis"]["title"]["text"]
    assert f"{e.ratio[1]:.1%}" in fig["layout"]["yaxis"]["title"]["text"]
    assert any("true: " in s and "predicted: " in s for s in fig["data"][0]["text"])


def test_embedding_follows_the_model_box():
    at = apptest.open_page("feature_maps", {"tab": "Embedding", "model": "shapes_SmallResNet"})
    assert not at.exception and not at.error
    fig = next(f for f in apptest.figures(at) if f["data"] and f["data"][0].get("type") == "scatter")
    _, info = load_model("shapes_SmallResNet")
    assert [t["name"] for t in fig["data"]] == list(info.classes)
    assert sum(len(t["x"]) for t in fig["data"]) == len(validation_set(info.dataset)[1])
