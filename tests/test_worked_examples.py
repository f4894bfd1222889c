"""The classic worked examples of convolution and its backward pass, checked against the framework."""
import numpy as np

import tinygrad_conv.functional as F
from tinygrad_conv import Tensor
from tinygrad_conv.kernels import window_view, pad_nd

SOBEL = np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])


def test_ramp_image_under_sobel_filter_is_minus_eight_everywhere():
    x = np.arange(1.0, 26).reshape(1, 1, 5, 5)
    y = F.conv2d(Tensor(x), Tensor(SOBEL.reshape(1, 1, 3, 3)))
    np.testing.assert_array_equal(y.data, np.full((1, 1, 3, 3), -8.0))


def test_padded_4x4_input_under_2x2_filter_has_25_window_positions():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    windows = window_view(pad_nd(x, ((1, 1), (1, 1))), (2, 2), (1, 1), (1, 1))
    assert windows.shape[2] * windows.shape[3] == 25
    im2col = windows.reshape(25, 4).T                   # the 4 x 25 matrix of the im2col view
    assert im2col.shape == (4, 25)
    np.testing.assert_array_equal(im2col[:, 0], [0, 0, 0, 0])     # the top-left window is all padding
    np.testing.assert_array_equal(im2col[:, 6], [0, 1, 4, 5])     # the window at (1, 1)
    y = F.conv2d(Tensor(x), Tensor(np.ones((1, 1, 2, 2))), padding=1)
    np.testing.assert_array_equal(y.data.ravel(), im2col.sum(axis=0))


def test_dw00_is_the_sum_of_the_inputs_each_dy_entry_saw():
    """dW[0,0] = a + 2b + 3c + 6d + 7e + 8f + 11g + 12h + 13i for X = 1..25 and dY = a..i."""
    x = Tensor(np.arange(1.0, 26).reshape(1, 1, 5, 5))
    w = Tensor(SOBEL.reshape(1, 1, 3, 3), requires_grad=True)
    a, b, c, d, e, f, g, h, i = dy = np.array([2.0, 3, 5, 7, 11, 13, 17, 19, 23])   # distinct primes
    F.conv2d(x, w).backward(dy.reshape(1, 1, 3, 3))
    assert w.grad.data[0, 0, 0, 0] == a + 2 * b + 3 * c + 6 * d + 7 * e + 8 * f + 11 * g + 12 * h + 13 * i


def test_dx_is_the_full_convolution_of_dy_with_the_flipped_filter():
    x = Tensor(np.arange(1.0, 26).reshape(1, 1, 5, 5), requires_grad=True)
    dy = np.arange(1.0, 10).reshape(1, 1, 3, 3)
    F.conv2d(x, Tensor(SOBEL.reshape(1, 1, 3, 3))).backward(dy)
    padded = np.pad(dy[0, 0], 2)
    rotated = SOBEL[::-1, ::-1]
    full = np.array([[np.sum(padded[r:r + 3, q:q + 3] * rotated) for q in range(5)] for r in range(5)])
    np.testing.assert_array_equal(x.grad.data[0, 0], full)


def test_stride_two_dilates_dy_with_zeros_first():
    x = Tensor(np.arange(1.0, 26).reshape(1, 1, 5, 5), requires_grad=True)
    dy = np.array([[1.0, 2], [3, 4]])
    F.conv2d(x, Tensor(SOBEL.reshape(1, 1, 3, 3)), stride=2).backward(dy.reshape(1, 1, 2, 2))
    dilated = np.zeros((3, 3))
    dilated[::2, ::2] = dy
    padded = np.pad(dilated, 2)
    full = np.array([[np.sum(padded[r:r + 3, q:q + 3] * SOBEL[::-1, ::-1]) for q in range(5)]
                     for r in range(5)])
    np.testing.assert_array_equal(x.grad.data[0, 0], full)
