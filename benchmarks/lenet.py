"""LeNet-5 (ReLU, max-pool) in either framework's nn: the model of run.py's training-step and
memory rows and of page_faults.py."""


def lenet5(framework):
    """(N, 1, 28, 28) -> (N, 10), built from framework.Conv2d, .Linear, ... (tinygrad_conv.nn or
    torch.nn)."""
    return framework.Sequential(
        framework.Conv2d(1, 6, 5, padding=2), framework.ReLU(), framework.MaxPool2d(2),
        framework.Conv2d(6, 16, 5), framework.ReLU(), framework.MaxPool2d(2), framework.Flatten(),
        framework.Linear(400, 120), framework.ReLU(), framework.Linear(120, 84), framework.ReLU(),
        framework.Linear(84, 10))
