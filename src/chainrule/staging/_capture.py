"""Capture: run a function once on Tensors and keep every step it took (for cr.compile).

The function runs eagerly on Tensors that stand for its array arguments, with a
``Tracer`` installed on this thread (``_mode.state.tracer``). The recorder tells
the tracer about every primitive application -- the forward pass, and the
backward and tangent rules that the transforms inside the function run on
Tensors -- and about every non-differentiable call. The Tensor tells it about
every value read into Python (``bool(t)``, ``float(t)``, ``t.item()``), which
becomes a ``Guard``: the generated program checks that the value is the same,
since the path the trace took depended on it. What cannot be staged (an
in-place write into an argument, ``np.asarray`` of a traced value, a custom
Function, random draws inside the function) raises a ``StagingError`` naming
it.

A ``Capture`` is the result: input ``Var`` s, the ``Step`` s and ``Guard`` s in
the order they ran, and the outputs. Values from outside the function (a
closure's arrays, a model's Tensors) are ``Const`` s, read when the program
runs, not copied into it.
"""

from __future__ import annotations

import functools
import os
import types
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import _mode
from .._callers import user_frame
from .._pytree import PyTreeDef, tree_flatten
from .._tensor import Tensor
from ..errors import StagingError

__all__ = ["Capture", "Const", "Guard", "StagingError", "Step", "Var", "capture"]


class Var:
    """A value of the program: an input, or a step's result, by shape and dtype;
    ``inner`` when a transform inside the function computed it (a transform returns
    its 0-d results as arrays, where NumPy itself gives scalars)."""

    __slots__ = ("dtype", "index", "inner", "shape")

    def __init__(
        self, index: int, shape: tuple[int, ...], dtype: np.dtype, inner: bool = False
    ) -> None:
        self.index, self.shape, self.dtype, self.inner = index, shape, dtype, inner

    def __repr__(self) -> str:
        return f"v{self.index}:{self.dtype}{list(self.shape)}"


class Const:
    """A value from outside the function, read each time the program runs: an array,
    or a Tensor (whose current data is read); or ``ones``: an array of ones that a
    transform made during the trace, which nothing else holds or changes."""

    __slots__ = ("ones", "value")

    def __init__(self, value: Any, ones: bool = False) -> None:
        self.value, self.ones = value, ones


class Step:
    """One call: ``out = fun(*args, **kwargs)``; ``out`` is a Var, or a tuple of Vars
    for a non-differentiable function that returns several arrays."""

    __slots__ = ("args", "elementwise", "fun", "kwargs", "name", "out")

    def __init__(
        self, fun: Any, args: tuple, kwargs: dict, out: Any, name: str, elementwise: bool
    ) -> None:
        self.fun, self.args, self.kwargs, self.out = fun, args, kwargs, out
        self.name, self.elementwise = name, elementwise


class Guard:
    """``how`` (``bool(t)``, ``float(t)``, ``shape`` ...) of ``value`` gave ``expected``
    when traced, at ``site`` (the user's ``file:line``, or the operation)."""

    __slots__ = ("expected", "how", "site", "value")

    def __init__(self, value: Var | Const, how: str, expected: Any, site: str = "") -> None:
        self.value, self.how, self.expected, self.site = value, how, expected, site


class Capture:
    """What one call of a function did, as a straight-line program."""

    def __init__(
        self,
        inputs: list[Var],
        steps: list[Step | Guard],
        outputs: list[Any],
        out_tree: PyTreeDef,
        out_scalar: list[bool],
    ) -> None:
        self.inputs, self.steps, self.outputs = inputs, steps, outputs
        self.out_tree, self.out_scalar = out_tree, out_scalar


def _is_traced(x: Any) -> bool:
    return isinstance(x, Tensor)


class Tracer:
    """The thread's tracer while ``capture`` runs (see the module docstring)."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.count = 0
        self.steps: list[Step | Guard] = []
        # Tensor objects and arrays we know, by id, with the object kept alive (so that
        # an id is never reused while the trace runs); nodes, for the Tensors that a
        # backward pass rebuilds around them.
        self.by_id: dict[int, tuple[Any, Var]] = {}
        self.by_node: dict[Any, Var] = {}
        self.inputs: dict[int, Tensor] = {}
        self.scalar_outputs: dict[int, Any] = {}  # kept alive: ids stay unique
        self.depth = _mode.state.transforms
        self.ones: dict[int, np.ndarray] = {}  # arrays of ones made in the trace, by id

    # -------------------------------------------------------------- values
    def new_var(self, t: Any) -> Var:
        data = t._data if isinstance(t, Tensor) else t
        inner = _mode.state.transforms > self.depth
        var = Var(self.count, tuple(np.shape(data)), np.result_type(data), inner)
        self.count += 1
        self.by_id[id(t)] = (t, var)
        if isinstance(t, Tensor):
            self.by_id[id(data)] = (data, var)
            if t._node is not None:
                self.by_node[t._node] = var
        return var

    def ref(self, t: Tensor) -> Var | Const:
        """The program's value for Tensor ``t``."""
        hit = self.by_id.get(id(t))
        if hit is not None and hit[0] is t:
            return hit[1]
        var = self.by_node.get(t._node) if t._node is not None else None
        if var is None:
            # A new Tensor around a known array (a transform's input, a rebuilt rule input).
            hit = self.by_id.get(id(t._data))
            var = hit[1] if hit is not None and hit[0] is t._data else None
        if var is None:
            if id(t._data) in self.ones:
                return Const(t._data, ones=True)
            return Const(t)  # from outside the function: read when the program runs
        self.by_id[id(t)] = (t, var)
        return var

    def lift(self, a: Any) -> Any:
        """An argument with each Tensor (also in lists, tuples, dicts) as its Var or Const."""
        kind = type(a)
        if kind is Tensor or isinstance(a, Tensor):
            return self.ref(a)
        if kind is tuple or kind is list:
            return kind(self.lift(x) for x in a)
        if kind is dict:
            return {k: self.lift(v) for k, v in a.items()}
        if kind is np.ndarray:
            hit = self.by_id.get(id(a))
            if hit is not None and hit[0] is a:
                return hit[1]
            return Const(a, ones=id(a) in self.ones)
        return a

    # ------------------------------------------------------------ the hooks
    def apply(self, result: Tensor, prim: Any, args: tuple, kwargs: Any) -> None:
        """The recorder ran ``prim`` on ``args``, giving ``result``."""
        lifted = self.lift(args)
        out = self.new_var(result)
        self.steps.append(
            Step(
                prim.fun,
                lifted,
                self.lift(kwargs) if kwargs else {},
                out,
                prim.name,
                bool(prim.elementwise),
            )
        )
        if prim.name == "getitem" and _has_mask(lifted[1:]):
            self._guard_shape(out, "a boolean-mask index")  # x[x > 0]: as many as are true

    def _guard_shape(self, var: Var, what: str) -> None:
        """``var``'s shape depends on the data (a mask, np.nonzero): the program checks
        it, since shapes read later (``len``, ``.shape``) were taken from the trace."""
        self.steps.append(Guard(var, "shape", var.shape, what))

    def nondiff(self, result: Any, func: Any, args: tuple, kwargs: dict) -> Any:
        """A non-differentiable function ran on ``args``; its (array) results become
        values of the program, so what depends on them is not frozen."""
        if not _any_traced(args) and not _any_traced(kwargs):
            return result
        several = isinstance(result, tuple)
        outs = list(result) if several else [result]
        for k, o in enumerate(outs):
            if not isinstance(o, Tensor):  # a numpy scalar (np.all): keep it traceable
                outs[k] = Tensor._make(np.asarray(o), None)
        out_vars = tuple(self.new_var(o) for o in outs)
        name = getattr(func, "__name__", "call")
        step = Step(
            func,
            self.lift(args),
            self.lift(kwargs) if kwargs else {},
            out_vars if several else out_vars[0],
            name,
            False,
        )
        self.steps.append(step)
        for var in out_vars:
            if var.shape:  # np.nonzero, np.unique ...: the size may depend on the values
                self._guard_shape(var, f"np.{name}")
        return tuple(outs) if several else outs[0]

    def read(self, t: Tensor, how: str, value: Any) -> None:
        """``how`` read ``t`` into Python as ``value``: the program guards it."""
        self.steps.append(Guard(self.ref(t), how, value, _user_site()))

    def escape(self, t: Tensor, how: str) -> None:
        if isinstance(self.ref(t), Var):
            if how == "t.backward()":
                raise StagingError(
                    f"{self.where}: t.backward() inside a compiled function: its .grad side "
                    "effects cannot be staged. Return the gradient instead, for example "
                    "cr.compile(cr.value_and_grad(loss))."
                )
            raise StagingError(
                f"{self.where}: {how} of a traced value: the array leaves chainrule, so "
                "what is done with it cannot be staged. Use NumPy functions on the value "
                "itself, or pass what you need as an argument."
            )

    def write(self, t: Tensor, what: str) -> None:
        """An in-place write into ``t`` is about to happen."""
        target = self.ref(t)
        index = target.index if isinstance(target, Var) else -1
        if id(t) in self.inputs or 0 <= index < len(self.inputs):
            raise StagingError(
                f"{self.where}: {what} writes into argument {index} in place: a "
                "compiled function must not change its inputs. Compute a new value "
                "instead (y = x + v, not x += v)."
            )
        if isinstance(target, Const):
            raise StagingError(
                f"{self.where}: {what} writes into a Tensor from outside the function: "
                "that side effect cannot be staged. Return the new value instead."
            )
        if not _mode.state.enabled:
            raise StagingError(
                f"{self.where}: {what} under cr.no_grad() writes into a traced value's "
                "array, which cannot be staged; compute a new value instead."
            )

    def rebind(self, t: Tensor, new: Tensor) -> None:
        """``t`` now holds ``new``'s value (after an in-place write)."""
        self.by_id[id(t)] = (t, self.ref(new))  # type: ignore[assignment]

    def custom_function(self, name: str, args: tuple) -> None:
        if _any_traced(args):
            raise StagingError(
                f"{self.where}: the custom Function {name!r} cannot be staged: its forward "
                "and backward are Python code on arrays. Call cr.compile on code written "
                "with NumPy functions, or leave this function eager."
            )

    def mark_ones(self, head: np.ndarray) -> None:
        """``head`` is a transform's fresh array of ones (the start of a backward pass)."""
        self.ones[id(head)] = head

    def mark_scalar(self, t: Any) -> None:
        """A transform returns ``t`` as a NumPy scalar when 0-d (value_and_grad's value)."""
        if not np.shape(getattr(t, "_data", t)):
            self.scalar_outputs[id(t)] = t


def _has_mask(index: Any) -> bool:
    """Whether an index holds a boolean array (a traced one, or a constant)."""
    if isinstance(index, Var):
        return index.dtype == np.bool_ and bool(index.shape)
    if isinstance(index, Const):
        return getattr(index.value, "dtype", None) == np.bool_
    if isinstance(index, np.ndarray):
        return index.dtype == np.bool_
    if isinstance(index, (tuple, list)):
        return any(_has_mask(i) for i in index)
    return False


def _any_traced(tree: Any) -> bool:
    if isinstance(tree, Tensor):
        return True
    if isinstance(tree, (tuple, list)):
        return any(_any_traced(x) for x in tree)
    if isinstance(tree, dict):
        return any(_any_traced(x) for x in tree.values())
    return False


def capture(
    fn: Callable[..., Any], leaves: Sequence[Any], rebuild: Callable[[list], tuple], where: str
) -> tuple[Capture, Any]:
    """Run ``fn(*rebuild(traced leaves))`` once, traced; return the capture and the
    result (Tensors, as traced).

    Each leaf is an array (it becomes an input Var) or a static value (kept as is).
    """
    tracer = Tracer(where)
    call_leaves: list[Any] = []
    inputs: list[Var] = []
    for leaf in leaves:
        if isinstance(leaf, np.ndarray):
            t = Tensor._make(leaf, None)
            inputs.append(tracer.new_var(t))
            tracer.inputs[id(t)] = t
            call_leaves.append(t)
        else:
            call_leaves.append(leaf)
    state = _mode.state
    if state.tracer is not None:
        raise StagingError(f"{where}: a compiled function called while another one traces")
    sources = _random_sources(fn)
    before = [_rng_state(s) for s in sources]
    state.tracer = tracer
    state.refresh()
    try:
        result = fn(*rebuild(call_leaves))
    finally:
        state.tracer = None
        state.refresh()
    for source, old in zip(sources, before, strict=True):
        if _rng_state(source) != old:
            raise StagingError(
                f"{where}: the function draws random numbers ({_rng_name(source)}): a "
                "program would repeat the same draw on every call. Draw them outside and "
                "pass them in as an argument."
            )
    flat, out_tree = tree_flatten(result)
    outputs = [tracer.lift(o) for o in flat]
    scalar = [id(o) in tracer.scalar_outputs for o in flat]
    cap = Capture(inputs, tracer.steps, outputs, out_tree, scalar)
    return cap, result


def _user_site() -> str:
    """``file:line`` of the innermost frame outside chainrule and NumPy."""
    frame = user_frame(2)
    return "" if frame is None else f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}"


# ----------------------------------------------------------------- random draws
def _random_sources(fn: Any) -> list[Any]:
    """NumPy's global generator, and the Generators / RandomStates that ``fn`` (or
    the functions it wraps) reaches through its closure, defaults and globals."""
    found: list[Any] = [np.random.mtrand._rand]
    seen: set[int] = set()
    todo = [fn]
    while todo and len(seen) < 64:
        f = todo.pop()
        if id(f) in seen:
            continue
        seen.add(id(f))
        wrapped = getattr(f, "__wrapped__", None)
        if wrapped is not None:
            todo.append(wrapped)
        if isinstance(f, functools.partial):
            todo.append(f.func)
            continue
        if isinstance(f, types.MethodType):
            todo.append(f.__func__)
            continue
        code = getattr(f, "__code__", None)
        if code is None:
            continue
        values = [c.cell_contents for c in (f.__closure__ or ()) if _filled(c)]
        values += list(f.__defaults__ or ())
        g = f.__globals__
        values += [g[n] for n in code.co_names if n in g]
        for v in values:
            if isinstance(v, (np.random.Generator, np.random.RandomState)):
                if all(v is not s for s in found):
                    found.append(v)
            elif isinstance(v, types.FunctionType):
                todo.append(v)
    return found


def _filled(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018
    except ValueError:  # a cell not yet assigned
        return False
    return True


def _rng_state(source: Any) -> Any:
    if isinstance(source, np.random.Generator):
        return repr(source.bit_generator.state)
    state = source.get_state(legacy=False)
    return (state["state"]["pos"], state["state"]["key"].tobytes(), state["has_gauss"])


def _rng_name(source: Any) -> str:
    if source is np.random.mtrand._rand:
        return "np.random's global generator"
    return f"a {type(source).__name__}"
