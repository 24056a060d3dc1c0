"""Complex numbers through the transforms: the uphill convention for real losses,
holomorphic derivatives against closed forms, forward mode with complex tangents,
and complex linear algebra reached through cr.grad / cr.jacobian."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

RNG = np.random.default_rng(2026)
Z = RNG.standard_normal(4) + 1j * RNG.standard_normal(4)
EPS = 1e-6


def fd_grad(loss, z):
    """dL/dRe(z) + i dL/dIm(z) of a real loss by central differences (plain NumPy)."""
    g = np.zeros(z.shape, complex)
    for j in range(z.size):
        for d in (1.0, 1j):
            zp, zm = z.copy(), z.copy()
            zp.reshape(-1)[j] += EPS * d
            zm.reshape(-1)[j] -= EPS * d
            g.reshape(-1)[j] += d * (float(loss(zp)) - float(loss(zm))) / (2 * EPS)
    return g


# --------------------------------------------------- the convention: uphill
def test_gradient_of_a_real_loss_is_dre_plus_i_dim():
    def loss(z):
        return np.sum(np.abs(z) ** 2 * np.real(z) + np.imag(z**2))

    np.testing.assert_allclose(cr.grad(loss)(Z), fd_grad(loss, Z), rtol=1e-6, atol=1e-8)


def test_abs_squared_has_gradient_two_z_and_a_descent_step_lowers_the_loss():
    def loss(z):
        return np.sum(np.abs(z - (1 + 2j)) ** 2)

    g = cr.grad(loss)(Z)
    np.testing.assert_allclose(g, 2 * (Z - (1 + 2j)), rtol=1e-12)
    assert loss(Z - 0.1 * g) < loss(Z)


def test_tensor_backward_and_value_and_grad_agree_on_complex_leaves():
    z = cr.tensor(Z, requires_grad=True)
    np.sum(np.abs(np.exp(z)) ** 2).backward()
    value, g = cr.value_and_grad(lambda z: np.sum(np.abs(np.exp(z)) ** 2))(Z)
    np.testing.assert_allclose(z.grad, g, rtol=1e-12)
    np.testing.assert_allclose(g, 2 * np.exp(2 * Z.real) * 1, rtol=1e-12)  # d/dRe only
    assert np.isclose(value, np.sum(np.exp(2 * Z.real)))


def test_vjp_of_a_complex_output_is_the_conjugate_transpose():
    out, vjp_fn = cr.vjp(lambda z: z**2, Z)
    c = RNG.standard_normal(4) + 1j * RNG.standard_normal(4)
    (g,) = vjp_fn(c)
    np.testing.assert_allclose(g, np.conj(2 * Z) * c, rtol=1e-12)
    np.testing.assert_allclose(out, Z**2)


def test_real_input_of_a_complex_function_gets_a_real_gradient():
    x = np.array([0.3, -1.1])
    g = cr.grad(lambda x: np.sum(np.abs(np.exp(1j * x) + x) ** 2))(x)
    assert g.dtype == np.float64
    np.testing.assert_allclose(
        g, fd_grad(lambda x: np.sum(np.abs(np.exp(1j * x.real) + x.real) ** 2), x + 0j).real
    )


# ------------------------------------------------------------ holomorphic
HOLOMORPHIC = [
    ("z**3", lambda z: z**3, lambda z: 3 * z**2),
    ("exp", np.exp, np.exp),
    ("sin", np.sin, np.cos),
    ("1/z", lambda z: 1 / z, lambda z: -1 / z**2),
    ("log", np.log, lambda z: 1 / z),
    ("sqrt", np.sqrt, lambda z: 0.5 / np.sqrt(z)),
    (
        "exp(sin(z))*z",
        lambda z: np.exp(np.sin(z)) * z,
        lambda z: np.exp(np.sin(z)) * (np.cos(z) * z + 1),
    ),
    ("tanh(z**2)", lambda z: np.tanh(z**2), lambda z: 2 * z / np.cosh(z**2) ** 2),
]


@pytest.mark.parametrize("name, f, df", HOLOMORPHIC, ids=[h[0] for h in HOLOMORPHIC])
def test_holomorphic_grad_is_the_complex_derivative(name, f, df):
    for z in Z:
        got = cr.grad(f, holomorphic=True)(np.array(z))
        np.testing.assert_allclose(got, df(z), rtol=1e-10, err_msg=name)
    # On arrays: the gradient of the sum is f' elementwise.
    got = cr.grad(lambda z: np.sum(f(z)), holomorphic=True)(Z)
    np.testing.assert_allclose(got, df(Z), rtol=1e-10, err_msg=name)


@pytest.mark.parametrize("name, f, df", HOLOMORPHIC, ids=[h[0] for h in HOLOMORPHIC])
def test_holomorphic_jacobian_in_forward_and_reverse_mode(name, f, df):
    # Square: forward mode. Wide input (one output): reverse mode.
    np.testing.assert_allclose(
        cr.jacobian(f, holomorphic=True)(Z), np.diag(df(Z)), rtol=1e-10, atol=1e-14
    )
    row = cr.jacobian(lambda z: np.sum(f(z)), holomorphic=True)(Z)
    np.testing.assert_allclose(row, df(Z), rtol=1e-10)
    # Tall (more outputs than inputs): forward mode again.
    tall = cr.jacobian(lambda z: np.stack([f(z), 2 * f(z)]), holomorphic=True)(Z[:2])
    np.testing.assert_allclose(tall[1], 2 * np.diag(df(Z[:2])), rtol=1e-10, atol=1e-14)


def test_holomorphic_jacobian_of_a_matrix_map():
    a = RNG.standard_normal((3, 4)) + 1j * RNG.standard_normal((3, 4))
    np.testing.assert_allclose(cr.jacobian(lambda z: a @ z, holomorphic=True)(Z), a)
    np.testing.assert_allclose(cr.jacobian(lambda z: a @ z, holomorphic=True)(Z[None].T[:, 0]), a)


def test_second_derivatives_of_holomorphic_functions():
    z = np.array(0.7 - 0.4j)
    g2 = cr.grad(cr.grad(lambda z: z**3, holomorphic=True), holomorphic=True)(z)
    np.testing.assert_allclose(g2, 6 * z)
    np.testing.assert_allclose(
        cr.hessian(lambda z: np.sum(np.sin(z)), holomorphic=True)(Z), np.diag(-np.sin(Z))
    )
    w = Z[::-1].copy()
    h = cr.hessian(lambda z, w: np.sum(z**2 * w), argnums=(0, 1), holomorphic=True)(Z, w)
    np.testing.assert_allclose(h[0][0], np.diag(2 * w))
    np.testing.assert_allclose(h[0][1], np.diag(2 * Z))
    np.testing.assert_allclose(h[1][1], np.zeros((4, 4)))


# ------------------------------------------------------------ forward mode
def test_jvp_of_a_holomorphic_function_is_complex_linear():
    t = RNG.standard_normal(4) + 1j * RNG.standard_normal(4)
    _, jt = cr.jvp(np.sin, (Z,), (t,))
    np.testing.assert_allclose(jt, np.cos(Z) * t, rtol=1e-12)
    _, jit = cr.jvp(np.sin, (Z,), (1j * t,))
    np.testing.assert_allclose(jit, 1j * jt, rtol=1e-12)


def test_jvp_of_a_general_function_is_the_real_directional_derivative():
    def f(z):
        return np.conj(z) * z**2 + np.abs(z)

    t = RNG.standard_normal(4) + 1j * RNG.standard_normal(4)
    _, jt = cr.jvp(f, (Z,), (t,))
    numeric = (f(Z + EPS * t) - f(Z - EPS * t)) / (2 * EPS)
    np.testing.assert_allclose(jt, numeric, rtol=1e-6, atol=1e-8)
    _, jit = cr.jvp(f, (Z,), (1j * t,))
    assert not np.allclose(jit, 1j * jt)  # real-linear only: conj breaks complex linearity


def test_hvp_with_complex_tangents_is_the_derivative_of_the_gradient():
    def loss(z):
        return np.sum(np.abs(z) ** 4 + np.real(z**3))

    t = RNG.standard_normal(4) + 1j * RNG.standard_normal(4)
    grad = cr.grad(loss)
    numeric = (grad(Z + EPS * t) - grad(Z - EPS * t)) / (2 * EPS)
    np.testing.assert_allclose(cr.hvp(loss, (Z,), (t,)), numeric, rtol=1e-6, atol=1e-7)


def test_jacobian_of_a_real_output_of_complex_inputs_stacks_gradients():
    def f(z):
        return np.abs(z[:3]) ** 2 * np.real(z[1:])

    jac = cr.jacobian(f)(Z)  # 3 outputs, 4 inputs: reverse mode
    for i in range(3):
        np.testing.assert_allclose(jac[i], fd_grad(lambda z, i=i: f(z)[i], Z), atol=1e-7)
    tall = cr.jacobian(lambda z: np.abs(np.stack([z, 2 * z])) ** 2)(Z[:2])  # forward mode
    np.testing.assert_allclose(tall[1, :, :], np.diag(8 * Z[:2]), rtol=1e-10)


def test_jacobian_of_a_complex_output_of_a_real_input():
    x = np.array([0.2, -0.7, 1.3])
    expected = np.diag(1j * np.exp(1j * x))
    np.testing.assert_allclose(cr.jacobian(lambda x: np.exp(1j * x))(x), expected, atol=1e-14)
    wide = cr.jacobian(lambda x: np.sum(np.exp(1j * x)))(x)  # reverse mode
    np.testing.assert_allclose(wide, np.diag(expected), atol=1e-14)


# ------------------------------------------------------------- bad input
def test_grad_of_a_complex_output_says_take_a_real_part_or_holomorphic():
    with pytest.raises(TypeError, match=r"must return a real scalar.*np\.abs.*holomorphic=True"):
        cr.grad(lambda z: np.sum(z**2))(Z)
    with pytest.raises(TypeError, match=r"cr\.value_and_grad: f must return a real scalar"):
        cr.value_and_grad(lambda z: np.sum(z))(Z)


def test_hvp_of_a_complex_output_is_refused_without_a_holomorphic_hint():
    with pytest.raises(TypeError, match=r"cr\.hvp: f must return a real scalar.*np\.real\(out\)$"):
        cr.hvp(lambda z: np.sum(z**2), (Z,), (Z,))


def test_holomorphic_needs_complex_inputs_and_outputs():
    with pytest.raises(TypeError, match=r"holomorphic=True\): the inputs must be complex"):
        cr.grad(lambda x: x**2, holomorphic=True)(np.array(1.0))
    with pytest.raises(TypeError, match=r"holomorphic=True\): f must return a complex scalar"):
        cr.grad(lambda z: np.abs(z), holomorphic=True)(np.array(1j))
    with pytest.raises(TypeError, match=r"cr\.jacobian\(holomorphic=True\): the inputs must"):
        cr.jacobian(np.sin, holomorphic=True)(np.array([1.0]))
    with pytest.raises(TypeError, match=r"cr\.jacobian\(holomorphic=True\): f must return complex"):
        cr.jacobian(np.abs, holomorphic=True)(Z)


def test_jacobian_of_a_complex_to_complex_map_needs_holomorphic():
    with pytest.raises(
        TypeError, match=r"complex inputs to complex outputs; pass holomorphic=True"
    ):
        cr.jacobian(np.conj)(Z)
    with pytest.raises(TypeError, match=r"complex inputs to complex outputs"):
        cr.jacobian(lambda z: np.sum(np.conj(z)))(Z)  # reverse mode too


def test_hessian_of_complex_inputs_points_to_hvp():
    with pytest.raises(TypeError, match=r"real-linear, not a complex matrix; use cr\.hvp"):
        cr.hessian(lambda z: np.sum(np.abs(z) ** 2))(Z)


def test_complex_tangent_of_a_real_primal_is_refused():
    with pytest.raises(TypeError, match=r"cr\.jvp: tangent 0 is complex but its primal is real"):
        cr.jvp(np.sin, (np.array([1.0]),), (np.array([1j]),))


# ----------------------------------------------- complex linear algebra
def _complex_matrix(n, seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))


@pytest.mark.parametrize(
    "name, loss",
    [
        ("eigvals", lambda a: np.sum(np.abs(np.linalg.eig(a)[0]) ** 2 * np.arange(3))),
        ("eig-projectors", lambda a: np.abs(np.linalg.eig(a)[1][0, 1] / np.linalg.eig(a)[1][1, 1])),
        ("inv", lambda a: np.sum(np.real(np.linalg.inv(a)) ** 2)),
        ("solve", lambda a: np.sum(np.abs(np.linalg.solve(a, np.arange(3.0) + 1j)))),
        ("abs-norm", lambda a: np.sqrt(np.sum(np.abs(a) ** 2))),
        ("fft-energy", lambda a: np.sum(np.abs(np.fft.fft2(a, norm="ortho")) ** 2 * np.arange(3))),
    ],
)
def test_complex_matrix_functions_match_finite_differences(name, loss):
    a = _complex_matrix(3, 11)
    np.testing.assert_allclose(
        cr.grad(loss)(a), fd_grad(loss, a), rtol=1e-5, atol=1e-7, err_msg=name
    )


def test_parseval_holds_for_the_gradient_of_an_ortho_fft():
    # With norm="ortho" the FFT is unitary: the energy, and so its gradient 2z, is unchanged.
    g = cr.grad(lambda z: np.sum(np.abs(np.fft.fft(z, norm="ortho")) ** 2))(Z)
    np.testing.assert_allclose(g, 2 * Z, rtol=1e-12)


@pytest.mark.parametrize(
    "call, primitive",
    [
        (lambda a: np.sum(np.linalg.svd(a, compute_uv=False)), "linalg.svd.values"),
        (lambda a: np.sum(np.linalg.eigvalsh(a + np.conj(a.T))), "linalg.eigvalsh"),
    ],
)
def test_complex_decompositions_without_rules_are_refused_by_name(call, primitive):
    # Pinned until ops/decompositions.py gives them complex rules.
    with pytest.raises(TypeError, match=rf"no derivative rule for '{primitive}' on complex"):
        cr.grad(call)(_complex_matrix(3, 4))


def test_backward_on_a_complex_tensor_needs_a_head_gradient():
    z = cr.tensor(1.0 + 2.0j, requires_grad=True)
    with pytest.raises(cr.BackwardError, match=r"backward\(\) on a complex tensor .* pass grad="):
        (z * z).backward()
    (np.abs(z * z) ** 2).backward()  # a real loss: d|z|^4 = 4|z|^2 z, uphill
    np.testing.assert_allclose(z.grad, 4 * abs(1 + 2j) ** 2 * (1 + 2j))


def test_complex_norm_and_det_against_closed_forms():
    a = _complex_matrix(3, 3)
    # |A|_F: the gradient (d/dRe + i d/dIm) is A / |A|_F.
    np.testing.assert_allclose(cr.grad(np.linalg.norm)(a), a / np.linalg.norm(a), rtol=1e-12)
    # det is holomorphic: d det / dA = det(A) inv(A)^T.
    want = np.linalg.det(a) * np.linalg.inv(a).T
    np.testing.assert_allclose(cr.grad(np.linalg.det, holomorphic=True)(a), want, rtol=1e-10)
