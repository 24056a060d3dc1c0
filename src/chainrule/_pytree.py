"""Pytrees: nested containers of arrays, taken apart into leaves and put back together.

A pytree is a tuple, list, dict, ``None`` (a node with no leaves), a namedtuple,
or an instance of a type registered with ``register_pytree``; anything else
must be a leaf: an ``np.ndarray``, a Tensor, or a number. Dict children are
visited in sorted key order (JAX's convention), so two dicts with the same keys
line up whatever order they were built in; a dict is rebuilt with its keys in
that sorted order. Dicts whose keys cannot be sorted keep insertion order.

This module imports nothing from chainrule except its errors, so the transforms,
the optimizers and ``cr.flatten`` can all build on it.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from ._backend import is_foreign

__all__ = [
    "PyTreeDef",
    "flatten",
    "register_pytree",
    "tree_flatten",
    "tree_leaves",
    "tree_map",
    "tree_unflatten",
]

# type -> (flatten(obj) -> (children, aux), unflatten(aux, children) -> obj)
_NODES: dict[type, tuple[Callable[[Any], tuple[Any, Any]], Callable[[Any, Any], Any]]] = {}


def register_pytree(
    cls: type,
    flatten: Callable[[Any], tuple[Any, Any]] | None = None,
    unflatten: Callable[[Any, Any], Any] | None = None,
) -> type:
    """Make instances of ``cls`` pytree nodes, so transforms and optimizers see inside them.

    ``flatten(obj)`` returns ``(children, aux)``: the children (a sequence of
    pytrees) and hashable static data; ``unflatten(aux, children)`` rebuilds the
    object (JAX's convention). For a dataclass both may be omitted: its fields
    are the children. Returns ``cls``, so it also works as a class decorator.

    >>> import dataclasses, numpy as np, chainrule as cr
    >>> @cr.register_pytree
    ... @dataclasses.dataclass
    ... class Params:
    ...     w: np.ndarray
    ...     b: float
    >>> vec, unflatten = cr.flatten(Params(np.array([1.0, 2.0]), 3.0))
    >>> vec
    array([1., 2., 3.])
    >>> unflatten(vec * 2)
    Params(w=array([2., 4.]), b=array(6.))
    """
    if not isinstance(cls, type):
        raise TypeError(f"register_pytree: cls must be a class, got {type(cls).__name__}")
    if cls in (tuple, list, dict, type(None)):
        raise ValueError(f"register_pytree: {cls.__name__} is already a pytree node")
    if flatten is None and unflatten is None:
        import dataclasses  # here: most programs never register one, and it costs 3 ms

        if not dataclasses.is_dataclass(cls):
            raise TypeError(
                f"register_pytree({cls.__name__}): pass flatten(obj) -> (children, aux) and "
                "unflatten(aux, children) -> obj; only a dataclass can omit them"
            )
        names = tuple(f.name for f in dataclasses.fields(cls))

        def flatten_fields(obj: Any) -> tuple[list, Any]:
            return [getattr(obj, n) for n in names], None

        def unflatten_fields(aux: Any, children: Any) -> Any:
            return cls(**dict(zip(names, children, strict=True)))

        flatten, unflatten = flatten_fields, unflatten_fields
    elif not (callable(flatten) and callable(unflatten)):
        raise TypeError(
            f"register_pytree({cls.__name__}): flatten and unflatten must both be functions"
        )
    _NODES[cls] = (flatten, unflatten)  # type: ignore[assignment]
    return cls


class PyTreeDef:
    """The structure of a pytree with its leaves taken out (hashable, comparable).

    >>> import chainrule as cr
    >>> cr.tree_flatten({"b": 2.0, "a": (1.0, None)})[1]
    PyTreeDef({'a': (*, None), 'b': *})
    """

    __slots__ = ("_hash", "aux", "children", "kind", "num_leaves")

    def __init__(self, kind: Any, aux: Any, children: tuple[PyTreeDef, ...]) -> None:
        self.kind = kind  # None for a leaf
        self.aux = aux
        self.children = children
        self.num_leaves: int = 1 if kind is None else sum(c.num_leaves for c in children)
        try:
            self._hash = hash((kind, aux, children))
        except TypeError:  # unhashable aux from a user's flatten: equal trees still compare
            self._hash = hash((kind, children))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, PyTreeDef)
            and self.kind is other.kind
            and self.num_leaves == other.num_leaves
            and self.children == other.children
            and _same_aux(self.aux, other.aux)
        )

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"PyTreeDef({self._show()})"

    def _show(self) -> str:
        kids = [c._show() for c in self.children]
        if self.kind is None:
            return "*"
        if self.kind is type(None):
            return "None"
        if self.kind is dict:
            return "{" + ", ".join(f"{k!r}: {v}" for k, v in zip(self.aux, kids, strict=True)) + "}"
        if self.kind is list:
            return "[" + ", ".join(kids) + "]"
        if self.kind is tuple:
            return "(" + ", ".join(kids) + ("," if len(kids) == 1 else "") + ")"
        return f"{self.kind.__name__}(" + ", ".join(kids) + ")"


def _same_aux(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # aux holding arrays: compare what can be compared
        return a is b


_LEAF = PyTreeDef(None, None, ())


def _is_tensor(x: Any) -> bool:
    """A chainrule Tensor, recognised without importing it (this module comes first)."""
    kind = type(x)
    return kind.__name__ == "Tensor" and kind.__module__.startswith("chainrule")


def _is_leaf(x: Any) -> bool:
    return isinstance(x, (np.ndarray, np.generic, numbers.Number)) or _is_tensor(x) or is_foreign(x)


def _sorted_keys(d: dict) -> list:
    try:
        return sorted(d)
    except TypeError:  # keys of mixed types: insertion order, still deterministic
        return list(d)


def _flatten_into(tree: Any, leaves: list, where: str) -> PyTreeDef:
    kind = type(tree)
    if kind is tuple or kind is list:
        kids = tuple(_flatten_into(t, leaves, f"{where}[{i}]") for i, t in enumerate(tree))
        return PyTreeDef(kind, None, kids)
    if kind is dict:
        keys = _sorted_keys(tree)
        kids = tuple(_flatten_into(tree[k], leaves, f"{where}[{k!r}]") for k in keys)
        return PyTreeDef(dict, tuple(keys), kids)
    if tree is None:
        return PyTreeDef(type(None), None, ())
    node = _NODES.get(kind)
    if node is not None:
        children, aux = node[0](tree)
        kids = tuple(
            _flatten_into(t, leaves, f"{where}.<{kind.__name__} child {i}>")
            for i, t in enumerate(children)
        )
        return PyTreeDef(kind, aux, kids)
    if isinstance(tree, tuple) and hasattr(kind, "_fields"):  # a namedtuple
        kids = tuple(
            _flatten_into(t, leaves, f"{where}.{f}")
            for f, t in zip(kind._fields, tree, strict=True)
        )
        return PyTreeDef(kind, None, kids)
    if _is_leaf(tree):
        leaves.append(tree)
        return _LEAF
    raise TypeError(
        f"pytree leaf {where} is a {kind.__name__}, which is neither an array, a Tensor nor a "
        f"number; convert it (np.asarray) or register its class with "
        f"cr.register_pytree(cls, flatten, unflatten)"
    )


def tree_flatten(tree: Any) -> tuple[list, PyTreeDef]:
    """The leaves of ``tree`` (depth first) and its structure, for ``tree_unflatten``.

    >>> import numpy as np, chainrule as cr
    >>> leaves, treedef = cr.tree_flatten({"w": np.ones(2), "b": 0.5})
    >>> leaves
    [0.5, array([1., 1.])]
    >>> cr.tree_unflatten(treedef, [1.0, 2.0])
    {'b': 1.0, 'w': 2.0}
    """
    leaves: list = []
    treedef = _flatten_into(tree, leaves, "tree")
    return leaves, treedef


def tree_leaves(tree: Any) -> list:
    """The leaves of ``tree``, depth first.

    >>> import chainrule as cr
    >>> cr.tree_leaves([1.0, (2.0, None), {"a": 3.0}])
    [1.0, 2.0, 3.0]
    """
    return tree_flatten(tree)[0]


def tree_unflatten(treedef: PyTreeDef, leaves: Any) -> Any:
    """Rebuild the pytree described by ``treedef`` with ``leaves`` in place of its leaves.

    >>> import chainrule as cr
    >>> _, treedef = cr.tree_flatten((1.0, [2.0, 3.0]))
    >>> cr.tree_unflatten(treedef, ["a", "b", "c"])
    ('a', ['b', 'c'])
    """
    if not isinstance(treedef, PyTreeDef):
        raise TypeError(
            f"tree_unflatten: treedef must come from tree_flatten, got {type(treedef).__name__}"
        )
    leaves = list(leaves)
    if len(leaves) != treedef.num_leaves:
        raise ValueError(
            f"tree_unflatten: the structure has {treedef.num_leaves} leaves, got {len(leaves)}"
        )
    it = iter(leaves)
    return _build(treedef, it)


def _build(td: PyTreeDef, it: Any) -> Any:
    if td.kind is None:
        return next(it)
    children = [_build(c, it) for c in td.children]
    if td.kind is tuple or td.kind is list:
        return td.kind(children)
    if td.kind is dict:
        return dict(zip(td.aux, children, strict=True))
    if td.kind is type(None):
        return None
    node = _NODES.get(td.kind)
    if node is not None:
        return node[1](td.aux, children)
    return td.kind(*children)  # a namedtuple


def tree_map(f: Callable[..., Any], tree: Any, *rest: Any) -> Any:
    """Apply ``f`` to each leaf of ``tree`` (and the matching leaves of ``rest``).

    Every tree in ``rest`` must have the structure of ``tree``.

    >>> import numpy as np, chainrule as cr
    >>> params = {"w": np.array([1.0, 2.0]), "b": 0.5}
    >>> grads = {"w": np.array([0.1, 0.1]), "b": 1.0}
    >>> cr.tree_map(lambda p, g: p - 0.5 * g, params, grads)
    {'b': 0.0, 'w': array([0.95, 1.95])}
    """
    if not callable(f):
        raise TypeError(f"tree_map: f must be a function, got {type(f).__name__}")
    leaves, treedef = tree_flatten(tree)
    others = []
    for i, other in enumerate(rest):
        other_leaves, other_def = tree_flatten(other)
        if other_def != treedef:
            raise ValueError(
                f"tree_map: tree {i + 1} of rest has structure {other_def}, but the first tree "
                f"has {treedef}; they must match"
            )
        others.append(other_leaves)
    return tree_unflatten(treedef, [f(*xs) for xs in zip(leaves, *others, strict=True)])


# ------------------------------------------------------------------ ravel
def _data(x: Any) -> Any:
    """The array behind a leaf, without going through Tensor.__array__ (which refuses
    tensors that require grad)."""
    return x._data if _is_tensor(x) else x


def flatten(tree: Any) -> tuple[Any, Callable[[Any], Any]]:
    """All leaves of a pytree, raveled into one vector, and the function undoing it.

    The vector has the leaves' common floating dtype (float64 for integer
    leaves). ``unflatten(v)`` rebuilds the structure with each leaf's shape and
    dtype; it slices and reshapes with NumPy calls, so on a Tensor it records
    and ``cr.grad(lambda v: loss(unflatten(v)))`` differentiates. Given Tensors,
    the vector is a Tensor too.

    >>> import numpy as np, chainrule as cr
    >>> params = {"W": np.ones((2, 2)), "b": np.zeros(2)}
    >>> v, unflatten = cr.flatten(params)
    >>> v  # "W" sorts before "b"
    array([1., 1., 1., 1., 0., 0.])
    >>> g = cr.grad(lambda v: np.sum(unflatten(v)["W"] ** 2))(v)
    >>> g
    array([2., 2., 2., 2., 0., 0.])
    >>> unflatten(g)["W"]
    array([[2., 2.],
           [2., 2.]])
    """
    leaves, treedef = tree_flatten(tree)
    shapes, dtypes = [], []
    for i, leaf in enumerate(leaves):
        arr = np.asarray(_data(leaf))
        if arr.dtype.kind not in "biuf":
            raise TypeError(
                f"cr.flatten: leaf {i} has dtype {arr.dtype}; only real numbers can be "
                "flattened into one float vector (take complex numbers apart with .real/.imag)"
            )
        shapes.append(arr.shape)
        dtypes.append(arr.dtype)
    dtype = np.result_type(*dtypes) if dtypes else np.dtype(np.float64)
    if dtype.kind != "f":
        dtype = np.dtype(np.float64)
    sizes = [int(np.prod(s)) for s in shapes]
    bounds = np.concatenate([[0], np.cumsum(sizes)]).astype(int).tolist()
    total = bounds[-1]
    if any(_is_tensor(leaf) for leaf in leaves):
        # Tensors: recorded NumPy calls, so the vector carries the leaves' gradients
        parts = [np.ravel(leaf) for leaf in leaves]
        vector = np.concatenate([p.astype(dtype) if p.dtype != dtype else p for p in parts])
    elif leaves:
        vector = np.concatenate([np.ravel(np.asarray(leaf)).astype(dtype) for leaf in leaves])
    else:
        vector = np.zeros(0, dtype)

    def unflatten(v: Any) -> Any:
        shape = np.shape(_data(v))
        if shape != (total,):
            raise ValueError(
                f"unflatten: expected a vector of shape ({total},), as cr.flatten returned, "
                f"got shape {shape}"
            )
        out = []
        for k, (s, dt) in enumerate(zip(shapes, dtypes, strict=True)):
            piece = np.reshape(v[bounds[k] : bounds[k + 1]], s)
            if _data(piece).dtype != dt:
                piece = piece.astype(dt)
            out.append(piece)
        return tree_unflatten(treedef, out)

    return vector, unflatten
