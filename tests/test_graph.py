"""The public view of the graph: Tensor.grad_fn, chainrule.graph.walk, cr.on_record."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.graph import Constant, GradFn, walk


def test_a_leaf_has_no_grad_fn_and_an_operation_names_itself():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    assert x.grad_fn is None
    assert cr.tensor([1.0]).grad_fn is None
    y = np.exp(x)
    assert isinstance(y.grad_fn, GradFn)
    assert (y.grad_fn.name, y.grad_fn.shape, y.grad_fn.dtype) == ("exp", (2,), np.float64)


def test_inputs_are_leaves_computed_operations_and_constants_in_order():
    w = cr.tensor(np.ones((2, 3)), requires_grad=True)
    c = cr.tensor([1.0, 2.0, 3.0])  # a Tensor without grad shows as itself
    h = np.tanh(w)
    y = h * c
    z = 2.0 * y + np.ones(3)
    (scaled, ones) = z.grad_fn.inputs
    assert z.grad_fn.name == "add" and scaled.name == "multiply" and scaled.shape == (2, 3)
    assert isinstance(ones, Constant) and ones.shape == (3,)
    two, y_fn = scaled.inputs
    assert isinstance(two, Constant) and two.shape == () and y_fn == y.grad_fn
    mul_inputs = y.grad_fn.inputs
    assert mul_inputs[0] == h.grad_fn and mul_inputs[1] is c
    assert h.grad_fn.inputs == (w,)


def test_saved_shapes_and_release():
    x = cr.tensor(np.ones((2, 2)), requires_grad=True)
    y = x @ x
    assert y.grad_fn.saved == ((2, 2), (2, 2))
    fn = y.grad_fn
    y.sum().backward()
    assert fn.released and fn.saved is None
    with pytest.raises(RuntimeError, match=r"released by backward.*retain_graph=True"):
        _ = fn.inputs


def test_walk_visits_each_operation_once_where_branches_meet():
    x = cr.tensor([0.5, 1.5], requires_grad=True)
    s = np.sin(x)
    y = s * s + s  # s feeds three uses
    names = [fn.name for fn in walk(y)]
    assert sorted(names) == ["add", "multiply", "sin"]
    assert list(walk(x)) == []


def test_on_record_sees_each_recorded_operation_and_nests():
    x = cr.tensor([0.5, 1.0], requires_grad=True)
    outer, inner = [], []
    with cr.on_record(lambda t: outer.append(t.grad_fn.name)):
        y = np.tanh(x) * x
        with cr.on_record(lambda t: inner.append(t.grad_fn.name)):
            np.sum(y)
        _ = x + np.ones(2)
    _ = x * 3.0  # after the block: not seen
    assert outer == ["tanh", "multiply", "sum", "add"]
    assert inner == ["sum"]
    with cr.on_record(outer.append):
        cr.tensor([1.0]) * 2.0  # nothing recorded: no grad anywhere
    assert len(outer) == 4


def test_on_record_rejects_a_non_callable():
    with pytest.raises(TypeError, match=r"cr\.on_record: the callback must be callable, got int"):
        cr.on_record(3)


def test_on_record_sees_custom_function_results():
    class Double(cr.Function):
        def forward(self, x):
            return 2 * x

        def backward(self, dy):
            return 2 * dy

    x = cr.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    with cr.on_record(lambda t: seen.append(t.grad_fn.name)):
        np.sum(Double()(x))
    assert seen == ["Double", "sum"]
