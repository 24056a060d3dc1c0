"""The derivative rules, one module per NumPy family; importing them registers them.

See ``chainrule._registry`` for how to add a primitive.
"""

from . import (
    arrays,
    bessel,
    calculus,
    creation,
    decompositions,
    elementwise,
    fft,
    indexing,
    linalg,
    linalg_api,
    nondiff,
    norms,
    polynomials,
    reductions,
    shape,
    special,
    statistics,
)

__all__ = [
    "arrays",
    "bessel",
    "calculus",
    "creation",
    "decompositions",
    "elementwise",
    "fft",
    "indexing",
    "linalg",
    "linalg_api",
    "nondiff",
    "norms",
    "polynomials",
    "reductions",
    "shape",
    "special",
    "statistics",
]
