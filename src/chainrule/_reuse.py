"""Writing into buffers nobody else holds: the engine's buffer reuse and the recorder's
temporary elision.

The sweep may write into an array that only it holds: a gradient a rule just made,
or a saved value of a node being released that no Tensor, node or view refers to.
"Only it holds" is read from the reference count. ``SOLE_REFS`` is the count ``refs``
sees for an array held by one variable; each function between the holder and ``own``
adds one (its argument), which the callers pass as ``holders``. A self-test at import
checks this arithmetic on the running interpreter and turns reuse off if it fails.
"""

import sys
from typing import Any

import numpy as np

__all__ = ["REUSE_FROM", "accumulate", "enabled", "free_buffers", "refs"]

# The reference count; -1 where the interpreter keeps none (PyPy), which turns both
# buffer reuse and temporary elision off.
refs = getattr(sys, "getrefcount", lambda a: -1)


def _probe_sole_refs() -> int:
    a = np.empty(1)
    return refs(a)


SOLE_REFS = _probe_sole_refs()
REUSE_FROM = 1 << 15  # elements: for smaller arrays allocating beats checking


def own(a: Any, holders: int) -> bool:
    """Whether ``a`` is an array with its own memory that only the caller's
    ``holders`` variables (counted through the call chain) refer to."""
    return (
        enabled
        and type(a) is np.ndarray
        and a.base is None
        and a.flags.writeable
        and refs(a) == SOLE_REFS + holders
    )


def accumulate(total: Any, g: Any) -> Any:
    """total + g, in place when only the caller's variable holds ``total`` (a fresh
    array that a rule made) and it is big enough that the allocation matters."""
    if (
        type(total) is np.ndarray
        and total.size >= 1024
        and total.shape == g.shape
        and own(total, 2)  # the caller's variable and this function's argument
    ):
        return np.add(total, g, out=total)
    return total + g


def free_buffers(g: Any, ans: Any, args: tuple) -> tuple:
    """For a node being released: which of its upstream gradient, output and inputs
    (each of g's shape and dtype) only the caller's variables hold, so that a rule may
    overwrite them. Each is held by one caller variable (``args`` by its tuple) and by
    this function's argument (or loop variable)."""
    shape, dtype = g.shape, g.dtype
    free = [own(g, 2), own(ans, 2) and ans.dtype == dtype]
    for a in args:
        free.append(own(a, 2) and a.shape == shape and a.dtype == dtype)
    return tuple(free)


def _reuse_self_test() -> bool:
    """Run the two checks above on arrays known to be sole or shared."""
    g, shared, n = np.ones(1024), np.ones(1024), np.ones(1024)
    keep = [shared]  # a second holder
    args = (n, shared)
    del n
    if free_buffers(g, shared, args) != (True, False, True, False):
        return False
    total = np.ones(1024)
    return accumulate(total, g) is total and accumulate(keep[0], g) is not keep[0]


enabled = True  # for the self-test
enabled = _reuse_self_test()
