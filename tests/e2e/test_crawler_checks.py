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


# --------------------------------------------------------------------------- formulas, code, small text
KATEX = ('<div data-testid="stMarkdownContainer" style="width: 200px; font: 20px serif">'
         '<span class="katex-display" style="display: block; overflow-x: auto">'
         '<span class="katex" style="display: block; white-space: nowrap"><span class="katex-html">'
         '<span class="mord">{text}</span><span class="vlist-s" style="display: inline-block; width: 2px">\u200b</span>'
         '</span></span></span></div>')


@pytest.fixture
def findings(browser):
    page = browser.new_page(viewport={"width": 800, "height": 600})

    def run(html, present=False, script=""):
        page.set_content(f"<body>{html}</body>")
        if script:
            page.evaluate(script)
        return [(f["kind"], f["detail"]) for f in page.evaluate(CHECK_JS, [present, 16])]
    yield run
    page.close()


def test_a_formula_wider_than_its_column_is_found(findings):
    assert [k for k, _ in findings(KATEX.format(text="x" * 40))] == ["formula"]  # 40 glyphs of 20 px serif: > 200 px
    assert findings(KATEX.format(text="x" * 8)) == []  # fits; KaTeX's invisible 2 px strut at the edge is no ink


def test_the_fit_script_shrinks_a_formula_into_its_column_down_to_its_floor(findings):
    from cnnviz.ui.presenter import FIT_FLOOR, FIT_JS
    script = "() => { " + FIT_JS.split("<script>", 1)[1].rsplit("</script>", 1)[0] + " }"
    a_bit, far = KATEX.format(text="x" * 26), KATEX.format(text="x" * 60)  # x: 10 px; 260 and 600 px in 200 px
    assert [k for k, _ in findings(a_bit)] == ["formula"]
    assert findings(a_bit, script=script) == []  # 1.3× too wide: scaled to fit
    assert [k for k, _ in findings(far, script=script)] == ["formula"]  # 3× > 1 / FIT_FLOOR: left for the engine
    assert 1 / FIT_FLOOR < 3


def test_a_code_block_wider_than_its_box_is_found_and_wrapping_fixes_it(findings):
    from cnnviz.ui.presenter import COMMON_CSS
    long = "ConvTranspose2d(12, 12, kernel_size=3, stride=2, padding=1, output_padding=1, groups=12)"
    pre = f'<pre style="width: 300px; overflow: auto; font: 16px monospace; white-space: pre"><code>{long}</code></pre>'
    assert [k for k, _ in findings(pre)] == ["code"]
    inline = f'<div data-testid="stMarkdownContainer" style="width: 300px"><p>see <code>{long}</code></p></div>'
    assert [k for k, _ in findings(inline.replace(", ", ",&nbsp;"))] == ["code"]  # one unbreakable token
    assert findings(COMMON_CSS + pre) == []  # the app's rule: code blocks wrap


def test_text_under_16_px_is_found_in_presenter_mode_only(findings):
    html = ('<div data-testid="stMain"><p style="font-size: 14px">small print</p><p style="font-size: 20px">big</p>'
            '<p style="font-size: 1px">\u200b</p><input value="typed" style="font-size: 12px"></div>')
    assert findings(html) == []
    assert sorted(findings(html, present=True)) == [("font", "12 px (1 texts)"), ("font", "14 px (1 texts)")]


def test_a_control_floating_over_the_content_column_is_found_and_one_in_the_margin_is_not(findings):
    page = ('<div data-testid="stMainBlockContainer" style="margin: 0; width: 700px; padding: 0 70px 0 50px; '
            'box-sizing: border-box"><div data-testid="stElementContainer" style="position: fixed; top: 8px; '
            'right: {right}px; width: {width}px">Presenter mode</div><p>content</p></div>')
    assert [k for k, _ in findings(page.format(right=120, width=200))] == ["overlap"]  # the old floating toggle
    assert findings(page.format(right=115, width=46)) == []  # the bar, in the right margin
