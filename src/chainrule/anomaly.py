"""Anomaly mode: find the operation that first produced nan or inf, and where.

Off by default and free when off: the hot path checks one thread-local number
that also covers forward mode. Under ``detect_anomaly()`` every recorded node
keeps the line of user code that created it, and each forward result and each
backward gradient is checked.
"""

from __future__ import annotations

import contextlib
import linecache
import sys
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from . import _mode
from .errors import AnomalyError

__all__ = ["detect_anomaly"]

_PACKAGE = str(Path(__file__).resolve().parent)


class detect_anomaly(contextlib.ContextDecorator):
    """Context manager and decorator: raise at the first nan/inf a primitive produces.

    In the forward pass, a primitive whose inputs are finite but whose output
    is not; in the backward pass, a rule whose upstream gradient is finite but
    whose result is not. The error names the primitive and shows the line of
    user code that created the node. Costs nothing when not in use.

    >>> import numpy as np, chainrule as cr
    >>> x = cr.tensor([1.0, 0.0], requires_grad=True)
    >>> with cr.detect_anomaly(), np.errstate(divide="ignore"):
    ...     y = np.log(x)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    chainrule.errors.AnomalyError: forward pass: 'log' produced inf or nan from finite inputs...
    """

    def __new__(cls, func: Any = None) -> Any:  # also @cr.detect_anomaly without parentheses
        self = super().__new__(cls)
        return self(func) if func is not None else self

    def __enter__(self) -> None:
        state = _mode.state
        state.anomaly += 1
        state.refresh()

    def __exit__(self, *exc: object) -> None:
        state = _mode.state
        state.anomaly -= 1
        state.refresh()


def user_site() -> str:
    """'file:line in function: code' for the innermost frame outside chainrule."""
    frame: Any = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
    if frame is None:
        return "(unknown location)"
    code = frame.f_code
    line = linecache.getline(code.co_filename, frame.f_lineno).strip()
    return f'File "{code.co_filename}", line {frame.f_lineno}, in {code.co_name}\n    {line}'


def _finite(x: Any) -> bool:
    data = getattr(x, "_data", x)
    if isinstance(data, (np.ndarray, np.generic)) and data.dtype.kind in "fc":
        return bool(np.all(np.isfinite(data)))
    if isinstance(data, (float, complex)):
        return bool(np.isfinite(data))
    return True


def check_forward(result: Any, prim: Any, args: tuple) -> None:
    """Called for each recorded operation under detect_anomaly."""
    site = user_site()
    node = result._node
    if node is not None:
        node.site = site
        if prim.reads_inputs:
            # Plain arrays cannot count their writes as Tensors do: remember their bytes.
            node.checksums = tuple(
                (i, _checksum(a)) for i, a in enumerate(args) if type(a) is np.ndarray
            )
    if not _finite(result) and all(_finite(a) for a in args):
        raise AnomalyError(
            f"forward pass: '{prim.name}' produced inf or nan from finite inputs. The node was "
            f"created at:\n  {site}"
        )


def check_backward(node: Any, index: int, g: Any, gi: Any, args: tuple) -> None:
    """Called for each gradient a rule returns, under detect_anomaly: blame the rule only
    when everything it was given (upstream gradient, saved inputs and output) is finite."""
    if _finite(gi) or not _finite(g):
        return
    if all(_finite(a) for a in args) and (node.out is None or _finite(node.out)):
        site = getattr(node, "site", None) or "(created before detect_anomaly was entered)"
        raise AnomalyError(
            f"backward pass: the gradient rule of '{node.prim.name}' for input {index} returned "
            f"inf or nan from a finite upstream gradient. The node was created at:\n  {site}"
        )


def _checksum(a: np.ndarray) -> int:
    return zlib.crc32(np.ascontiguousarray(a).tobytes())


def check_saved(node: Any, saved: tuple) -> None:
    """Under detect_anomaly, before a node's rules run: the plain arrays it saved still
    hold the values they had when it was recorded."""
    for i, checksum in getattr(node, "checksums", ()):
        if _checksum(saved[i]) != checksum:
            site = getattr(node, "site", None) or "(unknown)"
            raise AnomalyError(
                f"backward through '{node.prim.name}': its input {i}, a NumPy array of shape "
                f"{saved[i].shape}, was changed in place after the graph saved it, so the "
                "gradient would be wrong. Don't write into an array after handing it to a "
                "recorded operation: pass a copy, or write after backward(). The node was "
                f"created at:\n  {site}"
            )
