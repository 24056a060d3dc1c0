"""The recorder: the one way to run a primitive on Tensors, and in-place writes.

``apply(prim, *args, **kwargs)`` runs a primitive: recorded on the tape when an
argument is a Tensor (rules call it too, so that ``create_graph`` records them), a
plain NumPy call otherwise. ``apply1`` and ``apply2`` are its fast forms for the
operators and ufuncs, the few lines that run on every recorded operation: keep them
short. In-place writes (``+=``, ``t[i] = v``, ``out=t``) are recorded out of place
and counted by version (``assign``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _forward, _mode
from ._backend import is_foreign, is_lazy
from ._elide import ELIDE_FROM, elided2, temporary
from ._engine import Node
from ._registry import complex_record
from ._tensor import Tensor
from .anomaly import check_forward
from .errors import BackwardError
from .graph import recorded

__all__ = [
    "apply",
    "apply1",
    "apply2",
    "assign",
    "nondiff_call",
    "unwrap",
    "wrap_constant",
    "write",
]

_ndarray = np.ndarray
_asarray = np.asarray
_grad_state = _mode.state
_Node = Node
_new = object.__new__
_make = Tensor._make
_F64 = np.dtype(np.float64)
_FLOAT64 = np.float64  # the scalar type of 0-d float64 results


def apply1(prim: Any, x: Tensor, via: str = "") -> Tensor:
    """Run a one-input primitive on Tensor ``x`` and record it if needed.

    ``via`` names the call path when ``x`` may be a temporary (see _elide.temporary).
    """
    xd = x._data
    out = None
    if type(xd) is _ndarray:
        if not xd.ndim:
            xd = xd[()]  # numpy scalars: 0-d arithmetic here and in the rules is ~6x faster
        elif via and xd.size >= ELIDE_FROM and prim.elide and temporary(x, xd, via + "1"):
            out = prim.elide(xd, out=xd)
    if out is None:
        out = prim.fun(xd)
    result = _new(Tensor)  # Tensor._make, inlined: this is the hot path
    result._data = out if type(out) in _DATA_TYPES else _as_result(out)
    result.grad = result._tangent = None
    result._version = 0
    plain = _grad_state.plain  # recording on, no extra work: one thread-local read
    if x.requires_grad and (plain or _grad_state.enabled):
        dtype, in_dtype = result._data.dtype, x._data.dtype  # abs(complex) is real
        if (dtype is not _F64 or in_dtype is not _F64) and "c" in (dtype.kind, in_dtype.kind):
            prim = complex_record(prim)
        node = x._node
        if not prim.reads_inputs and type(xd) is _ndarray and xd.size >= _GHOST_FROM:
            xd = _ghost(xd)
        result._node = _Node(
            prim,
            (xd,),
            None,
            ((0, x, x._version) if node is None else (0, node, node.writes),),
            out if prim.reads_output else None,
        )
        result.requires_grad = True
    else:
        result._node = None
        result.requires_grad = False
    if not plain and _grad_state.extra:  # forward mode or anomaly mode
        _extra_work(result, prim, (x,), None)
    return result


def apply2(prim: Any, x: Any, y: Any, via: str = "") -> Tensor:
    """Run a two-input primitive where ``x`` or ``y`` is a Tensor; record it if needed.

    ``via`` names the call path when an input may be a temporary (see _elide.temporary).
    """
    big = False  # an input large enough to be written into, if it is a temporary
    if isinstance(x, Tensor):
        xd = x._data
        if type(xd) is _ndarray:
            if not xd.ndim:
                xd = xd[()]
            elif via and xd.size >= ELIDE_FROM:
                big = True
        xr = x.requires_grad
    else:
        xd = x if type(x) in _SCALARS else _operand(x)
        if xd is NotImplemented:
            return NotImplemented  # type: ignore[return-value]
        xr = False
    if isinstance(y, Tensor):
        yd = y._data
        if type(yd) is _ndarray:
            if not yd.ndim:
                yd = yd[()]
            elif via and yd.size >= ELIDE_FROM:
                big = True
        yr = y.requires_grad
    else:
        yd = y if type(y) in _SCALARS else _operand(y)
        if yd is NotImplemented:
            return NotImplemented  # type: ignore[return-value]
        yr = False
    out = elided2(prim, x, xd, y, yd, via) if big and prim.elide else prim.fun(xd, yd)
    result = _new(Tensor)
    result._data = out if type(out) in _DATA_TYPES else _as_result(out)
    result.grad = result._tangent = None
    result._version = 0
    plain = _grad_state.plain
    if (xr or yr) and (plain or _grad_state.enabled):
        if type(out) is not _FLOAT64 and result._data.dtype.kind == "c":
            prim = complex_record(prim)
        # Each input's node (or the leaf itself) and its write count: see _entry.
        if xr:
            node = x._node
            xe = (0, x, x._version) if node is None else (0, node, node.writes)
            if yr:
                node = y._node
                parents: tuple = (
                    xe,
                    (1, y, y._version) if node is None else (1, node, node.writes),
                )
            else:
                parents = (xe,)
        else:
            node = y._node
            parents = ((1, y, y._version) if node is None else (1, node, node.writes),)
        if not prim.reads_inputs:
            if xr and type(xd) is _ndarray and xd.size >= _GHOST_FROM:
                xd = _ghost(xd)
            if yr and type(yd) is _ndarray and yd.size >= _GHOST_FROM:
                yd = _ghost(yd)
        result._node = node = _Node(
            prim, (xd, yd), None, parents, out if prim.reads_output else None
        )
        # An input that is a Tensor without grad is watched by its version (see _watch).
        if not yr:
            if type(y) is Tensor and prim.reads_inputs:
                node.watched = ((1, y, y._version),)
        elif not xr and type(x) is Tensor and prim.reads_inputs:
            node.watched = ((0, x, x._version),)
        result.requires_grad = True
    else:
        result._node = None
        result.requires_grad = False
    if not plain and _grad_state.extra:
        _extra_work(result, prim, (x, y), None)
    return result


# What an operation's result is kept as, without conversion: arrays, and the numeric
# numpy scalars that 0-d operations return.
_DATA_TYPES = frozenset(
    {_ndarray, *(t for t in np.sctypeDict.values() if issubclass(t, (np.number, np.bool_)))}
)


def _as_result(out: Any) -> Any:
    """A result that is not an ndarray or numpy scalar: another library's array stays
    itself (Dask, CuPy); anything else (a Python number) becomes an array."""
    return out if is_foreign(out) else _asarray(out)


# Inputs at least this large are not kept by a node whose rules read only their shape.
_GHOST_FROM = 1024


def _ghost(a: Any) -> Any:
    """A zero-byte stand-in with a's shape and dtype, for values no rule will read."""
    if type(a) is _ndarray and a.size >= _GHOST_FROM:
        return np.broadcast_to(np.empty((), a.dtype), a.shape)
    return a


# _watch: a node keeps the Tensors it read that do not require grad (constants to the
# graph, such as x in w * x) as (input index, Tensor, version) in node.watched. A later
# in-place write into one of them (x += 1, x[0] = 5, x.data[...] = v, np.exp(x, out=x))
# bumps its version, and backward then refuses the node instead of computing w's gradient
# from the new value. Recording pays for this only where such an input exists.
def _entry(i: int, t: Tensor) -> tuple:
    """A node's record of input ``i``: its node (or the leaf itself) and its write count."""
    node = t._node
    if node is None:
        return (i, t, t._version)
    return (i, node, node.writes)


def _operand(value: Any) -> Any:
    """A non-Tensor operand as an array, or NotImplemented when it is not numbers (so
    Python reports `unsupported operand type(s) for +: 'Tensor' and 'NoneType'`)."""
    # numpy scalars stay scalars (a 0-d ndarray would be a host array to CuPy)
    arr = value if is_foreign(value) or isinstance(value, np.generic) else _asarray(value)
    return NotImplemented if arr.dtype.kind in "OUSV" else arr


def _extra_work(result: Tensor, prim: Any, args: tuple, kwargs: Any) -> None:
    """cr.compile's tracer, forward mode's tangents, anomaly mode's checks and
    cr.on_record's callbacks, off the hot path."""
    tracer = _grad_state.tracer
    if tracer is not None:  # first: the tangent rules below may read the result
        tracer.apply(result, prim, args, kwargs)
    forward = _grad_state.forward
    if forward:
        _forward.attach_tangent(result, prim, args, kwargs, apply)
        if forward > 1:  # nested jvps
            _forward.attach_inner_tangents(result, prim, args, kwargs, apply)
    if _grad_state.anomaly:
        check_forward(result, prim, args)
    if _grad_state.observers:
        recorded(_grad_state.observers, result)


# Python scalars stay Python scalars so NumPy keeps float32 data float32 (NEP 50).
_SCALARS = frozenset({float, int, bool, complex, np.ndarray})


def apply(prim: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a primitive: recorded when a positional argument is a Tensor, else a plain call.

    Rules call it too: on arrays it is the NumPy call, on Tensors (``create_graph``,
    tangents) it records. The result is a Tensor whenever a Tensor went in.
    """
    for a in args:
        if isinstance(a, Tensor):
            return _record(prim, args, kwargs)
    return prim.fun(*args, **kwargs)


def _record(prim: Any, args: tuple, kwargs: dict) -> Tensor:
    """``prim.fun(*args, **kwargs)`` on the tape, where some argument is a Tensor."""
    raw = []
    parents = []
    constants = []  # Tensor inputs without grad: watched by version (see _watch)
    for i, a in enumerate(args):
        if isinstance(a, Tensor):
            raw.append(a._data)
            if a.requires_grad:
                parents.append(_entry(i, a))
            else:
                constants.append((i, a, a._version))
        else:
            raw.append(a)
    out = prim.fun(*raw, **kwargs) if kwargs else prim.fun(*raw)
    if type(out) is not _ndarray:
        out = _as_result(out)
    differentiable = out.dtype.kind in "fc"  # an integer result (e.g. a cast) has no gradient
    if parents and differentiable and _grad_state.enabled:
        if out.dtype.kind == "c" or any(raw[i].dtype.kind == "c" for i, _, _ in parents):
            prim = complex_record(prim)
        if not prim.reads_inputs:
            for i, _, _ in parents:
                raw[i] = _ghost(raw[i])
        saved_out = out if prim.reads_output else None
        node = _Node(prim, tuple(raw), kwargs or None, tuple(parents), saved_out)
        if constants and prim.reads_inputs:
            node.watched = tuple(constants)
        result = _make(out, node)
    else:
        result = _make(out, None)
    if _grad_state.extra:
        if differentiable:
            _extra_work(result, prim, args, kwargs)
        elif _grad_state.tracer is not None:  # an integer cast is still a step to stage
            _grad_state.tracer.apply(result, prim, args, kwargs)
    return result


# ---------------------------------------------------------------- in-place writes
# NumPy semantics: the Tensor object itself takes the new value. On the tape it is
# recorded out of place (the old value stays saved for the nodes that used it), and
# the version counter lets backward refuse graphs that saw the old value.
def write(t: Tensor, what: str, prim: Any, rest: tuple) -> Tensor:
    """t <op>= rest: ``prim`` on t's value and ``rest``, written into t in place."""
    return assign(t, what, prim, (t, *rest), apply, prim.fun)


def assign(t: Tensor, what: str, op: Any, inputs: tuple, record: Any, compute: Any) -> Tensor:
    """Write the value of operation ``op`` on ``inputs`` into ``t``, in place.

    The one mechanism behind the in-place operators, t[index] = value and
    ufunc(..., out=t). ``record(op, *inputs)`` runs the operation on the tape and
    returns a Tensor; ``compute(*arrays)`` runs it on raw arrays when there is nothing
    to record. As in NumPy, the same object holds the new value, in its own shape.
    """
    if type(t._data) is not _ndarray and is_lazy(t._data):
        raise TypeError(
            f"{what}: an in-place write into Dask data ({type(t._data).__name__} of shape "
            f"{t._data.shape}); Dask arrays are immutable graphs. Compute the new value out of "
            "place (y = x + v, y = np.where(mask, v, x)) and use y instead."
        )
    tracer = _grad_state.tracer
    if tracer is not None:
        tracer.write(t, what)  # refuses writes into the arguments
    others_need_grad = _grad_state.enabled and any(
        isinstance(x, Tensor) and x.requires_grad and x is not t for x in inputs
    )
    if t._node is None and t.requires_grad:
        # A leaf: its new value is written into its data (counted by its version, so
        # graphs that saw the old value refuse backward); a value that depends on
        # other tensors cannot be recorded into a leaf.
        if others_need_grad:
            raise BackwardError(
                f"{what} on a leaf tensor that requires grad, with a value that requires "
                "grad: a leaf cannot record how it was computed from inputs that require "
                "grad. Compute a new tensor instead (y = x + v, y = np.f(x))."
            )
        return _write_data(t, what, compute, inputs)
    carries_tangent = _grad_state.forward and any(
        isinstance(x, Tensor) and x._tangent is not None for x in (t, *inputs)
    )
    records = _grad_state.enabled and (t.requires_grad or others_need_grad)
    if not (records or carries_tangent or tracer is not None):  # cr.compile stages it
        return _write_data(t, what, compute, inputs)
    old = _snapshot(t)  # the value the graph saw
    new = record(op, *(old if x is t else x for x in inputs))
    _check_write_shape(what, new.shape, t._data.shape)
    t._data, t._node, t._tangent = new._data, new._node, new._tangent
    t.requires_grad = new.requires_grad
    t._version += 1  # a new value on a new node; the old node's value is intact
    if tracer is not None:
        tracer.rebind(t, new)
    return t


def _snapshot(t: Tensor) -> Tensor:
    """A new Tensor object for t's current value and graph position."""
    old = Tensor._make(t._data, t._node)
    old.requires_grad = t.requires_grad
    old._version = t._version
    old._tangent = t._tangent
    return old


def _write_data(t: Tensor, what: str, compute: Any, inputs: tuple) -> Tensor:
    """Nothing to record: write into the array itself, and count the write."""
    result = compute(*[x._data if isinstance(x, Tensor) else x for x in inputs])
    _check_write_shape(what, np.shape(result), t._data.shape)
    t._array()[...] = result
    t._bump()
    return t


def _check_write_shape(what: str, result: tuple, target: tuple) -> None:
    """An in-place write keeps the target's shape (NumPy refuses to broadcast it)."""
    if result != target:
        raise ValueError(f"{what}: the result has shape {result}, the tensor {target}")


# ------------------------------------------------------- non-differentiable calls
def unwrap(obj: Any) -> Any:
    """Replace Tensors by their data, through lists, tuples and dicts."""
    if isinstance(obj, Tensor):
        return obj._data
    if isinstance(obj, (list, tuple)):
        return type(obj)(unwrap(o) for o in obj)
    if isinstance(obj, dict):
        return {k: unwrap(v) for k, v in obj.items()}
    return obj


def wrap_constant(obj: Any) -> Any:
    """Arrays (also inside tuples and lists) as Tensors that carry no gradient."""
    if isinstance(obj, np.ndarray) or is_foreign(obj):
        return Tensor._make(obj, None)
    if isinstance(obj, tuple):
        return tuple(wrap_constant(o) for o in obj)
    if isinstance(obj, list):
        return [wrap_constant(o) for o in obj]
    return obj


def nondiff_call(func: Any, args: tuple, kwargs: dict) -> Any:
    """Run a non-differentiable function on the data; array results become constants."""
    result = wrap_constant(func(*unwrap(args), **unwrap(kwargs)))
    if _grad_state.tracer is not None:  # constants to the tape, but not to a program
        return _grad_state.tracer.nondiff(result, func, args, kwargs)
    return result
