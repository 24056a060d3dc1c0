"""Tracing: run a function once on Tensors, keep what it did as primitive applications.

A ``Trace`` is the straight-line program behind one call of a function: its
inputs (``Var`` s, one per floating-point argument), its equations (``Eqn``,
one primitive application each, in the order they ran, so that every ``Var``
is defined before it is used) and its output. Everything else an equation was
given -- constant arrays and numbers, axes, indices -- is a ``Literal``.
Python control flow is not kept: the trace is the path that this call took,
for arguments of these shapes.

Each equation also says where the user's code ran it (``Site``), and the
user's own name for its result when that line reads ``name = expr`` (or
``name += expr``, ``name[i] = expr``) and ``name`` then held the result: the
name is confirmed in the frame's locals once the statement is over, so a loop
``h = np.tanh(h)`` names every pass, and the inner operations of a line stay
unnamed. Only one-line statements are read (a statement over several lines
leaves its results to derived names).
"""

from __future__ import annotations

import ast
import linecache
import os
import sys
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._registry import PRIMITIVES
from .._tensor import Tensor
from ..graph import Constant, GradFn, on_record

__all__ = ["Eqn", "Literal", "Site", "Trace", "Var", "live", "trace"]


@dataclass(frozen=True)
class Var:
    """A value of the program: an input or an equation's result, by shape and dtype."""

    index: int
    shape: tuple[int, ...]
    dtype: np.dtype


@dataclass(frozen=True, eq=False)
class Literal:
    """A value fixed in the program: a constant array or number, an axis, an index."""

    value: Any


@dataclass(frozen=True)
class Site:
    """Where the user's code ran an equation."""

    filename: str
    lineno: int
    function: str


@dataclass(eq=False)
class Eqn:
    """One primitive application: ``out = primitive.fun(*args, **kwargs)``."""

    primitive: Any
    args: tuple[Var | Literal, ...]
    kwargs: dict[str, Any]
    out: Var
    site: Site | None = None
    name: str | None = None  # the user's name for ``out``, when recovered


@dataclass
class Trace:
    """The program behind one call: inputs, equations in order, output."""

    inputs: tuple[Var | Literal, ...]
    eqns: list[Eqn]
    output: Var | Literal
    arg_names: tuple[str, ...]
    function_name: str
    output_value: Any = field(default=None, repr=False)


# Frames in these folders are chainrule's or NumPy's; the user's code is anywhere else. By
# file, not by module name: a doctest runs in a copy of its module's globals.
_CHAINRULE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_NUMPY = os.path.dirname(os.path.abspath(np.__file__))
_LIBRARIES = (os.path.join(_CHAINRULE, ""), os.path.join(_NUMPY, ""))


def _is_library(frame: types.FrameType) -> bool:
    return frame.f_code.co_filename.startswith(_LIBRARIES)


def _target(frame: types.FrameType) -> str | None:
    """``name`` when the frame's current line is ``name = expr``, ``name += expr`` or
    ``name[index] = expr``."""
    code = frame.f_code
    if code.co_name == "<lambda>":  # a lambda's line belongs to the statement around it
        return None
    line = linecache.getline(code.co_filename, frame.f_lineno, frame.f_globals).strip()
    try:
        body = ast.parse(line).body
    except SyntaxError:  # part of a statement over several lines, or a compound header
        return None
    if len(body) != 1:
        return None
    stmt = body[0]
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target: ast.AST = stmt.targets[0]
    elif isinstance(stmt, (ast.AugAssign, ast.AnnAssign)):
        target = stmt.target
    else:
        return None
    if isinstance(target, ast.Subscript):  # y[0] = v: the new value of y
        target = target.value
    return target.id if isinstance(target, ast.Name) else None


class _Recorder:
    """The ``cr.on_record`` callback that turns each recorded operation into an Eqn."""

    def __init__(self, stop: types.FrameType, leaves: dict[int, Var], where: str) -> None:
        self.stop, self.leaves, self.where = stop, leaves, where
        self.vars: dict[GradFn, Var] = {}
        self.eqns: list[Eqn] = []
        self.count = len(leaves)
        self.pending: tuple[types.FrameType, str, GradFn, Eqn] | None = None

    def __call__(self, t: Tensor) -> None:
        self.settle()
        fn = t.grad_fn
        assert fn is not None  # on_record shows recorded operations only
        prim = fn.primitive
        self._check(fn)
        args = tuple(self._operand(a) for a in fn.arguments)
        out = Var(self.count, tuple(fn.shape), np.dtype(fn.dtype))
        self.count += 1
        self.vars[fn] = out
        frame = self._user_frame()
        eqn = Eqn(prim, args, fn.kwargs, out)
        if frame is not None:
            code = frame.f_code
            eqn.site = Site(code.co_filename, frame.f_lineno, code.co_name)
            name = _target(frame)
            if name is not None:
                self.pending = (frame, name, fn, eqn)
        self.eqns.append(eqn)

    def _check(self, fn: GradFn) -> None:
        if PRIMITIVES.get(fn.name) is not fn.primitive:
            raise TypeError(
                f"{self.where}: '{fn.name}' is not one of chainrule's NumPy primitives (a "
                "custom cr.Function, or complex data); only real-valued NumPy code can be "
                "written out. Call it on a function of NumPy operations."
            )

    def _operand(self, a: Any) -> Var | Literal:
        if isinstance(a, GradFn):
            found = self.vars.get(a)
            if found is None:
                self._check(a)  # a custom Function's result is not shown to on_record
                raise RuntimeError(
                    f"{self.where}: f used the result of '{a.name}', computed before the "
                    "trace began (a Tensor that requires grad from outside f); pass it to f "
                    "as an argument"
                )
            return found
        if isinstance(a, Tensor):
            var = self.leaves.get(id(a))
            # A Tensor from outside f (a closure, a model's parameter) is a constant here.
            return var if var is not None else Literal(np.array(a.data))
        if isinstance(a, Constant):
            return Literal(a.value)
        return Literal(a)

    def _user_frame(self) -> types.FrameType | None:
        """The innermost frame of the user's code (not chainrule's, not NumPy's)."""
        frame: types.FrameType | None = sys._getframe(2)
        while frame is not None and frame is not self.stop:
            if not _is_library(frame):
                return frame
            frame = frame.f_back
        return None

    def settle(self) -> None:
        """The last named candidate takes its name if the statement bound it."""
        if self.pending is None:
            return
        frame, name, fn, eqn = self.pending
        self.pending = None
        value = frame.f_locals.get(name)
        if isinstance(value, Tensor) and value.grad_fn == fn:
            eqn.name = name


def _arg_names(f: Callable[..., Any], n: int) -> tuple[str, ...]:
    """The parameter names of ``f`` for its first ``n`` positional arguments."""
    code = getattr(f, "__code__", None)
    names: list[str] = []
    if code is not None:
        names = list(code.co_varnames[: code.co_argcount])
        if isinstance(f, types.MethodType):
            names = names[1:]  # self is bound already
    names = [a for a in names if a.isidentifier()]
    if len(names) < n:
        names += [f"arg{i}" for i in range(len(names), n)]
    return tuple(names[:n])


def trace(f: Callable[..., Any], args: Sequence[Any], where: str = "trace") -> Trace:
    """Run ``f(*args)`` once on Tensors and return what it computed as a ``Trace``.

    Floating-point arguments become the trace's input ``Var`` s (every one is
    recorded, whichever a gradient is wanted for); other arguments are passed
    as they are and appear as ``Literal`` s.

    >>> import numpy as np
    >>> t = trace(lambda x, y: np.sum(x * y), (np.ones(3), np.ones(3)))
    >>> [e.primitive.name for e in t.eqns]
    ['multiply', 'sum']
    """
    leaves: dict[int, Var] = {}
    call_args: list[Any] = []
    inputs: list[Var | Literal] = []
    for i, a in enumerate(args):
        data = np.array(a.data) if isinstance(a, Tensor) else a
        arr = np.asarray(data)
        if arr.dtype.kind == "f":
            t = Tensor._make(np.array(arr), None)
            t.requires_grad = True
            var = Var(i, arr.shape, arr.dtype)
            leaves[id(t)] = var
            call_args.append(t)
            inputs.append(var)
        elif arr.dtype.kind == "c":
            raise TypeError(
                f"{where}: argument {i} is complex ({arr.dtype}); only real inputs are traced"
            )
        else:
            call_args.append(data)
            inputs.append(Literal(data))
    recorder = _Recorder(sys._getframe(), leaves, where)
    with on_record(recorder):
        result = f(*call_args)
    recorder.settle()
    if isinstance(result, Tensor):
        fn = result.grad_fn
        if fn is not None:
            output: Var | Literal = recorder._operand(fn)
        else:
            leaf = leaves.get(id(result))
            output = leaf if leaf is not None else Literal(np.array(result.data))
        value = np.array(result.data)
    else:
        output, value = Literal(result), result
    name = getattr(f, "__name__", "f")
    return Trace(tuple(inputs), recorder.eqns, output, _arg_names(f, len(args)), name, value)


def live(tr: Trace) -> list[Eqn]:
    """The equations the output depends on, in their order (the others are dead code)."""
    if not isinstance(tr.output, Var):
        return []
    wanted = {tr.output.index}
    kept = []
    for eqn in reversed(tr.eqns):
        if eqn.out.index in wanted:
            kept.append(eqn)
            wanted.update(a.index for a in eqn.args if isinstance(a, Var))
    kept.reverse()
    return kept
