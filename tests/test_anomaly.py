"""Anomaly mode, and nan/inf propagating as in NumPy without extra warnings."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule as cr


def test_forward_nan_names_the_primitive_and_the_user_line():
    x = cr.tensor([1.0, -1.0], requires_grad=True)
    with pytest.raises(cr.AnomalyError) as info, cr.detect_anomaly(), np.errstate(all="ignore"):
        y = np.sqrt(x)  # the line to find
        del y
    message = str(info.value)
    assert "forward pass: 'sqrt' produced inf or nan from finite inputs" in message
    assert "test_anomaly.py" in message and "y = np.sqrt(x)  # the line to find" in message


def test_backward_inf_names_the_primitive_and_where_its_node_was_made():
    x = cr.tensor([0.0, 4.0], requires_grad=True)

    @cr.detect_anomaly()
    def step():
        y = np.sqrt(x)  # finite forward, infinite derivative at 0
        y.sum().backward()

    with pytest.raises(cr.AnomalyError) as info:
        step()
    message = str(info.value)
    assert "backward pass: the gradient rule of 'sqrt' for input 0" in message
    assert "y = np.sqrt(x)  # finite forward" in message


def test_nan_already_in_the_inputs_is_not_blamed_on_the_next_primitive():
    x = cr.tensor([np.nan, 1.0], requires_grad=True)
    with cr.detect_anomaly():
        y = np.exp(x) * 2
        y.sum().backward()
    assert np.isnan(x.grad[0]) and np.isfinite(x.grad[1])


def test_anomaly_mode_is_thread_local_and_restored():
    with cr.detect_anomaly():
        pass
    x = cr.tensor([1.0, -1.0], requires_grad=True)
    with np.errstate(all="ignore"):
        assert np.isnan(np.sqrt(x).data[1])  # no error outside the block


@pytest.mark.parametrize(
    "f",
    [np.sqrt, np.log, lambda x: 1 / x, lambda x: x**0.5, np.arcsin, lambda x: np.abs(x) ** 0.3],
    ids=["sqrt", "log", "reciprocal", "pow", "arcsin", "abs-pow"],
)
def test_inf_and_nan_propagate_as_numpy_does_without_warnings_from_the_rules(f):
    values = np.array([0.0, -1.0, np.inf, np.nan, 2.0])
    x = cr.tensor(values, requires_grad=True)
    with np.errstate(all="ignore"):
        y = f(x)
        expected = f(values)
    np.testing.assert_array_equal(y.data, expected)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y.backward()
    assert x.grad.shape == (5,)
    with np.errstate(all="ignore"):  # the forward itself warns as NumPy does
        _, tangent = cr.jvp(f, (values,), (np.ones(5),))
    assert tangent.shape == (5,)
