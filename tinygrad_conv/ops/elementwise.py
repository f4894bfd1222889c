"""Elementwise arithmetic and activations, with numpy broadcasting, plus matmul.

For a broadcast binary op z = f(x, y), each VJP sums the gradient back to the input's own shape
(`sum_to`): an entry that was broadcast was used many times, so its gradient is the sum. A
gradient for an input that does not require one (a constant) is not computed.
"""
import numpy as np

from ..autograd import Tensor, primitive
from ..kernels import select
from .shape import permute, sum_to


@primitive(reads="shapes")
def add(x, y):
    """z = x + y"""
    return x + y


@add.defvjp
def add_vjp(dy, x, y):
    return (sum_to(dy, x.shape) if x.requires_grad else None,
            sum_to(dy, y.shape) if y.requires_grad else None)


@primitive(reads="shapes")
def sub(x, y):
    """z = x - y"""
    return x - y


@sub.defvjp
def sub_vjp(dy, x, y):
    return (sum_to(dy, x.shape) if x.requires_grad else None,
            sum_to(neg(dy), y.shape) if y.requires_grad else None)


@primitive(reads="others")
def mul(x, y):
    """z = x * y"""
    return x * y


@mul.defvjp
def mul_vjp(dy, x, y):
    return (sum_to(dy * y, x.shape) if x.requires_grad else None,
            sum_to(dy * x, y.shape) if y.requires_grad else None)


@primitive
def div(x, y):
    """z = x / y"""
    return x / y


@div.defvjp
def div_vjp(dy, x, y):
    # dz/dx = 1/y,  dz/dy = -x/y^2
    return (sum_to(dy / y, x.shape) if x.requires_grad else None,
            sum_to(neg(dy * x / (y * y)), y.shape) if y.requires_grad else None)


@primitive(reads="shapes")
def neg(x):
    """y = -x"""
    return -x


@neg.defvjp
def neg_vjp(dy, x):
    return neg(dy)


@primitive
def power(x, *, exponent):
    """y = x ** p for a constant exponent p"""
    return x ** np.asarray(exponent, dtype=x.dtype)


@power.defvjp
def power_vjp(dy, x, *, exponent):
    # d(x^p)/dx = p x^(p-1); for p = 0 the constant 1 has slope 0 everywhere, even at x = 0
    # where 0 * x^(-1) would be 0 * inf = nan (PyTorch's choice too)
    if exponent == 0:
        return dy * 0
    return dy * exponent * power(x, exponent=exponent - 1)


@primitive
def pow(x, y):
    """z = x ** y elementwise (broadcast); integer data with a negative exponent gives 0 unless
    |x| = 1, as PyTorch's integer power."""
    if x.dtype.kind in "iu" and (y < 0).any():
        z = np.power(x, np.abs(y))
        return np.where((y < 0) & (np.abs(x) != 1), np.zeros((), x.dtype), z)
    return np.power(x, y)


@pow.defvjp
def pow_vjp(dy, x, y):
    # dz/dx = y x^(y-1), taken as 0 where y = 0 (z = 1 is flat there, even at x = 0);
    # dz/dy = x^y ln x, taken as 0 where x = 0 and y >= 0 (z = 0^y is 0 or 1 there: flat)
    zero = Tensor(np.zeros((), dtype=dy.dtype))
    dx = dyy = None
    if x.requires_grad:
        dx = sum_to(where(Tensor(y.data == 0), zero, dy * y * pow(x, y - 1)), x.shape)
    if y.requires_grad:
        with np.errstate(invalid="ignore", divide="ignore"):   # ln x of x <= 0: nan, as PyTorch
            slope = pow(x, y) * log(x)
        flat = Tensor((x.data == 0) & (y.data >= 0))
        dyy = sum_to(dy * where(flat, zero, slope), y.shape)
    return dx, dyy


@primitive
def where(condition, x, y):
    """z = x where condition else y (all three broadcast together); condition is boolean."""
    return select(condition, x, y)


@where.defvjp
def where_vjp(dy, condition, x, y):
    # each output entry came from x or from y: its gradient goes there, the other gets 0
    zero = Tensor(np.zeros((), dtype=dy.dtype))
    return (None,
            sum_to(where(condition, dy, zero), x.shape) if x.requires_grad else None,
            sum_to(where(condition, zero, dy), y.shape) if y.requires_grad else None)


@primitive
def exp(x):
    """y = e^x"""
    return np.exp(x)


@exp.defvjp
def exp_vjp(dy, x):
    # d(e^x)/dx = e^x (recomputed from x, so a second derivative sees it as a function of x)
    return dy * exp(x)


@primitive
def log(x):
    """y = ln x"""
    return np.log(x)


@log.defvjp
def log_vjp(dy, x):
    return dy / x


@primitive
def sin(x):
    """y = sin x"""
    return np.sin(x)


@sin.defvjp
def sin_vjp(dy, x):
    return dy * cos(x)


@primitive
def cos(x):
    """y = cos x"""
    return np.cos(x)


@cos.defvjp
def cos_vjp(dy, x):
    # d cos(x)/dx = -sin x
    return neg(dy * sin(x))


@primitive
def sqrt(x):
    """y = sqrt(x)"""
    return np.sqrt(x)


@sqrt.defvjp
def sqrt_vjp(dy, x):
    # d sqrt(x)/dx = 1 / (2 sqrt(x))
    return dy / (sqrt(x) * 2)


@primitive
def tanh(x):
    """y = tanh x"""
    return np.tanh(x)


@tanh.defvjp
def tanh_vjp(dy, x):
    # d tanh(x)/dx = 1 - tanh(x)^2
    t = tanh(x)
    return dy * (1 - t * t)


@primitive
def sigmoid(x):
    """y = 1 / (1 + e^-x)"""
    out = np.empty_like(x)
    pos = x >= 0                        # two branches so that e^(-x) never overflows
    out[pos] = 1 / (1 + np.exp(-x[pos]))
    ex = np.exp(x[~pos])
    out[~pos] = ex / (1 + ex)
    return out


@sigmoid.defvjp
def sigmoid_vjp(dy, x):
    # d sigma(x)/dx = sigma(x) (1 - sigma(x))
    s = sigmoid(x)
    return dy * s * (1 - s)


@primitive
def relu(x):
    """y = max(x, 0)"""
    return np.maximum(x, 0)


@relu.defvjp
def relu_vjp(dy, x):
    # slope 1 where x > 0, else 0 (PyTorch's choice at x = 0). As PyTorch, dY itself where
    # x <= 0 fails (x > 0, or x NaN) and an exact 0 elsewhere: dY * [x > 0] would make an Inf or
    # NaN of dY NaN where x <= 0 (Inf * 0), and block the gradient of a NaN x.
    return where(Tensor(x.data <= 0), Tensor(np.zeros((), dtype=dy.dtype)), dy)


@primitive
def absolute(x):
    """y = |x|"""
    return np.abs(x)


@absolute.defvjp
def absolute_vjp(dy, x):
    # slope sign(x), 0 at x = 0 and at a nan x (as PyTorch's sgn)
    slope = np.sign(x.data)
    if slope.dtype.kind == "f":
        slope[np.isnan(slope)] = 0
    return dy * Tensor(slope)


@primitive(reads="shapes")
def cast(x, *, dtype):
    """y = x converted to `dtype`"""
    return x.astype(dtype)


@cast.defvjp
def cast_vjp(dy, x, *, dtype):
    return cast(dy, dtype=x.dtype)


@primitive(reads="others")
def matmul(x, y):
    """z[..., i, k] = sum_j x[..., i, j] y[..., j, k]   (batch axes broadcast)

    x: (..., M, J), y: (..., J, K) -> (..., M, K)
    """
    return x @ y


@matmul.defvjp
def matmul_vjp(dy, x, y):
    # [M,K] [K,J] -> [M,J]  and  [J,M] [M,K] -> [J,K]; batch axes that broadcast are summed
    return (sum_to(matmul(dy, _swap_last(y)), x.shape) if x.requires_grad else None,
            sum_to(matmul(_swap_last(x), dy), y.shape) if y.requires_grad else None)


def _swap_last(x):
    dims = list(range(x.ndim))
    dims[-2:] = dims[-1], dims[-2]
    return permute(x, dims=tuple(dims))

