"""Helpers shared by the transforms (transforms.py, jacobians.py): arguments as pytrees,
fresh input Tensors, output checks and the results handed back.

Inputs may be real or complex floating-point arrays; outputs to differentiate must be
floats (real or complex). Which complex outputs a transform accepts is decided by the
transform itself (``grad`` wants a real scalar unless ``holomorphic=True``).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from . import _mode
from ._backend import as_array, zeros
from ._pytree import PyTreeDef, tree_flatten, tree_unflatten
from ._record import apply
from ._tensor import Tensor, data_of
from .ops.shape import IDENTITY


# ----------------------------------------------------------------- pytrees
def _flatten(tree: Any, where: str) -> tuple[list, PyTreeDef]:
    """The leaves of an argument and its structure: tuples, lists, dicts, namedtuples and
    registered classes (``cr.register_pytree``) are containers, anything else a leaf."""
    if tree is None or isinstance(tree, (str, bytes)):  # not containers: refused as leaves
        _float_array(tree, where)
    try:
        return tree_flatten(tree)
    except TypeError as e:
        # The pytree message names the leaf by its path from the argument ("tree...").
        text = str(e).replace("pytree leaf tree is", "it is", 1)
        text = text.replace("pytree leaf tree", "its part ", 1)
        raise TypeError(f"{where} cannot be differentiated: {text}") from None


def _map_leaves(f: Callable[[Any], Any], tree: Any) -> Any:
    """``f`` on each leaf of ``tree``, leaving objects that are not pytrees as they are."""
    try:
        leaves, treedef = tree_flatten(tree)
    except TypeError:
        if isinstance(tree, (tuple, list)) and not hasattr(tree, "_fields"):
            return type(tree)(_map_leaves(f, t) for t in tree)
        if isinstance(tree, dict):
            return {k: _map_leaves(f, v) for k, v in tree.items()}
        return f(tree)
    return tree_unflatten(treedef, [f(leaf) for leaf in leaves])


def _in_order(like: Any, tree: Any) -> Any:
    """``tree`` with its dicts in ``like``'s key order (pytrees visit keys sorted)."""
    if type(like) is dict:
        return {k: _in_order(v, tree[k]) for k, v in like.items()}
    if type(like) in (tuple, list):
        return type(like)(_in_order(a, b) for a, b in zip(like, tree, strict=True))
    return tree


def _wrap(tree: Any, where: str) -> tuple[Any, list[Tensor], Callable[[list], Any]]:
    """An argument with a fresh input Tensor per leaf, those Tensors, and the function
    putting one value per leaf (the gradients) back into the argument's structure."""
    leaves, treedef = _flatten(tree, where)
    wrapped = [_input(leaf, where, True) for leaf in leaves]
    return (
        _in_order(tree, tree_unflatten(treedef, wrapped)),
        wrapped,
        lambda values: _in_order(tree, tree_unflatten(treedef, values)),
    )


def _rebuilt(flat: list, rebuilds: list) -> list:
    """Consecutive runs of ``flat``, one per argument, each in its structure."""
    out, k = [], 0
    for rebuild, n in rebuilds:
        out.append(rebuild(flat[k : k + n]))
        k += n
    return out


def _check_callable(f: Any, name: str) -> None:
    if not callable(f):
        raise TypeError(f"{name}: f must be a function, got {type(f).__name__}")


# ------------------------------------------------------------------ inputs
def _float_array(x: Any, where: str) -> np.ndarray:
    arr = as_array(x)  # a Python float is a float64 scalar; a Python int is refused
    if arr.dtype.kind not in "fc":
        raise TypeError(
            f"{where} has dtype {arr.dtype}; gradients need floating-point inputs "
            "(pass it as floats, e.g. x.astype(float))"
        )
    return arr


def _holomorphic_inputs(xs: list, name: str) -> None:
    """``holomorphic=True`` differentiates in the complex plane: real inputs have none."""
    for x in xs:
        dtype = as_array(data_of(x)).dtype
        if dtype.kind != "c":
            raise TypeError(
                f"{name}(holomorphic=True): the inputs must be complex, got dtype {dtype}; "
                "pass them as complex arrays (e.g. x.astype(complex)) or drop holomorphic=True"
            )


def _input(x: Any, where: str, requires_grad: bool) -> Tensor:
    """A fresh Tensor standing for argument ``x`` inside a transform."""
    if isinstance(x, Tensor):
        _float_array(x._data, where)
        with _mode.enable_grad(), _mode.forward_mode(False):
            t = apply(IDENTITY, x) if x.requires_grad else Tensor._make(x._data, None)
        # Outer jvps' tangents flow on through this transform (also to its node: a
        # backward pass rebuilds the Tensors its rules see from nodes).
        t._tangent = x._tangent
        if t._node is not None:
            t._node.out_tangent = x._tangent
    else:
        t = Tensor._make(_float_array(x, where), None)
    if requires_grad and t._node is None:
        t.requires_grad = True
    return t


def _nested(args: Any) -> bool:
    """Inside another transform, or given Tensors: results must stay Tensors."""
    if _mode.state.transforms > 1 or _mode.state.forward > 0:
        return True
    if all(type(a) in _LEAF_TYPES for a in args):  # the common case: no containers
        return any(type(a) is Tensor for a in args)
    found: list[bool] = []  # whether each leaf is a Tensor (other objects are left alone)
    _map_leaves(lambda leaf: found.append(isinstance(leaf, Tensor)), list(args))
    return any(found)


# Argument types that are leaves of every pytree: _nested need not flatten them.
_LEAF_TYPES = frozenset({Tensor, np.ndarray, float, int, complex, np.float64, np.float32})


@contextlib.contextmanager
def _transform(tangent_graphs: bool = True) -> Iterator[None]:
    state = _mode.state
    state.transforms += 1
    saved, state.tangent_graphs = state.tangent_graphs, tangent_graphs
    try:
        with _mode.enable_grad():
            yield
    finally:
        state.transforms -= 1
        state.tangent_graphs = saved


def _result(x: Any, nested: bool) -> Any:
    """A plain array at top level; the Tensor itself when nested."""
    if nested:
        return x
    if isinstance(x, Tensor):
        x = x._array()
    return x


def _argnum_list(argnums: Any, n_args: int, name: str) -> tuple[list[int], bool]:
    single = isinstance(argnums, int)
    nums = [argnums] if single else list(argnums)
    for a in nums:
        if not isinstance(a, int) or not -n_args <= a < n_args:
            raise ValueError(
                f"{name}: argnums={argnums!r} does not fit a call with {n_args} argument(s)"
            )
    return [a % n_args for a in nums], single


def _zeros_like(t: Tensor, nested: bool) -> Any:
    z = zeros(t.shape, t.dtype, like=t._data)  # in the input's library
    return Tensor._make(z, None) if nested else z


def _tangent_result(t: Any, nested: bool) -> Any:
    """A tangent as returned: a Tensor when nested (constant if nothing recorded it), an
    array the user owns at top level."""
    if nested:
        return t if isinstance(t, Tensor) else Tensor._make(as_array(t), None)
    return _owned(t._data if isinstance(t, Tensor) else t)


def _owned(g: Any) -> Any:
    """Gradients returned to the user are arrays they own."""
    if isinstance(g, np.ndarray) and (g.base is not None or not g.flags.writeable):
        return g.copy()
    return as_array(g)  # another library's array (Dask, CuPy) stays in its library


def _scalar_output(out: Any, name: str, holomorphic: bool | None = None) -> Any:
    """``out`` checked to be a float scalar: a real one unless ``holomorphic`` is True
    (``None``: the transform has no holomorphic mode)."""
    if isinstance(out, (tuple, list)):
        raise TypeError(
            f"{name}: f must return a scalar, got a {type(out).__name__}; for several outputs use "
            "cr.vjp or cr.jacobian (or has_aux=True to return (value, aux))"
        )
    dtype = _float_output(out, name, "f's output")
    if dtype.kind == "c" and not holomorphic:
        # A complex value has no "uphill": the gradient of a loss needs a real loss.
        hint = "" if holomorphic is None else ", or pass holomorphic=True for f'(z)"
        raise TypeError(
            f"{name}: f must return a real scalar, got a complex one ({dtype}); differentiate "
            f"a real quantity such as np.abs(out) ** 2 or np.real(out){hint}"
        )
    if holomorphic and dtype.kind != "c":
        raise TypeError(
            f"{name}(holomorphic=True): f must return a complex scalar, got dtype {dtype}; a "
            "real-valued holomorphic function is constant: drop holomorphic=True"
        )
    shape = np.shape(data_of(out))
    if math.prod(shape) != 1:
        raise TypeError(
            f"{name}: f must return a scalar, got an output of shape {shape}; use cr.vjp or "
            "cr.jacobian for non-scalar outputs (or reduce it, e.g. with .sum())"
        )
    return out


def _float_output(out: Any, name: str, what: str) -> np.dtype:
    """The dtype of an output to differentiate, refusing bool and integer results: a
    comparison (np.allclose, x > 0) or a count has no derivative, and zeros would hide it."""
    dtype = as_array(data_of(out)).dtype
    if dtype.kind not in "fc":
        kind = {"b": "a bool", "i": "an integer", "u": "an integer"}.get(dtype.kind, "a value")
        raise TypeError(
            f"{name}: {what} is {kind} of dtype {dtype}, not a differentiable float; "
            "a comparison or a count (np.allclose, x > 0, np.argmax) has no derivative. Return "
            "the float quantity itself (e.g. np.sum((x - y) ** 2) rather than np.allclose(x, y))"
        )
    return dtype


def _detached(tree: Any) -> Any:
    detach = _map_leaves(lambda leaf: leaf._array() if isinstance(leaf, Tensor) else leaf, tree)
    return _in_order(tree, detach)


def _cotangent(c: Any, shape: tuple, dtype: np.dtype, k: int) -> Any:
    """A cotangent as an array of the output's shape and dtype (a Python or NumPy
    number for a 0-d output included); a Tensor, from an outer transform, as it is."""
    if isinstance(c, Tensor):
        if c.shape != shape:
            raise ValueError(
                f"cr.vjp: cotangent {k} has shape {c.shape}, the output has shape {shape}"
            )
        return c
    arr = as_array(c)
    if arr.dtype.kind not in "iufc" or (arr.dtype.kind == "c" and dtype.kind != "c"):
        raise TypeError(
            f"cr.vjp: cotangent {k} has dtype {arr.dtype}; pass a real number or array "
            f"(the output has dtype {dtype})"
        )
    if arr.shape != shape:
        raise ValueError(
            f"cr.vjp: cotangent {k} has shape {arr.shape}, the output has shape {shape}"
        )
    return arr.astype(dtype, copy=False)


def _tuple(x: Any, name: str, where: str = "cr.jvp") -> tuple:
    if not isinstance(x, (tuple, list)):
        raise TypeError(f"{where}: {name} must be a tuple of arrays, got {type(x).__name__}")
    return tuple(x)
