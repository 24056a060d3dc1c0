"""gradcheck: analytic gradients against float64 central differences, with diagnoses.

The check contracts the outputs with a random upstream gradient ``u`` (never
all ones, so a backward that ignores ``dy`` cannot pass by luck) and compares
``d<u, f(x)>/dx`` from backward with finite differences. On a mismatch it
tests the usual hand-written-backward mistakes as hypotheses and names the one
that explains the numbers.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from . import _mode
from ._tensor import Tensor
from .errors import FunctionBackwardError, GradcheckError
from .function import Function

__all__ = ["gradcheck"]


def _caller(fn: Any) -> tuple[Callable[..., Any], str]:
    if inspect.isclass(fn) and issubclass(fn, Function):
        return (lambda *a: fn()(*a)), fn.__name__
    if isinstance(fn, Function):
        return fn, type(fn).__name__
    if callable(fn):
        return fn, getattr(fn, "__name__", type(fn).__name__)
    raise TypeError(f"gradcheck: fn must be a cr.Function or a callable, got {type(fn).__name__}")


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


class _Problem:
    """fn, its inputs in float64, and the random upstream gradients."""

    def __init__(self, fn: Any, inputs: tuple, seed: int, keep_dtypes: bool = False) -> None:
        self.call, self.name = _caller(fn)
        self.inputs = list(inputs)
        self.checked = [i for i, x in enumerate(inputs) if _is_checked(x)]
        if not self.checked:
            raise TypeError(
                "gradcheck: no floating-point input to check; pass the inputs as float arrays"
            )
        for i in self.checked:
            x = inputs[i]._data if isinstance(inputs[i], Tensor) else inputs[i]
            self.inputs[i] = np.array(x) if keep_dtypes else np.array(x, dtype=np.float64)
        self.rng = np.random.default_rng(seed)
        outs = self.outputs(self.inputs)
        self.out_shapes = [o.shape for o in outs]
        self.out_dtypes = [o.dtype for o in outs]
        self.upstream = [self.rng.standard_normal(s) for s in self.out_shapes]

    def outputs(self, values: list, requires_grad: bool = False) -> list[Any]:
        """Run fn; return its floating outputs' data (Tensors with graphs if requires_grad)."""
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
            elif isinstance(o, (np.ndarray, np.generic, float)):
                raise GradcheckError(
                    f"gradcheck: output {k} of {self.name} is a plain {type(o).__name__}, not "
                    "a Tensor: the computation was not recorded (was a Tensor converted to "
                    "NumPy along the way?)"
                )
        if not checked:
            raise GradcheckError(f"gradcheck: {self.name} returned no floating-point Tensor output")
        return checked

    def analytic(self, upstream: list) -> list[np.ndarray]:
        """Gradients of <upstream, f(x)> from backward, one per checked input."""
        args = [
            Tensor(v, requires_grad=True) if i in self.checked else v
            for i, v in enumerate(self.inputs)
        ]
        result = self.call(*args)
        outs = list(result) if isinstance(result, (tuple, list)) else [result]
        outs = [o for o in outs if isinstance(o, Tensor) and o.dtype.kind == "f"]
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
        columns = []
        with _mode.no_grad():
            for j in range(x.size):
                plus, minus = self._perturbed(i, j, eps), self._perturbed(i, j, -eps)
                outs_p, outs_m = self.outputs(plus), self.outputs(minus)
                columns.append(
                    np.concatenate(
                        [((p - m) / (2 * eps)).ravel() for p, m in zip(outs_p, outs_m, strict=True)]
                    )
                )
        total = sum(int(np.prod(s)) for s in self.out_shapes)
        return np.array(columns).reshape(x.size, total)

    def one_sided(self, i: int, j: int, eps: float) -> tuple[float, float]:
        """Left and right difference quotients of <u, f> at element j of input i."""
        with _mode.no_grad():
            base = self._contract(self.outputs(self.inputs))
            right = (self._contract(self.outputs(self._perturbed(i, j, eps))) - base) / eps
            left = (base - self._contract(self.outputs(self._perturbed(i, j, -eps)))) / eps
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

    def _contract(self, outs: list) -> float:
        return float(sum(np.sum(o * u) for o, u in zip(outs, self.upstream, strict=True)))

    def flat_upstream(self, upstream: list) -> np.ndarray:
        return np.concatenate([u.ravel() for u in upstream])


# Tolerances for the extra check of each input in its own lower precision.
DTYPE_TOLERANCES: dict[Any, tuple[float, float]] = {
    np.dtype(np.float32): (1e-3, 1e-2),
    np.dtype(np.float16): (1e-2, 5e-2),
}


def gradcheck(
    fn: Any,
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
    fast_mode: bool = False,
    order: int = 1,
    dtype_tolerances: dict[Any, tuple[float, float]] | None = None,
) -> bool:
    """Check ``fn``'s analytic gradients against float64 central differences.

    ``fn`` is a ``cr.Function`` subclass or instance, or a function of Tensors
    written with NumPy calls. Every floating-point input is checked (in
    float64); other inputs are passed through unchanged. The outputs are
    contracted with a random upstream gradient (seeded by ``seed``). Returns
    ``True``, or raises ``cr.GradcheckError`` naming the input, the worst
    element and the likely mistake.

    Extensions of API.md: ``seed``; ``fast_mode=True`` compares random
    projections ``<u, J v>`` instead of full Jacobians (two evaluations per
    input, so large inputs check quickly); ``order=2`` also checks second
    derivatives (the gradient of the VJP); a float32/float16 input is also run
    in its own precision and must get a gradient of that dtype within
    ``dtype_tolerances`` (default: float32 (1e-3, 1e-2), float16 (1e-2, 5e-2)).

    >>> import numpy as np, chainrule as cr
    >>> class Sigmoid(cr.Function):
    ...     def forward(self, x):
    ...         y = 1 / (1 + np.exp(-x))
    ...         self.save_for_backward(y)
    ...         return y
    ...     def backward(self, dy):
    ...         y, = self.saved_tensors
    ...         return y * (1 - y)          # forgot dy
    >>> cr.gradcheck(Sigmoid, np.array([1.0, 2.0, 3.0]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    chainrule.errors.GradcheckError: gradcheck failed for Sigmoid, input 0 ...ignores...
    """
    if order not in (1, 2):
        raise ValueError(f"gradcheck: order must be 1 or 2, got {order!r}")
    problem = _Problem(fn, inputs, seed)
    if fast_mode:
        _check_fast(problem, eps, atol, rtol)
    else:
        _check_full(problem, eps, atol, rtol)
    tolerances = DTYPE_TOLERANCES if dtype_tolerances is None else dtype_tolerances
    _check_low_precision(fn, inputs, problem, tolerances)
    if order == 2:
        _check_second_order(fn, inputs, problem, eps, atol, rtol, seed, fast_mode)
    return True


def _check_full(problem: _Problem, eps: float, atol: float, rtol: float) -> None:
    try:
        analytic = problem.analytic(problem.upstream)
    except FunctionBackwardError as e:
        raise GradcheckError(_shape_diagnosis(problem, e)) from e
    failures = []
    for i, a in zip(problem.checked, analytic, strict=True):
        jac = problem.jacobian(i, eps)
        numeric = (jac @ problem.flat_upstream(problem.upstream)).reshape(a.shape)
        bad = np.abs(a - numeric) > atol + rtol * np.abs(numeric)
        if bad.any():
            failures.append(_diagnose(problem, i, a, numeric, jac, bad, eps, atol, rtol))
    if failures:
        raise GradcheckError("\n".join(failures))


# Inputs up to this size get the full per-element diagnosis when the fast check fails.
_DIAGNOSE_UP_TO = 2_000


def _check_fast(problem: _Problem, eps: float, atol: float, rtol: float) -> None:
    """<u, J v> from backward against the directional finite difference, per input."""
    try:
        analytic = problem.analytic(problem.upstream)
    except FunctionBackwardError as e:
        raise GradcheckError(_shape_diagnosis(problem, e)) from e
    for i, a in zip(problem.checked, analytic, strict=True):
        v = problem.rng.standard_normal(a.shape)
        predicted = float(np.sum(a * v))
        with _mode.no_grad():
            plus = problem._contract(problem.outputs(problem._shifted(i, eps * v)))
            minus = problem._contract(problem.outputs(problem._shifted(i, -eps * v)))
        measured = (plus - minus) / (2 * eps)
        if abs(predicted - measured) > atol * max(1.0, np.sqrt(a.size)) + rtol * abs(measured):
            if a.size <= _DIAGNOSE_UP_TO:
                _check_full(problem, eps, atol, rtol)  # raises with the per-element diagnosis
            raise GradcheckError(
                f"gradcheck (fast mode) failed for {problem.name}, input {i} (shape {a.shape}): "
                f"along a random direction v, <u, J v> from backward is {predicted:.6g} but "
                f"finite differences give {measured:.6g}. Rerun with fast_mode=False on a "
                "smaller input for a per-element diagnosis."
            )


def _check_low_precision(fn: Any, inputs: tuple, problem: _Problem, tolerances: dict) -> None:
    """Inputs given in float32/float16 are also differentiated in their own precision."""
    low = [i for i in problem.checked if _input_dtype(inputs[i]) in tolerances]
    if not low:
        return
    own = _Problem(fn, tuple(_keep_dtype(x) for x in inputs), 0, keep_dtypes=True)
    own.upstream = [u.astype(own.out_dtypes[k]) for k, u in enumerate(problem.upstream)]
    grads = own.analytic(own.upstream)
    reference = problem.analytic(problem.upstream)
    for i, g, ref in zip(problem.checked, grads, reference, strict=True):
        dtype = _input_dtype(inputs[i])
        if dtype not in tolerances:
            continue
        if g.dtype != dtype:
            raise GradcheckError(
                f"gradcheck failed for {problem.name}, input {i}: given as {dtype}, its gradient "
                f"came back as {g.dtype}; gradients must keep the input's dtype"
            )
        atol, rtol = tolerances[dtype]
        err = np.abs(g.astype(np.float64) - ref)
        if np.any(err > atol + rtol * np.abs(ref)):
            worst = int(np.argmax(err))
            raise GradcheckError(
                f"gradcheck failed for {problem.name}, input {i} in {dtype}: the gradient "
                f"computed in {dtype} differs from the float64 one beyond ({atol}, {rtol}); "
                f"worst element {_where(g.shape, worst)}: {g.flat[worst]:.6g} vs "
                f"{ref.flat[worst]:.6g}"
            )


def _check_second_order(
    fn: Any,
    inputs: tuple,
    problem: _Problem,
    eps: float,
    atol: float,
    rtol: float,
    seed: int,
    fast_mode: bool,
) -> None:
    """gradgradcheck: the VJP with a fixed upstream gradient, checked as a function."""
    from .transforms import vjp

    call, name = problem.call, problem.name
    checked = problem.checked
    upstream = problem.upstream
    single = len(upstream) == 1

    def first_order(*xs: Any) -> Any:
        def only_checked(*floats: Any) -> Any:
            full = list(xs)
            for k, f in zip(checked, floats, strict=True):
                full[k] = f
            result = call(*full)
            outs = list(result) if isinstance(result, (tuple, list)) else [result]
            outs = [o for o in outs if isinstance(o, Tensor) and o.dtype.kind == "f"]
            return outs[0] if single else tuple(outs)

        _, pullback = vjp(only_checked, *[xs[k] for k in checked])
        grads = pullback(upstream[0] if single else tuple(upstream))
        return tuple(grads)

    first_order.__name__ = f"the gradient of {name}"
    try:
        gradcheck(
            first_order,
            *problem.inputs,
            eps=eps,
            atol=atol,
            rtol=rtol,
            seed=seed + 1,
            fast_mode=fast_mode,
        )
    except GradcheckError as e:
        raise GradcheckError(f"second order (order=2): {e}") from e


def _input_dtype(x: Any) -> Any:
    data = x._data if isinstance(x, Tensor) else x
    return data.dtype if isinstance(data, (np.ndarray, np.generic)) else None


def _keep_dtype(x: Any) -> Any:
    return x._data if isinstance(x, Tensor) else x


def _where(shape: tuple[int, ...], flat: int) -> str:
    return str([int(k) for k in np.unravel_index(flat, shape)]) if shape else "[]"


def _diagnose(
    p: _Problem,
    i: int,
    a: np.ndarray,
    n: np.ndarray,
    jac: np.ndarray,
    bad: np.ndarray,
    eps: float,
    atol: float,
    rtol: float,
) -> str:
    shape = a.shape
    err = np.abs(a - n)
    worst = int(np.argmax(np.where(bad, err, -1.0)))
    head = f"gradcheck failed for {p.name}, input {i} (shape {shape}): "
    detail = (
        f"\n  worst element {_where(shape, worst)}: analytic {a.flat[worst]:.6g}, "
        f"numerical {n.flat[worst]:.6g} (|difference| {err.flat[worst]:.3g} > tolerance "
        f"{atol + rtol * abs(n.flat[worst]):.3g}); {int(bad.sum())} of {a.size} elements differ"
    )

    def close(x: np.ndarray, y: np.ndarray) -> bool:
        return bool(np.all(np.abs(x - y) <= atol + rtol * np.abs(y)))

    # A kink: the one-sided derivatives disagree at every failing element, so no
    # single number is "the" gradient there.
    failing = np.flatnonzero(bad)[:20]
    kinks = []
    for j in failing:
        left, right = p.one_sided(i, int(j), eps)
        if abs(left - right) > 10 * (atol + rtol * max(abs(left), abs(right))):
            kinks.append((int(j), left, right))
    if len(kinks) == len(failing):
        j, left, right = kinks[0]
        return (
            head
            + (
                f"element {_where(shape, j)} sits on a non-differentiable point (a kink): the "
                f"derivative from the left is {left:.6g} and from the right {right:.6g}, so finite "
                f"differences cannot check it; the analytic value {a.flat[j]:.6g} may be a valid "
                "choice. This is not a wrong gradient: move the test point off the kink."
            )
            + detail
        )

    if not np.any(a) and np.any(n):
        return head + "the backward returned no gradient (None or zeros) for this input." + detail
    other = [p.rng.standard_normal(s) for s in p.out_shapes]
    a_other = p.analytic(other)[p.checked.index(i)]
    n_other = (jac @ p.flat_upstream(other)).reshape(shape)
    n_ones = jac.sum(axis=1).reshape(shape)
    if close(a, a_other) and not close(n, n_other):
        local = (
            " (it equals the local derivative alone, as if dy were 1)" if close(a, n_ones) else ""
        )
        return (
            head
            + (
                "the backward ignores its upstream gradient dy: its result does not change when "
                f"dy does{local}. By the chain rule it must return dy times the local derivative "
                "(for example `return dy * y * (1 - y)`, not `return y * (1 - y)`)."
            )
            + detail
        )
    if close(a, -n):
        return (
            head + "the gradient has the wrong sign: it is the negative of the true one." + detail
        )
    if a.ndim == 2 and a.shape[0] == a.shape[1] and close(a.T, n) and not close(n.T, n):
        return (
            head
            + (
                "the gradient is transposed: its transpose matches (for a matrix product, "
                "dW = X.T @ dY rather than dY.T @ X)."
            )
            + detail
        )
    denom = float(np.vdot(n, n))
    if denom > 0:
        factor = float(np.vdot(a, n)) / denom
        if abs(factor - 1) > 1e-2 and close(a, factor * n):
            return (
                head
                + (
                    f"the gradient is off by a constant factor: it is {factor:.4g} times the true "
                    "one (a missing or extra factor such as 2 or 1/2, or a mean where a sum "
                    "belongs)."
                )
                + detail
            )
    return head + "the analytic gradient disagrees with finite differences." + detail


def _shape_diagnosis(p: _Problem, e: FunctionBackwardError) -> str:
    head = f"gradcheck failed for {p.name}"
    expected, actual = e.expected_shape, e.actual_shape
    if e.index is None or expected is None or actual is None:
        return f"{head}: {e}"
    head += f", input {e.index} (shape {expected}): "
    try:
        broadcast = np.broadcast_shapes(expected, actual) == actual
    except ValueError:
        broadcast = False
    if broadcast:
        extra = len(actual) - len(expected)
        axes = list(range(extra)) + [
            extra + k for k, s in enumerate(expected) if s == 1 and actual[extra + k] != 1
        ]
        return head + (
            f"the backward returned a gradient of shape {actual}, the shape of the broadcast "
            f"result, instead of {expected}: it is missing the reduction over the broadcast "
            f"axes. Sum dy over axes {tuple(axes)} (keeping size-1 axes) before returning it."
        )
    if tuple(reversed(expected)) == actual:
        return head + (
            f"the backward returned a gradient of shape {actual} for an input of shape "
            f"{expected}: it is transposed (for a matrix product, dW = X.T @ dY rather than "
            "dY.T @ X)."
        )
    return head + str(e)
