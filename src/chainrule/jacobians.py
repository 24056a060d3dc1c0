"""Whole derivatives built on the transforms: jacobian, hessian, hvp.

``jacobian`` picks forward or reverse mode by which side is smaller; ``hessian``
and ``hvp`` are forward-over-reverse: tangents pushed through the backward pass.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from . import _mode
from ._forward import tangent_at
from ._tensor import Tensor, data_of
from ._transform_args import (
    _argnum_list,
    _check_callable,
    _float_array,
    _nested,
    _scalar_output,
    _tangent_result,
    _transform,
    _tuple,
)
from .transforms import _backward_to, _tangent_inputs, jvp, vjp

__all__ = ["hessian", "hvp", "jacobian"]


def jacobian(f: Callable[..., Any], argnums: Any = 0) -> Callable[..., Any]:
    """A function returning the Jacobian of ``f``, shaped ``out.shape + in.shape``.

    It costs min(#inputs, #outputs) passes: forward mode (one ``jvp`` per input
    element) when the input is smaller, reverse mode (one ``vjp`` per output
    element) otherwise. With a tuple ``argnums``, a tuple of Jacobians.

    >>> import numpy as np, chainrule as cr
    >>> cr.jacobian(lambda x: x ** 2)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    """

    _check_callable(f, "cr.jacobian")

    @functools.wraps(f)
    def jac(*args: Any) -> Any:
        nums, single = _argnum_list(argnums, len(args), "cr.jacobian")
        jacs = [_jacobian_one(f, args, a) for a in nums]
        return jacs[0] if single else tuple(jacs)

    return jac


def _jacobian_one(f: Callable[..., Any], args: tuple, a: int) -> Any:
    x = args[a]
    xv = x._data if isinstance(x, Tensor) else _float_array(x, f"cr.jacobian: argument {a}")
    nested = _nested(args)

    def partial(xa: Any) -> Any:
        call = list(args)
        call[a] = xa
        return f(*call)

    n_in = xv.size
    basis = np.eye(max(n_in, 1), dtype=xv.dtype)[:n_in]
    if n_in:
        out, first = jvp(partial, (x,), (basis[0].reshape(xv.shape),))
        out_shape = np.shape(data_of(out))
        if int(np.prod(out_shape)) >= n_in:  # forward mode: one pass per input element
            cols = [first]
            cols += [jvp(partial, (x,), (e.reshape(xv.shape),))[1] for e in basis[1:]]
            stacked = np.stack(cols, axis=-1)
            return np.reshape(stacked, out_shape + xv.shape)
    out, vjp_fn = vjp(partial, x)  # reverse mode: one pass per output element
    out_shape = np.shape(data_of(out))
    n_out = int(np.prod(out_shape))
    dtype = np.result_type(data_of(out))
    rows = [vjp_fn(e.reshape(out_shape))[0] for e in np.eye(max(n_out, 1), dtype=dtype)[:n_out]]
    if not rows:
        zeros = np.zeros(out_shape + xv.shape, xv.dtype)
        return Tensor._make(zeros, None) if nested else zeros
    return np.reshape(np.stack(rows, axis=0), out_shape + xv.shape)


def hvp(f: Callable[..., Any], primals: Any, tangents: Any) -> Any:
    """The Hessian of scalar ``f`` at ``primals`` times ``tangents``, without forming it.

    Forward-over-reverse: the tangents are pushed through the backward pass.
    One array (a tuple for several primals).

    >>> import numpy as np, chainrule as cr
    >>> cr.hvp(lambda x: np.sum(x ** 3), (np.array([1.0, 2.0]),), (np.array([1.0, 0.0]),))
    array([6., 0.])
    """
    _check_callable(f, "cr.hvp")
    primals = _tuple(primals, "primals", "cr.hvp")
    tangents = _tuple(tangents, "tangents", "cr.hvp")
    if len(primals) != len(tangents):
        raise ValueError(f"cr.hvp: {len(primals)} primal(s) but {len(tangents)} tangent(s)")
    result = _forward_over_reverse(f, primals, tangents, "cr.hvp")
    return result[0] if len(result) == 1 else tuple(result)


def _forward_over_reverse(
    f: Callable[..., Any], primals: tuple, tangents: tuple, name: str
) -> list:
    nested = _mode.state.transforms > 0 or _nested(primals)
    # Unless nested, nothing differentiates the tangents: they need no graph of their own.
    with _transform(tangent_graphs=nested), _mode.forward_mode() as level:
        inputs = _tangent_inputs(primals, tangents, name, True, level)
        out = _scalar_output(f(*inputs), name)
        grads = _backward_to(out, np.ones(np.shape(data_of(out))), inputs, True)
    result = []
    for g, x in zip(grads, inputs, strict=True):
        t = tangent_at(g, level) if isinstance(g, Tensor) else None
        result.append(_tangent_result(np.zeros(x.shape, x.dtype) if t is None else t, nested))
    return result


def hessian(f: Callable[..., Any], argnums: Any = 0) -> Callable[..., Any]:
    """A function returning the Hessian of scalar ``f``, shaped ``in.shape + in.shape``.

    Forward-over-reverse: one Hessian-vector product per input element. With a
    tuple ``argnums``, a nested tuple ``H[i][j] = d2f / dx_i dx_j``.

    >>> import numpy as np, chainrule as cr
    >>> cr.hessian(lambda x: x[0] ** 2 * x[1])(np.array([1.0, 3.0]))
    array([[6., 2.],
           [2., 0.]])
    """

    _check_callable(f, "cr.hessian")

    @functools.wraps(f)
    def hess(*args: Any) -> Any:
        nums, single = _argnum_list(argnums, len(args), "cr.hessian")
        xs = [
            args[a]._data
            if isinstance(args[a], Tensor)
            else _float_array(args[a], f"cr.hessian: argument {a}")
            for a in nums
        ]

        def partial(*chosen: Any) -> Any:
            call = list(args)
            for a, c in zip(nums, chosen, strict=True):
                call[a] = c
            return f(*call)

        blocks = _hessian_blocks(partial, tuple(args[a] for a in nums), xs)
        if single:
            return blocks[0][0]
        return tuple(tuple(row) for row in blocks)

    return hess


def _hessian_blocks(partial: Callable[..., Any], primals: tuple, xs: list) -> list[list[Any]]:
    """Forward over reverse: one Hessian-vector product per input element."""
    blocks: list[list[Any]] = [[None] * len(xs) for _ in xs]
    for j, xj in enumerate(xs):
        columns: list[list[Any]] = [[] for _ in xs]
        for e in np.eye(max(xj.size, 1), dtype=xj.dtype)[: xj.size]:
            tangents = tuple(
                e.reshape(xj.shape) if k == j else np.zeros(x.shape, x.dtype)
                for k, x in enumerate(xs)
            )
            for i, hv in enumerate(_forward_over_reverse(partial, primals, tangents, "cr.hessian")):
                columns[i].append(hv)
        for i, xi in enumerate(xs):
            if columns[i]:
                blocks[i][j] = np.reshape(np.stack(columns[i], axis=-1), xi.shape + xj.shape)
            else:
                blocks[i][j] = np.zeros(xi.shape + xj.shape, xi.dtype)
    return blocks
