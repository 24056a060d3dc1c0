"""Function transforms: grad, value_and_grad, vjp, jvp, jacobian, hessian, hvp."""

from __future__ import annotations

import numpy as np
import pytest
from custom_functions import MulAdd, Sigmoid

import chainrule as cr


def f_scalar(x):
    return np.sum(np.tanh(x) ** 3)


X = np.array([0.5, -1.0, 2.0])


def numeric_grad(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = eps
        g.flat[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


def test_grad_returns_plain_arrays_of_the_input_shape():
    g = cr.grad(f_scalar)(X)
    assert type(g) is np.ndarray and g.shape == X.shape
    np.testing.assert_allclose(g, numeric_grad(f_scalar, X), rtol=1e-6)


def test_value_and_grad_against_the_closed_form():
    # Not against cr.grad, which runs the same code: f_scalar(x) = sum(tanh(x)**3) has
    # the gradient 3 tanh(x)**2 (1 - tanh(x)**2).
    value, g = cr.value_and_grad(f_scalar)(X)
    t = np.tanh(X)
    assert value == pytest.approx(np.sum(t**3), rel=1e-14)
    np.testing.assert_allclose(g, 3 * t**2 * (1 - t**2), rtol=1e-13)
    (v2, aux), (gx, gy) = cr.value_and_grad(
        lambda a, b: (np.sum(a * b**2), "aux"), argnums=(0, 1), has_aux=True
    )(X, 2 * X)
    assert aux == "aux" and v2 == pytest.approx(np.sum(4 * X**3), rel=1e-14)
    np.testing.assert_allclose(gx, 4 * X**2, rtol=1e-14)
    np.testing.assert_allclose(gy, 4 * X**2, rtol=1e-14)


def test_argnums_int_and_tuple():
    f = lambda x, y: np.sum(x * y**2)
    x, y = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    np.testing.assert_allclose(cr.grad(f, argnums=1)(x, y), 2 * x * y)
    gx, gy = cr.grad(f, argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gx, y**2)
    np.testing.assert_allclose(gy, 2 * x * y)
    assert cr.grad(f, argnums=-1)(x, y).shape == (2,)


def test_python_scalars():
    assert cr.grad(lambda x: x**3)(2.0) == pytest.approx(12.0)
    assert cr.grad(lambda x, y: x * y, argnums=1)(3.0, 2.0) == pytest.approx(3.0)


def test_nested_containers_give_gradients_of_the_same_structure():
    params = {"w": np.array([1.0, 2.0]), "layers": [np.array(3.0), (np.array([4.0]),)]}

    def loss(p):
        return np.sum(p["w"] ** 2) * p["layers"][0] + np.sum(p["layers"][1][0])

    g = cr.grad(loss)(params)
    assert (
        set(g) == {"w", "layers"}
        and isinstance(g["layers"], list)
        and isinstance(g["layers"][1], tuple)
    )
    np.testing.assert_allclose(g["w"], 2 * params["w"] * 3.0)
    np.testing.assert_allclose(g["layers"][0], 5.0)
    np.testing.assert_allclose(g["layers"][1][0], [1.0])


def test_has_aux():
    def f(x):
        return np.sum(x**2), {"norm": np.sqrt(np.sum(x**2))}

    g, aux = cr.grad(f, has_aux=True)(X)
    np.testing.assert_allclose(g, 2 * X)
    assert isinstance(aux["norm"], np.ndarray)
    (value, aux2), g2 = cr.value_and_grad(f, has_aux=True)(X)
    assert value == pytest.approx(np.sum(X**2)) and aux2["norm"] == pytest.approx(np.linalg.norm(X))


def test_grad_of_a_function_independent_of_its_input_is_zero():
    np.testing.assert_array_equal(cr.grad(lambda x: np.float64(3.0))(X), np.zeros(3))


def test_higher_order_grad_matches_finite_differences_of_the_lower_order():
    d1 = cr.grad(np.sin)
    d2 = cr.grad(d1)
    d3 = cr.grad(d2)
    x = 0.7
    assert d2(x) == pytest.approx(-np.sin(x))
    assert d3(x) == pytest.approx(-np.cos(x))
    eps = 1e-5
    assert d3(x) == pytest.approx((d2(x + eps) - d2(x - eps)) / (2 * eps), rel=1e-6)


def test_third_order_through_broadcasting_indexing_and_reductions():
    b = np.array([0.3, -0.2, 0.5])

    def f(x):
        y = np.exp(x[:, None] * b)[[0, 2, 2]].max(axis=1) * cr.sigmoid(x).sum()
        return np.sum(y)

    x = np.array([0.4, -0.3, 0.8])
    v = np.array([1.0, 0.5, -1.0])

    def second_directional(x):  # v^T H v
        return np.sum(cr.grad(lambda x: np.sum(cr.grad(f)(x) * v))(x) * v)

    third = cr.grad(second_directional)(x)
    eps = 1e-5
    numeric = numeric_grad(second_directional, x, eps)
    np.testing.assert_allclose(third, numeric, rtol=1e-4, atol=1e-7)


def test_vjp_and_multiple_calls():
    out, vjp_fn = cr.vjp(lambda x, y: x * y, np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    np.testing.assert_allclose(out, [3.0, 8.0])
    gx, gy = vjp_fn(np.array([1.0, 1.0]))
    np.testing.assert_allclose(gx, [3.0, 4.0])
    gx2, _ = vjp_fn(np.array([2.0, 0.0]))
    np.testing.assert_allclose(gx2, [6.0, 0.0])


def test_vjp_of_several_outputs():
    out, vjp_fn = cr.vjp(lambda x: (x**2, np.sum(x)), np.array([1.0, 2.0]))
    assert isinstance(out, tuple) and len(out) == 2
    (g,) = vjp_fn((np.array([1.0, 0.0]), np.array(2.0)))
    np.testing.assert_allclose(g, [2.0 + 2.0, 2.0])


def test_vjp_cotangent_shape_is_checked():
    _, vjp_fn = cr.vjp(np.sin, np.ones(3))
    with pytest.raises(
        ValueError, match=r"cotangent 0 has shape \(2,\), the output has shape \(3,\)"
    ):
        vjp_fn(np.ones(2))


def test_jvp_is_forward_mode_and_runs_no_backward(monkeypatch):
    from chainrule import _engine, _function_run, transforms

    # Every module that runs the reverse sweep, whether by attribute or by imported name.
    for module in (_engine, _function_run, transforms):
        monkeypatch.setattr(
            module, "run_backward", lambda *a, **k: pytest.fail("jvp ran a backward pass")
        )
    with pytest.raises(pytest.fail.Exception, match="jvp ran a backward pass"):
        cr.vjp(np.sin, X)[1](np.ones(3))  # the patch reaches reverse mode
    out, t = cr.jvp(lambda x: np.sin(x) * x, (X,), (np.ones(3),))
    np.testing.assert_allclose(out, np.sin(X) * X)
    np.testing.assert_allclose(t, np.cos(X) * X + np.sin(X))


def test_jvp_several_inputs_and_outputs():
    out, t = cr.jvp(
        lambda x, y: (x * y, x + y), (np.array(2.0), np.array(3.0)), (np.array(1.0), np.array(0.0))
    )
    assert out == (6.0, 5.0) and t == (3.0, 1.0)


def test_jacobian_shape_and_values_in_both_modes():
    A = np.arange(6.0).reshape(2, 3)
    wide = cr.jacobian(lambda x: A @ x)(np.ones(3))  # 3 inputs > 2 outputs: reverse
    tall = cr.jacobian(lambda x: A.T @ x)(np.ones(2))  # 2 inputs < 3 outputs: forward
    np.testing.assert_allclose(wide, A)
    np.testing.assert_allclose(tall, A.T)
    J = cr.jacobian(lambda x: np.outer(x, x))(np.array([1.0, 2.0]))
    assert J.shape == (2, 2, 2)
    np.testing.assert_allclose(J[0, 1], [2.0, 1.0])


def test_jacobian_costs_min_inputs_outputs_passes(monkeypatch):
    import chainrule.jacobians as tr

    calls = {"jvp": 0, "vjp_fn": 0}
    real_jvp, real_vjp = tr.jvp, tr.vjp

    def counting_jvp(*a, **k):
        calls["jvp"] += 1
        return real_jvp(*a, **k)

    def counting_vjp(*a, **k):
        out, fn = real_vjp(*a, **k)

        def counted(c):
            calls["vjp_fn"] += 1
            return fn(c)

        return out, counted

    monkeypatch.setattr(tr, "jvp", counting_jvp)
    monkeypatch.setattr(tr, "vjp", counting_vjp)
    cr.jacobian(lambda x: np.tile(x, 10))(np.ones(3))  # 3 in, 30 out
    assert calls == {"jvp": 3, "vjp_fn": 0}
    calls.update(jvp=0)
    cr.jacobian(lambda x: np.sum(x) * np.ones(2))(np.ones(30))  # 30 in, 2 out
    assert calls["vjp_fn"] == 2 and calls["jvp"] <= 1


def test_hessian_and_hvp():
    H = cr.hessian(f_scalar)(X)
    t = np.tanh(X)
    d2 = 6 * t * (1 - t**2) ** 2 - 6 * t**3 * (1 - t**2)
    np.testing.assert_allclose(H, np.diag(d2), atol=1e-12)
    v = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(cr.hvp(f_scalar, (X,), (v,)), H @ v)
    np.testing.assert_allclose(cr.jacobian(cr.grad(f_scalar))(X), H)
    _, hv = cr.jvp(cr.grad(f_scalar), (X,), (v,))
    np.testing.assert_allclose(hv, H @ v)


def test_hvp_nested_in_grad_and_grad_nested_in_hvp():
    # A top-level hvp computes its forward tangents without a graph; nested in a
    # transform, or with a transform inside f, they must stay differentiable.
    v = np.array([1.0, -2.0, 0.5])
    hv_sum = lambda x: np.sum(cr.hvp(f_scalar, (x,), (v,)) * np.array([0.3, 1.0, -2.0]))
    np.testing.assert_allclose(cr.grad(hv_sum)(X), numeric_grad(hv_sum, X), rtol=1e-6, atol=1e-8)
    g_norm = lambda x: np.sum(cr.grad(f_scalar)(x) ** 2)
    expected = cr.jacobian(cr.grad(g_norm))(X) @ v
    np.testing.assert_allclose(cr.hvp(g_norm, (X,), (v,)), expected, rtol=1e-10)
    numeric = numeric_grad(lambda x: cr.grad(g_norm)(x) @ v, X)
    np.testing.assert_allclose(expected, numeric, rtol=1e-6, atol=1e-8)


def test_hessian_of_a_mixed_function_and_tuple_argnums():
    f = lambda x, y: np.sum(x**2 * y) + np.sum(y**3)
    x, y = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    (hxx, hxy), (hyx, hyy) = cr.hessian(f, argnums=(0, 1))(x, y)
    np.testing.assert_allclose(hxx, np.diag(2 * y))
    np.testing.assert_allclose(hxy, np.diag(2 * x))
    # Each block against its closed form, not against another block of the same call
    # (these diagonal blocks are symmetric: tests/test_planted_bugs.py has non-square ones).
    np.testing.assert_allclose(hyx, np.diag(2 * x))
    np.testing.assert_allclose(hyy, np.diag(6 * y))


def test_grad_of_jvp_reverse_over_forward():
    g = cr.grad(lambda x: np.sum(cr.jvp(np.sin, (x,), (np.ones(3),))[1]))(X)
    np.testing.assert_allclose(g, -np.sin(X))


# ------------------------------------------------------------------ errors


def test_grad_of_a_non_scalar_function_says_what_it_got():
    with pytest.raises(
        TypeError,
        match=r"cr\.grad: f must return a scalar, got an output of shape \(3,\); use cr\.vjp or cr\.jacobian",
    ):
        cr.grad(np.sin)(X)


@pytest.mark.parametrize("bad", [np.array([1, 2, 3]), 3, True, np.array([True])])
def test_integer_inputs_to_grad_name_the_argument(bad):
    with pytest.raises(TypeError, match=r"cr\.grad: argument 0 has dtype"):
        cr.grad(lambda x: np.sum(x * 1.0))(bad)


def test_a_complex_output_needs_holomorphic_or_a_real_loss():
    with pytest.raises(TypeError, match=r"must return a real scalar"):
        cr.grad(lambda x: np.sum(x))(np.array([1j]))
    assert cr.grad(lambda z: z**3, holomorphic=True)(1j) == 3 * (1j) ** 2


def test_argnums_out_of_range():
    with pytest.raises(ValueError, match=r"argnums=2 does not fit a call with 2 argument"):
        cr.grad(lambda x, y: x * y, argnums=2)(1.0, 2.0)


def test_jvp_argument_errors():
    with pytest.raises(
        ValueError, match=r"tangent 0 has shape \(2,\), its primal has shape \(3,\)"
    ):
        cr.jvp(np.sin, (X,), (np.ones(2),))
    with pytest.raises(ValueError, match=r"cr\.jvp: 1 primal\(s\) but 2 tangent\(s\)"):
        cr.jvp(np.sin, (X,), (X, X))
    with pytest.raises(TypeError, match=r"cr\.jvp: primals must be a tuple of arrays, got ndarray"):
        cr.jvp(np.sin, X, X)


def test_has_aux_needs_a_pair():
    with pytest.raises(
        TypeError, match=r"cr\.grad\(has_aux=True\): f must return a pair \(value, aux\)"
    ):
        cr.grad(lambda x: x**2, has_aux=True)(1.0)


# --------------------------------------------------- through custom Functions


def test_second_derivative_through_a_function_that_saves_its_output():
    f = lambda x: np.sum(Sigmoid()(x) ** 2)
    H = cr.hessian(f)(X)
    eps = 1e-6
    numeric = np.stack(
        [(cr.grad(f)(X + eps * e) - cr.grad(f)(X - eps * e)) / (2 * eps) for e in np.eye(3)],
        axis=-1,
    )
    np.testing.assert_allclose(H, numeric, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(
        cr.grad(lambda x: np.sum(cr.grad(f)(x)))(X), H.sum(axis=0), rtol=1e-9
    )


def test_create_graph_through_a_function():
    x = cr.tensor([0.3], requires_grad=True)
    Sigmoid()(x).backward(create_graph=True)
    g = x.grad
    x.grad = None
    g.backward()
    s = 1 / (1 + np.exp(-0.3))
    np.testing.assert_allclose(x.grad, [s * (1 - s) * (1 - 2 * s)])


def test_second_order_through_a_function_saving_an_intermediate_names_the_class():
    class SavesIntermediate(cr.Function):
        def forward(self, x):
            e = np.exp(-x)
            self.save_for_backward(e)
            return 1 / (1 + e)

        def backward(self, dy):
            (e,) = self.saved_tensors
            return dy * e / (1 + e) ** 2

    f = lambda x: np.sum(SavesIntermediate()(x))
    np.testing.assert_allclose(cr.grad(f)(X), cr.grad(lambda x: np.sum(cr.sigmoid(x)))(X))
    with pytest.raises(
        cr.BackwardError,
        match=r"SavesIntermediate saved an array .*neither one of its inputs nor its output",
    ):
        cr.hessian(f)(X)


def test_forward_mode_through_a_function_with_only_backward():
    out, t = cr.jvp(lambda x: Sigmoid()(x), (X,), (np.array([1.0, 2.0, -1.0]),))
    s = 1 / (1 + np.exp(-X))
    np.testing.assert_allclose(t, s * (1 - s) * [1.0, 2.0, -1.0])


def test_forward_mode_through_a_function_with_several_inputs_and_outputs():
    (p, s), (tp, ts) = cr.jvp(
        lambda x, y: MulAdd()(x, y), (np.array(2.0), np.array(3.0)), (np.array(1.0), np.array(10.0))
    )
    assert (p, s) == (6.0, 5.0) and tp == pytest.approx(3.0 + 20.0) and ts == pytest.approx(11.0)


def test_a_functions_own_jvp_is_used():
    class Cube(cr.Function):
        def forward(self, x):
            self.save_for_backward(x)
            return x**3

        def backward(self, dy):
            (x,) = self.saved_tensors
            return dy * 3 * x**2

        def jvp(self, tx):
            (x,) = self.saved_tensors
            return 3 * x**2 * tx

    _, t = cr.jvp(lambda x: Cube()(x), (X,), (np.ones(3),))
    np.testing.assert_allclose(t, 3 * X**2)


def test_backward_that_cannot_run_on_tensors_suggests_jvp():
    class Opaque(cr.Function):
        def forward(self, x):
            return x * 2

        def backward(self, dy):
            return np.asarray(dy) * 2  # converts: cannot be transposed

    with pytest.raises(
        cr.BackwardError, match=r"Opaque\.backward failed when run on Tensors.*Opaque\.jvp"
    ):
        cr.jvp(lambda x: Opaque()(x), (X,), (np.ones(3),))


def test_third_order_through_an_hvp_whose_rules_read_their_inputs():
    # z ** 3 reads its input in backward: nested, that input is rebuilt from its node,
    # which must carry the tangent (it once did not, and the hvp was silently 0).
    x, u, w = np.array([0.1, -0.2]), np.array([1.0, 2.0]), np.array([0.5, -1.0])
    cube = lambda z: np.sum(z**3)
    np.testing.assert_allclose(
        cr.grad(lambda x: np.sum(cr.hvp(cube, (x,), (u,)) * w))(x), 6 * u * w
    )
    np.testing.assert_allclose(
        cr.grad(lambda v: np.sum(cr.hvp(cube, (x,), (v,)) * w))(u), 6 * x * w
    )
    hv = cr.hvp(cube, (cr.tensor(x, requires_grad=True),), (u,))
    assert isinstance(hv, cr.Tensor) and hv.requires_grad
    np.testing.assert_allclose(hv.detach().numpy(), 6 * x * u)


def test_grad_of_a_jvp_with_respect_to_its_tangent():
    x = np.array([0.3, 1.2])
    f = lambda a: np.exp(a) * np.sin(a)
    slope = np.exp(x) * (np.sin(x) + np.cos(x))
    np.testing.assert_allclose(
        cr.grad(lambda v: np.sum(cr.jvp(f, (x,), (v,))[1]))(np.ones(2)), slope
    )


def test_forward_over_forward_and_jacobian_and_hessian_of_forward_mode():
    A = np.array([[1.0, 2.0], [3.0, 4.0]])
    x = np.array([0.1, -0.2])
    f = lambda z: np.tanh(A @ z)
    jac = (1 - np.tanh(A @ x) ** 2)[:, None] * A
    # d/dz (J(z) 1) along 1, by forward over forward, against finite differences.
    inner = lambda z: cr.jvp(f, (z,), (np.ones(2),))[1]
    numeric_ff = (inner(x + 1e-6) - inner(x - 1e-6)) / 2e-6
    np.testing.assert_allclose(cr.jvp(inner, (x,), (np.ones(2),))[1], numeric_ff, rtol=1e-6)
    # hvp inside jvp: the third derivative of sum(y**3) is 6 per element.
    third = cr.jvp(lambda z: cr.hvp(lambda y: np.sum(y**3), (z,), (z,)), (x,), (np.ones(2),))[1]
    np.testing.assert_allclose(third, 12 * x)  # d/dz (6 z * z) = 12 z
    # f runs forward mode itself: jacobian and hessian work around it in any mode.
    np.testing.assert_allclose(cr.jacobian(lambda v: cr.jvp(f, (x,), (v,))[1])(np.ones(2)), jac)
    g = lambda z: np.sum(cr.jvp(f, (z,), (np.ones(2),))[1])
    numeric = np.stack([numeric_grad(lambda z, i=i: cr.grad(g)(z)[i], x) for i in range(2)])
    np.testing.assert_allclose(cr.hessian(g)(x), numeric, rtol=1e-6)


def test_no_perturbation_confusion():
    """d/dx [x * d/dy (x + y)] = 1: the inner derivative must not see x's perturbation."""
    inner = lambda x: cr.jvp(lambda y: x + y, (np.array(2.0),), (np.array(1.0),))[1]
    assert cr.jvp(lambda x: x * inner(x), (np.array(3.0),), (np.array(1.0),))[1] == 1.0
    assert cr.grad(lambda x: x * inner(x))(3.0) == 1.0  # reverse over forward too

    def siblings(x):
        # Two jvps side by side inside grad: y's tangent from the first must not leak
        # into the second (it did, before levels had tags: 12 and 4 instead of 6 and 2).
        y, _ = cr.jvp(lambda a: a * 2.0, (x,), (np.ones(1),))
        _, t = cr.jvp(lambda b: b * y, (x,), (np.ones(1),))
        return np.sum(t)

    value, g = cr.value_and_grad(siblings)(np.array([3.0]))
    assert value == 6.0 and g.tolist() == [2.0]


def test_higher_order_forward_mode_matches_closed_forms():
    x = np.array([0.3, 1.2])
    d = lambda h: lambda z: cr.jvp(h, (z,), (np.ones_like(z),))[1]
    np.testing.assert_allclose(d(d(np.sin))(x), -np.sin(x))
    np.testing.assert_allclose(d(d(d(np.sin)))(x), -np.cos(x))
    np.testing.assert_allclose(d(d(d(d(np.exp))))(x), np.exp(x))
    jacfwd2 = cr.jacobian(cr.jacobian(lambda z: np.sum(z**3)))
    np.testing.assert_allclose(jacfwd2(x), np.diag(6 * x))
    # jacobian of a function that is wider than long runs forward mode inside a jacobian
    np.testing.assert_allclose(
        cr.jacobian(lambda z: cr.jacobian(lambda w: w**3)(z))(x),
        np.einsum("ij,jk->ijk", np.eye(2), np.diag(6 * x)),
    )
