"""The autograd core: the graph (engine), the modes that change what gets recorded, the guards on
saved inputs, PyTorch's view of the graph (grad_fn), grad, and gradcheck. It imports nothing of
the package above it."""
from .engine import PRIMITIVES, Node, Primitive, Tensor, backward, primitive, sweep, toposort, vjp_of
from .gradcheck import GradcheckError, gradcheck
from .gradients import grad
from .graph import AccumulateGrad, BackwardFunction
from .modes import (STATE, detect_anomaly, enable_grad, inference_mode, is_anomaly_enabled,
                    is_grad_enabled, is_inference_mode_enabled, no_grad, set_grad_enabled)

__all__ = ["PRIMITIVES", "Node", "Primitive", "Tensor", "backward", "primitive", "sweep",
           "toposort", "vjp_of", "GradcheckError", "gradcheck", "grad", "AccumulateGrad",
           "BackwardFunction", "STATE", "detect_anomaly", "enable_grad", "inference_mode",
           "is_anomaly_enabled", "is_grad_enabled", "is_inference_mode_enabled", "no_grad",
           "set_grad_enabled"]
