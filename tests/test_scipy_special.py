"""chainrule.scipy.special.logsumexp against SciPy's, and its gradients in a and b."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

sps = pytest.importorskip("scipy.special")
from chainrule.scipy.special import logsumexp  # noqa: E402

KWARGS = [{}, {"axis": 0}, {"axis": 1, "keepdims": True}, {"axis": (0, 1)}, {"axis": -1}]


@pytest.mark.parametrize("kw", KWARGS)
def test_values_equal_scipy(rng, kw):
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    ours, theirs = logsumexp(a, **kw), sps.logsumexp(a, **kw)
    assert np.shape(ours) == np.shape(theirs)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    np.testing.assert_allclose(
        logsumexp(a, b=np.abs(b), **kw), sps.logsumexp(a, b=np.abs(b), **kw), rtol=1e-12
    )
    (v1, s1), (v2, s2) = (
        logsumexp(a, b=b, return_sign=True, **kw),
        sps.logsumexp(a, b=b, return_sign=True, **kw),
    )
    np.testing.assert_allclose(v1, v2, rtol=1e-12)
    np.testing.assert_array_equal(s1, s2)


def test_extreme_values_equal_scipy():
    for a in ([-np.inf, -np.inf], [np.inf, 1.0], [1000.0, 1000.0], [-1000.0, -1001.0]):
        assert logsumexp(np.array(a)) == pytest.approx(sps.logsumexp(np.array(a)), rel=1e-12)
    # a zero weight drops its term, even an infinite one
    assert logsumexp(np.array([np.inf, 1.0]), b=np.array([0.0, 1.0])) == pytest.approx(1.0)


def test_gradient_is_the_softmax_and_second_order_checks(rng):
    a, b = rng.standard_normal((3, 4)), np.abs(rng.standard_normal((3, 4)))
    g = cr.grad(lambda x: logsumexp(x))(a)
    np.testing.assert_allclose(g, np.exp(a) / np.exp(a).sum(), rtol=1e-12)
    assert cr.gradcheck(lambda a, b: logsumexp(a, axis=1, b=b), a, b, order=2)
    assert cr.gradcheck(
        lambda a, b: logsumexp(a, axis=0, b=b, return_sign=True)[0],
        a,
        rng.standard_normal((3, 4)),
        order=2,
    )
    assert cr.gradcheck(lambda a: logsumexp(1000 * a), np.array([1.0, 1.001]))  # no overflow


def test_broadcast_weights_and_tensor_result():
    a = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = cr.tensor([0.5, 2.0], requires_grad=True)
    out = logsumexp(a, axis=1, b=b)
    assert isinstance(out, cr.Tensor)
    np.testing.assert_allclose(out.data, sps.logsumexp(a.data, axis=1, b=b.data), rtol=1e-12)
    out.sum().backward()
    assert a.grad.shape == (2, 2) and b.grad.shape == (2,)


def test_complex_input_is_refused():
    with pytest.raises(TypeError, match="complex inputs are not supported"):
        logsumexp(np.array([1j, 2.0]))


def test_zero_weights_keep_their_gradient():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 2.0])
    np.testing.assert_allclose(logsumexp(a, b=b), sps.logsumexp(a, b=b), rtol=1e-12)
    g = cr.grad(lambda b: logsumexp(a, b=b))(b)
    np.testing.assert_allclose(g, np.exp(a) / np.sum(b * np.exp(a)), rtol=1e-12)
    assert cr.gradcheck(lambda a, b: logsumexp(a, b=b), a, b, order=2)
    # all weights zero: -inf, as SciPy, and no warning
    assert logsumexp(a, b=np.zeros(3)) == -np.inf == sps.logsumexp(a, b=np.zeros(3))
