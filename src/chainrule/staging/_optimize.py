"""Program clean-up before code generation: aliases, common subexpressions, dead
code, and the buffers each step may write into.

``optimize(capture)`` returns a ``Plan``: the steps and guards that the outputs
need, in their order, with

* no identity steps (a transform's input node, a reshape to the same shape, a
  cast to the same dtype): their result is their operand;
* one step per distinct call (the same function on the same operands): a
  backward pass recomputes many forward expressions;
* for each step, the dead value whose array it may write its result into
  (``out=``), and the values that die after it (``del``, for large arrays).
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ._capture import Capture, Const, Guard, Step, Var
from ._chunks import find_regions

__all__ = ["Plan", "optimize"]

# Arrays at least this large are written into dead buffers and deleted when dead; for
# smaller ones a fresh allocation is cheaper than the keyword argument.
BUFFER_FROM = 4096

# Steps whose result is their first operand when shape and dtype do not change.
_IDENTITY_IF_SAME = frozenset({"identity", "reshape", "astype", "broadcast_to", "copy"})


# The registry records the arithmetic operators as Python's operator functions: on
# arrays each is its ufunc, which can also write into a buffer.
UFUNC_OF: dict[Any, np.ufunc] = {
    operator.add: np.add,
    operator.sub: np.subtract,
    operator.mul: np.multiply,
    operator.truediv: np.true_divide,
    operator.neg: np.negative,
}


def as_ufunc(fun: Any) -> np.ufunc | None:
    """The ufunc that ``fun`` is on arrays, if it is one."""
    if isinstance(fun, np.ufunc):
        return fun
    try:
        return UFUNC_OF.get(fun)
    except TypeError:  # an unhashable callable
        return None


class Plan:
    """Steps and guards in order, with buffer decisions (see the module docstring)."""

    def __init__(self, capture: Capture, steps: list[Step | Guard], outputs: list[Any]) -> None:
        self.capture = capture
        self.inputs = capture.inputs
        self.steps = steps
        self.outputs = outputs
        self.into: dict[int, Var] = {}  # step position -> the dead Var it writes into
        self.dead_after: dict[int, list[Var]] = {}  # step position -> Vars to delete


def _resolve(a: Any, alias: dict[int, Any]) -> Any:
    """``a`` with every Var replaced by what it aliases."""
    if type(a) is Var:
        return alias.get(a.index, a)
    if type(a) in (tuple, list):
        return type(a)(_resolve(x, alias) for x in a)
    if type(a) is dict:
        return {k: _resolve(v, alias) for k, v in a.items()}
    return a


def _key(a: Any) -> Any:
    """A hashable stand-in for an operand, equal for operands that are the same."""
    kind = type(a)
    if kind is Var:
        return ("v", a.index)
    if kind is Const:
        return ("c", id(a.value))
    if kind in (tuple, list):
        return (kind.__name__, *(_key(x) for x in a))
    if kind is dict:
        return ("d", *((k, _key(v)) for k, v in sorted(a.items(), key=lambda kv: str(kv[0]))))
    if kind is np.ndarray:
        return ("a", id(a))
    if kind is slice:
        return ("s", _key(a.start), _key(a.stop), _key(a.step))
    try:
        hash(a)
    except TypeError:
        return ("o", id(a))
    return (kind.__name__, a)


def _is_identity(step: Step, operand: Any) -> bool:
    if step.name not in _IDENTITY_IF_SAME or type(operand) is not Var:
        return False
    out = step.out
    return out.shape == operand.shape and out.dtype == operand.dtype


def _is_ones(a: Any) -> bool:
    return type(a) is Const and a.ones


def _times_ones(step: Step, args: Any) -> Any:
    """What the step is when it multiplies by (or broadcasts) a transform's ones."""
    out = step.out
    if type(out) is not Var:
        return None
    if step.name == "broadcast_to" and _is_ones(args[0]):
        return Const(np.ones(out.shape, out.dtype), ones=True)
    if as_ufunc(step.fun) is np.multiply and len(args) == 2 and not step.kwargs:
        for ones, other in ((args[0], args[1]), (args[1], args[0])):
            if (
                _is_ones(ones)
                and type(other) is Var
                and other.shape == out.shape
                and other.dtype == out.dtype
            ):
                return other
    return None


def _vars_in(a: Any, found: list[Var]) -> list[Var]:
    kind = type(a)
    if kind is Var:
        found.append(a)
    elif kind in (tuple, list):
        for x in a:
            _vars_in(x, found)
    elif kind is dict:
        for x in a.values():
            _vars_in(x, found)
    return found


def _outs(step: Step) -> tuple[Var, ...]:
    return step.out if type(step.out) is tuple else (step.out,)


def optimize(capture: Capture) -> Plan:
    """Aliases, common subexpressions, dead code and buffers (module docstring)."""
    alias: dict[int, Any] = {}
    seen: dict[Any, Any] = {}
    kept: list[Step | Guard] = []
    guards: set[Any] = set()
    for step in capture.steps:
        if isinstance(step, Guard):
            value = _resolve(step.value, alias)
            key = (_key(value), step.how, repr(step.expected))
            if key not in guards:
                guards.add(key)
                kept.append(Guard(value, step.how, step.expected, step.site))
            continue
        args = _resolve(step.args, alias)
        kwargs = _resolve(step.kwargs, alias)
        if args and _is_identity(step, args[0]):
            alias[step.out.index] = args[0]
            continue
        same = _times_ones(step, args)
        if same is not None:  # a backward pass's seed: x * ones is x
            alias[step.out.index] = same
            continue
        key = (id(step.fun), _key(args), _key(kwargs))
        try:
            earlier = seen.get(key)
        except TypeError:
            earlier = None
        if earlier is not None:
            for mine, theirs in zip(_outs(step), _outs(earlier), strict=True):
                alias[mine.index] = theirs
            continue
        new = Step(step.fun, args, kwargs, step.out, step.name, step.elementwise)
        seen[key] = new
        kept.append(new)
    outputs = [_resolve(o, alias) for o in capture.outputs]
    steps = find_regions(_live(kept, outputs), outputs)
    plan = Plan(capture, steps, outputs)
    _plan_buffers(plan)
    return plan


def _live(steps: list[Step | Guard], outputs: list[Any]) -> list[Step | Guard]:
    """The guards, and the steps that the outputs or a guard need."""
    wanted = {v.index for v in _vars_in(outputs, [])}
    kept: list[Step | Guard] = []
    for step in reversed(steps):
        if isinstance(step, Guard):
            kept.append(step)
            wanted.update(v.index for v in _vars_in(step.value, []))
        elif any(v.index in wanted for v in _outs(step)):
            kept.append(step)
            wanted.update(v.index for v in _vars_in((step.args, step.kwargs), []))
    kept.reverse()
    return kept


def _plan_buffers(plan: Plan) -> None:
    """Which step writes into which dead array, and which arrays to delete when dead.

    Only the result of a ufunc is a buffer we may reuse: it is a fresh array that no
    view shares unless a non-ufunc step (a reshape, an index) read it, which we then
    rule out. Inputs, outputs and constants are never written.
    """
    last: dict[int, int] = {}
    viewed: set[int] = set()
    for pos, step in enumerate(plan.steps):
        operands = _vars_in(step.value if isinstance(step, Guard) else (step.args, step.kwargs), [])
        for v in operands:
            last[v.index] = pos
        if isinstance(step, Step) and as_ufunc(step.fun) is None:
            viewed.update(v.index for v in operands)
    kept_alive = {v.index for v in _vars_in(plan.outputs, [])}
    kept_alive.update(v.index for v in plan.inputs)
    owned: set[int] = set()
    free: dict[tuple, list[Var]] = {}
    for pos, step in enumerate(plan.steps):
        if isinstance(step, Guard):
            continue
        # What dies here: reusable from this step on (owned, never viewed) or deleted.
        for v in {id(v): v for v in _vars_in((step.args, step.kwargs), [])}.values():
            if last.get(v.index) != pos or v.index in kept_alive:
                continue
            if v.index in owned and v.index not in viewed:
                free.setdefault((v.shape, v.dtype.str), []).append(v)
            elif int(np.prod(v.shape)) >= BUFFER_FROM:
                plan.dead_after.setdefault(pos, []).append(v)
        out = step.out
        big = type(out) is Var and int(np.prod(out.shape)) >= BUFFER_FROM
        if big and _writes_into(step):
            pool = free.get((out.shape, out.dtype.str))
            if pool:
                plan.into[pos] = pool.pop()
        if big and as_ufunc(step.fun) is not None:
            owned.add(out.index)
    # A buffer never reused is deleted once dead, as any other large array.
    reused = {v.index for v in plan.into.values()}
    for pool in free.values():
        for v in pool:
            if v.index not in reused:
                plan.dead_after.setdefault(last[v.index], []).append(v)


def _writes_into(step: Step) -> bool:
    """Whether the step may take ``out=``: a one-output ufunc call, no keywords."""
    fun = as_ufunc(step.fun)
    return fun is not None and fun.nout == 1 and not step.kwargs and len(step.args) == fun.nin
