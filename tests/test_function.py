"""Custom Functions."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
from custom_functions import MulAdd, Sigmoid

import chainrule as cr


class Scale(cr.Function):
    """A non-Tensor argument, and configuration given to __init__."""

    def __init__(self, offset=0.0):
        self.offset = offset

    def forward(self, x, factor):
        self.factor = factor
        return x * factor + self.offset

    def backward(self, dy):
        return dy * self.factor, None


def test_forum_example():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = Sigmoid()(x)
    (y * y).backward()
    np.testing.assert_allclose(x.grad, [0.28746966, 0.18495613, 0.08606823], rtol=1e-6)


def test_forward_and_backward_see_plain_arrays():
    seen = []

    class Probe(cr.Function):
        def forward(self, x):
            seen.append(type(x))
            return x * 2

        def backward(self, dy):
            seen.append(type(dy))
            return dy * 2

    Probe()(cr.tensor([1.0], requires_grad=True)).backward()
    assert seen == [np.ndarray, np.ndarray]
    # 0-d data and gradients travel as numpy scalars inside chainrule; never in here.
    seen.clear()
    x = cr.tensor(1.0, requires_grad=True)
    Probe()(x).backward()
    (Probe()(x * 3.0) * 2.0).backward()
    assert seen == [np.ndarray] * 4


def test_every_output_gradient_of_a_zero_d_function_is_an_array():
    seen = []

    class Two(cr.Function):
        def forward(self, x):
            return x * 1.0, x * 2.0

        def backward(self, d1, d2):
            seen.extend([type(d1), type(d2)])
            return d1 + 2 * d2

    x = cr.tensor(1.0, requires_grad=True)
    u, v = Two()(x)
    (u + v).backward()
    u, v = Two()(x)
    (u * 5.0).backward()
    assert seen == [np.ndarray] * 4 and x.grad == 3.0 + 5.0


def test_multiple_inputs_and_outputs():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = cr.tensor([3.0, 5.0], requires_grad=True)
    p, s = MulAdd()(x, y)
    (p * 2 + s * 3).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * y.data + 3)
    np.testing.assert_allclose(y.grad, 2 * x.data + 3)


def test_only_one_output_used_gets_zeros_for_the_other():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = cr.tensor([3.0, 5.0], requires_grad=True)
    p, _ = MulAdd()(x, y)
    p.sum().backward()
    np.testing.assert_allclose(x.grad, y.data)


def test_non_tensor_arguments_and_none_gradients():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    out = Scale(offset=1.0)(x, 3.0)
    np.testing.assert_allclose(out.data, [4.0, 7.0])
    out.sum().backward()
    np.testing.assert_allclose(x.grad, [3.0, 3.0])


def test_a_none_gradient_for_a_tensor_input_means_no_gradient():
    class First(cr.Function):
        def forward(self, a, b):
            return a + 0 * b

        def backward(self, dy):
            return dy, None

    a = cr.tensor([1.0], requires_grad=True)
    b = cr.tensor([2.0], requires_grad=True)
    First()(a, b).backward()
    assert a.grad.tolist() == [1.0] and b.grad is None


def test_one_instance_applied_twice_keeps_each_applications_saved_arrays():
    f = Sigmoid()
    x1 = cr.tensor([0.0], requires_grad=True)
    x2 = cr.tensor([3.0], requires_grad=True)
    y1, y2 = f(x1), f(x2)
    (y1 + y2).backward()
    s = 1 / (1 + np.exp(-3.0))
    np.testing.assert_allclose(x1.grad, [0.25])
    np.testing.assert_allclose(x2.grad, [s * (1 - s)])


def test_output_used_twice_accumulates():
    x = cr.tensor([1.0], requires_grad=True)
    y = Sigmoid()(x)
    (y + y * 3).backward()
    s = 1 / (1 + np.exp(-1.0))
    np.testing.assert_allclose(x.grad, [4 * s * (1 - s)])


def test_saved_arrays_are_released_after_backward():
    gc.disable()
    try:
        holder = {}

        class Keep(cr.Function):
            def forward(self, x):
                big = np.exp(x)
                holder["ref"] = weakref.ref(big)
                self.save_for_backward(big)
                return big

            def backward(self, dy):
                (big,) = self.saved_tensors
                return dy * big

        x = cr.tensor(np.ones(100), requires_grad=True)
        y = Keep()(x).sum()
        assert holder["ref"]() is not None
        y.backward()
        assert holder["ref"]() is None
    finally:
        gc.enable()


def test_second_backward_without_retain_graph_names_the_function():
    x = cr.tensor([1.0], requires_grad=True)
    y = Sigmoid()(x)
    y.backward()
    with pytest.raises(cr.BackwardError, match=r"'Sigmoid'.*retain_graph=True"):
        y.backward()


def test_no_grad_and_constant_inputs_give_constants():
    with cr.no_grad():
        assert not Sigmoid()(cr.tensor([1.0], requires_grad=True)).requires_grad
    assert not Sigmoid()(cr.tensor([1.0])).requires_grad
    assert isinstance(Sigmoid()(np.array([1.0])), cr.Tensor)


def test_gradient_dtype_is_cast_to_the_input_dtype():
    class Float32Grad(cr.Function):
        def forward(self, x):
            return x * 2

        def backward(self, dy):
            return (dy * 2).astype(np.float32)

    x = cr.tensor([1.0], requires_grad=True)
    Float32Grad()(x).backward()
    assert x.grad.dtype == np.float64


def test_integer_outputs_carry_no_gradient():
    class WithIndex(cr.Function):
        def forward(self, x):
            return x * 2, np.argmax(x)

        def backward(self, dy, d_index):
            return dy * 2

    v, i = WithIndex()(cr.tensor([1.0, 3.0], requires_grad=True))
    assert v.requires_grad and not i.requires_grad and int(i) == 1
    v.sum().backward()


# ------------------------------------------------------------------ errors


def _bad(backward, forward=lambda self, x: x * 2):
    return type("Bad", (cr.Function,), {"forward": forward, "backward": backward})


@pytest.mark.parametrize(
    "backward, pattern",
    [
        (
            lambda self, dy: (dy, dy),
            r"Bad\.backward returned 2 gradient\(s\) but forward took 1 input",
        ),
        (
            lambda self, dy: dy[:2],
            r"Bad\.backward returned a gradient of shape \(2,\) for input 0, which has shape \(3,\)",
        ),
        (
            lambda self, dy: dy.astype(np.int64),
            r"Bad\.backward returned a gradient of dtype int64 for input 0",
        ),
        (
            lambda self, dy: list(dy),
            r"Bad\.backward returned a list as the gradient of input 0; expected an np\.ndarray of shape \(3,\)",
        ),
        (lambda self, dy: "grad", r"Bad\.backward returned a str as the gradient of input 0"),
    ],
)
def test_malformed_backward_is_named(backward, pattern):
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = _bad(backward)()(x)
    with pytest.raises(cr.FunctionBackwardError, match=pattern):
        y.sum().backward()
    assert x.grad is None  # nothing half-accumulated


@pytest.mark.parametrize(
    "forward, pattern",
    [
        (lambda self, x: cr.tensor(x), r"Bad\.forward returned a Tensor for output 0"),
        (lambda self, x: [x, x], r"Bad\.forward returned a list for output 0"),
        (lambda self, x: None, r"Bad\.forward returned a NoneType for output 0"),
    ],
)
def test_malformed_forward_is_named(forward, pattern):
    with pytest.raises(TypeError, match=pattern):
        _bad(lambda self, dy: dy, forward)()(cr.tensor([1.0], requires_grad=True))


def test_second_order_through_a_multi_output_function():
    x = cr.tensor([1.0, 3.0], requires_grad=True)
    y = cr.tensor([2.0, 5.0], requires_grad=True)
    p, s = MulAdd()(x, y)
    np.sum(p * s).backward(create_graph=True)  # d/dx = y s + p = 2xy + y^2
    gx = x.grad
    x.grad = y.grad = None
    np.sum(gx).backward()  # d/dx sum(2xy + y^2) = 2y; d/dy = 2x + 2y
    np.testing.assert_allclose(x.grad, 2 * y.numpy())
    np.testing.assert_allclose(y.grad, 2 * x.numpy() + 2 * y.numpy())


def test_missing_methods_are_named():
    class NoBackward(cr.Function):
        def forward(self, x):
            return x

    with pytest.raises(NotImplementedError, match="NoBackward must define backward"):
        NoBackward()(cr.tensor([1.0], requires_grad=True)).backward()


@pytest.mark.parametrize("with_jvp", [True, False], ids=["jvp", "transposed-backward"])
def test_a_functions_tangent_is_differentiable(with_jvp):
    # grad of a jvp, with respect to the primal and to the tangent. A user's jvp() runs
    # on arrays, so there the transposed backward (which records) takes over.
    class Cube(cr.Function):
        def forward(self, a):
            self.save_for_backward(a)
            return a**3

        def backward(self, dy):
            (a,) = self.saved_tensors
            return 3 * a**2 * dy

        if with_jvp:

            def jvp(self, t):
                (a,) = self.saved_tensors
                return 3 * a**2 * t

    def tangent(a, v):
        return cr.jvp(lambda z: Cube()(z), (a,), (v,))[1]

    assert cr.grad(tangent, argnums=0)(2.0, 1.5) == pytest.approx(6 * 2.0 * 1.5)
    assert cr.grad(tangent, argnums=1)(2.0, 1.5) == pytest.approx(3 * 2.0**2)
    out, t = cr.jvp(lambda z: Cube()(z), (np.array([2.0]),), (np.array([1.0]),))
    np.testing.assert_allclose(t, [12.0])
