"""A strict stand-in for a GPU array library (CuPy), so CI can prove that chainrule never
copies device data to the host behind the user's back.

``DeviceArray`` wraps an ndarray ("device memory") and implements NumPy's protocols
(NEP 13/18) by unwrapping, computing with NumPy and wrapping again, as CuPy's arrays
compute with CUDA kernels. Like CuPy, it refuses what would be a hidden host<->device
copy: ``np.asarray(d)`` (``__array__`` raises with CuPy's message) and NumPy arrays as
operands (CuPy raises ``TypeError: Unsupported type <class 'numpy.ndarray'>``); numpy
and Python scalars, and integer or boolean NumPy arrays (indices, axes, masks) are
accepted. ``.get()`` is the explicit copy
to the host, ``device(x)`` the explicit copy to the device.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

__all__ = ["DeviceArray", "device", "host"]

HOST_COPY = "Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct a NumPy array explicitly."


def _unwrap(obj: Any) -> Any:
    if isinstance(obj, DeviceArray):
        return obj._a
    if type(obj) is np.ndarray and obj.dtype.kind not in "biu":
        # Host data meeting device data. (Integer and boolean arrays pass: CuPy accepts
        # them as indices, axes and masks, which is how the registry rows use them.)
        raise TypeError(f"Unsupported type {type(obj)} (a host array met device arrays)")
    if isinstance(obj, (list, tuple)):
        return type(obj)(_unwrap(o) for o in obj)
    if isinstance(obj, dict):
        return {k: _unwrap(v) for k, v in obj.items()}
    return obj


def _wrap(obj: Any) -> Any:
    if isinstance(obj, (np.ndarray, np.generic)) and not isinstance(obj, np.dtype):
        return DeviceArray(np.asarray(obj))  # CuPy returns 0-d arrays, not scalars
    if isinstance(obj, tuple):
        return tuple(_wrap(o) for o in obj)
    if isinstance(obj, list):
        return [_wrap(o) for o in obj]
    return obj


class DeviceArray:
    """An array "on the device": NumPy computes on it only through the protocols."""

    __slots__ = ("_a",)
    __array_priority__ = 100

    def __init__(self, a: np.ndarray) -> None:
        self._a = a

    # --------------------------------------------------------------- protocols
    def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise TypeError(HOST_COPY)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        for x in inputs if method != "at" else (inputs[0], *inputs[2:]):  # at: (a, index, b)
            if not isinstance(x, (DeviceArray, np.ndarray, np.generic, int, float, complex, bool)):
                return NotImplemented
        out = kwargs.get("out")
        result = getattr(ufunc, method)(*_unwrap(inputs), **_unwrap(kwargs))
        if method == "at":
            return None
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _wrap(result)

    def __array_function__(self, func: Any, types: Any, args: tuple, kwargs: dict) -> Any:
        for t in types:
            if not issubclass(t, (DeviceArray, np.ndarray)):
                return NotImplemented
        return _wrap(func(*_unwrap(args), **_unwrap(kwargs)))

    # ---------------------------------------------------------------- metadata
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    nbytes = property(lambda self: self._a.nbytes)
    T = property(lambda self: DeviceArray(self._a.T))
    mT = property(lambda self: DeviceArray(np.swapaxes(self._a, -1, -2)))
    real = property(lambda self: DeviceArray(self._a.real))
    imag = property(lambda self: DeviceArray(self._a.imag))
    flags = property(lambda self: self._a.flags)
    # A view's base is another device array (engine code copies views it hands out).
    base = property(lambda self: None if self._a.base is None else self)
    device = "standin"

    def __len__(self) -> int:
        return len(self._a)

    def __repr__(self) -> str:
        return f"DeviceArray({self._a!r})"

    # Scalar conversions synchronise, as CuPy's do (CuPy allows them on one element).
    def __float__(self) -> float:
        return float(self._a)

    def __int__(self) -> int:
        return int(self._a)

    def __complex__(self) -> complex:
        return complex(self._a)

    def __bool__(self) -> bool:
        return bool(self._a)

    def __index__(self) -> int:
        return operator.index(self._a)

    def item(self) -> Any:
        return self._a.item()

    def tolist(self) -> Any:
        return self._a.tolist()

    def get(self) -> np.ndarray:
        """The explicit copy to the host."""
        return self._a.copy()

    # ----------------------------------------------------------------- methods
    def __getitem__(self, index: Any) -> Any:
        return _wrap(self._a[_unwrap(index)])

    def __setitem__(self, index: Any, value: Any) -> None:
        self._a[_unwrap(index)] = _unwrap(value)

    def __iter__(self) -> Any:
        return (_wrap(row) for row in self._a)

    def copy(self) -> DeviceArray:
        return DeviceArray(self._a.copy())

    def astype(self, dtype: Any, copy: bool = True) -> DeviceArray:
        return DeviceArray(self._a.astype(dtype, copy=copy))

    def view(self, *args: Any) -> DeviceArray:
        return DeviceArray(self._a.view(*args))

    def reshape(self, *shape: Any, **kwargs: Any) -> DeviceArray:
        return DeviceArray(self._a.reshape(*shape, **kwargs))

    def transpose(self, *axes: Any) -> DeviceArray:
        return DeviceArray(self._a.transpose(*axes))

    def conj(self) -> DeviceArray:
        return DeviceArray(self._a.conj())

    conjugate = conj

    def ravel(self) -> DeviceArray:
        return DeviceArray(self._a.ravel())

    def __getattr__(self, name: str) -> Any:
        # Reductions and the rest of the ndarray methods: computed "on the device".
        attr = getattr(np.ndarray, name, None)
        if attr is None or name.startswith("__"):
            raise AttributeError(name)
        return lambda *args, **kwargs: _wrap(attr(self._a, *_unwrap(args), **_unwrap(kwargs)))


def _binary(ufunc: Any) -> tuple[Any, Any, Any]:
    def forward(self: DeviceArray, other: Any) -> Any:
        return ufunc(self, other)

    def reflected(self: DeviceArray, other: Any) -> Any:
        return ufunc(other, self)

    def inplace(self: DeviceArray, other: Any) -> Any:
        return ufunc(self, other, out=(self,))

    return forward, reflected, inplace


for _name, _ufunc in {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "truediv": np.true_divide,
    "floordiv": np.floor_divide,
    "mod": np.remainder,
    "pow": np.power,
    "matmul": np.matmul,
    "and": np.bitwise_and,
    "or": np.bitwise_or,
    "xor": np.bitwise_xor,
}.items():
    _f, _r, _i = _binary(_ufunc)
    setattr(DeviceArray, f"__{_name}__", _f)
    setattr(DeviceArray, f"__r{_name}__", _r)
    setattr(DeviceArray, f"__i{_name}__", _i)
for _name, _ufunc in {
    "lt": np.less,
    "le": np.less_equal,
    "gt": np.greater,
    "ge": np.greater_equal,
    "eq": np.equal,
    "ne": np.not_equal,
}.items():
    setattr(DeviceArray, f"__{_name}__", _binary(_ufunc)[0])
DeviceArray.__neg__ = lambda self: np.negative(self)  # type: ignore[attr-defined]
DeviceArray.__pos__ = lambda self: np.positive(self)  # type: ignore[attr-defined]
DeviceArray.__abs__ = lambda self: np.absolute(self)  # type: ignore[attr-defined]
DeviceArray.__invert__ = lambda self: np.invert(self)  # type: ignore[attr-defined]
DeviceArray.__hash__ = None  # type: ignore[assignment]


def device(x: Any) -> DeviceArray:
    """The explicit host-to-device copy (``cupy.asarray``)."""
    return DeviceArray(np.array(x))


def host(x: Any) -> np.ndarray:
    """The explicit device-to-host copy (``cupy.asnumpy``)."""
    return x.get() if isinstance(x, DeviceArray) else np.asarray(x)
