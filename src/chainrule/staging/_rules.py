"""The lecture's way of writing each primitive: a forward line, a gradient line per input.

A ``Step`` is one line of the forward pass: one equation of the trace, or the
sigmoid ``1 / (1 + np.exp(-x))`` recognised as a whole (``fuse_sigmoids``), so
that its gradient reads ``((1 - s) * s) * ds`` as in the lecture, instead of
three lines through exp and a quotient.

``forward_text`` writes the step's expression: operators for arithmetic, the
NumPy call for a primitive whose forward is a public NumPy function, and
``_prim("name")(...)`` (the registry's own forward) otherwise.

``vjp_text`` writes the gradient of input ``i`` as ``(local derivative) *
dout`` for the common primitives; ``None`` means "use the registry's own rule",
which ``generic_vjp_text`` calls as ``_vjp("name", i)(dout, out, *args)``: so no
primitive is unsupported. When the upstream gradient is the seed 1 (the scalar
output's own gradient), ``g`` is ``None`` and the product by 1 is left out.
Each gradient text comes with ``fresh``: whether it is a new array (an
arithmetic result), which ``+=`` may then write into.
"""

from __future__ import annotations

import inspect
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._registry import PRIMITIVES, qualified_name
from ..ops._args import normalize_axes
from ._render import atom, index_text, short_literal_name
from ._trace import Eqn, Literal, Var

__all__ = ["Step", "forward_text", "fuse_sigmoids", "generic_vjp_text", "suggest", "vjp_text"]

Text = Callable[[Any], str]  # a value as program text (a literal, or a constant's name)


@dataclass
class Step:
    """One forward line: a primitive application, or a recognised sigmoid."""

    name: str
    prim: Any
    args: tuple[Var | Literal, ...]
    kwargs: dict[str, Any]
    out: Var
    user_name: str | None = None
    # The recognised sigmoid's constants, as written: (numerator, addend, addend first).
    pattern: tuple[Literal, Literal, bool] | None = None


def _is_one(a: Var | Literal) -> bool:
    if not isinstance(a, Literal):
        return False
    v = a.value
    ok = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
    return ok and bool(v == 1)


def fuse_sigmoids(eqns: list[Eqn], output: int) -> list[Step]:
    """Steps for ``eqns``, with ``1 / (1 + np.exp(-x))`` as one sigmoid step.

    The pattern is taken only where its inner values (``-x``, the exp, the sum)
    serve nothing else, so no other line needs them.
    """
    made = {e.out.index: e for e in eqns}
    uses = Counter(a.index for e in eqns for a in e.args if isinstance(a, Var))

    def inner(a: Var | Literal, name: str) -> Eqn | None:
        if not isinstance(a, Var) or uses[a.index] != 1 or a.index == output:
            return None
        e = made.get(a.index)
        return e if e is not None and e.primitive.name == name else None

    fused: dict[int, Step] = {}
    dropped: set[int] = set()
    for e in eqns:
        if e.primitive.name != "divide" or not _is_one(e.args[0]):
            continue
        add = inner(e.args[1], "add")
        if add is None or e.kwargs:
            continue
        first = _is_one(add.args[0])
        if not (first or _is_one(add.args[1])):
            continue
        exp = inner(add.args[1] if first else add.args[0], "exp")
        neg = exp and inner(exp.args[0], "negative")
        if exp is None or not neg or not isinstance(neg.args[0], Var):
            continue
        addend = add.args[0] if first else add.args[1]
        assert isinstance(addend, Literal) and isinstance(e.args[0], Literal)
        fused[id(e)] = Step(
            "sigmoid",
            PRIMITIVES["sigmoid"],
            (neg.args[0],),
            {},
            e.out,
            e.name,
            (e.args[0], addend, first),
        )
        dropped.update((id(add), id(exp), id(neg)))
    steps = []
    for e in eqns:
        if id(e) in dropped:
            continue
        steps.append(
            fused.get(id(e)) or Step(e.primitive.name, e.primitive, e.args, e.kwargs, e.out, e.name)
        )
    return steps


_OPERATORS = {"add": "+", "subtract": "-", "multiply": "*", "divide": "/", "matmul": "@"}


def _numpy_path(fun: Any) -> str | None:
    """``np.linalg.solve`` when ``fun`` is reached by that public NumPy path, else None."""
    path = qualified_name(fun)
    if not path.startswith("np."):
        return None
    obj: Any = np
    for part in path.split(".")[1:]:
        obj = getattr(obj, part, None)
    return path if obj is fun else None


_NO_VALUE = getattr(np, "_NoValue", None)
_EMPTY = inspect.Parameter.empty


def _non_default(fun: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The keyword options that differ from ``fun``'s defaults (np.sum's axis=None...)."""
    try:
        params = inspect.signature(fun).parameters
    except (TypeError, ValueError):
        return kwargs
    kept = {}
    for k, v in kwargs.items():
        p = params.get(k)
        default = p.default if p is not None else _EMPTY
        if default is _NO_VALUE:  # NumPy's "not given": axis=None, keepdims=False
            same = v is None or v is False
        else:
            same = default is not _EMPTY and type(v) is type(default) and v == default
        if not same:
            kept[k] = v
    return kept


def _call(head: str, atoms: list[str], kwargs: dict[str, Any], text: Text) -> str:
    parts = [*atoms, *(f"{k}={text(v)}" for k, v in kwargs.items())]
    return f"{head}({', '.join(parts)})"


def forward_text(step: Step, atoms: list[str], text: Text) -> str:
    """The expression that computes ``step``, its operands given as ``atoms``."""
    name, a = step.name, [atom(t) for t in atoms]
    if step.pattern is not None:
        num, addend, first = step.pattern
        e = f"np.exp(-{a[0]})"
        total = (
            f"{atom(text(addend.value))} + {e}" if first else f"{e} + {atom(text(addend.value))}"
        )
        return f"{atom(text(num.value))} / ({total})"
    if not step.kwargs:
        if name in _OPERATORS and len(a) == 2:
            return f"{a[0]} {_OPERATORS[name]} {a[1]}"
        if name == "power" and len(a) == 2:
            return f"{a[0]}**{a[1]}"
        if name == "negative":
            return f"-{a[0]}"
        if name == "getitem" and isinstance(step.args[1], Literal):
            inside = index_text(step.args[1].value)
            if inside is not None:
                return f"{a[0]}[{inside}]"
    path = _numpy_path(step.prim.fun)
    if path is None:
        return _call(f"_prim({name!r})", atoms, step.kwargs, text)
    return _call(path, atoms, _non_default(step.prim.fun, step.kwargs), text)


def _scale(local: str, g: str | None) -> str:
    """``local * g``, or ``local`` alone when ``g`` is the seed 1."""
    return local if g is None else f"{local} * {g}"


def _exponent(step: Step) -> int | float | None:
    """The exponent of ``x**c`` when it is a plain number written in the program."""
    c = step.args[1]
    if isinstance(c, Literal) and type(c.value) in (int, float) and c.value != 0:
        return c.value  # type: ignore[no-any-return]
    return None


def vjp_text(
    step: Step, i: int, atoms: list[str], values: list[Any], ans: str, g: str | None
) -> tuple[str, bool] | None:
    """The gradient of input ``i`` as text, and whether it is a fresh array; None: no
    template (use the registry's rule). ``values`` are the operands' values."""
    name, a = step.name, [atom(t) for t in atoms]
    fresh = g is not None  # a product with g is a new array; the local factor alone may not be
    if step.kwargs and name != "sum":
        return None
    ones = f"np.ones_like({ans})"  # the seed passed on as it is: one, in the output's dtype
    if name == "add" or (name == "subtract" and i == 0):
        return (g, False) if g is not None else (ones, True)
    if name in ("subtract", "negative"):
        return f"-{g if g is not None else ones}", True
    if name == "multiply":
        return _scale(a[1 - i], g), fresh
    if name == "divide":
        if i == 0:
            return f"{g if g is not None else '1.0'} / {a[1]}", True
        return _scale(f"(-{a[0]} / {a[1]}**2)", g), True
    if name == "power" and i == 0:
        c = _exponent(step)
        if c is None:
            return None
        if c == 1:
            return (g, False) if g is not None else (ones, True)
        local = f"(2 * {a[0]})" if c == 2 else f"({c!r} * {a[0]}**{atom(repr(c - 1))})"
        return _scale(local, g), True
    if name == "exp":
        return _scale(ans, g), fresh
    if name == "log":
        return f"{g if g is not None else '1.0'} / {a[0]}", True
    factor = {
        "sin": f"np.cos({a[0]})",
        "cos": f"-np.sin({a[0]})",
        "tanh": f"(1 - {ans}**2)",
        "sqrt": f"(0.5 / {ans})",
        "square": f"(2 * {a[0]})",
        "sigmoid": f"((1 - {ans}) * {ans})",
    }.get(name)
    if factor is not None:
        return _scale(factor, g), True
    if name == "matmul" and g is not None and [np.ndim(v) for v in values] == [2, 2]:
        return (f"{g} @ {a[1]}.T", True) if i == 0 else (f"{a[0]}.T @ {g}", True)
    if name == "sum":
        return _sum_vjp(step, ans, g)
    return None


def _sum_vjp(step: Step, ans: str, g: str | None) -> tuple[str, bool] | None:
    x = step.args[0]
    if not isinstance(x, Var) or set(step.kwargs) - {"axis", "keepdims"}:
        return None
    shape = x.shape
    if g is None:
        return f"np.ones({shape!r})", True
    axis, keepdims = step.kwargs.get("axis"), step.kwargs.get("keepdims", False)
    if axis is None or keepdims:
        return f"np.broadcast_to({g}, {shape!r})", False
    axes = normalize_axes(axis, len(shape))
    ax = repr(axes[0]) if len(axes) == 1 else repr(axes)
    return f"np.broadcast_to(np.expand_dims({g}, {ax}), {shape!r})", False


def generic_vjp_text(
    step: Step, i: int, atoms: list[str], ans: str, g: str | None, text: Text
) -> str:
    """The registry's own VJP rule for input ``i``, called on the program's values."""
    seed = g if g is not None else f"np.ones_like({ans})"
    return _call(f"_vjp({step.name!r}, {i})", [seed, ans, *atoms], step.kwargs, text)


_WORDS = {"add": "plus", "subtract": "minus", "multiply": "times", "divide": "over", "matmul": "at"}
_LONGEST = 20  # a derived name longer than this falls back to the primitive's name


def suggest(step: Step, operands: list[str]) -> str:
    """A readable name from the operation and its operands' names: ``x_plus_y``."""
    name = step.name
    short = name.rsplit(".", 1)[-1]
    if name == "divide" and _is_one(step.args[0]):
        derived = f"inv_{operands[1]}"
    elif name in _WORDS and len(operands) == 2:
        derived = f"{operands[0]}_{_WORDS[name]}_{operands[1]}"
    elif name == "power" and len(operands) == 2:
        c: Any = step.args[1].value if isinstance(step.args[1], Literal) else None
        word = {2: "squared", 3: "cubed"}.get(c) if type(c) in (int, float) else None
        derived = f"{operands[0]}_{word}" if word else f"{operands[0]}_pow_{operands[1]}"
    elif name == "negative":
        derived = f"neg_{operands[0]}"
    else:
        derived = f"{short}_{operands[0]}" if operands else short
    return derived if len(derived) <= _LONGEST else short


def operand_name(a: Var | Literal, names: dict[int, str]) -> str:
    """What an operand is called inside a derived name."""
    if isinstance(a, Var):
        return names[a.index]
    return short_literal_name(a.value)
