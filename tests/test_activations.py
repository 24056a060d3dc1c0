"""Activation kernels: stable on arrays and Tensors alike."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from helpers import check_grads

import chainrule as cr
from chainrule.activations import KERNELS

EXTREMES = {
    np.float64: [-1e308, -1000.0, -40.0, -1e-300, 0.0, 1e-300, 40.0, 1000.0, 1e308],
    np.float32: [-3e38, -100.0, -1e-30, 0.0, 1e-30, 100.0, 3e38],
}


@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: k.__name__)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_finite_without_warnings_at_extreme_inputs(kernel, dtype):
    x = np.array(EXTREMES[dtype], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = kernel(x)
        one_sided = [
            kernel(x[x <= 0]),
            kernel(x[x >= 0]),
            kernel(x[:, None]) if kernel is not cr.logsumexp else out,
        ]
    assert isinstance(out, np.ndarray) and out.dtype == dtype
    if kernel is cr.log_softmax:
        # The one value that cannot be finite: log_softmax(-max) next to +max is about
        # -2 * max, below the float range; it is -inf as IEEE overflow rounds.
        assert np.isneginf(out[0]) and np.all(np.isfinite(out[1:]))
    else:
        assert np.all(np.isfinite(out)), out
    for o in one_sided:
        assert np.all(np.isfinite(o)), o


@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: k.__name__)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gradients_at_extreme_inputs_are_finite(kernel, dtype):
    x = cr.tensor(np.array(EXTREMES[dtype], dtype=dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kernel(x).backward()  # a ones head gradient (summing -1e308s would overflow)
    assert x.grad.dtype == dtype and np.all(np.isfinite(x.grad))


@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: k.__name__)
def test_zero_dimensional_and_empty_inputs(kernel):
    zero_d = kernel(np.array(0.5))
    assert np.shape(zero_d) == () and np.isfinite(zero_d)
    empty = kernel(np.zeros((0, 3)))
    if kernel is cr.logsumexp:  # reduces over everything: the log of an empty sum
        assert np.shape(empty) == () and empty == -np.inf, empty
    else:
        assert empty.shape == (0, 3), empty.shape


@pytest.mark.parametrize(
    "kernel",
    [cr.sigmoid, cr.relu, cr.tanh, cr.softplus, cr.log_sigmoid, cr.softmax, cr.log_softmax],
)
def test_shape_preserved_and_integers_promoted(kernel):
    assert kernel(np.ones((2, 3))).shape == (2, 3)
    assert kernel(np.array([1, 2, 3])).dtype == np.float64


def test_array_in_array_out_tensor_in_recorded_tensor_out():
    assert type(cr.sigmoid(np.array([1.0]))) is np.ndarray
    t = cr.sigmoid(cr.tensor([1.0], requires_grad=True))
    assert isinstance(t, cr.Tensor) and t.requires_grad and t._node.prim.name == "sigmoid"


# ------------------------------------------------------------- the sigmoid


def test_sigmoid_example_1_moderate_inputs():
    np.testing.assert_allclose(
        cr.sigmoid(np.array([-2.0, 0.0, 2.0])), [0.1192, 0.5, 0.8808], atol=1e-4
    )


def test_sigmoid_is_exactly_one_half_at_zero_and_symmetric():
    assert cr.sigmoid(np.array(0.0)) == 0.5
    assert cr.sigmoid(np.array(0.0, np.float32)) == np.float32(0.5)
    x = np.linspace(-30, 30, 601)
    np.testing.assert_allclose(cr.sigmoid(-x), 1 - cr.sigmoid(x), rtol=0, atol=1e-15)


def test_sigmoid_values_lie_in_the_unit_interval_and_saturate():
    x = np.array([-1e308, -1000.0, 1000.0, 1e308])
    s = cr.sigmoid(x)
    assert np.all((s >= 0) & (s <= 1))
    np.testing.assert_array_equal(s, [0.0, 0.0, 1.0, 1.0])


def test_sigmoid_keeps_precision_in_the_negative_tail():
    np.testing.assert_allclose(
        cr.sigmoid(np.array([-40.0, -700.0])), np.exp([-40.0, -700.0]), rtol=1e-12
    )


def test_sigmoid_backward_example_2_saturated_tails():
    s = cr.sigmoid(np.array([-100.0, 0.0, 100.0]))
    g = cr.sigmoid_backward(np.ones(3), s)
    np.testing.assert_allclose(g, [0.0, 0.25, 0.0], atol=1e-12)
    assert g[1] == 0.25


def test_sigmoid_backward_matches_the_formula_and_finite_differences(rng):
    x = rng.uniform(-5, 5, (3, 4))
    g = rng.standard_normal((3, 4))
    s = cr.sigmoid(x)
    np.testing.assert_allclose(cr.sigmoid_backward(g, s), g * s * (1 - s))
    eps = 1e-6
    numeric = (cr.sigmoid(x + eps) - cr.sigmoid(x - eps)) / (2 * eps) * g
    np.testing.assert_allclose(cr.sigmoid_backward(g, s), numeric, atol=1e-4)


def test_sigmoid_backward_does_not_call_exp(monkeypatch):
    s = cr.sigmoid(np.array([0.3]))
    monkeypatch.setattr(np, "exp", lambda *a, **k: pytest.fail("sigmoid_backward called np.exp"))
    cr.sigmoid_backward(np.ones(1), s)


def test_tensor_sigmoid_rule_uses_the_saved_output():
    x = cr.tensor([-100.0, 0.0, 100.0], requires_grad=True)
    cr.sigmoid(x).sum().backward()
    np.testing.assert_allclose(x.grad, [0.0, 0.25, 0.0], atol=1e-12)


# ------------------------------------------------------------- the others


def test_reference_values():
    x = np.array([-3.0, 0.0, 2.0])
    np.testing.assert_allclose(cr.softplus(x), np.log1p(np.exp(x)))
    np.testing.assert_allclose(cr.log_sigmoid(x), np.log(1 / (1 + np.exp(-x))))
    np.testing.assert_allclose(cr.softmax(x), np.exp(x) / np.exp(x).sum())
    np.testing.assert_allclose(cr.log_softmax(x), np.log(np.exp(x) / np.exp(x).sum()))
    np.testing.assert_allclose(cr.logsumexp(x), np.log(np.exp(x).sum()))
    np.testing.assert_allclose(cr.relu(x), [0.0, 0.0, 2.0])
    np.testing.assert_allclose(cr.tanh(x), np.tanh(x))


def test_softmax_axis_and_logsumexp_keepdims():
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(cr.softmax(x, axis=0).sum(axis=0), [1.0, 1.0, 1.0])
    assert cr.logsumexp(x, axis=1, keepdims=True).shape == (2, 1)
    np.testing.assert_allclose(cr.logsumexp(x, axis=1), np.log(np.exp(x).sum(axis=1)))


def test_logsumexp_of_minus_infinity_and_of_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cr.logsumexp(np.array([-np.inf, -np.inf])) == -np.inf
        assert cr.logsumexp(np.zeros(0)) == -np.inf


@pytest.mark.parametrize("kernel", [cr.sigmoid, cr.softplus, cr.log_sigmoid, cr.tanh])
def test_gradients_far_in_the_tails(kernel):
    check_grads(kernel, np.array([-30.0, -8.0, 8.0, 30.0]))


def test_softmax_cross_entropy_gradient():
    logits = cr.tensor(np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]]), requires_grad=True)
    labels = np.array([0, 1])
    loss = -cr.log_softmax(logits)[np.arange(2), labels].mean()
    loss.backward()
    p = cr.softmax(logits.data)
    expected = p.copy()
    expected[np.arange(2), labels] -= 1
    np.testing.assert_allclose(logits.grad, expected / 2)


def test_every_public_kernel_is_in_the_checked_list():
    from chainrule import activations

    kernels = {k.__name__ for k in KERNELS}
    assert set(activations.__all__) - {"sigmoid_backward"} == kernels
