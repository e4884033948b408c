"""Quiz page: a right answer raises the score, a wrong one does not; the seed and level live in the URL."""
from functools import partial

from tests.support import apptest
from cnnviz.classroom.quiz import make_quiz
from tests.support.rendered import shown


open_quiz = partial(apptest.open_page, "quiz")
def score(at):
    return next(m.value for m in at.metric if m.label == "Score this session")


def answer(at, i, value, seed=1, level="easy"):
    at.number_input(key=f"quiz_in_{seed}_{level}_{i}").set_value(value)
    at.button(key=f"quiz_check_{i}").click().run()
    assert not at.exception, at.exception


def test_right_then_wrong_answer_changes_score_and_explains():
    at = open_quiz()
    quiz = make_quiz(1, "easy", 6)
    assert score(at) == "0 / 0"
    answer(at, 0, quiz[0].answer)
    assert score(at) == "1 / 1"
    assert any(f"{quiz[0].answer:,}" in s.value for s in at.success)
    assert any(quiz[0].formula.substituted in l.body for l in at.latex)  # the formula with numbers
    answer(at, 1, quiz[1].answer + 1)
    assert score(at) == "1 / 2"
    assert any(f"{quiz[1].answer + 1:,}" in shown(e.value) and f"{quiz[1].answer:,}" in shown(e.value) for e in at.error)
    at.button(key="quiz_reset").click().run()
    assert score(at) == "0 / 0"


def test_check_without_a_number_asks_for_one():
    at = open_quiz()
    at.button(key="quiz_check_0").click().run()
    assert score(at) == "0 / 0" and any("Type a number" in w.value for w in at.warning)


def test_seed_and_level_come_from_the_url_and_go_back_to_it():
    at = open_quiz({"seed": "42", "level": "hard", "n": "3"})
    quiz = make_quiz(42, "hard", 3)
    assert [c.value for c in at.main.code] == [q.code for q in quiz]
    at.radio(key="quiz_level").set_value("medium").run()
    link = {k: v[0] if isinstance(v, list) else v for k, v in at.query_params.items()}
    assert link["level"] == "medium" and link["seed"] == "42"
    assert [c.value for c in at.main.code] == [q.code for q in make_quiz(42, "medium", 3)]
    share = at.sidebar.code[0].value  # the "Copy link" box: every setting, ready to paste
    assert share.startswith("?") and {"seed=42", "level=medium", "n=3"} <= set(share[1:].split("&"))


def test_garbage_level_in_url_is_ignored_with_notice():
    at = open_quiz({"level": "impossible", "seed": "-5"})
    assert len([i for i in at.info if "Ignored" in i.value]) == 2
    assert [c.value for c in at.main.code] == [q.code for q in make_quiz(1, "easy", 6)]


def test_dice_switch_adds_metrics_engine_marked_questions_and_goes_into_the_link():
    at = open_quiz({"seed": "5", "level": "medium", "n": "5"})
    at.toggle(key="quiz_dice").set_value(True).run()
    quiz = make_quiz(5, "medium", 5, extra=("Dice",))
    assert [c.value for c in at.main.code] == [q.code for q in quiz]
    assert at.query_params["dice"] in ("1", ["1"])
    assert any("&dice=1" in c.value for c in at.caption)
    i = next(i for i, q in enumerate(quiz) if q.kind == "Dice")
    at.number_input(key=f"quiz_in_5_medium_dice_{i}").set_value(quiz[i].answer)
    at.button(key=f"quiz_check_{i}").click().run()
    assert score(at) == "1 / 1"
    assert any(quiz[i].formula.substituted in l.body for l in at.latex)  # Σ p·g, Σ p, Σ g substituted
