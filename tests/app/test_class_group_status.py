"""The Training Lab's live panel in a class group, in AppTest: a fake runner reports a status with classmates and a
wait estimate (the fields the grouping runner adds to JobStatus) and Progress events, and the panel says in plain
words where the job stands — "Training together with 29 classmates · about N s left" while it trains in a group,
"Waiting: about N s until your first curve point …" while queued — with tooltips that say what a class group is.
A runner without those fields (the Ray runner) gets today's queue position text."""
import math
from streamlit.testing.v1 import AppTest

from cnnviz.jobs.events import JobStatus, Progress
from cnnviz.ui import jobs_status
from tests.support.fake_runner import FakeRunner, group_status


def _panel():
    """The live panel of cnnviz.ui.jobs over the runner in session state (AppTest copies this function's source)."""
    import streamlit as st

    from cnnviz.ui import jobs as jobs_ui
    st.session_state.setdefault("train_jobs", [st.session_state["fake_runner"].job])
    jobs_ui.training_panel(st.session_state["fake_runner"], None, 8, active=True)  # queued or running


def status(state, position=None, classmates=None, wait_s=None, running=1, capacity=1):
    """A JobStatus as the grouping runner gives it (``classmates``, ``wait_s``), or as a runner without them."""
    if classmates is None and wait_s is None:
        return JobStatus(state, position, running, capacity)
    return group_status(state, position, classmates or 0, wait_s, running, capacity)


def progress(eta_s, device="CPU, with 29 classmates"):
    return Progress(step=10, epoch=0.5, train_loss=1.2, train_acc=0.6, lr=0.01, samples_per_s=900.0, eta_s=eta_s,
                    device=device)


def show(runner) -> AppTest:
    at = AppTest.from_function(_panel, default_timeout=60)
    at.session_state["fake_runner"] = runner
    at.run()
    assert not at.exception, at.exception
    return at


def infos(at):
    return [i.value for i in at.info]


def caption_help(at):
    return [c.proto.help for c in at.caption if c.proto.help]


def test_a_group_member_sees_its_classmates_and_the_time_left_with_a_tooltip():
    runner = FakeRunner(status("running", classmates=29), [progress(41.3)])
    at = show(runner)
    assert "Training together with 29 classmates · about 42 s left" in infos(at)  # ceil: never promise too soon
    assert [m.value for m in at.metric if m.label == "Time left"] == ["41 s"]
    tips = caption_help(at)
    assert len(tips) == 1 and "class group" in tips[0] and "Stop" in tips[0] and "seed" in tips[0]
    assert any("with 29 classmates" in c.value for c in at.caption)  # the worker's own device text stays
    assert runner.seen_by and runner.seen_by[0] == at.session_state["job_owner"]  # the poll keeps the job alive


def test_before_its_first_point_and_from_the_device_text_alone():
    at = show(FakeRunner(status("running", classmates=1)))                 # no Progress yet
    assert "Training together with 1 classmate · first curve point in a moment" in infos(at)
    # a runner without the field: the worker's device text ("…, with 5 classmates") still tells; minutes when long
    at = show(FakeRunner(status("running"), [progress(600.0, "CPU, with 5 classmates")]))
    assert "Training together with 5 classmates · about 10 min left" in infos(at)


def test_a_job_training_alone_shows_no_group_line():
    at = show(FakeRunner(status("running", classmates=0), [progress(30.0, "CPU")]))
    assert not any("classmate" in t for t in infos(at)) and not caption_help(at)


def test_a_queued_job_sees_an_estimate_of_its_first_point_and_who_is_ahead():
    # position 3: two groups wait before it, one runs; the runner says 20.2 s until it starts, + ~1 s to a point
    at = show(FakeRunner(status("queued", position=3, classmates=4, wait_s=20.2, running=1, capacity=1)))
    want = math.ceil(20.2 + jobs_status.FIRST_POINT_S)
    assert infos(at) == [f"Waiting: about {want} s until your first curve point: position 3 in the queue (1 of 1 "
                         f"trainings running), 3 ahead of yours. You will train together with 4 classmates."]
    tips = caption_help(at)
    assert len(tips) == 1 and "counts as one" in tips[0] and "class group" in tips[0]
    assert [m.value for m in at.metric if m.label == "Time left"] == ["–"]


def test_without_an_estimate_the_queue_position_as_before_and_the_gathering_window():
    at = show(FakeRunner(status("queued", position=2, running=2, capacity=2)))  # the Ray runner: no new fields
    assert infos(at) == ["Waiting for a free slot: position 2 in the queue (2 of 2 trainings running)."]
    assert not caption_help(at)
    at = show(FakeRunner(status("queued", position=None, classmates=0)))        # in the gathering window
    assert infos(at) == [jobs_status.GATHER_TEXT] and caption_help(at)


def test_the_texts_read_by_the_load_benchmark_keep_their_shape():
    """bench/load.py reads "position k in the queue (R of C trainings running)" from the queued notice."""
    from bench.load import QUEUED
    for st_ in (status("queued", 4, wait_s=8.0, running=1, capacity=1), status("queued", 4, running=1, capacity=1)):
        m = QUEUED.search(jobs_status.queue_text(st_))
        assert m and (m[1], m[2], m[3]) == ("4", "1", "1")
    assert jobs_status.queue_text(status("queued", 1, wait_s=float("nan"))).startswith("Waiting for a free slot")


def test_the_live_panel_polls_a_class_group_at_a_pace_the_class_can_afford():
    pace = jobs_status.poll_every
    assert pace(status("running", classmates=0), starting=True) == 0.25     # alone, waiting for its first event
    assert pace(JobStatus("running", None, 1, 1), starting=False) == 1.5    # alone, training (no new fields)
    assert pace(status("running", classmates=29), starting=True) == 0.5     # 30 pages poll at once
    assert pace(status("running", classmates=29), starting=False) == 3.0    # a big group: every 3 s (issue 30)
    assert pace(status("running", classmates=2), starting=False) == 2.0     # a small one: every 2 s
    assert pace(status("queued", None, classmates=2, wait_s=0.4), starting=False) == 0.5  # gathering: ~1 s left
    assert pace(status("queued", 2, wait_s=3.0), starting=False) == 1.5     # half the estimated wait
    assert pace(status("queued", 2, wait_s=0.2), starting=False) == 0.5     # never faster than 0.5 s
    assert pace(status("queued", 5, wait_s=300.0), starting=False) == 5.0   # never slower than 5 s
    assert pace(JobStatus("queued", 3, 1, 1), starting=False) == 5.0        # no estimate: as before


def test_with_turns_the_runners_own_estimates_of_the_first_point_and_the_end_are_shown():
    # jobs.slicing's estimates (first_s, end_s: turns on a shared machine counted) replace wait_s + FIRST_POINT_S
    queued = JobStatus("queued", 2, 1, 1, classmates=3, wait_s=10.0, first_s=14.2, end_s=95.0)
    assert jobs_status.queue_text(queued) == (
        "Waiting: about 15 s until your first curve point, about 95 s to the end: position 2 in the queue (1 of 1 "
        "trainings running), 2 ahead of yours. You will train together with 3 classmates.")
    # an end estimate before the first point is nonsense: left out rather than shown
    odd = JobStatus("queued", 2, 1, 1, classmates=0, wait_s=10.0, first_s=14.2, end_s=3.0)
    assert "to the end" not in jobs_status.queue_text(odd) and "about 15 s until" in jobs_status.queue_text(odd)
    # running: the runner's end_s (the turns still to come) wins over Progress's eta (its pace so far)
    running = JobStatus("running", None, 1, 1, classmates=29, end_s=61.5)
    assert jobs_status.group_text(running, progress(41.3)) == "Training together with 29 classmates · about 62 s left"
    assert jobs_status.group_text(JobStatus("running", None, 1, 1, classmates=29, end_s=float("nan")),
                                  progress(41.3)).endswith("about 42 s left")
