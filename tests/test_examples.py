"""Short runs of the training examples, each checked for a real result.

The examples need optional extras (scipy, scikit-learn, tqdm, matplotlib): each
test skips when one it needs is missing.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mlp_digits_learns_and_plots(tmp_path):
    for extra in ("sklearn", "tqdm", "matplotlib"):
        pytest.importorskip(extra)
    example = load("mlp_digits")
    out = example.main(epochs=3, out=str(tmp_path / "curve.png"))
    assert out["test_accuracy"] > 0.85
    losses = out["losses"]
    assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:10])
    png = Path(out["plot"]).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    # the trained weights round-trip through the module's npz save/load
    model = out["model"]
    model.save(tmp_path / "mlp.npz")
    fresh = example.nn.Sequential(
        example.nn.Linear(64, 64, rng=1), example.nn.Tanh(), example.nn.Linear(64, 10, rng=1)
    )
    fresh.load(tmp_path / "mlp.npz")
    x_test, y_test = example.load_data(0)[1], example.load_data(0)[3]
    assert example.accuracy(fresh, x_test, y_test) == out["test_accuracy"]


def test_fit_oscillator_recovers_the_parameters():
    pytest.importorskip("scipy.optimize")
    example = load("fit_oscillator")
    out = example.main(n_steps=300, every=5)
    assert out["result"].success
    for name, true in out["truth"].items():
        assert out["fitted"][name] == pytest.approx(true, rel=0.05), name
    assert out["start"]["omega"] != pytest.approx(out["fitted"]["omega"], rel=0.1)


def test_simulation_is_plain_numpy():
    example = load("fit_oscillator")
    xs = example.simulate(2.0, 0.0, n_steps=2, dt=0.1)
    # by hand: v1 = -0.4, x1 = 0.96; v2 = -0.4 - 0.1 * 4 * 0.96 = -0.784, x2 = 0.8816
    np.testing.assert_allclose(xs, [0.96, 0.8816])


def test_gp_fit_matches_scikit_learn():
    pytest.importorskip("scipy.optimize")
    pytest.importorskip("sklearn")
    example = load("gp_fit")
    out = example.main(n=25, seed=1)
    assert out["result"].success
    assert out["log_marginal_likelihood"] == pytest.approx(
        out["sklearn_log_marginal_likelihood"], abs=1e-5
    )
    assert out["log_marginal_likelihood"] == pytest.approx(out["sklearn_at_ours"], abs=1e-9)
    for name, value in out["theta"].items():
        assert value == pytest.approx(out["sklearn_theta"][name], abs=1e-2), name
