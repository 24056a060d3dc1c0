"""chainrule.scipy.signal: SciPy's values in any dimension and mode, gradients in both inputs."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

ssig = pytest.importorskip("scipy.signal")
from chainrule.scipy import signal as cs  # noqa: E402

# (shape of in1, shape of in2): in2 larger in every dimension exercises SciPy's swap.
SHAPES = [((5,), (3,)), ((3,), (5,)), ((4, 3), (2, 2)), ((2, 3), (3, 4)), ((3, 2, 2), (2, 2, 1))]


@pytest.mark.parametrize(("s1", "s2"), SHAPES)
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("name", ["convolve", "correlate"])
def test_values_on_tensors_equal_scipy(rng, s1, s2, mode, name):
    a, b = rng.standard_normal(s1), rng.standard_normal(s2)
    theirs = getattr(ssig, name)(a, b, mode=mode)
    ours = getattr(cs, name)(cr.tensor(a, requires_grad=True), b, mode=mode)
    assert isinstance(ours, cr.Tensor) and ours.shape == theirs.shape
    np.testing.assert_allclose(ours.data, theirs, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(getattr(cs, name)(a, b, mode=mode), theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("s1", "s2"), SHAPES)
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_gradients_in_both_inputs_to_second_order(rng, s1, s2, mode):
    a, b = rng.standard_normal(s1), rng.standard_normal(s2)
    assert cr.gradcheck(lambda a, b: cs.convolve(a, b, mode=mode), a, b, order=2)
    assert cr.gradcheck(lambda a, b: cs.correlate(a, b, mode=mode), a, b)


@pytest.mark.parametrize("method", ["direct", "fft"])
def test_methods_agree_and_differentiate(rng, method):
    a, b = rng.standard_normal((6, 5)), rng.standard_normal((3, 3))
    ours = cs.convolve(cr.tensor(a), b, mode="same", method=method)
    np.testing.assert_allclose(ours.data, ssig.convolve(a, b, mode="same"), atol=1e-10)
    assert cr.gradcheck(lambda a, b: cs.convolve(a, b, method=method), a, b, order=2)


def test_gradient_matches_numpy_convolve_identity(rng):
    a, k, g = rng.standard_normal(7), rng.standard_normal(3), rng.standard_normal(9)
    _, pullback = cr.vjp(lambda a, k: cs.convolve(a, k), a, k)
    ga, gk = pullback(g)
    np.testing.assert_allclose(ga, np.correlate(g, k, mode="valid"), rtol=1e-10)
    np.testing.assert_allclose(gk, np.correlate(g, a, mode="valid"), rtol=1e-10)


def test_scalars_multiply():
    x = cr.tensor(3.0, requires_grad=True)
    assert float(cs.convolve(x, np.array(2.0)).data) == 6.0


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: cs.convolve(np.ones(3), np.ones((2, 2))), ValueError, "same dimensionality"),
        (
            lambda: cs.convolve(np.ones((3, 1)), np.ones((1, 3)), mode="valid"),
            ValueError,
            "at least as large",
        ),
        (lambda: cs.convolve(np.ones(3), np.ones(2), mode="circular"), ValueError, "mode must be"),
        (
            lambda: cs.convolve(np.ones(3), np.ones(2), method="overlap"),
            ValueError,
            "method must be",
        ),
        (lambda: cs.convolve(np.ones(3) * 1j, np.ones(2)), TypeError, "in1 must be real"),
        (lambda: cs.correlate(np.ones(3), np.ones(0)), ValueError, "in2 is empty"),
    ],
)
def test_bad_input_is_refused_clearly(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("which", [0, 1])
def test_hessian_with_one_constant_input(rng, which):
    # The constant input is not a Tensor: the second backward must still find it.
    fixed = rng.standard_normal(3)
    x = rng.standard_normal(4)
    conv = (lambda p: cs.convolve(p, fixed)) if which == 0 else (lambda p: cs.convolve(fixed, p))
    f = lambda p: np.sum(conv(p) ** 3)
    h = cr.hessian(f)(x)
    eps = 1e-6
    numeric = np.stack(
        [(cr.grad(f)(x + eps * e) - cr.grad(f)(x - eps * e)) / (2 * eps) for e in np.eye(4)]
    )
    np.testing.assert_allclose(h, numeric, rtol=1e-5, atol=1e-6)
    v = rng.standard_normal(4)
    np.testing.assert_allclose(cr.hvp(f, (x,), (v,)), h @ v, rtol=1e-8)


def test_lists_are_accepted_as_scipy_does():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    out = cs.convolve(x, [1.0, -1.0], mode="same")
    np.testing.assert_allclose(out.data, ssig.convolve([1.0, 2.0, 3.0], [1.0, -1.0], mode="same"))
    out.sum().backward()
    np.testing.assert_allclose(x.grad, [0.0, 0.0, 1.0])
