"""Tensor and tape behaviour, as docs/api.md fixes it."""

from __future__ import annotations

import gc
import pickle
import threading
import weakref

import numpy as np
import pytest

import chainrule as cr

# ------------------------------------------------------------------ creation


def test_tensor_copies_its_data():
    a = np.array([1.0, 2.0])
    t = cr.tensor(a)
    a[0] = 100.0
    assert t.data[0] == 1.0
    assert isinstance(t.data, np.ndarray)


def test_attributes():
    t = cr.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    assert t.shape == (2, 3) and t.ndim == 2 and t.size == 6 and t.dtype == np.float32
    assert t.grad is None and t.requires_grad and t.is_leaf
    assert t.T.shape == (3, 2)
    assert len(t) == 2


def test_dtype_argument():
    assert cr.tensor([1, 2], dtype=np.float32).dtype == np.float32


@pytest.mark.parametrize("data", [[1, 2, 3], [True, False], np.arange(3)])
def test_integer_or_bool_data_cannot_require_grad(data):
    with pytest.raises(
        TypeError, match=r"only floating-point \(or complex\) tensors can require grad"
    ):
        cr.tensor(data, requires_grad=True)


def test_integer_tensor_without_grad_is_fine():
    t = cr.tensor([1, 2, 3])
    assert t.dtype.kind == "i" and not t.requires_grad


@pytest.mark.parametrize("data", [["a", "b"], [object()], None])
def test_non_numeric_data_is_rejected(data):
    with pytest.raises(TypeError, match=r"cr\.tensor"):
        cr.tensor(data)


def test_repr():
    assert repr(cr.tensor([1.0, 2.0], requires_grad=True)) == "tensor([1., 2.], requires_grad=True)"
    y = cr.tensor([1.0], requires_grad=True) * 2
    assert repr(y) == "tensor([2.], grad_fn=<multiply>)"
    assert "dtype=float32" in repr(cr.tensor([1.0], dtype=np.float32))


# ------------------------------------------------------------------ backward


def test_backward_accumulates_across_calls_until_zero_grad():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, [4.0, 8.0])
    x.zero_grad()
    assert x.grad is None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad, [3.0, 3.0])
    x.grad = None
    (x * 5).sum().backward()
    np.testing.assert_allclose(x.grad, [5.0, 5.0])


def test_default_head_gradient_is_ones_like_for_non_scalars():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).backward()
    np.testing.assert_allclose(x.grad, 2 * x.data)


def test_explicit_head_gradient():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).backward(np.array([1.0, -2.0]))
    np.testing.assert_allclose(x.grad, [3.0, -6.0])


def test_head_gradient_of_the_wrong_shape_is_an_error():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(cr.BackwardError, match=r"shape \(3,\).*shape \(2,\)"):
        (x * 3).backward(np.ones(3))


def test_backward_on_a_tensor_without_grad_is_an_error():
    with pytest.raises(cr.BackwardError, match="does not require grad"):
        cr.tensor([1.0]).backward()


def test_gradients_add_at_forks():
    x = cr.tensor(3.0, requires_grad=True)
    y = x * x + x  # x used three times
    y.backward()
    assert x.grad == pytest.approx(7.0)


def test_gradients_reduce_over_broadcast_axes():
    a = cr.tensor(np.ones((2, 3)), requires_grad=True)
    b = cr.tensor(np.ones((3,)), requires_grad=True)
    c = cr.tensor(np.ones((2, 1)), requires_grad=True)
    s = cr.tensor(2.0, requires_grad=True)
    (a * b * c * s).sum().backward()
    assert b.grad.shape == (3,) and c.grad.shape == (2, 1) and s.grad.shape == ()
    np.testing.assert_allclose(b.grad, [4.0, 4.0, 4.0])
    np.testing.assert_allclose(c.grad, [[6.0], [6.0]])
    assert s.grad == pytest.approx(6.0)


def test_gradient_has_the_input_dtype():
    x = cr.tensor([1.0, 2.0], dtype=np.float32, requires_grad=True)
    (x * np.array([1.0, 2.0])).sum().backward()  # the product is float64
    assert x.grad.dtype == np.float32


def test_scalar_leaf_gradient_is_an_ndarray():
    x = cr.tensor(2.0, requires_grad=True)
    (x * x).backward()
    assert isinstance(x.grad, np.ndarray) and x.grad.shape == ()
    (x * x).backward()  # accumulated: NumPy's 0-d + 0-d would be a scalar
    assert type(x.grad) is np.ndarray and x.grad == 8.0
    h = x * 3.0
    h.retain_grad()
    y = h * h
    y.backward(retain_graph=True)
    y.backward()
    assert type(h.grad) is np.ndarray and h.grad == 24.0


def test_leaf_gradients_are_private_writable_arrays():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([1.0, 2.0], requires_grad=True)
    head = np.array([1.0, 1.0])
    (a + b).backward(head)
    a.grad += 1  # must not change b.grad nor the head
    np.testing.assert_allclose(b.grad, [1.0, 1.0])
    np.testing.assert_allclose(head, [1.0, 1.0])
    x = cr.tensor(np.ones((2, 3)), requires_grad=True)
    x.sum().backward()  # the sum's gradient is a broadcast view
    assert x.grad.flags.writeable and x.grad.base is None


def test_backward_of_a_leaf_itself():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    x.backward()
    np.testing.assert_allclose(x.grad, [1.0, 1.0])


def test_input_that_does_not_require_grad_gets_nothing():
    x = cr.tensor([1.0], requires_grad=True)
    c = cr.tensor([2.0])
    (x * c).backward()
    assert c.grad is None


def test_a_chain_of_100000_operations_backprops_without_recursion_error():
    x = cr.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + 1e-5
    y.backward()
    assert x.grad == 1.0


def test_a_wide_graph_with_many_forks():
    x = cr.tensor(np.arange(5.0), requires_grad=True)
    terms = [x * i for i in range(200)]
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    total.sum().backward()
    np.testing.assert_allclose(x.grad, np.full(5, sum(range(200))))


# ---------------------------------------------------------- retain_graph


def test_second_backward_through_a_released_graph_is_a_clear_error():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (np.exp(x) * 2).sum()
    y.backward()
    with pytest.raises(cr.BackwardError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (np.exp(x) * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad, 4 * np.exp(x.data))


def test_a_graph_shared_with_a_released_one_is_reported():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = np.exp(x)
    h.sum().backward()
    with pytest.raises(cr.BackwardError, match=r"'exp'.*retain_graph=True"):
        (h * 2).sum().backward()


def test_saved_intermediates_are_freed_without_the_cycle_collector():
    gc.disable()
    try:
        x = cr.tensor(np.ones(1000), requires_grad=True)
        h = np.exp(x * 2)
        ref_tensor = weakref.ref(h)
        ref_data = weakref.ref(h._data)  # the array itself (h.data is a view of it)
        y = np.sum(np.sin(h))
        del h
        assert ref_tensor() is None  # the graph keeps values, not intermediate Tensors
        assert ref_data() is not None  # exp and sin read this array: kept until backward
        y.backward()
        assert ref_data() is None
    finally:
        gc.enable()


def test_dropping_the_output_frees_the_graph_without_the_cycle_collector():
    gc.disable()
    try:
        x = cr.tensor(np.ones(10), requires_grad=True)
        h = x * 2
        ref = weakref.ref(h)
        y = np.tanh(h).sum()
        del h, y
        assert ref() is None
    finally:
        gc.enable()


# --------------------------------------------------------------- grad mode


def test_no_grad_context_manager_and_enable_grad_inside():
    x = cr.tensor([1.0], requires_grad=True)
    with cr.no_grad():
        assert not (x * 2).requires_grad
        assert not cr.is_grad_enabled()
        with cr.enable_grad():
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad


def test_no_grad_and_enable_grad_as_decorators():
    x = cr.tensor([1.0], requires_grad=True)

    @cr.no_grad()
    def frozen(t):
        return t * 2

    @cr.enable_grad()
    def live(t):
        return t * 2

    assert not frozen(x).requires_grad
    with cr.no_grad():
        assert live(x).requires_grad
    assert cr.is_grad_enabled()


def test_no_grad_restores_the_mode_after_an_exception():
    with pytest.raises(ValueError), cr.no_grad():
        raise ValueError
    assert cr.is_grad_enabled()


def test_grad_mode_is_thread_local():
    seen = {}
    inside = threading.Event()
    release = threading.Event()

    def other_thread():
        inside.wait()
        seen["other"] = cr.is_grad_enabled()
        release.set()

    t = threading.Thread(target=other_thread)
    t.start()
    with cr.no_grad():
        inside.set()
        release.wait(10)
        seen["main"] = cr.is_grad_enabled()
    t.join()
    assert seen == {"other": True, "main": False}


# ------------------------------------------------------------ detaching


def test_detach_shares_data_and_drops_the_graph():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.is_leaf and np.shares_memory(d.data, y.data)


def test_requires_grad_():
    x = cr.tensor([1.0])
    assert x.requires_grad_() is x and x.requires_grad
    with pytest.raises(TypeError, match="floating-point"):
        cr.tensor([1]).requires_grad_()
    with pytest.raises(cr.BackwardError, match="detach"):
        (x * 2).requires_grad_(False)


@pytest.mark.parametrize("convert", [np.asarray, np.array, lambda t: np.array([t, t])])
def test_silent_conversion_of_a_tensor_that_requires_grad_is_an_error(convert):
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"detach\(\)"):
        convert(x)


def test_explicit_conversions_are_fine():
    x = cr.tensor([[2.5]], requires_grad=True)
    assert x.item() == 2.5 and float(x) == 2.5 and int(x) == 2
    assert isinstance(x.numpy(), np.ndarray)
    assert np.asarray(x.detach()).shape == (1, 1)
    assert np.asarray(cr.tensor([1.0, 2.0])).tolist() == [1.0, 2.0]


# --------------------------------------------------------------- operators


def test_operators_with_scalars_and_arrays_on_either_side():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    a = np.array([3.0, 4.0])
    y = (2 + x) * 3 - x / 2 + 1 / x + a * x + x**2 + 2**x - (-x) + abs(x) + x @ a + a @ x + (+x)
    assert isinstance(y, cr.Tensor)
    y.sum().backward()
    xd = x.data
    # x @ a and a @ x are scalars broadcast over both elements of y: each counts twice.
    expected = 3 - 0.5 - 1 / xd**2 + a + 2 * xd + np.log(2) * 2**xd + 1 + 1 + 2 * a + 2 * a + 1
    np.testing.assert_allclose(x.grad, expected)


def test_ndarray_on_the_left_gives_a_tensor():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    for y in (np.ones(2) + x, np.ones(2) * x, np.ones(2) - x, np.ones(2) / x, np.ones((2, 2)) @ x):
        assert isinstance(y, cr.Tensor) and y.requires_grad


def test_float32_with_python_scalars_stays_float32():
    x = cr.tensor([1.0, 2.0], dtype=np.float32, requires_grad=True)
    y = x * 2.5 + 1 - x**2 / 3.0
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_comparisons_and_floor_divide_carry_no_gradient():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    for r in (x > 1, x >= 1, x < 1, x <= 1, x == 1, x != 1, x // 2, np.floor(x), np.sign(x)):
        assert isinstance(r, cr.Tensor) and not r.requires_grad


def test_mod_is_differentiable():
    x = cr.tensor([5.5, 7.25], requires_grad=True)
    (x % 2).sum().backward()
    np.testing.assert_allclose(x.grad, [1.0, 1.0])


def test_tensor_index_and_bool_and_iteration():
    i = cr.tensor(1)
    assert [10, 20, 30][i] == 20
    assert bool(cr.tensor([1.0]) > 0)
    rows = list(cr.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True))
    assert len(rows) == 3 and rows[1].shape == (2,) and rows[1].requires_grad


def test_tensor_index_arrays_and_masks():
    x = cr.tensor(np.arange(6.0), requires_grad=True)
    idx = cr.tensor([0, 0, 5])
    y = x[idx] + x[x > 3].sum()
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [2, 0, 0, 0, 3, 4])


def test_array_methods_record():
    x = cr.tensor(np.arange(1.0, 7.0).reshape(2, 3), requires_grad=True)
    parts = [
        x.sum(),
        x.mean(axis=0).sum(),
        x.prod(),
        x.max(),
        x.min(axis=1).sum(),
        x.var(),
        x.std(),
        x.cumsum().sum(),
        x.reshape(3, 2).sum(),
        x.reshape((6,)).sum(),
        x.transpose().sum(),
        x.transpose(1, 0).sum(),
        x.swapaxes(0, 1).sum(),
        x[None].squeeze().sum(),
        x.ravel().sum(),
        x.flatten().sum(),
        x.repeat(2).sum(),
        x.take([0, 1]).sum(),
        x.diagonal().sum(),
        x.trace(),
        x.clip(2, 5).sum(),
        x.dot(np.ones(3)).sum(),
        x.astype(np.float32).sum(),
        x.copy().sum(),
        x.exp().sum(),
        x.log().sum(),
        x.sqrt().sum(),
        x.abs().sum(),
        x.sin().sum(),
        x.cos().sum(),
        x.tanh().sum(),
        x.sigmoid().sum(),
        x.relu().sum(),
    ]
    for p in parts:
        assert isinstance(p, cr.Tensor) and p.requires_grad, p
    sum(parts).backward()
    assert x.grad.shape == (2, 3) and np.all(np.isfinite(x.grad))


def test_argmax_and_round_are_not_differentiable():
    x = cr.tensor([1.0, 3.0, 2.0], requires_grad=True)
    assert x.argmax() == 1 and x.argmin() == 0
    assert not x.round().requires_grad
    assert not getattr(np.argmax(x), "requires_grad", False)


def test_create_graph_gives_differentiable_gradients_and_keeps_the_graph():
    x = cr.tensor([0.5, -1.0, 2.0], requires_grad=True)
    (np.tanh(x) ** 3).sum().backward(create_graph=True)
    g = x.grad
    assert isinstance(g, cr.Tensor) and g.requires_grad
    x.grad = None
    g.sum().backward()
    t = np.tanh(x.data)
    np.testing.assert_allclose(x.grad, 6 * t * (1 - t**2) ** 2 - 6 * t**3 * (1 - t**2))


def test_grad_mode_decorators_work_without_parentheses():
    x = cr.tensor([1.0], requires_grad=True)

    @cr.no_grad
    def frozen(t):
        return t * 2

    @cr.enable_grad
    def live(t):
        return t * 2

    assert not frozen(x).requires_grad
    with cr.no_grad():
        assert live(x).requires_grad

    @cr.detect_anomaly
    def checked(t):
        return t * 2

    assert checked(x).requires_grad
    with pytest.raises(TypeError, match="takes no arguments"):
        cr.no_grad(3)


def test_small_integer_powers_match_numpy():
    # Cubes and fourth powers of float arrays are computed by multiplication (NumPy's
    # general pow is ~50x slower); they agree with np.power to rounding.
    x = np.random.default_rng(0).standard_normal(1000) * 10
    t = cr.tensor(x, requires_grad=True)
    for k in (3, 4, 3.0, 4.0):
        np.testing.assert_allclose((t**k)._data, np.power(x, k), rtol=4e-16 * 4)
    np.testing.assert_array_equal((cr.tensor(np.arange(5)) ** 3)._data, np.arange(5) ** 3)
    (t**3).sum().backward()
    np.testing.assert_allclose(t.grad, 3 * x**2, rtol=1e-15)


def test_zero_d_results_behave_as_arrays_wherever_seen():
    # 0-d results are held as numpy scalars internally; users still see arrays, and
    # writes through .data are counted.
    x = cr.tensor(3.0, requires_grad=True)
    for dtype in (np.float64, np.float32, np.complex128):
        y = cr.tensor(2.0, dtype=dtype) * 1.5 + x.detach().astype(dtype)
        like_numpy = (
            np.array(2.0, dtype) * 1.5 + np.array(3.0).astype(dtype)
        ).dtype  # 1.x promotes
        assert y.dtype == like_numpy and y.shape == () and type(y.numpy()) is not np.float64
        assert isinstance(y.data, np.ndarray) and isinstance(y.detach().numpy(), np.ndarray)
        assert isinstance(np.asarray(y.detach()), np.ndarray)
    h = x * 2.0
    y = h * h
    h.data[...] = 10.0  # a write into a 0-d result, through its (now array) data
    assert float(h) == 10.0
    with pytest.raises(cr.BackwardError, match="modified in place"):
        y.backward()
    z = x * 2.0
    np.add(z, 1.0, out=z)  # out= into a 0-d result, recorded
    z.backward()
    assert x.grad == 2.0
    assert cr.grad(lambda t: t * t)(3.0).shape == () and isinstance(
        cr.grad(np.sin)(0.5), np.ndarray
    )


@pytest.mark.parametrize(
    "make", [lambda: 3.0, lambda: np.float64(3.0), lambda: np.array(3.0)], ids=str
)
def test_zero_d_leaves_behave_the_same_however_made(make):
    # cr.tensor(3.0) holds a numpy scalar, as 0-d results are; nothing a user sees differs.
    x = cr.tensor(make(), requires_grad=True)
    assert (x.shape, x.dtype, float(x), repr(x)) == (
        (),
        np.float64,
        3.0,
        "tensor(3., requires_grad=True)",
    )
    assert type(x.numpy()) is not np.float64 and isinstance(x.data, np.ndarray)
    (x * x).backward()
    assert type(x.grad) is np.ndarray and x.grad == 6.0
    x = cr.tensor(make(), requires_grad=True)
    y = np.sin(x)
    x.data[...] = 1.0  # counted: sin saved the old value
    with pytest.raises(cr.BackwardError, match="modified in place"):
        y.backward()
    t = cr.tensor(make())
    t += 1
    view = t.data
    view[...] = 7.0
    assert float(t) == 7.0 and float(pickle.loads(pickle.dumps(t))) == 7.0


def test_transforms_return_arrays_for_zero_d_inputs():
    f = lambda a: np.sin(a) * a
    for result in (
        cr.jvp(f, (3.0,), (1.0,)),
        cr.hvp(f, (3.0,), (1.0,)),
        cr.hvp(lambda a, b: a * b * b, (3.0, 2.0), (1.0, 1.0)),
        cr.vjp(f, 3.0)[1](1.0),
        cr.grad(f)(3.0),
        cr.hessian(f)(3.0),
    ):
        for r in result if isinstance(result, tuple) else (result,):
            assert type(r) is np.ndarray and r.shape == ()


def test_hooks_see_arrays_for_zero_d_gradients():
    seen = []
    x = cr.tensor(2.0, requires_grad=True)
    h = x * 3.0
    x.register_hook(lambda g: seen.append(type(g)))
    h.register_hook(lambda g: seen.append(type(g)) or g * 2)
    (h * h).backward()
    assert seen == [np.ndarray, np.ndarray] and x.grad == 2 * 2 * 6.0 * 3.0
