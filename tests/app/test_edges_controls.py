"""The gridding coverage map (Conv Arithmetic), the Padding modes tab (Convolution Animation), the Quiz's
Gridding and MACs switches, and the two Lessons steps that link to them: each control moves the engine's
numbers, and the URL carries it."""
from functools import partial

import numpy as np

from tests.support import apptest
from cnnviz.animation import kernel_preset, sample_input
from cnnviz.animation.padding_modes import padding_mode_outputs
from cnnviz.classroom.lessons import LESSONS
from cnnviz.classroom.quiz import make_quiz
from tests.support.rendered import shown

open_arith = partial(apptest.open_page, "conv_arithmetic")
open_anim = partial(apptest.open_page, "conv_animation")


def figure_titled(at, start):
    """The figure whose first subplot title starts with ``start``."""
    return next(f for f in apptest.figures(at) if f["layout"].get("annotations", [{}])[0].get("text", "")
                .startswith(start))


def lesson(title_start):
    step = next(s for s in LESSONS if s[0].startswith(title_start))
    return step[3], step[4]


def test_gridding_map_counts_holes_and_the_rates_box_moves_it():
    query, text = lesson("Holes")
    at = open_arith(query)
    assert not [i for i in at.info if "Ignored" in i.value]  # every key of the lesson's link is one the page reads
    assert apptest.metric(at, "Unreached (your stack)") == "120 of 169" and "120 of those 169" in text
    assert apptest.metric(at, "Unreached (1,2,3)") == "0 of 169"
    assert apptest.metric(at, "Receptive field") == "13 input cells"
    fig = figure_titled(at, "your stack")
    assert [a["text"] for a in fig["layout"]["annotations"]] == ["your stack: 120 of 169 cells unreached",
                                                                 "dilations 1,2,3: 0 of 169 cells unreached"]
    z = np.array(fig["data"][0]["z"])
    assert z.shape == (13, 13) and (z == 0).sum() == 120 and z[6, 6] == 49  # 7 paths per axis to the centre
    at.text_input(key="arith_hyb").set_value("2,2,2").run()
    assert apptest.metric(at, "Unreached (2,2,2)") == "120 of 169"
    assert at.query_params["hyb"] in ("2,2,2", ["2,2,2"])
    at.text_input(key="arith_hyb").set_value("1,2").run()
    assert any("rates" in shown(e.value) and "one rate per layer" in shown(e.value) for e in at.error)


def test_gridding_refuses_a_receptive_field_past_the_limit():
    at = open_arith({"stack": "31-1-16", "tab": "Receptive field of a stack"})  # r = 1 + 16·30 = 481 > 256
    assert any("limit of 256" in shown(e.value) for e in at.error)
    assert apptest.metric(at, "Receptive field") == "481 input cells"  # the table itself still answers


def test_long_rates_get_a_short_label():
    at = open_arith({"stack": "3-1-1;3-1-1;3-1-1;3-1-1;3-1-1", "hyb": "1,2,5,9,17",
                     "tab": "Receptive field of a stack"})  # r = 1 + 2·34 = 69
    assert apptest.metric(at, "Unreached (compare)") == "0 of 4761"  # 69×69; offsets 0..68 all reachable


def test_padding_modes_tab_shows_the_engines_border_statistic():
    query, text = lesson("Padding modes")
    at = open_anim(query)
    assert not [i for i in at.info if "Ignored" in i.value]
    x = sample_input("random", (12, 12), 0, 0, "")
    want = padding_mode_outputs(x, kernel_preset("blur", 3, 0), 1)
    assert [apptest.metric(at, r.mode) for r in want] == [f"{r.difference:+.3g}" for r in want]
    assert apptest.metric(at, "zeros") == "-1.74" and "1.74" in text
    at.number_input(key="anim_emp").set_value(2).run()
    want = padding_mode_outputs(x, kernel_preset("blur", 5, 0), 2)
    assert [apptest.metric(at, r.mode) for r in want] == [f"{r.difference:+.3g}" for r in want]
    assert at.query_params["emp"] in ("2", ["2"])
    at.selectbox(key="anim_emk").set_value("identity").run()  # identity ignores the ring: all four the same
    assert len({apptest.metric(at, m) for m in ("zeros", "reflect", "replicate", "circular")}) == 1
    titles = [a["text"] for a in figure_titled(at, "zeros")["layout"]["annotations"]]
    assert [t.split(":")[0] for t in titles] == ["zeros", "reflect", "replicate", "circular"]


def test_quiz_gridding_and_macs_switches_add_engine_marked_questions():
    at = apptest.open_page("quiz", {"seed": "3", "n": "9"})
    at.toggle(key="quiz_grid").set_value(True).run()
    at.toggle(key="quiz_macs").set_value(True).run()
    quiz = make_quiz(3, "easy", 9, extra=("gridding", "MACs"))
    assert [c.value for c in at.main.code] == [q.code for q in quiz]
    assert {k: at.query_params[k] for k in ("grid", "macs")} in ({"grid": "1", "macs": "1"},
                                                                  {"grid": ["1"], "macs": ["1"]})
    i = next(i for i, q in enumerate(quiz) if q.kind == "gridding")
    at.number_input(key=f"quiz_in_3_easy_grid_macs_{i}").set_value(quiz[i].answer)
    at.button(key=f"quiz_check_{i}").click().run()
    j = next(j for j, q in enumerate(quiz) if q.kind == "MACs")
    at.number_input(key=f"quiz_in_3_easy_grid_macs_{j}").set_value(quiz[j].answer * 2)  # FLOPs, not MACs
    at.button(key=f"quiz_check_{j}").click().run()
    assert apptest.metric(at, "Score this session") == "1 / 2"
