"""The public view of the graph: Tensor.grad_fn, chainrule.graph.walk, cr.on_record."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.graph import Constant, GradFn, gradients, walk


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


def test_walk_puts_every_consumer_before_what_it_consumes():
    x = cr.tensor([0.5, 1.5], requires_grad=True)
    b = np.exp(x)
    a = np.sin(b)
    r = a * b  # exp feeds sin and multiply: a depth-first walk would reach it too early
    assert [fn.name for fn in walk(r)] == ["multiply", "sin", "exp"]
    # Any graph: each operation is listed before every input it consumes.
    y = np.sum(np.tanh(x) * np.exp(np.tanh(x)) + x * np.cos(b))
    order = list(walk(y))
    place = {fn: k for k, fn in enumerate(order)}
    assert len(place) == len(order) == 9
    for fn in order:
        for inp in fn.inputs:
            if isinstance(inp, GradFn):
                assert place[fn] < place[inp], (fn, inp)


class SinCos(cr.Function):
    def forward(self, x):
        self.save_for_backward(x)
        return np.sin(x), np.cos(x)

    def backward(self, ds, dc):
        (x,) = self.saved_tensors
        return ds * np.cos(x) - dc * np.sin(x)


def test_a_two_output_function_is_walked_through_its_selectors():
    a = cr.tensor([0.5, 1.0], requires_grad=True)
    s, c = SinCos()(a)
    loss = np.sum(s * c)
    names = [fn.name for fn in walk(loss)]
    assert names[:2] == ["sum", "multiply"] and names[-1] == "SinCos"
    assert sorted(names[2:4]) == ["select", "select"]
    fn = s.grad_fn.inputs[0]
    assert (fn.name, fn.shape, fn.dtype, fn.outputs) == ("SinCos", None, None, 2)
    assert repr(fn) == "<GradFn SinCos: 2 outputs>" and fn == c.grad_fn.inputs[0]
    assert fn.inputs == (a,)
    assert s.grad_fn.arguments[1] == 0 and c.grad_fn.arguments[1] == 1  # not constants
    assert (s.grad_fn.shape, s.grad_fn.outputs) == ((2,), 1)


def test_gradients_match_backward_and_touch_no_grad_nor_hook():
    x = cr.tensor(3.0, requires_grad=True)
    y = cr.tensor(-4.0, requires_grad=True)
    seen = []
    x.register_hook(seen.append)
    sigy = 1.0 / (1 + np.exp(-y))
    xpy = x + y
    f = (x + sigy) / (1.0 / (1 + np.exp(-x)) + xpy**2)
    g = gradients(f)
    assert np.isclose(g[x], 2.0595697956) and np.isclose(g[y], 1.5922327515)  # the lecture
    assert g[f.grad_fn] == 1.0
    # The gradient flowing into x + y, by hand: d f / d xpy = -num / den**2 * 2 * xpy.
    num = 3.0 + 1 / (1 + np.exp(4.0))
    den = 1 / (1 + np.exp(-3.0)) + 1.0
    assert np.isclose(g[xpy.grad_fn], -num / den**2 * 2 * -1.0)
    assert x.grad is None and y.grad is None and seen == []
    f.backward()  # the graph was kept
    assert x.grad == g[x] and y.grad == g[y] and len(seen) == 1


def test_gradients_from_a_given_head():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    w = cr.tensor([5.0, 6.0], requires_grad=True)
    h = np.exp(x)
    out = np.stack([h * w, np.sin(x)])
    g = gradients(out, head=np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert np.allclose(g[x], np.exp([1.0, 2.0]) * [5.0, 12.0] + np.cos([1.0, 2.0]) * [3.0, 4.0])
    assert np.allclose(g[w], np.exp([1.0, 2.0]) * [1.0, 2.0])
    assert np.allclose(g[h.grad_fn], [5.0, 12.0])
    assert np.array_equal(g[out.grad_fn], [[1.0, 2.0], [3.0, 4.0]])


def test_gradients_of_a_two_output_function_give_one_entry_per_output():
    a = cr.tensor([0.5, 1.0], requires_grad=True)
    s, c = SinCos()(a)
    g = gradients(np.sum(3.0 * c))
    ds, dc = g[c.grad_fn.inputs[0]]
    assert ds is None and np.allclose(dc, [3.0, 3.0])
    assert s.grad_fn not in g  # s does not take part
    assert np.allclose(g[a], -3.0 * np.sin([0.5, 1.0]))


def test_gradients_of_a_released_graph_or_bad_input_say_what_to_do():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    loss = np.sum(np.exp(x))
    with pytest.raises(ValueError, match=r"head has shape \(3,\) but the tensor has shape \(\)"):
        gradients(loss, head=np.ones(3))
    with pytest.raises(TypeError, match=r"head must be numbers shaped like the tensor"):
        gradients(loss, head="one")
    with pytest.raises(TypeError, match=r"expected the Tensor a computation returned, got ndarray"):
        gradients(np.ones(2))
    with pytest.raises(ValueError, match=r"does not require grad.*requires_grad=True"):
        gradients(cr.tensor([1.0]))
    (only,) = gradients(x).items()  # a leaf alone: the head is its gradient
    assert only[0] is x and np.array_equal(only[1], [1.0, 1.0])
    loss.backward()
    with pytest.raises(RuntimeError, match=r"released by backward\(\).*retain_graph=True"):
        gradients(loss)
