"""chainrule: automatic differentiation of plain NumPy code.

>>> import numpy as np, chainrule as cr
>>> x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> y = np.sum(np.exp(x) * x)
>>> y.backward()
>>> x.grad.round(3)
array([ 5.437, 22.167, 80.342])
"""

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

# ops registers every rule; _tensor_methods binds Tensor's operators and methods.
from . import _elide, _tensor_methods, ops  # noqa: F401
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
from .errors import (
    AnomalyError,
    BackwardError,
    FunctionBackwardError,
    GradcheckError,
    StagingError,
)
from .function import Function
from .gradcheck import gradcheck
from .graph import on_record
from .jacobians import hessian, hvp, jacobian
from .transforms import grad, jvp, value_and_grad, vjp

if TYPE_CHECKING:
    from . import nn, optim
    from ._draw import draw
    from ._minimize import minimize
    from .staging.compiled import Compiled
    from .staging.explain import Explanation

__version__ = "0.1.0"

__all__ = [
    "AnomalyError",
    "BackwardError",
    "Function",
    "FunctionBackwardError",
    "GradcheckError",
    "StagingError",
    "Tensor",
    "compile",
    "detect_anomaly",
    "draw",
    "enable_grad",
    "explain",
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
    "on_record",
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

# Importing ops registered every rule, and _tensor_methods bound Tensor's operators:
# now the reference counts of temporaries on this interpreter can be measured.
_elide.calibrate_elision()


def explain(f: Callable[..., Any], *args: Any, argnums: int | tuple[int, ...] = 0) -> "Explanation":
    """The backward pass of ``f`` at ``args``, written out as lecture-style NumPy code.

    ``print`` the result to read it; call it to run it: ``(value, grads)`` as
    ``cr.value_and_grad(f, argnums)(*args)``. See ``chainrule.staging.explain``.

    >>> import numpy as np, chainrule as cr
    >>> e = cr.explain(lambda x: np.exp(2.0 * x), 0.5)
    >>> e.backward_lines
    ('dtwo_times_x = out', 'dx = 2.0 * dtwo_times_x')
    >>> e(0.5)
    (np.float64(2.718281828459045), array(5.43656366))
    """
    # Imported here, not with chainrule: the trace-and-write machinery is for this call.
    from .staging.explain import explain as write_out

    return write_out(f, *args, argnums=argnums)


def compile(
    fn: Callable[..., Any] | None = None, *, static_argnums: Any = (), max_retraces: int = 8
) -> "Compiled":
    """Trace ``fn`` once per kind of argument; later calls run the straight-line NumPy
    program the trace became. Usable as a decorator. See ``chainrule.staging.compiled``.

    >>> import numpy as np, chainrule as cr
    >>> step = cr.compile(cr.value_and_grad(lambda w: np.sum(np.tanh(w) ** 2)))
    >>> value, g = step(np.array([0.5, -1.0]))
    >>> round(float(value), 6), g.round(6)
    (0.793578, array([ 0.726862, -0.6397  ]))
    """
    # Imported here, not with chainrule: the code generator loads on first use.
    from .staging.compiled import compile as stage

    return stage(fn, static_argnums=static_argnums, max_retraces=max_retraces)  # type: ignore[no-any-return]


# Imported on first use, not with chainrule (import time is a benchmark): name ->
# (module, attribute, or None for the module itself).
_LAZY: dict[str, tuple[str, str | None]] = {
    "draw": ("._draw", "draw"),
    "minimize": ("._minimize", "minimize"),
    "nn": (".nn", None),
    "optim": (".optim", None),
    "scipy": (".scipy", None),  # needs SciPy
}


def __getattr__(name: str) -> Any:
    """The names of ``_LAZY``, imported the first time they are used."""
    if name not in _LAZY:
        raise AttributeError(f"module 'chainrule' has no attribute {name!r}")
    where, attribute = _LAZY[name]
    module = importlib.import_module(where, __name__)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public face: ``__all__`` and the documented submodules, nothing private."""
    return sorted({*__all__, *_LAZY, "graph", "__version__"})
