"""Quiz: generated questions on output size, parameters, FLOPs and receptive field (switches add TF 'same',
gridding, MACs and Dice), checked by the engine."""
import cnnviz.warm  # noqa: F401 - first: heavy libraries imported once, one session at a time
import streamlit as st

from cnnviz import ConfigError
from cnnviz.classroom.quiz import DIFFICULTIES, OPT_IN_KINDS, make_quiz
from cnnviz.ui import PageState, Setting, show_error, show_formulas
from cnnviz.ui.live_class import class_answer, quiz_class, record_answer

CHANGES = " Changes the quiz for the seed."
S = PageState("quiz", dict(
    seed=Setting(1, "Quiz number (seed)", "The teacher picks a number: everyone with the same number and level gets "
                 "the same questions.", (0, 999_999)),
    level=Setting("easy", "Difficulty", "Easy: square 2-D layers. Medium: stride, dilation, groups. Hard: 1-D/3-D, "
                  "per-axis values, depthwise and transposed layers.", options=DIFFICULTIES, widget="radio"),
    n=Setting(6, "Questions", "How many questions in this quiz.", (1, 20)),
    tf=Setting(False, "TF 'same' questions", "Add questions on TensorFlow/Keras padding=\"same\" with a stride (Conv "
               "Arithmetic's TF tab)." + CHANGES),
    grid=Setting(False, "Gridding", "Add questions on the holes a stack of dilated convolutions leaves in its "
                 "receptive field (Conv Arithmetic's receptive-field tab)." + CHANGES),
    macs=Setting(False, "MACs", "Add questions on multiply-accumulates: MACs = FLOPs / 2 as counted here (Conv "
                 "Arithmetic's MACs switch)." + CHANGES),
    dice=Setting(False, "Dice", "Add questions on two small masks: the Dice coefficient 2·|P∩G| / (|P| + |G|) or the "
                 "soft Dice loss, in percent (Metrics & Losses' Dice vs IoU and Soft Dice loss tabs)." + CHANGES)))
ANSWERS = "quiz_answers"  # this session's answers: {(seed, quiz_id, i): (value, correct)}

st.title("Quiz")
st.caption("Work it out on paper, type the number, press Check: the engine (the same one the other pages use, "
           "checked against PyTorch) marks it and shows the formula with the numbers substituted.")
S.show_notices()
answers = st.session_state.setdefault(ANSWERS, {})
klass = quiz_class()  # joined to a live class: answers kept in the class, locked, marked when the teacher reveals

c = st.columns([1, 2, 1, 2])
seed, level, n = int(S.widget("seed", c[0])), S.widget("level", c[1], horizontal=True), int(S.widget("n", c[2]))
tf, grid, macs, dice = (S.widget(name, col) for name, col in zip(("tf", "grid", "macs", "dice"), (c[1], c[2], c[2], c[1])))
extra = tuple(k for k, on in zip(OPT_IN_KINDS, (tf, grid, macs, dice)) if on)
switches = (("tf", tf), ("grid", grid), ("macs", macs), ("dice", dice))
quiz_id = level + "".join(f"_{k}" for k, on in switches if on)  # no leaks between quizzes
right = sum(ok for _, ok in answers.values())
c[3].metric("Score this session", f"{right} / {len(answers)}",
            help="Right answers / answered questions, over every quiz you did in this browser tab.")
if c[3].button("Reset score", icon=":material/restart_alt:", key="quiz_reset",
               help="Forget this session's answers and start counting again."):
    answers.clear()
    st.rerun()
st.caption(f"Share this quiz: add `?seed={seed}&level={level}&n={n}" + "".join(f"&{k}=1" for k, on in switches if on)
           + "` to this page's address.")

try:
    quiz = make_quiz(seed, level, n, extra=extra)
except ConfigError as err:
    show_error(err)
    st.stop()

for i, q in enumerate(quiz):
    with st.container(border=True):
        st.markdown(f"#### {i + 1}. {q.kind[0].upper()}{q.kind[1:]}")
        st.code(q.code, language="python")
        st.markdown(q.prompt)
        qid = f"{seed}:{quiz_id}:{i}"
        done = answers.get((seed, quiz_id, i)) if klass is None else class_answer(klass, qid)
        if done is None:
            left, mid, _ = st.columns([2, 1, 3], vertical_alignment="bottom")
            value = left.number_input("Your answer", min_value=0, value=None, step=1,
                                      key=f"quiz_in_{seed}_{quiz_id}_{i}", placeholder="a whole number",
                                      help="Type a whole number, then press Check.")
            if mid.button("Check", key=f"quiz_check_{i}", icon=":material/done:", help="Mark my answer."):
                if value is None:
                    st.warning("Type a number first.", icon=":material/edit:")
                else:
                    answers[(seed, quiz_id, i)] = (int(value), q.check(value))
                    if klass is not None:
                        record_answer(klass, qid, int(value), q.check(value))
                    st.rerun()
        else:
            value, ok = done
            if ok is None:
                st.info(f"Your answer {value:,} is in; the teacher reveals the answers.", icon=":material/lock:")
            elif ok:
                st.success(f"Right: **{q.answer:,}**.", icon=":material/check_circle:")
            else:
                st.error(f"You answered {value:,}; the answer is **{q.answer:,}**.", icon=":material/cancel:")
            if ok is not None:
                show_formulas([q.formula])

S.sync_url()
