"""The Convolution Animation, Architecture Lab, Network Explorer, Saliency and Feature Maps declare each setting once:
the link check (``PageState``'s bounds and options) and the widget read the same ``Setting``, and the animation's
numbers are the engine's own tables."""
from unittest.mock import MagicMock

import pytest

import cnnviz.ui.state as state
from cnnviz.animation import DEFAULTS, EXTRA_BOUNDS, EXTRA_DEFAULTS, ND_BOUNDS, ND_DEFAULTS, ND_OPTIONS, \
    PAD_MODES_BOUNDS, PAD_MODES_DEFAULTS
from cnnviz.architecture.search import STRATEGIES
from cnnviz.geometry import PADDING_STRINGS
from cnnviz.limits import MAX_LENGTH, MAX_STEPS
from cnnviz.ui import conv_animation, feature_maps, network_explorer, saliency
from cnnviz.ui.architecture_lab import BUDGETS, SETTINGS as ARCH
from cnnviz.ui.state import PageState
from cnnviz.ui.widgets import PAD_KINDS

ANIM = conv_animation.SETTINGS
MODELS = dict(TinyVGG_digits=None, SmallResNet_shapes=None)  # the shipped models' keys (values unused here)


@pytest.fixture
def st(monkeypatch):
    """``st`` of cnnviz.ui.state as a mock: plain dicts for the link and the session, widget calls recorded."""
    fake = MagicMock(query_params={}, session_state={})
    monkeypatch.setattr(state, "st", fake)
    monkeypatch.setattr(state, "page_setup", lambda: None)
    return fake


def test_the_animation_settings_are_the_engines_tables():
    assert ND_OPTIONS["pad1"] == ("numbers", *PADDING_STRINGS) == PAD_KINDS == ("numbers", "same", "valid")
    engine = DEFAULTS | EXTRA_DEFAULTS | ND_DEFAULTS | PAD_MODES_DEFAULTS
    assert {n: s.default for n, s in ANIM.items()} == engine
    for name, bounds in (EXTRA_BOUNDS | ND_BOUNDS | PAD_MODES_BOUNDS).items():
        assert ANIM[name].bounds == bounds, name
    for name, options in ND_OPTIONS.items():
        assert ANIM[name].options == options, name
    assert (ANIM["slen"].bounds, ANIM["step"].bounds, ANIM["tk"].bounds) == ((1, MAX_LENGTH), (1, MAX_STEPS), (1, 5))


def test_the_animation_link_and_widget_read_one_declaration(st):
    st.query_params = {"tk": "6", "ts": "3", "pad1": "full", "k1": "gaussian", "emp": "4"}
    S = PageState("anim", ANIM)
    assert (S["tk"], S["ts"], S["pad1"], S["k1"], S["emp"]) == (3, 3, "numbers", "gaussian", 1)
    assert S.notices == ["Ignored the link's value pad1='full'", "Ignored the link's value tk='6'",
                         "Ignored the link's value emp='4'"]
    S.widget("tk"), S.widget("pad1"), S.widget("speed"), S.widget("step", bounds=(1, 9))
    assert st.number_input.call_args_list[0].args == ("Kernel k", 1, 5)
    assert st.number_input.call_args_list[0].kwargs == dict(key="anim_tk", help=ANIM["tk"].help)
    assert st.selectbox.call_args.args == ("Padding", ("numbers", "same", "valid"))
    assert st.select_slider.call_args.args == ("Play speed", ("slow", "normal", "fast"))
    assert st.number_input.call_args.args == ("Show step", 1, 9)


def test_the_architecture_lab_link_and_widget_read_one_declaration(st):
    st.query_params = {"nbud": "0.25", "nas": "random", "cout": "2", "dtau": "0.5", "dimg1": "nope"}
    S = PageState("arch", ARCH)
    assert (S["nbud"], S["nas"], S["cout"], S["dtau"], S["dimg1"]) == (0.3, "random", 64, 0.5, "red stripes")
    assert S.notices == ["Ignored the link's value cout='2'", "Ignored the link's value dimg1='nope'",
                         "Ignored the link's value nbud='0.25'"]
    S.widget("nas"), S.widget("nbud"), S.widget("ntr"), S.widget("cout"), S.widget("phi")
    assert st.selectbox.call_args.args == ("Strategy", STRATEGIES)
    assert st.select_slider.call_args.args == ("FLOPs budget (millions)", BUDGETS)
    assert [c.args for c in st.slider.call_args_list] == [("Trials", 1, 12), ("Largest φ", 0, 6)]
    assert st.number_input.call_args.args == ("C_out", 4, 256)
    assert st.number_input.call_args.kwargs == dict(key="arch_cout", help="Output channels of every block.")


@pytest.mark.parametrize("module, page", [(network_explorer, "net"), (saliency, "sal"), (feature_maps, "feat")])
def test_the_model_pages_link_and_widget_read_one_declaration(st, module, page):
    st.query_params = {"idx": "2001", "src": "validation", "model": "SmallResNet_shapes"}
    S = PageState(page, module.settings(MODELS))
    assert (S["idx"], S["src"], S["model"]) == (0, "validation", "SmallResNet_shapes")
    assert S.notices == ["Ignored the link's value idx='2001'"]
    S.widget("idx"), S.widget("src", horizontal=True), S.widget("sample", options=["a", "b"])
    assert st.number_input.call_args.args == ("Validation image #", 0, 2000)
    assert st.number_input.call_args.kwargs == dict(key=f"{page}_idx", help="Index into the held-out images.")
    assert st.radio.call_args.args == ("Image", S.settings["src"].options)
    assert st.selectbox.call_args.args == ("Sample", ["a", "b"])
    assert S.settings["model"].options[:2] == tuple(MODELS)


def test_bounds_narrowed_when_drawn_keep_the_declared_label_and_help(st):
    S = PageState("feat", feature_maps.settings(MODELS))
    S.widget("ch", bounds=(0, 7)), S.widget("dx", bounds=(-2, 2))
    assert st.number_input.call_args.args == ("Channel", 0, 7)
    assert st.slider.call_args.args == ("Shift right (px)", -2, 2)
    assert st.slider.call_args.kwargs["help"] == "Move the image right (negative: left)."
    assert S.bounds["ch"] == (0, 255) and S.bounds["dx"] == (-8, 8)  # the link check keeps the widest
