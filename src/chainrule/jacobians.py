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
    _holomorphic_inputs,
    _nested,
    _scalar_output,
    _tangent_result,
    _transform,
    _tuple,
)
from .transforms import _backward_to, _ones_head, _tangent_inputs, grad, jvp, vjp

__all__ = ["hessian", "hvp", "jacobian"]


def jacobian(
    f: Callable[..., Any], argnums: Any = 0, holomorphic: bool = False
) -> Callable[..., Any]:
    """A function returning the Jacobian of ``f``, shaped ``out.shape + in.shape``.

    It costs min(#inputs, #outputs) passes: forward mode (one ``jvp`` per input
    element) when the input is smaller, reverse mode (one ``vjp`` per output
    element) otherwise. With a tuple ``argnums``, a tuple of Jacobians.

    Complex values: a complex output of a real input gives ``d out / dx``; a
    real output of a complex input gives each output's gradient
    ``d out/dRe(z) + i d out/dIm(z)`` (as ``grad``). A complex output of a
    complex input needs ``holomorphic=True`` (then ``d out / dz``, for
    holomorphic ``f``); without it that is a TypeError.

    >>> import numpy as np, chainrule as cr
    >>> cr.jacobian(lambda x: x ** 2)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    >>> cr.jacobian(lambda z: z ** 2, holomorphic=True)(np.array([1j, 2.0 + 0j]))
    array([[0.+2.j, 0.+0.j],
           [0.+0.j, 4.+0.j]])
    """

    _check_callable(f, "cr.jacobian")

    @functools.wraps(f)
    def jac(*args: Any) -> Any:
        nums, single = _argnum_list(argnums, len(args), "cr.jacobian")
        jacs = [_jacobian_one(f, args, a, holomorphic) for a in nums]
        return jacs[0] if single else tuple(jacs)

    return jac


def _jacobian_one(f: Callable[..., Any], args: tuple, a: int, holomorphic: bool) -> Any:
    x = args[a]
    xv = x._data if isinstance(x, Tensor) else _float_array(x, f"cr.jacobian: argument {a}")
    nested = _nested(args)
    if holomorphic:
        _holomorphic_inputs([xv], "cr.jacobian")

    def partial(xa: Any) -> Any:
        call = list(args)
        call[a] = xa
        return f(*call)

    n_in = xv.size
    # A complex input of a real function takes a second pass per element, along i*e:
    # its column is d/dRe + i d/dIm (the gradient convention).
    split_in = xv.dtype.kind == "c" and not holomorphic
    basis = np.eye(max(n_in, 1), dtype=xv.dtype)[:n_in]
    if n_in:
        out, first = jvp(partial, (x,), (basis[0].reshape(xv.shape),))
        out_shape = np.shape(data_of(out))
        _complex_kinds(out, xv, holomorphic)
        if int(np.prod(out_shape)) >= n_in:  # forward mode: one pass per input element

            def column(e: np.ndarray, t0: Any = None) -> Any:
                t = jvp(partial, (x,), (e.reshape(xv.shape),))[1] if t0 is None else t0
                if split_in:
                    t = t + 1j * jvp(partial, (x,), (1j * e.reshape(xv.shape),))[1]
                return t

            cols = [column(basis[0], first)]
            cols += [column(e) for e in basis[1:]]
            stacked = np.stack(cols, axis=-1)
            return np.reshape(stacked, out_shape + xv.shape)
    out, vjp_fn = vjp(partial, x)  # reverse mode: one pass per output element
    out_shape = np.shape(data_of(out))
    n_out = int(np.prod(out_shape))
    dtype = np.result_type(data_of(out))
    _complex_kinds(out, xv, holomorphic)

    def row(e: np.ndarray) -> Any:
        r = vjp_fn(e.reshape(out_shape))[0]
        if holomorphic:  # vjp gives J^H e: row conj(J[i])
            return np.conj(r)
        if dtype.kind == "c":  # a complex output of a real input: d Re / dx + i d Im / dx
            r = r + 1j * vjp_fn(1j * e.reshape(out_shape))[0]
        return r

    rows = [row(e) for e in np.eye(max(n_out, 1), dtype=dtype)[:n_out]]
    if not rows:
        zeros = np.zeros(out_shape + xv.shape, xv.dtype)
        return Tensor._make(zeros, None) if nested else zeros
    return np.reshape(np.stack(rows, axis=0), out_shape + xv.shape)


def _complex_kinds(out: Any, xv: np.ndarray, holomorphic: bool) -> None:
    """Refuse the complex output of a complex input unless ``f`` is holomorphic: the map
    is then only real-linear, and no complex matrix holds it."""
    kind = np.result_type(data_of(out)).kind
    if holomorphic and kind != "c":
        raise TypeError(
            "cr.jacobian(holomorphic=True): f must return complex values, got a real output; "
            "drop holomorphic=True"
        )
    if kind == "c" and xv.dtype.kind == "c" and not holomorphic:
        raise TypeError(
            "cr.jacobian: f maps complex inputs to complex outputs; pass holomorphic=True for "
            "d out / dz of a holomorphic f, or use cr.jvp / cr.vjp (real-linear), or "
            "differentiate real quantities such as np.abs(out)"
        )


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
        grads = _backward_to(out, _ones_head(np.shape(data_of(out))), inputs, True)
    result = []
    for g, x in zip(grads, inputs, strict=True):
        t = tangent_at(g, level) if isinstance(g, Tensor) else None
        result.append(_tangent_result(np.zeros(x.shape, x.dtype) if t is None else t, nested))
    return result


def hessian(
    f: Callable[..., Any], argnums: Any = 0, holomorphic: bool = False
) -> Callable[..., Any]:
    """A function returning the Hessian of scalar ``f``, shaped ``in.shape + in.shape``.

    Forward-over-reverse: one Hessian-vector product per input element. With a
    tuple ``argnums``, a nested tuple ``H[i][j] = d2f / dx_i dx_j``. With
    ``holomorphic=True`` (complex inputs, holomorphic ``f``) it is ``f''(z)``.
    The second derivative of a real ``f`` of complex inputs is only real-linear
    (no complex matrix holds it): use ``hvp`` with complex tangents there.

    >>> import numpy as np, chainrule as cr
    >>> cr.hessian(lambda x: x[0] ** 2 * x[1])(np.array([1.0, 3.0]))
    array([[6., 2.],
           [2., 0.]])
    >>> cr.hessian(lambda z: z**3, holomorphic=True)(np.array(1j))  # 6 z
    array(0.+6.j)
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
        if holomorphic:
            _holomorphic_inputs(xs, "cr.hessian")
        elif any(x.dtype.kind == "c" for x in xs):
            raise TypeError(
                "cr.hessian: the second derivative of a real function of complex inputs is "
                "real-linear, not a complex matrix; use cr.hvp with complex tangents, pass the "
                "real and imaginary parts as real arguments, or holomorphic=True for f''(z)"
            )

        def partial(*chosen: Any) -> Any:
            call = list(args)
            for a, c in zip(nums, chosen, strict=True):
                call[a] = c
            return f(*call)

        primals = tuple(args[a] for a in nums)
        if holomorphic:  # the holomorphic Jacobian of the holomorphic gradient
            # The gradient takes every argument as an input (not just the i-th), so the
            # tangents of the others flow through its backward pass too.
            every = grad(partial, tuple(range(len(xs))), holomorphic=True)
            blocks = [
                [
                    jacobian(lambda *p, i=i: every(*p)[i], j, holomorphic=True)(*primals)
                    for j in range(len(xs))
                ]
                for i in range(len(xs))
            ]
        else:
            blocks = _hessian_blocks(partial, primals, xs)
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
