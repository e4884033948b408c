"""The crawler's layout check (tests/crawler.CHECK_JS) on hand-made HTML in chromium: a word cut mid-word is a
finding, a line that ends at punctuation ("multi-" / "channel", "dilation=" / "(16,") is not — so a finding means
a cut word."""
import pytest

from tests.support.crawler import CHECK_JS, CONTROLS_JS, DENY, _actions, _current_last

CAPTION = ('<div data-testid="stCaptionContainer" style="font: 16px monospace; width: {width}; {extra}">'
           '{text}</div>')


@pytest.fixture
def check(browser):
    page = browser.new_page(viewport={"width": 800, "height": 600})

    def run(**kw):
        page.set_content("<body>" + CAPTION.format(**kw) + "</body>")
        lines = page.evaluate("""() => { const n = document.querySelector('div').firstChild, r = document.createRange();
            r.selectNodeContents(n); return new Set([...r.getClientRects()].map(q => Math.round(q.top))).size; }""")
        return lines, page.evaluate(CHECK_JS, [False, 16])
    yield run
    page.close()


def test_a_line_ending_after_a_hyphen_is_not_a_cut_word(check):
    lines, found = check(text="aaaa multi-channel", width="12ch", extra="")
    assert lines == 2  # "aaaa multi-" then "channel": the break this case is about happened
    assert found == []


def test_a_line_ending_at_punctuation_in_code_is_not_a_cut_word(check):
    # Conv Arithmetic's PyTorch badge in presenter mode: chromium breaks "dilation=" / "(16, 1))"
    lines, found = check(text="padding=1, dilation=(16, 1))", width="21ch", extra="")
    assert lines == 2
    assert found == []


def test_a_word_broken_mid_word_is_found(check):
    lines, found = check(text="Convolution", width="6ch", extra="word-break: break-all")
    assert lines == 2  # "Convol" / "ution"
    assert [(f["kind"], f["detail"]) for f in found] == [("caption", 'word "Convolution" broken across lines')]


def test_a_cut_part_of_a_hyphenated_word_is_still_found(check):
    lines, found = check(text="multi-channel", width="5ch", extra="word-break: break-all")
    assert lines == 3  # "multi" / "-chan" / "nel"
    assert [f["detail"] for f in found] == ['word "channel" broken across lines']


def test_controls_in_a_collapsed_expander_are_not_listed(browser):
    """Streamlit keeps a collapsed expander's content in the DOM with a size; the crawler must not try to operate
    it (it found such controls with an empty label and waited 30 s on each action)."""
    page = browser.new_page(viewport={"width": 800, "height": 600})
    number = ('<div data-testid="stNumberInput"><div data-testid="stWidgetLabel">{0}</div>'
              '<input type="number" value="1"></div>')
    page.set_content(f"<details><summary>More</summary>{number.format('Hidden k')}</details>"
                     f"<details open><summary>Shown</summary>{number.format('Shown k')}</details>{number.format('Top k')}")
    found = [(c["kind"], c["label"]) for c in page.evaluate(CONTROLS_JS)]
    page.close()
    assert found == [("number", "Shown k"), ("number", "Top k")]


def test_options_are_tried_with_the_current_one_last():
    """The page ends as it was: Feature Maps' last model option, "Upload a checkpoint", used to leave the crawl on a
    page without its layer controls, which were then never operated."""
    assert _current_last(4, 0, None) == [1, 2, 3, 0]
    assert _current_last(4, 2, None) == [0, 1, 3, 2]
    assert _current_last(4, 2, 2) == [0, 2]  # CI's cap keeps the way back
    assert _current_last(3, -1, None) == [0, 1, 2]  # nothing chosen (or not found): in order
    assert _actions({"kind": "radio", "n": 3, "cur": 1}, None) == [0, 2, 1]
    assert _actions({"kind": "tabs", "n": 3}, 2) == [0, 1]


def test_a_radio_reports_its_chosen_option(browser):
    page = browser.new_page(viewport={"width": 800, "height": 600})
    options = "".join(f'<label><input type="radio" name="r"{" checked" if i == 2 else ""}>o{i}</label>' for i in range(3))
    page.set_content(f'<div data-testid="stRadio"><div data-testid="stWidgetLabel">Image</div>'
                     f'<div role="radiogroup">{options}</div></div>')
    found = page.evaluate(CONTROLS_JS)
    page.close()
    assert [(c["kind"], c["label"], c["n"], c["cur"]) for c in found] == [("radio", "Image", 3, 2)]


def test_job_buttons_are_denied_with_or_without_their_icon_name():
    """A button's innerText starts with its icon's name: "play_arrow Start" slipped past the deny list and the
    full crawl started trainings (Training Lab, the NAS search)."""
    for label in ("Start", "play_arrow Start", "restart_alt Resume", "Run search", "school Distil", "Presenter mode"):
        assert DENY.search(label), label
    for label in ("stop Stop", "undo Undo", "Speed-run preset", "bolt Speed-run preset", "Apply", "Starter kit"):
        assert not DENY.search(label), label
