"""Temporary elision: `a * b + c` writes the sum into the product's array.

Only a temporary (a Tensor nothing but the expression holds, whose array nothing
else holds) may be written into; a tensor anyone can still see never is.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule import _elide

N = 2 * _elide.ELIDE_FROM
X0 = np.random.default_rng(3).standard_normal(N)

W = np.random.default_rng(4).standard_normal(N)
# name -> (the operation on the tensor that `make()` returns, the same in NumPy). The
# tensor is made inside the expression: a parameter would be a variable holding it.
UNARY_AND_BINARY = {
    "t + 1": (lambda make: make() + 1.0, lambda a: a + 1.0),
    "1 - t": (lambda make: 1.0 - make(), lambda a: 1.0 - a),
    "-t": (lambda make: -make(), lambda a: -a),
    "np.exp(t)": (lambda make: np.exp(make()), np.exp),
    "np.tanh(t)": (lambda make: np.tanh(make()), np.tanh),
    "t + w": (lambda make: make() + W, lambda a: a + W),
}


# Elision turns itself off where reference counts cannot tell a variable from a
# temporary (Python 3.14's borrowed references may not); before 3.14 it must be on.
ELIDES = bool(_elide.TEMP_REFS)
MUST_ELIDE = sys.implementation.name == "cpython" and sys.version_info < (3, 14)


def test_calibration_found_the_counts_on_this_interpreter():
    if not MUST_ELIDE and not ELIDES:
        pytest.skip("elision is off on this interpreter (its calibration says so)")
    assert set(_elide.TEMP_REFS) == {"op2", "op1", "ufunc1"}


@pytest.mark.parametrize("name", list(UNARY_AND_BINARY))
def test_a_temporary_is_written_into_and_the_gradient_is_unchanged(name):
    op, np_op = UNARY_AND_BINARY[name]
    x = cr.tensor(X0, requires_grad=True)
    made = []

    def temporary():
        t = x * 2.0
        made.append(id(t._data))
        return t

    y = op(temporary)
    assert id(y._data) == made[-1] or not ELIDES
    np.testing.assert_array_equal(y.numpy(), np_op(X0 * 2.0))
    np.sum(y * W).backward()
    elided_grad = x.grad
    x2 = cr.tensor(X0, requires_grad=True)
    t2 = x2 * 2.0  # named: no elision
    np.sum(op(lambda: t2) * W).backward()
    np.testing.assert_array_equal(elided_grad, x2.grad)


@pytest.mark.parametrize("name", list(UNARY_AND_BINARY))
def test_a_named_tensor_is_never_written_into(name):
    op, np_op = UNARY_AND_BINARY[name]
    x = cr.tensor(X0, requires_grad=True)
    t = x * 2.0
    before = t.numpy().copy()
    y = op(lambda: t)
    assert not np.shares_memory(y.numpy(), t.numpy())
    np.testing.assert_array_equal(t.numpy(), before)
    np.testing.assert_array_equal(y.numpy(), np_op(before))


def test_not_into_an_array_a_node_saved_or_a_view_sees():
    x = cr.tensor(X0, requires_grad=True)
    # exp saves its output for its rule: the sum must not overwrite it
    y = np.exp(x * 0.5) + 1.0
    np.sum(y * W).backward()
    np.testing.assert_allclose(x.grad, W * np.exp(X0 * 0.5) * 0.5, rtol=1e-14)
    views = []

    def viewed():
        t = x * 2.0
        views.append(t.numpy())  # someone holds a view of its array
        return t

    _ = viewed() + 1.0
    np.testing.assert_array_equal(views[0], X0 * 2.0)


def test_not_across_dtypes_or_into_a_smaller_array():
    x32 = cr.tensor(X0.astype(np.float32), requires_grad=True)
    y = x32 * 2.0 + W  # float64 result: not written into the float32 product
    assert y.dtype == np.float64
    np.testing.assert_allclose(y.numpy(), X0.astype(np.float32) * 2.0 + W, rtol=1e-6)
    z = x32 * 2.0 + 1.0  # stays float32 (NEP 50), into the product
    assert z.dtype == np.float32
    x = cr.tensor(X0[: N // 4], requires_grad=True)
    big = (x * 2.0).reshape(-1, 1) + W[:2]  # the result is bigger than the product
    assert big.shape == (N // 4, 2)
    np.testing.assert_array_equal(big.numpy(), (X0[: N // 4] * 2.0).reshape(-1, 1) + W[:2])


def test_not_in_forward_or_anomaly_mode():
    f = lambda x: np.exp(x * 2.0) + 1.0
    _, tangent = cr.jvp(f, (X0,), (W,))
    np.testing.assert_allclose(tangent, 2.0 * np.exp(2.0 * X0) * W, rtol=1e-14)
    x = cr.tensor(X0, requires_grad=True)
    with cr.detect_anomaly():
        np.sum(f(x)).backward()
    np.testing.assert_allclose(x.grad, 2.0 * np.exp(2.0 * X0), rtol=1e-14)


def test_float32_stays_float32_through_elision_and_reuse():
    x = cr.tensor(X0.astype(np.float32), requires_grad=True)
    y = np.sum(cr.sigmoid(x) * np.tanh(x) + np.exp(-x * x) + (x * 2.0 + 1.0))
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32
    s, t = 1 / (1 + np.exp(-X0)), np.tanh(X0)
    expected = s * (1 - s) * t + s * (1 - t * t) - 2 * X0 * np.exp(-X0 * X0) + 2.0
    np.testing.assert_allclose(x.grad, expected, rtol=1e-5, atol=1e-6)
