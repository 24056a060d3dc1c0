"""Realistic bugs once planted in the rules while the whole suite still passed.

Each test here names the bug it kills, and was checked by planting that bug in
``src/``, watching the test fail, and reverting (see "How we test" in the
registry's manual, ``src/chainrule/_registry.py``). The values they compare
against are closed forms, never another chainrule code path.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

# --------------------------------------------------------- power at a zero base

# d/dx x**p at x == 0: p * 0**(p - 1), i.e. 1 for p == 1, 0 for p == 0 and p > 1.
ZERO_BASE_SLOPES = [(0, 0.0), (1, 1.0), (2, 0.0), (3, 0.0), (4, 0.0), (2.5, 0.0), (1.0, 1.0)]


@pytest.mark.parametrize("p, slope", ZERO_BASE_SLOPES, ids=lambda v: repr(v))
@pytest.mark.parametrize("power", [np.power, np.float_power], ids=["power", "float_power"])
def test_power_with_a_scalar_exponent_at_a_zero_base(power, p, slope):
    """Kills the power rule rewritten as ``y * ans / x`` (0 / 0 = NaN at a zero base).

    The bases mix zeros with nonzero values, whose slopes are p * x**(p - 1)."""
    x = np.array([0.0, 1.5, 0.0, 0.7])
    expected = np.array([slope, p * 1.5 ** (p - 1), slope, p * 0.7 ** (p - 1)])
    np.testing.assert_allclose(cr.grad(lambda z: np.sum(power(z, p)))(x), expected, rtol=1e-14)
    _, tangent = cr.jvp(lambda z: power(z, p), (x,), (np.ones(4),))
    np.testing.assert_allclose(tangent, expected, rtol=1e-14)


def test_power_operator_at_a_zero_base_first_and_second_order():
    """Kills the power rule rewritten as ``y * ans / x``, through ``x ** p`` on a Tensor
    (the cube and fourth power are computed by multiplication, the gradient is not)."""
    x = cr.tensor([0.0, 0.0, 0.0, 0.0], requires_grad=True)
    (x**1 + x**2 + x**3 + x**4).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0, 1.0, 1.0])
    # Second order at zero: d2/dx2 x**2 = 2, x**3 -> 0, x**4 -> 0.
    np.testing.assert_array_equal(cr.hessian(lambda z: np.sum(z**2))(np.zeros(2)), 2 * np.eye(2))
    np.testing.assert_array_equal(cr.hessian(lambda z: np.sum(z**3))(np.zeros(2)), np.zeros((2, 2)))
    np.testing.assert_array_equal(cr.grad(cr.grad(lambda z: z**4))(0.0), 0.0)


@pytest.mark.parametrize("power", [np.power, np.float_power], ids=["power", "float_power"])
def test_power_with_a_tensor_exponent_at_a_zero_base(power):
    """Kills the power rule rewritten as ``y * ans / x``, with the exponent a Tensor too.

    The exponent's slope at a zero base is 0 (x**y log x -> 0 as x -> 0+, y > 0)."""
    y = np.array([0.0, 1.0, 2.0, 3.0, 2.5, 1.0])
    x = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 2.0])
    gx, gy = cr.grad(lambda a, b: np.sum(power(a, b)), argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gx, [0.0, 1.0, 0.0, 0.0, 0.0, 1.0], rtol=1e-14)
    np.testing.assert_allclose(gy, [0.0, 0.0, 0.0, 0.0, 0.0, 2.0 * np.log(2.0)], rtol=1e-14)
    tx, ty = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), np.array([0.5, -1.0, 1.5, 2.0, 1.0, 0.25])
    _, tangent = cr.jvp(lambda a, b: power(a, b), (x, y), (tx, ty))
    np.testing.assert_allclose(tangent, gx * tx + gy * ty, rtol=1e-14)


def test_square_root_slope_at_zero_is_infinite_not_nan():
    """Kills the power rule rewritten as ``y * ans / x``: 0 ** 0.5 has the one-sided
    slope +inf (the limit from x > 0), where the bug gives 0.5 * 0 / 0 = NaN."""
    g = cr.grad(lambda z: np.sum(z**0.5))(np.array([0.0, 4.0]))
    np.testing.assert_array_equal(g, [np.inf, 0.25])


# ------------------------------------------- remainder and fmod, negative quotients

# Pairs with x / y of either sign, away from the integers where both functions jump:
# quotients -2.3, -0.6, 1.7, -1.4 (x and y of mixed signs).
Q = np.array([-2.3, -0.6, 1.7, -1.4])
Y = np.array([1.5, -0.8, -1.2, 2.0])
X = Q * Y


def test_remainder_divisor_slope_uses_floor_for_negative_quotients():
    """Kills remainder's divisor gradient written with ``trunc`` instead of ``floor``
    (equal for x / y > 0, off by one for x / y < 0)."""
    gx, gy = cr.grad(lambda a, b: np.sum(np.remainder(a, b)), argnums=(0, 1))(X, Y)
    np.testing.assert_array_equal(gx, np.ones(4))
    np.testing.assert_allclose(gy, -np.floor(Q), rtol=1e-14)  # 3, 1, -1, 2
    _, tangent = cr.jvp(lambda b: X % b, (Y,), (np.ones(4),))
    np.testing.assert_allclose(tangent, -np.floor(Q), rtol=1e-14)


def test_fmod_divisor_slope_uses_trunc_for_negative_quotients():
    """Kills fmod's divisor gradient written with ``floor`` instead of ``trunc`` (the
    mirror of the remainder bug: equal for x / y > 0, off by one for x / y < 0)."""
    gx, gy = cr.grad(lambda a, b: np.sum(np.fmod(a, b)), argnums=(0, 1))(X, Y)
    np.testing.assert_array_equal(gx, np.ones(4))
    np.testing.assert_allclose(gy, -np.trunc(Q), rtol=1e-14)  # 2, 0, -1, 1
    _, tangent = cr.jvp(lambda b: np.fmod(X, b), (Y,), (np.ones(4),))
    np.testing.assert_allclose(tangent, -np.trunc(Q), rtol=1e-14)


# ------------------------------------------------------- forward mode in float32

X32 = np.array([0.3, -1.2, 2.0], dtype=np.float32)
FLOAT32_TANGENTS = [
    ("sin", np.sin, np.cos),
    ("exp", np.exp, np.exp),
    ("tanh", np.tanh, lambda x: 1 - np.tanh(x) ** 2),
    ("square-times-x", lambda x: x**2 * x, lambda x: 3 * x**2),
    ("sigmoid", cr.sigmoid, lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2),
]


@pytest.mark.parametrize("name, f, slope", FLOAT32_TANGENTS, ids=[r[0] for r in FLOAT32_TANGENTS])
@pytest.mark.parametrize("tangent_dtype", [np.float64, np.float32])
def test_jvp_on_float32_data_gives_float32_tangents(name, f, slope, tangent_dtype):
    """Kills forward mode that does not cast tangents: ``cr.jvp`` on float32 data
    returned float64 tangents (a float64 tangent, as np.ones gives, leaking through)."""
    v = np.array([1.0, -0.5, 2.0], dtype=tangent_dtype)
    out, tangent = cr.jvp(f, (X32,), (v,))
    assert out.dtype == np.float32, f"{name}: output dtype {out.dtype}"
    assert tangent.dtype == np.float32, f"{name}: tangent dtype {tangent.dtype}"
    x64 = X32.astype(np.float64)
    np.testing.assert_allclose(tangent, slope(x64) * v, rtol=1e-5, atol=1e-6)


def test_jvp_on_float32_through_reductions_and_matmul():
    """Kills forward mode that does not cast tangents, through non-elementwise rules."""
    a = np.array([[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]], dtype=np.float32)
    v = np.array([0.1, 0.2, 0.3])  # float64, as a user writes it
    out, tangent = cr.jvp(lambda x: np.sum((a @ x) ** 2), (X32,), (v,))
    assert out.dtype == np.float32 and tangent.dtype == np.float32, (out.dtype, tangent.dtype)
    a64, x64 = a.astype(np.float64), X32.astype(np.float64)
    np.testing.assert_allclose(tangent, 2 * (a64 @ x64) @ (a64 @ v), rtol=1e-5)
    pair, tangents = cr.jvp(lambda x: (np.max(x), np.mean(x)), (X32,), (v,))
    assert [t.dtype for t in tangents] == [np.float32, np.float32], [t.dtype for t in tangents]
    np.testing.assert_allclose(tangents, [v[2], v.mean()], rtol=1e-6)


# ----------------------------------------------------- Hessian cross blocks

A = np.array([[1.0, 2.0], [0.5, -1.0], [3.0, 0.0], [-2.0, 1.5]])  # 4 x 2
B = np.array([[0.2, 1.0, -0.7], [1.1, 0.0, 0.4], [-0.3, 2.0, 1.0], [0.6, -1.4, 0.8]])  # 4 x 3
C = np.array([1.0, -2.0, 0.5, 3.0])


def bilinear(x, y):
    """f(x, y) = sum(c * (A x) * (B y)) + sum(x**3) + sum(cos y): its cross blocks are
    the non-square, non-symmetric A^T diag(c) B and its transpose."""
    return np.sum(C * (A @ x) * (B @ y)) + np.sum(x**3) + np.sum(np.cos(y))


def test_hessian_cross_blocks_of_different_sizes_match_the_closed_form():
    """Kills Hessian cross blocks assembled transposed: with x and y of different sizes
    the transposed block has the other's layout and differs from the closed form."""
    x, y = np.array([0.4, -1.1]), np.array([0.3, 2.0, -0.5])
    (hxx, hxy), (hyx, hyy) = cr.hessian(bilinear, argnums=(0, 1))(x, y)
    cross = A.T @ np.diag(C) @ B  # d2f / dx dy, 2 x 3
    assert hxy.shape == (2, 3) and hyx.shape == (3, 2), (hxy.shape, hyx.shape)
    np.testing.assert_allclose(hxx, np.diag(6 * x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(hxy, cross, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(hyx, cross.T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(hyy, np.diag(-np.cos(y)), rtol=1e-12, atol=1e-12)


def test_hessian_cross_block_of_matrix_arguments():
    """Kills transposed Hessian cross blocks for inputs of several dimensions:
    f(W, v) = sum(c * (W @ v)) for W 2 x 3, v 3 has d2f / dW_ij dv_k = c_i [j == k]."""
    c = np.array([2.0, -1.0])
    w, v = np.arange(6.0).reshape(2, 3), np.array([1.0, -1.0, 0.5])
    (_, hwv), (hvw, _) = cr.hessian(lambda a, b: np.sum(c * (a @ b)), argnums=(0, 1))(w, v)
    expected = c[:, None, None] * np.eye(3)[None, :, :]  # shape (2, 3, 3)
    np.testing.assert_allclose(hwv, expected, rtol=1e-14)
    np.testing.assert_allclose(hvw, np.moveaxis(expected, 2, 0), rtol=1e-14)


# ------------------------------------------- Function with a constant first input


class Affine(cr.Function):
    """forward(a, b) = a * b + 3 b, so d/da = b and d/db = a + 3: different gradients."""

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a * b + 3 * b

    def backward(self, dy):
        a, b = self.saved_tensors
        return dy * b, dy * (a + 3)


@pytest.mark.parametrize("constant", ["array", "tensor"])
def test_function_gradients_go_to_inputs_by_index_with_a_constant_first(constant):
    """Kills a custom Function's gradients picked by position among the grad-requiring
    inputs instead of by input index: ``F()(constant, param)`` gave ``param`` the
    constant's gradient."""
    a = np.array([2.0, -1.0])
    const = a if constant == "array" else cr.tensor(a)  # a Tensor not requiring grad
    param = cr.tensor([0.5, 4.0], requires_grad=True)
    Affine()(const, param).sum().backward()
    np.testing.assert_array_equal(param.grad, a + 3)  # not b, the first returned gradient


def test_function_gradients_by_index_around_a_constant_in_the_middle():
    """Kills gradients picked by position among the grad-requiring inputs, with the
    constant between two parameters."""

    class Three(cr.Function):
        def forward(self, a, k, b):
            self.save_for_backward(a, b)
            return a * k + 2 * b

        def backward(self, dy):
            a, b = self.saved_tensors
            return dy * 10.0, dy * a, dy * 2.0

    a = cr.tensor([1.0, 1.0], requires_grad=True)
    b = cr.tensor([1.0, 1.0], requires_grad=True)
    Three()(a, np.array([5.0, 6.0]), b).sum().backward()
    np.testing.assert_array_equal(a.grad, [10.0, 10.0])
    np.testing.assert_array_equal(b.grad, [2.0, 2.0])
    g = cr.grad(lambda p: np.sum(Affine()(np.array([2.0, -1.0]), p)))(np.array([0.5, 4.0]))
    np.testing.assert_array_equal(g, [5.0, 2.0])
