"""Function transforms: grad, value_and_grad, vjp and jvp (jacobians.py builds on them).

Each takes a Python function written with plain NumPy calls. Called on plain
arrays they return plain arrays. Called inside another transform (on Tensors)
they return Tensors that the outer transform differentiates in turn, so they
compose to any order: ``cr.grad(cr.grad(f))``, ``cr.jacobian(cr.grad(f))``,
``cr.jvp(cr.grad(f), ...)``.

Reverse mode runs the tape backwards; ``jvp`` is true forward mode (tangents
pushed through each primitive's JVP rule, no backward pass).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from . import _mode
from ._backend import as_array, is_numpy, zeros
from ._engine import run_backward
from ._forward import give_tangent, tangent_at
from ._pytree import tree_unflatten
from ._tensor import Tensor, data_of
from ._transform_args import (
    _LEAF_TYPES,
    _argnum_list,
    _check_callable,
    _cotangent,
    _detached,
    _flatten,
    _float_array,
    _float_output,
    _holomorphic_inputs,
    _in_order,
    _input,
    _nested,
    _owned,
    _rebuilt,
    _result,
    _scalar_output,
    _tangent_result,
    _transform,
    _tuple,
    _wrap,
    _zeros_like,
)

__all__ = ["grad", "jvp", "value_and_grad", "vjp"]


def _backward_to(
    out: Any, head: Any, inputs: list[Tensor], nested: bool, retain: bool = True
) -> list:
    """Gradients of ``<head, out>`` with respect to ``inputs`` (zeros where none flows).

    ``retain=False`` when nothing runs backward through this graph again: the sweep
    then frees what it saved as it goes (and may reuse those buffers)."""
    if not isinstance(out, Tensor) or not out.requires_grad:
        return [_zeros_like(t, nested) for t in inputs]
    tensor_mode = nested or _mode.state.forward > 0
    if tensor_mode and not isinstance(head, Tensor):
        head = Tensor._make(as_array(head, out.dtype), None)
    grads = run_backward(out, head, retain or nested, nested, inputs=inputs)
    assert grads is not None
    result = []
    for g, t in zip(grads, inputs, strict=True):
        if g is None:
            g = _zeros_like(t, nested or tensor_mode)
        elif tensor_mode and not isinstance(g, Tensor):
            g = Tensor._make(as_array(g), None)
        result.append(g if nested else _owned(g._data if isinstance(g, Tensor) else g))
    return result


# ------------------------------------------------------------ reverse mode
def value_and_grad(
    f: Callable[..., Any], argnums: Any = 0, has_aux: bool = False, holomorphic: bool = False
) -> Callable[..., Any]:
    """A function returning ``(f(*args), df/dargs[argnums])``; ``f`` must return a scalar.

    ``argnums`` is an int or a tuple (then the gradient is a tuple). An argument
    may be an array, a Python float, or a pytree of them: nested tuples, lists,
    dicts, namedtuples and classes registered with ``cr.register_pytree``
    (dataclasses included); its gradient has the same structure. ``f`` must
    return a float: a bool or integer result (``np.allclose``) raises a
    TypeError. With ``has_aux=True``, ``f`` returns ``(value, aux)`` and the
    result is ``((value, aux), gradient)``.

    Complex arguments take the gradient ``dL/dRe(z) + i dL/dIm(z)`` of a real
    scalar ``f`` (it points uphill: ``z -= lr * g`` descends). With
    ``holomorphic=True`` the arguments and the output are complex and the result
    is the complex derivative ``f'(z)``; a complex output without it is a
    TypeError.

    >>> import numpy as np, chainrule as cr
    >>> value, g = cr.value_and_grad(lambda x: np.sum(x ** 2))(np.array([1.0, 2.0]))
    >>> float(value), g
    (5.0, array([2., 4.]))
    """
    return _value_and_grad(f, argnums, has_aux, "cr.value_and_grad", holomorphic)


def grad(
    f: Callable[..., Any], argnums: Any = 0, has_aux: bool = False, holomorphic: bool = False
) -> Callable[..., Any]:
    """A function returning the gradient of scalar-valued ``f`` at its arguments.

    Composes to any order: ``cr.grad(cr.grad(f))`` is the second derivative.
    See ``value_and_grad`` for ``argnums``, nested arguments and ``has_aux``
    (then the result is ``(gradient, aux)``), complex arguments and
    ``holomorphic=True`` (the complex derivative ``f'(z)``).

    >>> import numpy as np, chainrule as cr
    >>> float(cr.grad(lambda x: np.sin(x) * x)(np.array(0.5)).round(6))
    0.918217
    >>> float(cr.grad(cr.grad(np.sin))(0.5))  # -sin(0.5)
    -0.479425538604203
    >>> cr.grad(lambda z: z**3, holomorphic=True)(np.array(1 + 1j))  # 3 z**2
    array(0.+6.j)
    >>> cr.grad(lambda z: np.abs(z) ** 2)(np.array(1 + 2j))  # 2 z: uphill
    array(2.+4.j)
    """
    vg = _value_and_grad(f, argnums, has_aux, "cr.grad", holomorphic)

    @functools.wraps(f)
    def gradient(*args: Any, **kwargs: Any) -> Any:
        value, g = vg(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return gradient


def _ones_head(shape: tuple) -> np.ndarray:
    """The ones a backward pass starts from; cr.compile's tracer knows them as ones
    that nothing else can change (it multiplies by them no more)."""
    head = np.ones(shape)
    if _mode.state.tracer is not None:
        _mode.state.tracer.mark_ones(head)
    return head


def _value_and_grad(
    f: Callable[..., Any], argnums: Any, has_aux: bool, name: str, holomorphic: bool = False
) -> Callable[..., Any]:
    _check_callable(f, name)

    @functools.wraps(f)
    def value_and_gradient(*args: Any, **kwargs: Any) -> Any:
        nums, single = _argnum_list(argnums, len(args), name)
        with _transform():
            nested = _nested(args)
            call_args = list(args)
            inputs: list[Tensor] = []
            rebuilds = []
            for a in nums:
                call_args[a], wrapped, rebuild = _wrap(args[a], f"{name}: argument {a}")
                inputs.extend(wrapped)
                rebuilds.append((rebuild, len(wrapped)))
            if holomorphic:
                _holomorphic_inputs(inputs, name)
            result = f(*call_args, **kwargs)
            if has_aux:
                if not (isinstance(result, (tuple, list)) and len(result) == 2):
                    raise TypeError(f"{name}(has_aux=True): f must return a pair (value, aux)")
                out, aux = result
            else:
                out, aux = result, None
            _scalar_output(out, name, holomorphic)
            d = data_of(out)  # the head in the output's library (Dask, CuPy)
            head = _ones_head(np.shape(d)) if is_numpy(d) else np.ones_like(d)
            flat = _backward_to(out, head, inputs, nested, retain=False)
            if holomorphic:
                # Backward gives J^H 1 = conj(f'(z)) (the uphill convention): undo the conj.
                flat = [g.conj() if isinstance(g, Tensor) else as_array(np.conj(g)) for g in flat]
        grads = _rebuilt(flat, rebuilds)
        g = grads[0] if single else tuple(grads)
        value = _result(out, nested)
        if not nested and isinstance(value, np.ndarray) and value.ndim == 0:
            value = value[()]
        elif _mode.state.tracer is not None:  # cr.compile: returned as eager returns it
            _mode.state.tracer.mark_scalar(value)
        if has_aux:
            aux = aux if nested else _detached(aux)
            return (value, aux), g
        return value, g

    return value_and_gradient


def vjp(f: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[..., tuple]]:
    """``(f(*primals), vjp_fn)``; ``vjp_fn(cotangent)`` returns one gradient per primal.

    ``cotangent`` is a number or an array of the output's shape (a tuple of
    them when ``f`` returns a tuple). ``vjp_fn`` may be called many times.
    Primals may be pytrees of arrays (see ``value_and_grad``). Bool or
    integer outputs are refused: they have no derivative.

    >>> import numpy as np, chainrule as cr
    >>> out, vjp_fn = cr.vjp(lambda x: x ** 2, np.array([1.0, 3.0]))
    >>> vjp_fn(np.array([1.0, 10.0]))
    (array([ 2., 60.]),)
    """
    _check_callable(f, "cr.vjp")
    with _transform():
        nested = _nested(primals)
        call_args, inputs, rebuilds = [], [], []
        for a, p in enumerate(primals):
            arg, wrapped, rebuild = _wrap(p, f"cr.vjp: primal {a}")
            call_args.append(arg)
            inputs.extend(wrapped)
            rebuilds.append((rebuild, len(wrapped)))
        out = f(*call_args)
    several = isinstance(out, (tuple, list))
    outs = list(out) if several else [out]
    dtypes = [
        _float_output(o, "cr.vjp", f"f's output {k}" if several else "f's output")
        for k, o in enumerate(outs)
    ]
    shapes = [np.shape(data_of(o)) for o in outs]

    def vjp_fn(cotangent: Any) -> tuple:
        cots = list(cotangent) if several else [cotangent]
        if len(cots) != len(outs):
            raise ValueError(
                f"cr.vjp: vjp_fn got {len(cots)} cotangent(s) for {len(outs)} output(s)"
            )
        cots = [
            _cotangent(c, shape, dtype, k)
            for k, (c, shape, dtype) in enumerate(zip(cots, shapes, dtypes, strict=True))
        ]
        with _transform():
            inner_nested = nested or _nested(cots)
            if len(outs) == 1:
                target, head = outs[0], cots[0]
            else:  # several outputs: backpropagate sum_k <cotangent_k, out_k>
                terms = [
                    np.sum(o * c) for o, c in zip(outs, cots, strict=True) if isinstance(o, Tensor)
                ]
                target = functools.reduce(lambda a, b: a + b, terms) if terms else 0.0
                head = _ones_head(())
            if isinstance(head, Tensor) and not inner_nested:
                head = head._data
            flat = _backward_to(target, head, inputs, inner_nested)
        return tuple(_rebuilt(flat, rebuilds))

    value = tuple(_result(o, nested) for o in outs) if several else _result(out, nested)
    return value, vjp_fn


# ------------------------------------------------------------ forward mode
def jvp(f: Callable[..., Any], primals: Any, tangents: Any) -> tuple[Any, Any]:
    """``(f(*primals), J @ tangents)`` in forward mode: no backward pass is run.

    ``primals`` and ``tangents`` are tuples (or lists) of arrays of matching
    shapes, or of pytrees of the same structure (see ``value_and_grad``);
    each tangent pushes through every primitive's JVP rule.

    Complex primals take complex tangents: the result is the directional
    derivative ``d/de f(z + e t)`` at ``e = 0`` (real ``e``), real-linear in ``t``
    and complex-linear (``f'(z) t``) when ``f`` is holomorphic.

    >>> import numpy as np, chainrule as cr
    >>> out, t = cr.jvp(np.sin, (np.array([0.0, 1.0]),), (np.array([1.0, 2.0]),))
    >>> t.round(6)  # cos(x) * tangent
    array([1.      , 1.080605])
    """
    _check_callable(f, "cr.jvp")
    primals, tangents = _tuple(primals, "primals"), _tuple(tangents, "tangents")
    if len(primals) != len(tangents):
        raise ValueError(f"cr.jvp: {len(primals)} primal(s) but {len(tangents)} tangent(s)")
    nested = _mode.state.transforms > 0 or _nested(primals)
    if all(type(p) in _LEAF_TYPES for p in primals):  # the common case: no containers
        with _transform(), _mode.forward_mode() as level:
            out = f(*_tangent_inputs(primals, tangents, "cr.jvp", False, level))
        return _jvp_results(out, level, nested)
    flat_primals, flat_tangents, rebuilds = [], [], []  # type: ignore[var-annotated]
    for k, (p, t) in enumerate(zip(primals, tangents, strict=True)):
        p_leaves, p_def = _flatten(p, f"cr.jvp: primal {k}")
        # A leaf's tangent is taken as it is (a list of floats is an array here).
        t_leaves, t_def = (
            ([t], p_def) if p_def.kind is None else _flatten(t, f"cr.jvp: tangent {k}")
        )
        if t_def != p_def:
            raise ValueError(f"cr.jvp: tangent {k} has the structure {t_def}, its primal {p_def}")
        flat_primals += p_leaves
        flat_tangents += t_leaves
        rebuilds.append((lambda v, p=p, d=p_def: _in_order(p, tree_unflatten(d, v)), len(p_leaves)))
    # A level of its own: inside another jvp (forward over forward) the outer tangents
    # ride along on this one's values and tangents, never confused with them.
    with _transform(), _mode.forward_mode() as level:
        inputs = _tangent_inputs(tuple(flat_primals), tuple(flat_tangents), "cr.jvp", False, level)
        out = f(*_rebuilt(inputs, rebuilds))
    return _jvp_results(out, level, nested)


def _jvp_results(out: Any, level: object, nested: bool) -> tuple[Any, Any]:
    """``(values, tangents at level)`` of a jvp's outputs, as the outputs are nested."""
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    values, tans = [], []
    for o in outs:
        if isinstance(o, Tensor):
            t = tangent_at(o, level)
            if t is None:
                t = zeros(o.shape, o.dtype, like=o._data)
            values.append(_result(o, nested))
            tans.append(_tangent_result(t, nested))
        else:
            values.append(o)
            tans.append(np.zeros(np.shape(o)))
    if isinstance(out, (tuple, list)):
        return tuple(values), tuple(tans)
    return values[0], tans[0]


def _tangent_inputs(
    primals: tuple, tangents: tuple, name: str, requires_grad: bool, level: object
) -> list:
    """The transform's inputs, each carrying its (checked) tangent at ``level``."""
    inputs = []
    for k, (p, t) in enumerate(zip(primals, tangents, strict=True)):
        x = _input(p, f"{name}: primal {k}", requires_grad)
        tangent = t if isinstance(t, Tensor) else _float_array(t, f"{name}: tangent {k}")
        if np.shape(tangent) != x.shape:
            raise ValueError(
                f"{name}: tangent {k} has shape {np.shape(tangent)}, its primal has shape {x.shape}"
            )
        if as_array(data_of(tangent)).dtype.kind == "c" and x.dtype.kind != "c":
            # A real input moves along the real axis only: an imaginary part would be lost.
            raise TypeError(
                f"{name}: tangent {k} is complex but its primal is real ({x.dtype}); pass a "
                "real tangent, or make the primal complex (x.astype(complex))"
            )
        give_tangent(
            x,
            level,
            tangent if isinstance(tangent, Tensor) else tangent.astype(x.dtype, copy=False),
        )
        inputs.append(x)
    return inputs
