"""Convolution Animation's Transposed tab in chromium: stepping the stamp moves it and fills the output."""


def test_transposed_stamp_steps_forward(server, page):
    page.goto(f"{server}/conv_animation")
    page.get_by_role("tab", name="Transposed").click()
    page.get_by_text("Output after 1 of 16").wait_for(timeout=90_000)
    box = page.get_by_role("spinbutton", name="Show stamp")
    box.fill("2")
    box.press("Enter")
    page.get_by_text("Output after 2 of 16").wait_for(timeout=60_000)
    assert page.get_by_text("in(0,1) = 2").count() == 1  # the second input cell of the centre crop stamps now
    assert page.get_by_test_id("stException").count() == 0
