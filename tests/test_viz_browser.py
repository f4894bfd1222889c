"""The HTML player, driven in a real headless Chromium (Debian's chromium and chromium-driver
packages) through selenium at a 1280x720 viewport: as its own page, and as a notebook shows it
(two players' iframes and a text cell on one page). Skipped when any of them is missing.

Each test leaves screenshots in its tmp_path (pytest --basetemp=DIR keeps them in DIR)."""
import shutil
import time

import pytest

from drawings import conv_block_loss, lenet_loss
from tinygrad_conv import viz
from tinygrad_conv.viz.rendering import fallback_program

pytestmark = pytest.mark.browser

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
WIDTH, HEIGHT = 1280, 720


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    webdriver = pytest.importorskip("selenium.webdriver")
    for program in (CHROMIUM, CHROMEDRIVER):
        if shutil.which(program) is None:
            pytest.skip(f"{program} is not installed (apt-get install chromium chromium-driver)")
    if shutil.which("dot") is None and fallback_program() is None:
        pytest.skip("neither Graphviz dot nor graphviz-pure is installed")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tmp_path_factory.mktemp("chromium-profile")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--hide-scrollbars", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=CHROMEDRIVER),
                              options=options)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False})
    # with a profile directory of its own, headless Chromium (150 and later) opens its window
    # without the focus, which a person's browser window has: give it the focus, as a click would
    driver.execute_cdp_cmd("Page.bringToFront", {})
    yield driver
    driver.quit()


@pytest.fixture(autouse=True)
def top_document(browser):
    yield
    browser.switch_to.default_content()


@pytest.fixture(scope="module")
def block_frames():
    return viz.backward_frames(conv_block_loss())


@pytest.fixture(scope="module")
def lenet_frames():
    loss, params = lenet_loss()
    return viz.backward_frames(loss, params=params)


def notebook_page(path, *players) -> str:
    """A page as a notebook shows the players: a text cell, then each player's inline HTML."""
    cells = "".join(f'<div class="output">{p._repr_html_()}</div>' for p in players)
    path.write_text(f'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
                    f'<textarea id="cell" rows="3" cols="60"></textarea>{cells}</body></html>',
                    encoding="utf-8")
    return path.as_uri()


STATE = """
    const root = document.querySelector('.player');
    const frames = [...document.querySelectorAll('.frame')].filter(f => !f.hidden);
    const current = frames.length === 1 ? frames[0].querySelectorAll('.current') : [];
    return {visible: frames.map(f => f.id), counter: document.getElementById('counter').textContent,
            caption: document.getElementById('caption').textContent,
            current: [...current].map(g => g.querySelector('title').textContent),
            playing: root.getAttribute('data-playing') === 'true',
            focused: document.hasFocus() && root.contains(document.activeElement),
            marked: root.classList.contains('focused')};
"""


def state(driver) -> dict:
    return driver.execute_script(STATE)


def current_of(frame) -> list[str]:
    """The nodes a frame's DOT marks as the current step (class=current)."""
    return [line.split()[0] for line in frame.source.splitlines() if "class=current" in line]


def players(driver, count: int) -> list:
    """The page's player iframes, once all `count` of them are in the document."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    find = lambda d: d.find_elements(By.CSS_SELECTOR, "iframe.tinygrad-conv-player")
    WebDriverWait(driver, 20).until(lambda d: len(find(d)) == count)
    return find(driver)


def in_frame(driver, iframe):
    driver.switch_to.default_content()
    driver.switch_to.frame(iframe)


def press(driver, *keys):
    from selenium.webdriver.common.action_chains import ActionChains
    ActionChains(driver).send_keys(*keys).perform()


def focus_player(driver):
    """Click the player's caption, as a person would, to give it the focus."""
    from selenium.webdriver.common.by import By
    driver.find_element(By.ID, "caption").click()
    assert state(driver)["focused"]


# ---- as its own page -------------------------------------------------------------------------

def test_player_steps_through_the_backward_pass(browser, block_frames, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(block_frames.save(tmp_path / "backward.html").as_uri())
    expected = [current_of(f) for f in block_frames]
    n = len(block_frames)
    first = state(browser)
    assert first["visible"] == ["step0"] and first["current"] == expected[0]
    assert first["counter"] == f"step 1 of {n}" and first["caption"] == block_frames[0].comment
    assert first["focused"]                                   # its own page: keys work at once
    browser.save_screenshot(str(tmp_path / "block_step1.png"))

    browser.find_element(By.ID, "next").click()
    second = state(browser)
    assert second["visible"] == ["step1"] and second["counter"] == f"step 2 of {n}"
    assert second["current"] == expected[1] != expected[0]    # the highlighted node moved on
    assert second["focused"]                                  # a click keeps the keys working

    press(browser, Keys.ARROW_RIGHT)
    assert state(browser)["visible"] == ["step2"]
    press(browser, Keys.ARROW_LEFT, Keys.ARROW_LEFT)
    assert state(browser)["visible"] == ["step0"]
    browser.find_element(By.ID, "prev").click()               # stays on the first step
    assert state(browser)["visible"] == ["step0"]
    press(browser, Keys.END)
    assert state(browser)["visible"] == [f"step{n - 1}"]
    press(browser, Keys.HOME)

    press(browser, Keys.SPACE)
    assert state(browser)["playing"]
    deadline = time.monotonic() + 10
    while state(browser)["visible"] == ["step0"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert state(browser)["visible"] != ["step0"]             # playing advances by itself
    press(browser, Keys.SPACE)
    assert not state(browser)["playing"]


def test_the_caption_appears_once(browser, block_frames, tmp_path):
    browser.get(block_frames.save(tmp_path / "backward.html").as_uri())
    texts = browser.execute_script("""
        return [...document.querySelectorAll('.frame:not([hidden]) svg text')].map(t => t.textContent);
    """)
    caption = state(browser)["caption"]
    assert caption == block_frames[0].comment and caption.startswith("step 1/4: the VJP of sum")
    assert texts and not any("the VJP of" in t for t in texts)


def current_box(driver) -> dict:
    """Where the current step's elements are, and the stage and window they must be seen in."""
    return driver.execute_script("""
        const union = els => els.reduce((b, e) => { const r = e.getBoundingClientRect();
            return {left: Math.min(b.left, r.left), top: Math.min(b.top, r.top),
                    right: Math.max(b.right, r.right), bottom: Math.max(b.bottom, r.bottom)}; },
            {left: Infinity, top: Infinity, right: -Infinity, bottom: -Infinity});
        const frame = document.querySelector('.frame:not([hidden])');
        const stage = document.getElementById('stage').getBoundingClientRect();
        const text = frame.querySelector('.current text');
        return {current: union([...frame.querySelectorAll('.current')]),
                stage: {left: stage.left, top: stage.top, right: stage.right, bottom: stage.bottom},
                window: [window.innerWidth, window.innerHeight],
                text: text.getBoundingClientRect().height,
                caption: parseFloat(getComputedStyle(document.getElementById('caption')).fontSize),
                near: frame.querySelectorAll('g.node:not(.far)').length,
                nodes: frame.querySelectorAll('g.node').length};
    """)


def inside(box: dict, outer: dict) -> bool:
    return (box["left"] >= outer["left"] - 0.5 and box["top"] >= outer["top"] - 0.5
            and box["right"] <= outer["right"] + 0.5 and box["bottom"] <= outer["bottom"] + 0.5)


def test_the_current_op_is_in_view_at_every_step_of_lenet(browser, lenet_frames, tmp_path):
    from selenium.webdriver.common.keys import Keys

    browser.get(lenet_frames.save(tmp_path / "lenet.html").as_uri())
    svg_size = browser.execute_script("""
        const b = document.querySelector('.frame svg').viewBox.baseVal; return [b.width, b.height];""")
    assert svg_size[0] > WIDTH or svg_size[1] > HEIGHT        # larger than the window: must follow
    for k in range(len(lenet_frames)):
        box = current_box(browser)
        assert box["window"] == [WIDTH, HEIGHT]
        assert inside(box["current"], box["stage"]), (k, box)
        assert box["text"] >= 9                               # still readable, not shrunk to fit
        if k in (0, 10, len(lenet_frames) - 1):
            browser.save_screenshot(str(tmp_path / f"lenet_step{k + 1}.png"))
        press(browser, Keys.ARROW_RIGHT)


def test_presenter_mode_enlarges_and_crops_to_the_current_step(browser, lenet_frames, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(lenet_frames.save(tmp_path / "lenet.html").as_uri())
    press(browser, *[Keys.ARROW_RIGHT] * 10)
    normal = current_box(browser)
    browser.find_element(By.ID, "presenter").click()
    big = current_box(browser)
    browser.save_screenshot(str(tmp_path / "lenet_step11_presenter.png"))
    assert big["text"] >= 1.6 * normal["text"] and big["text"] >= 16
    assert big["caption"] >= 1.4 * normal["caption"]
    assert big["near"] <= 6 < big["nodes"]                   # the op, its inputs and outputs only
    assert inside(big["current"], big["stage"])
    press(browser, Keys.ARROW_RIGHT)                          # stays on while stepping
    after = current_box(browser)
    assert after["text"] >= 16 and inside(after["current"], after["stage"])
    press(browser, "p")
    assert current_box(browser)["text"] == pytest.approx(normal["text"], rel=0.01)


# ---- as a notebook shows it ------------------------------------------------------------------

def test_two_players_on_one_page_step_independently(browser, block_frames, lenet_frames, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(notebook_page(tmp_path / "notebook.html", block_frames, lenet_frames))
    first, second = players(browser, 2)
    for iframe in (first, second):
        in_frame(browser, iframe)
        assert state(browser)["visible"] == ["step0"] and not state(browser)["focused"]
    in_frame(browser, first)
    focus_player(browser)
    press(browser, Keys.ARROW_RIGHT)
    assert state(browser)["visible"] == ["step1"]
    in_frame(browser, second)
    assert state(browser)["visible"] == ["step0"]             # the other player did not move
    focus_player(browser)
    press(browser, Keys.ARROW_RIGHT, Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)
    assert state(browser)["visible"] == ["step3"]
    assert state(browser)["marked"]                           # its frame and hint say so
    in_frame(browser, first)
    now = state(browser)
    assert now["visible"] == ["step1"] and not now["focused"] and not now["marked"]
    browser.switch_to.default_content()
    browser.save_screenshot(str(tmp_path / "notebook_two_players.png"))


def test_typing_in_a_cell_goes_to_the_cell_not_to_a_player(browser, block_frames, lenet_frames,
                                                            tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(notebook_page(tmp_path / "notebook.html", block_frames, lenet_frames))
    iframes = players(browser, 2)
    in_frame(browser, iframes[0])
    focus_player(browser)                                     # used a player, then back to the cell
    browser.switch_to.default_content()
    cell = browser.find_element(By.ID, "cell")
    cell.click()
    cell.send_keys("xy z")
    press(browser, Keys.ARROW_LEFT, Keys.ARROW_RIGHT, " ", "p")     # the caret moves, then types
    assert cell.get_attribute("value") == "xy z p"
    time.sleep(1.5)                                           # longer than a playing frame lasts
    for iframe in iframes:
        in_frame(browser, iframe)
        now = state(browser)
        assert now["visible"] == ["step0"] and not now["playing"] and not now["focused"]
        assert "presenter" not in browser.find_element(By.CSS_SELECTOR, ".player").get_attribute("class")
    browser.switch_to.default_content()
    browser.save_screenshot(str(tmp_path / "notebook_typing.png"))


# ---- user text is text -----------------------------------------------------------------------

HOSTILE_TITLE = "</title><script>window.pwned = 'title'</script>\"' javascript:alert(1)"
HOSTILE_CAPTIONS = ["</script><script>window.pwned = 'caption'</script>",
                    "\"><img src=x onerror=\"window.pwned = 'attribute'\">",
                    "javascript:window.pwned = 'url' &amp; &lt;b&gt;"]
SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="200pt" height="100pt" viewBox="0 0 200 100">'
       '<g class="graph"><g class="node{}"><title>n</title><rect x="10" y="10" width="80" height="40"/>'
       '<text x="20" y="35">step</text></g></g></svg>')


def test_titles_and_captions_stay_plain_text(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    player = viz.Player([SVG.format(" current" if k == 1 else "") for k in range(3)],
                        HOSTILE_CAPTIONS, title=HOSTILE_TITLE, interval_ms=50)
    browser.get(player.save(tmp_path / "hostile.html").as_uri())
    assert browser.title == HOSTILE_TITLE
    shown = []
    for _ in HOSTILE_CAPTIONS:
        shown.append(state(browser)["caption"])
        assert browser.execute_script("return window.pwned") is None
        press(browser, Keys.ARROW_RIGHT)
    assert shown == HOSTILE_CAPTIONS
    assert browser.execute_script("return document.querySelectorAll('img, .player script').length") == 0

    browser.get(notebook_page(tmp_path / "notebook.html", player, player))
    assert browser.execute_script("return window.pwned") is None
    iframes = browser.find_elements(By.CSS_SELECTOR, "iframe.tinygrad-conv-player")
    assert [f.get_attribute("title") for f in iframes] == [HOSTILE_TITLE] * 2
    for iframe in iframes:
        in_frame(browser, iframe)
        assert state(browser)["caption"] == HOSTILE_CAPTIONS[0]
        assert browser.execute_script("return [window.pwned, document.title]") == [None, HOSTILE_TITLE]
