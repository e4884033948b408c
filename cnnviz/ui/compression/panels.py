"""The Compression page's knowledge-distillation tab: the controls, the loss with the current numbers, Start and
Stop (Stop only while this session's job runs) and the live panel of the two students. The job id is in the link
(``distill_job``), so a reload of the owner's browser reconnects to it (cnnviz.ui.jobs.linked_job)."""
from __future__ import annotations

import streamlit as st

from cnnviz.architecture.models import TinyVGG
from cnnviz.compression.distill import DistillConfig, FitEvent, distill_latex
from cnnviz.compression.evaluate import model_size_bytes
from cnnviz.errors import ConfigError
from cnnviz.figures import compression as compression_figs
from cnnviz.jobs.events import Finished
from cnnviz.ui import jobs
from cnnviz.ui.state import PageState, Setting
from cnnviz.ui.widgets import show_chart, show_error

LABELS = ("1", "2", "5", "10", "20", "all")  # labelled digits per class the students get
SETTINGS = dict(
    bits=Setting(4, "Bits per weight", "2^bits levels at most; float32 is 32.", (2, 8), widget="slider"),
    sym=Setting(True, "Symmetric", "On: a grid centred on 0 (zero point 0). Off: the grid spans min…max with a zero "
                "point."),
    perch=Setting(False, "Per channel", "One scale per output channel instead of one per layer: a finer grid for "
                  "channels with small weights."),
    layer=Setting(0, "Layer", "Whose weights the histogram shows (every layer is quantized).", (0, 20),
                  widget="selectbox"),
    ch=Setting(0, "Output channel drawn", "Per-channel: each channel has its own grid.", (0, 255), widget="slider"),
    tau=Setting(0.1, "Threshold τ", "Zero every weight with |w| < τ (structured: every conv channel whose mean |w| < τ).",
                (0.0, 0.5), widget="slider"),
    struct=Setting(False, "Structured (whole channels)", "Remove whole conv output channels (real speed-ups) instead "
                   "of single weights."),
    sw=Setting(4, "Student width", "Channels per conv of the student TinyVGG.", (2, 8), widget="slider"),
    alpha=Setting(0.3, "α (labels' weight)", "α·CE(labels) + (1 − α)·T²·KL(teacher ‖ student).", (0.0, 1.0),
                  widget="slider"),
    temp=Setting(4.0, "Temperature T", "Softens both distributions: the teacher's 'dark knowledge' about similar "
                 "digits.", (1.0, 10.0), widget="slider"),
    epochs=Setting(8, "Epochs", "Passes over the training digits (with few labels: as many batches as one pass over "
                   "all of them).", (2, 20), widget="slider"),
    rev=Setting(False, "Reverse KL", "KL(student ‖ teacher): mode-seeking, the student may ignore classes the teacher "
                "finds plausible. Default (Hinton): KL(teacher ‖ student)."),
    lpc=Setting("5", "Labels / class", "Labelled training digits per class both students may learn from (a seeded "
                "pick); 'all': the whole training set, ~143 a class.", options=LABELS),
    unl=Setting(True, "Teacher on unlabelled", "The distilled student also sees the other training digits, without "
                "their labels: only the teacher's soft labels. The labels-only student cannot use them."))


def distill_tab(S: PageState, teacher, t_title: str, t_acc: float, runner) -> None:
    c = st.columns(4)
    sw, alpha = S.widget("sw", c[0]), S.widget("alpha", c[1], step=0.05)
    temp, epochs = S.widget("temp", c[2], step=0.5), S.widget("epochs", c[3])
    c = st.columns(3)
    lpc = S.widget("lpc", c[0])
    unl, rev = S.widget("unl", c[1], disabled=lpc == "all"), S.widget("rev", c[2])
    few = None if lpc == "all" else int(lpc)
    st.latex(distill_latex(alpha, temp, few, unl and few is not None))
    st.caption("What to notice: with 5 labelled digits a class the labels-only student overfits them (about 73 % "
               "on the held-out digits). The teacher's soft labels say how much each digit looks like every other "
               "one, on the same 50 images and, with Teacher on unlabelled, on the ~1,390 unlabelled ones: the "
               "distilled student ends about 17 points higher (15–21 over seeds 0–2, 8 epochs; 8 points without "
               "the unlabelled digits). Set Labels / class to 'all': both have enough labels and end close together.")
    student = TinyVGG(1, 10, 8, width=sw)
    m = st.columns(2)
    m[0].metric("Teacher", f"{model_size_bytes(teacher):,} B", help=t_title)
    m[1].metric("Student", f"{model_size_bytes(student):,} B", help="float32, TinyVGG of this width")
    key = S.key("job")
    jobs.linked_job(runner, key, "distill_job", lambda recipe: recipe["epochs"])  # a reload reconnects
    jobs.show_linked_notice(key)
    state = jobs.distill_state(runner, key)
    b = st.columns([1, 1, 4])
    if b[0].button("Start", icon=":material/play_arrow:", help="Train two identical students in the background "
                   "(a child process, queued behind the other trainings): one with the teacher, one on the "
                   "labels only."):
        try:
            jobs.distill_restart(runner, key, DistillConfig(student_width=sw, epochs=epochs, alpha=alpha,
                                                            temperature=temp, reverse=rev, labels_per_class=few,
                                                            unlabelled=unl and few is not None))
            state = jobs.distill_state(runner, key)
        except ConfigError as err:
            show_error(err)
    if b[1].button("Stop", icon=":material/stop:", disabled=state not in ("queued", "running"),
                   help="Stop this session's distillation (enabled while it is queued or running)."):
        jobs.distill_stop(runner, key, 2)
        st.rerun()
    distill_panel(runner, key, state, t_acc)


def distill_panel(runner, key: str, state: str | None, t_acc: float) -> None:
    """The distillation job's live panel: queue position, errors, epochs done and both students' curves
    (polled every 1.5 s while the job is queued or running)."""
    @st.fragment(run_every=1.5 if state in ("queued", "running") else None)
    def live():
        now = jobs.distill_state(runner, key)
        if now is None:
            return st.info("Press Start to distil a student from the teacher.", icon=":material/school:")
        job, n_epochs = st.session_state[key]
        events, status = runner.poll(job), runner.status(job)
        jobs.job_notices(now, events, status)
        fits = [e for e in events if isinstance(e, FitEvent)]
        end = events[-1].reason if events and isinstance(events[-1], Finished) else None
        st.caption(f"{len(fits) // 2} of {n_epochs} epochs — {end or now}")
        show_chart(compression_figs.distill_figure(fits, t_acc), "compress_distill")
        if state in ("queued", "running") and now == "done":
            st.rerun()  # re-enable the controls' state at once
    live()
