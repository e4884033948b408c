"""One declaration per setting: a ``Setting``'s bounds and options are what the link check applies, and what the
widget is drawn with (label, help, bounds or options, key)."""
import pytest

import cnnviz.ui.state as state
from cnnviz.geometry import PADDING_MODES, PADDING_STRINGS
from cnnviz.ui.conv_arithmetic import SETTINGS as ARITH
from cnnviz.ui.state import PageState, Setting
from cnnviz.ui.training_lab import SETTINGS as TRAIN
from cnnviz.ui.widgets import PAD_KINDS


class FakeSt:
    """st.query_params and st.session_state as plain dicts; widgets record their call."""

    def __init__(self, query):
        self.query_params, self.session_state, self.calls = query, {}, []

    def __getattr__(self, kind):
        def widget(label, *args, **kwargs):
            self.calls.append((kind, label, args, kwargs))
            return self.session_state[kwargs["key"]]
        return widget


@pytest.fixture
def fake(monkeypatch):
    def make(query):
        st = FakeSt(query)
        monkeypatch.setattr(state, "st", st)
        monkeypatch.setattr(state, "page_setup", lambda: None)
        return st
    return make


def test_the_link_is_checked_against_the_declared_bounds_and_options(fake):
    fake({"n": "65", "k": "3,40", "m": "reflect", "lr": "0.5", "x": "zzz"})
    S = PageState("p", dict(n=Setting(1, "N", bounds=(0, 64)), k=Setting((3, 3), "Kernel", bounds=(1, 31)),
                            m=Setting("zeros", "Mode", options=PADDING_MODES), lr=0.1,
                            x=Setting("a", "X", options=("a", "b"))))
    assert (S["n"], S["k"], S["m"], S["lr"], S["x"]) == (1, (3, 3), "reflect", 0.5, "a")
    assert S.notices == ["Ignored the link's value n='65'", "Ignored the link's value k='3,40'",
                         "Ignored the link's value x='zzz'"]
    assert S.bounds == dict(n=(0, 64), k=(1, 31)) and S.options == dict(m=PADDING_MODES, x=("a", "b"))


def test_the_widget_is_drawn_from_the_same_declaration(fake):
    st = fake({})
    S = PageState("arith", ARITH)
    assert S.widget("cin") == 3 and S.widget("pad") == "numbers" and S.widget("k", i=1, label="Kernel W") == 3
    assert S.widget("dims", horizontal=True) == 2 and S.widget("bias") is True
    assert st.calls == [
        ("number_input", "Input channels", (1, 512), dict(key="arith_cin", help="C_in: e.g. 3 for an RGB image.")),
        ("selectbox", "Padding", (("numbers", "same", "valid"),),
         dict(key="arith_pad", help=ARITH["pad"].help)),
        ("number_input", "Kernel W", (1, 31), dict(key="arith_k_1", help="Kernel size k: the window's extent.")),
        ("radio", "Dimensions", ((1, 2, 3),), dict(key="arith_dims", horizontal=True, help=ARITH["dims"].help)),
        ("toggle", "Bias", (), dict(key="arith_bias", help="One learned offset per output channel."))]


def test_option_lists_come_from_the_engine():
    from cnnviz.architecture.models import MODELS
    from cnnviz.training import OPTIMIZERS, SCHEDULES
    assert PAD_KINDS == ("numbers", *PADDING_STRINGS) == ("numbers", "same", "valid")
    assert ARITH["mode"].options == PADDING_MODES == ("zeros", "reflect", "replicate", "circular")
    assert (TRAIN["opt"].options, TRAIN["sched"].options) == (OPTIMIZERS, SCHEDULES) == (
        ("adamw", "sgd"), ("onecycle", "cosine", "constant"))
    assert TRAIN["model"].options == tuple(MODELS) == ("TinyVGG", "SmallResNet")


def test_the_label_smoothing_switch_turns_on_the_recipes_constant():
    from cnnviz.training.recipe import LABEL_SMOOTHING, from_switches
    assert LABEL_SMOOTHING == 0.1
    assert from_switches(8, {"ls": True}, False).label_smoothing == 0.1
    assert from_switches(8, {"ls": False}, False).label_smoothing == 0.0
