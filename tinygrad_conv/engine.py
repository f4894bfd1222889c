# temporary: the old import path, until nn/optim/data/viz import from autograd
from .autograd import *  # noqa
from .autograd import STATE, Tensor, no_grad, sweep, toposort, vjp_of  # noqa
from .autograd.guards import CHECKSUM_BYTES as _CHECKSUM_BYTES, LOCK_COUNTS as _LOCK_COUNTS  # noqa
from .dtypes import to_array  # noqa
