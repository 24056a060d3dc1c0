"""gradcheck: analytic derivatives against float64 central differences, with diagnoses.

The check contracts the outputs with a random upstream gradient ``u`` (never
all ones, so a backward that ignores ``dy`` cannot pass by luck) and compares
``d<u, f(x)>/dx`` from backward with finite differences; forward mode pushes a
random direction through ``cr.jvp`` and compares likewise. It never passes
having compared nothing: nan or inf anywhere (inputs, outputs, finite
differences, gradients, tangents) is an error that says where.

The pieces: ``_gradcheck_problem`` (the function, its inputs and finite
differences), ``_gradcheck_reverse`` (backward and the diagnoses of its usual
mistakes), ``_gradcheck_forward`` (the JVP and the dot-product test).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._backend import is_lazy
from ._gradcheck_forward import CouldNotRun, ModesApart, check_forward
from ._gradcheck_problem import NotFinite, Problem, first_non_finite, user_jvp, where
from ._gradcheck_reverse import check_reverse
from ._tensor import Tensor
from .errors import GradcheckError
from .function import Function
from .transforms import jvp, vjp

__all__ = ["gradcheck"]

MODES = ("rev", "fwd")

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
    modes: tuple[str, ...] | None = None,
) -> bool:
    """Check ``fn``'s derivatives against float64 central differences.

    ``fn`` is a ``cr.Function`` subclass or instance, or a function of Tensors
    written with NumPy calls. Every floating-point input is checked (in
    float64); other inputs are passed through unchanged. The outputs are
    contracted with a random upstream gradient (seeded by ``seed``). Returns
    ``True``, or raises ``cr.GradcheckError`` naming the input, the worst
    element and the likely mistake. Inputs with nan or inf raise
    ``ValueError``; a function, gradient or tangent that is not finite raises
    ``cr.GradcheckError`` saying where.

    Options: ``seed``; ``fast_mode=True`` compares random
    projections ``<u, J v>`` instead of full Jacobians (two evaluations per
    input, so large inputs check quickly); ``order=2`` also checks second
    derivatives; a float32/float16 input is also run in its own precision and
    must get a gradient of that dtype within ``dtype_tolerances`` (default:
    float32 (1e-3, 1e-2), float16 (1e-2, 5e-2)).

    ``modes`` is a tuple of ``"rev"`` and ``"fwd"`` (default: both).
    ``"rev"`` checks backward as above. ``"fwd"`` pushes a random direction
    ``v`` in each input through ``cr.jvp`` and compares ``J v`` with the
    central difference along ``v``; for a ``cr.Function`` that is its
    ``jvp()``, or else its backward transposed. With both, the dot-product test
    ``<J v, u> = <v, J^T u>`` ties the two together, and a Function whose
    ``jvp()`` and ``backward()`` disagree is told which one matches finite
    differences. With ``order=2`` the mixes checked are reverse over reverse,
    and with ``"fwd"`` also forward over reverse and reverse over forward
    (forward over forward is not supported by chainrule yet, so ``order=2``
    needs ``"rev"``).

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
    >>> cr.gradcheck(np.tanh, np.array([0.5, -1.0]), modes=("fwd",), order=1)
    True
    """
    for i, x in enumerate(inputs):
        data = x._data if isinstance(x, Tensor) else x
        if is_lazy(data):
            raise TypeError(
                f"cr.gradcheck: input {i} is a lazy {type(data).__name__}: finite differences "
                "evaluate fn hundreds of times on small perturbations, each a compute. Check "
                "the function on a small NumPy sample instead (x.compute(), or x[:100].compute())."
            )
    if order not in (1, 2):
        raise ValueError(f"gradcheck: order must be 1 or 2, got {order!r}")
    chosen = _modes(modes)
    if order == 2 and "rev" not in chosen:
        raise NotImplementedError(
            "gradcheck: order=2 with modes=('fwd',) would need forward over forward (cr.jvp "
            "inside cr.jvp), which chainrule does not support yet; add 'rev' to modes"
        )
    # nan and inf are reported as errors; NumPy's warnings about them would only add noise
    # (and fail a test suite that runs with warnings as errors).
    with np.errstate(all="ignore"):
        try:
            problem = Problem(fn, inputs, seed)
            _check_first_order(fn, problem, chosen, eps, atol, rtol, fast_mode)
            if "rev" in chosen:
                tolerances = DTYPE_TOLERANCES if dtype_tolerances is None else dtype_tolerances
                _check_low_precision(fn, inputs, problem, tolerances)
            if order == 2:
                _check_second_order(problem, chosen, eps, atol, rtol, seed, fast_mode)
        except NotFinite as e:
            raise GradcheckError(str(e)) from None
    return True


def _modes(modes: Any) -> tuple[str, ...]:
    if modes is None:
        return MODES
    chosen = (modes,) if isinstance(modes, str) else modes
    try:
        chosen = tuple(chosen)
    except TypeError:
        chosen = ()
    if not chosen or any(m not in MODES for m in chosen):
        raise ValueError(
            f"gradcheck: modes must be a non-empty tuple of 'rev' and 'fwd', got {modes!r}"
        )
    return tuple(m for m in MODES if m in chosen)


def _check_first_order(
    fn: Any,
    problem: Problem,
    modes: tuple[str, ...],
    eps: float,
    atol: float,
    rtol: float,
    fast_mode: bool,
) -> None:
    """Each requested mode against finite differences; failures of both are reported
    together, saying which mode matched."""
    name = problem.name
    label = f"{name}.jvp()" if user_jvp(fn) else "cr.jvp"
    rev_error = fwd_error = None
    reverse = None
    if "rev" in modes:
        try:
            reverse = check_reverse(problem, eps, atol, rtol, fast_mode)
        except NotFinite:
            raise
        except GradcheckError as e:
            rev_error = e
    if "fwd" in modes:
        try:
            check_forward(problem, eps, atol, rtol, label, reverse)
        except NotFinite:
            raise
        except GradcheckError as e:
            fwd_error = e
    if rev_error is None and fwd_error is None:
        return
    message = _combined(fn, name, rev_error, fwd_error, both=len(modes) == 2)
    raise GradcheckError(message) from (rev_error or fwd_error)


def _combined(
    fn: Any,
    name: str,
    rev_error: GradcheckError | None,
    fwd_error: GradcheckError | None,
    both: bool,
) -> str:
    """One message for the failures of the two modes, saying which one matched finite
    differences where that singles out the mistake."""
    own_jvp = user_jvp(fn)
    if rev_error is None or fwd_error is None:
        alone = str(rev_error or fwd_error)
        if not both or isinstance(fwd_error, (CouldNotRun, ModesApart)):
            return alone
        if own_jvp:
            right, wrong = ("jvp()", "backward()") if rev_error else ("backward()", "jvp()")
            return (
                f"{name}: jvp() and backward() disagree: {right} matches finite differences, "
                f"{wrong} does not.\n{alone}"
            )
        if rev_error is not None:
            return (
                f"{alone}\n  (forward mode matches finite differences: the mistake is in the "
                "reverse pass)"
            )
        return alone
    if own_jvp and not isinstance(fwd_error, CouldNotRun):
        return (
            f"{name}: jvp() and backward() both disagree with finite differences.\n"
            f"{rev_error}\n{fwd_error}"
        )
    is_function = isinstance(fn, Function) or (isinstance(fn, type) and issubclass(fn, Function))
    if is_function and not own_jvp and not isinstance(fwd_error, CouldNotRun):
        return (
            f"{rev_error}\n{fwd_error}\n  ({name} has no jvp(): its forward mode is its "
            "backward transposed, so it inherits the backward's mistake)"
        )
    return f"{rev_error}\n{fwd_error}"


def _check_low_precision(fn: Any, inputs: tuple, problem: Problem, tolerances: dict) -> None:
    """Inputs given in float32/float16 are also differentiated in their own precision."""
    low = [i for i in problem.checked if _input_dtype(inputs[i]) in tolerances]
    if not low:
        return
    dtypes = sorted({str(_input_dtype(inputs[i])) for i in low})
    try:
        own = Problem(fn, tuple(_keep_dtype(x) for x in inputs), 0, keep_dtypes=True)
    except NotFinite as e:
        raise GradcheckError(
            f"gradcheck failed for {problem.name} in {', '.join(dtypes)}: finite in float64, "
            f"it is not in the inputs' own precision (an overflow?). {e}"
        ) from None
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
        found = first_non_finite(g)
        if found is not None:
            j, kind, _ = found
            raise GradcheckError(
                f"gradcheck failed for {problem.name}, input {i} in {dtype}: the gradient "
                f"computed in {dtype} is {kind} at element {where(g.shape, j)} where the "
                f"float64 one is {ref.flat[j]:.6g} (an overflow in {dtype}?)"
            )
        atol, rtol = tolerances[dtype]
        err = np.abs(g.astype(np.float64) - ref)
        if np.any(err > atol + rtol * np.abs(ref)):
            worst = int(np.argmax(err))
            raise GradcheckError(
                f"gradcheck failed for {problem.name}, input {i} in {dtype}: the gradient "
                f"computed in {dtype} differs from the float64 one beyond ({atol}, {rtol}); "
                f"worst element {where(g.shape, worst)}: {g.flat[worst]:.6g} vs "
                f"{ref.flat[worst]:.6g}"
            )


def _check_second_order(
    problem: Problem,
    modes: tuple[str, ...],
    eps: float,
    atol: float,
    rtol: float,
    seed: int,
    fast_mode: bool,
) -> None:
    """The first derivative, as a function of the inputs, checked by gradcheck in turn:
    its reverse mode and forward mode are the second-order mixes."""

    def check(f: Callable[..., Any], mode: str, mix: str) -> None:
        try:
            gradcheck(
                f,
                *problem.inputs,
                eps=eps,
                atol=atol,
                rtol=rtol,
                seed=seed + 1,
                fast_mode=fast_mode,
                modes=(mode,),
            )
        except GradcheckError as e:
            raise GradcheckError(f"second order (order=2), {mix}: {e}") from e

    gradient = _gradient_function(problem)
    check(gradient, "rev", "reverse over reverse (the gradient of the gradient)")
    if "fwd" in modes:
        check(gradient, "fwd", "forward over reverse (the JVP of the gradient)")
        check(_jvp_function(problem), "rev", "reverse over forward (the gradient of the JVP)")
        # Forward over forward (the JVP function checked with modes=("fwd",)) is left out:
        # cr.jvp inside cr.jvp raises NotImplementedError in chainrule today. Add the
        # check here when chainrule supports it.


def _split(problem: Problem, xs: tuple) -> tuple[Callable[..., tuple], tuple]:
    """fn of the checked inputs alone (the others fixed at ``xs``), and those inputs."""
    return problem.of_checked(list(xs)), tuple(xs[k] for k in problem.checked)


def _gradient_function(problem: Problem) -> Callable[..., tuple]:
    """x -> J(x)^T u: the VJP with the fixed upstream gradient, one result per input."""
    upstream = tuple(problem.upstream)

    def gradient(*xs: Any) -> tuple:
        f, primals = _split(problem, xs)
        _, pullback = vjp(f, *primals)
        return tuple(pullback(upstream))

    gradient.__name__ = f"the gradient of {problem.name}"
    return gradient


def _jvp_function(problem: Problem) -> Callable[..., tuple]:
    """x -> J(x) w: the JVP along a fixed random direction w, one result per output."""
    w = tuple(problem.rng.standard_normal(problem.inputs[i].shape) for i in problem.checked)

    def tangent(*xs: Any) -> tuple:
        f, primals = _split(problem, xs)
        _, tangents = jvp(f, primals, w)
        return tuple(tangents)

    tangent.__name__ = f"the JVP of {problem.name}"
    return tangent


def _input_dtype(x: Any) -> Any:
    data = x._data if isinstance(x, Tensor) else x
    return data.dtype if isinstance(data, (np.ndarray, np.generic)) else None


def _keep_dtype(x: Any) -> Any:
    return x._data if isinstance(x, Tensor) else x
