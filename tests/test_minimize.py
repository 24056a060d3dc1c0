"""cr.minimize: SciPy's optimizers fed by chainrule's gradients and Hessian products."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import chainrule as cr

pytest.importorskip("scipy.optimize")


def rosen(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


@pytest.mark.parametrize(
    "method", ["BFGS", "L-BFGS-B", "CG", "Newton-CG", "trust-ncg", "trust-exact", "dogleg"]
)
def test_rosenbrock_reaches_the_minimum(method):
    x0 = np.array([-1.2, 1.0]) if method != "dogleg" else np.array([0.8, 0.6])
    res = cr.minimize(rosen, x0, method=method, tol=1e-10)
    assert res.success, res.message
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-5)


def test_trust_krylov_on_a_quadratic(rng):
    # (on Rosenbrock with a tight tol SciPy's trlib itself warns, with SciPy's own hessp too)
    a = rng.standard_normal((5, 5))
    h = a @ a.T + np.eye(5)
    b = rng.standard_normal(5)
    res = cr.minimize(lambda x: 0.5 * x @ h @ x - b @ x, np.zeros(5), method="trust-krylov")
    assert res.success, res.message
    np.testing.assert_allclose(res.x, np.linalg.solve(h, b), atol=1e-6)


def test_newton_cg_uses_exact_hessian_products():
    res = cr.minimize(rosen, np.array([-1.2, 1.0]), method="Newton-CG", tol=1e-10)
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-6)
    assert res.nhev > 0  # SciPy counted our hessp calls
    assert res.njev == res.nfev  # value and gradient come from one call


def test_gradient_is_exact():
    seen = {}

    def callback(xk):
        seen.setdefault("x", xk.copy())

    res = cr.minimize(rosen, np.array([-1.2, 1.0, 0.5]), callback=callback)
    assert res.success
    # the gradient at the solution is that of the known analytic formula (near zero)
    x = res.x
    analytic = np.zeros(3)
    analytic[:-1] += -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    analytic[1:] += 200 * (x[1:] - x[:-1] ** 2)
    np.testing.assert_allclose(res.jac, analytic, atol=1e-12)
    assert seen["x"].shape == (3,)  # callbacks see SciPy's flat vector


def test_dict_x0_is_unflattened():
    def loss(p, target):
        return np.sum((p["w"] - target) ** 2) + (p["b"] - 3.0) ** 2

    target = np.array([[1.0, 2.0], [3.0, 4.0]])
    res = cr.minimize(loss, {"w": np.zeros((2, 2)), "b": 0.0}, args=(target,))
    assert set(res.x) == {"w", "b"}
    assert res.x["w"].shape == (2, 2)
    np.testing.assert_allclose(res.x["w"], target, atol=1e-6)
    np.testing.assert_allclose(res.x["b"], 3.0, atol=1e-6)


def test_trust_constr_with_bounds_and_float32_start():
    from scipy.optimize import Bounds

    x0 = np.array([0.0, 0.0], np.float32)
    res = cr.minimize(rosen, x0, method="trust-constr", bounds=Bounds([-2, -2], [0.5, 2]))
    assert res.x.dtype == np.float32  # unflatten restores the leaf dtype
    np.testing.assert_allclose(res.x, [0.5, 0.25], atol=1e-3)


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="computes jac itself"):
        cr.minimize(rosen, np.zeros(2), jac=True)
    with pytest.raises(TypeError, match="computes hessp itself"):
        cr.minimize(rosen, np.zeros(2), method="Newton-CG", hessp=lambda x, p: p)
    with pytest.raises(TypeError, match="f must be a function"):
        cr.minimize(3.0, np.zeros(2))
    with pytest.raises(TypeError, match="method must be a method name"):
        cr.minimize(rosen, np.zeros(2), method=len)
    with pytest.raises(TypeError, match="is a str"):
        cr.minimize(rosen, ["x"])


def test_without_scipy_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy.optimize", None)
    with pytest.raises(ImportError, match=r'pip install "chainrule\[scipy\]"'):
        cr.minimize(rosen, np.zeros(2))
