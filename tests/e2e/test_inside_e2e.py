"""Feature Maps and Saliency in chromium: upload an image through the file uploader and see the maps."""
import os
from pathlib import Path
from tests.support.browser import E2E_WAIT_MS

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "assets" / "samples" / "shapes_triangle_0.png"


def wait_for_metric(page, text):
    page.wait_for_function("t => [...document.querySelectorAll('[data-testid=stMetricValue]')]"
                           ".some(e => e.innerText === t)", arg=text, timeout=E2E_WAIT_MS)


def test_upload_image_shows_feature_maps(server, page):
    page.set_default_timeout(E2E_WAIT_MS)  # the first visit imports torch and captum on a busy machine
    page.goto(f"{server}/feature_maps?model=shapes_TinyVGG&src=upload")
    page.locator("[data-testid=stFileUploaderDropzoneInput]").first.wait_for(state="attached")
    page.locator("[data-testid=stFileUploaderDropzoneInput]").first.set_input_files(str(SAMPLE))
    wait_for_metric(page, "triangle")
    page.get_by_text("ReLU 1 · 8×32×32").first.wait_for()  # readable name first, the module path (features.1) second
    assert page.get_by_test_id("stPlotlyChart").count() >= 6
    assert page.get_by_test_id("stException").count() == 0
    if os.environ.get("CNNVIZ_SCREENSHOTS"):
        page.screenshot(path=os.environ["CNNVIZ_SCREENSHOTS"] + "/feature_maps.png", full_page=True)


def test_saliency_page_shows_every_method(server, page):
    page.set_default_timeout(E2E_WAIT_MS)
    page.goto(f"{server}/saliency?model=shapes_TinyVGG&src=upload")
    page.locator("[data-testid=stFileUploaderDropzoneInput]").first.wait_for(state="attached")
    page.locator("[data-testid=stFileUploaderDropzoneInput]").first.set_input_files(str(SAMPLE))
    wait_for_metric(page, "triangle")
    page.get_by_text("Grad-CAM", exact=True).first.wait_for()  # the panel title, not the settings
    assert page.get_by_test_id("stException").count() == 0
    if os.environ.get("CNNVIZ_SCREENSHOTS"):
        page.screenshot(path=os.environ["CNNVIZ_SCREENSHOTS"] + "/saliency.png", full_page=True)
