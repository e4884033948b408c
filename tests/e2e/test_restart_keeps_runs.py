"""Nothing a student trained is lost when the server restarts: train in Chromium, kill the server process (SIGKILL,
as a crash or an out-of-memory kill does), start it again on the same job storage; the same browser (its owner
cookie) opens its link and sees its run (the curve, read from the storage), "interrupted" with its checkpoint, and
Resume continues from that checkpoint: the epochs go on from where it was, not from 0."""
import json
import os
import signal
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from tests.support.browser import E2E_WAIT_MS, free_port, start_server, stop_server

LOSS_X = """() => {
  const plots = [...document.querySelectorAll('[data-testid=stPlotlyChart] .js-plotly-plot')];
  const curves = plots.find(p => (p.layout && p.layout.annotations || []).some(a => a.text === 'Loss'));
  const t = curves && (curves._fullData || curves.data)[0];  // the live curves arrive as base64 typed arrays
  return t && t.x ? Array.from(t.x) : [];
}"""


def checkpoint_epoch(storage, job):
    """The epoch of the job's last checkpoint, from its events on the storage (None before the first)."""
    path = storage / job / "events.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    epochs = [json.loads(x)["epoch"] for x in lines if '"kind": "Checkpoint"' in x]
    return epochs[-1] if epochs and (storage / job / "checkpoint.pt").exists() else None


@pytest.mark.timeout(600)
def test_a_killed_server_keeps_the_run_and_resume_continues_it(browser, tmp_path):
    storage, port = tmp_path / "jobs", free_port()
    env = {"CNNVIZ_STORAGE": str(storage)}
    proc, url = start_server(env, timeout=E2E_WAIT_MS / 1000, port=port)
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    try:
        page = context.new_page()
        page.set_default_timeout(E2E_WAIT_MS)
        page.goto(f"{url}/training_lab?data=digits&epochs=40")
        main = page.get_by_test_id("stMain")
        main.get_by_role("button", name="Start", exact=True).click()
        page.wait_for_function("() => window.location.search.includes('train_job=')")
        page.wait_for_function("() => document.cookie.includes('cnnviz_owner=')")  # the owner's cookie is set
        link = page.url
        job = parse_qs(urlparse(link).query)["train_job"][0]
        page.wait_for_function(f"() => ({LOSS_X})().length >= 2", timeout=E2E_WAIT_MS)
        deadline = 0
        while checkpoint_epoch(storage, job) is None and deadline < E2E_WAIT_MS:  # one epoch done, kept
            page.wait_for_timeout(250)
            deadline += 250
        assert checkpoint_epoch(storage, job) is not None

        os.kill(proc.pid, signal.SIGKILL)                                    # the server dies mid-training
        proc.wait(30)
        kept = checkpoint_epoch(storage, job)
        proc, url = start_server(env, timeout=E2E_WAIT_MS / 1000, port=port)  # a new process, same storage

        page.goto(link)                                                      # the same browser opens its link
        main = page.get_by_test_id("stMain")
        page.get_by_text("Interrupted: the server restarted while this training ran").wait_for()
        expect(main.get_by_role("button", name="Resume", exact=True)).to_be_enabled(timeout=E2E_WAIT_MS)
        expect(main.get_by_role("button", name="Start", exact=True)).to_be_enabled(timeout=E2E_WAIT_MS)
        expect(main.get_by_role("button", name="Stop", exact=True)).to_be_disabled(timeout=E2E_WAIT_MS)
        expect(main.get_by_role("button", name="Download checkpoint (.pt)")).to_be_visible(timeout=E2E_WAIT_MS)
        before = page.evaluate(LOSS_X)                                       # its curve, from the storage
        assert len(before) >= 2 and max(before) >= kept

        main.get_by_role("button", name="Resume", exact=True).click()
        page.wait_for_function(f"() => ({LOSS_X})().length > {len(before)}", timeout=E2E_WAIT_MS)
        resumed = page.evaluate(LOSS_X)[len(before):]
        assert resumed and min(resumed) > kept, (kept, resumed[:3])        # the epochs go on from the checkpoint
        assert len(parse_qs(urlparse(page.url).query)["train_job"]) == 2    # the run and its continuation
        main.get_by_role("button", name="Stop", exact=True).click()
        page.get_by_text("Stopped after epoch").wait_for(timeout=E2E_WAIT_MS)
        assert page.get_by_test_id("stException").count() == 0
    finally:
        context.close()
        stop_server(proc)
