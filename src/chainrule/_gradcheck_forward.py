"""gradcheck in forward mode: the JVP against finite differences, and against backward.

For each checked input ``i``, a random direction ``v`` (zero in the other
inputs) is pushed through ``cr.jvp``; every element of ``J v`` must match the
central difference of the outputs along ``v``. With backward's gradient of
``<u, f>`` at hand, the dot-product test ``<J v, u> = <v, J^T u>`` then ties
the two modes together.
"""

from __future__ import annotations

import numpy as np

from ._gradcheck_problem import Problem, first_non_finite, where
from ._gradcheck_reverse import pattern
from .errors import BackwardError, GradcheckError
from .transforms import jvp


class CouldNotRun(GradcheckError):
    """Forward mode raised rather than computing a JVP: nothing was compared, so this
    is no disagreement with backward."""


class ModesApart(GradcheckError):
    """Forward and reverse mode each match finite differences within tolerance but not
    each other (the dot-product test): neither is singled out as the wrong one."""


def check_forward(
    problem: Problem,
    eps: float,
    atol: float,
    rtol: float,
    label: str,
    reverse: list[np.ndarray] | None = None,
) -> None:
    """Raise GradcheckError unless the JVP matches finite differences (and, given
    backward's gradients ``reverse``, passes the dot-product test). ``label`` names
    what computes the JVP in messages."""
    f = problem.of_checked()
    primals = tuple(problem.inputs[i] for i in problem.checked)
    failures = []
    dots = []
    for k, i in enumerate(problem.checked):
        v = problem.rng.standard_normal(primals[k].shape)
        numeric = [np.asarray(n, np.float64).ravel() for n in problem.directional(i, v, eps)]
        tangents = tuple(v if m == k else np.zeros_like(p) for m, p in enumerate(primals))
        try:
            _, computed = jvp(f, primals, tangents)
        except (BackwardError, ValueError, TypeError) as e:
            # fn itself ran at this point, so the forward-mode machinery failed: a jvp()
            # returning malformed tangents, or a backward that cannot be transposed.
            raise CouldNotRun(
                f"gradcheck failed for {problem.name}, input {i}, forward mode: {label} could "
                f"not run ({type(e).__name__}: {e}). Pass modes=('rev',) to check reverse "
                "mode only."
            ) from e
        tans = [np.asarray(t, np.float64).ravel() for t in computed]
        head = (
            f"gradcheck failed for {problem.name}, input {i} (shape {primals[k].shape}), "
            f"forward mode: "
        )
        failure = _non_finite(problem, tans, label) or _compare(
            problem, tans, numeric, atol, rtol, label
        )
        if failure is not None:
            failures.append(head + failure)
        elif reverse is not None:
            mismatch = _dot_test(problem, tans, v, reverse[k], atol, rtol, label)
            if mismatch is not None:
                dots.append(head + mismatch)
    if failures:
        raise GradcheckError("\n".join(failures + dots))
    if dots:
        raise ModesApart("\n".join(dots))


def _dot_test(
    problem: Problem,
    tans: list[np.ndarray],
    v: np.ndarray,
    gradient: np.ndarray,
    atol: float,
    rtol: float,
    label: str,
) -> str | None:
    """<J v, u> from the JVP against <v, J^T u> from backward's gradient."""
    u = np.concatenate([u.ravel() for u in problem.upstream])
    jv = np.concatenate(tans)
    lhs, rhs = float(np.sum(jv * u)), float(np.sum(v * gradient))
    # Relative to the size of the terms summed, which cancel in a sum that is near 0.
    scale = max(float(np.sum(np.abs(jv * u))), float(np.sum(np.abs(v * gradient))))
    if abs(lhs - rhs) <= atol + rtol * scale:
        return None
    return (
        f"{label} and backward disagree (the dot-product test): along a random direction v "
        f"and upstream gradient u, <J v, u> from {label} is {lhs:.9g} but <v, J^T u> from "
        f"backward is {rhs:.9g}, though each is within tolerance of finite differences."
    )


def _non_finite(problem: Problem, tans: list[np.ndarray], label: str) -> str | None:
    for o, (t, shape) in enumerate(zip(tans, problem.out_shapes, strict=True)):
        found = first_non_finite(t)
        if found is not None:
            j, kind, count = found
            return (
                f"{label} returned {kind} at output {o}, element {where(shape, j)} "
                f"({count} of {t.size} elements are not finite), where {problem.name} is finite "
                "along the same direction."
            )
    return None


def _compare(
    problem: Problem,
    tans: list[np.ndarray],
    numeric: list[np.ndarray],
    atol: float,
    rtol: float,
    label: str,
) -> str | None:
    a, n = np.concatenate(tans), np.concatenate(numeric)
    err = np.abs(a - n)
    bad = err > atol + rtol * np.abs(n)
    if not bad.any():
        return None
    worst = int(np.argmax(np.where(bad, err, -1.0)))
    o = int(np.searchsorted(np.cumsum([t.size for t in tans]), worst, side="right"))
    within = worst - sum(t.size for t in tans[:o])
    detail = (
        f"\n  worst: output {o}, element {where(problem.out_shapes[o], within)}: JVP "
        f"{a[worst]:.6g}, numerical {n[worst]:.6g} (|difference| {err[worst]:.3g} > tolerance "
        f"{atol + rtol * abs(n[worst]):.3g}); {int(bad.sum())} of {a.size} output elements differ"
    )

    def close(x: np.ndarray, y: np.ndarray) -> bool:
        return bool(np.all(np.abs(x - y) <= atol + rtol * np.abs(y)))

    found = pattern(a, n, close)
    what = f"the JVP J v from {label}, along a random direction v in this input, "
    if found is not None:
        return what + "is " + found + detail
    return what + "disagrees with finite differences along v." + detail
