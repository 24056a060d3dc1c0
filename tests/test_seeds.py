"""Every worked example of the three seed documents, written in chainrule's API."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import Function

# ------------------------------------------- 1. the forum thread on a custom sigmoid


class sigmoid(Function):  # the thread's spelling, with the fix it asks for
    def forward(self, x):
        y = 1 / (1 + np.exp(-x))
        self.save_for_backward(y)
        return y

    def backward(self, dy):
        (y,) = self.saved_tensors
        return dy * y * (1 - y)


class sigmoid_without_dy(Function):  # the documentation bug the thread found
    def forward(self, x):
        y = 1 / (1 + np.exp(-x))
        self.save_for_backward(y)
        return y

    def backward(self, dy):
        (y,) = self.saved_tensors
        return y * (1 - y)


def test_forum_right_result_for_z_equals_y_squared():
    x = cr.tensor([1, 2, 3], dtype=np.float64, requires_grad=True)
    f = sigmoid()
    y = f(x)
    z = y * y
    z.backward()
    np.testing.assert_allclose(x.grad, [0.28746966, 0.18495613, 0.08606823], rtol=1e-6)


def test_forum_backward_without_dy_gives_the_wrong_result_and_gradcheck_says_why():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (sigmoid_without_dy()(x) ** 2).backward()
    assert not np.allclose(x.grad, [0.28746966, 0.18495613, 0.08606823], rtol=1e-3)
    with pytest.raises(cr.GradcheckError, match="ignores its upstream gradient dy"):
        cr.gradcheck(sigmoid_without_dy, np.array([1.0, 2.0, 3.0]))


def test_forum_dy_defaults_to_ones_for_a_vector_output():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    seen = []

    class Probe(sigmoid):
        def backward(self, dy):
            seen.append(dy)
            return super().backward(dy)

    Probe()(x).backward()
    np.testing.assert_array_equal(seen[0], [1.0, 1.0, 1.0])


def test_forum_chain_z_of_x_is_f_of_g_of_h():
    # dy = f.backward(1); dy = g.backward(dy); dy = h.backward(dy); x.grad = dy
    x = cr.tensor([0.5, -1.0], requires_grad=True)
    z = np.sin(np.exp(sigmoid()(x)))
    z.backward()
    s = 1 / (1 + np.exp(-x.data))
    np.testing.assert_allclose(x.grad, np.cos(np.exp(s)) * np.exp(s) * s * (1 - s))


# ------------------------------------------------------ 2. the backprop lecture


def test_lecture_sigmoid_neuron():
    w = cr.tensor([2.0, -3.0, -3.0], requires_grad=True)
    x = cr.tensor([-1.0, -2.0], requires_grad=True)
    dot = w[0] * x[0] + w[1] * x[1] + w[2]
    f = 1.0 / (1 + np.exp(-dot))
    f.backward()
    # the lecture's hand computation
    wd, xd = [2, -3, -3], [-1, -2]
    d = wd[0] * xd[0] + wd[1] * xd[1] + wd[2]
    s = 1.0 / (1 + np.exp(-d))
    ds = (1 - s) * s
    np.testing.assert_allclose(x.grad, [wd[0] * ds, wd[1] * ds])
    np.testing.assert_allclose(w.grad, [xd[0] * ds, xd[1] * ds, 1.0 * ds])
    assert f.item() == pytest.approx(s)


def test_lecture_sigmoid_neuron_with_cr_sigmoid_and_a_dot_product():
    w = cr.tensor([2.0, -3.0, -3.0], requires_grad=True)
    x = np.array([-1.0, -2.0, 1.0])  # the bias as a constant input
    cr.sigmoid(w @ x).backward()
    s = cr.sigmoid(np.array(1.0))
    np.testing.assert_allclose(w.grad, x * s * (1 - s))


def _lecture_staged(x, y):
    sigy = 1.0 / (1 + np.exp(-y))
    num = x + sigy
    sigx = 1.0 / (1 + np.exp(-x))
    xpy = x + y
    xpysqr = xpy**2
    den = sigx + xpysqr
    invden = 1.0 / den
    f = num * invden
    # the lecture's backward pass
    dnum = invden
    dinvden = num
    dden = (-1.0 / (den**2)) * dinvden
    dsigx = (1) * dden
    dxpysqr = (1) * dden
    dxpy = (2 * xpy) * dxpysqr
    dx = (1) * dxpy
    dy = (1) * dxpy
    dx += ((1 - sigx) * sigx) * dsigx
    dx += (1) * dnum
    dsigy = (1) * dnum
    dy += ((1 - sigy) * sigy) * dsigy
    return f, dx, dy


def test_lecture_staged_computation():
    x = cr.tensor(3.0, requires_grad=True)
    y = cr.tensor(-4.0, requires_grad=True)
    sigy = 1.0 / (1 + np.exp(-y))
    num = x + sigy
    sigx = 1.0 / (1 + np.exp(-x))
    xpy = x + y
    xpysqr = xpy**2
    den = sigx + xpysqr
    invden = 1.0 / den
    f = num * invden
    f.backward()
    f_ref, dx, dy = _lecture_staged(3, -4)
    assert f.item() == pytest.approx(f_ref)
    assert x.grad == pytest.approx(dx) and y.grad == pytest.approx(dy)
    assert x.grad == pytest.approx(2.0595697, rel=1e-6) and y.grad == pytest.approx(
        1.5922327, rel=1e-6
    )


def test_lecture_gates_add_multiply_max():
    x = cr.tensor(3.0, requires_grad=True)
    y = cr.tensor(-4.0, requires_grad=True)
    (x + y).backward(np.array(2.0))  # add distributes the gradient unchanged
    assert (x.grad, y.grad) == (2.0, 2.0)
    x.zero_grad(), y.zero_grad()
    (x * y).backward(np.array(2.0))  # multiply swaps the inputs
    assert (x.grad, y.grad) == (-8.0, 6.0)
    x.zero_grad(), y.zero_grad()
    np.maximum(x, y).backward(np.array(2.0))  # max routes to the larger input
    assert (x.grad, y.grad) == (2.0, 0.0)


def test_lecture_gradients_add_up_at_forks():
    x = cr.tensor(2.0, requires_grad=True)
    f = x * x * x + x  # x branches out four times
    f.backward()
    assert x.grad == pytest.approx(3 * 4 + 1)


def test_lecture_vectorized_matrix_gradients():
    rng = np.random.default_rng(0)
    W = cr.tensor(rng.standard_normal((5, 10)), requires_grad=True)
    X = cr.tensor(rng.standard_normal((10, 3)), requires_grad=True)
    D = W.dot(X)
    dD = rng.standard_normal(D.shape)
    D.backward(dD)
    np.testing.assert_allclose(W.grad, dD.dot(X.data.T))
    np.testing.assert_allclose(X.grad, W.data.T.dot(dD))
    assert W.grad.shape == W.shape and X.grad.shape == X.shape


# --------------------------------------------------- 3. the stable sigmoid problem


def test_problem_output_shape_matches_input():
    for shape in [(), (5,), (2, 3), (2, 0, 4)]:
        assert cr.sigmoid(np.zeros(shape)).shape == shape


def test_problem_example_1():
    s = cr.sigmoid(np.array([-2.0, 0.0, 2.0]))
    np.testing.assert_allclose(s, [0.1192, 0.5, 0.8808], atol=1e-4)
    assert s[1] == 0.5
    np.testing.assert_allclose(cr.sigmoid(-np.array([2.0])), 1 - cr.sigmoid(np.array([2.0])))


def test_problem_matches_the_formula_on_moderate_inputs():
    x = np.linspace(-10, 10, 41)
    np.testing.assert_allclose(cr.sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-12)


def test_problem_stable_at_extreme_inputs():
    x = np.array([-1e308, -1000.0, -745.0, 745.0, 1000.0, 1e308])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = cr.sigmoid(x)
    assert np.all(np.isfinite(s)) and np.all((s >= 0) & (s <= 1))


def test_problem_example_2_backward_with_saturated_tails():
    s = cr.sigmoid(np.array([-100.0, 0.0, 100.0]))
    np.testing.assert_allclose(s, [0.0, 0.5, 1.0], atol=1e-12)
    g = cr.sigmoid_backward(np.array([1.0, 1.0, 1.0]), s)
    np.testing.assert_allclose(g, [0.0, 0.25, 0.0], atol=1e-12)


def test_problem_backward_matches_s_times_one_minus_s_times_grad_out():
    rng = np.random.default_rng(1)
    s = cr.sigmoid(rng.standard_normal(10))
    g = rng.standard_normal(10)
    np.testing.assert_allclose(cr.sigmoid_backward(g, s), s * (1 - s) * g)


def test_problem_backward_matches_finite_differences():
    x = np.linspace(-6, 6, 13)
    g = np.ones_like(x)
    h = 1e-5
    numeric = (cr.sigmoid(x + h) - cr.sigmoid(x - h)) / (2 * h)
    np.testing.assert_allclose(cr.sigmoid_backward(g, cr.sigmoid(x)), numeric, atol=1e-4)
