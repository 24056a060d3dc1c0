"""chainrule.scipy.integrate.odeint: SciPy's values; adjoint gradients against finite
differences and closed forms; forward mode against reverse."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

si = pytest.importorskip("scipy.integrate")
from chainrule.scipy.integrate import odeint  # noqa: E402

# Tight solver tolerances, so that finite differences of the solution are accurate.
TOL = {"rtol": 1e-11, "atol": 1e-11}


def decay(y, t, k):
    return -k * y


def lotka_volterra(y, t, a, b, c, d):
    return np.stack([a * y[0] - b * y[0] * y[1], c * y[0] * y[1] - d * y[1]])


def forced(y, t, w):  # depends on t explicitly
    return np.stack([y[1], -y[0] + np.sin(w * t)])


def test_values_equal_scipy():
    t, y0 = np.linspace(0.0, 3.0, 5), np.array([5.0, 3.0])
    params = (1.0, 0.4, 0.1, 0.8)
    expected = si.odeint(lotka_volterra, y0, t, params, **TOL)
    ours = odeint(lotka_volterra, cr.tensor(y0, requires_grad=True), t, params, **TOL)
    assert isinstance(ours, cr.Tensor) and ours.shape == (5, 2)
    np.testing.assert_allclose(ours.data, expected, rtol=1e-12)
    np.testing.assert_allclose(odeint(lotka_volterra, y0, t, params, **TOL), expected)


def test_exponential_decay_gradients_match_the_closed_form():
    t = np.array([0.0, 0.5, 2.0])
    y0, k = np.array([1.0, 2.0]), np.array([0.7, 0.3])
    out, pullback = cr.vjp(lambda y0, t, k: odeint(decay, y0, t, (k,), **TOL), y0, t, k)
    np.testing.assert_allclose(out, y0 * np.exp(-np.outer(t, k)), rtol=1e-9)
    g = np.zeros((3, 2))
    g[-1] = 1.0  # d y(2) summed
    gy0, gt, gk = pullback(g)
    np.testing.assert_allclose(gy0, np.exp(-2.0 * k), rtol=1e-8)
    np.testing.assert_allclose(gk, -2.0 * y0 * np.exp(-2.0 * k), rtol=1e-8)
    np.testing.assert_allclose(
        gt, [np.sum(k * y0 * np.exp(-2 * k)), 0.0, -np.sum(k * y0 * np.exp(-2 * k))], atol=1e-9
    )


def test_exponential_decay_gradcheck():
    t, y0, k = np.array([0.0, 0.5, 1.3, 2.0]), np.array([1.0, 2.0]), np.array([0.7, 0.3])
    assert cr.gradcheck(lambda y0, t, k: odeint(decay, y0, t, (k,), **TOL), y0, t, k)


def test_lotka_volterra_gradcheck_in_y0_times_and_every_parameter():
    y0, t = np.array([5.0, 3.0]), np.linspace(0.0, 3.0, 4)
    params = [np.array(1.0), np.array(0.4), np.array(0.1), np.array(0.8)]
    fn = lambda y0, t, a, b, c, d: odeint(lotka_volterra, y0, t, (a, b, c, d), **TOL)
    assert cr.gradcheck(fn, y0, t, *params, atol=1e-5, rtol=1e-4)


def test_time_dependent_system_and_tfirst():
    y0, t, w = np.array([1.0, 0.0]), np.array([0.0, 1.0, 2.5]), np.array(1.3)
    assert cr.gradcheck(lambda y0, t, w: odeint(forced, y0, t, (w,), **TOL), y0, t, w)
    swapped = lambda t, y, w: forced(y, t, w)
    fn = lambda y0, t, w: odeint(swapped, y0, t, (w,), tfirst=True, **TOL)
    assert cr.gradcheck(fn, y0, t, w)


def test_forward_mode_agrees_with_the_adjoint(rng):
    y0, t = np.array([5.0, 3.0]), np.linspace(0.0, 3.0, 4)
    params = (np.array(1.0), np.array(0.4), np.array(0.1), np.array(0.8))
    fn = lambda y0, t, a, b, c, d: odeint(lotka_volterra, y0, t, (a, b, c, d), **TOL)
    primals = (y0, t, *params)
    tangents = tuple(rng.standard_normal(np.shape(x)) for x in primals)
    _, jt = cr.jvp(fn, primals, tangents)
    out, pullback = cr.vjp(fn, *primals)
    u = rng.standard_normal(np.shape(out))
    reverse = sum(np.sum(g * d) for g, d in zip(pullback(u), tangents))
    assert np.sum(u * jt) == pytest.approx(reverse, rel=1e-6)


def test_constant_and_non_float_arguments_pass_through():
    f = lambda y, t, k, n, label: -k * y**n
    t = np.array([0.0, 1.0])
    g = cr.grad(lambda y0, k: odeint(f, y0, t, (k, 1, "x"), **TOL)[-1, 0], argnums=(0, 1))(2.0, 0.5)
    np.testing.assert_allclose(g, [np.exp(-0.5), -2 * np.exp(-0.5)], rtol=1e-8)
    assert odeint(f, cr.tensor(2.0), t, (0.5, 1, "x")).shape == (2, 1)  # a scalar y0, as SciPy


def test_second_order_is_refused_clearly():
    f = lambda k: odeint(decay, np.array([1.0]), np.array([0.0, 1.0]), (k,))[-1, 0]
    with pytest.raises(NotImplementedError, match="first order only"):
        cr.hessian(f)(0.5)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"args": 0.5}, TypeError, r"args must be a tuple"),
        ({"t": np.zeros((2, 2))}, ValueError, r"t must be a 1-d sequence"),
        ({"y0": np.zeros((2, 2))}, ValueError, r"y0 must be a real scalar or 1-d array"),
        ({"full_output": True}, ValueError, r"full_output is not supported"),
        ({"func": "decay"}, TypeError, r"func must be callable"),
        ({"args": ((cr.tensor(0.5),),)}, TypeError, r"args\[0\] is a container holding Tensors"),
        ({"args": (cr.tensor(1),)}, TypeError, r"args\[0\] is a Tensor of dtype int"),
    ],
)
def test_bad_input_is_refused_clearly(kwargs, error, message):
    call = {"func": decay, "y0": cr.tensor([1.0]), "t": np.array([0.0, 1.0]), "args": (0.5,)}
    call.update(kwargs)
    with pytest.raises(error, match=message):
        odeint(**call)
