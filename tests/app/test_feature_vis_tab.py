"""The Feature Maps page's Feature visualisation tab in AppTest: it opens on the digits TinyVGG's last conv layer,
Visualise shows the optimised image titled with the engine's mean activation (the same seeded result as calling
the engine), beside the channel's strongest validation patches; the result is kept, so a rerun shows it without
the button."""
import pytest

from cnnviz.inside import channel_means, load_model, validation_set, visualise_channel
from tests.support import apptest


def test_tab_runs_and_shows_the_image_beside_the_patches():
    at = apptest.open_page("feature_maps", {"tab": "Feature visualisation", "fv_ch": "2", "fv_steps": "16",
                                            "fv_fourier": "0"})
    assert not at.exception and not at.error
    assert [b.label for b in at.button] == ["Visualise"]
    assert apptest.metric(at, "Visualisation's mean activation") == "—"
    model, info = load_model("digits_TinyVGG")
    best = float(channel_means(model, "features.7", validation_set(info.dataset)[0])[:, 2].max())
    assert apptest.metric(at, "Best validation image") == f"{best:.2f}"
    at.button(key="feat_fv_go").click().run()
    assert not at.exception and not at.error
    want = visualise_channel(model, "features.7", 2, (1, 8, 8), steps=16, fourier=False)
    figs = apptest.figures(at)
    titles = [[a["text"] for a in f["layout"].get("annotations", [])] for f in figs]
    vis = next(t for t in titles if t and t[0].startswith("mean activation"))
    assert vis[0] == f"mean activation {want.activation[0]:.2f}"
    assert apptest.metric(at, "Visualisation's mean activation") == f"{want.activation[0]:.2f}"
    assert sum(len(f["data"]) == 4 and all(d["type"] == "image" for d in f["data"]) for f in figs) == 1  # patches
    at.run()  # kept: shown again without pressing, and the button is gone
    assert [b.label for b in at.button] == []
    assert apptest.metric(at, "Visualisation's mean activation") == f"{want.activation[0]:.2f}"
