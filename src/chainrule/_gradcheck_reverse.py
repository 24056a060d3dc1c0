"""gradcheck in reverse mode: backward against finite differences, and the diagnoses.

On a mismatch the usual hand-written-backward mistakes are tested as
hypotheses, and the message names the one that explains the numbers.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._gradcheck_problem import Problem, first_non_finite, where
from .errors import FunctionBackwardError, GradcheckError

# Inputs up to this size get the full per-element diagnosis when the fast check fails.
DIAGNOSE_UP_TO = 2_000


def check_reverse(
    problem: Problem, eps: float, atol: float, rtol: float, fast_mode: bool
) -> list[np.ndarray]:
    """Raise GradcheckError unless backward matches finite differences; return the
    analytic gradients of <u, f> (one per checked input) for the other checks."""
    try:
        analytic = problem.analytic(problem.upstream)
    except FunctionBackwardError as e:
        raise GradcheckError(shape_diagnosis(problem, e)) from e
    for i, a in zip(problem.checked, analytic, strict=True):
        _require_finite_gradient(problem, i, a, eps)
    if fast_mode:
        _check_fast(problem, analytic, eps, atol, rtol)
    else:
        _check_full(problem, analytic, eps, atol, rtol)
    return analytic


def _require_finite_gradient(problem: Problem, i: int, a: np.ndarray, eps: float) -> None:
    found = first_non_finite(a)
    if found is None:
        return
    j, kind, count = found
    # The finite difference there first: where the function itself is not finite nearby
    # (sqrt at 0), that is the diagnosis, not the backward.
    numeric = float(problem.column(i, j, eps) @ problem.flat_upstream(problem.upstream))
    raise GradcheckError(
        f"gradcheck failed for {problem.name}, input {i} (shape {a.shape}): the backward "
        f"returned {kind} at element {where(a.shape, j)} ({count} of {a.size} elements are "
        f"not finite), where {problem.name} is finite and finite differences give "
        f"{numeric:.6g}. Look in backward for 0/0, log(0), inf * 0 or a nan constant."
    )


def _check_full(
    problem: Problem, analytic: list[np.ndarray], eps: float, atol: float, rtol: float
) -> None:
    u = problem.flat_upstream(problem.upstream)
    jacobians = [problem.jacobian(i, eps) for i in problem.checked]
    numerics = [(j @ u).reshape(a.shape) for j, a in zip(jacobians, analytic, strict=True)]
    failures = []
    for k, i in enumerate(problem.checked):
        a, n = analytic[k], numerics[k]
        bad = np.abs(a - n) > atol + rtol * np.abs(n)
        if bad.any():
            # The other inputs' true gradients, to recognise one returned in the wrong slot.
            others = {c: numerics[m] for m, c in enumerate(problem.checked) if m != k}
            failures.append(_diagnose(problem, i, a, n, jacobians[k], bad, others, eps, atol, rtol))
    if failures:
        raise GradcheckError("\n".join(failures))


def _check_fast(
    problem: Problem, analytic: list[np.ndarray], eps: float, atol: float, rtol: float
) -> None:
    """<u, J v> from backward against the directional finite difference, per input."""
    for i, a in zip(problem.checked, analytic, strict=True):
        v = problem.rng.standard_normal(a.shape)
        predicted = float(np.sum(a * v))
        measured = problem.contract(problem.directional(i, v, eps))
        if abs(predicted - measured) > atol * max(1.0, np.sqrt(a.size)) + rtol * abs(measured):
            if a.size <= DIAGNOSE_UP_TO:
                _check_full(problem, analytic, eps, atol, rtol)  # the per-element diagnosis
            raise GradcheckError(
                f"gradcheck (fast mode) failed for {problem.name}, input {i} (shape {a.shape}): "
                f"along a random direction v, <u, J v> from backward is {predicted:.6g} but "
                f"finite differences give {measured:.6g}. Rerun with fast_mode=False on a "
                "smaller input for a per-element diagnosis."
            )


def pattern(a: np.ndarray, n: np.ndarray, close: Callable[..., bool]) -> str | None:
    """The simple relations between a computed derivative ``a`` and the true one ``n``
    that name a mistake: zero, negated, scaled by a constant. A phrase to follow
    "the gradient is", or None."""
    if not np.any(a) and np.any(n):
        return "zero, where the true one is not."
    if close(a, -n):
        return "of the wrong sign: it is the negative of the true one."
    denom = float(np.vdot(n, n))
    if denom > 0:
        factor = float(np.vdot(a, n)) / denom
        if abs(factor - 1) > 1e-2 and close(a, factor * n):
            return (
                f"off by a constant factor: it is {factor:.4g} times the true one (a missing "
                "or extra factor such as 2 or 1/2, or a mean where a sum belongs)."
            )
    return None


def _diagnose(
    p: Problem,
    i: int,
    a: np.ndarray,
    n: np.ndarray,
    jac: np.ndarray,
    bad: np.ndarray,
    others: dict[int, np.ndarray],
    eps: float,
    atol: float,
    rtol: float,
) -> str:
    shape = a.shape
    err = np.abs(a - n)
    worst = int(np.argmax(np.where(bad, err, -1.0)))
    head = f"gradcheck failed for {p.name}, input {i} (shape {shape}): "
    detail = (
        f"\n  worst element {where(shape, worst)}: analytic {a.flat[worst]:.6g}, "
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
                f"element {where(shape, j)} sits on a non-differentiable point (a kink): the "
                f"derivative from the left is {left:.6g} and from the right {right:.6g}, so finite "
                f"differences cannot check it; the analytic value {a.flat[j]:.6g} may be a valid "
                "choice. This is not a wrong gradient: move the test point off the kink."
            )
            + detail
        )

    if not np.any(a) and np.any(n):
        return head + "the backward returned no gradient (None or zeros) for this input." + detail
    for k, n_k in others.items():
        if n_k.shape == shape and close(a, n_k):
            return (
                head
                + (
                    f"its gradient is the true gradient of input {k}: the backward returns the "
                    "gradients in the wrong order, or differentiates with respect to the wrong "
                    "variable."
                )
                + detail
            )
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
    found = pattern(a, n, close)
    if found is not None:
        return head + "the gradient is " + found + detail
    if a.ndim == 2 and a.shape[0] == a.shape[1] and close(a.T, n) and not close(n.T, n):
        return (
            head
            + (
                "the gradient is transposed: its transpose matches (for a matrix product, "
                "dW = X.T @ dY rather than dY.T @ X)."
            )
            + detail
        )
    return head + "the analytic gradient disagrees with finite differences." + detail


def shape_diagnosis(p: Problem, e: FunctionBackwardError) -> str:
    """What a backward's wrongly shaped gradient most likely means."""
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
    if actual in p.out_shapes:
        return head + (
            f"the backward returned a gradient of shape {actual}, the shape of the output (of "
            f"dy), for an input of shape {expected}: it must map dy back onto the input (after "
            "a sum or mean, broadcast dy over the reduced axes)."
        )
    return head + str(e)
