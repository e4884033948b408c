"""Architecture Lab in chromium: the per-layer summary shows PyTorch's count; the block comparison reacts."""
import os

METRICS = "() => [...document.querySelectorAll('[data-testid=stMetricValue]')].map(e => e.innerText)"


def test_summary_and_block_comparison(server, page):
    page.goto(f"{server}/architecture_lab?preset=LeNet-5")
    page.get_by_test_id("stPlotlyChart").first.wait_for()
    page.wait_for_function(f"({METRICS})().includes('61.7 k')")  # LeNet-5: 61,706 parameters
    page.get_by_role("tab", name="Block comparison").click()  # a lazy tab: only its own chart is drawn
    page.wait_for_function("() => document.body.innerText.includes('depthwise-separable')")
    chart = page.get_by_test_id("stPlotlyChart").first
    chart.wait_for()
    if os.environ.get("CNNVIZ_SCREENSHOTS"):
        chart.scroll_into_view_if_needed()
        page.screenshot(path=os.environ["CNNVIZ_SCREENSHOTS"] + "/architecture_lab.png", full_page=True)
    groups = page.get_by_label("Groups g", exact=True)
    groups.fill("5")
    groups.press("Enter")
    page.get_by_test_id("stAlert").filter(has_text="divisible").first.wait_for()
    assert "groups" in page.get_by_test_id("stAlert").filter(has_text="divisible").first.inner_text()
    page.wait_for_function("() => window.location.search.includes('groups=5')")  # the state is in the link
    assert page.get_by_test_id("stException").count() == 0


def test_a_shared_builder_link_opens_the_same_stack(server, page):
    from cnnviz.architecture import builder as bld
    from cnnviz.architecture import codegen as cg
    from cnnviz.ui import fmt_int
    layers, shape = bld.reshape_input(cg.EXAMPLE, cg.EXAMPLE_SHAPE, 1, 28)
    params = sum(p.numel() for p in cg.build_stack(layers, shape).parameters())
    page.goto(f"{server}/architecture_lab?stack={bld.encode_stack(layers, shape)}")
    page.get_by_role("tab", name="Builder + export").click()
    page.wait_for_function(f"({METRICS})().includes('{fmt_int(params)}')")
    # the exported code starts from the link's 1-channel input (in the code block: the layer table's cells also
    # hold this text, in a hidden accessibility copy of the grid)
    page.get_by_test_id("stCode").filter(has_text="nn.Conv2d(1, 8").first.wait_for()
    if os.environ.get("CNNVIZ_SCREENSHOTS"):
        page.screenshot(path=os.environ["CNNVIZ_SCREENSHOTS"] + "/builder.png", full_page=True)
    assert page.get_by_test_id("stException").count() == 0
