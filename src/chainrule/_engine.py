"""The backward engine: nodes on the tape and the reverse sweep over them.

A non-leaf Tensor points at the Node that made it. A Node keeps what its
rules read -- the primitive, the forward's arguments (zero-byte stand-ins for
large inputs read only for their shape), its output if read -- and, for each
input that requires grad, the input's Node (or the leaf Tensor itself), so no
intermediate Tensor is kept alive by the tape. Gradients are keyed by Node, so
a Tensor rebuilt around the same Node (as ``create_graph`` does) feeds the
same place. Each Node counts the in-place writes into its output; backward
refuses a node whose rules read a value written after it was saved.

Each node carries a creation number, counting down, so a node's inputs always
have larger numbers than the node. The sweep keeps the nodes that have received
a gradient in a heap by that number and always runs the most recent one: by
then all its consumers, made after it, have delivered their gradients. One pass
discovers and runs the graph (no recursion limit, no separate topological
sort), visits each node once, skips branches no gradient reaches, and drops
each gradient and each node's saved values as soon as they are consumed.
"""

from __future__ import annotations

import itertools
from heapq import heappop, heappush
from typing import Any

import numpy as np

from . import _mode
from ._backend import is_foreign, is_lazy
from ._reuse import REUSE_FROM, accumulate, free_buffers
from .anomaly import check_backward, check_saved
from .errors import BackwardError

__all__ = ["Node", "add_grads", "run_backward"]


class Node:
    """How one Tensor was computed: ``out = prim.fun(*args, **kwargs)``."""

    __slots__ = (
        "args",
        "checksums",  # under detect_anomaly: ((input index, crc32), ...) of saved plain arrays
        "hooks",
        "kwargs",
        "out",
        "out_tangent",
        "parents",
        "prim",
        "seq",
        "site",  # under detect_anomaly: the user code that created the node
        "watched",  # ((input index, Tensor, version), ...) for inputs without grad, or None
        "writes",  # in-place writes into this node's output since it was computed
        "written_at",  # where the last in-place write into the output happened (for errors)
    )

    def __init__(self, prim: Any, args: tuple, kwargs: Any, parents: tuple, out: Any):
        self.seq = _next_seq()  # counts down: inputs' nodes always have larger numbers
        self.hooks: list | None = None  # Tensor.register_hook on this node's output
        self.out_tangent: Any = None  # forward mode: the output's tangent
        self.writes = 0
        self.watched: tuple | None = None
        self.prim = prim
        # Forward arguments as plain arrays/values; None once released.
        self.args: tuple | None = args
        self.kwargs: Any = kwargs
        # ((input index, ref, version), ...) for the inputs that require grad: ref is the
        # input's node (or the Tensor itself for a leaf), so intermediate Tensors are not
        # kept alive; version is its write count (a leaf's _version) when saved.
        self.parents: tuple | None = parents
        self.out: Any = out


_next_seq = itertools.count(0, -1).__next__
_NO_STOPS: frozenset = frozenset()
_ndarray = np.ndarray
_NP_SCALARS = frozenset(t for t in np.sctypeDict.values() if issubclass(t, np.generic))


def _released_error(node: Node) -> BackwardError:
    return BackwardError(
        f"backward through '{node.prim.name}' a second time: its saved values were freed by "
        "the first backward(). Pass retain_graph=True to the first backward() call if you "
        "need to backpropagate through the same graph twice."
    )


def modified_error(name: str, index: int, ref: Any, saved: Any, version: int) -> BackwardError:
    if isinstance(ref, Node):
        source, now = f"the output of '{ref.prim.name}'", ref.writes
    else:
        source = "a leaf" if ref.requires_grad else "a Tensor that does not require grad"
        now = ref._version
    names, place = getattr(ref, "written_at" if isinstance(ref, Node) else "_written_at", ([], ""))
    called = f", named {', '.join(f'`{n}`' for n in names)}," if names else ","
    at = f", at {place}" if place else ""
    return BackwardError(
        f"backward through '{name}': its input {index}, {source} of shape "
        f"{tuple(np.shape(saved))} and dtype {np.result_type(saved)}{called} was modified in "
        f"place after the graph saved it (version {version}, now {now}){at}; the gradient "
        "would be wrong. Compute the new value out of place (y = f(x)), or modify it only "
        "after backward()."
    )


def _check_watched(node: Node, saved: tuple) -> None:
    """The Tensors without grad that the node's rules read still hold what was saved."""
    for i, t, version in node.watched:  # type: ignore[union-attr]
        if t._version != version and t._data is saved[i]:
            raise modified_error(node.prim.name, i, t, saved[i], version)


def output_modified_error(node: Node) -> BackwardError:
    names, place = getattr(node, "written_at", ([], ""))
    called = f" named {', '.join(f'`{n}`' for n in names)}" if names else ""
    at = f", at {place}" if place else ""
    return BackwardError(
        f"backward through '{node.prim.name}': its output{called} (shape "
        f"{tuple(np.shape(node.out))}, dtype {np.result_type(node.out)}) was modified in "
        f"place after '{node.prim.name}' computed it ({node.writes} write(s)){at}, and its "
        "gradient depends on that output; the gradient would be wrong. Compute the new value "
        "out of place (y = f(x)), or modify it only after backward()."
    )


def run_hooks(hooks: list, g: Any) -> Any:
    """Each hook sees the gradient and may return a replacement (None keeps it)."""
    if isinstance(g, np.generic):  # a 0-d gradient, held as a numpy scalar: hooks see arrays
        g = np.asarray(g)
    for hook in list(hooks):
        replaced = hook(g)
        if replaced is not None:
            if np.shape(replaced) != np.shape(g):
                raise BackwardError(
                    f"a gradient hook returned shape {np.shape(replaced)} for a gradient of "
                    f"shape {np.shape(g)}; a hook must keep the shape"
                )
            g = replaced
    return g


def unbroadcast(g: Any, shape: tuple[int, ...], prim_name: str, index: int) -> Any:
    """Sum ``g`` over the axes that broadcasting added or stretched to reach ``shape``."""
    extra = g.ndim - len(shape)
    ok = extra >= 0 and all(s == d or s == 1 for s, d in zip(shape, g.shape[extra:], strict=True))
    if not ok:
        raise BackwardError(
            f"the gradient rule of '{prim_name}' returned shape {tuple(g.shape)} for input "
            f"{index}, which has shape {shape}; the two do not broadcast (a bug in the rule)."
        )
    axes = tuple(range(extra)) + tuple(
        extra + i for i, s in enumerate(shape) if s == 1 and g.shape[extra + i] != 1
    )
    if axes:
        g = np.sum(g, axis=axes, keepdims=True)
    if extra or g.shape != shape:
        g = np.reshape(g, shape)
    return g


def _private_leaf_grad(g: Any, seen: set[int]) -> np.ndarray:
    """A leaf's .grad must be an ndarray the user can own: not a view, not shared."""
    if type(g) is not np.ndarray:
        if not is_foreign(g):
            return np.array(g)
        if is_lazy(g):
            return g  # Dask arrays are immutable: nothing to protect
        # Other libraries' views or shared arrays are copied, as NumPy's are.
        if getattr(g, "base", None) is not None or id(g) in seen:
            g = g.copy()
        seen.add(id(g))
        return g
    if g.base is not None or not g.flags.writeable or id(g) in seen:
        g = g.copy()
    seen.add(id(g))
    return g


def add_grads(total: Any, g: Any) -> Any:
    """A leaf's .grad plus a new gradient: still an array when 0-d (NumPy gives a scalar)."""
    total = total + g
    return np.asarray(total) if isinstance(total, np.generic) else total


def run_backward(
    root: Any,
    head: Any,
    retain_graph: bool,
    create_graph: bool,
    inputs: list | None = None,
) -> list | None:
    """Backpropagate ``head`` from Tensor ``root``.

    Without ``inputs``, add the gradients into every leaf's ``.grad``. With
    ``inputs`` (Tensors), return their gradients instead (None where none
    flows) and leave every ``.grad`` alone; the sweep stops at them.
    ``head`` is an array, or a Tensor when rules must see Tensors: under
    ``create_graph`` (to record them) or in forward mode (to carry tangents).
    """
    state = _mode.state
    # Rules see Tensors under create_graph (to record them) or in forward mode (to carry
    # tangents); the engine knows no Tensor class and makes them of its root's type.
    tensor_type = type(root) if create_graph or state.forward > 0 else None
    leaf_grads: dict[int, list[Any]] = {}  # id(leaf) -> [leaf, summed gradient]
    captured: dict[Node, Any] = {}
    node = root._node
    stops = {t._node for t in inputs if t._node is not None} if inputs else _NO_STOPS
    if node is None:
        leaf_grads[id(root)] = [root, head]
    elif node.writes and node.out is not None:
        raise output_modified_error(node)
    elif node in stops:
        captured[node] = head
    else:
        enabled, quiet, plain = state.enabled, state.quiet, state.plain
        # The rules record themselves only under create_graph. nan/inf propagate as in
        # NumPy; the rules add no warnings of their own (cr.detect_anomaly is the tool to
        # find where they come from).
        state.enabled, state.quiet = create_graph, True
        state.plain = create_graph and not state.extra  # refresh(), less what cannot change
        # A sweep further up this thread's stack may have silenced NumPy already.
        sweep = _sweep if quiet else _silent_sweep
        try:
            sweep(node, head, leaf_grads, captured, stops, retain_graph, tensor_type)
        finally:
            state.enabled, state.quiet, state.plain = enabled, quiet, plain
    if inputs is not None:
        return [
            captured.get(t._node) if t._node is not None else leaf_grads.get(id(t), (None, None))[1]
            for t in inputs
        ]
    # Leaves receive their gradients only once the whole sweep succeeded.
    seen: set[int] = set()
    for leaf, g in leaf_grads.values():
        hooks = getattr(leaf, "_hooks", None)
        if hooks:
            g = run_hooks(hooks, g)
        if not create_graph:
            if tensor_type is not None and isinstance(g, tensor_type):
                g = g._data
            g = _private_leaf_grad(g, seen)
        leaf.grad = g if leaf.grad is None else add_grads(leaf.grad, g)
    return None


def _sweep(
    root: Node,
    head: Any,
    leaf_grads: dict[int, list[Any]],
    captured: dict[Node, Any],
    stops: Any,
    retain_graph: bool,
    tensor_type: Any,
) -> None:
    create_graph = _mode.state.enabled  # run_backward set grad mode to create_graph
    anomaly = _mode.state.anomaly > 0
    grads: dict[Node, Any] = {root: head}
    queue = [(root.seq, root)]  # nodes that received a gradient, most recent first
    pop_grad = grads.pop
    while queue:
        node = heappop(queue)[1]
        g = pop_grad(node)
        if node.hooks is not None:
            g = run_hooks(node.hooks, g)
        if stops and node in stops:
            captured[node] = g
            continue
        parents = node.parents
        if parents is None:  # released with the rest of what the node saved
            raise _released_error(node)
        prim = node.prim
        args: tuple = node.args  # type: ignore[assignment]  # None only with parents
        kwargs = node.kwargs
        ans = node.out
        if node.writes and ans is not None:  # the output its rules read was overwritten
            raise output_modified_error(node)
        if node.watched is not None:  # inputs without grad that the rules read
            _check_watched(node, args)
        if anomaly:
            check_saved(node, args)
        saved = args  # the forward's values (or zero-byte stand-ins): shapes and dtypes
        if tensor_type:
            args, ans = _live_values(tensor_type, node, args, ans, create_graph)
        vjps = prim.vjps
        # A custom Function: one backward() gives every input's gradient.
        joint = iter(prim.joint_vjp(g, ans, args, kwargs, parents)) if vjps is None else None
        if (
            type(g) is _ndarray
            and prim.reuse is not None
            and g.size >= REUSE_FROM
            and not (retain_graph or tensor_type or anomaly)
        ):
            # Released now, so the sweep's variables are the only holders of what the
            # node saved; the rule may then compute into the buffers nobody else sees.
            node.args = node.kwargs = node.parents = node.out = None
            gi = data = old = reused = None  # drop what earlier nodes left in these variables
            needed = [False] * len(args)
            for i, _, _ in parents:
                needed[i] = True
            free = free_buffers(g, ans, args)  # on its own line: see _reuse.own
            reused = prim.reuse(g, ans, args, free, needed)
            if reused is not None:
                joint = iter([reused[i] for i, _, _ in parents])
        check_versions = prim.reads_inputs
        for i, ref, version in parents:
            is_node = type(ref) is Node
            if check_versions and version != (ref.writes if is_node else ref._version):
                raise modified_error(prim.name, i, ref, saved[i], version)
            if joint is not None:
                gi = next(joint)
            else:
                rule = vjps[i]  # None: this input has no gradient
                if rule is None:
                    continue
                gi = rule(g, ans, *args, **kwargs) if kwargs else rule(g, ans, *args)
            if gi is None:
                continue
            if anomaly:
                check_backward(node, i, g, gi, saved)
            data = saved[i]
            kind = type(gi)
            if kind is _ndarray:  # the usual case first: an array of the input's shape
                if gi.shape != data.shape or gi.dtype is not data.dtype:
                    gi = _conform(gi, data, prim.name, i)
            elif kind is not type(data) or kind not in _NP_SCALARS:
                # a numpy scalar of the input's own type passes; another library's array
                # (Dask, CuPy) is conformed like an ndarray
                gi = _conform(gi, data, prim.name, i)
            if is_node:
                old = pop_grad(ref, None)  # out of the table: then only `old` holds it
                if old is None:
                    grads[ref] = gi
                    heappush(queue, (ref.seq, ref))
                else:
                    grads[ref] = accumulate(old, gi)
            else:
                entry = leaf_grads.get(id(ref))
                if entry is None:
                    leaf_grads[id(ref)] = [ref, gi]
                else:
                    old = entry[1]
                    entry[1] = None  # then only `old` holds it
                    entry[1] = accumulate(old, gi)
        if not retain_graph:  # release, inline: drop what was saved, keep the name
            node.args = node.kwargs = node.parents = node.out = None


_silent_sweep = _mode.silenced(_sweep)


def _conform(gi: Any, data: Any, prim_name: str, index: int) -> Any:
    """The gradient of input ``index`` in its shape (summed over broadcast axes) and dtype."""
    if gi.shape != data.shape:
        gi = unbroadcast(gi, data.shape, prim_name, index)
    if gi.dtype is not data.dtype and gi.dtype != data.dtype:
        if gi.dtype.kind == "c" and data.dtype.kind != "c":
            gi = np.real(gi)  # a real input moves along the real axis only
        gi = gi.astype(data.dtype)
    return gi


def _live_values(tensor: Any, node: Node, args: tuple, ans: Any, create_graph: bool) -> tuple:
    """The node's inputs and output as Tensors, so that what its rules compute is
    recorded in turn (create_graph) and carries tangents (forward mode)."""
    live = list(args)
    for i, ref, _ in node.parents:  # type: ignore[union-attr]
        if type(ref) is Node:
            a = args[i]
            t = tensor._make(a if type(a) is _ndarray or is_foreign(a) else np.asarray(a), ref)
            t._tangent = ref.out_tangent
            live[i] = t
        else:
            live[i] = ref
    # The Tensors without grad it read, as themselves where they still hold the saved
    # value (no write since): they carry forward-mode tangents, which forward over
    # forward through a backward pass reads.
    for i, t, version in node.watched or ():
        if t._version == version:
            live[i] = t
    if ans is not None:
        ans = tensor._make(
            ans if type(ans) is _ndarray or is_foreign(ans) else np.asarray(ans),
            node if create_graph else None,
        )
        ans._tangent = node.out_tangent
    return tuple(live), ans
