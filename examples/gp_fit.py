"""Fit a Gaussian process's hyperparameters by maximising the log marginal likelihood.

The likelihood is plain NumPy linear algebra (Cholesky, triangular solves via
np.linalg.solve, slogdet); cr.minimize differentiates it exactly. The result is
checked against scikit-learn's GaussianProcessRegressor with the same kernel,
ConstantKernel * RBF + WhiteKernel, when scikit-learn is installed.

Run: python examples/gp_fit.py
Needs SciPy (and scikit-learn for the comparison): pip install "chainrule[examples]"
"""

from __future__ import annotations

import importlib.util
import sys

import numpy as np

import chainrule as cr

JITTER = 1e-10  # added to the diagonal, as scikit-learn's default alpha


def make_data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0.0, 10.0, n))
    y = np.sin(x) + 0.5 * np.sin(3.0 * x) + 0.2 * rng.standard_normal(n)
    return x, y


def kernel(theta, xa, xb):
    """variance * exp(-|xa - xb|^2 / (2 length_scale^2)); theta holds logs, as sklearn's."""
    sq = (xa[:, None] - xb[None, :]) ** 2
    return np.exp(theta["log_variance"]) * np.exp(-0.5 * sq / np.exp(2 * theta["log_length_scale"]))


def negative_log_marginal_likelihood(theta, x, y):
    n = len(x)
    k = kernel(theta, x, x) + (np.exp(theta["log_noise"]) + JITTER) * np.eye(n)
    chol = np.linalg.cholesky(k)
    z = np.linalg.solve(chol, y)  # K^-1 = L^-T L^-1, so y^T K^-1 y = |L^-1 y|^2
    _, logdet = np.linalg.slogdet(k)
    return 0.5 * z @ z + 0.5 * logdet + 0.5 * n * np.log(2 * np.pi)


def predict(theta, x, y, x_new):
    """Posterior mean at x_new (for the printout)."""
    k = kernel(theta, x, x) + (np.exp(theta["log_noise"]) + JITTER) * np.eye(len(x))
    return kernel(theta, x_new, x) @ np.linalg.solve(k, y)


def fit_sklearn(x, y, theta0):
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

    bounds = (1e-8, 1e8)  # wide, so that neither fit stops at a bound
    k = ConstantKernel(np.exp(theta0["log_variance"]), bounds) * RBF(
        np.exp(theta0["log_length_scale"]), bounds
    ) + WhiteKernel(np.exp(theta0["log_noise"]), bounds)
    gpr = GaussianProcessRegressor(k, alpha=JITTER, n_restarts_optimizer=0, normalize_y=False)
    gpr.fit(x[:, None], y)
    return gpr


def main(n=40, seed=0, compare=True):
    x, y = make_data(n, seed)
    # logs of the signal variance, the length scale and the noise variance
    theta0 = {"log_variance": 0.0, "log_length_scale": 0.0, "log_noise": np.log(0.1)}
    res = cr.minimize(negative_log_marginal_likelihood, theta0, args=(x, y))
    theta = {k: float(v) for k, v in res.x.items()}
    out = {
        "theta": theta,
        "log_marginal_likelihood": -float(res.fun),
        "result": res,
        "data": (x, y),
    }
    if compare and importlib.util.find_spec("sklearn") is not None:
        gpr = fit_sklearn(x, y, theta0)
        # sklearn's theta: log of (constant, length scale, noise level), in kernel order
        names = ("log_variance", "log_length_scale", "log_noise")
        out["sklearn_theta"] = dict(zip(names, map(float, gpr.kernel_.theta), strict=True))
        out["sklearn_log_marginal_likelihood"] = float(gpr.log_marginal_likelihood_value_)
        # the same function? sklearn's likelihood at our optimum
        ours = np.array([theta[k] for k in names])
        out["sklearn_at_ours"] = float(gpr.log_marginal_likelihood(ours))
    return out


if __name__ == "__main__":
    if importlib.util.find_spec("scipy") is None:
        sys.exit('this example needs SciPy: pip install "chainrule[examples]"')
    out = main()
    print(f"chainrule + BFGS: log marginal likelihood {out['log_marginal_likelihood']:.6f}")
    for name, value in out["theta"].items():
        line = f"  {name:17s} {value: .5f}  ({np.exp(value):.5f})"
        if "sklearn_theta" in out:
            line += f"   sklearn {out['sklearn_theta'][name]: .5f}"
        print(line)
    x, y = out["data"]
    mean = predict(out["theta"], x, y, np.array([2.5, 5.0, 7.5]))
    print(f"posterior mean at 2.5, 5, 7.5: {np.round(mean, 3)}")
    if "sklearn_theta" not in out:
        sys.exit('the comparison needs scikit-learn: pip install "chainrule[examples]"')
    print(f"sklearn:          log marginal likelihood {out['sklearn_log_marginal_likelihood']:.6f}")
    gap = abs(out["log_marginal_likelihood"] - out["sklearn_log_marginal_likelihood"])
    same = abs(out["log_marginal_likelihood"] - out["sklearn_at_ours"])
    worst = max(abs(out["theta"][k] - out["sklearn_theta"][k]) for k in out["theta"])
    print(
        f"differences: likelihood {gap:.2e}, same function {same:.2e}, log-parameters {worst:.2e}"
    )
    if gap > 1e-4 or same > 1e-8 or worst > 1e-2:
        sys.exit("chainrule's fit and scikit-learn's disagree")
