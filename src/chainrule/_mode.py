"""Grad mode: whether operations on Tensors are recorded on the tape.

The flag is thread-local so that one thread evaluating under ``no_grad`` never
stops another thread's recording.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import numpy as np

__all__ = ["enable_grad", "is_grad_enabled", "no_grad", "set_grad_enabled"]


class _GradState(threading.local):
    def __init__(self) -> None:
        self.enabled = True
        self.saved: list[bool] = []  # previous flags of the managers entered on this thread
        # Forward mode: the number of active forward levels (> 0 while a jvp runs, so
        # primitives compute tangents). One integer check per operation is all that forward
        # mode costs when it is off. Each level (a jvp, an hvp) has a tag of its own, an
        # object no other level shares, by which Tensors key their tangents: levels[:forward]
        # are the active ones, outermost first. A tangent left on a Tensor by a level that
        # ended never matches a later level, so sibling and nested jvps cannot confuse
        # their perturbations.
        self.forward = 0
        self.levels: list[object] = []
        # previous (depth, levels) of the forward_mode blocks entered, as `saved` above
        self.saved_forward: list[tuple[int, list[object]]] = []
        # Whether tangents of recorded results are recorded too, so that reverse mode can
        # differentiate them (grad of jvp). A top-level hvp turns this off: nothing
        # differentiates its forward tangents, and recording them costs a graph per op.
        self.tangent_graphs = True
        # Anomaly mode (detect_anomaly) depth.
        self.anomaly = 0
        # Callbacks that see each recorded operation (cr.on_record), innermost last.
        self.observers: tuple = ()
        # Derived by refresh(), which whoever changes enabled, forward, anomaly or
        # observers calls: extra (their sum) covers any extra work per operation, and plain
        # (enabled and no extra) is the one flag the hot path reads for the common case.
        self.extra = 0
        self.plain = True
        # True while a backward sweep runs (NumPy warnings are already silenced there).
        self.quiet = False
        # Transforms running on this thread (grad inside grad returns Tensors).
        self.transforms = 0
        # cr.compile's tracer while it traces a function on this thread (see
        # staging/_capture.py): it sees every primitive application, every non-differentiable
        # call and every read of a value into Python, so it is part of `extra`.
        self.tracer: Any = None

    def refresh(self) -> None:
        self.extra = self.forward + self.anomaly + len(self.observers) + (self.tracer is not None)
        self.plain = self.enabled and not self.extra


state = _GradState()


def is_grad_enabled() -> bool:
    """Return whether operations are being recorded on this thread.

    >>> import chainrule as cr
    >>> with cr.no_grad():
    ...     cr.is_grad_enabled()
    False
    """
    return state.enabled


class set_grad_enabled(contextlib.ContextDecorator):
    """Context manager and decorator that sets recording on or off on this thread.

    >>> import chainrule as cr
    >>> with cr.set_grad_enabled(False):
    ...     cr.is_grad_enabled()
    False
    """

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)

    def __enter__(self) -> None:
        # The previous flag lives in the thread-local stack, not on self: one
        # decorated function may run on several threads at once.
        state.saved.append(state.enabled)
        state.enabled = self.mode
        state.refresh()

    def __exit__(self, *exc: object) -> None:
        state.enabled = state.saved.pop()
        state.refresh()


class _BareDecorator(set_grad_enabled):
    """Also usable without parentheses: ``@cr.no_grad`` as well as ``@cr.no_grad()``."""

    def __new__(cls, func: Any = None) -> Any:
        self = super().__new__(cls)
        if func is not None:
            if not callable(func):
                raise TypeError(f"{cls.__name__}() takes no arguments (got {func!r})")
            self.__init__()  # type: ignore[misc]
            return self(func)
        return self


class no_grad(_BareDecorator):
    """Switch recording off: results are plain constants that carry no gradient.

    Works as a context manager and as a decorator.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> with cr.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """

    def __init__(self, func: Any = None) -> None:
        super().__init__(False)


class enable_grad(_BareDecorator):
    """Switch recording back on, for example inside a ``no_grad`` block.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> with cr.no_grad(), cr.enable_grad():
    ...     (x * 2).requires_grad
    True
    """

    def __init__(self, func: Any = None) -> None:
        super().__init__(True)


class forward_mode(contextlib.ContextDecorator):
    """Internal: a new forward level inside this block, whose tag ``__enter__`` returns;
    or, with False, no tangents at all (a pause)."""

    def __init__(self, on: bool = True) -> None:
        self.on = on

    def __enter__(self) -> object:
        state.saved_forward.append((state.forward, state.levels))
        if not self.on:
            set_forward(0)
            return None
        tag = object()
        state.levels = [*state.levels[: state.forward], tag]
        set_forward(len(state.levels))
        return tag

    def __exit__(self, *exc: object) -> None:
        depth, state.levels = state.saved_forward.pop()
        set_forward(depth)


def set_forward(depth: int) -> int:
    """Set this thread's forward-mode depth (0: off) and return the previous one.

    The cheap form of ``forward_mode`` for the per-operation tangent code.
    """
    previous = state.forward
    state.forward = depth
    state.refresh()
    return previous


def silenced(func: Any) -> Any:
    """``func`` with NumPy's floating-point warnings off while it runs: chainrule's own
    rules (backward, tangents) add no warnings; nan and inf propagate as in NumPy."""
    if np.lib.NumpyVersion(np.__version__) >= "2.0.0":
        # NumPy 2's errstate decorator sets the state per call (thread-safe, reentrant)
        # at half the cost of a `with np.errstate()` block.
        return np.errstate(all="ignore")(func)

    def silent(*args: Any) -> Any:  # NumPy 1's decorator shares one state object
        with np.errstate(all="ignore"):
            return func(*args)

    return silent
