"""chainrule.scipy.linalg: SciPy's values, gradients in every float argument to second order."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

sla = pytest.importorskip("scipy.linalg")
from chainrule.scipy import linalg as cl  # noqa: E402

N = 4


@pytest.fixture
def mats(rng):
    a = rng.standard_normal((N, N)) + 3 * np.eye(N)
    return a, rng.standard_normal((N, 2)), rng.standard_normal(N)


@pytest.mark.parametrize("trans", [0, 1, 2, "N", "T", "C"])
@pytest.mark.parametrize("lower", [False, True])
@pytest.mark.parametrize("unit_diagonal", [False, True])
def test_solve_triangular_values_equal_scipy(mats, trans, lower, unit_diagonal):
    a, b, b1 = mats
    for rhs in (b, b1):
        ours = cl.solve_triangular(a, rhs, trans, lower, unit_diagonal)
        theirs = sla.solve_triangular(a, rhs, trans, lower, unit_diagonal)
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@pytest.mark.parametrize("trans", [0, "T"])
@pytest.mark.parametrize("lower", [False, True])
@pytest.mark.parametrize("unit_diagonal", [False, True])
def test_solve_triangular_gradients_to_second_order(mats, trans, lower, unit_diagonal):
    a, b, b1 = mats
    fn = lambda a, b: cl.solve_triangular(
        a, b, trans=trans, lower=lower, unit_diagonal=unit_diagonal
    )
    assert cr.gradcheck(fn, a, b, order=2)
    assert cr.gradcheck(fn, a, b1)


def test_solve_triangular_gradient_reads_only_its_triangle(mats):
    a, b, _ = mats
    ga = cr.grad(lambda a: cl.solve_triangular(a, b, lower=True, unit_diagonal=True).sum())(a)
    assert np.all(np.triu(ga) == 0) and np.any(ga != 0)


@pytest.mark.parametrize("lower", [False, True])
def test_cho_factor_and_cho_solve_equal_scipy(mats, lower):
    a, b, b1 = mats
    spd = a @ a.T
    c, low = cl.cho_factor(spd, lower=lower)
    c_ref, low_ref = sla.cho_factor(spd, lower=lower)
    assert low == low_ref
    np.testing.assert_allclose(c, c_ref, rtol=1e-12)  # the unused triangle too, as SciPy
    for rhs in (b, b1):
        np.testing.assert_allclose(
            cl.cho_solve((c, low), rhs), sla.cho_solve((c_ref, low_ref), rhs), rtol=1e-10
        )


@pytest.mark.parametrize("lower", [False, True])
def test_cholesky_solve_gradients_to_second_order(mats, lower):
    m, b, _ = mats
    spd = lambda m: m @ m.T + np.eye(N)  # a symmetric input, as cho_factor assumes
    assert cr.gradcheck(lambda m, b: cl.cho_solve(cl.cho_factor(spd(m), lower), b), m, b, order=2)
    assert cr.gradcheck(lambda m: cl.cho_factor(spd(m), lower)[0], m)
    # c from outside cho_factor is differentiated too (its factor triangle)
    c = cl.cho_factor(spd(m), lower)[0]
    assert cr.gradcheck(lambda c, b: cl.cho_solve((c, lower), b), c, b)


def test_sqrtm_value_and_gradients(mats):
    m, _, _ = mats
    spd = m @ m.T + np.eye(N)
    np.testing.assert_allclose(cl.sqrtm(spd), sla.sqrtm(spd), rtol=1e-10)
    assert cr.gradcheck(cl.sqrtm, spd, order=2)  # any direction, not only symmetric ones
    # forward mode (backward transposed) agrees with reverse
    direction = np.eye(N)
    _, tangent = cr.jvp(cl.sqrtm, (spd,), (direction,))
    x = sla.sqrtm(spd)
    np.testing.assert_allclose(x @ tangent + tangent @ x, direction, atol=1e-10)


def test_solve_sylvester_value_and_gradients(mats):
    a, b, _ = mats
    q = b @ b.T
    np.testing.assert_allclose(
        cl.solve_sylvester(a, a.T + 1, q), sla.solve_sylvester(a, a.T + 1, q)
    )
    assert cr.gradcheck(cl.solve_sylvester, a, a.T + 1, q, order=2)
    rect = np.ones((N, 2))
    assert cr.gradcheck(cl.solve_sylvester, a, np.diag([2.0, 3.0]), rect)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: cl.solve_triangular(np.eye(2), np.ones(3)),
            ValueError,
            r"b must have shape \(2,\)",
        ),
        (
            lambda: cl.solve_triangular(np.ones((2, 3)), np.ones(2)),
            ValueError,
            "a must be a square",
        ),
        (
            lambda: cl.solve_triangular(np.eye(2), np.ones(2), trans="X"),
            ValueError,
            "trans must be",
        ),
        (lambda: cl.solve_triangular(np.eye(2), np.array([1.0, np.nan])), ValueError, "finite"),
        (lambda: cl.solve_triangular(np.eye(2) * 1j, np.ones(2)), TypeError, "a must be real"),
        (lambda: cl.cho_factor(-np.eye(2)), np.linalg.LinAlgError, "not positive definite"),
        (lambda: cl.cho_solve(np.eye(2), np.ones(2)), TypeError, r"the \(c, lower\) pair"),
        (lambda: cl.sqrtm(np.diag([-1.0, 1.0])), ValueError, "no real square root"),
        (
            lambda: cl.solve_sylvester(np.eye(2), np.eye(3), np.ones((3, 2))),
            ValueError,
            r"q must have shape \(2, 3\)",
        ),
    ],
)
def test_bad_input_is_refused_clearly(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize(
    "make",
    [
        lambda a, b: lambda p: cl.solve_triangular(a + np.diag(p), b, lower=True),
        lambda a, b: lambda p: cl.solve_triangular(a, b * p[:, None], trans=1),
        lambda a, b: lambda p: cl.sqrtm(a @ a.T + np.diag(p)),
        lambda a, b: lambda p: cl.solve_sylvester(a, a.T, np.diag(p)),
        lambda a, b: lambda p: cl.cho_solve(cl.cho_factor(a @ a.T + np.diag(p)), b),
    ],
)
def test_hessian_with_constant_inputs(mats, make):
    # Constants stay plain arrays: the second backward must still differentiate correctly.
    a, b, _ = mats
    inner = make(a, b)
    f = lambda p: np.sum(inner(p) ** 3)
    x = np.full(N, 2.0)
    h = cr.hessian(f)(x)
    eps = 1e-6
    numeric = np.stack(
        [(cr.grad(f)(x + eps * e) - cr.grad(f)(x - eps * e)) / (2 * eps) for e in np.eye(N)]
    )
    np.testing.assert_allclose(h, numeric, rtol=1e-5, atol=1e-6)


def test_lists_are_accepted_as_scipy_does():
    b = cr.tensor([2.0, 9.0], requires_grad=True)
    x = cl.solve_triangular([[2.0, 0.0], [1.0, 4.0]], b, lower=True)
    np.testing.assert_allclose(x.data, [1.0, 2.0])
    x.sum().backward()
    np.testing.assert_allclose(b.grad, [0.375, 0.25])
    np.testing.assert_allclose(cl.sqrtm([[4.0, 0.0], [0.0, 9.0]]), np.diag([2.0, 3.0]))
