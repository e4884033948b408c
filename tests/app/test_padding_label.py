"""The Padding box's first kind reads "explicit" (the links keep their value, ``numbers``), and its help says what
each kind does: "Padding: numbers" read as unclear in class."""
from cnnviz.geometry.arithmetic import PADDING_STRINGS
from tests.support import apptest


def test_padding_kinds_read_explicit_same_valid_and_links_keep_numbers():
    at = apptest.open_page("conv_arithmetic", {"pad": "numbers", "p": "2"})
    box = at.selectbox(key="arith_pad")
    assert list(box.options) == ["explicit", *PADDING_STRINGS]
    assert box.value == "numbers" and box.help.startswith("explicit: the cells added on each side")
    box.set_value("same").run()
    assert not at.exception and at.query_params["pad"] in ("same", ["same"])
