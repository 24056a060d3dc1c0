"""In-place writes: recorded correctly, or refused at backward -- never a wrong gradient."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


def leaf(*values):
    return cr.tensor(np.array(values, dtype=float), requires_grad=True)


# ------------------------------------------------- writes the graph must see
@pytest.mark.parametrize(
    "mutate",
    [
        lambda t: t.data.__setitem__(Ellipsis, 0.0),
        lambda t: t.data.__setitem__(0, 5.0),
        lambda t: t.data.fill(1.0),
        lambda t: np.copyto(t.data, np.zeros(3)),
        lambda t: np.exp(t.data, out=t.data),
        lambda t: t.data.__iadd__(1.0),
        lambda t: t.data.sort(),
    ],
    ids=["setitem-all", "setitem-one", "fill", "copyto", "ufunc-out", "iadd", "sort"],
)
def test_writing_into_a_saved_input_is_refused_at_backward(mutate):
    x = leaf(3.0, 1.0, 2.0)
    y = x * x  # saves x
    mutate(x)
    with pytest.raises(
        cr.BackwardError,
        match=r"backward through 'multiply': its input 0, a leaf of shape \(3,\).*modified in place",
    ):
        y.sum().backward()


def test_writing_into_a_saved_output_names_the_primitive_that_saved_it():
    x = leaf(1.0, 2.0)
    y = np.exp(x)  # its rule uses its output
    y.data[...] = 0.0
    z = y.sum()  # made after the write: z's own record is fine, exp's is not
    with pytest.raises(
        cr.BackwardError, match=r"backward through 'exp': its output .* was modified in place"
    ):
        z.backward()
    with pytest.raises(cr.BackwardError, match=r"'exp'"):
        y.backward()


def test_a_write_before_use_is_fine_and_later_graphs_see_the_new_value():
    x = leaf(1.0, 2.0)
    x.data[0] = 4.0
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, [8.0, 4.0])


def test_the_optimizer_step_pattern_works():
    w = leaf(1.0, -2.0)
    for _ in range(3):
        w.grad = None
        loss = np.sum(w**2)
        loss.backward()
        w.data -= 0.1 * w.grad  # after backward: allowed
    np.testing.assert_allclose(w.data, np.array([1.0, -2.0]) * 0.8**3)
    with cr.no_grad():
        w -= 0.5 * w  # in place, not recorded
    np.testing.assert_allclose(w.data, np.array([1.0, -2.0]) * 0.8**3 * 0.5)
    assert w.is_leaf and w.requires_grad


@pytest.mark.parametrize(
    "mutate",
    [
        lambda x: x.__iadd__(1.0),
        lambda x: x.__imul__(2.0),
        lambda x: x.__setitem__(0, 7.0),
        lambda x: np.add(x, 1.0, out=x),
        lambda x: np.exp(x, out=x),
    ],
    ids=["+=", "*=", "setitem", "out-add", "out-exp"],
)
def test_in_place_on_a_leaf_is_counted_and_refused_at_backward(mutate):
    x = leaf(1.0, 2.0)
    y = np.sin(x) * x  # saves x
    mutate(x)
    assert x.is_leaf and x.requires_grad and x._version == 1
    with pytest.raises(
        cr.BackwardError, match=r"its input \d, a leaf of shape \(2,\).*modified in place"
    ):
        y.sum().backward()
    (x * 3).sum().backward()  # a graph built after the write is fine
    np.testing.assert_allclose(x.grad, [3.0, 3.0])


def test_in_place_on_a_leaf_with_a_value_that_requires_grad_is_refused():
    x, y = leaf(1.0, 2.0), leaf(3.0, 4.0)
    with pytest.raises(
        cr.BackwardError,
        match=r"\+= on a leaf tensor that requires grad, with a value that requires grad",
    ):
        x += y
    with pytest.raises(cr.BackwardError, match=r"t\[index\] = value on a leaf tensor"):
        x[0] = y[1]
    with pytest.raises(cr.BackwardError, match="inputs that require grad"):
        np.add(x, y, out=x)


@pytest.mark.parametrize(
    "inplace, plain",
    [
        (lambda h, x: h.__iadd__(x), lambda h, x: h + x),
        (lambda h, x: h.__isub__(2.0), lambda h, x: h - 2.0),
        (lambda h, x: h.__imul__(x), lambda h, x: h * x),
        (lambda h, x: h.__itruediv__(x + 3), lambda h, x: h / (x + 3)),
        (lambda h, x: h.__ipow__(2), lambda h, x: h**2),
        (lambda h, x: np.multiply(h, x, out=h), lambda h, x: h * x),
        (lambda h, x: np.sin(h, out=h), lambda h, x: np.sin(h)),
    ],
)
def test_in_place_operators_on_non_leaves_record_like_their_out_of_place_forms(inplace, plain):
    x1, x2 = leaf(0.5, 1.5), leaf(0.5, 1.5)
    h1 = x1 * 2.0
    alias = h1
    inplace(h1, x1)
    assert alias is h1  # NumPy semantics: the same object holds the new value
    (h1 * h1).sum().backward()
    h2 = plain(x2 * 2.0, x2)
    (h2 * h2).sum().backward()
    np.testing.assert_allclose(h1.data, h2.data)
    np.testing.assert_allclose(x1.grad, x2.grad)


def test_in_place_operator_after_use_keeps_the_old_value_for_earlier_nodes():
    x = leaf(1.0, 2.0)
    h = x * 2.0
    y = h * h  # saved the old h
    h += 1.0  # recorded out of place: the old value is intact
    y.sum().backward(retain_graph=True)  # the two graphs share x * 2
    np.testing.assert_allclose(x.grad, 8 * x.data)  # d (2x)^2 / dx
    x.grad = None
    h.sum().backward()
    np.testing.assert_allclose(x.grad, [2.0, 2.0])


def test_writing_into_the_data_of_a_tensor_used_earlier_is_refused():
    x = leaf(1.0, 2.0)
    h = x * 2.0
    y = h * h  # saved h's array
    h.data[...] += 1.0  # writes into that very array
    with pytest.raises(
        cr.BackwardError, match=r"its input \d, the output of 'multiply'.*modified in place"
    ):
        y.sum().backward()


def test_assignment_builds_arrays_differentiably():
    x = leaf(1.0, 2.0, 3.0)
    out = cr.tensor(np.zeros(4))  # a constant buffer, filled from x
    out[0] = x[0] * 3
    out[1:3] = x[1:] ** 2
    np.sum(out * out).backward()
    np.testing.assert_allclose(out.data, [3.0, 4.0, 9.0, 0.0])
    np.testing.assert_allclose(x.grad, [18.0, 4 * 2.0**3, 4 * 3.0**3])


def test_assignment_into_a_non_leaf_overwrites_the_gradient_path():
    x = leaf(1.0, 2.0, 3.0)
    v = cr.tensor([10.0], requires_grad=True)
    h = x * 1.0
    h[np.array([1])] = v  # element 1 no longer depends on x
    (h * np.array([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_allclose(x.grad, [1.0, 0.0, 3.0])
    np.testing.assert_allclose(v.grad, [2.0])


def test_writing_constants_into_a_non_leaf_cuts_it_from_its_old_graph():
    x = leaf(1.0, 2.0)
    h = x * 3.0
    np.add(1.0, np.ones(2), out=h)  # h no longer depends on x
    assert not h.requires_grad
    (h * x).sum().backward()
    np.testing.assert_allclose(x.grad, [2.0, 2.0])


@pytest.mark.parametrize(
    "write",
    [
        lambda h: h.__iadd__(np.ones((2, 2))),
        lambda h: np.add(h, np.ones((2, 2)), out=h),
    ],
    ids=["+=", "out="],
)
@pytest.mark.parametrize("records", [True, False])
def test_an_in_place_write_never_changes_the_shape(write, records):
    h = leaf(1.0, 2.0) * 1.0 if records else cr.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"the result has shape \(2, 2\), the tensor \(2,\)"):
        write(h)
    assert h.shape == (2,)


def test_optimizer_step_without_no_grad():
    w = leaf(1.0, -2.0)
    np.sum(w**2).backward()
    w -= 0.25 * w.grad  # a constant update: written into the leaf, counted
    np.testing.assert_allclose(w.data, [0.5, -1.0])
    assert w.is_leaf


def test_unrelated_graphs_are_not_affected():
    x = leaf(1.0, 2.0)
    c = cr.tensor([5.0, 6.0])
    y = x * 3
    c.data[0] = 0.0  # c is not part of y's graph
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [3.0, 3.0])


def test_versions_count_writes():
    x = cr.tensor([1.0, 2.0])
    assert x._version == 0
    x.data[0] = 3.0
    x.data += 1
    x[1] = 0.0
    x.data = np.zeros(2)
    assert x._version == 4


def test_data_behaves_as_a_plain_array():
    x = leaf(1.0, 2.0)
    d = x.data
    assert isinstance(d, np.ndarray) and repr(d) == "array([1., 2.])"
    assert type(d + 1) is np.ndarray and type(np.sum(d)) is np.float64
    assert np.shares_memory(d, x.numpy())


def test_out_into_a_numpy_array_with_tensor_inputs_is_refused():
    x = leaf(1.0, 2.0)
    with pytest.raises(TypeError, match="would drop its gradient"):
        np.exp(x, out=np.empty(2))


# ------------------------------------------- writes into Tensors without grad
def _constant_write_cases():
    def plus_equals(x):
        x += 1

    def data_write(x):
        x.data[...] = 10

    def setitem(x):
        x[0] = 5

    def ufunc_out(x):
        np.exp(x, out=x)

    return [plus_equals, data_write, setitem, ufunc_out]


@pytest.mark.parametrize("write", _constant_write_cases(), ids=lambda f: f.__name__)
def test_a_write_into_a_saved_tensor_without_grad_refuses_backward(write):
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    x = cr.tensor([3.0, 4.0])  # no grad, but multiply saves it for w's gradient
    y = w * x
    write(x)
    with pytest.raises(
        cr.BackwardError,
        match=r"backward through 'multiply': its input 1, a Tensor that does not require grad "
        r"of shape \(2,\) and dtype float64, named `x`, was modified in place after the graph "
        r"saved it \(version 0, now 1\), at File .*test_inplace\.py\", line \d+ \(",
    ):
        y.sum().backward()
    assert w.grad is None  # nothing was written


def test_the_general_recording_path_watches_constants_too():
    a = cr.tensor(np.eye(2) * 2.0, requires_grad=True)
    b = cr.tensor([1.0, 3.0])
    out = np.dot(a, b)
    b[1] = 0.0
    with pytest.raises(cr.BackwardError, match=r"'matmul': its input 1, .* named `b`"):
        out.sum().backward()


def test_replacing_a_constant_value_keeps_the_saved_one_and_its_gradient():
    # Out-of-place replacements leave the array the graph saved alone: no error, right value.
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    x = cr.tensor([3.0, 4.0])
    y = w * x
    x.data = np.zeros(2)  # a new array
    x += cr.tensor([1.0, 1.0], requires_grad=True)  # recorded out of place
    y.sum().backward()
    np.testing.assert_array_equal(w.grad, [3.0, 4.0])


def test_a_constant_written_after_backward_is_fine_and_0d_scalars_cannot_be_corrupted():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    x = cr.tensor([3.0, 4.0])
    (w * x).sum().backward()
    x += 1  # after backward: allowed
    np.testing.assert_array_equal(w.grad, [3.0, 4.0])
    s, c = cr.tensor(2.0, requires_grad=True), cr.tensor(3.0)
    y = s * c  # a 0-d value is saved as an immutable scalar
    c += 1
    y.backward()
    assert float(s.grad) == 3.0


def test_an_overwritten_output_names_the_variable_and_the_line():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = np.exp(x)
    h.data[0] = 0.0
    with pytest.raises(
        cr.BackwardError, match=r"'exp': its output named `h` .*, at File .*line \d+ \(h\.data"
    ):
        h.sum().backward()


def test_anomaly_mode_finds_a_write_into_a_saved_numpy_array():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    x = np.array([3.0, 4.0])
    with cr.detect_anomaly():
        y = w * x
        x += 1
        with pytest.raises(
            cr.AnomalyError,
            match=r"backward through 'multiply': its input 1, a NumPy array of shape \(2,\), "
            r"was changed in place after the graph saved it.*created at:\n.*test_inplace\.py",
        ):
            y.sum().backward()
    # Outside anomaly mode plain arrays are not watched (the guide states the rule).
    y = w * x
    x -= 1
    y.sum().backward()
    np.testing.assert_array_equal(w.grad, [3.0, 4.0])


def test_a_function_watches_its_constant_tensor_inputs_too():
    class Mul(cr.Function):
        def forward(self, w, x):
            self.save_for_backward(w, x)
            return w * x

        def backward(self, dy):
            w, x = self.saved_tensors
            return dy * x, dy * w

    w = cr.tensor([1.0, 2.0], requires_grad=True)
    x = cr.tensor([3.0, 4.0])
    y = Mul()(w, x)
    x[1] = 0.0
    with pytest.raises(cr.BackwardError, match=r"'Mul': its input 1, .* named `x`"):
        y.sum().backward()
