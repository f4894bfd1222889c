"""The HTML player of the backward pass, driven in a real headless Chromium (Debian's chromium and
chromium-driver packages) through selenium. Skipped when any of them is missing."""
import re
import shutil
import time

import numpy as np
import pytest

import tinygrad_conv.functional as F
from tinygrad_conv import Tensor, viz
from tinygrad_conv.viz.rendering import fallback_program

pytestmark = pytest.mark.browser

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.fixture
def browser(tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver")
    for program in (CHROMIUM, CHROMEDRIVER):
        if shutil.which(program) is None:
            pytest.skip(f"{program} is not installed (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=CHROMEDRIVER),
                              options=options)
    yield driver
    driver.quit()


@pytest.fixture
def player(tmp_path):
    """The player of a conv -> relu -> max-pool block's backward pass, as a file:// URL."""
    if shutil.which("dot") is None and fallback_program() is None:
        pytest.skip("neither Graphviz dot nor graphviz-pure is installed")
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((1, 2, 6, 6)))
    w = Tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)
    w.name = "W"
    loss = F.max_pool2d(F.relu(F.conv2d(x, w, padding=1)), 2).sum()
    frames = viz.backward_frames(loss)
    path = viz.save_html(loss, tmp_path / "backward.html")
    return path.as_uri(), frames


def visible_state(driver) -> tuple[str, str, str]:
    """(visible frame id, title of its highlighted node, counter text)."""
    return tuple(driver.execute_script("""
        const frames = [...document.querySelectorAll('.frame')].filter(f => !f.hidden);
        if (frames.length !== 1) return ['frames visible: ' + frames.length, '', ''];
        const current = frames[0].querySelector('g.current title');
        return [frames[0].id, current ? current.textContent : '',
                document.getElementById('counter').textContent];
    """))


def viz_current(frame) -> str:
    """The node id the frame highlights, read from its DOT source."""
    (node,) = re.findall(r"^\s*(\w+) \[[^\n]*class=current", frame.source, re.M)
    return node


def test_player_steps_through_the_backward_pass(browser, player):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    url, frames = player
    browser.get(url)
    expected = [viz_current(f) for f in frames]
    assert visible_state(browser) == ("step0", expected[0], f"step 1 of {len(frames)}")
    assert browser.find_element(By.ID, "caption").text == frames[0].comment

    browser.find_element(By.ID, "next").click()
    frame, node, counter = visible_state(browser)
    assert (frame, counter) == ("step1", f"step 2 of {len(frames)}")
    assert node == expected[1] and node != expected[0]              # the highlighted node moved on

    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.ARROW_RIGHT)
    assert visible_state(browser)[:2] == ("step2", expected[2])
    body.send_keys(Keys.ARROW_LEFT)
    body.send_keys(Keys.ARROW_LEFT)
    assert visible_state(browser)[:2] == ("step0", expected[0])
    browser.find_element(By.ID, "prev").click()                     # stays on the first step
    assert visible_state(browser)[0] == "step0"

    browser.find_element(By.ID, "play").click()
    deadline = time.monotonic() + 10
    while visible_state(browser)[0] == "step0" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert visible_state(browser)[0] != "step0"                     # playing advances by itself

