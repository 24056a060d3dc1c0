"""gradcheck's view of the function under test: its inputs, outputs and finite differences.

Every evaluation is checked for nan and inf, so that no comparison is ever made
against a number that is not one (NumPy's comparisons are False for nan, which
would let a check pass having compared nothing).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from . import _mode
from ._tensor import Tensor
from .errors import GradcheckError
from .function import Function


class NotFinite(GradcheckError):
    """The function is not finite at or near the point: no mode can be checked there.

    Raised inside gradcheck's checks; ``gradcheck`` re-raises it at once as a plain
    ``GradcheckError`` rather than comparing anything else."""


def caller(fn: Any) -> tuple[Callable[..., Any], str]:
    """How to call ``fn`` on Tensors, and its name for messages."""
    if inspect.isclass(fn) and issubclass(fn, Function):
        return (lambda *a: fn()(*a)), fn.__name__
    if isinstance(fn, Function):
        return fn, type(fn).__name__
    if callable(fn):
        return fn, getattr(fn, "__name__", type(fn).__name__)
    raise TypeError(f"gradcheck: fn must be a cr.Function or a callable, got {type(fn).__name__}")


def user_jvp(fn: Any) -> bool:
    """Whether ``fn`` is a Function with a hand-written ``jvp()`` (else its forward mode
    is its backward transposed, or the primitives' own rules)."""
    is_function = (inspect.isclass(fn) and issubclass(fn, Function)) or isinstance(fn, Function)
    return is_function and getattr(fn, "jvp", None) is not None


def _is_checked(x: Any) -> bool:
    if isinstance(x, Tensor):
        return x.dtype.kind == "f"
    if isinstance(x, (np.ndarray, np.generic)):
        return x.dtype.kind == "f"
    if isinstance(x, float):
        return True
    if isinstance(x, (list, tuple)):
        try:
            return np.asarray(x).dtype.kind == "f"
        except (TypeError, ValueError):
            return False
    return False


def where(shape: tuple[int, ...], flat: int) -> str:
    """The multi-index of flat position ``flat`` in ``shape``, as ``[i, j]``."""
    return str([int(k) for k in np.unravel_index(flat, shape)]) if shape else "[]"


def first_non_finite(a: np.ndarray) -> tuple[int, str, int] | None:
    """(flat index, 'NaN', 'inf' or '-inf', count) of the first nan or inf in ``a``, or None."""
    bad = ~np.isfinite(a)
    if not bad.any():
        return None
    j = int(np.flatnonzero(bad)[0])
    value = a.flat[j]
    return j, "NaN" if np.isnan(value) else "inf" if value > 0 else "-inf", int(bad.sum())


def floating_outputs(result: Any) -> list[Any]:
    """fn's floating-point Tensor outputs, in order (integer outputs carry no gradient)."""
    outs = list(result) if isinstance(result, (tuple, list)) else [result]
    return [o for o in outs if isinstance(o, Tensor) and o.dtype.kind == "f"]


class Problem:
    """fn, its inputs in float64, and the random upstream gradients."""

    def __init__(self, fn: Any, inputs: tuple, seed: int, keep_dtypes: bool = False) -> None:
        self.call, self.name = caller(fn)
        self.inputs = list(inputs)
        self.checked = [i for i, x in enumerate(inputs) if _is_checked(x)]
        if not self.checked:
            raise TypeError(
                "gradcheck: no floating-point input to check; pass the inputs as float arrays"
            )
        for i in self.checked:
            x = inputs[i]._data if isinstance(inputs[i], Tensor) else inputs[i]
            self.inputs[i] = np.array(x) if keep_dtypes else np.array(x, dtype=np.float64)
            found = first_non_finite(self.inputs[i])
            if found is not None:
                j, kind, count = found
                raise ValueError(
                    f"gradcheck: input {i} of {self.name} contains {kind} at element "
                    f"{where(self.inputs[i].shape, j)} ({count} of {self.inputs[i].size} "
                    "elements are not finite); no gradient can be checked there. Pass finite "
                    "values (no nan or inf)."
                )
        self.rng = np.random.default_rng(seed)
        outs = self.outputs(self.inputs, at="at the given point")
        self.out_shapes = [o.shape for o in outs]
        self.out_dtypes = [o.dtype for o in outs]
        self.upstream = [self.rng.standard_normal(s) for s in self.out_shapes]

    def outputs(self, values: list, at: str, requires_grad: bool = False) -> list[Any]:
        """Run fn; return its floating outputs' data (Tensors with graphs if requires_grad).

        ``at`` says where ``values`` lie, for the message when an output is not finite."""
        args = [
            Tensor(v, requires_grad=requires_grad) if i in self.checked else v
            for i, v in enumerate(values)
        ]
        result = self.call(*args)
        outs = list(result) if isinstance(result, (tuple, list)) else [result]
        checked = []
        for k, o in enumerate(outs):
            if isinstance(o, Tensor):
                if o.dtype.kind == "f":
                    checked.append(o if requires_grad else o._data)
                    self._require_finite(o._data, k, at)
            elif isinstance(o, (np.ndarray, np.generic, float)):
                raise GradcheckError(
                    f"gradcheck: output {k} of {self.name} is a plain {type(o).__name__}, not "
                    "a Tensor: the computation was not recorded (was a Tensor converted to "
                    "NumPy along the way?)"
                )
        if not checked:
            raise GradcheckError(f"gradcheck: {self.name} returned no floating-point Tensor output")
        return checked

    def _require_finite(self, out: np.ndarray, k: int, at: str) -> None:
        found = first_non_finite(np.asarray(out))
        if found is None:
            return
        j, kind, count = found
        hint = (
            "Pick a point inside the function's domain."
            if at == "at the given point"
            else "The point lies within eps of the edge of the function's domain (log or sqrt "
            "near 0, say), so finite differences cannot check it: move the point inward or "
            "pass a smaller eps."
        )
        raise NotFinite(
            f"gradcheck: {self.name} is not finite {at}: output {k} is {kind} at element "
            f"{where(np.shape(out), j)} ({count} of {np.size(out)} elements are not finite), "
            f"so there is no derivative to compare. {hint}"
        )

    def analytic(self, upstream: list) -> list[np.ndarray]:
        """Gradients of <upstream, f(x)> from backward, one per checked input."""
        args = [
            Tensor(v, requires_grad=True) if i in self.checked else v
            for i, v in enumerate(self.inputs)
        ]
        outs = floating_outputs(self.call(*args))
        for k, (o, u) in enumerate(zip(outs, upstream, strict=True)):
            if o.requires_grad:
                o.backward(u, retain_graph=k < len(outs) - 1)
        grads = []
        for i in self.checked:
            g = args[i].grad
            grads.append(np.zeros_like(self.inputs[i]) if g is None else np.asarray(g))
        return grads

    def jacobian(self, i: int, eps: float) -> np.ndarray:
        """Central-difference Jacobian of all outputs (flattened) w.r.t. input i (flattened)."""
        x = self.inputs[i]
        columns = [self.column(i, j, eps) for j in range(x.size)]
        total = sum(int(np.prod(s)) for s in self.out_shapes)
        return np.array(columns).reshape(x.size, total)

    def column(self, i: int, j: int, eps: float) -> np.ndarray:
        """Central difference of all outputs (flattened) in element j of input i."""
        at = f"near the given point (input {i}, element {where(self.inputs[i].shape, j)} moved by "
        with _mode.no_grad():
            plus = self.outputs(self._perturbed(i, j, eps), at + "+eps)")
            minus = self.outputs(self._perturbed(i, j, -eps), at + "-eps)")
        quotients = [(p - m) / (2 * eps) for p, m in zip(plus, minus, strict=True)]
        self._require_finite_quotients(quotients, at + "+-eps)")
        return np.concatenate([q.ravel() for q in quotients])

    def directional(self, i: int, v: np.ndarray, eps: float) -> list[np.ndarray]:
        """Central differences of each output along direction v in input i."""
        at = f"near the given point (input {i} moved by +-eps along a random direction)"
        with _mode.no_grad():
            plus = self.outputs(self._shifted(i, eps * v), at)
            minus = self.outputs(self._shifted(i, -eps * v), at)
        quotients = [(p - m) / (2 * eps) for p, m in zip(plus, minus, strict=True)]
        self._require_finite_quotients(quotients, at)
        return quotients

    def _require_finite_quotients(self, quotients: list, at: str) -> None:
        """Finite outputs can still be too large to difference (overflow to inf)."""
        for k, q in enumerate(quotients):
            found = first_non_finite(np.asarray(q))
            if found is not None:
                j, kind, _ = found
                raise NotFinite(
                    f"gradcheck: the finite differences of {self.name} {at} are not finite: "
                    f"output {k} at element {where(np.shape(q), j)} gives {kind} (its values are "
                    "too large to difference), so there is nothing to compare. Scale the "
                    "function or the point down."
                )

    def one_sided(self, i: int, j: int, eps: float) -> tuple[float, float]:
        """Left and right difference quotients of <u, f> at element j of input i."""
        at = f"near the given point (input {i}, element {where(self.inputs[i].shape, j)} moved)"
        with _mode.no_grad():
            base = self.contract(self.outputs(self.inputs, at))
            right = (self.contract(self.outputs(self._perturbed(i, j, eps), at)) - base) / eps
            left = (base - self.contract(self.outputs(self._perturbed(i, j, -eps), at))) / eps
        return left, right

    def _shifted(self, i: int, delta: np.ndarray) -> list:
        values = list(self.inputs)
        values[i] = values[i] + delta
        return values

    def _perturbed(self, i: int, j: int, delta: float) -> list:
        values = list(self.inputs)
        x = values[i].copy()
        x.reshape(-1)[j] += delta
        values[i] = x
        return values

    def contract(self, outs: list) -> float:
        """<upstream, outs>, summed over the outputs."""
        return float(sum(np.sum(o * u) for o, u in zip(outs, self.upstream, strict=True)))

    def flat_upstream(self, upstream: list) -> np.ndarray:
        return np.concatenate([u.ravel() for u in upstream])

    def of_checked(self, values: list | None = None) -> Callable[..., tuple]:
        """fn as a function of the checked inputs only, returning its floating outputs as a
        tuple (what cr.jvp and cr.vjp take); the other inputs are fixed."""
        fixed = list(self.inputs if values is None else values)
        checked, call = self.checked, self.call

        def only_checked(*floats: Any) -> tuple:
            full = list(fixed)
            for k, f in zip(checked, floats, strict=True):
                full[k] = f
            return tuple(floating_outputs(call(*full)))

        return only_checked
