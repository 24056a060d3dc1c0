"""``cr.draw``: a Graphviz picture of the graph behind a Tensor, or of a function's graph.

Built only on the public view of the graph (``Tensor.grad_fn``, its ``inputs``,
``cr.on_record``, ``chainrule.graph.gradients``) and on ``cr.vjp``: nothing
here reads the tape's private attributes. ``graphviz`` is an optional extra,
imported on the first call.

Gradient norms come from a backward pass that changes no ``.grad`` and runs
no user hook. For a Tensor it is ``chainrule.graph.gradients`` over the
recorded graph (kept, so the Tensor can be drawn again or backpropagated). The
function form records ``f`` inside ``cr.vjp``, whose backward pass returns the
arguments' gradients, and hooks every recorded Tensor as ``cr.on_record``
shows it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ._tensor import Tensor
from .function import Function
from .graph import Constant, GradFn, gradients, on_record
from .transforms import vjp

if TYPE_CHECKING:
    import graphviz

__all__ = ["draw"]

INSTALL = 'pip install "chainrule[viz]"'

# Colours: leaves that require grad stand out from constants and Tensors without grad.
_LEAF = {"shape": "ellipse", "style": "filled", "fillcolor": "#cfe3f7"}
_NO_GRAD = {"shape": "ellipse", "style": "filled", "fillcolor": "#e6e6e6"}
_CONSTANT = {"shape": "plaintext", "fontcolor": "#777777"}
_OP = {"shape": "box", "style": "rounded,filled", "fillcolor": "#fff7d6"}


def draw(
    target: Any,
    *args: Any,
    names: dict[str, Tensor] | None = None,
    grads: bool = False,
) -> graphviz.Digraph:
    """A ``graphviz.Digraph`` of the operations behind a Tensor, or of ``f(*args)``.

    ``cr.draw(t)`` draws the graph recorded behind Tensor ``t``: one box per
    operation with its output's dtype and shape (the result's box has a double
    border), one oval per leaf Tensor saying whether it requires grad, a grey
    note per constant (an array or number without gradient), and edges in
    data-flow order, from each input to the operation that consumes it.
    ``names={"W": W}`` labels Tensors (leaves, intermediates or the result).
    Draw before ``backward()`` releases the graph, or after
    ``backward(retain_graph=True)``. With ``grads=True`` each edge is labelled
    with the norm of the gradient of the value on it (at a fork, each branch
    shows the total that flows back into the value), from one backward pass of
    ``t`` with a head gradient of ones (``chainrule.graph.gradients``: no
    ``.grad`` changes, no hook runs): vanishing gradients show as tiny norms.

    ``cr.draw(f, *args)`` runs ``f`` on fresh leaves made from ``args`` (copies;
    non-float arguments are passed as given) and draws what it records; the
    leaves are named after ``f``'s parameters. With ``grads=True`` it also runs
    a backward pass of its own (``cr.vjp``: no ``.grad`` anywhere changes) and
    labels the edges the same way; Tensors ``f`` closes over get no norm.

    The result renders with ``.render()`` or ``.pipe(format="svg")`` (needs
    Graphviz's ``dot`` program) and shows itself inline in Jupyter; its
    ``.source`` is the DOT text. Needs the ``graphviz`` package: ``pip install
    "chainrule[viz]"``.

    >>> import numpy as np, chainrule as cr
    >>> W = cr.tensor(np.ones((2, 3)), requires_grad=True)
    >>> loss = np.sum(np.tanh(np.ones(2) @ W))
    >>> dot = cr.draw(loss, names={"W": W})
    >>> print(dot.source)  # doctest: +ELLIPSIS
    digraph {
    ...
        leaf0 [label="W\\nfloat64[2, 3]\\nrequires grad" ...]
        op0 [label="matmul\\nfloat64[3]" ...]
    ...
    >>> def neuron(w, x):
    ...     return 1.0 / (1.0 + np.exp(-(w @ x)))
    >>> dot = cr.draw(neuron, np.array([2.0, -3.0]), np.array([-1.0, -2.0]), grads=True)
    >>> "|g|" in dot.source and 'label="w\\\\nfloat64[2]' in dot.source
    True
    """
    graphviz_module = _require_graphviz()
    label_of = _names(names)
    if isinstance(target, Tensor):
        if args:
            raise TypeError(
                f"cr.draw: extra positional arguments after a Tensor ({len(args)} given); "
                "arguments go with a function: cr.draw(f, *args)"
            )
        root, norms = target, _tensor_norms(target) if grads else None
    elif callable(target):
        root, leaf_names, norms = _run_function(target, args, grads)
        label_of = {**leaf_names, **label_of}
    else:
        raise TypeError(
            f"cr.draw: expected a Tensor or a function, got {type(target).__name__}; "
            "pass the Tensor a computation returned (cr.draw(loss)) or the function "
            "itself with its arguments (cr.draw(f, x, y))"
        )
    return _picture(graphviz_module, root, label_of, norms)


def _require_graphviz() -> Any:
    try:
        import graphviz
    except ImportError:
        raise ImportError(
            f"cr.draw needs the graphviz package: {INSTALL} (rendering also needs "
            "Graphviz's dot program, e.g. apt-get install graphviz or brew install graphviz)"
        ) from None
    return graphviz


def _names(names: Any) -> dict[Any, str]:
    """``{"W": W}`` -> {key: "W"}: a leaf Tensor by identity, a computed one by its
    operation (two views of one operation compare equal)."""
    if names is None:
        return {}
    if not isinstance(names, dict):
        raise TypeError(
            f"cr.draw: names must be a dict of name -> Tensor, got {type(names).__name__}; "
            'e.g. names={"W": W}'
        )
    out: dict[Any, str] = {}
    for name, t in names.items():
        if not isinstance(t, Tensor):
            raise TypeError(
                f"cr.draw: names[{name!r}] is a {type(t).__name__}, not a Tensor; only "
                "Tensors take part in the graph"
            )
        fn = t.grad_fn
        out[id(t) if fn is None else fn] = str(name)
    return out


# --------------------------------------------------------------- the function form
def parameters(f: Any) -> list[inspect.Parameter] | None:
    """The parameters of ``f`` (a cr.Function's: those of its forward, less self), or
    None for a builtin or ufunc without a signature."""
    target: Any = f
    skip = 0
    if isinstance(f, type) and issubclass(f, Function):
        target, skip = f.forward, 1
    elif isinstance(f, Function):
        target = f.forward
    try:
        return list(inspect.signature(target).parameters.values())[skip:]
    except (TypeError, ValueError):
        return None


def _parameter_names(f: Any, n: int) -> list[str]:
    """Names for ``n`` positional arguments of ``f``: its parameters where it has
    them, else x0, x1, ..."""
    names: list[str] = []
    for p in parameters(f) or []:
        if len(names) == n:
            break
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            names.append(p.name)
        elif p.kind is p.VAR_POSITIONAL:
            names.extend(f"{p.name}[{j}]" for j in range(n - len(names)))
    names.extend(f"x{j}" for j in range(len(names), n))
    return names


def _callable(f: Any) -> Callable[..., Any]:
    if isinstance(f, type) and issubclass(f, Function):
        return lambda *xs: f()(*xs)
    return f


def _is_float(a: Any) -> bool:
    if isinstance(a, Tensor):
        return a.dtype.kind == "f"
    if isinstance(a, (bool, int, str)) or a is None:
        return False
    try:
        return np.asarray(a).dtype.kind == "f"
    except (TypeError, ValueError):
        return False


def _run_function(
    f: Any, args: tuple, grads: bool
) -> tuple[Tensor, dict[Any, str], dict[Any, float] | None]:
    """Run ``f`` on fresh leaves; return its output Tensor, the leaves' names and,
    with ``grads``, the gradient norm of every operation's output and leaf."""
    call = _callable(f)
    params = _parameter_names(f, len(args))
    floats = [i for i, a in enumerate(args) if _is_float(a)]
    values = [np.array(args[i].data if isinstance(args[i], Tensor) else args[i]) for i in floats]
    box: dict[str, Any] = {}
    norms: dict[Any, float] = {}

    def hook_on(t: Tensor) -> None:
        key = t.grad_fn
        t.register_hook(lambda g: norms.__setitem__(key, _norm(g)))

    def run(*leaves: Tensor) -> Any:
        full = list(args)
        for i, leaf in zip(floats, leaves, strict=True):
            full[i] = leaf
        box["leaves"] = leaves
        if grads:
            with on_record(hook_on):
                out = call(*full)
        else:
            out = call(*full)
        box["out"] = out
        return out

    if grads:
        _, vjp_fn = vjp(run, *values)
        out = _output(box["out"], f)
        if out.requires_grad:
            head = np.ones(out.shape, out.dtype)
            for leaf, g in zip(box["leaves"], vjp_fn(head), strict=True):
                norms[id(leaf)] = _norm(g)
    else:
        out = _output(run(*(Tensor(v, requires_grad=True) for v in values)), f)
    leaf_names = {id(leaf): params[i] for i, leaf in zip(floats, box["leaves"], strict=True)}
    return out, leaf_names, norms if grads else None


def _output(out: Any, f: Any) -> Tensor:
    name = getattr(f, "__name__", type(f).__name__)
    if isinstance(out, (tuple, list)):
        raise TypeError(
            f"cr.draw: {name} returned a {type(out).__name__} of {len(out)} outputs; draw one "
            f"of them, e.g. cr.draw(lambda *a: {name}(*a)[0], ...)"
        )
    if not isinstance(out, Tensor):
        raise TypeError(
            f"cr.draw: {name} returned a {type(out).__name__}, not a Tensor, so nothing was "
            "recorded; compute the result with NumPy calls on the arguments"
        )
    return out


def _norm(g: Any) -> float:
    if isinstance(g, tuple):  # a multi-output Function's gradients, one per output
        return float(np.sqrt(sum(_norm(part) ** 2 for part in g if part is not None)))
    return float(np.linalg.norm(np.asarray(g.data if isinstance(g, Tensor) else g)))


def _tensor_norms(root: Tensor) -> dict[Any, float]:
    """The gradient norm of every operation's output and leaf behind ``root``, keyed
    as the picture's edges are (a GradFn, or a leaf's id)."""
    if not root.requires_grad:
        raise ValueError(
            "cr.draw(tensor, grads=True): the tensor does not require grad, so no gradient "
            "flows through it; make an input with cr.tensor(..., requires_grad=True)"
        )
    if root.grad_fn is not None:
        _inputs_of(root.grad_fn)  # a released graph: say so in cr.draw's words
    flows = gradients(root)
    return {(id(key) if isinstance(key, Tensor) else key): _norm(g) for key, g in flows.items()}


# --------------------------------------------------------------------- the picture
def _inputs_of(fn: GradFn) -> tuple:
    try:
        return fn.inputs
    except RuntimeError:
        raise RuntimeError(
            f"cr.draw: the graph behind '{fn.name}' was released by backward(); draw before "
            "backward, or call backward(retain_graph=True), or draw the function that "
            "computes it: cr.draw(f, *args)"
        ) from None


def _operations(root: GradFn) -> list[tuple[GradFn, tuple]]:
    """Every operation behind ``root`` once, with its inputs, producers before their
    consumers (a depth-first post-order, without recursion: graphs can be long)."""
    inputs = {root: _inputs_of(root)}
    order = []
    stack = [(root, iter(inputs[root]))]
    while stack:
        fn, pending = stack[-1]
        for x in pending:
            if isinstance(x, GradFn) and x not in inputs:
                inputs[x] = _inputs_of(x)
                stack.append((x, iter(inputs[x])))
                break
        else:
            stack.pop()
            order.append((fn, inputs[fn]))
    return order


def _type(dtype: Any, shape: tuple) -> str:
    return f"{np.dtype(dtype)}[{', '.join(str(d) for d in shape)}]"


def _picture(
    graphviz_module: Any, root: Tensor, label_of: dict[Any, str], norms: dict[Any, float] | None
) -> graphviz.Digraph:
    dot = graphviz_module.Digraph(
        node_attr={"fontname": "Helvetica", "fontsize": "11"},
        edge_attr={"fontname": "Helvetica", "fontsize": "9"},
    )
    leaf_ids: dict[int, str] = {}
    op_ids: dict[GradFn, str] = {}
    constants = 0

    def leaf(t: Tensor) -> str:
        if id(t) not in leaf_ids:
            node_id = leaf_ids[id(t)] = f"leaf{len(leaf_ids)}"
            state = "requires grad" if t.requires_grad else "no grad"
            lines = [label_of.get(id(t), "tensor"), _type(t.dtype, t.shape), state]
            dot.node(node_id, "\\n".join(lines), **(_LEAF if t.requires_grad else _NO_GRAD))
        return leaf_ids[id(t)]

    def edge(src: str, dst: str, key: Any) -> None:
        norm = None if norms is None or key is None else norms.get(key)
        if norm is None:
            dot.edge(src, dst)
        else:
            dot.edge(src, dst, label=f"|g| {norm:.3g}")

    fn = root.grad_fn
    if fn is None:  # a leaf alone
        leaf(root)
        return dot
    # Data-flow order: each operation's new inputs, then the operation, then its edges.
    for k, (op, inputs) in enumerate(_operations(fn)):
        sources: list[tuple[str, Any]] = []
        for x in inputs:
            if isinstance(x, GradFn):
                # Out of a multi-output Function, the edge carries the one output that
                # this selector picks: its gradient is the one flowing into the selector.
                sources.append((op_ids[x], op if x.shape is None else x))
            elif isinstance(x, Tensor):
                sources.append((leaf(x), id(x)))
            elif isinstance(x, Constant):
                node_id = f"const{constants}"
                constants += 1
                dot.node(node_id, f"constant\\n{_type(x.dtype, x.shape)}", **_CONSTANT)
                sources.append((node_id, None))
        op_ids[op] = f"op{k}"
        name = label_of.get(op)
        title = op.name if name is None else f"{name} = {op.name}"
        extra = {"peripheries": "2"} if op == fn else {}
        kind = f"{op.outputs} outputs" if op.shape is None else _type(op.dtype, op.shape)
        dot.node(op_ids[op], f"{title}\\n{kind}", **_OP, **extra)
        for src, key in sources:
            edge(src, op_ids[op], key)
    return dot
