"""The player's page as text: Frames is still a list of Drawings, shows itself in Jupyter as one
iframe whose srcdoc is the whole page, and every title or caption reaches the HTML escaped. How
the page behaves in a browser is test_viz_browser.py's."""
import shutil
from html.parser import HTMLParser

import numpy as np
import pytest

from tinygrad_conv import Tensor, viz
from tinygrad_conv.viz.rendering import fallback_program

needs_renderer = pytest.mark.skipif(shutil.which("dot") is None and fallback_program() is None,
                                    reason="neither Graphviz dot nor graphviz-pure is installed")

HOSTILE_TITLE = "</title><script>alert('title')</script>\"' javascript:alert(1)"
HOSTILE_CAPTIONS = ["</script><script>alert('caption')</script>",
                    "\"><img src=x onerror=\"alert('attribute')\">",
                    "javascript:alert('url') &amp; &lt;b&gt; ' \""]
SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><text>frame {}</text></svg>'


class Elements(HTMLParser):
    """Every start tag of a page with its attributes (entities decoded), and the text per tag."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.tags, self.text, self._open = [], {}, []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._open.append(tag)

    def handle_endtag(self, tag):
        if tag in self._open:
            del self._open[len(self._open) - 1 - self._open[::-1].index(tag):]

    def handle_data(self, data):
        if self._open:
            self.text.setdefault(self._open[-1], []).append(data)

    def named(self, tag):
        return [attrs for t, attrs in self.tags if t == tag]


def hostile_player():
    return viz.Player([SVG.format(k) for k in range(3)], HOSTILE_CAPTIONS, title=HOSTILE_TITLE)


def small_loss():
    w = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    w.name = "w"
    return (w * 3.0).tanh().sum()


def test_titles_and_captions_reach_the_page_as_text():
    page = Elements(hostile_player().html())
    assert len(page.named("script")) == 1 and not page.named("img")       # only the player's own
    assert [a["data-caption"] for a in page.named("div") if "data-caption" in a] == HOSTILE_CAPTIONS
    assert page.text["title"] == [HOSTILE_TITLE]
    assert page.named("div")[0]["aria-label"].startswith(HOSTILE_TITLE)
    for text in HOSTILE_CAPTIONS + [HOSTILE_TITLE]:
        assert text not in hostile_player().html()                       # never verbatim


def test_the_notebook_display_is_one_sandboxed_iframe_holding_the_page():
    player = hostile_player()
    shown = Elements(player._repr_html_())
    (tag, attrs), = shown.tags
    assert tag == "iframe" and attrs["sandbox"] == "allow-scripts"
    assert attrs["srcdoc"] == player.html() and attrs["title"] == HOSTILE_TITLE
    assert "<script" not in player._repr_html_()                         # all of it inside srcdoc


def test_player_pages_are_self_contained(tmp_path):
    path = viz.Player([SVG.format(0)], ["one"], title="t").save(tmp_path / "p.html")
    text = path.read_text()
    assert "<script src" not in text and "<link" not in text and 'name="dot-sha256"' not in text
    assert 'data-interval="1200"' in text and 'id="presenter"' in text


def test_player_checks_its_arguments():
    with pytest.raises(ValueError, match="no frames to play"):
        viz.Player([], [])
    with pytest.raises(ValueError, match="2 frames but 1 captions"):
        viz.Player([SVG, SVG], ["one"])
    with pytest.raises(TypeError, match="captions must be str, got int"):
        viz.Player([SVG], [1])
    with pytest.raises(TypeError, match="title must be str"):
        viz.Player([SVG], ["one"], title=None)
    with pytest.raises(ValueError, match="interval_ms must be a positive int"):
        viz.Player([SVG], ["one"], interval_ms=0)
    with pytest.raises(ValueError, match="fingerprint must be a sha256"):
        viz.Player([SVG], ["one"], fingerprint="abc")


def test_backward_frames_are_still_a_list_of_drawings():
    frames = viz.backward_frames(small_loss())
    assert isinstance(frames, list) and isinstance(frames, viz.Frames)
    assert all(isinstance(f, viz.Drawing) for f in frames) and len(frames) == 3
    assert frames == list(frames) and frames[1:] == list(frames)[1:]
    assert frames.title == "Backward pass, step by step" and "3 drawings" in repr(frames)


@needs_renderer
def test_frames_play_themselves_with_each_caption_once():
    frames = viz.backward_frames(small_loss())
    player = frames.player()
    assert player.captions == [f.comment for f in frames]
    assert player.fingerprint == viz.dot_fingerprint(f.source for f in frames)
    assert all(c not in svg for c, svg in zip(player.captions, player.svgs))   # no graph label
    assert all('class="node current"' in svg for svg in player.svgs)
    assert Elements(frames._repr_html_()).tags[0][1]["srcdoc"] == player.html()
    assert frames.player(title="mine").title == "mine"


def test_frames_without_a_step_have_nothing_to_play():
    empty = viz.Frames()
    assert empty._repr_html_() is None                                  # Jupyter shows the repr
    with pytest.raises(ValueError, match="no frames to play"):
        empty.player()
