"""Recover a damped oscillator's frequency and damping from noisy samples with cr.minimize.

The model is a plain NumPy time-stepping loop (semi-implicit Euler), written with
no thought of autodiff: floats in, a list of positions, np.stack at the end. Given
Tensors, the same code records every step, so cr.minimize gets exact gradients of
the misfit through the whole simulation, and BFGS finds the parameters.

Run: python examples/fit_oscillator.py
Needs SciPy: pip install "chainrule[scipy]"
"""

from __future__ import annotations

import importlib.util
import sys

import numpy as np

import chainrule as cr

TRUTH = {"omega": 2.0, "damping": 0.15}  # angular frequency (rad/s) and damping ratio


def simulate(omega, damping, n_steps=600, dt=0.01, x0=1.0, v0=0.0):
    """Positions of x'' = -2 damping omega x' - omega^2 x, by semi-implicit Euler."""
    x, v = x0, v0
    positions = []
    for _ in range(n_steps):
        acceleration = -2.0 * damping * omega * v - omega**2 * x
        v = v + dt * acceleration  # velocity first, then position with the new velocity:
        x = x + dt * v  # the symplectic variant, stable for oscillators
        positions.append(x)
    return np.stack(positions)


def main(n_steps=600, every=10, noise=0.02, seed=0, start=None, method="BFGS"):
    """Simulate the truth, add noise, fit from ``start``; return the fit and the truth."""
    rng = np.random.default_rng(seed)
    observed = simulate(**TRUTH, n_steps=n_steps)[::every]
    observed = observed + noise * rng.standard_normal(observed.shape)

    def misfit(params):
        predicted = simulate(params["omega"], params["damping"], n_steps=n_steps)[::every]
        return np.mean((predicted - observed) ** 2)

    start = start or {"omega": 1.6, "damping": 0.4}
    result = cr.minimize(misfit, start, method=method)
    fitted = {k: float(v) for k, v in result.x.items()}
    return {"fitted": fitted, "truth": dict(TRUTH), "result": result, "start": start}


if __name__ == "__main__":
    if importlib.util.find_spec("scipy") is None:
        sys.exit('this example needs SciPy: pip install "chainrule[examples]"')
    out = main()
    res = out["result"]
    print(f"{res.message} ({res.nit} iterations, {res.nfev} evaluations)")
    for name, true in out["truth"].items():
        start, fitted = out["start"][name], out["fitted"][name]
        print(f"{name:8s} true {true:.4f}  start {start:.4f}  fitted {fitted:.4f}")
    errors = {k: abs(out["fitted"][k] - v) / v for k, v in out["truth"].items()}
    if max(errors.values()) > 0.05:
        sys.exit(f"the fit missed the truth by more than 5 %: {errors}")
