"""Convolution Animation's Transposed tab in chromium: stepping the stamp moves it and fills the output."""
from tests.support.browser import E2E_WAIT_MS


def test_transposed_stamp_steps_forward(server, page):
    page.goto(f"{server}/conv_animation")
    page.get_by_role("tab", name="Transposed").click()
    page.get_by_text("Output after 1 of 16").wait_for(timeout=E2E_WAIT_MS)
    box = page.get_by_role("spinbutton", name="Show stamp")
    box.fill("2")
    box.press("Enter")
    page.get_by_text("Output after 2 of 16").wait_for(timeout=E2E_WAIT_MS)
    assert page.get_by_text("in(0,1) = 2").count() == 1  # the second input cell of the centre crop stamps now
    assert page.get_by_test_id("stException").count() == 0


def test_1d_and_3d_tabs_draw_the_engine_numbers(server, page):
    import torch
    import torch.nn.functional as F

    from cnnviz.animation.nd import kernel_1d, signal_input, volume_demo
    page.goto(f"{server}/conv_animation?sig=step&slen=8&k1=difference&p1=1&step1=5")
    main = page.get_by_test_id("stMain")
    main.get_by_role("tab", name="1-D").click()
    x, w = torch.tensor(signal_input("step", 8))[None, None], torch.tensor(kernel_1d("difference", 3))[None, None]
    out4 = F.conv1d(x, w, padding=1)[0, 0, 4].item()  # the step's edge: 5
    main.get_by_text(f"out[4] = Σ products {out4:g} + bias 0 = ").first.wait_for(timeout=E2E_WAIT_MS)
    main.get_by_role("tab", name="3-D").click()
    xv, wv = (torch.tensor(a)[None, None] for a in volume_demo(4, 3))
    first = F.conv3d(xv, wv, padding=1)[0, 0, 0, 0, 0].item()
    main.get_by_text("padding (zeros): Σ = 0").first.wait_for(timeout=E2E_WAIT_MS)
    assert main.get_by_text(f"= {first:g}").count() >= 1  # the output cell's equation ends with F.conv3d's value
    assert page.get_by_test_id("stException").count() == 0
