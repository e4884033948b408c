"""The Feature Maps page's Embedding tab in AppTest: the shipped digits model's validation set projected by PCA,
one scatter trace per class, the points, misclassified marks and axis titles equal to the engine's; a click shows
the image and opens it in the Network Explorer; t-SNE runs as a job (equal to scikit-learn's) and a new session
reads its result from the cache, and its Stop keeps nothing; a Training Lab run at epoch 0 and its last
checkpoint equal the engine's."""
import time

import numpy as np
import pytest
import torch

import cnnviz.ui.embedding as ui
from cnnviz.inside import (TsneResult, embedding, first_and_last, load_model, penultimate_features, run_checkpoint,
                           tsne_2d, validation_set)
from cnnviz.jobs import JobLimiter, ThreadRunner
from cnnviz.training import TrainConfig
from cnnviz.training.loop import get_data
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


# ---------------------------------------------------------------- click-through, t-SNE as a job, a training run
def scatter_figs(at):
    return [f for f in apptest.figures(at) if f["data"] and f["data"][0].get("type") == "scatter"]


def click(at, chart: str, index: int):
    """What the chart sends when a point is clicked: its customdata, the image index."""
    at.session_state[chart] = {"selection": {"points": [{"customdata": index}], "point_indices": [0], "box": [],
                                             "lasso": []}}
    return at.run()


def points(fig) -> dict[int, tuple[float, float]]:
    """Image index -> (x, y) over the class traces (the selection ring excluded)."""
    return {i: (x, y) for t in fig["data"] if t.get("name") != "selected"
            for i, x, y in zip(t["customdata"], t["x"], t["y"])}


def test_a_click_shows_the_image_and_opens_it_in_the_explorer():
    at = apptest.open_page("feature_maps", {"tab": "Embedding"}, via_app=True)  # switch_page needs the navigation
    model, info = load_model("digits_TinyVGG")
    xs, ys = validation_set(info.dataset)
    e = embedding(model, xs, ys)
    i = int(e.wrong.nonzero()[0, 0])  # a misclassified image
    before = len(at.get("image"))
    click(at, "feat_embed_fig", i)
    assert not at.exception and not at.error
    text = "\n".join(m.value for m in at.markdown)
    assert f"**#{i}** · true **{info.classes[int(ys[i])]}** → predicted **{info.classes[int(e.predictions[i])]}** " \
        ":red[✗]" in text
    assert len(at.get("image")) == before + 1  # the clicked image
    ring = [t for t in scatter_figs(at)[0]["data"] if t["name"] == "selected"][0]
    assert (ring["x"][0], ring["y"][0]) == pytest.approx(tuple(e.coords[i].tolist()))
    at.button(key="emb_open").click().run()
    assert not at.exception and [t.value for t in at.title] == ["Network Explorer"]
    assert at.session_state["net_idx"] == i and at.session_state["net_src"] == "validation"
    assert at.session_state["net_model"] == "digits_TinyVGG"
    assert dict(at.query_params) | {"idx": str(i)} == dict(at.query_params)


@pytest.fixture
def thread_runner(monkeypatch):
    """The app's runners replaced by one in this process (threads, no storage): no child process to start."""
    runner = ThreadRunner(JobLimiter(2), device=torch.device("cpu"), storage=False)
    monkeypatch.setattr(ui, "_runner", lambda: runner)
    monkeypatch.setattr(ui, "get_runner", lambda *a: runner)
    yield runner
    runner.close()


def test_tsne_runs_as_a_job_equals_sklearn_and_a_new_session_reads_the_cache(thread_runner, monkeypatch):
    monkeypatch.setattr(ui, "ITERATIONS", 250)  # scikit-learn's least: a quick job
    query = {"tab": "Embedding", "emb_method": "t-SNE", "emb_perp": "7"}
    at = apptest.open_page("feature_maps", query)
    assert not scatter_figs(at) and at.button(key="feat_emb_go")
    at.button(key="feat_emb_go").click().run()
    job = at.session_state["feat_emb_job"][0]
    assert thread_runner.join(job, timeout=60)
    at.run()
    assert not at.exception and not at.error
    end = thread_runner.poll(job)[-2]  # its result, then the runner's Finished
    assert isinstance(end, TsneResult) and end.reason == "done"
    assert [s.value for s in at.success] == [f"t-SNE done: {end.step:,} iterations. Kept for every student."]
    assert "feat_emb_job" not in at.session_state and not at.run().success  # said once
    model, info = load_model("digits_TinyVGG")
    xs, ys = validation_set(info.dataset)
    ref = tsne_2d(penultimate_features(model, xs), 7, ui.SEED, 250)
    shown = points(scatter_figs(at)[0])
    np.testing.assert_allclose([shown[i] for i in range(len(ys))], ref, rtol=1e-6, atol=1e-6)
    again = apptest.open_page("feature_maps", query)  # another student: read from the cache, no job
    assert "feat_emb_job" not in again.session_state and points(scatter_figs(again)[0]) == shown


def test_a_training_run_at_its_first_and_last_checkpoint_on_the_same_axes(thread_runner):
    owner = "o" * 43
    job = thread_runner.submit(TrainConfig(dataset="digits", seed=0, width=8, epochs=2), owner=owner)
    assert thread_runner.join(job, timeout=120)
    at = AppTest_with_owner(owner, {"tab": "Embedding", "emb_of": "run"})
    figs = scatter_figs(at)
    assert len(figs) == 2 and "Epoch 0" in figs[0]["layout"]["title"]["text"] and \
        "Epoch 2" in figs[1]["layout"]["title"]["text"]
    ckpt = thread_runner.checkpoint(job, owner)
    rc = run_checkpoint(ckpt)
    data = get_data(TrainConfig(dataset="digits", seed=0, width=8, epochs=2))
    first, last = first_and_last(rc.first, rc.last, data.x_val, data.y_val)
    for fig, e in zip(figs, (first, last)):
        shown = points(fig)
        np.testing.assert_allclose([shown[i] for i in range(len(data.y_val))], e.coords.numpy(), atol=1e-9)
    click(at, "feat_emb_last_fig", 5)
    at.button(key="emb_run_open").click().run()  # seed 0, all images: the Explorer's validation split
    assert not at.exception and [t.value for t in at.title] == ["Network Explorer"]
    assert at.session_state["explorer_model_bytes"] == ckpt and at.session_state["net_idx"] == 5
    assert at.session_state["net_model"] == "session"


def AppTest_with_owner(owner: str, query: dict):
    """The Feature Maps page through app.py's navigation (a switch_page needs it) for the browser ``owner``."""
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(str(apptest.ROOT / "app.py"), default_timeout=120)
    for k, v in query.items():
        at.query_params[k] = v
    at.session_state["job_owner"] = owner
    at.run()
    at.switch_page("pages/feature_maps.py").run()
    assert not at.exception, at.exception
    return at


def test_tsne_stop_ends_the_job_keeps_nothing_and_offers_run_again(thread_runner, monkeypatch):
    """The job panel (cnnviz/ui/job_panel.py) while t-SNE runs: its progress bar and Stop; Stop ends the job within
    an iteration, nothing goes to the cache, the page says so once and offers Run t-SNE again. scikit-learn is
    replaced by a stand-in that only iterates (5 ms each, up to the iterations asked for), so the job is still
    running when Stop is pressed, however fast or busy the machine."""
    import cnnviz.inside.embedding_tsne as engine

    def iterate(features, perplexity, seed, max_iter, on_iteration):
        for _ in range(max_iter):
            time.sleep(0.005)
            on_iteration()
        return np.zeros((len(features), 2))

    monkeypatch.setattr(engine, "tsne_2d", iterate)
    monkeypatch.setattr(ui, "ITERATIONS", 2_000)  # 10 s at least: Stop comes first
    at = apptest.open_page("feature_maps", {"tab": "Embedding", "emb_method": "t-SNE", "emb_perp": "11"})
    at.button(key="feat_emb_go").click().run()
    job, key = at.session_state["feat_emb_job"]
    assert [b.label for b in at.button] == ["Stop"] and not scatter_figs(at)
    bar = [p.proto.text for p in at.get("progress")]
    assert len(bar) == 1 and (bar[0] == "Starting…" or bar[0].startswith("t-SNE: iteration ")), bar
    at.button(key="feat_emb_stop").click().run()
    assert thread_runner.join(job, timeout=10)
    end = thread_runner.poll(job)[-2]
    assert isinstance(end, TsneResult) and end.reason == "stopped" and end.step < 2_000 and end.coords == ()
    assert not at.exception and not at.error
    assert [i.value for i in at.info] == [f"t-SNE stopped after {end.step} iterations: nothing kept. Press Run t-SNE "
                                          "to start again."]
    assert key not in ui._kept() and "feat_emb_job" not in at.session_state
    assert [b.label for b in at.button] == ["Run t-SNE"] and not scatter_figs(at)
    at.run()  # said once
    assert not at.info and [b.label for b in at.button] == ["Run t-SNE"]
