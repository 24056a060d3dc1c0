"""``cr.explain``: the backward pass of a function, written out as the lecture writes it.

``cr.explain(f, *args, argnums=0)`` traces one call of ``f`` (see ``_trace``)
and writes it as a Python function of plain NumPy code:

* the forward pass, one named intermediate per primitive. A name is the user's
  own when the line that computed it reads ``name = expr`` (found through the
  call stack while recording), else a short one made from the operands
  (``x_plus_y``, ``exp_x``); the output of a ``return`` line is ``out``. One
  pattern is written as a whole: the sigmoid ``1.0 / (1 + np.exp(-x))`` takes a
  single line and its gradient is the lecture's ``((1 - s) * s) * ds``;
* the backward pass: for each intermediate, from the output back, a comment
  showing its forward line, then one gradient line per input, ``dname = ...``
  the first time and ``dname += ...`` where gradients meet at a fork. Where an
  operation broadcast an input, the line sums the gradient back visibly
  (``np.sum(..., axis=0)``). Common primitives have a readable rule; any other
  calls the registry's own VJP, ``_vjp("linalg.solve", 0)(dout, out, a, b)``.

The text is deterministic (the same function and arguments give the same
text), and calling the ``Explanation`` runs it. The program is the path this
call took: Python ``if`` s and loops are unrolled for these values, and its
arguments must keep their shapes and dtypes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np

from .._registry import PRIMITIVES, VariadicVJP
from .._tensor import Tensor
from ._render import Names, literal
from ._rules import (
    Step,
    forward_text,
    fuse_sigmoids,
    generic_vjp_text,
    operand_name,
    suggest,
    vjp_text,
)
from ._trace import Literal, Trace, Var, live, trace

__all__ = ["Explanation", "explain"]

_WHERE = "cr.explain"


def _prim(name: str) -> Callable[..., Any]:
    """The forward of the registry's primitive ``name`` (what the program calls)."""
    fun: Callable[..., Any] = PRIMITIVES[name].fun
    return fun


def _vjp(name: str, i: int) -> Callable[..., Any]:
    """The registry's VJP rule of primitive ``name`` for input ``i``."""
    rule: Callable[..., Any] = PRIMITIVES[name].vjps[i]  # type: ignore[assignment]
    return rule


def _has_rule(prim: Any, i: int) -> bool:
    vjps = prim.vjps
    return isinstance(vjps, VariadicVJP) or (i < len(vjps) and vjps[i] is not None)


def _unbroadcast(expr: str, have: tuple[int, ...], want: tuple[int, ...]) -> tuple[str, bool]:
    """``expr`` summed over the axes that broadcasting added or stretched (as the engine
    does), and whether the result is a fresh array."""
    extra = len(have) - len(want)
    if extra < 0 or any(w not in (h, 1) for w, h in zip(want, have[extra:], strict=True)):
        return f"np.broadcast_to({expr}, {want!r})", False
    lead = tuple(range(extra))
    stretched = tuple(i for i, w in enumerate(want) if w == 1 and have[extra + i] != 1)

    def axes(t: tuple[int, ...]) -> str:
        return repr(t[0]) if len(t) == 1 else repr(t)

    if lead:
        expr = f"np.sum({expr}, axis={axes(lead)})"
    if stretched:
        expr = f"np.sum({expr}, axis={axes(stretched)}, keepdims=True)"
    return expr, True


class _Writer:
    """Writes a trace as program text, evaluating each line as it goes (so shapes,
    dtypes and broadcasting are known, and the text is what computed the values)."""

    def __init__(self) -> None:
        self.names = Names(("np", "_prim", "_vjp", "slice", "Ellipsis"))
        self.scope: dict[str, Any] = {"np": np, "_prim": _prim, "_vjp": _vjp}
        self.constants: dict[str, Any] = {}
        self.var: dict[int, str] = {}  # Var index -> its name in the program

    def text(self, value: Any) -> str:
        """A value as text: a literal, or a named constant (``c0``) kept in ``constants``."""
        found = literal(value)
        if found is not None:
            return found
        for name, held in self.constants.items():
            if held is value:
                return name
        name = self.names.new(f"c{len(self.constants)}")
        self.constants[name] = self.scope[name] = value
        return name

    def operand(self, a: Var | Literal) -> str:
        return self.var[a.index] if isinstance(a, Var) else self.text(a.value)

    def value(self, a: Var | Literal) -> Any:
        return self.scope[self.var[a.index]] if isinstance(a, Var) else a.value

    def run(self, expr: str) -> Any:
        return eval(expr, self.scope)  # the text this module just wrote

    def conform(self, expr: str, fresh: bool, value: Any, var: Var) -> tuple[str, bool, Any]:
        """The gradient in its input's shape (broadcasting undone) and dtype."""
        if np.shape(value) != var.shape:
            expr, fresh = _unbroadcast(expr, np.shape(value), var.shape)
            value = self.run(expr)
        if not isinstance(value, (np.ndarray, np.generic)):
            # A Python number (x / 2.0 gives 1.0 / 2.0): the rules downstream expect NumPy.
            expr, fresh = f"np.{var.dtype.name}({expr})", True
            value = self.run(expr)
        dtype = np.result_type(value)
        if dtype != var.dtype:
            if dtype.kind == "c":
                expr, fresh = f"np.real({expr})", False
            if np.result_type(self.run(expr)) != var.dtype:
                expr, fresh = f"np.asarray({expr}, dtype=np.{var.dtype.name})", True
            value = self.run(expr)
        return expr, fresh, value


def _write(tr: Trace, values: list[Any], nums: list[int], single: bool) -> tuple[str, str, _Writer]:
    """The program's text, its function's name, and the writer (its constants)."""
    w = _Writer()
    params = []
    for inp, name, value in zip(tr.inputs, tr.arg_names, values, strict=True):
        params.append(w.names.new(name))
        w.scope[params[-1]] = value
        if isinstance(inp, Var):
            w.var[inp.index] = params[-1]
    out_index = tr.output.index if isinstance(tr.output, Var) else -1
    steps = fuse_sigmoids(live(tr), out_index)
    forward: list[str] = []
    for step in steps:
        expr = forward_text(step, [w.operand(a) for a in step.args], w.text)
        if step.user_name:
            base = step.user_name
        elif step.out.index == out_index:
            base = "out"
        else:
            base = suggest(step, [operand_name(a, w.var) for a in step.args])
        name = w.var[step.out.index] = w.names.new(base)
        w.scope[name] = w.run(expr)
        forward.append(f"{name} = {expr}")
    backward = _backward(w, tr, steps, nums, out_index)
    out_text = w.operand(tr.output)
    grads = [f"d{w.var[tr.inputs[k].index]}" for k in nums]  # type: ignore[union-attr]
    listed = ", ".join(grads) + ("," if len(grads) == 1 else "")
    grad_text = grads[0] if single else f"({listed})"
    body = ["# forward pass", *forward, "# backward pass", *backward]
    body.append(f"return {out_text}, {grad_text}")
    header = ["import numpy as np"]
    if any("_prim(" in line or "_vjp(" in line for line in body):
        header.append("from chainrule.staging.explain import _prim, _vjp")
    for name, value in w.constants.items():
        shape = "x".join(str(d) for d in np.shape(value)) or "scalar"
        kind = type(value).__name__ if not hasattr(value, "dtype") else f"{value.dtype} {shape}"
        header.append(f"# {name}: a constant ({kind}), in Explanation.constants")
    fname = tr.function_name
    if not fname.isidentifier() or fname in w.names.taken:
        fname = "f"
    text = "\n".join(
        [*header, "", "", f"def {fname}({', '.join(params)}):", *("    " + b for b in body)]
    )
    return text + "\n", fname, w


def _backward(w: _Writer, tr: Trace, steps: list[Step], nums: list[int], out: int) -> list[str]:
    needs = {tr.inputs[k].index for k in nums}  # type: ignore[union-attr]
    for step in steps:
        if any(isinstance(a, Var) and a.index in needs for a in step.args):
            needs.add(step.out.index)
    grads: dict[int, str] = {}
    lines: list[str] = []
    seeded = out in needs and not steps  # the output is an input itself
    if out in needs and steps and tr.output.shape != ():  # type: ignore[union-attr]
        grads[out] = f"d{w.var[out]}"
        lines.append(f"{grads[out]} = np.ones_like({w.var[out]})")
        w.scope[grads[out]] = w.run(f"np.ones_like({w.var[out]})")
    groups: list[tuple[str, list[tuple[str, str, bool, Any]]]] = []
    for step in reversed(steps):
        k = step.out.index
        if k not in needs or not (k in grads or k == out):
            continue
        g = grads.get(k)  # None: the scalar output's own gradient, the seed 1
        ans = w.var[k]
        atoms = [w.operand(a) for a in step.args]
        values = [w.value(a) for a in step.args]
        made: list[tuple[str, str, bool, Any]] = []
        for i, a in enumerate(step.args):
            if not (isinstance(a, Var) and a.index in needs):
                continue
            rule = vjp_text(step, i, atoms, values, ans, g)
            if rule is None:
                if not _has_rule(step.prim, i):
                    continue
                rule = generic_vjp_text(step, i, atoms, ans, g, w.text), False
            value = w.run(rule[0])
            if value is None:
                continue
            expr, fresh, value = w.conform(rule[0], rule[1], value, a)
            target = f"d{w.var[a.index]}"
            if a.index in grads:
                w.scope[target] = w.scope[target] + value
            else:
                grads[a.index] = target
                w.scope[target] = value
            made.append((target, expr, fresh, value))
        line = forward_text(step, atoms, w.text)
        groups.append((f"# {ans} = {line}", made))
    count = Counter(target for _, made in groups for target, _, _, _ in made)
    seen: set[str] = set()
    for comment, made in groups:
        if made:
            lines.append(comment)
        for target, expr, fresh, value in made:
            if target in seen:
                lines.append(f"{target} += {expr}")
                continue
            seen.add(target)
            if count[target] > 1 and not fresh and isinstance(value, np.ndarray):
                expr = f"np.copy({expr})"  # += below must not write into what this aliases
            lines.append(f"{target} = {expr}")
    for k in nums:
        var = tr.inputs[k]
        assert isinstance(var, Var)
        if var.index not in grads:
            fill = "ones_like" if seeded and var.index == out else "zeros_like"
            grads[var.index] = f"d{w.var[var.index]}"
            lines.append(f"{grads[var.index]} = np.{fill}({w.var[var.index]})")
    return lines


def _owned(g: Any) -> Any:
    """Gradients handed back are arrays the caller owns (as cr.value_and_grad's)."""
    if isinstance(g, np.ndarray) and (g.base is not None or not g.flags.writeable):
        return g.copy()
    return np.asarray(g)


def _float_input(a: Any, k: int) -> np.ndarray:
    if isinstance(a, (tuple, list, dict)):
        raise TypeError(
            f"{_WHERE}: argument {k} is a {type(a).__name__}; cr.explain differentiates "
            "arrays and numbers (pass the arrays inside it as separate arguments)"
        )
    arr = np.array(a.data if isinstance(a, Tensor) else a)
    if arr.dtype.kind != "f":
        raise TypeError(
            f"{_WHERE}: argument {k} has dtype {arr.dtype}; gradients need floating-point "
            "inputs (pass it as floats, e.g. x.astype(float))"
        )
    return arr


class Explanation:
    """The program ``cr.explain`` wrote: its text, and the text run as a function.

    ``str(e)`` (and Jupyter's markdown) is the program; ``e(*args)`` runs it and
    returns ``(value, grads)`` as ``cr.value_and_grad`` does. ``forward_lines``
    and ``backward_lines`` are its statements (comments left out), ``constants``
    the arrays it refers to by name (``c0`` ...), ``namespace()`` what the text
    needs to run under ``exec``.

    >>> import numpy as np, chainrule as cr
    >>> e = cr.explain(lambda x: np.sum(x * x), np.array([1.0, 2.0]))
    >>> e.backward_lines
    ('dx_times_x = np.ones((2,))', 'dx = x * dx_times_x', 'dx += x * dx_times_x')
    >>> e(np.array([3.0, 4.0]))
    (np.float64(25.0), array([6., 8.]))
    """

    def __init__(self, text: str, writer: _Writer, tr: Trace, single: bool, name: str) -> None:
        self.text = text
        self.constants = dict(writer.constants)
        self._inputs = tr.inputs
        self._single = single
        body = [line.strip() for line in text.split("# forward pass", 1)[1].splitlines()]
        split = body.index("# backward pass")
        end = next(k for k, s in enumerate(body) if s.startswith("return "))
        self.forward_lines = tuple(s for s in body[:split] if s and not s.startswith("#"))
        self.backward_lines = tuple(s for s in body[split:end] if not s.startswith("#"))
        scope = self.namespace()
        exec(compile(text, f"<cr.explain of {name}>", "exec"), scope)
        self._fn = scope[name]

    def namespace(self) -> dict[str, Any]:
        """A fresh namespace to ``exec`` the text in: NumPy, the helpers, the constants."""
        return {"np": np, "_prim": _prim, "_vjp": _vjp, **self.constants}

    def __call__(self, *args: Any) -> tuple[Any, Any]:
        """Run the program: ``(value, gradient)``, a tuple of gradients for tuple argnums."""
        if len(args) != len(self._inputs):
            raise TypeError(
                f"{_WHERE}: the program takes {len(self._inputs)} argument(s), as the traced "
                f"call did; got {len(args)}"
            )
        call = []
        for k, (a, inp) in enumerate(zip(args, self._inputs, strict=True)):
            if isinstance(inp, Var):
                arr = _float_input(a, k)
                if arr.shape != inp.shape or arr.dtype != inp.dtype:
                    raise ValueError(
                        f"{_WHERE}: the program was written for argument {k} of shape "
                        f"{inp.shape} and dtype {inp.dtype}, got shape {arr.shape} and dtype "
                        f"{arr.dtype}; call cr.explain again for these arguments"
                    )
                call.append(arr)
            else:
                same = np.shape(a) == np.shape(inp.value) and bool(
                    np.all(np.asarray(a) == np.asarray(inp.value))
                )
                if not same:
                    raise ValueError(
                        f"{_WHERE}: argument {k} is built into the program as {inp.value!r} "
                        f"(it is not floating-point), got {a!r}; call cr.explain again"
                    )
                call.append(a)
        value, grads = self._fn(*call)
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value[()]
        if self._single:
            return value, _owned(grads)
        return value, tuple(_owned(g) for g in grads)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text

    def _repr_markdown_(self) -> str:
        return f"```python\n{self.text}```\n"


def explain(f: Callable[..., Any], *args: Any, argnums: int | tuple[int, ...] = 0) -> Explanation:
    """Write out ``f``'s forward and backward pass at ``args`` as lecture-style NumPy code.

    Returns an ``Explanation``: ``print`` it to read the program (one named line
    per operation, then a ``d``-prefixed gradient per intermediate, ``+=`` where
    gradients meet), call it as ``e(*args)`` to run it: ``(value, grads)`` as
    ``cr.value_and_grad(f, argnums)``. See the module docstring for how names
    are found and which patterns are written as a whole.

    >>> import numpy as np, chainrule as cr
    >>> def f(x, y):
    ...     s = x * y
    ...     return np.sin(s)
    >>> e = cr.explain(f, 2.0, 3.0, argnums=(0, 1))
    >>> print(e)
    import numpy as np
    <BLANKLINE>
    <BLANKLINE>
    def f(x, y):
        # forward pass
        s = x * y
        out = np.sin(s)
        # backward pass
        # out = np.sin(s)
        ds = np.cos(s)
        # s = x * y
        dx = y * ds
        dy = x * ds
        return out, (dx, dy)
    <BLANKLINE>
    >>> value, (dx, dy) = e(2.0, 3.0)
    >>> round(float(dx), 6), round(float(dy), 6)
    (2.880511, 1.920341)
    """
    if not callable(f):
        raise TypeError(f"{_WHERE}: f must be a function, got {type(f).__name__}")
    single = isinstance(argnums, int) and not isinstance(argnums, bool)
    nums_in: Any = [argnums] if single else argnums
    if not isinstance(nums_in, (tuple, list)) or not all(
        isinstance(k, int) and not isinstance(k, bool) and -len(args) <= k < len(args)
        for k in nums_in
    ):
        raise ValueError(
            f"{_WHERE}: argnums={argnums!r} does not fit a call with {len(args)} argument(s); "
            "give an int or a tuple of ints"
        )
    nums = [int(k) % len(args) for k in nums_in]
    values: list[Any] = list(args)
    for k in nums:
        values[k] = _float_input(args[k], k)
    for k, a in enumerate(args):
        if k not in nums and isinstance(a, (float, np.floating, np.ndarray, Tensor)):
            arr = np.array(a.data if isinstance(a, Tensor) else a)
            values[k] = arr if arr.dtype.kind == "f" else a
    tr = trace(f, values, _WHERE)
    out = tr.output
    shape = out.shape if isinstance(out, Var) else np.shape(out.value)
    if isinstance(out, Literal) and isinstance(out.value, (tuple, list)):
        raise TypeError(
            f"{_WHERE}: f must return a scalar, got a {type(out.value).__name__}; explain "
            "one scalar output at a time"
        )
    if int(np.prod(shape)) != 1:
        raise TypeError(
            f"{_WHERE}: f must return a scalar, got an output of shape {tuple(shape)}; reduce "
            "it (e.g. with np.sum) to explain its gradient"
        )
    text, fname, writer = _write(tr, values, nums, single)
    return Explanation(text, writer, tr, single, fname)
