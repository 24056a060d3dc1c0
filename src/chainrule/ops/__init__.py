"""The derivative rules, one module per NumPy family; importing them registers them.

See ``chainrule._registry`` for how to add a primitive.
"""

from . import (
    calculus,
    creation,
    decompositions,
    elementwise,
    fft,
    indexing,
    linalg,
    nondiff,
    norms,
    reductions,
    shape,
    special,
    statistics,
)

__all__ = [
    "calculus",
    "creation",
    "decompositions",
    "elementwise",
    "fft",
    "indexing",
    "linalg",
    "nondiff",
    "norms",
    "reductions",
    "shape",
    "special",
    "statistics",
]
