"""chainrule: automatic differentiation of plain NumPy code.

>>> import numpy as np, chainrule as cr
>>> x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> y = np.sum(np.exp(x) * x)
>>> y.backward()
>>> x.grad.round(3)
array([ 5.437, 22.167, 80.342])
"""

from __future__ import annotations

# _tensor first: it pulls in the engine, the dispatch layer and the elementwise ops.
from . import _tensor as _tensor_module  # isort: skip
from . import nn, optim
from ._mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from ._pytree import (
    flatten,
    register_pytree,
    tree_flatten,
    tree_leaves,
    tree_map,
    tree_unflatten,
)
from ._tensor import Tensor, tensor
from .activations import (
    log_sigmoid,
    log_softmax,
    logsumexp,
    relu,
    sigmoid,
    sigmoid_backward,
    softmax,
    softplus,
    tanh,
)
from .anomaly import detect_anomaly
from .errors import AnomalyError, BackwardError, FunctionBackwardError, GradcheckError
from .function import Function
from .gradcheck import gradcheck
from .minimize import minimize
from .ops import (  # registers the rules
    composites,
    decompositions,
    elementwise,
    fft,
    indexing,
    linalg,
    nondiff,
    reductions,
    shape,
    special,
)
from .transforms import grad, hessian, hvp, jacobian, jvp, value_and_grad, vjp

del (
    composites,
    decompositions,
    elementwise,
    fft,
    indexing,
    linalg,
    nondiff,
    reductions,
    shape,
    special,
)

# Temporaries' reference counts on this interpreter, once every rule is registered.
_tensor_module.calibrate_elision()

__version__ = "0.1.0"

__all__ = [
    "AnomalyError",
    "BackwardError",
    "Function",
    "FunctionBackwardError",
    "GradcheckError",
    "Tensor",
    "detect_anomaly",
    "enable_grad",
    "flatten",
    "grad",
    "gradcheck",
    "hessian",
    "hvp",
    "is_grad_enabled",
    "jacobian",
    "jvp",
    "log_sigmoid",
    "log_softmax",
    "logsumexp",
    "minimize",
    "nn",
    "no_grad",
    "optim",
    "register_pytree",
    "relu",
    "set_grad_enabled",
    "sigmoid",
    "sigmoid_backward",
    "softmax",
    "softplus",
    "tanh",
    "tensor",
    "tree_flatten",
    "tree_leaves",
    "tree_map",
    "tree_unflatten",
    "value_and_grad",
    "vjp",
]
