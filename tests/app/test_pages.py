"""Every page runs in AppTest; widgets change results; bad combinations show st.error."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.support import apptest
from tests.support.rendered import shown

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted(f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py") if not p.name.startswith("_"))


def open_page(page, query=None):
    """``page``: "pages/<name>.py", opened through app.py as a browser would."""
    return apptest.open_page(Path(page).stem, query, timeout=60, via_app=True)


metric = apptest.metric


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs(page):
    open_page(page)


def test_home_links_every_page_and_app_lists_it():
    at = open_page("pages/home.py")
    linked = {link.proto.page for link in at.get("page_link")}
    app_source = (ROOT / "app.py").read_text()
    for page in PAGES:
        assert page in app_source
        if page != "pages/home.py":
            assert Path(page).stem in linked


def test_kernel_changes_output_and_counts():
    at = open_page("pages/conv_arithmetic.py")
    assert metric(at, "Output shape") == "8×7×7"  # 3→8 channels, 7×7, k=3, p=1
    assert metric(at, "Parameters") == "224"      # 8·3·9 + 8
    at.number_input(key="arith_k_0").set_value(5).run()
    assert metric(at, "Output shape") == "8×5×5"
    assert metric(at, "Parameters") == "608"      # 8·3·25 + 8
    assert any("checked by PyTorch" in s.value for s in at.success)


def test_bad_groups_shows_error_naming_field():
    at = open_page("pages/conv_arithmetic.py")
    at.number_input(key="arith_groups").set_value(2).run()
    assert not at.exception
    assert any("groups" in shown(e.value) and "divisible" in shown(e.value) for e in at.error)


def test_same_padding_with_stride_is_rejected():
    at = open_page("pages/conv_arithmetic.py")
    at.selectbox(key="arith_pad").set_value("same").run()
    at.number_input(key="arith_s_0").set_value(2).run()
    assert any("same" in shown(e.value) for e in at.error)


def test_state_round_trips_through_url():
    at = open_page("pages/conv_arithmetic.py")
    at.number_input(key="arith_k_0").set_value(5).run()
    at.radio(key="arith_dims").set_value(1).run()
    link = dict(at.query_params)
    assert link["k"].startswith("5") and link["dims"] == "1"
    fresh = AppTest.from_file("../../app.py", default_timeout=60)
    fresh.switch_page("pages/conv_arithmetic.py")
    for k, v in link.items():
        fresh.query_params[k] = v[0] if isinstance(v, list) else v
    fresh.run()
    assert metric(fresh, "Output shape") == metric(at, "Output shape") == "8×5"  # 7 + 2·1 − 5 + 1


def test_garbage_in_url_is_ignored_with_notice():
    at = AppTest.from_file("../../app.py", default_timeout=60)
    at.switch_page("pages/conv_arithmetic.py")
    at.query_params["k"] = "banana"
    at.query_params["dims"] = "7"
    at.run()
    assert not at.exception
    assert metric(at, "Output shape") == "8×7×7"
    assert len([i for i in at.info if "Ignored" in i.value]) == 2


def test_pooling_tab_and_receptive_field():
    at = open_page("pages/conv_arithmetic.py")
    assert [m.label for m in at.metric].count("Output shape") == 1  # only the open tab runs
    assert metric(at, "Receptive field") in ("3×3",)
    at.session_state["arith_tab"] = "Receptive field of a stack"
    at.run()
    assert metric(at, "Receptive field") == "7 input cells"  # 3-1-1, 3-1-1, 3-2-1: 1 + 2 + 2 + 2
    assert at.query_params["tab"] in ("Receptive field of a stack", ["Receptive field of a stack"])  # in the link
    at.session_state["arith_tab"] = "Pooling"
    at.run()
    assert [m.label for m in at.metric] == ["Output shape"]
    at.number_input(key="arith_pp_0").set_value(2).run()  # padding 2 > kernel 2 / 2
    assert any("padding" in shown(e.value) for e in at.error)
