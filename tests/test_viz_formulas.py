"""What a conv2d node says about its VJP is true: the recipe written on the node (dilate dY by the
stride, pad or crop it as written, correlate with rot180(W), C and F swapped, dilated as written;
dW as X padded or cropped as written, correlated with the dilated dY) is parsed back from the
label, evaluated with scipy.signal.correlate2d, and compared with the engine's gradients."""
import re

import numpy as np
import pytest

import tinygrad_conv.functional as F
from tinygrad_conv import Tensor, viz

from dot_text import label_of

signal = pytest.importorskip("scipy.signal")


def conv_label(x, w, **conv_args):
    y = F.conv2d(x, w, **conv_args)
    dy = np.random.default_rng(1).standard_normal(y.shape)
    y.backward(dy, retain_graph=True)
    return label_of(viz.draw(y, formulas=True).source, "op0"), dy


def pair(text: str, name: str, default=(1, 1)) -> tuple[int, int]:
    """dilate_2 / dilate_(2,3) style amounts, or '<name> (a,b)'."""
    match = re.search(rf"{name}_(\d+)\(", text) or re.search(rf"{name}_\((\d+),(\d+)\)\(", text)
    if match is None:
        match = re.search(rf"{name} \((\d+),(\d+)\)", text)
    if match is None:
        return default
    values = tuple(int(v) for v in match.groups())
    return values * 2 if len(values) == 1 else values


def amounts(line: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """The net (before, after) per axis written as 'pad rows (a,b), cols (c,d), crop rows (...)':
    what is padded minus what is cropped."""
    net = {"rows": [0, 0], "cols": [0, 0]}
    for word, sign in (("pad", 1), ("crop", -1)):
        match = re.search(rf"\b{word} ((?:(?:rows|cols) \(\d+,\d+\)(?:, )?)+)", line)
        if match:
            for axis, b, a in re.findall(r"(rows|cols) \((\d+),(\d+)\)", match.group(1)):
                net[axis][0] += sign * int(b)
                net[axis][1] += sign * int(a)
    return tuple(net["rows"]), tuple(net["cols"])


def pad_or_crop(a: np.ndarray, widths) -> np.ndarray:
    """np.pad of the last two axes, negative widths cropping."""
    (t, b), (l, r) = widths
    a = np.pad(a, ((0, 0),) * (a.ndim - 2) + ((max(t, 0), max(b, 0)), (max(l, 0), max(r, 0))))
    h, w = a.shape[-2:]
    return a[..., max(-t, 0):h - max(-b, 0), max(-l, 0):w - max(-r, 0)]


def dilate(a: np.ndarray, step) -> np.ndarray:
    """Zeros between the entries of the last two axes: (n - 1) * step + 1 long."""
    h, w = a.shape[-2:]
    out = np.zeros(a.shape[:-2] + ((h - 1) * step[0] + 1, (w - 1) * step[1] + 1))
    out[..., ::step[0], ::step[1]] = a
    return out


def line_of(label: str, start: str) -> str:
    (found,) = [line for line in label.split("\n") if line.startswith(start)]
    return found


def dx_from_label(label: str, dy: np.ndarray, w: np.ndarray, groups: int) -> np.ndarray:
    recipe = line_of(label, "dX = ")
    assert "⋆ rot180(W) = " in recipe and "∗ W" in recipe   # pad(dilate_s(dY)) ⋆ rot180(W) = ... ∗ W
    stride = pair(recipe, "dilate")
    lines = label.split("\n")
    pads = amounts(lines[lines.index(recipe) + 1])
    rot = line_of(label, "rot180(W): ")
    assert "turned by 180°, C and F swapped" in rot
    kernel_dilation = pair(rot, "dilated by")
    moved = pad_or_crop(dilate(dy, stride), pads)
    F_, Cg = w.shape[:2]
    turned = dilate(w[:, :, ::-1, ::-1], kernel_dilation)    # rot180, then the kernel dilation
    N = dy.shape[0]
    out = []
    for n in range(N):
        channels = []
        for g in range(groups):
            for c in range(Cg):                               # C and F swapped within the group
                filters = range(g * F_ // groups, (g + 1) * F_ // groups)
                channels.append(sum(signal.correlate2d(moved[n, f], turned[f, c], mode="valid")
                                    for f in filters))
        out.append(channels)
    return np.array(out)


def dw_from_label(label: str, x: np.ndarray, dy: np.ndarray, groups: int,
                  kernel: tuple[int, int]) -> np.ndarray:
    assert line_of(label, "dW = ").startswith("dW = X ⋆ dY")
    x_line = [line for line in label.split("\n") if line.startswith("X: ")]
    pads = amounts(x_line[0]) if x_line else ((0, 0), (0, 0))
    stride_line = [line for line in label.split("\n") if line.startswith("dY is the kernel")]
    stride = pair(stride_line[0], "by the stride") if stride_line else (1, 1)
    step_line = [line for line in label.split("\n") if line.startswith("its stride is")]
    step = pair(step_line[0], "kernel dilation") if step_line else (1, 1)
    xp = pad_or_crop(x, pads)
    kernel_of_dy = dilate(dy, stride)
    N, C = x.shape[:2]
    F_ = dy.shape[1]
    Cg = C // groups
    dw = np.zeros((F_, Cg) + kernel)
    for f in range(F_):
        g = f // (F_ // groups)
        for c in range(Cg):
            full = sum(signal.correlate2d(xp[n, g * Cg + c], kernel_of_dy[n, f], mode="valid")
                       for n in range(N))
            dw[f, c] = full[::step[0], ::step[1]][:kernel[0], :kernel[1]]
            assert full[::step[0], ::step[1]].shape == kernel        # the written recipe fits
    return dw


CASES = [
    dict(size=7, kernel=3, stride=1, padding=0, dilation=1),
    dict(size=8, kernel=3, stride=2, padding=1, dilation=1),       # a remainder row: crop in dW
    dict(size=7, kernel=3, stride=2, padding=0, dilation=1),
    dict(size=9, kernel=2, stride=3, padding=0, dilation=1),       # stride > kernel, remainder
    dict(size=9, kernel=3, stride=1, padding=2, dilation=2),       # d(K-1) - p with dilation
    dict(size=10, kernel=3, stride=2, padding=(1, 2), dilation=(2, 1)),
    dict(size=6, kernel=3, stride=1, padding=3, dilation=1),       # padding > K - 1: dX crops
    dict(size=8, kernel=3, stride=(2, 1), padding=1, dilation=1, groups=2),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()))
def test_the_written_conv2d_recipe_gives_the_engines_gradients(case):
    case = dict(case)
    size, kernel, groups = case.pop("size"), case.pop("kernel"), case.get("groups", 1)
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((2, 2 * groups, size, size + 1)), requires_grad=True)
    w = Tensor(rng.standard_normal((2 * groups, 2, kernel, kernel)), requires_grad=True)
    label, dy = conv_label(x, w, **case)
    np.testing.assert_allclose(dx_from_label(label, dy, w.data, groups), x.grad.data, atol=1e-9)
    np.testing.assert_allclose(dw_from_label(label, x.data, dy, groups, (kernel, kernel)),
                               w.grad.data, atol=1e-9)


def test_dilation_pad_text_says_d_times_k_minus_one():
    x = Tensor(np.zeros((1, 1, 9, 9)), requires_grad=True)
    w = Tensor(np.zeros((1, 1, 3, 3)), requires_grad=True)
    label, _ = conv_label(x, w, padding=1, dilation=2)
    assert "pad rows (3,3), cols (3,3) = d(K−1) − padding" in label        # 2 * (3 - 1) - 1 = 3


def test_crops_are_called_crops_and_pairs_name_their_axes():
    x = Tensor(np.zeros((1, 1, 6, 6)), requires_grad=True)
    w = Tensor(np.zeros((1, 1, 3, 3)), requires_grad=True)
    label, _ = conv_label(x, w, padding=3)                              # K - 1 - p = -1
    assert "crop rows (1,1), cols (1,1) = K−1 − padding" in label
    assert not re.search(r"[(,][−-]\d", label)                          # no negative amounts
    label, _ = conv_label(x, w, stride=2)                               # p = 0, remainder 1
    assert "X: crop rows (0,1), cols (0,1)" in label
