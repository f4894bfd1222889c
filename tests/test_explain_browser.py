"""The explain panels' players and inline figures in a real headless Chromium (through selenium,
the browser fixture of test_viz_browser.py): step with the buttons and keys, the caption follows
the frame, the frame's SVG is drawn with its current window, and in a notebook page each moving
panel plays in its own iframe. Skipped when Chromium, chromedriver or selenium is missing.

Each test leaves screenshots in its tmp_path (pytest --basetemp=DIR keeps them in DIR)."""
import numpy as np
import pytest

import tinygrad_conv as tc
from tinygrad_conv import Tensor, nn, viz
from tinygrad_conv import functional as F

from test_viz_browser import browser, in_frame, notebook_page, press, top_document  # noqa: F401

pytestmark = pytest.mark.browser

STATE = """
    const frames = [...document.querySelectorAll('.frame')].filter(f => !f.hidden);
    const svg = frames.length === 1 ? frames[0].querySelector('svg') : null;
    const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
    const current = svg ? [...svg.querySelectorAll('.current')] : [];
    const stage = document.getElementById('stage').getBoundingClientRect();
    const seen = current.map(g => g.getBoundingClientRect())
        .filter(r => r.right > stage.left && r.left < stage.right && r.bottom > stage.top && r.top < stage.bottom);
    return {visible: frames.map(f => f.id), counter: document.getElementById('counter').textContent,
            caption: document.getElementById('caption').textContent,
            width: box.width, height: box.height, current: current.length, seen: seen.length,
            values: svg ? svg.querySelectorAll('text.v').length : 0,
            focused: document.hasFocus() && document.querySelector('.player').contains(document.activeElement)};
"""


def state(driver) -> dict:
    return driver.execute_script(STATE)


def sobel():
    x = Tensor(np.arange(1, 26, dtype=np.float64).reshape(1, 1, 5, 5), requires_grad=True)
    w = Tensor(np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=np.float64)[None, None],
               requires_grad=True)
    y = F.conv2d(x, w)
    dy = np.arange(1, 10, dtype=np.float64).reshape(1, 1, 3, 3)
    y.backward(dy, retain_graph=True)
    return viz.explain(y, dy=dy, symbols=True)


def digits_like():
    """A digits-sized first layer (8x8 image, padding 1) with a ReLU and a max-pool after it."""
    tc.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)).double()
    image = Tensor(np.random.default_rng(0).standard_normal((1, 1, 8, 8)))
    loss = model(image).sum()
    loss.backward(retain_graph=True)
    return model, loss


def test_forward_player_steps_with_buttons_and_keys(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    panel = sobel()["forward"]
    captions = [c for _, c in panel.frames]
    browser.get(panel.player().save(tmp_path / "forward.html").as_uri())
    first = state(browser)
    assert first["visible"] == ["step0"] and first["counter"] == "step 1 of 9"
    assert first["caption"] == captions[0] and first["caption"].startswith("Y[0, 0, 0, 0] = -8")
    assert first["width"] > 300 and first["height"] > 150 and first["values"] > 30
    assert first["current"] == 2 and first["seen"] == 2       # the window and Y's entry, in view
    browser.save_screenshot(str(tmp_path / "forward_step1.png"))

    browser.find_element(By.ID, "next").click()
    assert state(browser)["caption"] == captions[1] != captions[0]
    press(browser, Keys.ARROW_RIGHT)
    third = state(browser)
    assert third["visible"] == ["step2"] and third["caption"] == captions[2]
    assert third["focused"]
    press(browser, Keys.END)
    last = state(browser)
    assert last["counter"] == "step 9 of 9" and last["caption"] == captions[-1]
    assert last["caption"].startswith("Y[0, 0, 2, 2] = -8")
    browser.save_screenshot(str(tmp_path / "forward_step9.png"))
    press(browser, Keys.ARROW_LEFT)
    assert state(browser)["caption"] == captions[-2]


def test_dx_player_of_a_digits_layer_follows_the_window(browser, tmp_path):
    from selenium.webdriver.common.keys import Keys

    model, loss = digits_like()
    panel = viz.explain(model[0], root=loss, f=1)["dX"]
    assert len(panel.frames) == 64
    browser.get(panel.player().save(tmp_path / "dX.html").as_uri())
    for k in (0, 9, 63):
        press(browser, Keys.HOME)
        for _ in range(k):
            press(browser, Keys.ARROW_RIGHT)
        now = state(browser)
        assert now["visible"] == [f"step{k}"] and now["caption"] == panel.frames[k][1]
        assert now["seen"] >= 1 and now["width"] > 600
        browser.save_screenshot(str(tmp_path / f"dX_step{k + 1}.png"))
    press(browser, "p")                                       # presenter: crop to the window
    presenting = state(browser)
    assert presenting["seen"] >= 1 and presenting["caption"] == panel.frames[63][1]
    browser.save_screenshot(str(tmp_path / "dX_presenter.png"))


def test_explanation_in_a_notebook_page(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    model, loss = digits_like()
    pool = viz.explain(model[2], root=loss, c=1)
    conv = viz.explain(model[0], root=loss, f=1)
    browser.get(notebook_page(tmp_path / "notebook.html", conv, pool))
    inline = browser.execute_script(
        "return [...document.querySelectorAll('.output > div > svg')].map(s => s.getBoundingClientRect().width)")
    assert len(inline) == 6 and min(inline) > 300               # 5 conv panels and the routing
    frames = browser.find_elements(By.CSS_SELECTOR, "iframe.tinygrad-conv-player")
    assert len(frames) == 4                                    # forward, dW, dX; routing
    browser.save_screenshot(str(tmp_path / "notebook_top.png"))
    routing = frames[3]
    browser.execute_script("arguments[0].scrollIntoView()", routing)
    in_frame(browser, routing)
    browser.find_element(By.ID, "caption").click()
    first = state(browser)
    assert first["caption"] == pool["routing"].frames[0][1] and first["focused"]
    press(browser, Keys.ARROW_RIGHT)
    second = state(browser)
    assert second["caption"] == pool["routing"].frames[1][1] and second["seen"] >= 1
    browser.switch_to.default_content()
    browser.save_screenshot(str(tmp_path / "notebook_routing.png"))
    in_frame(browser, frames[1])                               # another player is untouched
    assert state(browser)["counter"] == "step 1 of 9"
