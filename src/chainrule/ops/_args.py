"""Argument checks shared by the NumPy-function implementations."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._registry import qualified_name


def reject(func: Any, kwargs: dict[str, Any], allowed: tuple[str, ...] = ()) -> None:
    """Raise a TypeError naming ``func`` for keyword arguments chainrule cannot differentiate."""
    bad = [k for k, v in kwargs.items() if k not in allowed and v is not None]
    if bad:
        raise TypeError(
            f"{qualified_name(func)} on a Tensor does not support the keyword argument(s) "
            f"{', '.join(sorted(bad))}"
            + (" (out= would write behind the tape's back)" if "out" in bad else "")
        )


def normalize_axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, int or tuple, possibly negative) as sorted non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    return tuple(sorted(axis_index(a, ndim) for a in axes))


def axis_index(axis: Any, ndim: int) -> int:
    """One axis as a non-negative int, with NumPy's error when it is out of range."""
    a = int(axis)
    if not -ndim <= a < ndim:
        raise np.exceptions.AxisError(a, ndim)
    return a % ndim
