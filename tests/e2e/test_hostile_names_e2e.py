"""Class names are user data (a checkpoint's metadata, a ZIP's folder names): in chromium they show as text
in metrics, captions and plotly labels, and never become markup or run script."""
import io

import torch

from cnnviz.inside.shipped import load_model
from tests.support.browser import E2E_WAIT_MS

HOSTILE = ('<img src=x onerror="window.pwned=1">',
           "**bold** [link](javascript:window.pwned=2) $x$",
           "<b>tag</b> :red[red] _it_")


def hostile_checkpoint(path):
    model, info = load_model("shapes_TinyVGG")
    meta = dict(model=info.model, kwargs=info.kwargs, dataset=info.dataset, classes=list(HOSTILE))
    buf = io.BytesIO()
    torch.save({"meta": meta, "state_dict": model.state_dict()}, buf)
    path.write_bytes(buf.getvalue())
    return path


def test_hostile_class_names_render_as_text(server, page, tmp_path):
    page.goto(f"{server}/feature_maps?model=upload&src=validation&idx=0")
    page.locator("input[type=file]").first.set_input_files(str(hostile_checkpoint(tmp_path / "evil.pt")))
    page.get_by_test_id("stMetricValue").first.wait_for()
    page.wait_for_function("() => document.querySelectorAll('.ytick text').length >= 3", timeout=E2E_WAIT_MS)
    page.wait_for_timeout(1000)  # let every element of the run arrive (a script would have run by now)

    assert page.evaluate("() => window.pwned") is None
    assert page.locator("img[src='x']").count() == 0
    assert page.evaluate("() => [...document.querySelectorAll('b')].filter(b => b.innerText === 'tag').length") == 0
    assert page.evaluate("() => [...document.querySelectorAll('a')].filter(a => a.href.startsWith('javascript'))"
                         ".length") == 0
    prediction = page.get_by_test_id("stMetricValue").first.inner_text().strip()
    assert prediction in HOSTILE  # the literal name, characters and all
    ticks = page.evaluate("() => [...document.querySelectorAll('.ytick text')].map(t => t.textContent)")
    assert set(HOSTILE) <= set(ticks), ticks  # plotly prints the escaped tags as text
    caption = page.get_by_text("true class:").first.inner_text()
    assert any(name in caption for name in HOSTILE), caption
    assert page.get_by_test_id("stException").count() == 0
