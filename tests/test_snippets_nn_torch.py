"""Public PyTorch snippets, run twice from one text: once with `torch` bound to torch, once bound
to tinygrad_conv (plus `nn`, `F`, `optim`), from the same initial weights (torch's state_dict
copied into ours through numpy) and the same data, comparing every number.

Sources (each snippet's text is kept as published, except the lines marked `# changed:`):
- pytorch/tutorials beginner_source/blitz/neural_networks_tutorial.py ("Neural Networks")
- pytorch/tutorials beginner_source/blitz/cifar10_tutorial.py ("Training a Classifier")
- pytorch/tutorials beginner_source/saving_loading_models.py ("Saving and Loading Models")
- pytorch/tutorials beginner_source/basics/optimization_tutorial.py ("Optimizing Model Parameters")
- pytorch/examples mnist/main.py (Net, train, test, Adadelta + StepLR(step_size=1, gamma=0.7))
- d2l-en chapter_convolutional-neural-networks/lenet.md (LeNet with LazyConv2d / LazyLinear,
  the layer_summary loop) and chapter_builders-guide/lazy-init.md

The changes are all about Tensor functions outside nn/optim/data (torch.randn, torch.flatten,
torch.max(x, 1), .type(torch.float), .eq/.view_as, .to(device), grad_fn): random inputs come
from numpy as torch.tensor(array); torch.flatten(x, 1) is written x.flatten(1); torch.max(x, 1)
is x.argmax(1). Printed numbers are compared to the printed precision; torch.Size([a, b]) is
compared as the tuple (a, b).
"""
import builtins
import io
import re
import types
from contextlib import redirect_stdout

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

import tinygrad_conv as tc  # noqa: E402


# ----------------------------------------------------------------------------------------------
# The harness


def _tc_import(name, globals=None, locals=None, fromlist=(), level=0):
    """`import torch.optim as optim` inside a snippet imports tinygrad_conv.optim."""
    if name == "torch" or name.startswith("torch."):
        name = "tinygrad_conv" + name[len("torch"):]
    return builtins.__import__(name, globals, locals, fromlist, level)


def bindings(lib):
    """The names a snippet sees: torch, nn, F, optim of one library (and, for tinygrad_conv,
    imports of torch.* redirected to tinygrad_conv.*)."""
    if lib == "torch":
        return {"torch": torch, "nn": torch.nn, "F": torch.nn.functional, "optim": torch.optim,
                "__name__": "snippet"}
    return {"torch": tc, "nn": tc.nn, "F": tc.functional, "optim": tc.optim, "__name__": "snippet",
            "__builtins__": {**vars(builtins), "__import__": _tc_import}}


class Run:
    """One pass over a snippet's cells in one library: code cells run with stdout captured,
    hooks (Python functions) copy weights or record numbers between them."""

    def __init__(self, lib, shared):
        self.lib, self.shared, self.ns, self.printed, self.numbers = lib, shared, bindings(lib), [], {}

    def run(self, cells):
        for cell in cells:
            if callable(cell):
                cell(self)
                continue
            out = io.StringIO()
            with redirect_stdout(out):
                exec(compile(cell, f"<snippet {self.lib}>", "exec"), self.ns)
            self.printed.append(out.getvalue())
        return self


def numpy_of(value):
    if isinstance(value, torch.Tensor):
        return value.detach().numpy().copy()
    return np.array(value.data if isinstance(value, tc.Tensor) else value, copy=True)


def same_weights(name):
    """Hook: torch's run records ns[name].state_dict(); ours loads it (after building the model)."""
    def hook(run):
        model = run.ns[name]
        if run.lib == "torch":
            run.shared[name] = {k: numpy_of(v) for k, v in model.state_dict().items()}
        else:
            model.load_state_dict(run.shared[name])
    return hook


def record(label, expression):
    """Hook: evaluate `expression` in the snippet's namespace and keep it as numbers."""
    def hook(run):
        value = eval(expression, run.ns)
        if isinstance(value, dict):
            run.numbers[label] = {k: numpy_of(v) for k, v in value.items()}
        elif isinstance(value, (list, tuple)):
            run.numbers[label] = [numpy_of(v) for v in value]
        else:
            run.numbers[label] = numpy_of(value)
    return hook


def provide(**arrays):
    """Hook: put numpy arrays into the namespace (the data a tutorial would download or draw)."""
    def hook(run):
        run.ns.update({k: (v() if callable(v) else v) for k, v in arrays.items()})
    return hook


def grads_of(name):
    return record(f"{name} grads", f"{{k: p.grad for k, p in {name}.named_parameters()}}")


def weights_of(name):
    return record(f"{name} weights", f"{name}.state_dict()")


_SIZE = re.compile(r"torch\.Size\(\[([^\]]*)\]\)")
_NUMBER = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?|-?\d+")


def normalise(text):
    """torch.Size([a, b]) -> (a, b), torch.Size([a]) -> (a,): how our shapes print."""
    def as_tuple(match):
        items = match.group(1)
        return f"({items},)" if items and "," not in items else f"({items})"
    return _SIZE.sub(as_tuple, text)


def assert_same_print(ours, theirs):
    """The same text, numbers equal to the printed precision (one unit of the last digit, or
    float32 relative precision)."""
    ours, theirs = normalise(ours), normalise(theirs)
    assert _NUMBER.sub("#", ours) == _NUMBER.sub("#", theirs), (ours, theirs)
    for a, b in zip(_NUMBER.findall(ours), _NUMBER.findall(theirs)):
        decimals = len(b.split(".")[1].split("e")[0]) if "." in b else 0
        assert abs(float(a) - float(b)) <= 10.0 ** -decimals + 2e-6 * abs(float(b)), (a, b, ours, theirs)


def assert_close(ours, theirs, path=""):
    if isinstance(theirs, dict):
        assert list(ours) == list(theirs), path
        for key in theirs:
            assert_close(ours[key], theirs[key], f"{path}[{key!r}]")
    elif isinstance(theirs, list):
        assert len(ours) == len(theirs), path
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_close(a, b, f"{path}[{i}]")
    else:
        assert np.shape(ours) == np.shape(theirs), path
        scale = max(1.0, float(np.abs(theirs).max(initial=0)))
        np.testing.assert_allclose(ours, theirs, rtol=2e-5, atol=2e-6 * scale, err_msg=path)


def run_both(cells, compare_prints):
    """Run the cells with torch, then with tinygrad_conv; compare the recorded numbers and
    the prints of the code cells whose index is in compare_prints."""
    shared = {}
    theirs = Run("torch", shared).run(cells)
    ours = Run("tc", shared).run(cells)
    assert ours.numbers.keys() == theirs.numbers.keys()
    for label in theirs.numbers:
        assert_close(ours.numbers[label], theirs.numbers[label], label)
    for i in compare_prints:
        assert_same_print(ours.printed[i], theirs.printed[i])
    return ours, theirs


@pytest.fixture(autouse=True)
def _seeds():
    torch.manual_seed(0)
    tc.manual_seed(0)


# ----------------------------------------------------------------------------------------------
# Neural Networks (60-minute blitz)

BLITZ_NET = '''
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):

    def __init__(self):
        super(Net, self).__init__()
        # 1 input image channel, 6 output channels, 5x5 square convolution
        # kernel
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        # an affine operation: y = Wx + b
        self.fc1 = nn.Linear(16 * 5 * 5, 120)  # 5*5 from image dimension
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, input):
        c1 = F.relu(self.conv1(input))
        s2 = F.max_pool2d(c1, (2, 2))
        c3 = F.relu(self.conv2(s2))
        s4 = F.max_pool2d(c3, 2)
        s4 = s4.flatten(1)  # changed: torch.flatten(s4, 1)
        f5 = F.relu(self.fc1(s4))
        f6 = F.relu(self.fc2(f5))
        output = self.fc3(f6)
        return output


net = Net()
print(net)
'''

BLITZ_PARAMS = '''
params = list(net.parameters())
print(len(params))
print(params[0].size())  # conv1's .weight
'''

BLITZ_FORWARD = '''
input = torch.tensor(input_np)  # changed: torch.randn(1, 1, 32, 32)
out = net(input)
print(out)
net.zero_grad()
out.backward(torch.tensor(dout_np))  # changed: torch.randn(1, 10)
'''

BLITZ_LOSS = '''
output = net(input)
target = torch.tensor(target_np)  # changed: torch.randn(10), a dummy target, for example
target = target.view(1, -1)  # make it the same shape as output
criterion = nn.MSELoss()

loss = criterion(output, target)
print(loss)
'''
# skipped: print(loss.grad_fn), loss.grad_fn.next_functions[0][0] (the graph's grad_fn objects)

BLITZ_BACKPROP = '''
net.zero_grad()     # zeroes the gradient buffers of all parameters

print('conv1.bias.grad before backward')
print(net.conv1.bias.grad)

loss.backward()

print('conv1.bias.grad after backward')
'''
# skipped: the manual update `f.data.sub_(f.grad.data * learning_rate)` (.data is a numpy array
# here, the teaching contract; numpy has no sub_)

BLITZ_OPTIM = '''
import torch.optim as optim

# create your optimizer
optimizer = optim.SGD(net.parameters(), lr=0.01)

# in your training loop:
optimizer.zero_grad()   # zero the gradient buffers
output = net(input)
loss = criterion(output, target)
loss.backward()
optimizer.step()    # Does the update
'''


def test_blitz_neural_networks():
    rng = np.random.default_rng(1)
    cells = [BLITZ_NET, same_weights("net"), BLITZ_PARAMS,
             record("shapes", "[p.shape for p in params]"),
             provide(input_np=rng.standard_normal((1, 1, 32, 32)).astype(np.float32),
                     dout_np=rng.standard_normal((1, 10)).astype(np.float32),
                     target_np=rng.standard_normal(10).astype(np.float32)),
             BLITZ_FORWARD, record("out", "out"), grads_of("net"),
             BLITZ_LOSS, record("loss", "loss"),
             BLITZ_BACKPROP, grads_of("net"), record("conv1.bias.grad", "net.conv1.bias.grad"),
             BLITZ_OPTIM, record("loss", "loss"),
             weights_of("net")]
    ours, theirs = run_both(cells, compare_prints=[0, 1, 4])
    assert ours.printed[1].split("\n")[0] == "10"
    assert "conv1.bias.grad before backward\nNone\n" in ours.printed[4]


# ----------------------------------------------------------------------------------------------
# Training a Classifier (60-minute blitz, CIFAR-10 on small random data)

CIFAR_NET = '''
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.flatten(1)  # changed: torch.flatten(x, 1) # flatten all dimensions except batch
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


net = Net()
print(net)
'''

CIFAR_LOADERS = '''
trainloader = torch.utils.data.DataLoader(
    torch.utils.data.TensorDataset(torch.tensor(x_train), torch.tensor(y_train)), batch_size=4)
testloader = torch.utils.data.DataLoader(
    torch.utils.data.TensorDataset(torch.tensor(x_test), torch.tensor(y_test)), batch_size=4)
losses = []
'''

CIFAR_TRAIN = '''
import torch.optim as optim

criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)

for epoch in range(2):  # loop over the dataset multiple times

    running_loss = 0.0
    for i, data in enumerate(trainloader, 0):
        # get the inputs; data is a list of [inputs, labels]
        inputs, labels = data

        # zero the parameter gradients
        optimizer.zero_grad()

        # forward + backward + optimize
        outputs = net(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()

        # print statistics
        running_loss += loss.item()
        losses.append(loss.item())  # changed: added, to compare every step
        if i % 2 == 1:    # changed: 2000 and 1999 mini-batches
            print(f'[{epoch + 1}, {i + 1:5d}] loss: {running_loss / 2:.3f}')
            running_loss = 0.0

print('Finished Training')

PATH = PATH_DIR + '/cifar_net.pth'  # changed: './cifar_net.pth'
torch.save(net.state_dict(), PATH)
'''

CIFAR_TEST = '''
net = Net()
net.load_state_dict(torch.load(PATH))

correct = 0
total = 0
# since we're not training, we don't need to calculate the gradients for our outputs
with torch.no_grad():
    for data in testloader:
        images, labels = data
        # calculate outputs by running images through the network
        outputs = net(images)
        # the class with the highest energy is what we choose as prediction
        predicted = outputs.data.argmax(1)  # changed: _, predicted = torch.max(outputs.data, 1)
        total += labels.size(0)
        correct += (predicted == labels).sum().item()

print(f'Accuracy of the network on the 10000 test images: {100 * correct // total} %')
'''
# skipped: the per-class accuracy loop (iterating a Tensor, `if label == prediction`, and
# classes[label] need Tensor.__bool__ / __index__)


def test_blitz_training_a_classifier(tmp_path):
    rng = np.random.default_rng(2)
    cells = [CIFAR_NET, same_weights("net"),
             provide(x_train=rng.standard_normal((16, 3, 32, 32)).astype(np.float32),
                     y_train=rng.integers(0, 10, 16), PATH_DIR=str(tmp_path),
                     x_test=rng.standard_normal((8, 3, 32, 32)).astype(np.float32),
                     y_test=rng.integers(0, 10, 8)),
             CIFAR_LOADERS, CIFAR_TRAIN, record("losses", "losses"), weights_of("net"),
             CIFAR_TEST, record("correct", "correct")]
    ours, theirs = run_both(cells, compare_prints=[0, 2, 3])
    assert ours.printed[2].count("loss:") == 4 and "Finished Training" in ours.printed[2]


# ----------------------------------------------------------------------------------------------
# Saving and Loading Models

SAVING_MODEL = '''
# Define model
class TheModelClass(nn.Module):
    def __init__(self):
        super(TheModelClass, self).__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, 16 * 5 * 5)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x

# Initialize model
model = TheModelClass()
'''

SAVING_PRINTS = '''
# Initialize optimizer
optimizer = optim.SGD(model.parameters(), lr=0.001, momentum=0.9)

# Print model's state_dict
print("Model's state_dict:")
for param_tensor in model.state_dict():
    print(param_tensor, "\\t", model.state_dict()[param_tensor].size())

# Print optimizer's state_dict
print("Optimizer's state_dict:")
for var_name in optimizer.state_dict():
    print(var_name, "\\t", optimizer.state_dict()[var_name])
'''

SAVING_ONE_STEP = '''
inputs, labels = torch.tensor(x_np), torch.tensor(y_np)  # changed: added, the data of one step
optimizer.zero_grad()
loss = F.cross_entropy(model(inputs), labels)
loss.backward()
optimizer.step()
epoch = 5
'''

SAVING_CHECKPOINT = '''
torch.save({
            'epoch': epoch,
            'model_state_dict': model.state_dict(),
            'optimizer_state_dict': optimizer.state_dict(),
            'loss': loss,
            }, PATH)
'''

LOADING_CHECKPOINT = '''
model = TheModelClass()
optimizer = optim.SGD(model.parameters(), lr=0.001, momentum=0.9)

checkpoint = torch.load(PATH)
model.load_state_dict(checkpoint['model_state_dict'])
optimizer.load_state_dict(checkpoint['optimizer_state_dict'])
epoch = checkpoint['epoch']
loss = checkpoint['loss']

model.eval()
# - or -
model.train()
'''

WARMSTART = '''
torch.save(model.state_dict(), PATH)
modelB = nn.Sequential()  # changed: TheModelBClass(*args, **kwargs), a model with no matching keys
print(modelB.load_state_dict(torch.load(PATH), strict=False).missing_keys)
'''


def test_saving_and_loading_a_general_checkpoint(tmp_path):
    rng = np.random.default_rng(3)
    cells = [SAVING_MODEL, same_weights("model"), SAVING_PRINTS,
             provide(x_np=rng.standard_normal((4, 3, 32, 32)).astype(np.float32),
                     y_np=rng.integers(0, 10, 4), PATH=str(tmp_path / "model.tar")),
             SAVING_ONE_STEP, weights_of("model"), SAVING_CHECKPOINT, LOADING_CHECKPOINT,
             record("epoch", "epoch"), record("loss", "loss"), weights_of("model"),
             record("momentum buffers", "[s['momentum_buffer'] for s in "
                                        "optimizer.state_dict()['state'].values()]"),
             SAVING_ONE_STEP.replace("epoch = 5\n", ""), weights_of("model"), WARMSTART]
    ours, theirs = run_both(cells, compare_prints=[1, 5])
    # the optimizer's state_dict prints exactly as torch's: state {} and every param_group key
    assert "param_groups \t [{'lr': 0.001, 'momentum': 0.9, 'dampening': 0, 'weight_decay': 0, " \
           "'nesterov': False, 'maximize': False, 'foreach': None, 'differentiable': False, " \
           "'fused': None, 'params': [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]}]" in ours.printed[1]
    assert ours.printed[1] == normalise(theirs.printed[1])


# ----------------------------------------------------------------------------------------------
# Optimizing Model Parameters (Learn the Basics), on random FashionMNIST-shaped data

BASICS_MODEL = '''
class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28*28, 512),
            nn.ReLU(),
            nn.Linear(512, 512),
            nn.ReLU(),
            nn.Linear(512, 10),
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits

model = NeuralNetwork()
print(model)
'''

BASICS_DATA = '''
from torch.utils.data import DataLoader
train_dataloader = DataLoader(torch.utils.data.TensorDataset(torch.tensor(x_train), torch.tensor(y_train)), batch_size=64)  # changed: FashionMNIST
test_dataloader = DataLoader(torch.utils.data.TensorDataset(torch.tensor(x_test), torch.tensor(y_test)), batch_size=64)  # changed: FashionMNIST
'''

BASICS_LOOPS = '''
learning_rate = 1e-3
batch_size = 64
epochs = 5

def train_loop(dataloader, model, loss_fn, optimizer):
    size = len(dataloader.dataset)
    # Set the model to training mode - important for batch normalization and dropout layers
    # Unnecessary in this situation but added for best practices
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        # Compute prediction and loss
        pred = model(X)
        loss = loss_fn(pred, y)

        # Backpropagation
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

        if batch % 1 == 0:  # changed: batch % 100
            loss, current = loss.item(), batch * batch_size + len(X)
            print(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")


def test_loop(dataloader, model, loss_fn):
    # Set the model to evaluation mode - important for batch normalization and dropout layers
    # Unnecessary in this situation but added for best practices
    model.eval()
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    test_loss, correct = 0, 0

    # Evaluating the model with torch.no_grad() ensures that no gradients are computed during test mode
    # also serves to reduce unnecessary gradient computations and memory usage for tensors with requires_grad=True
    with torch.no_grad():
        for X, y in dataloader:
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).float().sum().item()  # changed: .type(torch.float)

    test_loss /= num_batches
    correct /= size
    print(f"Test Error: \\n Accuracy: {(100*correct):>0.1f}%, Avg loss: {test_loss:>8f} \\n")

loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)

epochs = 2  # changed: 10
for t in range(epochs):
    print(f"Epoch {t+1}\\n-------------------------------")
    train_loop(train_dataloader, model, loss_fn, optimizer)
    test_loop(test_dataloader, model, loss_fn)
print("Done!")
'''


def test_basics_optimizing_model_parameters():
    rng = np.random.default_rng(4)
    cells = [BASICS_MODEL, same_weights("model"),
             provide(x_train=rng.random((128, 1, 28, 28), dtype=np.float32),
                     y_train=rng.integers(0, 10, 128),
                     x_test=rng.random((64, 1, 28, 28), dtype=np.float32),
                     y_test=rng.integers(0, 10, 64)),
             BASICS_DATA, BASICS_LOOPS, weights_of("model")]
    ours, _ = run_both(cells, compare_prints=[0, 2])
    assert ours.printed[2].count("\nloss:") == 4 and ours.printed[2].endswith("Done!\n")


# ----------------------------------------------------------------------------------------------
# pytorch/examples mnist/main.py

MNIST_NET = '''
from torch.optim.lr_scheduler import StepLR


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = x.flatten(1)  # changed: torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


def train(args, model, device, train_loader, optimizer, epoch):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        # changed: data, target = data.to(device), target.to(device) left out
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx % args.log_interval == 0:
            print('Train Epoch: {} [{}/{} ({:.0f}%)]\\tLoss: {:.6f}'.format(
                epoch, batch_idx * len(data), len(train_loader.dataset),
                100. * batch_idx / len(train_loader), loss.item()))
            if args.dry_run:
                break


def test(model, device, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            # changed: data, target = data.to(device), target.to(device) left out
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction='sum').item()  # sum up batch loss
            pred = output.argmax(dim=1, keepdim=True)  # get the index of the max log-probability
            correct += (pred == target.view(pred.shape)).sum().item()  # changed: pred.eq(target.view_as(pred))

    test_loss /= len(test_loader.dataset)

    print('\\nTest set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)\\n'.format(
        test_loss, correct, len(test_loader.dataset),
        100. * correct / len(test_loader.dataset)))

device = "cpu"  # changed: torch.device("cpu")
model = Net().to(device)
'''

MNIST_MAIN = '''
train_kwargs = {'batch_size': args.batch_size}
test_kwargs = {'batch_size': args.test_batch_size}
dataset1 = torch.utils.data.TensorDataset(torch.tensor(x_train), torch.tensor(y_train))  # changed: datasets.MNIST
dataset2 = torch.utils.data.TensorDataset(torch.tensor(x_test), torch.tensor(y_test))  # changed: datasets.MNIST
train_loader = torch.utils.data.DataLoader(dataset1,**train_kwargs)
test_loader = torch.utils.data.DataLoader(dataset2, **test_kwargs)

optimizer = optim.Adadelta(model.parameters(), lr=args.lr)

scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
lrs = []  # changed: added, to compare the schedule
for epoch in range(1, args.epochs + 1):
    train(args, model, device, train_loader, optimizer, epoch)
    test(model, device, test_loader)
    scheduler.step()
    lrs.append(scheduler.get_last_lr())  # changed: added
'''


def no_dropout(run):
    # the two libraries draw different dropout masks, so the numbers are compared with p = 0
    run.ns["model"].dropout1.p = run.ns["model"].dropout2.p = 0.0


def test_pytorch_examples_mnist():
    rng = np.random.default_rng(5)
    args = types.SimpleNamespace(batch_size=8, test_batch_size=10, epochs=2, lr=1.0, gamma=0.7,
                                 log_interval=1, dry_run=False)
    cells = [MNIST_NET, same_weights("model"), no_dropout,
             provide(args=args, x_train=((rng.random((16, 1, 28, 28)) - 0.1307) / 0.3081).astype(np.float32),
                     y_train=rng.integers(0, 10, 16),
                     x_test=((rng.random((10, 1, 28, 28)) - 0.1307) / 0.3081).astype(np.float32),
                     y_test=rng.integers(0, 10, 10)),
             MNIST_MAIN, record("lrs", "lrs"), weights_of("model")]
    ours, _ = run_both(cells, compare_prints=[1])
    assert ours.printed[1].count("Train Epoch") == 4 and ours.printed[1].count("Test set") == 2


# ----------------------------------------------------------------------------------------------
# d2l: LeNet with lazy layers, the layer summary, lazy initialisation

D2L_LENET = '''
def init_cnn(module):  #@save
    """Initialize weights for CNNs."""
    if type(module) == nn.Linear or type(module) == nn.Conv2d:
        nn.init.xavier_uniform_(module.weight)

num_classes = 10
net = nn.Sequential(
    nn.LazyConv2d(6, kernel_size=5, padding=2), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.LazyConv2d(16, kernel_size=5), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Flatten(),
    nn.LazyLinear(120), nn.Sigmoid(),
    nn.LazyLinear(84), nn.Sigmoid(),
    nn.LazyLinear(num_classes))
print(net)
print(net[0].weight)
optimizer = torch.optim.SGD(net.parameters(), lr=0.1)  # changed: added, built before the dry run
'''

D2L_SUMMARY = '''
X = torch.tensor(X_np)  # changed: d2l.randn(*X_shape)
for layer in net:
    X = layer(X)
    print(layer.__class__.__name__, 'output shape:\\t', X.shape)
net.apply(init_cnn)
print(net)
'''

D2L_TRAIN = '''
# changed: a few SGD steps in place of d2l.Trainer (loss: d2l.Classifier's cross entropy)
losses = []
for X, y in torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(x_train), torch.tensor(y_train)), batch_size=8):
    loss = F.cross_entropy(net(X), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
'''

D2L_LAZY_MLP = '''
mlp = nn.Sequential(nn.LazyLinear(256), nn.ReLU(), nn.LazyLinear(10))
print(mlp[0].weight)
mlp(torch.tensor(X_mlp))  # changed: X = torch.rand(2, 20)
print(mlp[0].weight.shape)
'''


def test_d2l_lenet_with_lazy_layers():
    rng = np.random.default_rng(6)
    cells = [D2L_LENET, provide(X_np=rng.random((1, 1, 28, 28), dtype=np.float32),
                                x_train=rng.random((16, 1, 28, 28), dtype=np.float32),
                                y_train=rng.integers(0, 10, 16),
                                X_mlp=rng.random((2, 20), dtype=np.float32)),
             D2L_SUMMARY, same_weights("net"), D2L_TRAIN, record("losses", "losses"),
             weights_of("net"), D2L_LAZY_MLP]
    ours, _ = run_both(cells, compare_prints=[0, 1, 3])
    assert "<UninitializedParameter>" in ours.printed[0]
    assert "Conv2d output shape:\t (1, 6, 28, 28)" in ours.printed[1]
    assert "Linear output shape:\t (1, 10)" in ours.printed[1]
    assert ours.printed[3] == "<UninitializedParameter>\n(256, 20)\n"
