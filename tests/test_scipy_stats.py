"""chainrule.scipy.stats: SciPy's values on arrays, gradients in x and every parameter."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

ss = pytest.importorskip("scipy.stats")
from chainrule.scipy import stats as cs  # noqa: E402

X = np.array([-1.5, 0.3, 2.0])
POSITIVE = np.array([0.2, 1.3, 4.0])
UNIT = np.array([-0.1, 0.1, 0.5, 0.9, 1.2])

# (name, method, x, shape parameters, loc, scale): values must equal SciPy's.
VALUE_CASES = [
    *[("norm", m, X, (), 0.5, 2.0) for m in ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")],
    *[("t", m, X, (3.5,), 0.5, 2.0) for m in ("logpdf", "pdf", "cdf", "logcdf")],
    *[("gamma", m, X, (2.5,), -0.5, 2.0) for m in ("logpdf", "pdf", "cdf", "logcdf")],
    *[("chi2", m, POSITIVE, (3.0,), 0.1, 1.5) for m in ("logpdf", "pdf", "cdf", "logcdf")],
    *[("beta", m, UNIT, (2.5, 1.5), 0.0, 1.0) for m in ("logpdf", "pdf", "cdf", "logcdf")],
]


@pytest.mark.parametrize(("dist", "method", "x", "shapes", "loc", "scale"), VALUE_CASES)
def test_values_equal_scipy(dist, method, x, shapes, loc, scale):
    ours = getattr(getattr(cs, dist), method)(x, *shapes, loc, scale)
    theirs = getattr(getattr(ss, dist), method)(x, *shapes, loc, scale)
    assert np.shape(ours) == np.shape(theirs)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-300)


def test_values_on_tensors_equal_scipy_and_defaults_match():
    t = cr.tensor(X)
    np.testing.assert_allclose(cs.norm.logpdf(t).data, ss.norm.logpdf(X), rtol=1e-12)
    np.testing.assert_allclose(
        cs.norm.ppf(np.array([0.1, 0.7]), 1.0, 2.0), ss.norm.ppf([0.1, 0.7], 1.0, 2.0)
    )
    np.testing.assert_allclose(cs.t.cdf(t, 4.0).data, ss.t.cdf(X, 4.0), rtol=1e-12)


def test_poisson_values_equal_scipy():
    k = np.array([0, 1, 3, 7, -1, 2.5])
    for m in ("logpmf", "pmf", "cdf", "logcdf"):
        np.testing.assert_allclose(
            getattr(cs.poisson, m)(k, 2.5), getattr(ss.poisson, m)(k, 2.5), rtol=1e-12
        )
    np.testing.assert_allclose(
        cs.poisson.pmf(k, 2.5, loc=1), ss.poisson.pmf(k, 2.5, loc=1), rtol=1e-12
    )


def test_multivariate_normal_values_equal_scipy(rng):
    a = rng.standard_normal((3, 3))
    cov, mean, x = a @ a.T + 3 * np.eye(3), rng.standard_normal(3), rng.standard_normal((5, 3))
    mvn, ref = cs.multivariate_normal, ss.multivariate_normal
    np.testing.assert_allclose(mvn.logpdf(x, mean, cov), ref.logpdf(x, mean, cov), rtol=1e-12)
    np.testing.assert_allclose(mvn.pdf(x[0], mean, cov), ref.pdf(x[0], mean, cov), rtol=1e-12)
    diag = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(mvn.logpdf(x, mean, diag), ref.logpdf(x, mean, diag), rtol=1e-12)
    # dimension 1: a vector x is several points
    np.testing.assert_allclose(
        mvn.logpdf(np.array([0.1, 0.2]), 0.5, 2.0), ref.logpdf([0.1, 0.2], 0.5, 2.0)
    )
    np.testing.assert_allclose(mvn.entropy(mean, cov), ref.entropy(mean, cov), rtol=1e-12)
    assert np.shape(mvn.logpdf(x[0], mean, cov)) == ()


def test_dirichlet_values_equal_scipy():
    alpha = np.array([1.5, 2.0, 0.7])
    x = np.array([[0.2, 0.3], [0.5, 0.1], [0.3, 0.6]])
    np.testing.assert_allclose(
        cs.dirichlet.logpdf(x, alpha), ss.dirichlet.logpdf(x, alpha), rtol=1e-12
    )
    np.testing.assert_allclose(
        cs.dirichlet.pdf(x[:, 0], alpha), ss.dirichlet.pdf(x[:, 0], alpha), rtol=1e-12
    )
    # K - 1 components: the last is 1 - sum
    np.testing.assert_allclose(
        cs.dirichlet.pdf(x[:2], alpha), ss.dirichlet.pdf(x[:2], alpha), rtol=1e-12
    )


# Functions of (x, parameters...), checked to second order in every float argument.
GRAD_CASES = {
    "norm.logpdf": (lambda x, m, s: cs.norm.logpdf(x, m, s), (X, 0.3, 1.7)),
    "norm.cdf": (lambda x, m, s: cs.norm.cdf(x, m, s), (X, 0.3, 1.7)),
    "norm.logcdf": (
        lambda x, m, s: cs.norm.logcdf(x, m, s),
        (np.array([-12.0, 0.2, 3.0]), 0.3, 1.7),
    ),
    "norm.logsf": (lambda x, m, s: cs.norm.logsf(x, m, s), (np.array([-3.0, 0.2, 12.0]), 0.3, 1.7)),
    "norm.ppf": (lambda q, m, s: cs.norm.ppf(q, m, s), (np.array([0.1, 0.6]), 0.3, 1.7)),
    "t.logpdf": (lambda x, d, m, s: cs.t.logpdf(x, d, m, s), (X, 2.5, 0.3, 1.7)),
    "t.cdf": (lambda x, m, s: cs.t.cdf(x, 2.5, m, s), (np.array([-3.0, 0.3, 1.0]), 0.3, 1.7)),
    "gamma.logpdf": (
        lambda x, a, m, s: cs.gamma.logpdf(x, a, m, s),
        (np.array([0.5, 2.0]), 2.5, 0.1, 1.3),
    ),
    "gamma.cdf": (lambda x, m, s: cs.gamma.cdf(x, 2.5, m, s), (np.array([0.5, 2.0]), 0.1, 1.3)),
    "chi2.logpdf": (lambda x, d, s: cs.chi2.logpdf(x, d, 0.0, s), (np.array([0.3, 2.6]), 2.5, 1.2)),
    "chi2.logcdf": (lambda x, s: cs.chi2.logcdf(x, 2.5, 0.0, s), (np.array([0.3, 2.6]), 1.2)),
    "beta.logpdf": (
        lambda x, a, b, s: cs.beta.logpdf(x, a, b, 0.0, s),
        (np.array([0.3, 0.6]), 2.5, 1.3, 1.1),
    ),
    "beta.cdf": (lambda x, s: cs.beta.cdf(x, 2.5, 1.3, 0.0, s), (np.array([0.3, 0.6]), 1.1)),
    "poisson.logpmf": (lambda mu: cs.poisson.logpmf(np.array([0, 2, 5]), mu), (2.5,)),
    "poisson.cdf": (lambda mu: cs.poisson.logcdf(np.array([0, 2, 5]), mu), (2.5,)),
    "dirichlet.logpdf": (
        lambda x, a: cs.dirichlet.logpdf(x, a),
        (np.array([[0.2, 0.3], [0.5, 0.1]]), np.array([1.5, 2.0, 0.7])),
    ),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_gradients_in_x_and_parameters_to_second_order(name):
    fn, args = GRAD_CASES[name]
    args = tuple(np.asarray(a, dtype=np.float64) for a in args)
    assert cr.gradcheck(fn, *args, order=2)


def test_multivariate_normal_gradients_in_x_mean_and_cov(rng):
    a = rng.standard_normal((3, 3))
    x, mean = rng.standard_normal((4, 3)), rng.standard_normal(3)
    fn = lambda x, m, a: cs.multivariate_normal.logpdf(x, m, a @ a.T + np.eye(3))
    assert cr.gradcheck(fn, x, mean, a, order=2)
    entropy = lambda a: cs.multivariate_normal.entropy(None, a @ a.T + np.eye(3))
    assert cr.gradcheck(entropy, a)


def test_norm_logpdf_gradient_is_the_known_formula():
    g = cr.grad(lambda m, s: cs.norm.logpdf(1.0, m, s), argnums=(0, 1))(0.5, 2.0)
    np.testing.assert_allclose(g, [0.5 / 4, -1 / 2 + 0.25 / 8])


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (lambda d: cs.t.cdf(0.5, d), r"t\.cdf: no derivative rule with respect to df"),
        (lambda d: cs.t.logcdf(0.5, d), r"t\.cdf: no derivative rule with respect to df"),
        (
            lambda a: cs.gamma.cdf(1.0, a),
            r"gammainc: no derivative rule with respect to the shape a",
        ),
        (
            lambda d: cs.chi2.cdf(1.0, d),
            r"gammainc: no derivative rule with respect to the shape a",
        ),
        (
            lambda a: cs.beta.cdf(0.3, a, 2.0),
            r"betainc: no derivative rule with respect to the shape a",
        ),
    ],
)
def test_shape_gradients_with_no_rule_raise(fn, message):
    with pytest.raises(NotImplementedError, match=message):
        cr.grad(fn)(2.5)
    with pytest.raises(NotImplementedError, match=message):
        cr.jvp(fn, (2.5,), (1.0,))  # forward mode too
    # Not asking for that gradient is fine: the value and the x-gradient still work.
    assert np.isfinite(fn(2.5))


def test_cdf_x_gradient_works_with_a_constant_shape_tensor():
    df = cr.tensor(3.0)  # does not require grad
    np.testing.assert_allclose(
        cr.grad(lambda x: cs.t.cdf(x, df))(0.4), ss.t.pdf(0.4, 3.0), rtol=1e-12
    )


def test_forward_mode_matches_reverse():
    f = lambda s: cs.t.cdf(np.array([0.3, 1.2]), 2.5, 0.1, s)
    _, tangent = cr.jvp(f, (np.array(1.5),), (np.array(1.0),))
    np.testing.assert_allclose(tangent, cr.jacobian(f)(np.array(1.5)), rtol=1e-10)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: cs.norm.logpdf(0.0, scale=0.0),
            ValueError,
            r"norm\.logpdf: scale must be positive",
        ),
        (lambda: cs.gamma.logpdf(1.0, -1.0), ValueError, r"gamma\.logpdf: a must be positive"),
        (lambda: cs.t.cdf(1.0, np.nan), ValueError, r"t\.cdf: df must be positive \(and not NaN\)"),
        (
            lambda: cs.poisson.pmf(cr.tensor(2.0, requires_grad=True), 1.0),
            TypeError,
            r"k is a count",
        ),
        (lambda: cs.dirichlet.logpdf(np.array([0.5, 0.6]), np.ones(2)), ValueError, r"simplex"),
        (lambda: cs.dirichlet.logpdf(np.ones(4) / 4, np.ones(2)), ValueError, r"first axis"),
        (
            lambda: cs.multivariate_normal.logpdf(np.zeros(2), cov=np.eye(3)),
            ValueError,
            r"dimension 3",
        ),
        (
            lambda: cs.multivariate_normal.logpdf(np.zeros(2), cov=-np.eye(2)),
            ValueError,
            r"not positive definite",
        ),
        (
            lambda: cs.multivariate_normal.logpdf(np.zeros(2), np.zeros(2), np.ones((2, 3))),
            ValueError,
            r"cov must be",
        ),
    ],
)
def test_bad_input_is_refused_clearly(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_lists_are_accepted_as_scipy_does():
    np.testing.assert_allclose(
        cs.norm.logpdf([0.0, 1.0], [0.5, 0.0], [1.0, 2.0]),
        ss.norm.logpdf([0.0, 1.0], [0.5, 0.0], [1.0, 2.0]),
    )
    np.testing.assert_allclose(
        cs.beta.logpdf([0.2, 0.7], [2.0, 3.0], [1.5, 2.5]),
        ss.beta.logpdf([0.2, 0.7], [2.0, 3.0], [1.5, 2.5]),
    )
    np.testing.assert_allclose(
        cs.poisson.pmf([1, 2], [0.5, 3.0]), ss.poisson.pmf([1, 2], [0.5, 3.0])
    )
