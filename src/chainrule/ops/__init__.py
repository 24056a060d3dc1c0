"""The derivative rules, one module per NumPy family; importing them registers them.

See ``chainrule._registry`` for how to add a primitive.
"""

from . import (
    composites,
    decompositions,
    elementwise,
    fft,
    indexing,
    linalg,
    nondiff,
    reductions,
    shape,
    special,
)

__all__ = [
    "composites",
    "decompositions",
    "elementwise",
    "fft",
    "indexing",
    "linalg",
    "nondiff",
    "reductions",
    "shape",
    "special",
]
