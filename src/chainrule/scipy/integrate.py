"""``scipy.integrate.odeint`` with an adjoint gradient.

The forward pass is SciPy's ``odeint`` on arrays. The backward pass integrates
the adjoint system backwards in time, from each output time to the previous
one, on the augmented state ``[y, a, a_t, a_args]`` (Pontryagin; as HIPS
autograd's ``grad_odeint`` and the neural-ODE paper): ``dy/dt = f(y, t, args)``,
``da/dt = -a^T df/dy``, ``da_t/dt = -a^T df/dt`` and ``da_args/dt = -a^T df/dargs``.

Forward mode (``cr.jvp``) integrates the sensitivity equations forwards
instead. The products with ``f``'s Jacobians come from ``cr.vjp`` and
``cr.jvp``, so ``func`` must be NumPy code that also runs on Tensors
(``np.stack([...])``, not ``np.array([...])``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.integrate as sint

from .._tensor import Tensor
from ..function import Function
from ..transforms import jvp, vjp
from ._util import values

__all__ = ["odeint"]

# Solver options that also make sense for the augmented (adjoint) solves; the others
# (Dfun, tcrit, h0 ...) describe the original system only.
_SHARED_OPTIONS = ("hmax", "hmin", "mxstep", "mxhnil", "mxordn", "mxords", "printmessg")
_REFUSED = {
    "full_output": "it changes what odeint returns",
    "col_deriv": "pass Dfun in row form",
}


def _holds_tensor(tree: Any) -> bool:
    if isinstance(tree, Tensor):
        return True
    items = tree.values() if isinstance(tree, dict) else tree
    return isinstance(tree, (list, tuple, dict)) and any(_holds_tensor(x) for x in items)


class _Odeint(Function):
    def __init__(
        self, func: Callable[..., Any], tfirst: bool, tols: dict, options: dict, diff: list
    ) -> None:
        self.func, self.tfirst, self.tols, self.options = func, tfirst, tols, options
        self.diff = diff  # per arg: is its gradient wanted

    def call(self, y: Any, t: Any, args: tuple) -> Any:
        out = self.func(t, y, *args) if self.tfirst else self.func(y, t, *args)
        if isinstance(out, (list, tuple)):
            out = np.stack([np.reshape(o, ()) for o in out])
        return np.reshape(out, (-1,))

    def forward(self, y0: Any, t: Any, *args: Any) -> Any:
        self.y0_shape, self.args = np.shape(y0), args
        self.t = np.asarray(t, dtype=np.float64)
        ys = sint.odeint(
            lambda y, s, *a: np.asarray(self.call(y, s, a), dtype=np.float64),
            np.reshape(np.asarray(y0, dtype=np.float64), (-1,)),
            self.t,
            args=args,
            **self.tols,
            **self.options,
        )
        self.ys = ys  # kept as an attribute: the adjoint needs it as a constant
        return ys

    def backward(self, g: Any) -> Any:
        if isinstance(g, Tensor):
            raise NotImplementedError(
                "odeint: derivatives are first order only (the adjoint and the sensitivities "
                "are solved by SciPy on arrays); second derivatives (a gradient of a gradient, "
                "cr.hessian, cr.hvp) are not supported"
            )
        ys, t, args = self.ys, self.t, self.args
        n_t, dim = ys.shape
        wanted = [k for k, d in enumerate(self.diff) if d]
        params = [np.asarray(args[k], dtype=np.float64) for k in wanted]
        sizes = [p.size for p in params]

        def with_params(ps: Any) -> tuple:
            full = list(args)
            for k, p in zip(wanted, ps, strict=True):
                full[k] = p
            return tuple(full)

        def augmented(state: np.ndarray, s: float) -> np.ndarray:
            y, a = state[:dim], state[dim : 2 * dim]
            f, pullback = vjp(lambda y, s, *ps: self.call(y, s, with_params(ps)), y, s, *params)
            gy, gs, *gps = pullback(-a)
            return np.concatenate(
                [f, gy, np.reshape(gs, (1,)), *(np.reshape(gp, (-1,)) for gp in gps)]
            )

        # A per-component atol/rtol has no meaning for the augmented state: the tightest.
        tols = {k: None if v is None else float(np.min(v)) for k, v in self.tols.items()}
        shared = {k: v for k, v in self.options.items() if k in _SHARED_OPTIONS}
        adj_y, adj_t0 = np.array(g[-1], dtype=np.float64), 0.0
        adj_args = np.zeros(sum(sizes))
        grad_t = np.zeros(n_t)
        for i in range(n_t - 1, 0, -1):
            # Moving the output time t_i moves y(t_i) along f.
            grad_t[i] = float(np.dot(self.call(ys[i], t[i], args), g[i]))
            adj_t0 -= grad_t[i]
            state = np.concatenate([ys[i], adj_y, [adj_t0], adj_args])
            back = sint.odeint(augmented, state, np.array([t[i], t[i - 1]]), **tols, **shared)
            state = back[1]
            adj_y = state[dim : 2 * dim] + g[i - 1]
            adj_t0, adj_args = float(state[2 * dim]), state[2 * dim + 1 :]
        grad_t[0] = adj_t0
        grads: list[Any] = [None] * len(args)
        offsets = np.cumsum([0, *sizes])
        for j, k in enumerate(wanted):
            piece = adj_args[offsets[j] : offsets[j + 1]]
            grads[k] = np.reshape(piece, np.shape(args[k])).astype(np.result_type(args[k]))
        return (np.reshape(adj_y, self.y0_shape), grad_t, *grads)

    def jvp(self, dy0: Any, dt: Any, *dargs: Any) -> Any:
        """Forward sensitivities: ds/dt = df/dy s + df/dargs dargs along the solution, from
        s(t_0) = dy0 - f(y0, t_0) dt_0; moving t_i adds f(y(t_i), t_i) dt_i."""
        ys, t, args = self.ys, self.t, self.args
        dim = ys.shape[1]
        wanted = [k for k, d in enumerate(dargs) if d is not None]
        params = [np.asarray(args[k], dtype=np.float64) for k in wanted]
        directions = [np.asarray(dargs[k], dtype=np.float64) for k in wanted]

        def rest(ps: Any) -> tuple:
            full = list(args)
            for k, p in zip(wanted, ps, strict=True):
                full[k] = p
            return tuple(full)

        def sensitivities(state: np.ndarray, s: float) -> np.ndarray:
            y, sy = state[:dim], state[dim:]
            f, df = jvp(
                lambda y, *ps: self.call(y, s, rest(ps)),
                (y, *params),
                (sy, *directions),
            )
            return np.concatenate([f, df])

        s0 = np.zeros(dim) if dy0 is None else np.reshape(np.asarray(dy0, np.float64), (-1,))
        f_at = [np.asarray(self.call(ys[i], t[i], args), np.float64) for i in range(len(t))]
        if dt is not None:
            s0 = s0 - f_at[0] * float(np.asarray(dt).reshape(-1)[0])
        tols = {k: None if v is None else float(np.min(v)) for k, v in self.tols.items()}
        shared = {k: v for k, v in self.options.items() if k in _SHARED_OPTIONS}
        out = sint.odeint(sensitivities, np.concatenate([ys[0], s0]), t, **tols, **shared)
        tangent = out[:, dim:]
        if dt is not None:
            tangent = tangent + np.stack(f_at) * np.reshape(np.asarray(dt, np.float64), (-1, 1))
        return tangent


def odeint(
    func: Callable[..., Any],
    y0: Any,
    t: Any,
    args: tuple = (),
    rtol: Any = None,
    atol: Any = None,
    tfirst: bool = False,
    **options: Any,
) -> Any:
    """Integrate ``dy/dt = func(y, t, *args)``, as ``scipy.integrate.odeint``; differentiable.

    Returns the ``(len(t), len(y0))`` array of states at the times ``t``
    (``t[0]`` is the initial time). Gradients flow to ``y0``, to every time in
    ``t`` and to every floating-point entry of ``args`` that is a Tensor, by
    the adjoint method (the backward pass solves an ODE backwards in time with
    the same ``rtol``/``atol``); ``cr.jvp`` integrates the forward
    sensitivities instead. First order only. ``func`` must be written
    with NumPy calls that work on Tensors. Other SciPy options (``hmax``,
    ``mxstep``, ``Dfun`` ...) are passed to the forward solve, and those that
    apply to any system to the adjoint solves too; ``full_output`` is refused.

    Examples
    --------
    >>> import numpy as np, chainrule as cr
    >>> from chainrule.scipy.integrate import odeint
    >>> decay = lambda y, t, k: -k * y
    >>> t = np.array([0.0, 1.0])
    >>> f = lambda k: odeint(decay, np.array([1.0]), t, (k,), rtol=1e-10, atol=1e-10)[-1, 0]
    >>> round(float(cr.grad(f)(0.5)), 6)  # d/dk exp(-k) = -exp(-0.5)
    -0.606531
    """
    if not callable(func):
        raise TypeError(f"odeint: func must be callable, got {type(func).__name__}")
    for name, why in _REFUSED.items():
        if options.get(name):
            raise ValueError(f"odeint: {name} is not supported ({why})")
    if not isinstance(args, tuple):
        raise TypeError(
            f"odeint: args must be a tuple of extra arguments for func, got {type(args).__name__}"
            " (write args=(k,) for one)"
        )
    tv = values(t)
    if tv.ndim != 1 or tv.size < 1:
        raise ValueError(f"odeint: t must be a 1-d sequence of times, got shape {tv.shape}")
    yv = values(y0)
    if yv.ndim > 1 or yv.dtype.kind not in "biuf":
        raise ValueError(
            f"odeint: y0 must be a real scalar or 1-d array, got shape {yv.shape} and dtype "
            f"{yv.dtype}"
        )
    for k, a in enumerate(args):
        if isinstance(a, (list, tuple, dict)) and _holds_tensor(a):
            raise TypeError(
                f"odeint: args[{k}] is a container holding Tensors; pass each differentiable "
                "parameter as its own entry of args (args=(a, b), not args=((a, b),))"
            )
    tols = {"rtol": rtol, "atol": atol}
    tensors = [x for x in (y0, t, *args) if isinstance(x, Tensor)]
    if not tensors:
        return sint.odeint(func, y0, t, args=args, tfirst=tfirst, **tols, **options)
    for k, a in enumerate(args):
        if isinstance(a, Tensor) and a.dtype.kind != "f":
            raise TypeError(
                f"odeint: args[{k}] is a Tensor of dtype {a.dtype}; only floating-point "
                "Tensors are differentiated (pass integers as plain numbers)"
            )
    diff = [isinstance(a, Tensor) for a in args]
    return _Odeint(func, tfirst, tols, options, diff)(y0, t, *args)
