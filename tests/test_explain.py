"""tc.viz.explain, explain_entry and GradientNorms: every number a panel shows is checked against
the engine (x.grad, w.grad, the layer's output) and against plain loops; the numbers drawn in each
SVG are exactly the numbers in the panel's data. How the players behave in a browser is
test_explain_browser.py's."""
import html
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_conv as tc
from tinygrad_conv import Tensor, nn, viz
from tinygrad_conv import functional as F
from tinygrad_conv.viz.explain.svg import number

ROOT = Path(__file__).resolve().parent.parent


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def drawn_numbers(svg: str) -> list[str]:
    """The text of every <text class="v">: the numbers a figure takes from its data."""
    return [html.unescape(t).replace("\u00a0", " ")
            for t in re.findall(r'<text class="v"[^>]*>([^<]*)</text>', svg)]


def data_numbers(data: dict) -> set[str]:
    out = set()
    for value in data.values():
        if isinstance(value, (np.ndarray, list, tuple, int, float, np.floating)) and \
                not isinstance(value, (str, bool)):
            arr = np.asarray(value, dtype=object).ravel()
            out |= {number(v) for v in arr if isinstance(v, (int, float, np.integer, np.floating))}
    return out


def assert_drawn_from_data(panel):
    for svg, data in [(panel.svg, panel.data)] + [(s, d) for (s, _), d in zip(panel.frames, panel.frame_data)]:
        drawn = drawn_numbers(svg)
        assert drawn, f"{panel.name}: no numbers drawn"
        assert set(drawn) <= data_numbers(data), f"{panel.name}: {set(drawn) - data_numbers(data)}"


# ---- conv2d ---------------------------------------------------------------------------------

CONV_CASES = {
    "plain": dict(N=1, C=1, F=1, H=5, W=5, K=3, stride=1, padding=0, dilation=1, groups=1, bias=False),
    "strided-bias-remainder": dict(N=2, C=2, F=3, H=7, W=6, K=3, stride=2, padding=1, dilation=1,
                                   groups=1, bias=True),
    "groups-dilation": dict(N=2, C=4, F=4, H=8, W=7, K=(2, 3), stride=(2, 3), padding=(1, 2),
                            dilation=(2, 1), groups=2, bias=True),
    "same": dict(N=1, C=2, F=2, H=5, W=6, K=4, stride=1, padding="same", dilation=1, groups=1, bias=True),
}


def conv_graph(case, rng):
    kh, kw = pair(case["K"])
    x = Tensor(rng.standard_normal((case["N"], case["C"], case["H"], case["W"])), requires_grad=True)
    w = Tensor(rng.standard_normal((case["F"], case["C"] // case["groups"], kh, kw)), requires_grad=True)
    b = Tensor(rng.standard_normal(case["F"]), requires_grad=True) if case["bias"] else None
    y = F.conv2d(x, w, b, stride=case["stride"], padding=case["padding"], dilation=case["dilation"],
                 groups=case["groups"])
    r = rng.standard_normal(y.shape)
    loss = (y * Tensor(r)).sum()                       # so dY = r exactly
    loss.backward(retain_graph=True)
    return x, w, b, y, r, loss


def choices(case):
    """(n, f, c) triples to explain: the first and the last of each, c in f's group."""
    Fg, Cg = case["F"] // case["groups"], case["C"] // case["groups"]
    last_f = case["F"] - 1
    return [(0, 0, 0), (case["N"] - 1, last_f, (last_f // Fg) * Cg + Cg - 1)]


@pytest.mark.parametrize("name", CONV_CASES)
def test_conv_panels_match_the_engine_and_loops(name, rng):
    case = CONV_CASES[name]
    x, w, b, y, r, loss = conv_graph(case, rng)
    params = y.node.params                             # the bias is added inside conv2d
    assert len(y.node.parents) == (3 if case["bias"] else 2)
    (sh, sw), (dh, dw) = params["stride"], params["dilation"]
    (pt, pb), (pl, pr) = params["padding"]
    G = params["groups"]
    Fg, Cg, KH, KW = case["F"] // G, *w.shape[1:]
    xp = np.pad(x.data, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    OH, OW = y.shape[2:]
    for n, f, c in choices(case):
        e = viz.explain(y, root=loss, n=n, f=f, c=c)
        cw = c - (f // Fg) * Cg
        assert set(e.panels) == {"forward", "dW", "dX", "im2col"} | ({"db"} if case["bias"] else set())
        for d in e["forward"].frame_data:
            i, j = d["position"]
            window = xp[n, c][np.ix_(i * sh + np.arange(KH) * dh, j * sw + np.arange(KW) * dw)]
            np.testing.assert_array_equal(d["window"], window)
            np.testing.assert_array_equal(d["products"], window * w.data[f, cw])
            total = sum(float((xp[n, k][np.ix_(i * sh + np.arange(KH) * dh, j * sw + np.arange(KW) * dw)]
                               * w.data[f, k - (f // Fg) * Cg]).sum())
                        for k in range((f // Fg) * Cg, (f // Fg) * Cg + Cg)) + (b.data[f] if b is not None else 0)
            assert d["y_value"] == y.data[n, f, i, j]
            assert np.isclose(d["partial"] + d["others"] + (d["bias"] or 0), total)
            assert np.isclose(total, y.data[n, f, i, j])
        assert len(e["dW"].frames) == KH * KW
        for d in e["dW"].frame_data:
            a, bb = d["entry"]
            loop = sum(xp[m, c, a * dh + i * sh, bb * dw + j * sw] * r[m, f, i, j]
                       for m in range(case["N"]) for i in range(OH) for j in range(OW))
            assert np.isclose(d["partial"] + d["others"], loop)
            assert np.isclose(d["dw_value"], w.grad.data[f, cw, a, bb])
            np.testing.assert_allclose(d["dw"], w.grad.data[f, cw])
            np.testing.assert_array_equal(d["dy"], r[n, f])
        # the remainder no window reads
        Hp, Wp = xp.shape[2:]
        rh, rw = (Hp - dh * (KH - 1) - 1) % sh, (Wp - dw * (KW - 1) - 1) % sw
        unread = e["dW"].data["unread"]
        assert unread.shape == (Hp, Wp) and unread[Hp - rh:].all() and unread[:, Wp - rw:].all()
        assert unread.sum() == Hp * Wp - (Hp - rh) * (Wp - rw)
        eh, ew = dh * (KH - 1), dw * (KW - 1)
        for d in e["dX"].frame_data:
            h, q = d["pixel"]
            full = np.zeros((Hp + eh, Wp + ew))
            for i in range(OH):
                for j in range(OW):
                    full[eh + i * sh, ew + j * sw] = r[n, f, i, j]
            np.testing.assert_array_equal(d["full"], full)
            np.testing.assert_array_equal(d["rotated"], w.data[f, cw][::-1, ::-1])
            assert np.isclose(d["partial"], d["dx_pad"][h + pt, q + pl])
            assert np.isclose(d["partial"] + d["others"], x.grad.data[n, c, h, q])
            assert d["dx_value"] == pytest.approx(x.grad.data[n, c, h, q])
            assert d["cropped"].sum() == Hp * Wp - case["H"] * case["W"]
        d = e["im2col"].data
        assert d["x_col"].shape == (KH * KW, OH * OW)
        for k in range(OH * OW):
            i, j = divmod(k, OW)
            np.testing.assert_array_equal(
                d["x_col"][:, k], xp[n, c][np.ix_(i * sh + np.arange(KH) * dh, j * sw + np.arange(KW) * dw)].ravel())
            assert np.isclose(d["y_row"][0, k], e["forward"].frame_data[k]["partial"])
        cover = np.zeros((Hp, Wp), dtype=int)
        for i in range(OH):
            for j in range(OW):
                cover[np.ix_(i * sh + np.arange(KH) * dh, j * sw + np.arange(KW) * dw)] += 1
        np.testing.assert_array_equal(d["coverage"], cover[pt:Hp - pb, pl:Wp - pr])
        if b is not None:
            d = e["db"].data
            assert np.isclose(d["partial"] + d["others"], r[:, f].sum())
            assert np.isclose(d["db_value"], b.grad.data[f])
        for panel in e:
            assert_drawn_from_data(panel)


def test_sobel_example_numbers():
    x = Tensor(np.arange(1, 26, dtype=np.float64).reshape(1, 1, 5, 5), requires_grad=True)
    w = Tensor(np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=np.float64)[None, None],
               requires_grad=True)
    y = F.conv2d(x, w)
    dy = np.arange(1, 10, dtype=np.float64).reshape(1, 1, 3, 3)
    y.backward(dy, retain_graph=True)                  # explain reads X and W from the graph
    e = viz.explain(y, dy=dy, symbols=True)
    assert (e["forward"].data["y"] == -8).all()
    assert e["dW"].data["symbolic"] == "a + 2b + 3c + 6d + 7e + 8f + 11g + 12h + 13i"
    assert e["dW"].data["dw_value"] == w.grad.data[0, 0, 0, 0] == 411
    assert e["dX"].data["full"].shape == (7, 7) and e["dX"].data["full"][2:5, 2:5].tolist() == dy[0, 0].tolist()
    assert ">a<" in e["dW"].svg and ">13i<" in e["dW"].svg


def test_explain_a_module_finds_its_output_and_bias(rng):
    tc.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(3 * 4 * 4, 2)).double()
    x = Tensor(rng.standard_normal((2, 1, 8, 8)))
    loss = F.cross_entropy(model(x), Tensor(np.array([0, 1])))
    loss.backward(retain_graph=True)
    e = viz.explain(model[0], root=loss, n=1, f=2, position=(3, 4), entry=(2, 1), pixel=(7, 0))
    assert "Conv2d" in e.title and "db" in e.panels
    assert np.isclose(e["dW"].data["dw_value"], model[0].weight.grad.data[2, 0, 2, 1])
    assert np.isclose(e["db"].data["db_value"], model[0].bias.grad.data[2])
    assert e["forward"].data["y_value"] == model[0](x).data[1, 2, 3, 4]
    # max-pool: each dY goes to the window's first maximum; dX is the engine's
    p = viz.explain(model[2], root=loss, n=1, c=2)
    relu_out = model[1](model[0](x)).data[1, 2]
    for d in p["routing"].frame_data:
        i, j = d["position"]
        window = relu_out[2 * i:2 * i + 2, 2 * j:2 * j + 2]
        assert d["winner"] == (2 * i + np.argmax(window) // 2, 2 * j + np.argmax(window) % 2)
    relu = viz.explain(model[1], root=loss, n=1, c=2)["mask"].data
    np.testing.assert_array_equal(relu["mask"], model[0](x).data[1, 2] > 0)
    with pytest.raises(ValueError, match=r"ran 3 explainable ops in root's graph \(conv2d, relu, max_pool2d\)"):
        viz.explain(model, root=loss)


def test_explain_refuses_clearly(rng):
    x = Tensor(rng.standard_normal((1, 2, 5, 5)), requires_grad=True)
    w = Tensor(rng.standard_normal((4, 1, 3, 3)), requires_grad=True)
    y = F.conv2d(x, w, groups=2)
    loss = y.sum()
    with pytest.raises(ValueError, match="root= .* or dy="):
        viz.explain(y)
    with pytest.raises(ValueError, match="sees only input channels 0..0"):
        viz.explain(y, root=loss, f=1, c=1)
    with pytest.raises(ValueError, match=r"f=4 must be in 0..3 \(the filter index\)"):
        viz.explain(y, root=loss, f=4)
    with pytest.raises(ValueError, match=r"position=\(3, 0\) is outside Y's 3x3"):
        viz.explain(y, root=loss, position=(3, 0))
    with pytest.raises(ValueError, match="dy has shape"):
        viz.explain(y, dy=np.ones((1, 4, 2, 2)))
    with pytest.raises(ValueError, match="output of tanh"):
        viz.explain(y.tanh(), root=loss)
    with pytest.raises(ValueError, match="no recorded graph"):
        viz.explain(x, root=loss)
    with pytest.raises(ValueError, match="receives no gradient"):
        viz.explain(F.conv2d(x, w, groups=2), root=loss)
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        viz.explain(y, root=loss)


# ---- pools and ReLU -------------------------------------------------------------------------

@pytest.mark.parametrize("kw", [dict(kernel_size=3, stride=2, padding=1),
                                dict(kernel_size=2, stride=2, ceil_mode=True),
                                dict(kernel_size=2, stride=1, dilation=2)])
def test_max_pool_routing(kw, rng):
    x = Tensor(rng.integers(0, 3, (2, 2, 5, 5)).astype(np.float64), requires_grad=True)   # ties
    y = F.max_pool2d(x, **kw)
    r = rng.standard_normal(y.shape)
    loss = (y * Tensor(r)).sum()
    loss.backward(retain_graph=True)
    e = viz.explain(y, root=loss, n=1, c=1)
    p = y.node.params
    (KH, KW), (sh, sw), ((pt, _), (pl, _)), (dh, dw) = p["kernel"], p["stride"], p["padding"], p["dilation"]
    plane = x.data[1, 1]
    for d in e["routing"].frame_data:
        i, j = d["position"]
        cells = [(i * sh + a * dh - pt, j * sw + b * dw - pl) for a in range(KH) for b in range(KW)]
        cells = [(h, q) for h, q in cells if 0 <= h < 5 and 0 <= q < 5]
        best = max(plane[h, q] for h, q in cells)
        first = next(c for c in cells if plane[c] == best)               # row-major window order
        assert d["winner"] == first and d["max"] == best
        assert {(h, q) for a, b, h, q in d["ties"] if (a, b) == (i, j)} == \
            {c for c in cells if plane[c] == best and c != first}
        np.testing.assert_array_equal(d["dx"], x.grad.data[1, 1])
    routed = np.zeros((5, 5))
    for d in e["routing"].frame_data:
        routed[d["winner"]] += r[1, 1][d["position"]]
    np.testing.assert_allclose(routed, x.grad.data[1, 1])
    assert_drawn_from_data(e["routing"])


@pytest.mark.parametrize("kw", [dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
                                dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
                                dict(kernel_size=2, stride=2, divisor_override=3)])
def test_avg_pool_divisor(kw, rng):
    x = Tensor(rng.standard_normal((1, 2, 6, 6)), requires_grad=True)
    y = F.avg_pool2d(x, **kw)
    r = rng.standard_normal(y.shape)
    loss = (y * Tensor(r)).sum()
    loss.backward(retain_graph=True)
    e = viz.explain(y, root=loss, c=1)
    k, s, p = kw["kernel_size"], kw["stride"], kw.get("padding", 0)
    for d in e["divisor"].frame_data:
        i, j = d["position"]
        rows = [i * s - p + a for a in range(k)]
        cols = [j * s - p + b for b in range(k)]
        if kw.get("divisor_override"):
            expected = kw["divisor_override"]
        elif kw.get("count_include_pad", True):        # padding counts, the ceil border never
            expected = sum(-p <= h < 6 + p for h in rows) * sum(-p <= q < 6 + p for q in cols)
        else:
            expected = sum(0 <= h < 6 for h in rows) * sum(0 <= q < 6 for q in cols)
        assert d["divisor"][i, j] == expected
        assert np.isclose(d["share"][i, j], r[0, 1, i, j] / expected)
        np.testing.assert_allclose(d["dx"], x.grad.data[0, 1])
    assert e["divisor"].data["divisor"].shape == y.shape[2:]
    assert_drawn_from_data(e["divisor"])


def test_relu_mask(rng):
    x = Tensor(rng.standard_normal((2, 3, 4, 4)), requires_grad=True)
    y = F.relu(x)
    r = rng.standard_normal(y.shape)
    (y * Tensor(r)).sum().backward(retain_graph=True)
    d = viz.explain(y, dy=r, n=1, c=2)["mask"].data
    np.testing.assert_array_equal(d["mask"], x.data[1, 2] > 0)
    np.testing.assert_array_equal(d["dx"], x.grad.data[1, 2])
    flat = viz.explain(F.relu(Tensor(rng.standard_normal((3, 5)), requires_grad=True)), dy=np.ones((3, 5)))
    assert flat["mask"].data["x"].shape == (3, 5)


# ---- the explanation object -------------------------------------------------------------------

def test_explanation_displays_and_saves(tmp_path, rng):
    x, w, b, y, r, loss = conv_graph(CONV_CASES["strided-bias-remainder"], rng)
    e = viz.explain(y, root=loss, max_frames=5)
    assert len(e["forward"].frames) == 3                 # one row of Y: its 3 positions
    page = e._repr_html_()
    assert page.count("<iframe") == 3 and page.count("<svg") >= 5 and e.title in html.unescape(page)
    paths = e.save(tmp_path / "out", prefix="conv_")
    assert sorted(p.name for p in paths) == sorted(
        ["conv_forward.svg", "conv_forward.html", "conv_dW.svg", "conv_dW.html", "conv_dX.svg",
         "conv_dX.html", "conv_im2col.svg", "conv_db.svg"])
    assert all(p.read_text().lstrip().startswith(("<svg", "<!DOCTYPE")) for p in paths)
    with pytest.raises(KeyError, match="has forward, dW"):
        e["routing"]
    with pytest.raises(ValueError, match="max_frames"):
        viz.explain(y, root=loss, max_frames=0)


# ---- explain_entry ----------------------------------------------------------------------------

def small_cnn(rng):
    tc.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(2, 3, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(),
                          nn.Linear(3 * 3 * 3, 4)).double()
    x = Tensor(rng.standard_normal((2, 2, 5, 5)), requires_grad=True)
    loss = F.cross_entropy(model(x), Tensor(np.array([1, 3])))
    loss.backward(retain_graph=True)
    return model, x, loss


@pytest.mark.parametrize("which, index", [("conv.weight", (1, 0, 2, 1)), ("x", (1, 1, 2, 3)),
                                          ("conv.bias", (2,)), ("linear.weight", (3, 7)),
                                          ("linear.bias", (0,))])
def test_explain_entry_sum_equals_grad_and_finite_difference(which, index, rng):
    model, x, loss = small_cnn(rng)
    leaf = {"conv.weight": model[0].weight, "x": x, "conv.bias": model[0].bias,
            "linear.weight": model[3].weight, "linear.bias": model[3].bias}[which]
    e = viz.explain_entry(leaf.grad, index, root=loss)
    assert e.grad == leaf.grad.data[index]
    assert e.total == pytest.approx(e.grad, rel=1e-10, abs=1e-12)
    assert e.fd == pytest.approx(e.grad, rel=1e-6, abs=1e-9)
    for c in e.contributions:
        assert c.value == pytest.approx(c.engine, rel=1e-10, abs=1e-12)   # the VJP's own share
    text = str(e)
    assert "finite difference" in text and "agrees" in text
    assert "<table>" in e._repr_html_()


def test_explain_entry_writes_the_conv_weight_sum_out(rng):
    model, x, loss = small_cnn(rng)
    e = viz.explain_entry(model[0].weight, (0, 1, 1, 1), root=loss)
    assert e.name == "Conv2d.weight"
    (c,) = e.contributions
    assert c.formula.startswith("dW[0, 1, 1, 1] = Σ_n,i,j X[n, 1, i·2 + 1·1 − 1")
    dy = c.terms[0][3]
    n, ch, h, w = map(int, re.findall(r"\d+", c.terms[0][0]))
    assert c.terms[0][1] == x.data[n, ch, h, w] and isinstance(dy, float)
    assert len(c.terms) == 2 * 3 * 3                   # every (n, i, j) reads inside X here


def test_explain_entry_flags_accumulated_grad_and_refuses(rng):
    model, x, loss = small_cnn(rng)
    loss.backward(retain_graph=True)                   # .grad now holds twice the gradient
    assert "DIFFERS" in str(viz.explain_entry(x, (0, 0, 0, 0), root=loss))
    with pytest.raises(ValueError, match="leaf of root's graph"):
        viz.explain_entry(Tensor(np.ones(3)), (0,), root=loss)
    with pytest.raises(ValueError, match="not an entry"):
        viz.explain_entry(x, (0, 0, 9, 0), root=loss)


def test_explain_entry_in_float32_uses_a_float64_replay():
    rng = np.random.default_rng(3)
    w = Tensor(rng.standard_normal((2, 1, 3, 3)).astype(np.float32), requires_grad=True)
    x = Tensor(rng.standard_normal((1, 1, 6, 6)).astype(np.float32))
    loss = F.max_pool2d(F.relu(F.conv2d(x, w, padding=1)), 2).sum()
    loss.backward(retain_graph=True)
    e = viz.explain_entry(w, (1, 0, 0, 2), root=loss)
    assert e.fd == pytest.approx(e.grad, rel=1e-4, abs=1e-5)


# ---- gradient norms ---------------------------------------------------------------------------

def test_gradient_norms_records_each_layer(tmp_path, rng):
    pytest.importorskip("matplotlib")
    tc.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.Sigmoid(), nn.Linear(3, 2))
    norms = viz.GradientNorms(model)
    assert list(norms.history) == ["0: Linear", "2: Linear"]
    assert np.isnan(norms.record()["0: Linear"])       # no backward yet
    for _ in range(3):
        model.zero_grad()
        F.cross_entropy(model(Tensor(rng.standard_normal((5, 4)).astype(np.float32))),
                        Tensor(np.array([0, 1, 1, 0, 1]))).backward()
        now = norms.record()
    expected = np.sqrt((model[2].weight.grad.data.astype(float) ** 2).sum()
                       + (model[2].bias.grad.data.astype(float) ** 2).sum())
    assert now["2: Linear"] == pytest.approx(expected) and norms.steps == 4
    first = norms.plot(tmp_path / "a.svg")
    norms.plot(tmp_path / "b.svg")
    assert (tmp_path / "a.svg").read_text() == (tmp_path / "b.svg").read_text()   # deterministic
    assert "0: Linear" in (tmp_path / "a.svg").read_text()
    assert first.axes[0].get_yscale() == "log"
    with pytest.raises(ValueError, match="GradientNorms"):
        viz.GradientNorms([])


# ---- the example and the gallery --------------------------------------------------------------

def test_example_draws_the_seed_articles_examples(tmp_path):
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "explain_conv_backward.py"),
                             "--quick", "--out", str(tmp_path)], capture_output=True, text=True,
                            timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "a + 2b + 3c + 6d + 7e + 8f + 11g + 12h + 13i = 411" in result.stdout
    assert "X_col is 4 x 25" in result.stdout and "(agrees)" in result.stdout
    for path in ("sobel/forward.svg", "sobel/dX.html", "stride2/dX.svg", "im2col/im2col.svg",
                 "digits/conv_dW.html", "digits/pool_routing.svg", "digits/relu_mask.svg",
                 "gradient_norms.svg"):
        assert (tmp_path / path).exists(), path


@pytest.fixture(scope="module")
def gallery():
    spec = importlib.util.spec_from_file_location("make_explain_figures",
                                                  ROOT / "viz" / "make_explain_figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gallery_committed_seed_figures_are_current_and_check_finds_stale(gallery, tmp_path):
    names = ["explain_sobel_forward", "explain_sobel_dw", "explain_stride2_dx", "explain_im2col"]
    assert gallery.check(names, gallery.FIGURES_DIR) == []
    gallery.write(names[:2], tmp_path)
    path = tmp_path / "explain_sobel_dw.svg"
    path.write_text(path.read_text().replace(">411<", ">412<"))
    (problem,) = gallery.check(names[:2], tmp_path)
    assert problem.startswith("explain_sobel_dw.svg is stale")
    assert gallery.main(["--check", "--out", str(tmp_path), *names[:2]]) == 1
