"""Arrays of other libraries (Dask, CuPy, ...) as a Tensor's data.

NumPy forwards ``np.*`` calls to any array that implements ``__array_function__`` and
``__array_ufunc__`` (NEP 13/18), so the rules run unchanged on such data. What this
module owns is the few places that must *not* go through NumPy: recognising such an
array without converting it, and the errors for what does not carry over (in-place
writes into Dask data, Python control flow on lazy values).

Callers test ``type(x) is np.ndarray`` first; everything here is the slow branch, never
reached for NumPy data.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "as_array",
    "foreign_data",
    "foreign_head",
    "is_foreign",
    "is_lazy",
    "is_numpy",
    "lazy_error",
    "zeros",
]


def is_foreign(x: Any) -> bool:
    """Whether ``x`` is another library's array that speaks NumPy's protocols (kept as is).

    Tensors are excluded by the callers (they test for Tensor first); ndarray subclasses
    and numpy scalars are NumPy's own.
    """
    t = type(x)
    return (
        not issubclass(t, (np.ndarray, np.generic))
        and hasattr(t, "__array_function__")
        and hasattr(t, "shape")
        and hasattr(t, "dtype")
    )


def is_numpy(x: Any) -> bool:
    """Whether ``x`` is NumPy's (an ndarray or a numpy scalar): no ``like=`` needed."""
    return isinstance(x, (np.ndarray, np.generic))


def is_lazy(x: Any) -> bool:
    """Whether ``x`` is a Dask array (its values exist only once computed)."""
    return type(x).__module__.startswith("dask.")


def lazy_error(what: str, data: Any) -> TypeError:
    """The error for an operation that would need a lazy array's values now."""
    return TypeError(
        f"{what} needs the values of a lazy {type(data).__module__}.{type(data).__name__} "
        f"of shape {data.shape}: chainrule computes nothing on Dask data until you do. "
        "Call dask.compute(...) on the result (or t.data.compute()) and branch on that, or "
        "use np.where instead of Python control flow."
    )


def foreign_data(data: Any, dtype: Any, where: str) -> Any:
    """Another library's array for ``cr.tensor``: kept in that library (no host copy,
    nothing computed)."""
    if np.dtype(data.dtype).kind in "OUSV":
        raise TypeError(f"{where}: cannot hold {data.dtype} data; chainrule needs numbers")
    if dtype is not None and np.dtype(dtype) != data.dtype:
        return data.astype(dtype)  # a new array: the copy
    # Dask arrays are immutable (the graph is the copy); others are copied as NumPy is.
    return data if is_lazy(data) else data.copy()


def foreign_head(raw: Any, data: Any) -> Any:
    """``backward(grad=raw)``'s head in the data's library, with the data's dtype: a NumPy
    head for Dask data becomes a Dask array (NEP 35's ``like=``)."""
    if is_foreign(raw):
        return raw.astype(data.dtype)
    if is_foreign(data):
        return np.asarray(raw, dtype=data.dtype, like=data)
    return np.array(raw, dtype=data.dtype, copy=True)


def as_array(x: Any, dtype: Any = None) -> Any:
    """``np.asarray(x, dtype)``, except that another library's array stays in its library."""
    if is_foreign(x):
        return x if dtype is None or x.dtype == dtype else x.astype(dtype)
    return np.asarray(x, dtype)


def zeros(shape: Any, dtype: Any, like: Any) -> Any:
    """Zeros in ``like``'s library (NEP 35): a rule's new array next to its gradient."""
    if type(like) is np.ndarray or not is_foreign(like):
        return np.zeros(shape, dtype)
    return np.zeros(shape, dtype, like=like)
