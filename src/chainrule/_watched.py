"""What ``Tensor.data`` hands out: a view of the tensor's memory that reports writes.

NumPy has no write hooks, so ``t.data[...] = v`` would otherwise change a value
the tape saved without anyone knowing. The view is an ndarray subclass that
bumps its tensor's version counter on every in-place write (item assignment,
ufuncs with ``out=``, ``+=``, ``fill``, ``sort``, ``np.copyto`` ...); backward
then refuses graphs whose saved values changed. Reads behave as a plain ndarray
and computations return plain ndarrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["WatchedArray", "plain_array", "same_view"]


class WatchedArray(np.ndarray):
    """What ``Tensor.data`` returns: the tensor's own memory, reporting in-place
    writes to the tensor's version counter. Everything else behaves as an ndarray
    (results of computations are plain ndarrays)."""

    _owner: Any = None

    def __array_finalize__(self, obj: Any) -> None:
        self._owner = getattr(obj, "_owner", None)

    def _written(self) -> None:
        owner = self._owner
        if owner is not None:
            owner._bump()

    def __setitem__(self, index: Any, value: Any) -> None:
        self._written()
        np.ndarray.__setitem__(self.view(np.ndarray), index, plain_array(value))

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        out = kwargs.get("out")
        if out is None:
            return getattr(ufunc, method)(*(plain_array(x) for x in inputs), **kwargs)
        for o in out:
            if isinstance(o, WatchedArray):
                o._written()
        kwargs["out"] = tuple(plain_array(o) for o in out)
        getattr(ufunc, method)(*(plain_array(x) for x in inputs), **kwargs)
        return out[0] if len(out) == 1 else out  # as NumPy: the out arrays themselves

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if func in _WRITES_FIRST_ARGUMENT and args and isinstance(args[0], WatchedArray):
            args[0]._written()
        plain_args = tuple(plain_array(a, deep=True) for a in args)
        plain_kwargs = {k: plain_array(v, deep=True) for k, v in kwargs.items()}
        return func(*plain_args, **plain_kwargs)

    def fill(self, value: Any) -> None:
        self._written()
        self.view(np.ndarray).fill(value)

    def sort(self, *args: Any, **kwargs: Any) -> None:
        self._written()
        self.view(np.ndarray).sort(*args, **kwargs)

    def partition(self, *args: Any, **kwargs: Any) -> None:
        self._written()
        self.view(np.ndarray).partition(*args, **kwargs)

    def put(self, *args: Any, **kwargs: Any) -> None:
        self._written()
        self.view(np.ndarray).put(*args, **kwargs)

    def __reduce__(self) -> Any:  # pickles as a plain array
        return self.view(np.ndarray).__reduce__()

    def __repr__(self) -> str:  # prints exactly like the ndarray it is
        return repr(self.view(np.ndarray))

    def __str__(self) -> str:
        return str(self.view(np.ndarray))


_WRITES_FIRST_ARGUMENT = {
    f
    for f in (
        np.copyto,
        np.put,
        np.place,
        np.putmask,
        np.fill_diagonal,
        getattr(np, "put_along_axis", None),
    )
    if f is not None
}


def same_view(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.strides == b.strides and a.ctypes.data == b.ctypes.data


def plain_array(x: Any, deep: bool = False) -> Any:
    if isinstance(x, WatchedArray):
        return x.view(np.ndarray)
    if deep and isinstance(x, (list, tuple)):
        return type(x)(plain_array(v, True) for v in x)
    return x
