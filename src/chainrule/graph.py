"""A public view of what the tape recorded: ``t.grad_fn`` and ``cr.on_record``.

Tools walk the graph through these, never through private attributes: a
Tensor's ``grad_fn`` is the recorded operation that made it (``None`` for a
leaf), whose ``inputs`` are leaf Tensors, the ``GradFn`` of computed inputs,
or ``Constant`` descriptions of the arrays and numbers that took part without
a gradient. ``cr.on_record(callback)`` shows each operation as it is recorded.
A ``GradFn`` also exposes what it takes to run the operation again -- its
``primitive``, every positional argument (``arguments``) and its ``kwargs`` --
and a ``Constant`` its ``value``: enough to rebuild the computation as a program.
``walk(t)`` lists the operations behind ``t``, and ``gradients(t)`` the
gradient that one backward pass sends into each of them and into each leaf,
without touching any ``.grad``. ``cr.draw`` and ``cr.explain`` are built on
this view.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from . import _mode
from ._engine import Node, run_backward
from ._tensor import Tensor

__all__ = ["Constant", "GradFn", "grad_fn", "gradients", "on_record", "walk"]


class Constant:
    """An input that took part without a gradient: an array or a number, by shape.

    ``value`` is the array or number itself (``None`` where it was not given).

    >>> import numpy as np, chainrule as cr
    >>> w = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> c = (w * np.array([3.0, 4.0])).grad_fn.inputs[1]
    >>> c
    Constant(shape=(2,), dtype=float64)
    >>> c.value
    array([3., 4.])
    """

    __slots__ = ("dtype", "shape", "value")

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype, value: Any = None) -> None:
        self.shape, self.dtype, self.value = shape, dtype, value

    def __repr__(self) -> str:
        return f"Constant(shape={self.shape}, dtype={self.dtype})"


class GradFn:
    """The recorded operation behind a Tensor (its ``grad_fn``).

    ``name`` is the primitive's name; ``inputs`` has one entry per data input, in
    order: a leaf Tensor, the ``GradFn`` of a computed input, or a ``Constant``
    (a Tensor without grad is shown as itself); ``saved`` the shapes of the
    values kept for backward (``None`` once backward released them); ``shape``
    and ``dtype`` describe the operation's output. A ``cr.Function`` with several
    outputs records one operation for all of them (``outputs`` counts them; its
    ``shape`` and ``dtype`` are ``None``) and one ``select`` operation per output,
    which carries that output's shape and dtype. Two views of one operation
    compare equal, so a walk can tell where branches meet.

    >>> import numpy as np, chainrule as cr
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> y = np.exp(x) * 2.0
    >>> y.grad_fn
    <GradFn multiply: float64[2]>
    >>> y.grad_fn.inputs
    (<GradFn exp: float64[2]>, Constant(shape=(), dtype=float64))
    >>> y.grad_fn.inputs[0].inputs[0] is x
    True
    """

    __slots__ = ("_node", "dtype", "outputs", "shape")

    def __init__(self, node: Node, shape: Any, dtype: Any, outputs: int = 1) -> None:
        self._node, self.shape, self.dtype, self.outputs = node, shape, dtype, outputs

    @property
    def name(self) -> str:
        """The primitive's name, as in error messages (``"multiply"``, ``"linalg.solve"``)."""
        return str(self._node.prim.name)

    @property
    def released(self) -> bool:
        """Whether backward released what this operation saved (the graph ends here)."""
        return self._node.args is None

    @property
    def inputs(self) -> tuple:
        """One entry per data input: Tensor, GradFn or Constant (see the class)."""
        return tuple(a for a, data in self._arguments() if data)

    @property
    def primitive(self) -> Any:
        """The registry's primitive that ran (``fun``, ``vjps``; see ``_registry``).

        >>> import numpy as np, chainrule as cr
        >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
        >>> np.exp(x).grad_fn.primitive
        <primitive exp>
        """
        return self._node.prim

    @property
    def arguments(self) -> tuple:
        """Every positional argument of the forward call, in order: data inputs as in
        ``inputs`` (a Constant carries its ``value``), the others (an axis, ``None``, an
        index, a subscripts string) as they were passed.

        >>> import numpy as np, chainrule as cr
        >>> x = cr.tensor([[1.0, 2.0]], requires_grad=True)
        >>> args = x[0, 1:].grad_fn.arguments
        >>> args[0] is x, args[1]
        (True, (0, slice(1, None, None)))
        """
        return tuple(a for a, _ in self._arguments())

    @property
    def kwargs(self) -> dict:
        """The keyword options of the forward call (``{"axis": 0, "keepdims": False}``).

        >>> import numpy as np, chainrule as cr
        >>> x = cr.tensor([[1.0, 2.0]], requires_grad=True)
        >>> np.sum(x, axis=1).grad_fn.kwargs
        {'axis': 1, 'keepdims': False}
        """
        kwargs = self._node.kwargs
        return dict(kwargs) if isinstance(kwargs, dict) else {}

    def _arguments(self) -> list[tuple[Any, bool]]:
        """(shown value, whether it is a data input) for each positional argument."""
        node = self._node
        args, parents = node.args, node.parents
        if args is None or parents is None:
            raise RuntimeError(
                f"the graph behind '{self.name}' was released by backward(); look at it "
                "before backward, or call backward(retain_graph=True)"
            )
        given: dict[int, Any] = {}
        for i, ref, _ in parents:
            given[i] = _view(ref, args[i]) if type(ref) is Node else ref
        for i, t, _ in node.watched or ():
            given[i] = t
        # A selector's second argument is which output it picks, not data.
        picks = _is_select(node)
        shown: list[tuple[Any, bool]] = []
        for i, a in enumerate(args):
            if i in given:
                shown.append((given[i], True))
            elif picks and i == 1:
                shown.append((a, False))
            elif isinstance(a, (np.ndarray, np.generic, int, float, complex)) and not isinstance(
                a, bool
            ):
                shown.append((Constant(np.shape(a), np.result_type(a), a), True))
            else:
                shown.append((a, False))
        return shown

    @property
    def saved(self) -> tuple | None:
        """Shapes of the saved inputs and output (``None`` where one is not kept)."""
        node = self._node
        if node.args is None:
            return None
        arrays = [a for a in node.args if isinstance(a, (np.ndarray, np.generic))]
        out = () if node.out is None else (np.shape(node.out),)
        return tuple(np.shape(a) for a in arrays) + out

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GradFn) and other._node is self._node

    def __hash__(self) -> int:
        return id(self._node)

    def __repr__(self) -> str:
        if self.shape is None:
            return f"<GradFn {self.name}: {self.outputs} outputs>"
        dims = ", ".join(str(d) for d in self.shape)
        return f"<GradFn {self.name}: {self.dtype}[{dims}]>"


def _view(node: Node, value: Any) -> GradFn:
    """The GradFn of ``node``, described by ``value``, its output as a consumer saw it."""
    if isinstance(value, tuple):
        # A multi-output Function's bundle of outputs (a tuple, not an array): its
        # selectors carry each output's shape and dtype.
        return GradFn(node, None, None, len(value))
    return GradFn(node, np.shape(value), np.result_type(value))


def _is_select(node: Node) -> bool:
    """Whether ``node`` picks one output of a multi-output Function: ``(bundle, k)``."""
    args = node.args
    return node.prim.name == "select" and args is not None and isinstance(args[0], tuple)


def grad_fn(t: Tensor) -> GradFn | None:
    """``t.grad_fn``: the recorded operation that made ``t``, or ``None`` for a leaf."""
    node = t._node
    if node is None:
        return None
    return GradFn(node, t.shape, t.dtype)


class on_record(contextlib.ContextDecorator):
    """Context manager: ``callback(t)`` sees each Tensor ``t`` as an operation records it.

    ``t.grad_fn`` describes the operation. The callback runs on this thread only,
    inside the operation: it must not change ``t``.

    >>> import numpy as np, chainrule as cr
    >>> x = cr.tensor([0.5, 1.0], requires_grad=True)
    >>> with cr.on_record(lambda t: print(t.grad_fn.name, t.shape)):
    ...     y = np.sum(np.tanh(x) * x)
    tanh (2,)
    multiply (2,)
    sum ()
    """

    def __init__(self, callback: Callable[[Tensor], Any]) -> None:
        if not callable(callback):
            raise TypeError(
                f"cr.on_record: the callback must be callable, got {type(callback).__name__}"
            )
        self.callback = callback

    def __enter__(self) -> on_record:
        state = _mode.state
        state.observers = (*state.observers, self.callback)
        state.refresh()
        return self

    def __exit__(self, *exc: object) -> None:
        state = _mode.state
        observers = list(state.observers)
        observers.reverse()
        observers.remove(self.callback)  # the innermost registration of this callback
        observers.reverse()
        state.observers = tuple(observers)
        state.refresh()


def recorded(observers: tuple, result: Tensor) -> None:
    """Tell each observer about a recorded result (called by the recorder)."""
    if result._node is not None:
        for callback in observers:
            callback(result)


def walk(root: Tensor) -> Iterator[GradFn]:
    """Every operation behind ``root`` once, consumers before what they consume.

    The order is that of a backward pass: the most recently recorded operation
    first, so an operation comes only after every operation that reads its
    output. Raises ``RuntimeError`` where backward released the graph.

    >>> import numpy as np, chainrule as cr
    >>> x = cr.tensor(0.5, requires_grad=True)
    >>> b = np.exp(x)
    >>> r = np.sin(b) * b
    >>> [fn.name for fn in cr.graph.walk(r)]
    ['multiply', 'sin', 'exp']
    """
    first = grad_fn(root)
    if first is None:
        return
    seen = {first}
    stack = [first]
    while stack:
        for x in stack.pop().inputs:
            if isinstance(x, GradFn) and x not in seen:
                seen.add(x)
                stack.append(x)
    # Nodes are numbered as they are recorded, counting down: a consumer, recorded
    # after its inputs, has the smaller number.
    yield from sorted(seen, key=lambda fn: fn._node.seq)


def gradients(root: Tensor, head: Any = None) -> dict[Any, Any]:
    """The gradient one backward pass from ``root`` sends into each operation and leaf.

    Returns ``{GradFn or leaf Tensor: gradient array}``: for an operation, the
    gradient of its output (summed over every consumer); for a leaf that requires
    grad, its gradient; ``root``'s own operation gets ``head`` (ones shaped like
    ``root`` by default). Operations and leaves no gradient reaches are left out;
    the one operation of a multi-output ``cr.Function`` gets a tuple, one entry
    per output (``None`` where none flows). It is one reverse pass over the
    graph, which it keeps: no ``.grad`` changes and no hook runs (neither a
    leaf's nor an intermediate's), so a hook that replaces a gradient is not
    reflected. Call it before ``backward()`` or after
    ``backward(retain_graph=True)``.

    >>> import numpy as np, chainrule as cr
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> e = np.exp(x)
    >>> loss = np.sum(e * 3.0)
    >>> g = cr.graph.gradients(loss)
    >>> g[x], g[e.grad_fn], g[loss.grad_fn]
    (array([ 8.15484549, 22.1671683 ]), array([3., 3.]), array(1.))
    >>> x.grad is None
    True
    """
    if not isinstance(root, Tensor):
        raise TypeError(
            f"chainrule.graph.gradients: expected the Tensor a computation returned, got "
            f"{type(root).__name__}"
        )
    if not root.requires_grad:
        raise ValueError(
            "chainrule.graph.gradients: the tensor does not require grad, so no graph was "
            "recorded behind it; make an input with cr.tensor(..., requires_grad=True)"
        )
    g0 = _head(root, head)
    top = root._node
    if top is None:
        return {root: g0}
    nodes, leaves = _reachable(top, grad_fn(root))  # type: ignore[arg-type]
    captured: dict[Node, Any] = {}

    def capture(node: Node) -> Callable[[Any], None]:
        return lambda g: captured.__setitem__(node, g)

    # The engine runs a node's hooks on the gradient flowing into it: for the length
    # of this pass each node's hooks are only the capture, so no user hook runs.
    kept = {node: node.hooks for node in nodes}
    try:
        for node in nodes:
            node.hooks = [capture(node)]
        # With inputs, the engine returns the leaves' gradients and runs no leaf hook.
        found = run_backward(root, g0, True, False, inputs=list(leaves))
    finally:
        for node, hooks in kept.items():
            node.hooks = hooks
    out: dict[Any, Any] = {nodes[node]: _plain(g) for node, g in captured.items()}
    for leaf, g in zip(leaves, found or (), strict=True):
        if g is not None:
            out[leaf] = _plain(g)
    return out


def _head(root: Tensor, head: Any) -> Any:
    """The head gradient as an array shaped like ``root`` (ones by default)."""
    if head is None:
        return np.ones(root.shape, root.dtype)
    raw = head._data if isinstance(head, Tensor) else head
    try:
        g = np.array(raw, dtype=root.dtype)
    except (TypeError, ValueError):
        raise TypeError(
            f"chainrule.graph.gradients: head must be numbers shaped like the tensor "
            f"{root.shape}, got {type(raw).__name__}"
        ) from None
    if g.shape != root.shape:
        raise ValueError(
            f"chainrule.graph.gradients: head has shape {g.shape} but the tensor has shape "
            f"{root.shape}; they must match"
        )
    return g


def _reachable(top: Node, first: GradFn) -> tuple[dict[Node, GradFn], list[Tensor]]:
    """Every node behind ``top`` (with its GradFn) and every leaf that requires grad,
    refusing a graph that backward released (the pass would fail halfway)."""
    nodes = {top: first}
    leaves: dict[int, Tensor] = {}
    stack = [top]
    while stack:
        node = stack.pop()
        args, parents = node.args, node.parents
        if args is None or parents is None:
            raise RuntimeError(
                f"chainrule.graph.gradients: the graph behind '{node.prim.name}' was released "
                "by backward(); call it before backward, or call backward(retain_graph=True)"
            )
        for i, ref, _ in parents:
            if type(ref) is not Node:
                leaves[id(ref)] = ref
            elif ref not in nodes:
                nodes[ref] = _view(ref, args[i])
                stack.append(ref)
    return nodes, list(leaves.values())


def _plain(g: Any) -> Any:
    """A gradient as arrays: a Tensor's data (in forward mode the engine passes
    Tensors), a multi-output Function's per-output gradients as a tuple."""
    if isinstance(g, Tensor):
        g = g._data
    slots = getattr(g, "slots", None)
    if slots is not None:
        return tuple(_plain(s) for s in slots)
    return np.asarray(g) if isinstance(g, np.generic) else g
