"""Temporary elision: an operation writes its result into a temporary input's array.

In `a * b + c`, the product is a temporary: once the sum is computed nobody can see
it. As NumPy does for its own temporaries, an operation whose rules do not read its
inputs may then write its result into the temporary's array, saving an allocation
(and its page faults) on large arrays. A Tensor is a temporary when the reference
count says only the expression being evaluated holds it and only it holds its
array. The counts depend on the call path and the interpreter: calibrate_elision()
measures them at import on known temporaries, checks that named tensors are told
apart (Python 3.14's borrowed references may not allow it), and otherwise leaves
elision off.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _mode
from ._reuse import refs
from ._tensor import Tensor

__all__ = ["ELIDE_FROM", "calibrate_elision", "elided2", "temporary"]

_ndarray = np.ndarray
_grad_state = _mode.state
ELIDE_FROM = 1 << 15  # elements: 256 KiB of float64, NumPy's own threshold
TEMP_REFS: dict[str, tuple[int, int]] = {}  # call path -> counts of a temporary, its array
_calibrating: list | None = None


def temporary(t: Tensor, data: Any, path: str) -> bool:
    """Whether the result may be written into ``t``'s array ``data``."""
    if _calibrating is not None:
        _calibrating.append((refs(t), refs(data)))
        return False
    return (
        t._node is not None  # a leaf is someone's variable
        and _grad_state.plain  # forward and anomaly modes read the inputs after the op
        and data.base is None
        and data.flags.writeable
        and data.dtype.kind in "fc"
        and (refs(t), refs(data)) == TEMP_REFS.get(path)
    )


def _fits(data: Any, other: Any) -> bool:
    """Whether ``data``'s array can hold the result of a binary ufunc with ``other``."""
    return (
        type(data) is _ndarray
        and data.size >= ELIDE_FROM
        and (
            type(other) in (float, int)
            or (
                getattr(other, "dtype", None) == data.dtype
                and np.broadcast_shapes(np.shape(other), data.shape) == data.shape
            )
        )
    )


def elided2(prim: Any, x: Any, xd: Any, y: Any, yd: Any, via: str) -> Any:
    """prim(xd, yd), into a temporary input's array when one can take the result."""
    path = via + "2"
    if type(x) is Tensor and _fits(xd, yd) and temporary(x, xd, path):
        return prim.elide(xd, yd, out=xd)
    if type(y) is Tensor and _fits(yd, xd) and temporary(y, yd, path):
        return prim.elide(xd, yd, out=yd)
    return prim.fun(xd, yd)


def calibrate_elision() -> None:
    """Measure the reference counts of temporaries on this interpreter (see above)."""
    leaf = Tensor(np.ones(ELIDE_FROM), requires_grad=True)
    made: list[int] = []

    def temporary() -> Tensor:
        t = leaf * 2.0  # multiply keeps its inputs, not its output: a private array
        made.append(id(t._data))
        return t

    named = temporary()
    kept = named._data.copy()
    checks: dict[str, Any] = {  # call path -> (expressions on temporaries, on the named one)
        "op2": ((lambda: temporary() + 1.0, lambda: 1.0 - temporary()), lambda: named + 1.0),
        "op1": ((lambda: -temporary(),), lambda: -named),
        "ufunc1": ((lambda: np.exp(temporary()),), lambda: np.exp(named)),
    }
    counts = {}
    for path, (on_temporaries, on_named) in checks.items():
        seen = [_observed(run) for run in on_temporaries]
        if len(set(seen)) != 1 or len(seen[0]) != 1 or _observed(on_named) == seen[0]:
            return  # no one count for temporaries, or named tensors look the same
        counts[path] = seen[0][0]
    TEMP_REFS.update(counts)
    # End to end: temporaries are written into, the named tensor never.
    for on_temporaries, on_named in checks.values():
        elided = all(id(run()._data) == made[-1] for run in on_temporaries)
        result = on_named()
        if not elided or result._data is named._data or not np.array_equal(named._data, kept):
            TEMP_REFS.clear()
            return


def _observed(run: Any) -> tuple:
    """The counts temporary() sees while ``run()`` runs (it decides nothing meanwhile)."""
    global _calibrating
    _calibrating = []
    try:
        run()
        return tuple(_calibrating)
    finally:
        _calibrating = None
