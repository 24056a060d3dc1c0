"""Elementwise primitives: NumPy's differentiable ufuncs, one block each.

Every block is ``defprim(name, forward, vjp_for_input_0, vjp_for_input_1, ...)``
with ``elementwise=True``, which derives the JVP from the VJPs. Rules may
return the output's broadcast shape; the engine reduces it.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from .._record import apply
from .._registry import UFUNC_RULES, defprim, implements
from .._tensor import data_of
from ._args import reject

_LN2 = float(np.log(2.0))
_LN10 = float(np.log(10.0))


def _ufunc(
    prim_name: str,
    ufunc: np.ufunc,
    *vjps: Any,
    aliases: tuple = (),
    fun: Any = None,
    **flags: Any,
) -> Any:
    """Register an elementwise ufunc primitive and bind it (and its aliases) to NumPy.

    ``fun`` computes it when that is faster than the ufunc: the ``operator``
    functions equal the ufuncs on arrays, and on numpy scalars (0-d tensors)
    they take NumPy's scalar fast path, ~8x faster than calling the ufunc.
    ``flags`` say how it treats complex data (see the registry's manual).
    """
    prim = defprim(prim_name, fun or ufunc, *vjps, elementwise=True, **flags)
    if not prim.reads_inputs:
        prim.elide = ufunc
    for u in (ufunc, *aliases):
        UFUNC_RULES[u] = prim
    return prim


# --------------------------------------------------------------- arithmetic
# The ``reuse`` rules (see the registry's manual) compute into buffers that the
# backward sweep no longer needs, saving an allocation and its page faults per
# gradient on large arrays.


def _multiply_reuse(g: Any, ans: Any, args: tuple, free: tuple, needed: list) -> Any:
    x, y = args
    g_free, _, x_free, y_free = free
    if not g_free:
        return None
    need_x, need_y = needed
    if need_x and need_y:
        # y's gradient g * x goes into a free input's buffer, then x's (g * y) into g.
        if x_free:
            gy = np.multiply(x, g, out=x)
            return [np.multiply(g, y, out=g), gy]
        if y_free:
            gx = np.multiply(y, g, out=y)
            return [gx, np.multiply(g, x, out=g)]
        gx = g * y
        return [gx, np.multiply(g, x, out=g)]
    if need_x:
        return [np.multiply(g, y, out=g), None]
    return [None, np.multiply(g, x, out=g)]


ADD = _ufunc(
    "add",
    np.add,
    lambda g, ans, x, y: g,
    lambda g, ans, x, y: g,
    fun=operator.add,
    complex_ok=True,
    reads="shapes",
)
SUBTRACT = _ufunc(
    "subtract",
    np.subtract,
    lambda g, ans, x, y: g,
    lambda g, ans, x, y: -g,
    complex_ok=True,
    fun=operator.sub,
    reads="shapes",
)
MULTIPLY = _ufunc(
    "multiply",
    np.multiply,
    lambda g, ans, x, y: g * y,
    lambda g, ans, x, y: g * x,
    holomorphic=True,
    fun=operator.mul,
    reads="inputs",
    reuse=_multiply_reuse,
)
DIVIDE = _ufunc(
    "divide",
    np.divide,
    lambda g, ans, x, y: g / y,
    lambda g, ans, x, y: -g * ans / y,
    holomorphic=True,
    fun=operator.truediv,
)
NEGATIVE = _ufunc(
    "negative",
    np.negative,
    lambda g, ans, x: -g,
    complex_ok=True,
    fun=operator.neg,
    reads="shapes",
    reuse=lambda g, ans, args, free, needed: [np.negative(g, out=g)] if free[0] else None,
)
POSITIVE = _ufunc(
    "positive", np.positive, lambda g, ans, x: g, complex_ok=True, fun=operator.pos, reads="shapes"
)
# x mod y = x - floor(x / y) * y: slope 1 in x and -floor(x / y) in y, away from the jumps.
REMAINDER = _ufunc(
    "remainder",
    np.remainder,
    lambda g, ans, x, y: g,
    lambda g, ans, x, y: -g * np.floor_divide(x, y),
    fun=operator.mod,
    reads="inputs",
)
FMOD = _ufunc(
    "fmod",
    np.fmod,
    lambda g, ans, x, y: g,
    lambda g, ans, x, y: -g * np.trunc(np.divide(x, y)),
    reads="inputs",
)


def _pow(x: Any, y: Any) -> Any:
    """``x ** y``, with cubes and fourth powers of float arrays by multiplication, as
    PyTorch does: NumPy's general pow is ~50x slower than a multiply (it squares fast)."""
    small = type(x) is np.ndarray and type(y) in (int, float) and (y == 3 or y == 4)
    if small and x.dtype.kind in "fc":
        x2 = x * x
        return x2 * x if y == 3 else x2 * x2
    return x**y


def _power_vjp_base(g: Any, ans: Any, x: Any, y: Any) -> Any:
    if type(y) in (int, float):
        if y == 0:
            return g * 0.0
        if y == 2:  # the common square: x ** 1 is x
            return g * (2 * x)
        return g * (y * _pow(x, y - 1))
    # y == 0 has slope 0 even at x == 0, where x ** (y - 1) is inf.
    return g * np.where(y == 0, 0.0, y * x ** (y - 1))


def _power_vjp_exponent(g: Any, ans: Any, x: Any, y: Any) -> Any:
    # d(x**y)/dy = x**y log x; taken as 0 at x == 0 (the limit from x > 0 for y > 0).
    safe_x = np.where(x == 0, 1.0, x)
    return g * np.where(x == 0, 0.0, ans * np.log(safe_x))


POWER = _ufunc("power", np.power, _power_vjp_base, _power_vjp_exponent, holomorphic=True, fun=_pow)
FLOAT_POWER = _ufunc(
    "float_power", np.float_power, _power_vjp_base, _power_vjp_exponent, holomorphic=True
)
SQUARE = _ufunc(
    "square", np.square, lambda g, ans, x: g * (2 * x), holomorphic=True, reads="inputs"
)
SQRT = _ufunc("sqrt", np.sqrt, lambda g, ans, x: g * 0.5 / ans, holomorphic=True, reads="output")
CBRT = _ufunc(
    "cbrt", np.cbrt, lambda g, ans, x: g / (3 * ans * ans), holomorphic=True, reads="output"
)
RECIPROCAL = _ufunc(
    "reciprocal", np.reciprocal, lambda g, ans, x: -g * ans * ans, holomorphic=True, reads="output"
)
# sign(0) == 0: the gradient of |x| at its kink is 0, as the API reference fixes.
ABSOLUTE = _ufunc(
    "absolute",
    np.absolute,
    lambda g, ans, x: g * np.sign(x),
    aliases=(np.fabs,),
    # |z| for complex z: the gradient z / |z| (0 at 0); the tangent Re(conj(z) t) / |z|.
    complex_vjps=(lambda g, ans, x: g * x / np.where(ans == 0, 1.0, ans),),
    complex_jvp=lambda t, ans, x: np.real(np.conj(x) * t[0]) / np.where(ans == 0, 1.0, ans),
    reads="inputs",
)
# copysign(x, y) = |x| * (sign bit of y): slope sign(x) * (+-1) in x, none in y.
COPYSIGN = _ufunc(
    "copysign",
    np.copysign,
    lambda g, ans, x, y: g * np.sign(x) * np.copysign(1.0, y),
    None,
    reads="inputs",
)
CONJUGATE = _ufunc(
    "conjugate",
    np.conjugate,
    lambda g, ans, x: g,
    complex_vjps=(lambda g, ans, x: np.conj(g),),
    complex_jvp=lambda t, ans, x: np.conj(t[0]),
    reads="shapes",
)
LDEXP = _ufunc("ldexp", np.ldexp, lambda g, ans, x, i: np.ldexp(g, i), None, reads="inputs")


# ---------------------------------------------------------- exponentials, logs
def _exp_reuse(g: Any, ans: Any, args: tuple, free: tuple, needed: list) -> Any:
    if free[1]:
        return [np.multiply(ans, g, out=ans)]
    return [np.multiply(g, ans, out=g)] if free[0] else None


EXP = _ufunc(
    "exp",
    np.exp,
    lambda g, ans, x: g * ans,
    holomorphic=True,
    reads="output",
    reuse=_exp_reuse,
)
EXP2 = _ufunc("exp2", np.exp2, lambda g, ans, x: g * ans * _LN2, holomorphic=True, reads="output")
EXPM1 = _ufunc("expm1", np.expm1, lambda g, ans, x: g * (ans + 1), holomorphic=True, reads="output")
LOG = _ufunc("log", np.log, lambda g, ans, x: g / x, holomorphic=True, reads="inputs")
LOG2 = _ufunc("log2", np.log2, lambda g, ans, x: g / (x * _LN2), holomorphic=True, reads="inputs")
LOG10 = _ufunc(
    "log10", np.log10, lambda g, ans, x: g / (x * _LN10), holomorphic=True, reads="inputs"
)
LOG1P = _ufunc("log1p", np.log1p, lambda g, ans, x: g / (1 + x), holomorphic=True, reads="inputs")
# log(e^x + e^y): the weights e^(x - ans) and e^(y - ans) never overflow.
LOGADDEXP = _ufunc(
    "logaddexp",
    np.logaddexp,
    lambda g, ans, x, y: g * np.exp(x - ans),
    lambda g, ans, x, y: g * np.exp(y - ans),
)
LOGADDEXP2 = _ufunc(
    "logaddexp2",
    np.logaddexp2,
    lambda g, ans, x, y: g * np.exp2(x - ans),
    lambda g, ans, x, y: g * np.exp2(y - ans),
)

# ------------------------------------------------------------ trigonometric
SIN = _ufunc("sin", np.sin, lambda g, ans, x: g * np.cos(x), holomorphic=True, reads="inputs")
COS = _ufunc("cos", np.cos, lambda g, ans, x: -g * np.sin(x), holomorphic=True, reads="inputs")
TAN = _ufunc("tan", np.tan, lambda g, ans, x: g * (1 + ans * ans), holomorphic=True, reads="output")
ARCSIN = _ufunc(
    "arcsin", np.arcsin, lambda g, ans, x: g / np.sqrt(1 - x * x), holomorphic=True, reads="inputs"
)
ARCCOS = _ufunc(
    "arccos", np.arccos, lambda g, ans, x: -g / np.sqrt(1 - x * x), holomorphic=True, reads="inputs"
)
ARCTAN = _ufunc(
    "arctan", np.arctan, lambda g, ans, x: g / (1 + x * x), holomorphic=True, reads="inputs"
)


# hypot and arctan2 have no derivative at the origin; like |x| at 0, they get 0 there.
def _nonzero(r: Any) -> Any:
    return np.where(r == 0, 1.0, r)


ARCTAN2 = _ufunc(
    "arctan2",
    np.arctan2,
    lambda g, ans, y, x: g * x / _nonzero(x * x + y * y),
    lambda g, ans, y, x: -g * y / _nonzero(x * x + y * y),
    reads="inputs",
)
HYPOT = _ufunc(
    "hypot",
    np.hypot,
    lambda g, ans, x, y: g * x / _nonzero(ans),
    lambda g, ans, x, y: g * y / _nonzero(ans),
)
DEG2RAD = _ufunc(
    "deg2rad",
    np.deg2rad,
    lambda g, ans, x: g * (np.pi / 180),
    aliases=(np.radians,),
    reads="shapes",
)
RAD2DEG = _ufunc(
    "rad2deg",
    np.rad2deg,
    lambda g, ans, x: g * (180 / np.pi),
    aliases=(np.degrees,),
    reads="shapes",
)

# -------------------------------------------------------------- hyperbolic
SINH = _ufunc("sinh", np.sinh, lambda g, ans, x: g * np.cosh(x), holomorphic=True, reads="inputs")
COSH = _ufunc("cosh", np.cosh, lambda g, ans, x: g * np.sinh(x), holomorphic=True, reads="inputs")


def _tanh_vjp(g: Any, ans: Any, x: Any) -> Any:
    if type(ans) is np.ndarray and type(g) is np.ndarray and ans.size >= 1024:
        t = np.multiply(ans, ans)  # g * (1 - ans^2) with one temporary
        np.subtract(1, t, out=t)
        t *= g
        return t
    return g * (1 - ans * ans)


def _tanh_reuse(g: Any, ans: Any, args: tuple, free: tuple, needed: list) -> Any:
    if not free[1]:
        return None  # _tanh_vjp needs one temporary either way
    t = np.multiply(ans, ans, out=ans)  # g * (1 - ans^2), in the output's buffer
    np.subtract(1, t, out=t)
    return [np.multiply(t, g, out=t)]


TANH = _ufunc("tanh", np.tanh, _tanh_vjp, holomorphic=True, reads="output", reuse=_tanh_reuse)
ARCSINH = _ufunc(
    "arcsinh",
    np.arcsinh,
    lambda g, ans, x: g / np.sqrt(x * x + 1),
    holomorphic=True,
    reads="inputs",
)
ARCCOSH = _ufunc(
    "arccosh",
    np.arccosh,
    lambda g, ans, x: g / np.sqrt(x * x - 1),
    holomorphic=True,
    reads="inputs",
)
ARCTANH = _ufunc(
    "arctanh", np.arctanh, lambda g, ans, x: g / (1 - x * x), holomorphic=True, reads="inputs"
)


# ------------------------------------------------------------ max and min
# Ties split the gradient evenly (see the API reference): each side gets half.
def _share(x: Any, y: Any, wins: Any) -> Any:
    return wins + 0.5 * (x == y)


MAXIMUM = _ufunc(
    "maximum",
    np.maximum,
    lambda g, ans, x, y: g * _share(x, y, x > y),
    lambda g, ans, x, y: g * _share(x, y, y > x),
    reads="inputs",
)
MINIMUM = _ufunc(
    "minimum",
    np.minimum,
    lambda g, ans, x, y: g * _share(x, y, x < y),
    lambda g, ans, x, y: g * _share(x, y, y < x),
    reads="inputs",
)
# fmax/fmin ignore a NaN operand, so the other one takes the whole gradient.
FMAX = _ufunc(
    "fmax",
    np.fmax,
    lambda g, ans, x, y: g * _share(x, y, (x > y) | np.isnan(y)),
    lambda g, ans, x, y: g * _share(x, y, (y > x) | np.isnan(x)),
    reads="inputs",
)
FMIN = _ufunc(
    "fmin",
    np.fmin,
    lambda g, ans, x, y: g * _share(x, y, (x < y) | np.isnan(y)),
    lambda g, ans, x, y: g * _share(x, y, (y < x) | np.isnan(x)),
    reads="inputs",
)


def _inside(x: Any, lo: Any, hi: Any) -> Any:
    mask = np.ones(np.shape(x), dtype=bool) if lo is None else x >= lo
    return mask if hi is None else mask & (x <= hi)


def _clip_vjp_hi(g: Any, ans: Any, x: Any, lo: Any, hi: Any) -> Any:
    # clip is min(max(x, lo), hi): hi is selected above it, and everywhere if lo > hi.
    return g * ((x > hi) if lo is None else (x > hi) | (lo > hi))


# clip(x, lo, hi): slope 1 inside [lo, hi] (bounds included, as PyTorch), 0 outside;
# a bound that is a Tensor gets the gradient where it is the one selected.
CLIP = defprim(
    "clip",
    np.clip,
    lambda g, ans, x, lo, hi: g * _inside(x, lo, hi),
    lambda g, ans, x, lo, hi: g * ((x < lo) if hi is None else (x < lo) & (lo <= hi)),
    _clip_vjp_hi,
    elementwise=True,
    reads="inputs",
)


_UNSET = object()


@implements(np.clip)
def clip(
    a: Any,
    a_min: Any = _UNSET,
    a_max: Any = _UNSET,
    out: Any = None,
    *,
    min: Any = _UNSET,
    max: Any = _UNSET,
    **kwargs: Any,
) -> Any:
    reject(np.clip, {"out": out, **kwargs})
    lo = min if a_min is _UNSET else a_min
    hi = max if a_max is _UNSET else a_max
    lo = None if lo is _UNSET else lo
    hi = None if hi is _UNSET else hi
    if lo is None and hi is None:
        raise ValueError("np.clip: at least one of a_min and a_max must be given")
    return apply(CLIP, a, lo, hi)


# Real and imaginary parts: real-linear maps. For a real input they are x and 0.
REAL = defprim("real", np.real, lambda g, ans, x: g, linear=True, reads="shapes")
IMAG = defprim("imag", np.imag, lambda g, ans, x: g * 1j, linear=True, reads="shapes")


@implements(np.real)
def real(val: Any) -> Any:
    return apply(REAL, val)


@implements(np.imag)
def imag(val: Any) -> Any:
    return apply(IMAG, val)


@implements(np.angle)
def angle(z: Any, deg: bool = False) -> Any:
    a = np.arctan2(imag(z), real(z))
    return a * (180 / np.pi) if deg else a


@implements(np.sinc)
def sinc(x: Any) -> Any:
    y = np.pi * np.where(data_of(x) == 0, 1e-20, x)
    return np.where(data_of(x) == 0, 1.0, np.sin(y) / y)


@implements(np.nan_to_num)
def nan_to_num(
    x: Any, copy: bool = True, nan: float = 0.0, posinf: Any = None, neginf: Any = None
) -> Any:
    data = data_of(x)
    info = np.finfo(data.dtype) if data.dtype.kind in "fc" else None
    big = info.max if info is not None else 0
    y = np.where(np.isnan(data), nan, x)
    y = np.where(np.isposinf(data), big if posinf is None else posinf, y)
    return np.where(np.isneginf(data), -big if neginf is None else neginf, y)


@implements(np.real_if_close)
def real_if_close(a: Any, tol: float = 100) -> Any:
    data = data_of(a)
    if data.dtype.kind != "c":
        return a
    limit = tol * np.finfo(data.dtype).eps if tol > 1 else tol
    return np.real(a) if np.all(np.abs(data.imag) < limit) else a
