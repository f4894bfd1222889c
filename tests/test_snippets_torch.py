"""Public PyTorch snippets, as students paste them, run under torch and under tinygrad_conv.

Each snippet's text appears once below and runs twice, with the name `torch` bound to PyTorch
and then to tinygrad_conv. Everything it prints, and the values named after it, must agree.
The random draws are torch's: the torch run records them and tinygrad_conv's generator replays
them (tests/snippet_harness.py), so both runs start from the same numbers.

Sources: the 60-minute blitz "A Gentle Introduction to torch.autograd" and its earlier version
"Autograd: automatic differentiation"; "Learning PyTorch with Examples" (the polynomial fit with
tensors, autograd, nn, optim, a custom Module and control flow, in its published revisions);
"Learn the Basics: Tensors"; d2l's "Convolutions for Images" (corr2d,
learning a kernel) and "Pooling" (pool2d); micrograd's test/test_engine.py (the torch halves of
test_sanity_check and test_more_ops); "Learn the Basics: Automatic Differentiation with
torch.autograd". The texts are kept as published; lines that cannot run here are commented out
and marked `# skipped:` with the reason, lines changed are marked `# changed:`.
"""
import math
import random
import re

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

import tinygrad_conv as tc  # noqa: E402
from snippet_harness import bindings, recording, replaying  # noqa: E402

NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|\b(?:True|False|nan|inf)\b")
# what reprs add after the values: torch's grad_fn=<MulBackward0>, our op=mul, dtypes
_REPR_EXTRAS = re.compile(r"grad_fn=<\w+>|op=\w+|dtype=[\w.]+|requires_grad=True")


def _numbers(value) -> list:
    """The numbers in a printed value: tensors and arrays entry by entry, text by regex."""
    if isinstance(value, (torch.Tensor, tc.Tensor)):
        value = value.detach().numpy() if isinstance(value, torch.Tensor) else value.data
    if isinstance(value, np.ndarray):
        return [float(v) for v in value.ravel()]
    if isinstance(value, (bool, int, float, np.number)):
        return [float(value)]
    found = NUMBER.findall(_REPR_EXTRAS.sub("", str(value)))
    return [1.0 if s == "True" else 0.0 if s == "False" else float(s) for s in found]


def run(cells, library, between=None, names=()):
    """Run the cells with `torch` bound to `library`; returns (printed numbers, named values)."""
    printed = []
    random.seed(0)                    # the same Python draws in both runs (dynamic_net's)
    env = {**bindings(library), "math": math, "np": np,
           "print": lambda *args, **kw: printed.append([n for a in args for n in _numbers(a)])}
    for i, cell in enumerate(cells):
        exec(cell, env)
        if between is not None:
            between(i, env, library)
    return printed, [_numbers(eval(name, env)) for name in names]


def assert_same(cells, between=None, names=(), rtol=1e-4, atol=1e-4):
    torch.manual_seed(0)                  # the same torch draws every time the test runs
    with recording() as draws:
        printed_torch, named_torch = run(cells, torch, between, names)
    with replaying(draws):
        printed_ours, named_ours = run(cells, tc, between, names)
    assert len(printed_ours) == len(printed_torch)
    for line, (ours, theirs) in enumerate(zip(printed_ours + named_ours,
                                              printed_torch + named_torch)):
        assert len(ours) == len(theirs), (line, ours, theirs)
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol, err_msg=f"line {line}")
    return printed_ours, named_ours


# --- the 60-minute blitz: A Gentle Introduction to torch.autograd -------------------------------

# stand-in for torchvision's resnet18 (its weights are a download): a small model with the same
# input, output and `fc` head, so that the tutorial's text runs as written
RESNET18 = '''
class ResNet18_Weights:
    DEFAULT = "IMAGENET1K_V1"


class ResNet18(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 512, kernel_size=8, stride=8, bias=False)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512, 1000)

    def forward(self, x):
        return self.fc(torch.flatten(self.avgpool(torch.relu(self.conv1(x))), 1))


def resnet18(weights=None):
    return ResNet18()
'''

BLITZ_AUTOGRAD = '''
import torch
# skipped: from torchvision.models import resnet18, ResNet18_Weights (the stand-in above)
model = resnet18(weights=ResNet18_Weights.DEFAULT)
data = torch.rand(1, 3, 64, 64)
labels = torch.rand(1, 1000)

prediction = model(data) # forward pass

loss = (prediction - labels).sum()
loss.backward() # backward pass

optim = torch.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)

optim.step() #gradient descent

import torch

a = torch.tensor([2., 3.], requires_grad=True)
b = torch.tensor([6., 4.], requires_grad=True)

Q = 3*a**3 - b**2

external_grad = torch.tensor([1., 1.])
Q.backward(gradient=external_grad)

# check if collected gradients are correct
print(9*a**2 == a.grad)
print(-2*b == b.grad)

x = torch.rand(5, 5)
y = torch.rand(5, 5)
z = torch.rand((5, 5), requires_grad=True)

a = x + y
print(f"Does `a` require gradients?: {a.requires_grad}")
b = x + z
print(f"Does `b` require gradients?: {b.requires_grad}")

from torch import nn, optim

model = resnet18(weights=ResNet18_Weights.DEFAULT)

# Freeze all the parameters in the network
for param in model.parameters():
    param.requires_grad = False

model.fc = nn.Linear(512, 10)

# Optimize only the classifier
optimizer = optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
'''

FINETUNE_STEP = '''
# not in the tutorial: one step of the fine-tuning it sets up (only the new head moves)
optimizer.zero_grad()
model(data).sum().backward()
optimizer.step()
'''


def test_blitz_autograd_tutorial():
    printed, named = assert_same(
        [RESNET18, BLITZ_AUTOGRAD, FINETUNE_STEP],
        names=["prediction", "loss", "Q", "external_grad", "model.fc.weight", "model.fc.bias",
               "model.conv1.weight", "[p.requires_grad for p in model.parameters()]"])
    assert printed[:2] == [[1.0, 1.0], [1.0, 1.0]]
    assert printed[2:] == [[0.0], [1.0]]
    assert named[-1] == [0.0, 1.0, 1.0]                     # conv1 frozen, the new fc trains


# the blitz's earlier version, "Autograd: automatic differentiation" (PyTorch 0.4 - 1.x)
BLITZ_AUTOGRAD_EARLIER = '''
import torch

x = torch.ones(2, 2, requires_grad=True)
print(x)

y = x + 2
print(y)

# skipped: print(y.grad_fn) (grad_fn objects are not in tinygrad_conv yet)

z = y * y * 3
out = z.mean()

print(z, out)

a = torch.randn(2, 2)
a = ((a * 3) / (a - 1))
print(a.requires_grad)
a.requires_grad_(True)
print(a.requires_grad)
b = (a * a).sum()
# skipped: print(b.grad_fn) (grad_fn objects are not in tinygrad_conv yet)

out.backward()

print(x.grad)

x = torch.randn(3, requires_grad=True)

y = x * 2
while y.norm() < 1000:  # changed: y.data.norm() (.data is the numpy array here: y.norm())
    y = y * 2

print(y)

gradients = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)
y.backward(gradients)

print(x.grad)

print(x.requires_grad)
print((x ** 2).requires_grad)

with torch.no_grad():
\tprint((x ** 2).requires_grad)
'''


def test_blitz_autograd_earlier_version():
    printed, _ = assert_same([BLITZ_AUTOGRAD_EARLIER], names=["a", "b", "y"])
    assert printed[5] == [4.5] * 4                             # d(out)/dx
    assert printed[-3:] == [[1.0], [1.0], [0.0]]


# --- Learning PyTorch with Examples: the polynomial fit ----------------------------------------

POLYNOMIAL_TENSORS = '''
import math
import torch


dtype = torch.float
device = torch.device("cpu")
# device = torch.device("cuda:0") # Uncomment this to run on GPU

# Create random input and output data
x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
y = torch.sin(x)

# Randomly initialize weights
a = torch.randn((), device=device, dtype=dtype)
b = torch.randn((), device=device, dtype=dtype)
c = torch.randn((), device=device, dtype=dtype)
d = torch.randn((), device=device, dtype=dtype)

learning_rate = 1e-6
for t in range(2000):
    # Forward pass: compute predicted y
    y_pred = a + b * x + c * x ** 2 + d * x ** 3

    # Compute and print loss
    loss = (y_pred - y).pow(2).sum().item()
    if t % 100 == 99:
        print(t, loss)

    # Backprop to compute gradients of a, b, c, d with respect to loss
    grad_y_pred = 2.0 * (y_pred - y)
    grad_a = grad_y_pred.sum()
    grad_b = (grad_y_pred * x).sum()
    grad_c = (grad_y_pred * x ** 2).sum()
    grad_d = (grad_y_pred * x ** 3).sum()

    # Update weights using gradient descent
    a -= learning_rate * grad_a
    b -= learning_rate * grad_b
    c -= learning_rate * grad_c
    d -= learning_rate * grad_d


print(f'Result: y = {a.item()} + {b.item()} x + {c.item()} x^2 + {d.item()} x^3')
'''

# a later revision of the same file: x.pow, and matmul with keyword arguments
POLYNOMIAL_TENSORS_MATMUL = POLYNOMIAL_TENSORS.replace(
    "y_pred = a + b * x + c * x ** 2 + d * x ** 3",
    "y_pred = a + (b * x) + (c * x.pow(2)) + (d * x.pow(3))").replace(
    "grad_y_pred = 2.0 * (y_pred - y)", "grad_y_pred = -2.0 * (y - y_pred)").replace(
    """    grad_b = (grad_y_pred * x).sum()
    grad_c = (grad_y_pred * x ** 2).sum()
    grad_d = (grad_y_pred * x ** 3).sum()""",
    """    grad_b = torch.matmul(input=grad_y_pred, other=x).sum()
    grad_c = torch.matmul(input=grad_y_pred, other=x.pow(2)).sum()
    grad_d = torch.matmul(input=grad_y_pred, other=x.pow(3)).sum()""")
assert "torch.matmul(input=" in POLYNOMIAL_TENSORS_MATMUL

POLYNOMIAL_AUTOGRAD = '''
import torch
import math

dtype = torch.float
device = torch.device("cpu")
# device = torch.device("cuda:0")  # Uncomment this to run on GPU

# Create Tensors to hold input and outputs.
# By default, requires_grad=False, which indicates that we do not need to
# compute gradients with respect to these Tensors during the backward pass.
x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
y = torch.sin(x)

# Create random Tensors for weights. For a third order polynomial, we need
# 4 weights: y = a + b x + c x^2 + d x^3
# Setting requires_grad=True indicates that we want to compute gradients with
# respect to these Tensors during the backward pass.
a = torch.randn((), device=device, dtype=dtype, requires_grad=True)
b = torch.randn((), device=device, dtype=dtype, requires_grad=True)
c = torch.randn((), device=device, dtype=dtype, requires_grad=True)
d = torch.randn((), device=device, dtype=dtype, requires_grad=True)

learning_rate = 1e-6
for t in range(2000):
    # Forward pass: compute predicted y using operations on Tensors.
    y_pred = a + b * x + c * x ** 2 + d * x ** 3

    # Compute and print loss using operations on Tensors.
    # Now loss is a Tensor of shape (1,)
    # loss.item() gets the scalar value held in the loss.
    loss = (y_pred - y).pow(2).sum()
    if t % 100 == 99:
        print(t, loss.item())

    # Use autograd to compute the backward pass. This call will compute the
    # gradient of loss with respect to all Tensors with requires_grad=True.
    # After this call a.grad, b.grad. c.grad and d.grad will be Tensors holding
    # the gradient of the loss with respect to a, b, c, d respectively.
    loss.backward()

    # Manually update weights using gradient descent. Wrap in torch.no_grad()
    # because weights have requires_grad=True, but we don't need to track this
    # in autograd.
    with torch.no_grad():
        a -= learning_rate * a.grad
        b -= learning_rate * b.grad
        c -= learning_rate * c.grad
        d -= learning_rate * d.grad

        # Manually zero the gradients after updating weights
        a.grad = None
        b.grad = None
        c.grad = None
        d.grad = None

print(f'Result: y = {a.item()} + {b.item()} x + {c.item()} x^2 + {d.item()} x^3')
'''

# the current revision: the device comes from torch.accelerator and becomes the default device
POLYNOMIAL_AUTOGRAD_ACCELERATOR = POLYNOMIAL_AUTOGRAD.replace('''dtype = torch.float
device = torch.device("cpu")
# device = torch.device("cuda:0")  # Uncomment this to run on GPU
''', '''# We want to be able to train our model on an `accelerator <https://pytorch.org/docs/stable/torch.html#accelerators>`__
# such as CUDA, MPS, MTIA, or XPU. If the current accelerator is available, we will use it. Otherwise, we use the CPU.

dtype = torch.float
device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"
print(f"Using {device} device")
torch.set_default_device(device)
''').replace(", device=device, dtype=dtype", ", dtype=dtype")


@pytest.mark.parametrize("snippet", [POLYNOMIAL_TENSORS, POLYNOMIAL_TENSORS_MATMUL,
                                     POLYNOMIAL_AUTOGRAD, POLYNOMIAL_AUTOGRAD_ACCELERATOR],
                         ids=["tensors", "tensors_matmul", "autograd", "autograd_accelerator"])
def test_learning_pytorch_with_examples_polynomial_fit(snippet):
    printed, named = assert_same([snippet], names=["a", "b", "c", "d"], rtol=1e-3)
    printed = [line for line in printed if line]               # drops "Using cpu device"
    assert len(printed) == 21 and printed[-1][0] < printed[0][1]    # the loss went down
    assert named[1][0] > 0.5                                        # b ~ 0.85, sin's slope


# the same fit with nn, with optim, as a custom Module, and with control flow (the rest of
# "Learning PyTorch with Examples")
POLYNOMIAL_NN = '''
import torch
import math


# Create Tensors to hold input and outputs.
x = torch.linspace(-math.pi, math.pi, 2000)
y = torch.sin(x)

# For this example, the output y is a linear function of (x, x^2, x^3), so
# we can consider it as a linear layer neural network. Let's prepare the
# tensor (x, x^2, x^3).
p = torch.tensor([1, 2, 3])
xx = x.unsqueeze(-1).pow(p)

# In the above code, x.unsqueeze(-1) has shape (2000, 1), and p has shape
# (3,), for this case, broadcasting semantics will apply to obtain a tensor
# of shape (2000, 3)

# Use the nn package to define our model as a sequence of layers. nn.Sequential
# is a Module which contains other Modules, and applies them in sequence to
# produce its output. The Linear Module computes output from input using a
# linear function, and holds internal Tensors for its weight and bias.
# The Flatten layer flatens the output of the linear layer to a 1D tensor,
# to match the shape of `y`.
model = torch.nn.Sequential(
    torch.nn.Linear(3, 1),
    torch.nn.Flatten(0, 1)
)

# The nn package also contains definitions of popular loss functions; in this
# case we will use Mean Squared Error (MSE) as our loss function.
loss_fn = torch.nn.MSELoss(reduction='sum')

learning_rate = 1e-6
for t in range(2000):

    # Forward pass: compute predicted y by passing x to the model. Module objects
    # override the __call__ operator so you can call them like functions. When
    # doing so you pass a Tensor of input data to the Module and it produces
    # a Tensor of output data.
    y_pred = model(xx)

    # Compute and print loss. We pass Tensors containing the predicted and true
    # values of y, and the loss function returns a Tensor containing the
    # loss.
    loss = loss_fn(y_pred, y)
    if t % 100 == 99:
        print(t, loss.item())

    # Zero the gradients before running the backward pass.
    model.zero_grad()

    # Backward pass: compute gradient of the loss with respect to all the learnable
    # parameters of the model. Internally, the parameters of each Module are stored
    # in Tensors with requires_grad=True, so this call will compute gradients for
    # all learnable parameters in the model.
    loss.backward()

    # Update the weights using gradient descent. Each parameter is a Tensor, so
    # we can access its gradients like we did before.
    with torch.no_grad():
        for param in model.parameters():
            param -= learning_rate * param.grad

# You can access the first layer of `model` like accessing the first item of a list
linear_layer = model[0]

# For linear layer, its parameters are stored as `weight` and `bias`.
print(f'Result: y = {linear_layer.bias.item()} + {linear_layer.weight[:, 0].item()} x + {linear_layer.weight[:, 1].item()} x^2 + {linear_layer.weight[:, 2].item()} x^3')
'''

POLYNOMIAL_OPTIM = '''
import torch
import math


# Create Tensors to hold input and outputs.
x = torch.linspace(-math.pi, math.pi, 2000)
y = torch.sin(x)

# Prepare the input tensor (x, x^2, x^3).
p = torch.tensor([1, 2, 3])
xx = x.unsqueeze(-1).pow(p)

# Use the nn package to define our model and loss function.
model = torch.nn.Sequential(
    torch.nn.Linear(3, 1),
    torch.nn.Flatten(0, 1)
)
loss_fn = torch.nn.MSELoss(reduction='sum')

# Use the optim package to define an Optimizer that will update the weights of
# the model for us. Here we will use Adam; the optim package contains many other
# optimization algorithms. The first argument to the Adam constructor tells the
# optimizer which Tensors it should update.
learning_rate = 1e-6
optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)
for t in range(2000):
    # Forward pass: compute predicted y by passing x to the model.
    y_pred = model(xx)

    # Compute and print loss.
    loss = loss_fn(y_pred, y)
    if t % 100 == 99:
        print(t, loss.item())

    # Before the backward pass, use the optimizer object to zero all of the
    # gradients for the variables it will update (which are the learnable
    # weights of the model). This is because by default, gradients are
    # accumulated in buffers( i.e, not overwritten) whenever .backward()
    # is called. Checkout docs of torch.autograd.backward for more details.
    optimizer.zero_grad()

    # Backward pass: compute gradient of the loss with respect to model
    # parameters
    loss.backward()

    # Calling the step function on an Optimizer makes an update to its
    # parameters
    optimizer.step()


linear_layer = model[0]
print(f'Result: y = {linear_layer.bias.item()} + {linear_layer.weight[:, 0].item()} x + {linear_layer.weight[:, 1].item()} x^2 + {linear_layer.weight[:, 2].item()} x^3')
'''

POLYNOMIAL_MODULE = '''
import torch
import math


class Polynomial3(torch.nn.Module):
    def __init__(self):
        """
        In the constructor we instantiate four parameters and assign them as
        member parameters.
        """
        super().__init__()
        self.a = torch.nn.Parameter(torch.randn(()))
        self.b = torch.nn.Parameter(torch.randn(()))
        self.c = torch.nn.Parameter(torch.randn(()))
        self.d = torch.nn.Parameter(torch.randn(()))

    def forward(self, x):
        """
        In the forward function we accept a Tensor of input data and we must return
        a Tensor of output data. We can use Modules defined in the constructor as
        well as arbitrary operators on Tensors.
        """
        return self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3

    def string(self):
        """
        Just like any class in Python, you can also define custom method on PyTorch modules
        """
        return f'y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + {self.d.item()} x^3'


# Create Tensors to hold input and outputs.
x = torch.linspace(-math.pi, math.pi, 2000)
y = torch.sin(x)

# Construct our model by instantiating the class defined above
model = Polynomial3()

# Construct our loss function and an Optimizer. The call to model.parameters()
# in the SGD constructor will contain the learnable parameters (defined
# with torch.nn.Parameter) which are members of the model.
criterion = torch.nn.MSELoss(reduction='sum')
optimizer = torch.optim.SGD(model.parameters(), lr=1e-6)
for t in range(2000):
    # Forward pass: Compute predicted y by passing x to the model
    y_pred = model(x)

    # Compute and print loss
    loss = criterion(y_pred, y)
    if t % 100 == 99:
        print(t, loss.item())

    # Zero gradients, perform a backward pass, and update the weights.
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

print(f'Result: {model.string()}')
'''

DYNAMIC_NET = '''
import random
import torch
import math


class DynamicNet(torch.nn.Module):
    def __init__(self):
        """
        In the constructor we instantiate five parameters and assign them as members.
        """
        super().__init__()
        self.a = torch.nn.Parameter(torch.randn(()))
        self.b = torch.nn.Parameter(torch.randn(()))
        self.c = torch.nn.Parameter(torch.randn(()))
        self.d = torch.nn.Parameter(torch.randn(()))
        self.e = torch.nn.Parameter(torch.randn(()))

    def forward(self, x):
        """
        For the forward pass of the model, we randomly choose either 4, 5
        and reuse the e parameter to compute the contribution of these orders.

        Since each forward pass builds a dynamic computation graph, we can use normal
        Python control-flow operators like loops or conditional statements when
        defining the forward pass of the model.

        Here we also see that it is perfectly safe to reuse the same parameter many
        times when defining a computational graph.
        """
        y = self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3
        for exp in range(4, random.randint(4, 6)):
            y = y + self.e * x ** exp
        return y

    def string(self):
        """
        Just like any class in Python, you can also define custom method on PyTorch modules
        """
        return f'y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + {self.d.item()} x^3 + {self.e.item()} x^4 ? + {self.e.item()} x^5 ?'


# Create Tensors to hold input and outputs.
x = torch.linspace(-math.pi, math.pi, 2000)
y = torch.sin(x)

# Construct our model by instantiating the class defined above
model = DynamicNet()

# Construct our loss function and an Optimizer. Training this strange model with
# vanilla stochastic gradient descent is tough, so we use momentum
criterion = torch.nn.MSELoss(reduction='sum')
optimizer = torch.optim.SGD(model.parameters(), lr=1e-8, momentum=0.9)
for t in range(3000):  # changed: range(30000), a tenth of the steps to keep the test short
    # Forward pass: Compute predicted y by passing x to the model
    y_pred = model(x)

    # Compute and print loss
    loss = criterion(y_pred, y)
    if t % 2000 == 1999:
        print(t, loss.item())

    # Zero gradients, perform a backward pass, and update the weights.
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

print(f'Result: {model.string()}')
'''
# skipped: polynomial_custom_function.py (LegendrePolynomial3(torch.autograd.Function) with
# ctx.save_for_backward: custom autograd Functions are not in tinygrad_conv; its primitives are
# written with @primitive / defvjp instead)


@pytest.mark.parametrize("snippet", [POLYNOMIAL_NN, POLYNOMIAL_OPTIM, POLYNOMIAL_MODULE,
                                     DYNAMIC_NET],
                         ids=["nn", "optim", "custom_module", "dynamic_net"])
def test_learning_pytorch_with_examples_nn_optim_modules(snippet):
    printed, _ = assert_same([snippet], rtol=1e-3, names=[
        "torch.cat([p.detach().reshape(-1) for p in model.parameters()])"])
    assert printed[-2][1] <= printed[0][1]                          # the loss did not grow


def test_the_manual_sgd_loop_trains_in_place():
    """The silent failure this guards against: `a -= ...` rebinding `a` to a new tensor."""
    env = {**bindings(tc), "print": lambda *a: None}
    exec(POLYNOMIAL_AUTOGRAD.replace("2000)", "3)"), env)
    a = env["a"]
    assert a.is_leaf and a.requires_grad and a.grad is None


# --- d2l: Convolutions for Images, Pooling -----------------------------------------------------

D2L_CORR2D = '''
def corr2d(X, K):  #@save
    """Compute 2D cross-correlation."""
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y

X = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
print(corr2d(X, K))

class Conv2D(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        self.weight = nn.Parameter(torch.rand(kernel_size))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return corr2d(x, self.weight) + self.bias

X = torch.ones((6, 8))
X[:, 2:6] = 0
print(X)

K = torch.tensor([[1.0, -1.0]])
Y = corr2d(X, K)
print(Y)
print(corr2d(X.t(), K))
'''

D2L_LEARN_KERNEL = '''
# Construct a two-dimensional convolutional layer with 1 output channel and a
# kernel of shape (1, 2). For the sake of simplicity, we ignore the bias here
conv2d = nn.LazyConv2d(1, kernel_size=(1, 2), bias=False)

# The two-dimensional convolutional layer uses four-dimensional input and
# output in the format of (example, channel, height, width), where the batch
# size (number of examples in the batch) and the number of channels are both 1
X = X.reshape((1, 1, 6, 8))
Y = Y.reshape((1, 1, 6, 7))
lr = 3e-2  # Learning rate

for i in range(10):
    Y_hat = conv2d(X)
    l = (Y_hat - Y) ** 2
    conv2d.zero_grad()
    l.sum().backward()
    # Update the kernel
    conv2d.weight.data[:] -= lr * conv2d.weight.grad
    if (i + 1) % 2 == 0:
        print(f'epoch {i + 1}, loss {l.sum():.3f}')

print(conv2d.weight.data.reshape((1, 2)))  # a notebook cell's displayed value, printed
'''

D2L_POOL2D = '''
def pool2d(X, pool_size, mode='max'):
    p_h, p_w = pool_size
    Y = torch.zeros((X.shape[0] - p_h + 1, X.shape[1] - p_w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            if mode == 'max':
                Y[i, j] = X[i: i + p_h, j: j + p_w].max()
            elif mode == 'avg':
                Y[i, j] = X[i: i + p_h, j: j + p_w].mean()
    return Y

X = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
print(pool2d(X, (2, 2)))
print(pool2d(X, (2, 2), 'avg'))
'''


def test_d2l_corr2d_and_the_edge_detector():
    printed, _ = assert_same([D2L_CORR2D])
    assert printed[0] == [19.0, 25.0, 37.0, 43.0]


def test_d2l_learning_a_kernel_with_weight_data_slice_update():
    """LazyConv2d's weight appears at the first call, inside the loop: both runs draw it from
    torch's numbers (the replayed initialisation)."""
    printed, _ = assert_same([D2L_CORR2D, D2L_LEARN_KERNEL])
    losses = [line[1] for line in printed[4:9]]                    # epochs 2, 4, ..., 10
    assert len(losses) == 5 and losses == sorted(losses, reverse=True)   # it learns
    np.testing.assert_allclose(printed[-1], [1.0, -1.0], atol=0.3)


def test_d2l_pool2d():
    printed, _ = assert_same([D2L_POOL2D])
    assert printed == [[4.0, 5.0, 7.0, 8.0], [2.0, 3.0, 5.0, 6.0]]


GRADIENTS_THROUGH_THE_LOOPS = '''
X = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]], requires_grad=True)
layer = Conv2D((2, 2))
out = corr2d(X, layer.weight) + layer.bias
(out * torch.tensor([[1.0, -2.0], [3.0, 0.5]])).sum().backward()
P = torch.tensor([[1.0, 5.0, 2.0], [3.0, 0.0, 4.0], [6.0, 7.0, 2.0]], requires_grad=True)
(pool2d(P, (2, 2)) * torch.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
(pool2d(P, (2, 2), 'avg') * torch.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
'''


def test_d2l_loops_give_torchs_gradients():
    """Y[i, j] = ... with values that require grad: Y joins the graph (torch's CopySlices)."""
    assert_same([D2L_CORR2D, D2L_POOL2D, GRADIENTS_THROUGH_THE_LOOPS],
                names=["X.grad", "layer.weight.grad", "layer.bias.grad", "P.grad"], rtol=1e-6)


# --- micrograd: test/test_engine.py (the torch halves) -----------------------------------------

MICROGRAD_SANITY_CHECK = '''
x = torch.Tensor([-4.0]).double()
x.requires_grad = True
z = 2 * x + 2 + x
q = z.relu() + z * x
h = (z * z).relu()
y = h + q + q * x
y.backward()
xpt, ypt = x, y
print(ypt.data.item(), xpt.grad.item())
'''

MICROGRAD_MORE_OPS = '''
a = torch.Tensor([-4.0]).double()
b = torch.Tensor([2.0]).double()
a.requires_grad = True
b.requires_grad = True
c = a + b
d = a * b + b**3
c = c + c + 1
c = c + 1 + c + (-a)
d = d + d * 2 + (b + a).relu()
d = d + 3 * d + (b - a).relu()
e = c - d
f = e**2
g = f / 2.0
g = g + 10.0 / f
g.backward()
apt, bpt, gpt = a, b, g
print(gpt.data.item(), apt.grad.item(), bpt.grad.item())
'''

MICROGRAD_UNARY = '''
for tensor_fn in (torch.Tensor.tanh, torch.Tensor.exp):
    for x in [-1., .123, 2.]:
        xt = torch.Tensor([x]).double()
        xt.requires_grad = True
        yt = tensor_fn(xt)
        yt.backward()
        print(yt.data.item(), xt.grad.item())
'''


@pytest.mark.parametrize("snippet", [MICROGRAD_SANITY_CHECK, MICROGRAD_MORE_OPS, MICROGRAD_UNARY],
                         ids=["sanity_check", "more_ops", "unary_tensor_fns"])
def test_micrograd_engine_tests(snippet):
    assert_same([snippet], rtol=1e-12, atol=1e-12)


def test_micrograd_more_ops_with_the_augmented_assignments_of_the_micrograd_half():
    """micrograd writes `c += c + 1`; with tensors that is an in-place op on a graph tensor,
    which PyTorch records: the values and gradients stay those of `c = c + c + 1`."""
    augmented = (MICROGRAD_MORE_OPS.replace("c = c + c + 1", "c += c + 1")
                 .replace("c = c + 1 + c + (-a)", "c += 1 + c + (-a)")
                 .replace("d = d + d * 2", "d += d * 2").replace("d = d + 3 * d", "d += 3 * d"))
    theirs, _ = run([augmented], torch)
    ours, _ = run([augmented], tc)
    plain, _ = run([MICROGRAD_MORE_OPS], tc)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    np.testing.assert_allclose(ours, plain, rtol=1e-12)


# --- Learn the Basics: Tensors ------------------------------------------------------------------

LEARN_THE_BASICS_TENSORS = '''
import torch
import numpy as np

data = [[1, 2],[3, 4]]
x_data = torch.tensor(data)

np_array = np.array(data)
x_np = torch.from_numpy(np_array)

x_ones = torch.ones_like(x_data) # retains the properties of x_data
print(f"Ones Tensor: \\n {x_ones} \\n")

x_rand = torch.rand_like(x_data, dtype=torch.float) # overrides the datatype of x_data
print(f"Random Tensor: \\n {x_rand} \\n")

shape = (2,3,)
rand_tensor = torch.rand(shape)
ones_tensor = torch.ones(shape)
zeros_tensor = torch.zeros(shape)

print(f"Random Tensor: \\n {rand_tensor} \\n")
print(f"Ones Tensor: \\n {ones_tensor} \\n")
print(f"Zeros Tensor: \\n {zeros_tensor}")

tensor = torch.rand(3,4)

print(f"Shape of tensor: {tensor.shape}")
print(f"Datatype of tensor: {tensor.dtype}")
print(f"Device tensor is stored on: {tensor.device}")

# We move our tensor to the GPU if available, and if the cuda version is supported
if torch.cuda.is_available() & (torch.device('cuda').index is not None):
    tensor = tensor.to('cuda')

tensor = torch.ones(4, 4)
print('First row: ', tensor[0])
print('First column: ', tensor[:, 0])
print('Last column:', tensor[..., -1])
tensor[:,1] = 0
print(tensor)

t1 = torch.cat([tensor, tensor, tensor], dim=1)
print(t1)

# This computes the matrix multiplication between two tensors. y1, y2, y3 will have the same value
y1 = tensor @ tensor.T
y2 = tensor.matmul(tensor.T)

y3 = torch.rand_like(tensor)
torch.matmul(tensor, tensor.T, out=y3)


# This computes the element-wise product. z1, z2, z3 will have the same value
z1 = tensor * tensor
z2 = tensor.mul(tensor)

z3 = torch.rand_like(tensor)
torch.mul(tensor, tensor, out=z3)

agg = tensor.sum()
agg_item = agg.item()
print(agg_item, type(agg_item))

print(tensor, "\\n")
tensor.add_(5)
print(tensor)

t = torch.ones(5)
print(f"t: {t}")
n = t.numpy()
print(f"n: {n}")

t.add_(1)
print(f"t: {t}")
print(f"n: {n}")

n = np.ones(5)
t = torch.from_numpy(n)

np.add(n, 1, out=n)
print(f"t: {t}")
print(f"n: {n}")
'''

# the current revision moves the tensor with torch.accelerator
LEARN_THE_BASICS_TENSORS_ACCELERATOR = LEARN_THE_BASICS_TENSORS.replace('''# We move our tensor to the GPU if available, and if the cuda version is supported
if torch.cuda.is_available() & (torch.device('cuda').index is not None):
    tensor = tensor.to('cuda')
''', '''# We move our tensor to the current accelerator if available
if torch.accelerator.is_available():
    tensor = tensor.to(torch.accelerator.current_accelerator())
''')


@pytest.mark.parametrize("snippet", [LEARN_THE_BASICS_TENSORS,
                                     LEARN_THE_BASICS_TENSORS_ACCELERATOR],
                         ids=["cuda_check", "accelerator"])
def test_learn_the_basics_tensors(snippet):
    printed, named = assert_same([snippet], rtol=1e-6, names=[
        "y1", "y2", "y3", "z1", "z2", "z3", "x_np", "x_rand"])
    assert named[0] == named[1] == named[2] and named[3] == named[4] == named[5]
    assert printed[-2:] == [[2.0] * 5, [2.0] * 5]                # t and n share memory


# --- Learn the Basics: Automatic Differentiation with torch.autograd ---------------------------

LEARN_THE_BASICS_AUTOGRAD = '''
import torch

x = torch.ones(5)  # input tensor
y = torch.zeros(3)  # expected output
w = torch.randn(5, 3, requires_grad=True)
b = torch.randn(3, requires_grad=True)
z = torch.matmul(x, w) + b
loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)

# skipped: print(f"Gradient function for z = {z.grad_fn}") and the same for loss (grad_fn
# objects are not in tinygrad_conv yet)

loss.backward()
print(w.grad)
print(b.grad)

z = torch.matmul(x, w)+b
print(z.requires_grad)

with torch.no_grad():
    z = torch.matmul(x, w)+b
print(z.requires_grad)

z = torch.matmul(x, w)+b
z_det = z.detach()
print(z_det.requires_grad)

inp = torch.eye(4, 5, requires_grad=True)
out = (inp+1).pow(2).t()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"First call\\n{inp.grad}")
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\\nSecond call\\n{inp.grad}")
inp.grad.zero_()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\\nCall after zeroing gradients\\n{inp.grad}")
'''


def test_learn_the_basics_autograd():
    printed, named = assert_same([LEARN_THE_BASICS_AUTOGRAD], names=["loss", "z", "z_det"])
    assert printed[2:5] == [[1.0], [0.0], [0.0]]
    first, second, zeroed = (np.array(p[-20:]) for p in printed[5:])
    np.testing.assert_array_equal(second, 2 * first)
    np.testing.assert_array_equal(zeroed, first)
