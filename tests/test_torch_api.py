"""tinygrad_conv against PyTorch on the torch-style API: each case below is a few lines of
PyTorch code run twice, with `torch` bound to PyTorch and then to tinygrad_conv. The results
must agree: values, dtypes, requires_grad and gradients, and torch refuses <=> we refuse.
The few places where we knowingly differ are tested on their own at the end."""
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

import tinygrad_conv as tc  # noqa: E402


def _comparable(v):
    """A value in a form both libraries' results can be compared in."""
    if isinstance(v, torch.Tensor):
        return ("tensor", str(v.dtype).replace("torch.", ""),
                v.detach().numpy().tolist() if v.numel() < 50 else tuple(v.shape))
    if isinstance(v, tc.Tensor):
        return ("tensor", str(v.dtype), v.data.tolist() if v.data.size < 50 else tuple(v.shape))
    if isinstance(v, (tuple, list)):                  # named tuples (max's) as plain ones
        return (list if isinstance(v, list) else tuple)(_comparable(x) for x in v)
    if isinstance(v, torch.dtype):
        return str(v).replace("torch.", "")
    if isinstance(v, type) and issubclass(v, np.generic):
        return np.dtype(v).name
    if isinstance(v, np.dtype):
        return v.name
    if isinstance(v, np.ndarray):
        return ("array", v.dtype.name, v.tolist())
    if isinstance(v, (torch.device, tc.device)):
        return ("device", str(v))
    return v


def _run(code: str, library):
    env = {"torch": library, "np": np}
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(code, env)
        return _comparable(env.get("out"))
    except Exception as error:                        # the refusal is the result
        return ("refused", type(error).__name__, str(error).split("\n")[0])


def _agree(ours, theirs) -> bool:
    if isinstance(theirs, tuple) and theirs and theirs[0] == "refused":
        return isinstance(ours, tuple) and bool(ours) and ours[0] == "refused"
    if isinstance(theirs, (tuple, list)) and isinstance(ours, (tuple, list)):
        return len(ours) == len(theirs) and all(_agree(a, b) for a, b in zip(ours, theirs))
    if isinstance(theirs, float) and isinstance(ours, float):
        return bool(np.isclose(ours, theirs, rtol=1e-5, atol=1e-6, equal_nan=True))
    return ours == theirs


def _cases(text: str) -> list:
    return [c.strip("\n") for c in text.split("\n---\n") if c.strip()]

ARITHMETIC_AND_DTYPES = r"""
out = torch.tensor([1, 2]) * 2
---
out = torch.ones(2) * np.int64(2)
---
out = torch.ones(2) * np.float64(2)
---
out = np.float64(2) * torch.ones(2)
---
out = np.int64(3) * torch.ones(2)
---
out = torch.tensor([1,2]) * 2.5
---
out = torch.tensor([1,2]) / torch.tensor([2,2])
---
out = torch.tensor([1,2]) // 2
---
out = torch.tensor([-3., 3.]) % 2
---
out = torch.tensor([-3, 3]) % 2
---
out = torch.ones(2) * torch.tensor(2., dtype=torch.float64)
---
out = torch.tensor([1,2]) * torch.tensor(2., dtype=torch.float64)
---
out = torch.tensor([True]) + 1
---
out = torch.tensor([True]) * 1.5
---
out = torch.tensor([True]) + torch.tensor([True])
---
out = torch.tensor([1,2]) ** 2
---
out = torch.tensor([4]) ** 0.5
---
out = torch.tensor([1,2]) ** -1
---
out = torch.tensor([1,2, -1]) ** torch.tensor(-1)
---
out = 2 ** torch.tensor([1,2])
---
out = 2.5 ** torch.tensor([1,2])
---
out = torch.tensor([-2., 3.]) ** torch.tensor(2.)
---
out = torch.tensor([-2., 3.]) ** np.int64(3)
---
out = torch.tensor([-2., 3.]) ** np.float32(2)
---
out = torch.tensor([2]) ** torch.tensor([0.5])
---
out = torch.tensor([-2., 3.]) ** torch.tensor([[2.]])
---
x = torch.tensor([1, 2]); x += 1.5; out = x
---
x = torch.tensor([1, 2]); x += torch.ones(2); out = x
---
x = torch.ones(2); x += torch.ones(2, dtype=torch.float64); out = x
---
x = torch.tensor([True]); x += 1; out = x
---
x = torch.ones(2); x += torch.ones(2, 2); out = x
---
out = torch.sigmoid(torch.tensor([1, 2]))
---
out = torch.exp(torch.tensor([1, 2]))
---
out = torch.sqrt(torch.tensor([1, 2]))
---
out = torch.tanh(torch.tensor([1, 2]))
---
out = torch.relu(torch.tensor([-1, 2]))
---
out = torch.abs(torch.tensor([-1, 2]))
---
out = torch.sin(torch.tensor([1, 2]))
---
out = -torch.tensor([True])
---
out = torch.tensor([1, 2]).clamp(0.5)
---
out = torch.tensor([1, 2]).clamp(min=1)
---
out = torch.tensor([1., 2.]).clamp(min=float('nan'))
---
out = torch.tensor([1., float('nan')]).clamp(0, 1)
---
out = torch.tensor([1., 2.]).clamp()
---
out = torch.tensor([1., 2., 3.]).clamp(2.5, 1.5)
---
out = torch.tensor([1., 2., 3.]).clamp(torch.tensor([2., 2., 2.]), 2.5)
---
out = torch.ones(2) == 1
---
out = torch.tensor([0.1]) == 0.1
---
out = torch.tensor([0.1]) == np.float64(0.1)
---
out = torch.ones(2) == None
---
out = torch.ones(2) == "a"
---
out = torch.ones(2) < torch.ones(3)
---
out = torch.ones(2) + torch.ones(3)
---
out = torch.tensor([1, 2])
---
out = torch.tensor([1, 2.])
---
out = torch.tensor([True, False])
---
out = torch.tensor([True, 1])
---
out = torch.tensor('a')
---
out = torch.tensor(None)
---
out = torch.tensor([None])
---
out = torch.tensor(np.float64(2))
---
out = torch.tensor(np.int32(2))
---
out = torch.tensor(np.ones(2))
---
out = torch.tensor([np.float64(2), np.float64(3)])
---
out = torch.tensor([torch.tensor(1.), torch.tensor(2.)])
---
out = torch.tensor([[1, 2], [3]])
---
out = torch.tensor(np.matrix([[1, 2]]))
---
out = torch.tensor([])
---
out = torch.Tensor([1, 2])
---
out = torch.tensor(True)
---
out = torch.tensor(2.5)
---
out = torch.tensor(7)
---
out = torch.arange(5)
---
out = torch.arange(0, 1, .25)
---
out = torch.arange(5.)
---
out = torch.arange(np.int64(3))
---
out = torch.arange(torch.tensor(3))
---
out = torch.arange(0, 1, 0)
---
out = torch.arange(1, 0)
---
out = torch.arange(0, float('nan'))
---
out = torch.arange(0, 1, 0.1)
---
out = torch.arange(10, 0, -3)
---
out = torch.arange(-1.5, 2.5, 0.7)
---
out = torch.linspace(0, 1, 5)
---
out = torch.linspace(0, 10, 5, dtype=torch.int64)
---
out = torch.linspace(0, 1, 1)
---
out = torch.linspace(0, 1, 0)
---
out = torch.linspace(0, 1, -1)
---
out = torch.linspace(-3.3, 7.1, 11)
---
out = torch.linspace(0, 1, 7)
---
out = torch.full((2,), 3)
---
out = torch.full((2,), True)
---
out = torch.full((2,), 3.)
---
out = torch.full([2], 3.)
---
out = torch.full(2, 3.)
---
out = torch.zeros(2, 3).shape
---
out = torch.zeros((2, 3)).shape
---
out = torch.zeros([2, 3]).shape
---
out = torch.zeros(-1)
---
out = torch.zeros(2.0)
---
out = torch.zeros(2, dtype=torch.int64, requires_grad=True)
---
out = torch.zeros(2, dtype=torch.int64)
---
out = torch.ones(2, 2, dtype=torch.float64)
---
out = torch.eye(2, 3)
---
out = torch.eye(3)
---
out = torch.randint(10, (3,)).dtype
---
out = torch.randint(3, 10, (3,)).dtype
---
out = torch.randint(10, 3)
---
out = torch.randint(5, 5, (3,))
---
out = torch.randperm(4).dtype
---
out = torch.normal(0, 1, (2,)).dtype
---
out = torch.normal(0, -1, (2,))
---
out = torch.normal(0, float('nan'), (2,))
---
out = torch.normal(torch.zeros(2), torch.ones(2)).shape
---
out = torch.rand(2, dtype=torch.int64)
---
out = torch.randn(2, dtype=torch.int64)
---
out = torch.rand_like(torch.tensor([1, 2]))
---
out = torch.rand(3).dtype, torch.randn(2, 3).shape, torch.rand(2, dtype=torch.float64).dtype
---
out = torch.zeros_like(torch.tensor([1, 2])), torch.ones_like(torch.ones(2, dtype=torch.float64)), torch.full_like(torch.tensor([1, 2]), 7)
---
out = torch.get_default_dtype()
---
torch.set_default_dtype(torch.int64)
---
torch.set_default_dtype(torch.float64); out = torch.tensor([1.5]).dtype, torch.zeros(1).dtype, torch.arange(2.).dtype, (torch.tensor([1]) * 1.5).dtype; torch.set_default_dtype(torch.float32)
"""


REDUCTIONS_AND_PROTOCOLS = r"""
x = torch.tensor([[1., 5., 5.], [float('nan'), 2., float('nan')]]); out = tuple(x.max(1))
---
x = torch.tensor([[1., 5., 5.], [float('nan'), 2., float('nan')]]); r = x.max(dim=1, keepdim=True); out = (r.values, r.indices, r[0], len(r))
---
x = torch.tensor([[1., 5., 5.], [float('nan'), 2., float('nan')]]); out = tuple(x.min(1))
---
x = torch.tensor([[1., 5., 5.], [float('nan'), 2., float('nan')]]); out = x.max()
---
x = torch.tensor([[1., 5., 5.], [3, 2., 0]]); out = x.max(), x.min(), x.argmax(), x.argmin(), x.argmax(1), x.argmin(0, keepdim=True)
---
out = torch.max(torch.tensor([1.,4.]), torch.tensor([3.,2.]))
---
out = torch.max(torch.tensor([1.,4.]), 2)
---
out = torch.ones(0).max()
---
out = torch.ones(0, 3).max(0)
---
out = tuple(torch.ones(0, 3).max(1))
---
out = torch.ones(0).argmax()
---
out = torch.tensor([[1., 5.], [float('nan'), 2.]]).argmax(1)
---
out = torch.ones(0).sum(), torch.ones(0).mean(), torch.ones(0).prod()
---
out = torch.tensor([1, 2]).mean()
---
out = torch.tensor([1, 2]).sum(), torch.tensor([True, True]).sum(), torch.tensor([1, 2]).prod(), torch.tensor([1,2], dtype=torch.uint8).sum()
---
out = torch.tensor([1, 2]).std()
---
x = torch.tensor([1., 2, 4]); out = x.var(), x.var(unbiased=False), x.var(correction=0), x.std(), torch.std(x), torch.var(x, 0)
---
out = torch.tensor([1.]).var()
---
x = torch.tensor([[1., 2], [4, 5]]); out = x.var(0), x.var(0, False), x.std(dim=1, keepdim=True), x.var(False), torch.std(x, dim=(0, 1))
---
x = torch.tensor([[3., 4.]]); out = x.norm(), x.norm(dim=1), x.norm(p=1), x.norm(p=float('inf')), x.norm(p='fro'), x.norm(p=3), torch.norm(x), x.norm(2, 1, True), x.norm(p=0), x.norm(p=float('-inf'))
---
out = torch.tensor([[3, 4]]).norm()
---
out = bool(torch.ones(2))
---
out = bool(torch.ones(0))
---
out = bool(torch.Tensor([0.0])), bool(torch.tensor(1)), bool(torch.tensor([[2.]])), bool(torch.tensor(float('nan')))
---
out = float(torch.ones(2))
---
out = int(torch.ones(2))
---
out = int(torch.tensor([1.7])), int(torch.tensor(-1.7)), float(torch.tensor([[3]])), int(torch.tensor(True))
---
out = [1, 2, 3][torch.tensor(1.)]
---
out = [1, 2, 3][torch.tensor(1)], [1, 2, 3][torch.tensor([1])], [1,2,3][torch.tensor(True)]
---
out = [1, 2, 3][torch.tensor([1, 2])]
---
out = f"{torch.tensor(1.2345):.2f}", f"{torch.tensor(3):03d}", f"{torch.tensor(1.5)}", "{:.1%}".format(torch.tensor(0.25))
---
out = f"{torch.tensor([1.2345]):.2f}"
---
out = len(torch.tensor(1.))
---
out = list(torch.tensor(1.))
---
out = [t.tolist() for t in torch.tensor([[1, 2], [3, 4]])], len(torch.ones(3, 2))
---
a, b = torch.tensor(1.), torch.tensor(2.); out = a in [b, a], torch.tensor(2.) in [a, b], max([a, b]), sorted([b, a]), min([b, a]), sum([a, b])
---
out = torch.ones(2) in [torch.zeros(2)]
---
t = torch.ones(2); out = t in [t]
---
t = torch.ones(2); out = t in [torch.zeros(2), t]
---
out = 2 in torch.tensor([1, 2]), torch.tensor(2) in torch.tensor([1, 2]), 5 in torch.tensor([1, 2]), 2.0 in torch.tensor([1, 2])
---
out = "a" in torch.tensor([1, 2])
---
out = max(torch.tensor([3., 1., 2.])), abs(torch.tensor(-1.))
---
out = round(torch.tensor(1.26), 1)
---
out = ~torch.tensor([True, False]), torch.tensor([True, False]) & torch.tensor([True, True]), torch.tensor([True, False]) | torch.tensor([False, False]), torch.tensor([True]) ^ torch.tensor([True]), ~torch.tensor([1, 2])
---
out = ~torch.tensor([1.])
---
out = torch.tensor([-3.]) // 2, 7 // torch.tensor([2]), torch.tensor([7]) // torch.tensor([-2]), torch.tensor([7.5]) % torch.tensor([-2.])
---
out = torch.tensor([1, 2]) // 0
---
out = torch.tensor([5, -5]).div(2, rounding_mode='floor'), torch.tensor([5, -5]).div(2, rounding_mode='trunc'), torch.tensor([5., -5.]).div(2, rounding_mode='trunc')
---
out = torch.tensor([5, -5]).div(2, rounding_mode='round')
"""


IN_PLACE = r"""
x = torch.tensor([1., 2.], requires_grad=True); x.sub_(1)
---
x = torch.tensor([1., 2.], requires_grad=True); x -= 1
---
x = torch.tensor([1., 2.], requires_grad=True); x.zero_()
---
x = torch.tensor([1., 2.], requires_grad=True); x.fill_(1)
---
x = torch.tensor([1., 2.], requires_grad=True); x.uniform_()
---
x = torch.tensor([1., 2.], requires_grad=True); x[0] = 3.
---
x = torch.tensor([1., 2.], requires_grad=True); v = x[0]; v.add_(1)
---
x = torch.tensor([1., 2.], requires_grad=True)
with torch.no_grad():
    v = x[0]; v.add_(1)
out = x, x.requires_grad, x.is_leaf
---
x = torch.tensor([1., 2.], requires_grad=True); y = x * 2; y.zero_(); y.sum().backward(); out = x.grad, y, y.requires_grad
---
x = torch.tensor([1., 2.], requires_grad=True); y = x * 2; y.fill_(3); out = y, y.requires_grad, y.is_leaf
---
x = torch.tensor([1., 2.], requires_grad=True); y = x * 2; z = y * y; y += 1; z.sum().backward(); out = x.grad
---
x = torch.tensor([1., 2.], requires_grad=True); y = x * 2; y *= 3; y.sum().backward(); out = x.grad, y
---
x = torch.tensor([1., 2.], requires_grad=True); y = x * 2; y *= x; y.sum().backward(); out = x.grad, y
---
x = torch.tensor([1., 2.], requires_grad=True); y = x * 2; y += y; y.sum().backward(); out = x.grad, y
---
x = torch.tensor([1., 2.], requires_grad=True); y = x * 2; y[0] = 5; y.sum().backward(); out = x.grad, y
---
x = torch.tensor([1., 2.], requires_grad=True); y = x * 2; y[0].mul_(3); out = y; y.sum().backward(); out = x.grad, y
---
x = torch.tensor([1., 2.], requires_grad=True); Y = torch.zeros(2); Y[0] = x[1] * 2; Y.sum().backward(); out = x.grad, Y, Y.is_leaf, Y.requires_grad
---
x = torch.tensor([1., 2.], requires_grad=True); Y = torch.zeros(2, 2); Y[0][1] = x[1] * 2; (Y * torch.tensor([[1., 2.], [3., 4.]])).sum().backward(); out = x.grad, Y
---
x = torch.tensor([1., 2.], requires_grad=True); Y = torch.zeros(2, 2); Y[0] += x; (Y * torch.tensor([[1., 2.], [3., 4.]])).sum().backward(); out = x.grad, Y
---
x = torch.tensor([1., 2.], requires_grad=True); Y = torch.zeros(2, 2); row = Y[1]; row.mul_(0); row += x * x; (Y * torch.tensor([[1., 2.], [3., 4.]])).sum().backward(); out = x.grad, Y, row
---
x = torch.tensor([1., 2.], requires_grad=True); Y = torch.zeros(2, dtype=torch.int64); Y[0] = x[1] * 2; out = Y
---
Y = torch.zeros(2, dtype=torch.int64); Y[0] = 2.7; out = Y
---
Y = torch.zeros(3); Y[[0, 0]] = torch.tensor([1., 2.]); out = Y
---
Y = torch.zeros(3); Y[0] = torch.tensor([1., 2.]); out = Y
---
Y = torch.zeros(3); Y[torch.tensor([True, False, True])] = 5; out = Y
---
Y = torch.zeros(2, 3); Y[:, 1] = torch.tensor([1., 2.]); Y[0] = 7; Y[1, ::2] = torch.tensor([8., 9.]); out = Y
---
Y = torch.arange(6.).reshape(2, 3); Y[Y > 2] = 0; out = Y
---
x = torch.ones(3); e = x.expand(2, 3); e.add_(1)
---
x = torch.tensor([1., 2.], requires_grad=True); d = x.detach(); d.add_(1); out = x
---
x = torch.tensor([1., 2.], requires_grad=True); out = x.to(torch.int64), x.long().requires_grad, x.int(), x.half().requires_grad, x.type('torch.DoubleTensor').dtype, x.type(), torch.tensor([1]).type(), x.type(torch.float64).requires_grad
---
out = torch.zeros(2).copy_(torch.tensor([1, 2])), torch.zeros(2, 2).copy_(torch.tensor([1, 2])), torch.zeros(2).add_(torch.ones(2), alpha=2), torch.tensor([-1., 2.]).clamp_(0, 1), torch.zeros(2).fill_(torch.tensor(3.)), torch.zeros(2, dtype=torch.int64).fill_(2.5)
---
x = torch.tensor([1., 2.], requires_grad=True); y = torch.zeros(2).copy_(x); (y * torch.tensor([3., 4.])).sum().backward(); out = x.grad, y.requires_grad, y.is_leaf
---
out = torch.zeros(2).fill_(torch.tensor([3.]))
---
out = torch.zeros(2).copy_(torch.ones(3))
---
out = torch.tensor([1, 2]).div_(2)
---
out = torch.tensor([5, -5]).div_(2, rounding_mode='floor')
---
out = torch.zeros(3, dtype=torch.int64).uniform_()
---
out = torch.zeros(3).normal_(0, -1)
---
out = torch.zeros(3).uniform_(2, 3).min() >= 2, torch.zeros(3).random_(0, 5).max() < 5, torch.zeros(3).random_(5).max() < 5, torch.zeros(2, dtype=torch.int64).random_(3, 4)
---
out = torch.eye(2).__imatmul__(torch.ones(2, 2))
---
a = torch.eye(2); b = a; a @= torch.ones(2, 2) * 2; out = a, b
---
with torch.no_grad():
    x = torch.tensor([1., 2.], requires_grad=True); x -= 1; out = x, x.requires_grad, x.is_leaf
---
x = torch.tensor([1., 2.], requires_grad=True); x.data -= 1; out = x, x.requires_grad
---
x = torch.tensor([1., 2.], requires_grad=True); y = x * 3; t = 0; t += y.sum(); t += y.sum(); t.backward(); out = x.grad, t
---
x = torch.tensor([[1., 2.], [3., 4.]], requires_grad=True); y = x.t() * 1; y[0, 1] = 0; y.t()[0].mul_(5); y.sum().backward(); out = x.grad, y
---
x = torch.tensor([[1., 2.], [3., 4.]], requires_grad=True); y = x + 0; v = y.view(4); v[1:3] *= 10; (y * y).sum().backward(); out = x.grad, y
---
x = torch.tensor([[1., 2.], [3., 4.]], requires_grad=True); y = x + 0; v = y[0]; w = v[1:]; w.add_(x[1, :1] * 7); y.sum().backward(); out = x.grad, y
"""


DEVICES_AND_METHODS = r"""
out = str(torch.device('cpu')), repr(torch.device('cpu')), str(torch.ones(2).device), torch.ones(2).device == torch.device('cpu'), torch.ones(2).device.type
---
out = str(torch.device('cuda:1')), repr(torch.device('cuda', 0)), torch.device('cuda').index
---
out = torch.device('gpu')
---
out = torch.ones(2).to('cpu'), torch.ones(2).to(torch.device('cpu')), torch.ones(2).to('cpu', torch.float64), torch.ones(2).to(torch.int64), torch.ones(2).to(torch.zeros(1, dtype=torch.float64)), torch.ones(2).to(dtype=torch.float16, device='cpu'), torch.ones(2).cpu()
---
out = torch.ones(2).to('cuda')
---
out = torch.cuda.is_available()
---
device = torch.device("cuda" if torch.cuda.is_available() else "cpu"); out = torch.ones(2, device=device).to(device)
---
x = torch.ones(2); out = x.to('cpu') is x, x.to(torch.float32) is x
---
out = torch.zeros(2, device='cuda')
---
x = torch.ones(2, 3); out = x.t().shape, torch.ones(3).t().shape, x.mm(torch.ones(3, 2)), x.dim(), x.numel(), tuple(x.size()), x.size(1), x.size(-1), x.view_as(torch.ones(3, 2)).shape, x.reshape_as(torch.ones(6)).shape, x.expand_as(torch.ones(4, 2, 3)).shape
---
out = torch.ones(2, 3, 4).t()
---
x = torch.tensor([1, 2]); out = x.float(), x.double(), x.long(), x.int(), x.half(), x.bool(), torch.tensor([1.5, -0.5]).int(), torch.tensor([1.5, 0.]).bool()
---
x = torch.tensor([[1., -2.], [3., 4.]]); out = x.clamp(-1, 1), x.clip(max=0), x.eq(1), x.ne(1), x.lt(1), x.le(1), x.gt(1), x.ge(1), x.softmax(1), x.log_softmax(dim=0), x.norm(), x.std(), x.var(1), x.min(), x.prod(), x.prod(1), x.argmin(), x.sin(), x.cos(), x.exp(), x.abs(), x.neg(), x.sqrt(), x.tanh(), x.sigmoid(), x.relu()
---
out = torch.flatten(torch.ones(2, 3, 4), 1).shape, torch.softmax(torch.ones(2), 0), torch.log_softmax(torch.ones(2), dim=0)
---
x = torch.tensor([[1., -2.], [3., 4.]]); out = torch.sum(x), torch.sum(x, 1), torch.sum(x, dim=0, keepdim=True), torch.mean(x, 0), torch.std(x), torch.var(x, 1), torch.prod(x), torch.matmul(x, x), torch.mm(x, x), torch.bmm(x[None], x[None]), torch.dot(x[0], x[1]), torch.exp(x), torch.log(torch.abs(x)), torch.sin(x), torch.cos(x), torch.tanh(x), torch.sigmoid(x), torch.relu(x), torch.abs(x), torch.sqrt(torch.abs(x)), torch.clamp(x, 0), torch.where(x > 0, x, torch.zeros(1)), torch.maximum(x, x.t()), torch.minimum(x, x.t()), torch.cat([x, x]), torch.stack([x, x], 1).shape, torch.allclose(x, x + 1e-9), torch.equal(x, x), torch.argmax(x), torch.argmin(x, 1)
---
out = torch.allclose(torch.ones(2), torch.ones(2, dtype=torch.float64))
---
out = torch.equal(torch.ones(2), torch.ones(3)), torch.equal(torch.ones(2), torch.ones(2, dtype=torch.float64))
---
out = torch.mm(torch.ones(2), torch.ones(2, 2))
---
out = torch.dot(torch.ones(2, 1), torch.ones(2))
---
out = torch.dot(torch.ones(2), torch.ones(3))
---
out = torch.dot(torch.ones(2), torch.ones(2, dtype=torch.float64))
---
out = torch.bmm(torch.ones(2, 2, 3), torch.ones(3, 3, 2))
---
out = torch.bmm(torch.ones(2, 3), torch.ones(3, 2))
---
out = torch.where(torch.ones(2), 1., 0.)
---
out = torch.where(torch.tensor([True, False]), 1, 0.5), torch.where(torch.tensor([True, False]), torch.tensor([1, 2]), 0.5), torch.where(torch.tensor([True, False]))
---
out = torch.max(torch.tensor([1, 2]), torch.tensor([1.5, 0.5])), torch.maximum(torch.tensor([1, 2]), torch.tensor(1.5))
---
out = torch.maximum(torch.tensor([1.]), 2.)
---
out = torch.cat([torch.ones(2), torch.ones(2, dtype=torch.int64)]).dtype
---
out = torch.cat([torch.tensor(1.), torch.tensor(2.)])
---
x = torch.ones(2); out = x.new_zeros(3), x.new_ones(2, 2), torch.tensor([1, 2]).new_full((2,), 3), x.new_tensor([1, 2])
---
x = torch.tensor([1., 2.]); out = x.any(), torch.ones(2, 2).all(1), x.masked_fill(x > 1, 0), (x > 1).logical_not(), x.type_as(torch.tensor([1])), x.clone(), x.is_floating_point(), torch.tensor([1]).is_floating_point()
---
out = torch.ones(2).numpy()
---
out = torch.ones(2, requires_grad=True).numpy()
---
out = torch.ones(2).item()
---
out = torch.tensor([[2.5]]).item(), torch.tensor(3).item(), torch.tensor([True]).item()
---
out = torch.float, torch.double, torch.half, torch.long, torch.int, torch.short, torch.bool, torch.float16, torch.float32, torch.float64, torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8
---
out = torch.ones(2).dtype == torch.float32, torch.tensor([1]).dtype == torch.long, torch.tensor([1]).dtype == torch.int64, torch.tensor([True]).dtype == torch.bool
"""


GRADIENTS = r"""
x = torch.tensor([0., -2., 3.], requires_grad=True); (x ** 2).sum().backward(); out = x.grad
---
x = torch.tensor([0., -2., 3.], requires_grad=True); (x ** 0).sum().backward(); out = x.grad
---
x = torch.tensor([0., -2., 3.], requires_grad=True); (x ** 1).sum().backward(); out = x.grad
---
x = torch.tensor([0., 4., 3.], requires_grad=True); (x ** 0.5).sum().backward(); out = x.grad
---
x = torch.tensor([0., -2., 3.], requires_grad=True); y = torch.tensor([2., 3., 0.], requires_grad=True); (x ** y).sum().backward(); out = x.grad, y.grad
---
x = torch.tensor([0., 2., 3.], requires_grad=True); y = torch.tensor([2., 0., -1.], requires_grad=True); (x ** y).sum().backward(); out = x.grad, y.grad
---
x = torch.tensor([1., 2.], requires_grad=True); (2 ** x).sum().backward(); out = x.grad
---
x = torch.tensor([-2., 3.], requires_grad=True); (x ** torch.tensor(3.)).sum().backward(); out = x.grad
---
x = torch.tensor([-1., 0., 0.5, 1., 2.], requires_grad=True); x.clamp(0, 1).sum().backward(); out = x.grad
---
x = torch.tensor([-1., 0., 0.5, 1., 2.], requires_grad=True); lo = torch.tensor([0.], requires_grad=True); hi = torch.tensor([1.], requires_grad=True); x.clamp(lo, hi).sum().backward(); out = x.grad, lo.grad, hi.grad
---
x = torch.tensor([1., 2., 3.], requires_grad=True); y = torch.tensor([3., 2., 1.], requires_grad=True); torch.maximum(x, y).sum().backward(); out = x.grad, y.grad
---
x = torch.tensor([1., 2., 3.], requires_grad=True); y = torch.tensor([3., 2., 1.], requires_grad=True); torch.minimum(x, y).sum().backward(); out = x.grad, y.grad
---
x = torch.tensor([1., 2., 3.], requires_grad=True); y = torch.tensor([3., 2., 1.], requires_grad=True); torch.max(x, y).sum().backward(); out = x.grad, y.grad
---
x = torch.tensor([[1., 0., 3.], [0., 0., 2.], [1., 2., 4.]], requires_grad=True); x.prod(1).sum().backward(); out = x.grad
---
x = torch.tensor([[1., 0., 3.], [0., 0., 2.], [1., 2., 4.]], requires_grad=True); x.prod().backward(); out = x.grad
---
x = torch.tensor([[1., 5., 5.], [2., 2., 1.]], requires_grad=True); x.max(1).values.sum().backward(); out = x.grad
---
x = torch.tensor([[1., 5., 5.], [2., 2., 1.]], requires_grad=True); x.max().backward(); out = x.grad
---
x = torch.tensor([[1., 5., 5.], [2., 2., 1.]], requires_grad=True); x.min(0, keepdim=True).values.sum().backward(); out = x.grad
---
x = torch.tensor([[1., 5., 5.], [2., 2., 1.]], requires_grad=True); x.amax(1).sum().backward(); out = x.grad
---
x = torch.tensor([[1., 5., 5.], [2., 2., 1.]], requires_grad=True); x.amin(1).sum().backward(); out = x.grad
---
x = torch.tensor([[0., 0.], [3., 4.]], requires_grad=True); x.norm(dim=1).sum().backward(); out = x.grad
---
x = torch.tensor([[0., 0.], [3., -4.]], requires_grad=True); (x.norm(p=1) + x.norm(p=3) + x.norm(p=float('inf'))).backward(); out = x.grad
---
x = torch.tensor([[1., 2., 4.], [3., 3., 0.]], requires_grad=True); (x.var(1).sum() + x.std() + x.var(0, unbiased=False).sum()).backward(); out = x.grad
---
x = torch.tensor([[1., 2.], [3., 4.]], requires_grad=True); torch.where(x > 2, x * x, -x).sum().backward(); out = x.grad
---
x = torch.tensor([1., 2.], requires_grad=True); (x.sin() * x.cos()).sum().backward(); out = x.grad
---
x = torch.tensor([1., 2.], requires_grad=True); (torch.ones(2, dtype=torch.float64) * x).sum().backward(); out = x.grad, x.grad.dtype
---
X = torch.arange(9.).reshape(3, 3); K = torch.tensor([[0., 1.], [2., 3.]], requires_grad=True)
Y = torch.zeros(2, 2)
for i in range(2):
    for j in range(2):
        Y[i, j] = (X[i:i + 2, j:j + 2] * K).sum()
(Y * torch.tensor([[1., 2.], [3., 4.]])).sum().backward(); out = Y, K.grad, Y.is_leaf
---
x = torch.tensor([1., 2., 3.], requires_grad=True); y = x * 1; y[1:] += y[:-1]
---
x = torch.tensor([1., 2., 3.], requires_grad=True); y = x * 1; y += y * 2; y.mul_(x); y.sum().backward(); out = x.grad, y
---
x = torch.tensor([1., 2., 3.], requires_grad=True); y = x * 1; y.copy_(x * x); y.sum().backward(); out = x.grad, y
---
x = torch.tensor([1., 2., 3.], requires_grad=True); y = x.clone(); y.add_(x, alpha=2); (y * y).sum().backward(); out = x.grad, y
---
a = torch.tensor([2., 3.], requires_grad=True); b = torch.tensor([6., 4.], requires_grad=True); Q = 3*a**3 - b**2; Q.backward(gradient=torch.tensor([1., 1.])); out = a.grad, b.grad, 9*a**2 == a.grad, -2*b == b.grad
---
x = torch.tensor([[1., 2.], [3., 4.]], requires_grad=True); out = [t.sum() for t in x]; sum(out).backward(); out = x.grad
---
x = torch.tensor([3.], requires_grad=True); y = x * 2; out = float(y), int(y), y.item(), f"{y.sum():.2f}"
---
x = torch.tensor([3.], requires_grad=True); y = torch.tensor(2.).to(torch.float64) * x; y.backward(); out = y.dtype, x.grad
"""


OVERLAPS = r"""
y = torch.arange(4.); y[1:] = y[:-1]; out = y
---
y = torch.arange(4.); y[0] = y[1]; out = y
---
y = torch.arange(4.); y[::2] += y[1::2]; out = y
---
y = torch.arange(4.); y += y.detach(); out = y
---
y = torch.arange(4.); y.add_(y.view(4)); out = y
---
y = torch.arange(4.); y[:2] = y[2:]; out = y
---
y = torch.arange(4.); y[1:] += y[:-1]; out = y
---
y = torch.arange(4.); y[1:] += 1; y[0] *= 5; y[[0, 1]] -= 1; out = y
---
x = torch.arange(4., requires_grad=True); y = x * 1; y[1:] += x[:-1]; y[[0, 2]] *= 3; y[0] -= y[3]; y.sum().backward(); out = x.grad, y
---
Y = torch.zeros(3, 3); x = torch.tensor([1., 2., 3.], requires_grad=True)
for i in range(3):
    Y[i][i] = x[i] ** 2
    Y[i] += x
(Y * torch.arange(9.).reshape(3, 3)).sum().backward(); out = x.grad, Y
"""


EDGES = r"""
out = torch.zeros(3).uniform_(float('nan'), 1)
---
out = torch.zeros(3).uniform_(2, 1)
---
out = torch.zeros(3).normal_(0, float('nan'))
---
out = torch.linspace(0, float('nan'), 3)
---
out = torch.tensor([3., 4.]).norm(p=float('nan'))
---
out = torch.randint(0.5, 3, (2,))
---
out = torch.full((2,), float('nan'))
---
out = torch.zeros(2, 0).max(1)
---
out = torch.zeros(2, 0).sum(1), torch.zeros(2, 0).mean(1), torch.zeros(0, 2).mean(0)
---
out = torch.zeros(2, 0).argmax(1)
---
out = torch.tensor(5.).sum(0), torch.tensor(5.).mean(-1), torch.tensor(5.).max(0), torch.tensor(5.).argmax(0), torch.tensor(5.).prod(0)
---
out = torch.tensor(5.).sum(1)
---
out = torch.tensor([1, 2]).softmax(0)
---
out = torch.tensor([1, 2]).var()
---
out = torch.tensor([[1, 2]]).matmul(torch.tensor([[1], [2]]))
---
out = torch.tensor([[1, 2]]).matmul(torch.tensor([[1.], [2.]]))
---
out = torch.tensor([1, 2]).sum(dtype=torch.float32)
---
out = torch.tensor([1.5, 2]).mean(dtype=torch.float64)
---
out = torch.tensor([1., 2.]).to(torch.int64).requires_grad
---
out = torch.tensor([1., 2.], requires_grad=True).to(torch.int64) * 2
---
out = torch.tensor(np.matrix([[1., 2.], [3., 4.]])) * torch.tensor(np.matrix([[1., 2.], [3., 4.]]))
---
out = torch.tensor(np.array([1, 2], dtype=np.int32)).dtype, torch.tensor([np.int32(1)]).dtype, torch.tensor(np.array(2.5)).dtype, torch.as_tensor([1, 2]).dtype, torch.as_tensor(np.ones(2)).dtype
---
a = np.ones(3); t = torch.as_tensor(a); a[0] = 5; out = t
---
a = np.ones(3); t = torch.from_numpy(a); t += 1; out = a.tolist()
---
a = np.ones(3); t = torch.tensor(a); a[0] = 5; out = t
---
out = torch.from_numpy([1, 2])
---
t = torch.tensor([1., 2.]); u = torch.tensor(t); u += 1; out = t
---
out = torch.tensor([[1, 2], [3, 4]])[torch.tensor([True, False])], torch.tensor([1, 2, 3])[torch.tensor([2, 0])], torch.tensor([[1, 2], [3, 4]])[:, torch.tensor(1)]
---
x = torch.arange(6.).reshape(2, 3); out = x[1], x[-1, -1], x[..., 1], x[None].shape, x[:, None, 1].shape
---
x = torch.arange(6.).reshape(2, 3); out = x.sum(axis=0), x.max(axis=1).values, x.mean(dim=(0, 1))
---
x = torch.arange(6.).reshape(2, 3); out = x.std(0), x.var(axis=1)
---
out = torch.tensor([1.], dtype=torch.float16) + torch.tensor([1], dtype=torch.int64), (torch.tensor([1], dtype=torch.uint8) + torch.tensor([1], dtype=torch.int8)).dtype, (torch.tensor([1], dtype=torch.int32) * 2.5).dtype, (torch.tensor([1], dtype=torch.uint8) * -1)
---
out = (torch.ones(2, dtype=torch.float16) * torch.ones(2, dtype=torch.int64)).dtype, (torch.ones(2, dtype=torch.bool) * torch.ones(2, dtype=torch.uint8)).dtype
---
out = (torch.ones(2) * torch.tensor(2, dtype=torch.int64)).dtype, (torch.ones(2, dtype=torch.int32) * torch.tensor(2, dtype=torch.int64)).dtype, (torch.ones(2, dtype=torch.int32) * torch.tensor(2.5, dtype=torch.float64)).dtype
"""


ALL = {name: _cases(text) for name, text in [
    ("arithmetic", ARITHMETIC_AND_DTYPES), ("reductions", REDUCTIONS_AND_PROTOCOLS),
    ("inplace", IN_PLACE), ("devices", DEVICES_AND_METHODS), ("gradients", GRADIENTS),
    ("overlaps", OVERLAPS), ("edges", EDGES)]}


@pytest.mark.parametrize("code", [c for cases in ALL.values() for c in cases],
                         ids=[f"{name}-{i}" for name, cases in ALL.items() for i in range(len(cases))])
def test_agrees_with_torch(code):
    theirs, ours = _run(code, torch), _run(code, tc)
    assert _agree(ours, theirs), f"\n{code}\n  torch: {theirs}\n  ours:  {ours}"


# --- where we knowingly differ ----------------------------------------------------------------

def test_a_graph_that_used_the_tensor_before_an_in_place_write_is_refused():
    """PyTorch's graph points at the op that made y, ours at y itself: a graph recorded before
    `y += 1` would see the new y, so it refuses (PyTorch computes it when the op saved nothing)."""
    code = ("x = torch.tensor([1., 2.], requires_grad=True); y = x * 2; z = y * 3; y += 1; "
            "z.sum().backward(); out = x.grad")
    assert _run(code, torch)[0] == "tensor"
    assert _run(code, tc)[0] == "refused" and "in-place" in _run(code, tc)[2]


@pytest.mark.parametrize("code", [
    "x = torch.ones(3, requires_grad=True); y = x.exp(); y += 1; y.sum().backward(); out = x.grad",
    "x = torch.ones(3, requires_grad=True); y = x.sigmoid(); y.sigmoid_(); y.sum().backward(); out = x.grad",
    "x = torch.tensor([1., 2.], requires_grad=True); y = x * 2; y.mul_(y); y.sum().backward(); out = x.grad",
])
def test_writes_that_pytorch_refuses_because_it_saved_outputs_are_exact_here(code):
    """exp and sigmoid save their output in PyTorch (ours recompute from the input), and
    PyTorch's views share a version counter: where PyTorch has to refuse, the gradient here is
    the exact one of the out-of-place program."""
    assert _run(code, torch)[0] == "refused"
    out_of_place = code.replace("y += 1", "y = y + 1").replace("y.sigmoid_()", "y = y.sigmoid()") \
        .replace("y.mul_(y)", "y = y * y")
    assert _agree(_run(code, tc), _run(out_of_place, torch))


def test_floor_division_of_a_tensor_that_requires_grad_is_refused_at_once():
    """PyTorch records it and fails at backward ('not implemented'); we refuse in the forward."""
    code = "out = torch.tensor([3.], requires_grad=True) // 2"
    assert _run(code, torch)[0] == "tensor" and _run(code, tc)[0] == "refused"
