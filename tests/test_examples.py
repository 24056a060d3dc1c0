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


def test_out_of_core_gradient_matches_the_streaming_reference():
    pytest.importorskip("dask.distributed")
    example = load("out_of_core")
    out = example.main(gb=0.02, workers=2, memory_limit="1GiB", progress=False)
    assert out["chunks"] >= 1 and out["gigabytes"] == pytest.approx(0.02, rel=0.01)
    assert out["max_abs_diff"] < 1e-10
    # the gradient at w = 0 of mean((Xw - y)^2) is -2 E[x y] = -2 w_true (X standard normal)
    np.testing.assert_allclose(out["grad"], -2 * np.linspace(-1, 1, 100), atol=0.4)  # 5 sigma


def test_out_of_core_recording_computes_nothing():
    dask = pytest.importorskip("dask")
    example = load("out_of_core")
    X, y, w = example.problem(0.001, chunk_mb=0.2)
    calls = []
    with dask.config.set(scheduler=lambda dsk, keys, **kw: calls.append(1)):
        loss, grad = example.lazy_gradient(X, y, w)
    assert not calls and X.numblocks[0] > 1
    value, g = dask.compute(loss, grad, scheduler="threads")
    ref_value, ref_grad = example.streaming_reference(X, y, w)
    assert abs(value - ref_value) < 1e-12
    np.testing.assert_allclose(g, ref_grad, rtol=1e-10)
