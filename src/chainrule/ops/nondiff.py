"""The non-differentiable list: NumPy ufuncs and functions whose results carry no gradient.

They run on the data and return constant Tensors (or plain Python values).
Piecewise-constant functions (floor, sign, comparisons, argmax ...) have
gradient zero almost everywhere; chainrule records nothing for them instead
of recording zeros.
"""

from __future__ import annotations

import numpy as np

from .._registry import METADATA_FUNCTIONS, NONDIFF_FUNCTIONS, NONDIFF_UFUNCS


def _present(*names: str) -> list:
    """NumPy objects by name, skipping those this NumPy version lacks."""
    return [getattr(np, n) for n in names if hasattr(np, n)]


NONDIFF_UFUNCS.update(
    _present(
        # rounding and sign
        "floor",
        "ceil",
        "rint",
        "trunc",
        "sign",
        "signbit",
        "floor_divide",
        "heaviside",
        "spacing",
        "nextafter",
        # comparisons and predicates
        "equal",
        "not_equal",
        "less",
        "less_equal",
        "greater",
        "greater_equal",
        "isfinite",
        "isinf",
        "isnan",
        "isnat",
        "logical_and",
        "logical_or",
        "logical_xor",
        "logical_not",
        # integer and bit operations
        "bitwise_and",
        "bitwise_or",
        "bitwise_xor",
        "bitwise_not",
        "bitwise_invert",
        "bitwise_count",
        "invert",
        "left_shift",
        "right_shift",
        "bitwise_left_shift",
        "bitwise_right_shift",
        "gcd",
        "lcm",
    )
)

NONDIFF_FUNCTIONS.update(
    _present(
        "round",
        "around",
        "fix",
        "argmax",
        "argmin",
        "argsort",
        "argwhere",
        "nonzero",
        "flatnonzero",
        "count_nonzero",
        "searchsorted",
        "digitize",
        "bincount",
        "unique",
        "isclose",
        "allclose",
        "array_equal",
        "array_equiv",
        "all",
        "any",
        "isreal",
        "iscomplex",
        "isneginf",
        "isposinf",
        "zeros_like",
        "ones_like",
        "empty_like",
        "full_like",
        "histogram",
        "sort_complex",
        "lexsort",
        "nanargmax",
        "nanargmin",
        "isin",
        "in1d",
        "packbits",
        "unpackbits",
        # index builders and set operations: integer or structural results
        "argpartition",
        "ix_",
        "diag_indices_from",
        "tril_indices_from",
        "triu_indices_from",
        "ravel_multi_index",
        "unravel_index",
        "union1d",
        "intersect1d",
        "setdiff1d",
        "setxor1d",
        "unique_all",
        "unique_counts",
        "unique_inverse",
        "unique_values",
        # counts in bins (the bin edges move only with the data's range)
        "histogram2d",
        "histogramdd",
        "histogram_bin_edges",
        # a contraction order, not values
        "einsum_path",
    )
)
# A rank is an integer: no gradient.
NONDIFF_FUNCTIONS.add(np.linalg.matrix_rank)

METADATA_FUNCTIONS.update(
    _present(
        "shape",
        "ndim",
        "size",
        "result_type",
        "iscomplexobj",
        "isrealobj",
        "can_cast",
        "min_scalar_type",
        "may_share_memory",
        "shares_memory",
        "common_type",
    )
)
