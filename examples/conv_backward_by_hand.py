"""The backward pass of a convolution, worked by hand and checked against the framework.

    python examples/conv_backward_by_hand.py

For y = x ⋆ w (cross-correlation, as in every CNN library) and an upstream gradient dY = dL/dy:
  1. the forward pass on the 5x5 image x = 1..25 with a Sobel-like filter: every output is -8;
  2. dW = x ⋆ dY: each weight collects x * dY over every window it touched (a table for dW[0,0]);
  3. dX = the full convolution of dY with w: pad dY with K-1 zeros and correlate with w rotated
     by 180 degrees;
  4. with stride 2, dY is first dilated with zeros (one zero between entries), then the same
     two rules apply;
  5. the im2col view: the windows of a padded 4x4 image as the columns of a 4x25 matrix, so the
     convolution is one matrix product and both gradients are matrix products too.
Every hand result is computed with plain loops over numpy arrays and asserted equal to the
gradient that loss.backward() produces.
"""
from __future__ import annotations

import numpy as np

import tinygrad_conv as tc
from tinygrad_conv import functional as F
from tinygrad_conv.kernels import pad_nd, window_view

SOBEL = np.array([[1, 0, -1],
                  [2, 0, -2],
                  [1, 0, -1]], dtype=np.float64)


def correlate(image: np.ndarray, kernel: np.ndarray, stride: int = 1) -> np.ndarray:
    """out[i, j] = sum_{a, b} image[i*stride + a, j*stride + b] * kernel[a, b], as explicit loops."""
    KH, KW = kernel.shape
    OH = (image.shape[0] - KH) // stride + 1
    OW = (image.shape[1] - KW) // stride + 1
    out = np.zeros((OH, OW))
    for i in range(OH):
        for j in range(OW):
            for a in range(KH):
                for b in range(KW):
                    out[i, j] += image[i * stride + a, j * stride + b] * kernel[a, b]
    return out


def dilate(grad: np.ndarray, stride: int) -> np.ndarray:
    """Put stride-1 zeros between entries: out[i*stride, j*stride] = grad[i, j]."""
    H, W = grad.shape
    out = np.zeros(((H - 1) * stride + 1, (W - 1) * stride + 1))
    out[::stride, ::stride] = grad
    return out


def zero_pad(a: np.ndarray, width: int) -> np.ndarray:
    return np.pad(a, width)


def show(title: str, array: np.ndarray) -> None:
    """Print a 1-D or 2-D array as a right-aligned table under its title."""
    rows = np.atleast_2d(array)
    cells = [[f"{v:g}" for v in row] for row in rows]
    width = max(len(c) for row in cells for c in row)
    print(f"{title}:")
    for row in cells:
        print("    " + " ".join(c.rjust(width) for c in row))


def check(name: str, by_hand: np.ndarray, framework: tc.Tensor, source: str) -> None:
    np.testing.assert_array_equal(by_hand, framework.data, err_msg=f"{name} by hand != {source}")
    print(f"    == {source} from the framework  ✓\n")


def framework_conv(x: np.ndarray, w: np.ndarray, dy: np.ndarray, stride: int = 1, padding: int = 0):
    """y = conv2d(x, w) on (1, 1, H, W) tensors, then backward with dY = dy; returns (y, dx, dw)."""
    xt = tc.Tensor(x[None, None], requires_grad=True, dtype=np.float64)
    wt = tc.Tensor(w[None, None], requires_grad=True, dtype=np.float64)
    y = F.conv2d(xt, wt, stride=stride, padding=padding)
    y.backward(dy[None, None].astype(np.float64))
    return y[0, 0], xt.grad[0, 0], wt.grad[0, 0]


def forward_and_dw(x: np.ndarray, dy: np.ndarray) -> None:
    print("1. Forward: y = x ⋆ w\n")
    show("x (5x5, the numbers 1..25)", x)
    show("w (Sobel-like: left column minus right column, weighted 1, 2, 1)", SOBEL)
    y = correlate(x, SOBEL)
    # each window holds x[i, j] - x[i, j+2] = -2 in every row, weighted 1 + 2 + 1 = 4
    show("y = x ⋆ w (every window: (1 + 2 + 1) * (-2) = -8)", y)
    y_fw, dx_fw, dw_fw = framework_conv(x, SOBEL, dy)
    check("y", y, y_fw, "y")

    print("2. Weight gradient: dW = x ⋆ dY\n")
    show("dY = dL/dy (a chosen upstream gradient)", dy)
    print("w[0, 0] multiplies x[i, j] in the window at output (i, j), so")
    print("dW[0, 0] = sum over outputs (i, j) of x[i, j] * dY[i, j]:\n")
    print("    output (i, j)   x[i, j]   dY[i, j]   x * dY")
    total = 0.0
    for i in range(dy.shape[0]):
        for j in range(dy.shape[1]):
            term = x[i, j] * dy[i, j]
            total += term
            print(f"    ({i}, {j})          {x[i, j]:>5g}     {dy[i, j]:>5g}     {term:>6g}")
    print(f"    {'sum':<15} {'':>5}     {'':>5}     {total:>6g}\n")
    dw = correlate(x, dy)
    assert dw[0, 0] == total
    show("dW = x ⋆ dY (each entry is such a sum, the window shifted by the weight's offset)", dw)
    check("dW", dw, dw_fw, "w.grad")

    print("3. Input gradient: dX = full convolution of dY with w\n")
    print("x[r, c] met w[a, b] in the window at output (r - a, c - b), so dX[r, c] = sum over")
    print("(a, b) of dY[r - a, c - b] * w[a, b]: pad dY with K - 1 = 2 zeros on every side and")
    print("correlate with w rotated by 180 degrees.\n")
    padded = zero_pad(dy, 2)
    flipped = SOBEL[::-1, ::-1]
    show("dY zero-padded by 2 (7x7)", padded)
    show("w rotated by 180 degrees", flipped)
    dx = correlate(padded, flipped)
    show("dX = pad(dY) ⋆ rot180(w) (5x5, the shape of x)", dx)
    check("dX", dx, dx_fw, "x.grad")


def strided(x: np.ndarray, dy: np.ndarray) -> None:
    print("4. Stride 2: dilate dY with zeros first\n")
    y = correlate(x, SOBEL, stride=2)
    show("y = x ⋆ w with stride 2 (windows at rows and columns 0 and 2)", y)
    y_fw, dx_fw, dw_fw = framework_conv(x, SOBEL, dy, stride=2)
    check("y", y, y_fw, "y")
    show("dY (2x2)", dy)
    dilated = dilate(dy, 2)
    print("With stride 2 the windows start two pixels apart. Putting one zero between the")
    print("entries of dY puts each gradient at the pixel where its window started; the windows")
    print("that were skipped get zero.\n")
    show("dY dilated (3x3)", dilated)
    dw = correlate(x, dilated)
    show("dW = x ⋆ dilate(dY)", dw)
    check("dW", dw, dw_fw, "w.grad")
    padded = zero_pad(dilated, 2)
    show("dilate(dY) zero-padded by 2 (7x7)", padded)
    dx = correlate(padded, SOBEL[::-1, ::-1])
    show("dX = pad(dilate(dY)) ⋆ rot180(w)", dx)
    check("dX", dx, dx_fw, "x.grad")


def im2col() -> None:
    print("5. The im2col view: a convolution is one matrix product\n")
    x = np.arange(16, dtype=np.float64).reshape(4, 4)
    w = np.array([[1, 2], [3, 4]], dtype=np.float64)
    show("x (4x4, the numbers 0..15)", x)
    padded = zero_pad(x, 1)
    show("x zero-padded by 1 (6x6)", padded)
    # window_view is the strided view the framework's conv2d multiplies: no copy of the image
    windows = window_view(pad_nd(x[None, None], ((1, 1), (1, 1))), (2, 2), (1, 1), (1, 1))
    columns = windows.reshape(25, 4).T            # column k = the 2x2 window at output k, flattened
    show("columns (4x25): column i*5 + j is the 2x2 window at output (i, j); row a*2 + b holds\n"
         "the pixels that w[a, b] multiplies", columns)
    assert all(np.array_equal(columns[:, i * 5 + j], padded[i:i + 2, j:j + 2].ravel())
               for i in range(5) for j in range(5))
    show("w flattened (1x4)", w.ravel())
    y = (w.ravel() @ columns).reshape(5, 5)
    show("y = w_flat @ columns, reshaped to 5x5", y)
    dy = np.arange(25, dtype=np.float64).reshape(5, 5) % 3 - 1      # a pattern of -1, 0, 1
    y_fw, dx_fw, dw_fw = framework_conv(x, w, dy, padding=1)
    check("y", y, y_fw, "conv2d(x, w, padding=1)")
    print("Backward of a matrix product y = w_flat @ columns:")
    show("dY (5x5, a chosen upstream gradient)", dy)
    dw = (columns @ dy.ravel()).reshape(2, 2)
    show("dW = columns @ dY_flat (each weight: its row of columns times dY)", dw)
    check("dW", dw, dw_fw, "w.grad")
    # d columns = w_flat^T dY_flat; col2im adds every window's share back onto its pixels
    dcolumns = np.outer(w.ravel(), dy.ravel())
    dpadded = np.zeros((6, 6))
    for k in range(25):
        i, j = divmod(k, 5)
        dpadded[i:i + 2, j:j + 2] += dcolumns[:, k].reshape(2, 2)
    dx = dpadded[1:-1, 1:-1]
    show("dX = col2im(w_flat^T @ dY_flat), the padding cropped off", dx)
    check("dX", dx, dx_fw, "x.grad")


def main() -> None:
    x = np.arange(1, 26, dtype=np.float64).reshape(5, 5)
    forward_and_dw(x, dy=np.arange(1, 10, dtype=np.float64).reshape(3, 3))
    strided(x, dy=np.array([[1, 2], [3, 4]], dtype=np.float64))
    im2col()
    print("All hand derivations equal the framework's gradients.")


if __name__ == "__main__":
    main()
