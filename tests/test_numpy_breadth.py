"""The NumPy functions added for breadth agree with NumPy itself (values, shapes, dtypes,
keyword arguments), refuse what they cannot differentiate with a clear error, and the
non-differentiable ones return constants. Their gradients are checked by the registry rows.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import chainrule as cr

rng = np.random.default_rng(11)
A = rng.standard_normal((3, 4))
B = rng.standard_normal((2, 3, 4))
V = rng.standard_normal(4)
P = np.array([1.0, -3.0, 2.0, 5.0])
Q = np.array([2.0, 1.0])
NAN = A.copy()
NAN[0, 1] = np.nan
NAN[2, [0, 3]] = np.nan

CALLS = [
    ("delete-axis", lambda a: np.delete(a, [0, 2], axis=1), (A,)),
    ("delete-slice", lambda a: np.delete(a, slice(1, 3)), (A,)),
    ("insert-axis", lambda a, v: np.insert(a, [1, 3], v[:2], axis=1), (A, V)),
    ("insert-flat", lambda a, v: np.insert(a, 2, v), (A, V)),
    ("insert-repeated", lambda a: np.insert(a, [0, 0, 2], [1.0, 2.0, 3.0]), (V,)),
    ("block", lambda a, v: np.block([[a, a[:, :1]], [v[None], v[:1, None]]]), (A, V)),
    ("block-1d", lambda a, v: np.block([a, v]), (V, V)),
    ("unstack", lambda a: np.unstack(a, axis=1), (A,)),
    ("broadcast_arrays", lambda a, v: np.broadcast_arrays(a, v), (A, V)),
    ("choose-list", lambda a, v: np.choose(np.array([0, 1, 1, 0]), [a, v]), (A, V)),
    ("choose-clip", lambda a: np.choose(np.array([[0, 5, -2, 1]]), a, mode="clip"), (A,)),
    ("compress", lambda a: np.compress([True, False, True], a, axis=0), (A,)),
    ("extract", lambda a: np.extract(A > 0, a), (A,)),
    ("trim_zeros", lambda a: np.trim_zeros(np.pad(a, (2, 1)), "b"), (V,)),
    ("trim_zeros-2d", lambda a: np.trim_zeros(np.pad(a, ((1, 0), (0, 2))), axis=1), (A,)),
    ("apply_along_axis", lambda b: np.apply_along_axis(lambda r: np.outer(r, r), 1, b), (B,)),
    ("apply_over_axes", lambda b: np.apply_over_axes(np.sum, b, [0, 2]), (B,)),
    ("poly-matrix", np.poly, (np.array([[0.0, -1.0], [1.0, 0.0]]),)),
    ("polyadd", np.polyadd, (P, Q)),
    ("polydiv", np.polydiv, (P, Q)),
    ("polydiv-exact", np.polydiv, (np.array([1.0, -3.0, 2.0]), np.array([1.0, -1.0]))),
    ("polyder-past-degree", lambda p: np.polyder(p, 4), (P,)),
    ("polyint-k", lambda p: np.polyint(p, 2, k=[1.0, 2.0]), (P,)),
    ("vander", lambda x: np.vander(x, 4, increasing=True), (Q,)),
    (
        "polyfit-weighted",
        lambda x, y: np.polyfit(x, y, 2, w=np.arange(1, 8.0)),
        (np.linspace(0, 1, 7), np.sin(np.arange(7.0))),
    ),
    ("roots-zero-roots", np.roots, (np.array([0.0, 1.0, -3.0, 2.0, 0.0, 0.0]),)),
    ("cumulative_sum", lambda a: np.cumulative_sum(a, axis=0, include_initial=True), (A,)),
    ("cumulative_prod-0d", np.cumulative_prod, (np.array(2.0),)),
    ("nanquantile", lambda a: np.nanquantile(a, [0.1, 0.9], axis=1, keepdims=True), (NAN,)),
    ("nanpercentile", lambda a: np.nanpercentile(a, 30.0), (NAN,)),
    ("unwrap", lambda p: np.unwrap(p, period=3.0), (np.cumsum(np.full(6, 1.3)) % 3.0,)),
    (
        "logspace-array-base",
        lambda a, b: np.logspace(a, b, 4, base=np.array([2.0, 3.0]), axis=1),
        (np.array([1.0, 0.0]), np.array([2.5, 3.0])),
    ),
    ("geomspace-negative", lambda a, b: np.geomspace(a, b, 4), (np.array(-2.0), np.array(-30.0))),
    ("i0", np.i0, (np.array([0.0, 0.5, -3.0, 40.0]),)),
    ("vector_norm", lambda b: np.linalg.vector_norm(b, axis=(0, 2), keepdims=True, ord=3), (B,)),
    ("matrix_norm", lambda b: np.linalg.matrix_norm(b, ord="nuc"), (B,)),
    ("cond-inf", lambda a: np.linalg.cond(a, np.inf), (A[:3, :3],)),
    ("tensorinv", lambda a: np.linalg.tensorinv(a, ind=1), (rng.standard_normal((6, 2, 3)),)),
    ("vecdot-axis", lambda b: np.linalg.vecdot(b, b[:1], axis=1), (B,)),
    ("insert-slice", lambda a: np.insert(a, slice(0, 2), 0.5, axis=0), (A,)),
]


# Functions newer than the oldest NumPy chainrule supports (1.26): those rows skip there.
NEWER = {
    "unstack": hasattr(np, "unstack"),
    "cumulative_sum": hasattr(np, "cumulative_sum"),
    "cumulative_prod-0d": hasattr(np, "cumulative_prod"),
    "trim_zeros-2d": "axis" in inspect.signature(np.trim_zeros).parameters,
    "vector_norm": hasattr(np.linalg, "vector_norm"),
    "matrix_norm": hasattr(np.linalg, "matrix_norm"),
    "vecdot-axis": hasattr(np.linalg, "vecdot"),
}
CALLS = [
    pytest.param(
        *c, id=c[0], marks=pytest.mark.skipif(not NEWER.get(c[0], True), reason="newer NumPy")
    )
    for c in CALLS
]


def _values(out):
    if isinstance(out, (tuple, list)):
        return [_values(o) for o in out]
    return out.data if isinstance(out, cr.Tensor) else np.asarray(out)


def _assert_same(got, want):
    if isinstance(want, (tuple, list)):
        assert len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            _assert_same(g, w)
        return
    want = np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, got.dtype, want)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("label, f, args", CALLS)
def test_matches_numpy(label, f, args):
    tensors = [cr.tensor(a, requires_grad=True) for a in args]
    _assert_same(_values(f(*tensors)), f(*args))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda t: np.polyfit(t, t, 1, full=True), "full=True or cov=True"),
        (lambda t: np.choose(t, [t, t]), "must hold integers"),
        (lambda t: np.choose(np.array([0, 2]), [t, t]), "invalid entry in choice array"),
        (lambda t: np.nanquantile(t, 0.5, method="nearest"), "method='nearest'"),
        (lambda t: np.geomspace(t[0], -t[1], 3), "of one sign"),
        (lambda t: np.polyder(t, -1), "must be positive"),
        (lambda t: np.polyadd(np.poly1d([1.0]), t), "not np.poly1d"),
        (lambda t: np.linalg.outer(np.stack([t, t]), t), "must be 1-D"),
        (lambda t: np.linalg.tensorinv(t, ind=0), "ind must be a positive integer"),
        (lambda t: np.compress(np.array([[True]]), t), "condition must be 1-D"),
    ],
)
def test_refuses_clearly(call, match):
    t = cr.tensor(np.array([1.5, 2.5]), requires_grad=True)
    with pytest.raises((TypeError, ValueError), match=match):
        call(t)


@pytest.mark.skipif(not hasattr(np, "cumulative_sum"), reason="needs NumPy >= 2.1")
def test_cumulative_refuses_out_and_a_missing_axis():
    t = cr.tensor(np.array([1.5, 2.5]), requires_grad=True)
    with pytest.raises(TypeError, match=r"keyword argument.*out"):
        np.cumulative_sum(t, out=np.empty(2))
    with pytest.raises(ValueError, match="axis is required"):
        np.cumulative_prod(np.stack([t, t]))
    with pytest.raises(ValueError, match="at least 2-dimensional"):
        np.matrix_transpose(t)


def test_nondiff_functions_return_constants():
    t = cr.tensor(np.array([3.0, 1.0, 2.0, 1.0]), requires_grad=True)
    for out in (
        np.argpartition(t, 1),
        np.union1d(t, t),
        np.unique(t),
        np.histogram_bin_edges(t, bins=3),
        np.ix_(t, t)[1],
        np.histogram2d(t, t, bins=2)[0],
    ):
        assert isinstance(out, cr.Tensor) and not out.requires_grad
    assert np.linalg.matrix_rank(cr.tensor(np.eye(3), requires_grad=True)) == 3


def test_not_supported_functions_raise_naming_themselves():
    t = cr.tensor(np.zeros(3), requires_grad=True)
    with pytest.raises(TypeError, match=r"np\.put"):
        np.put(t, [0], 1.0)
    with pytest.raises(TypeError, match=r"np\.modf"):
        np.modf(t)
