"""Python source for a plan: one straight-line function of NumPy calls.

``generate(plan, name, params)`` writes the source and compiles it. The
function's free names (the NumPy functions it calls, its constants) are bound
in a closure, so each call reads them as fast locals; the source shows where
each comes from. Guards raise ``GuardFailed`` with their number; argument
checks raise ``Mismatch``. The text is registered with ``linecache`` under a
name of its own, so tracebacks and pdb show the generated lines.
"""

from __future__ import annotations

import hashlib
import keyword
import linecache
import operator
import re
from typing import Any

import numpy as np

from .._pytree import PyTreeDef, tree_unflatten
from .._tensor import Tensor
from ._capture import Const, Guard, Step, Var
from ._chunks import CHUNK, Region
from ._optimize import Plan, _vars_in, as_ufunc
from ._render import literal

__all__ = ["GuardFailed", "Mismatch", "Program", "generate"]


class Mismatch(Exception):
    """The arguments are not those the program was generated for."""


class GuardFailed(Mismatch):
    """A value read into Python differs from the trace's: ``args[0]`` is the guard."""


_OPERATORS = {
    np.add: "+",
    np.subtract: "-",
    np.multiply: "*",
    np.true_divide: "/",
    np.matmul: "@",
    np.power: "**",
    operator.add: "+",
    operator.sub: "-",
    operator.mul: "*",
    operator.truediv: "/",
    operator.matmul: "@",
}
_UNARY = {np.negative: "-", np.positive: "+", operator.neg: "-", operator.pos: "+"}


class Program:
    """A generated function, its source, and what its guards read."""

    def __init__(self, source: str, function: Any, guards: list[str], filename: str) -> None:
        self.source, self.function, self.guards, self.filename = source, function, guards, filename


class _Writer:
    def __init__(self) -> None:
        self.bound: dict[str, Any] = {}  # closure name -> object
        self.by_id: dict[int, str] = {}
        self.lines: list[str] = []
        self.names: dict[int, str] = {}  # Var index -> the local name that holds it now

    def bind(self, obj: Any, base: str) -> str:
        """A closure name for ``obj`` (the same name each time it is asked for)."""
        name = self.by_id.get(id(obj))
        if name is not None:
            return name
        base = re.sub(r"\W+", "_", base).strip("_") or "k"
        if base[0].isdigit() or keyword.iskeyword(base) or base in ("np", "ndarray"):
            base = "_" + base
        name, k = base, 0
        while name in self.bound:
            k += 1
            name = f"{base}_{k}"
        self.bound[name] = obj
        self.by_id[id(obj)] = name
        return name

    def operand(self, a: Any) -> str:
        kind = type(a)
        if kind is Var:
            return self.names[a.index]
        if kind is Const:
            value = a.value
            if isinstance(value, Tensor):
                # Read when the program runs: a model's parameters change between calls.
                return f"{self.bind(value, 'tensor')}._data"
            return self.bind(value, "const")
        if kind is tuple:
            items = [self.operand(x) for x in a]
            return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
        if kind is list:
            return f"[{', '.join(self.operand(x) for x in a)}]"
        if kind is dict and all(isinstance(k, str) for k in a):
            return "{" + ", ".join(f"{k!r}: {self.operand(v)}" for k, v in a.items()) + "}"
        if kind is slice:
            parts = ", ".join(self.operand(p) for p in (a.start, a.stop, a.step))
            return f"slice({parts})"
        text = literal(a)
        if text is not None and len(text) <= 60:
            return text
        return self.bind(a, "const")

    def call(self, step: Step) -> str:
        fun, args = step.fun, step.args
        if not step.kwargs:
            op = _OPERATORS.get(fun)
            if op is not None and len(args) == 2:
                return f"{_atom(self.operand(args[0]))} {op} {_atom(self.operand(args[1]))}"
            op = _UNARY.get(fun)
            if op is not None and len(args) == 1:
                return f"{op}{_atom(self.operand(args[0]))}"
            if step.name == "getitem" and len(args) == 2:
                return f"{self.operand(args[0])}[{self.operand(args[1])}]"
        name = self.bind(fun, getattr(fun, "__name__", step.name))
        if name == "_lambda" or name.startswith("_lambda_"):
            name = self.bind(fun, step.name)
        parts = [self.operand(a) for a in args]
        parts += [f"{k}={self.operand(v)}" for k, v in step.kwargs.items()]
        return f"{name}({', '.join(parts)})"

    def call_into(self, step: Step, into: Var) -> str:
        fun = as_ufunc(step.fun)
        assert fun is not None  # the optimizer plans buffers for ufunc steps only
        name = self.bind(fun, fun.__name__)
        parts = [self.operand(a) for a in step.args]
        return f"{name}({', '.join(parts)}, {self.names[into.index]})"


def _atom(text: str) -> str:
    """Parentheses around an operand that is not a name, a number or a call."""
    if re.fullmatch(r"[\w.]+(\[[^\]]*\])?|\w+\(.*\)", text) and not text.startswith("-"):
        return text
    return f"({text})"


def _guard_test(w: _Writer, g: Guard) -> tuple[str, str]:
    """The condition under which guard ``g`` fails, and its reason's wording."""
    v = w.operand(g.value)
    expected = g.expected
    if g.how == "bool(t)":
        return (f"not {v}" if expected else f"{v}"), f"bool(t) was {expected}"
    if g.how == "shape":  # a result whose size depends on the data
        return f"{v}.shape != {expected!r}", f"the result of {g.site} had shape {expected}"
    conversion = {
        "float(t)": f"float({v})",
        "int(t)": f"int({v})",
        "t.item()": f"{v}.item()",
        "t.tolist()": f"{v}.tolist()",
        "an index": f"{v}.__index__()",
        "complex(t)": f"complex({v})",
    }[g.how]
    if isinstance(expected, float) and expected != expected:  # nan: compare as nan
        return f"{conversion} == {conversion}", f"{g.how} was nan"
    return f"{conversion} != {w.operand(expected)}", f"{g.how} was {expected!r}"


def generate(plan: Plan, name: str, params: list[str], checks: list[str]) -> Program:
    """The program for ``plan`` as a function ``name(*params)``.

    ``checks`` are lines that test the arguments (they raise Mismatch).
    """
    w = _Writer()
    w.bound["Mismatch"] = Mismatch
    w.bound["GuardFailed"] = GuardFailed
    w.bound["ndarray"] = np.ndarray
    w.bound["_to_float64"] = np.float64
    w.bound["np"] = np  # literals such as np.float64(0.5) and np.dtype(...) name it
    for a in plan.inputs:
        w.bound[f"_dt_{a.dtype.name}"] = a.dtype
    body: list[str] = list(checks)
    for var, param in zip(plan.inputs, params, strict=True):
        w.names[var.index] = param
    names = _Names(plan, w.names)
    guards: list[str] = []
    for pos, step in enumerate(plan.steps):
        if isinstance(step, Guard):
            test, reason = _guard_test(w, step)
            at_site = step.site and step.how != "shape"
            guards.append(f"{reason} at {step.site}" if at_site else reason)
            body.append(f"if {test}:")
            body.append(f"    raise GuardFailed({len(guards) - 1})")
            names.release(pos, step.value)
            continue
        into = plan.into.get(pos)
        region = step.fun if step.name == "region" else None
        expr = "" if region else w.call_into(step, into) if into else w.call(step)
        outs = step.out if type(step.out) is tuple else (step.out,)
        if region:  # its loop reads the inputs while it writes the outputs: new names
            targets = [names.assign(v, None) for v in outs]
            freed = names.release(pos, (step.args, step.kwargs))
        else:  # the call reads its operands before its result takes a dead one's name
            freed = names.release(pos, (step.args, step.kwargs))
            targets = [names.assign(v, into if k == 0 else None) for k, v in enumerate(outs)]
        if region:
            body.extend(_region_lines(w, region, targets))
        else:
            comma = "," if type(step.out) is tuple and len(outs) == 1 else ""
            body.append(f"{', '.join(targets)}{comma} = {expr}")
        # Large arrays that died here and whose name was not taken again: free them now.
        dead = [
            n
            for v in plan.dead_after.get(pos, ())
            if (n := freed.get(v.index)) is not None and n not in targets
        ]
        if dead:
            body.append("del " + ", ".join(dead))
    body.append("return " + _output_text(w, plan))
    head = [f"def {name}({', '.join(params)}):"] + ["    " + line for line in body]
    binds = [f"    {k} = _bound[{k!r}]" for k in w.bound]
    inner = ["    " + line for line in head]
    lines = ["def _make(_bound):", *binds, *inner, f"    return {name}", ""]
    source = "\n".join(lines)
    digest = hashlib.sha1(source.encode()).hexdigest()[:10]
    filename = f"<cr.compile {name} {digest}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {}
    exec(compile(source, filename, "exec"), namespace)
    function = namespace["_make"](w.bound)
    return Program(source, function, guards, filename)


def _region_lines(w: _Writer, region: Region, targets: list[str]) -> list[str]:
    """A loop over chunks of the leading axis that runs the region's steps on slices:
    intermediates are chunk-sized, the outputs (``targets``) are written out in full."""
    shape = region.shape
    rows = max(1, CHUNK // max(1, int(np.prod(shape[1:]))))
    empty = w.bind(np.empty, "empty")
    lines = [
        f"{t} = {empty}({shape!r}, {w.bind(v.dtype, 'dt_' + v.dtype.name)})"
        for t, v in zip(targets, region.outputs, strict=True)
    ]
    lines.append(f"for _s in range(0, {shape[0]}, {rows}):")
    outer = dict(w.names)
    loop = ["_e = _s + " + str(rows)]
    for k, v in enumerate(region.inputs):
        loop.append(f"c{k} = {w.names[v.index]}[_s:_e]")
        w.names[v.index] = f"c{k}"
    full = {v.index: t for v, t in zip(region.outputs, targets, strict=True)}
    last = {}
    for k, step in enumerate(region.steps):
        for v in _vars_in(step.args, []):
            last[v.index] = k
    scratch: list[tuple[str, np.dtype]] = []  # dead chunk arrays, free to write into
    count = 0
    for k, step in enumerate(region.steps):
        out = step.out
        fun = as_ufunc(step.fun)
        into = fun is not None and len(step.args) == fun.nin and fun.nout == 1
        ufunc = w.bind(fun, fun.__name__) if fun is not None and into else ""
        parts = ", ".join(w.operand(a) for a in step.args)
        dying = [
            (w.names[v.index], v.dtype)
            for v in {v.index: v for v in _vars_in(step.args, [])}.values()
            if last[v.index] == k and w.names[v.index].startswith("r") and v.index not in full
        ]
        scratch.extend(dying)  # an elementwise ufunc may write over its own operand
        if out.index in full:  # written into its slice of the full output
            local = f"{full[out.index]}_c"
            loop.append(f"{local} = {full[out.index]}[_s:_e]")
            if into:
                loop.append(f"{ufunc}({parts}, out={local})")
            else:
                loop.append(f"{local}[...] = {w.call(step)}")
        else:
            reuse = next((n for n, d in scratch if d == out.dtype), None) if into else None
            if reuse is not None:  # a chunk array that died: the same length, in cache
                scratch.remove((reuse, out.dtype))
                local = reuse
                loop.append(f"{local} = {ufunc}({parts}, {local})")
            else:
                local, count = f"r{count}", count + 1
                loop.append(f"{local} = {w.call(step)}")
        w.names[out.index] = local
    w.names.clear()  # in place: the caller's _Names shares this dict
    w.names.update(outer)
    return lines + ["    " + line for line in loop]


class _Names:
    """Local names by liveness: a value's name is taken by a later value once it is
    dead, so the rebinding frees its array as hand-written code does (``g = g * t``)."""

    def __init__(self, plan: Plan, names: dict[int, str]) -> None:
        self.names = names
        self.free: list[str] = []
        self.count = 0
        self.last: dict[int, int] = {}
        for pos, step in enumerate(plan.steps):
            used = step.value if isinstance(step, Guard) else (step.args, step.kwargs)
            for v in _vars_in(used, []):
                self.last[v.index] = pos
        self.kept = {v.index for v in _vars_in(plan.outputs, [])}
        # Buffers a later step writes into (out=) keep their name until then.
        self.reserved = {v.index for v in plan.into.values()}

    def release(self, pos: int, operands: Any) -> dict[int, str]:
        """Give up the names of the operands that die at ``pos``; return them."""
        freed = {}
        for v in _vars_in(operands, []):
            if self.last.get(v.index) == pos and v.index not in self.kept and v.index not in freed:
                freed[v.index] = self.names[v.index]
        self.free.extend(n for i, n in reversed(freed.items()) if i not in self.reserved)
        return freed

    def assign(self, var: Var, into: Var | None) -> str:
        """A name for ``var``: the buffer's it writes into, a dead value's, or a new one."""
        if into is not None:
            name = self.names[into.index]
        elif self.free:
            name = self.free.pop()
        else:
            name = f"v{self.count}"
            self.count += 1
        self.names[var.index] = name
        return name


def _output_text(w: _Writer, plan: Plan) -> str:
    """The return expression: the outputs in their structure, each as the eager
    function returns it: a transform's results are arrays we own (a NumPy scalar where
    marked); a plain NumPy function's are what NumPy gave."""
    capture = plan.capture
    inputs = {v.index for v in plan.inputs}
    items = []
    for out, scalar in zip(plan.outputs, capture.out_scalar, strict=True):
        text = w.operand(out)
        if type(out) is Var:
            if out.index in inputs or type(out) is Const:
                text = f"{w.bind(np.array, 'array')}({text})"
            elif not out.shape and out.inner:  # a plain NumPy result is as is
                conv = w.bind(
                    _as_scalar if scalar else np.asarray, "scalar" if scalar else "asarray"
                )
                text = f"{conv}({text})"
        elif type(out) is Const:
            text = f"{w.bind(np.array, 'array')}({text})"
        items.append(text)
    tree = capture.out_tree
    rendered = _tree_text(tree, iter(items))
    if rendered is not None:
        return rendered
    return f"{w.bind(tree_unflatten, 'unflatten')}({w.bind(tree, 'tree')}, [{', '.join(items)}])"


def _as_scalar(v: Any) -> Any:
    return v[()] if type(v) is np.ndarray else v


def _tree_text(tree: PyTreeDef, items: Any) -> str | None:
    """Source for a structure of tuples and lists around the items, or None."""
    if tree.kind is None:
        return next(items)
    if tree.kind is type(None):
        return "None"
    if tree.kind in (tuple, list):
        parts = [_tree_text(c, items) for c in tree.children]
        if any(p is None for p in parts):
            return None
        if tree.kind is list:
            return f"[{', '.join(parts)}]"  # type: ignore[arg-type]
        return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"  # type: ignore[arg-type]
    return None
