"""What the drawing takes from the rest of tinygrad_conv, imported here and nowhere else in viz/.

Every other module of the package imports these names from here; nothing else lives here.
"""
from ..autograd import Tensor, no_grad, sweep, toposort  # noqa: F401
from ..autograd.composites import call_of  # noqa: F401
from ..nn import Parameter  # noqa: F401
from ..ops.conv import remainder  # noqa: F401
from ..ops.pool import _divisor  # noqa: F401
