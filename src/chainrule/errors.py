"""The exceptions chainrule raises on purpose."""

from __future__ import annotations

__all__ = [
    "AnomalyError",
    "BackwardError",
    "FunctionBackwardError",
    "GradcheckError",
    "StagingError",
]


class BackwardError(RuntimeError):
    """A backward pass cannot run: the graph was released, the head gradient is
    malformed, or the tensor does not require grad."""


class FunctionBackwardError(BackwardError):
    """A custom ``cr.Function`` returned malformed gradients from ``backward``.

    Carries what gradcheck needs to diagnose the mistake: the class name, the
    input index and the expected and actual shapes.
    """

    def __init__(
        self,
        message: str,
        *,
        function: str = "",
        index: int | None = None,
        expected_shape: tuple[int, ...] | None = None,
        actual_shape: tuple[int, ...] | None = None,
    ) -> None:
        super().__init__(message)
        self.function = function
        self.index = index
        self.expected_shape = expected_shape
        self.actual_shape = actual_shape


class GradcheckError(AssertionError):
    """``cr.gradcheck`` found analytic gradients that disagree with finite differences.

    The message names the input, the worst element and, where it can tell, the
    mistake (upstream gradient ignored, wrong sign, missing reduction over
    broadcast axes, transpose, constant factor, non-differentiable point).
    """


class AnomalyError(FloatingPointError):
    """Under ``cr.detect_anomaly()``: a primitive produced nan or inf from finite values.

    The message names the primitive, the pass (forward or backward) and the
    line of user code that created the node.
    """


class StagingError(TypeError):
    """``cr.compile`` cannot write what a function did out as a program: an in-place
    write into an argument, ``np.asarray`` of a traced value, a custom Function,
    random draws inside the function, ``t.backward()``. The message names it and
    says what to do instead.

    >>> import numpy as np, chainrule as cr
    >>> try:
    ...     cr.compile(lambda x: np.asarray(x) + 1.0)(np.ones(2))
    ... except cr.StagingError as e:
    ...     print(str(e).split(":")[1])
     np.asarray(t) of a traced value
    """
