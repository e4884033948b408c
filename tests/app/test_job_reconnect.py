"""A reload reconnects the Architecture Lab's search and the Compression page's distillation, as it does a training:
the job id is in the link (``search_job`` / ``distill_job``) and the owner token in the browser's cookie, so a new
session of the owner's browser shows the same job (no second one submitted) with Stop; another browser with the same
link gets a notice and a page of its own; a second Start by the same browser says where the first job is."""
from functools import partial

import pytest

from tests.support import apptest
import cnnviz.ui.jobs as jobs_ui
from cnnviz.architecture.search import SearchConfig
from cnnviz.compression import DistillConfig
from cnnviz.jobs import get_local_runner
from cnnviz.ui.jobs import JOB_FOREIGN, JOB_GONE

arch = partial(apptest.open_page, "architecture_lab", via_app=True)
compression = partial(apptest.open_page, "compression", via_app=True)
SEARCH, DISTILL = {"tab": "Search (NAS)"}, {"tab": "Knowledge distillation"}


def infos(at):
    return [x.value for x in at.info]


def errors(at):
    return [x.value.replace("\\", "") for x in at.error]  # as read: markdown escapes removed


@pytest.fixture
def cookie(monkeypatch):
    """``cookie(token)``: the owner cookie the browser sends when a session connects (a reload); None: no cookie
    yet, or another browser. Every job of the tokens given is stopped afterwards."""
    given = []

    def send(value):
        given.append(value)
        monkeypatch.setattr(jobs_ui, "_cookie", lambda: value)
    send(None)
    yield send
    runner = get_local_runner()
    for token in {t for t in given if t}:
        for job, _, state in runner.jobs_of(token):
            if state != "done":
                runner.stop(job, owner=token)
                runner.join(job, timeout=30)


def first_start(at, start):
    """Start in a browser with no cookie yet: the session's new token goes to the cookie writer (a sidebar frame)."""
    start()
    assert not at.exception and not at.error, at.error
    token = at.session_state["job_owner"]
    assert any(f"cnnviz_owner={token};" in e.proto.srcdoc for e in at.sidebar if getattr(e, "type", None) == "iframe")
    return token


def test_a_reload_reconnects_the_search_and_a_second_start_says_where_it_is(cookie):
    runner = get_local_runner()
    at = arch({"ntr": "12", **SEARCH})
    token = first_start(at, lambda: at.button(key="arch_search_start").click().run())
    job, cfg = at.session_state["arch_search_job"]
    assert at.query_params["search_job"] in (job, [job]) and token not in str(dict(at.query_params))
    cookie(token)

    again = arch({"search_job": job, "ntr": "12", **SEARCH})               # the owner's browser, reloaded
    assert again.session_state["arch_search_job"] == (job, cfg) == (job, SearchConfig(trials=12))
    assert not again.button(key="arch_search_stop").disabled
    assert any(f"of {cfg.trials} trials trained" in c.value for c in again.caption)
    assert [j for j, _, _ in runner.jobs_of(token)] == [job]               # no second job

    tab = arch(SEARCH)                                                      # another tab, no link: Start refused
    tab.button(key="arch_search_start").click().run()
    assert not tab.exception and "arch_search_job" not in tab.session_state
    assert any("already has an architecture search running" in e and "It is on the Architecture Lab's Search (NAS) "
               "tab." in e for e in errors(tab)), errors(tab)
    other = compression(DISTILL)                                            # another kind, another page: the same
    next(b for b in other.button if b.label == "Start").click().run()
    assert any("another tab); stop it before starting another. It is on the Architecture Lab's Search (NAS) tab."
               in e for e in errors(other)), errors(other)
    assert [j for j, _, _ in runner.jobs_of(token)] == [job]

    cookie(None)                                                            # a classmate opens the same link
    stranger = arch({"search_job": job, **SEARCH})
    assert JOB_FOREIGN in infos(stranger) and "arch_search_job" not in stranger.session_state
    assert "search_job" not in stranger.query_params and stranger.button(key="arch_search_stop").disabled

    again.button(key="arch_search_stop").click().run()                      # the owner stops it from the reload
    assert not again.exception and runner.join(job, timeout=60)
    assert runner.poll(job)[-1].reason == "stopped"


def test_a_reload_reconnects_the_distillation_and_a_stale_link_gives_a_notice(cookie):
    runner = get_local_runner()
    at = compression(DISTILL)
    at.slider(key="compress_epochs").set_value(20).run()
    token = first_start(at, lambda: next(b for b in at.button if b.label == "Start").click().run())
    job, epochs = at.session_state["compress_job"]
    assert epochs == 20 and at.query_params["distill_job"] in (job, [job])
    cookie(token)

    again = compression({"distill_job": job, **DISTILL})
    assert again.session_state["compress_job"] == (job, 20)
    assert not next(b for b in again.button if b.label == "Stop").disabled
    assert any("of 20 epochs" in c.value for c in again.caption)
    assert [j for j, _, _ in runner.jobs_of(token)] == [job]
    assert runner.recipe(job, owner=token)["epochs"] == 20 and isinstance(runner._jobs[job].config, DistillConfig)

    stale = compression({"distill_job": "job-" + "0" * 32, **DISTILL})  # forgotten, or the link is old
    assert JOB_GONE in infos(stale) and "compress_job" not in stale.session_state
    assert "distill_job" not in stale.query_params

    next(b for b in again.button if b.label == "Stop").click().run()
    assert not again.exception and runner.join(job, timeout=60)


@pytest.mark.parametrize("page,param,tab,key", [(arch, "search_job", SEARCH, "arch_search_job"),
                                                (compression, "distill_job", DISTILL, "compress_job")],
                         ids=["search", "distillation"])
def test_a_garbage_job_link_gives_a_notice_and_is_never_echoed(page, param, tab, key):
    for value in ("../../etc/passwd", "<script>alert(1)</script> **x**", "job-" + "f" * 31 + "g"):
        at = page({param: value, **tab})
        assert JOB_GONE in infos(at) and key not in at.session_state and param not in at.query_params
        assert not any(value in t for t in infos(at) + errors(at))
