"""np.fft: the complex and real transforms and their inverses (hfft, ihfft too), any axes.

Complex gradients follow the registry's convention (PyTorch's). A transform is
linear, so its VJP is its transpose: the same transform applied to ``g`` (the
DFT matrix is symmetric), then the padding or truncation of the input undone.
The complex conjugation is derived from ``holomorphic=True``. ``irfft`` is not
complex-linear (it reads only half the spectrum), so its rule is explicit:
the ``rfft`` of ``g`` with the dual normalization, counting twice the bins
that the Hermitian extension uses twice.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._record import apply
from .._registry import defprim, implements
from .._tensor import data_of
from ._args import reject

_DUAL: dict[Any, Any] = {
    None: "forward",
    "backward": "forward",
    "ortho": "ortho",
    "forward": "backward",
}


def _axes(x: Any, s: Any, axes: Any) -> tuple[int, ...]:
    ndim = np.ndim(x)
    if axes is None:
        axes = range(ndim) if s is None else range(-len(s), 0)
    return tuple(a % ndim for a in axes)


def _fit(g: Any, shape: tuple[int, ...], axes: tuple[int, ...]) -> Any:
    """Crop or zero-pad ``g`` along ``axes`` to ``shape`` (undoing the transform's resize)."""
    for a in axes:
        have, want = np.shape(g)[a], shape[a]
        if have > want:
            g = g[(slice(None),) * a + (slice(0, want),)]
        elif have < want:
            widths = [(0, 0)] * np.ndim(g)
            widths[a] = (0, want - have)
            g = np.pad(g, widths)
    return g


def _fftn_vjp(g: Any, ans: Any, x: Any, s: Any, axes: Any, norm: Any, inverse: bool) -> Any:
    ax = _axes(x, s, axes)
    transform = np.fft.ifftn if inverse else np.fft.fftn
    return _fit(transform(g, axes=ax, norm=norm), np.shape(x), ax)


def _fftn(x: Any, s: Any, axes: Any, norm: Any, inverse: bool) -> Any:
    return (np.fft.ifftn if inverse else np.fft.fftn)(x, s=s, axes=axes, norm=norm)


FFTN = defprim(
    "fft.fftn",
    _fftn,
    _fftn_vjp,
    jvp=lambda t, ans, x, s, axes, norm, inverse: _fftn(t[0], s, axes, norm, inverse),
    holomorphic=True,
    reads="shapes",
)


def _rfftn_vjp(g: Any, ans: Any, x: Any, s: Any, axes: Any) -> Any:
    ax = _axes(x, s, axes)
    full = list(np.shape(g))
    last = ax[-1]
    full[last] = s[-1] if s is not None else np.shape(x)[last]
    g = _fit(g, tuple(full), (last,))  # the discarded half of the spectrum gets 0
    return _fit(np.fft.fftn(g, axes=ax), np.shape(x), ax)


def _rfftn(x: Any, s: Any, axes: Any, norm: Any = None) -> Any:
    return np.fft.rfftn(x, s=s, axes=axes, norm=norm)


def _rfftn_vjp_normed(g: Any, ans: Any, x: Any, s: Any, axes: Any, norm: Any = None) -> Any:
    scale = _norm_scale(x, s, axes, norm)
    return _rfftn_vjp(g, ans, x, s, axes) * scale


def _norm_scale(x: Any, s: Any, axes: Any, norm: Any) -> float:
    """rfftn with ``norm`` is scale * (the unnormalized transform)."""
    ax = _axes(x, s, axes)
    n = float(
        np.prod([s[k] for k in range(len(ax))] if s is not None else [np.shape(x)[a] for a in ax])
    )
    return {None: 1.0, "backward": 1.0, "ortho": n**-0.5, "forward": 1.0 / n}[norm]


RFFTN = defprim(
    "fft.rfftn",
    _rfftn,
    _rfftn_vjp_normed,
    jvp=lambda t, ans, x, s, axes, norm=None: _rfftn(t[0], s, axes, norm),
    holomorphic=True,
    reads="shapes",
)


def _irfftn(y: Any, s: Any, axes: Any, norm: Any = None) -> Any:
    return np.fft.irfftn(y, s=s, axes=axes, norm=norm)


def _irfftn_vjp(g: Any, ans: Any, y: Any, s: Any, axes: Any, norm: Any = None) -> Any:
    ax = _axes(y, s, axes)
    out_shape = np.shape(ans)
    sizes = tuple(out_shape[a] for a in ax)
    spectrum = np.fft.rfftn(g, s=sizes, axes=ax, norm=_DUAL[norm])
    n = sizes[-1]
    # Bins 1 .. ceil(n/2) - 1 stand for two bins of the full spectrum.
    weights = np.full(n // 2 + 1, 2.0)
    weights[0] = 1.0
    if n % 2 == 0:
        weights[-1] = 1.0
    shape = [1] * np.ndim(g)
    shape[ax[-1]] = n // 2 + 1
    grad = spectrum * weights.reshape(shape)
    target = list(np.shape(y))
    return _fit(grad, tuple(target), ax)


IRFFTN = defprim(
    "fft.irfftn",
    _irfftn,
    None,
    jvp=lambda t, ans, y, s, axes, norm=None: _irfftn(t[0], s, axes, norm),
    complex_vjps=(_irfftn_vjp,),
    complex_jvp=lambda t, ans, y, s, axes, norm=None: _irfftn(t[0], s, axes, norm),
)


def _one_axis(n: Any, axis: int) -> tuple[Any, tuple[int, ...]]:
    return (None if n is None else (int(n),)), (axis,)


def _sizes(s: Any) -> Any:
    return None if s is None else tuple(int(k) for k in s)


def _apply_fft(a: Any, s: Any, axes: Any, norm: Any, inverse: bool) -> Any:
    return apply(FFTN, a, s, None if axes is None else tuple(axes), norm, inverse)


@implements(np.fft.fft)
def fft(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Any:
    reject(np.fft.fft, {"out": out})
    s, axes = _one_axis(n, axis)
    return _apply_fft(a, s, axes, norm, False)


@implements(np.fft.ifft)
def ifft(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Any:
    reject(np.fft.ifft, {"out": out})
    s, axes = _one_axis(n, axis)
    return _apply_fft(a, s, axes, norm, True)


@implements(np.fft.fft2)
def fft2(a: Any, s: Any = None, axes: Any = (-2, -1), norm: Any = None, out: Any = None) -> Any:
    reject(np.fft.fft2, {"out": out})
    return _apply_fft(a, _sizes(s), axes, norm, False)


@implements(np.fft.ifft2)
def ifft2(a: Any, s: Any = None, axes: Any = (-2, -1), norm: Any = None, out: Any = None) -> Any:
    reject(np.fft.ifft2, {"out": out})
    return _apply_fft(a, _sizes(s), axes, norm, True)


@implements(np.fft.fftn)
def fftn(a: Any, s: Any = None, axes: Any = None, norm: Any = None, out: Any = None) -> Any:
    reject(np.fft.fftn, {"out": out})
    return _apply_fft(a, _sizes(s), axes, norm, False)


@implements(np.fft.ifftn)
def ifftn(a: Any, s: Any = None, axes: Any = None, norm: Any = None, out: Any = None) -> Any:
    reject(np.fft.ifftn, {"out": out})
    return _apply_fft(a, _sizes(s), axes, norm, True)


def _real_input(a: Any, name: str) -> None:
    data = data_of(a)
    if data.dtype.kind == "c":
        raise TypeError(
            f"{name} of complex data: NumPy discards the imaginary part; take np.real first"
        )


@implements(np.fft.rfft)
def rfft(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Any:
    reject(np.fft.rfft, {"out": out})
    _real_input(a, "np.fft.rfft")
    s, axes = _one_axis(n, axis)
    return apply(RFFTN, a, s, axes, **({"norm": norm} if norm else {}))


@implements(np.fft.rfft2)
def rfft2(a: Any, s: Any = None, axes: Any = (-2, -1), norm: Any = None, out: Any = None) -> Any:
    return rfftn(a, s, axes, norm, out)


@implements(np.fft.rfftn)
def rfftn(a: Any, s: Any = None, axes: Any = None, norm: Any = None, out: Any = None) -> Any:
    reject(np.fft.rfftn, {"out": out})
    _real_input(a, "np.fft.rfftn")
    ax = None if axes is None else tuple(axes)
    return apply(RFFTN, a, _sizes(s), ax, **({"norm": norm} if norm else {}))


@implements(np.fft.irfft)
def irfft(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Any:
    reject(np.fft.irfft, {"out": out})
    s, axes = _one_axis(n, axis)
    if s is None:
        s = (2 * (np.shape(a)[axis] - 1),)
    return apply(IRFFTN, _complex(a), s, axes, **({"norm": norm} if norm else {}))


@implements(np.fft.irfft2)
def irfft2(a: Any, s: Any = None, axes: Any = (-2, -1), norm: Any = None, out: Any = None) -> Any:
    return irfftn(a, s, axes, norm, out)


@implements(np.fft.irfftn)
def irfftn(a: Any, s: Any = None, axes: Any = None, norm: Any = None, out: Any = None) -> Any:
    reject(np.fft.irfftn, {"out": out})
    ax = _axes(a, s, axes)
    if s is None:
        shape = np.shape(a)
        s = tuple(shape[k] for k in ax[:-1]) + (2 * (shape[ax[-1]] - 1),)
    return apply(IRFFTN, _complex(a), _sizes(s), ax, **({"norm": norm} if norm else {}))


def _complex(a: Any) -> Any:
    """irfft reads a spectrum: a real Tensor is made complex first (recorded)."""
    data = data_of(a)
    return a if data.dtype.kind == "c" else a.astype(np.result_type(data, np.complex64))


@implements(np.fft.fftshift)
def fftshift(x: Any, axes: Any = None) -> Any:
    ax = _axes(x, None, None if axes is None else np.atleast_1d(axes))
    return np.roll(x, [np.shape(x)[a] // 2 for a in ax], axis=ax)


@implements(np.fft.ifftshift)
def ifftshift(x: Any, axes: Any = None) -> Any:
    ax = _axes(x, None, None if axes is None else np.atleast_1d(axes))
    return np.roll(x, [-(np.shape(x)[a] // 2) for a in ax], axis=ax)


# hfft and ihfft are irfft and rfft of the conjugate with the dual normalization
# (NumPy's own definition), so they need no rule of their own.
@implements(np.fft.hfft)
def hfft(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Any:
    reject(np.fft.hfft, {"out": out})
    return irfft(np.conj(_complex(a)), n, axis, _DUAL[norm])


@implements(np.fft.ihfft)
def ihfft(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Any:
    reject(np.fft.ihfft, {"out": out})
    _real_input(a, "np.fft.ihfft")
    return np.conj(rfft(a, n, axis, _DUAL[norm]))
