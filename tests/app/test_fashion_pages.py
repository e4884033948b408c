"""Fashion-MNIST in the pages (AppTest): the Training Lab offers the data set and shows its split; Feature Maps,
Saliency and the Network Explorer open with the shipped Fashion-MNIST TinyVGG on a sample and a validation image,
the prediction they show is the engine's, and the Explorer searches the Fashion-MNIST validation set."""
import torch

from tests.support import apptest
from cnnviz.inside.shipped import input_image, load_model
from cnnviz.io.text import md_text

KEY, SAMPLE = "fashion_TinyVGG", "fashion_Sneaker_0"


def engine_prediction(source: str, **kw) -> str:
    model, info = load_model(KEY)
    x, _ = input_image(info, source, **kw)
    with torch.no_grad():
        return md_text(info.classes[int(model(x.to(next(model.parameters()).device)).argmax())])


def test_training_lab_lists_fashion_and_shows_its_split():
    at = apptest.open_page("training_lab")
    assert "Fashion-MNIST" in at.radio(key="train_data").options  # the option as the radio shows it
    at.radio(key="train_data").set_value("fashion").run()
    assert not at.exception, at.exception
    assert any("6,000 training and 1,000 validation images, 1×28×28" in c.value and "Ankle boot" in c.value
               for c in at.caption)
    assert at.query_params["data"] in ("fashion", ["fashion"]) and not at.error


def test_model_pages_open_with_the_fashion_model():
    for page, prefix in (("feature_maps", "feat"), ("saliency", "sal"), ("network_explorer", "net")):
        at = apptest.open_page(page, {"model": KEY})
        assert at.selectbox(key=f"{prefix}_model").value == KEY, page
        at.selectbox(key=f"{prefix}_sample").set_value(SAMPLE).run()
        assert not at.exception and not at.error, (page, at.exception)
        assert apptest.metric(at, "Prediction") == engine_prediction("sample", sample=SAMPLE), page
        if page == "network_explorer":  # its strongest-patches search runs over the shipped validation images
            at.toggle(key="net_top_on").set_value(True).run()
            assert not at.exception and not at.error
            assert not any("Needs a feature-map layer" in i.value for i in at.info)
            assert any(str(f["layout"]).count("#") >= 8 for f in apptest.figures(at))  # 8 patches "#image: value"
        if page == "feature_maps":  # the validation source reads the shipped split's images
            at.radio(key="feat_src").set_value("validation").run()
            at.number_input(key="feat_idx").set_value(17).run()
            assert not at.exception and not at.error
            assert apptest.metric(at, "Prediction") == engine_prediction("validation", index=17)
