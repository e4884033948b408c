"""The Feature Maps page's Feature visualisation tab in AppTest: it opens on the digits TinyVGG's last conv layer,
Visualise shows the optimised image titled with the engine's mean activation (the same seeded result as calling
the engine), beside the channel's strongest validation patches; the result is kept, so a rerun shows it without
the button. A long ascent runs as a job of the app's runner: its result equals the inline one, a new session reads
it from the cache, and Stop ends it."""
import time

import pytest
import torch

from cnnviz.inside import channel_means, load_model, validation_set, visualise_channel
from cnnviz.jobs import Finished, get_local_runner
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


def _job(at):
    return at.session_state["feat_fv_job"][0] if "feat_fv_job" in at.session_state else None


def test_a_long_ascent_runs_as_a_job_and_a_rerun_reads_its_cache(monkeypatch):
    """Above the threshold (lowered here, so a 16-step ascent counts as long) Visualise submits a job to the app's
    runner (a child process); its result equals the inline computation's for the same seed, goes to the cache, and
    a new session with the same settings reads it: no button, no job."""
    monkeypatch.setattr("cnnviz.ui.feature_vis.INLINE_MAX_S", 0.0)
    query = {"tab": "Feature visualisation", "fv_ch": "3", "fv_steps": "16", "fv_fourier": "0", "fv_robust": "0"}
    at = apptest.open_page("feature_maps", query)
    assert any("runs in the background" in c.value for c in at.caption)
    at.button(key="feat_fv_go").click().run()
    assert not at.exception and not at.error, at.error
    job = _job(at)
    runner = get_local_runner()
    assert job is not None and runner.join(job, timeout=90)
    at.run()
    assert not at.exception and not at.error and _job(at) is None
    model, _ = load_model("digits_TinyVGG")
    want = visualise_channel(model, "features.7", 3, (1, 8, 8), steps=16, fourier=False, robust=False)
    got = runner.poll(job)[-2].result  # its result, then the runner's Finished
    assert [s.value for s in at.success] == ["Done: 16 steps. Kept for every student."]
    # the child process may use another thread count than this one: equal up to float rounding (the unit test
    # tests/unit/inside/test_feature_vis_job.py compares the job with the inline call bit for bit in one process)
    assert torch.allclose(got.images, want.images, atol=1e-5) and got.activation == pytest.approx(want.activation)
    assert apptest.metric(at, "Visualisation's mean activation") == f"{want.activation[0]:.2f}"
    assert [b.label for b in at.button] == []
    again = apptest.open_page("feature_maps", query)  # another session: the cache, no job
    assert [b.label for b in again.button] == [] and _job(again) is None
    assert apptest.metric(again, "Visualisation's mean activation") == f"{want.activation[0]:.2f}"


def test_stop_ends_a_running_job_and_keeps_nothing():
    """256 steps × 6 images on the digits model are estimated above a second: a job. Stop ends it within moments
    (the child stops within a step of the signal), nothing is kept, the page says so and offers Visualise again."""
    query = {"tab": "Feature visualisation", "fv_ch": "1", "fv_steps": "256", "fv_images": "6"}
    at = apptest.open_page("feature_maps", query)
    at.button(key="feat_fv_go").click().run()
    job = _job(at)
    runner = get_local_runner()
    assert job is not None and [b.label for b in at.button] == ["Stop"]
    stop = time.monotonic()
    at.button(key="feat_fv_stop").click().run()
    assert runner.join(job, timeout=10) and time.monotonic() - stop < 10
    assert not at.exception and not at.error
    end = runner.poll(job)[-1]  # the runner's Finished (its own when Stop came before the child started)
    assert isinstance(end, Finished) and end.reason == "stopped" and getattr(end, "step", 256) < 256
    assert any("nothing kept" in i.value for i in at.info), [i.value for i in at.info]
    assert [b.label for b in at.button] == ["Visualise"]
