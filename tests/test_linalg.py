"""np.linalg beyond the generic registry rows: eig's eigenvectors in reverse mode and
their gauge, second derivatives of eigenvalues, the one triangle eigh and cholesky
read, and NumPy's batching rules (solve's b, lstsq's 2-D only)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

_rng = np.random.default_rng(11)  # module constants only; each test seeds its own
# A real matrix with a complex pair of eigenvalues (about 0.2 +- 1.3i) and a real one (2).
ROTATING = np.array([[0.3, -1.5, 0.2], [1.2, 0.1, 0.4], [0.2, -0.3, 2.0]])
WEIGHTS = _rng.standard_normal((3, 3))


def numeric_grad(f, x, eps=1e-6):
    """Central differences of the scalar f at x, entry by entry."""
    g = np.zeros(x.shape)
    for j in range(x.size):
        plus, minus = x.copy(), x.copy()
        plus.reshape(-1)[j] += eps
        minus.reshape(-1)[j] -= eps
        g.reshape(-1)[j] = (float(f(plus)) - float(f(minus))) / (2 * eps)
    return g


def projector_loss(v):
    """sum W o Re/Im(V diag(c) V^H): unchanged when a column of V turns its phase."""
    p = (v * np.array([1.0, -2.0, 0.5])) @ np.conj(np.swapaxes(v, -1, -2))
    return np.sum(WEIGHTS * np.real(p)) + np.sum(WEIGHTS**2 * np.imag(p))


def abs_loss(v):
    return np.sum(WEIGHTS * np.abs(v) ** 2) + np.sum(np.abs(v[..., 0, :]))


# ----------------------------------------------------------- eig's eigenvectors
@pytest.mark.parametrize("loss", [projector_loss, abs_loss])
def test_eig_vectors_of_a_real_matrix_with_complex_eigenvalues(loss):
    rng = np.random.default_rng(21)
    a = ROTATING + 0.1 * rng.standard_normal((3, 3))
    assert np.iscomplexobj(np.linalg.eig(a)[1])  # NumPy returns complex vectors here

    def f(m):
        return loss(np.linalg.eig(m)[1])

    np.testing.assert_allclose(cr.grad(f)(a), numeric_grad(f, a), rtol=1e-5, atol=1e-7)


def test_eig_vectors_of_a_complex_matrix():
    rng = np.random.default_rng(22)
    x, y = rng.standard_normal((2, 2, 3, 3))

    def f(re, im):
        return projector_loss(np.linalg.eig(re + 1j * im)[1])

    gx, gy = cr.grad(f, argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gx, numeric_grad(lambda t: f(t, y), x), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(gy, numeric_grad(lambda t: f(x, t), y), rtol=1e-5, atol=1e-7)


def test_eig_vectors_of_a_stack_mixing_real_and_complex_spectra():
    rng = np.random.default_rng(23)
    a = np.stack([ROTATING, np.diag([1.0, 2.0, 4.0]) + 0.3 * rng.standard_normal((3, 3))])

    def f(m):
        return abs_loss(np.linalg.eig(m)[1])

    np.testing.assert_allclose(cr.grad(f)(a), numeric_grad(f, a), rtol=1e-5, atol=1e-7)


def test_eig_vector_tangent_matches_finite_differences_of_a_gauge_invariant_function():
    rng = np.random.default_rng(24)
    a, t = ROTATING, rng.standard_normal((3, 3))

    def f(m):
        return np.abs(np.linalg.eig(m)[1]) ** 2

    _, tangent = cr.jvp(f, (a,), (t,))
    eps = 1e-6
    numeric = (f(a + eps * t) - f(a - eps * t)) / (2 * eps)
    np.testing.assert_allclose(tangent, numeric, rtol=1e-5, atol=1e-8)


def test_eig_vectors_are_unit_columns_as_numpy_returns_them():
    v = np.linalg.eig(cr.tensor(ROTATING, requires_grad=True))[1]
    np.testing.assert_array_equal(v.data, np.linalg.eig(ROTATING)[1])
    np.testing.assert_allclose(np.linalg.norm(v.data, axis=0), 1.0, rtol=1e-12)


def test_a_loss_that_depends_on_the_phases_has_no_gradient():
    with pytest.raises(
        ValueError, match=r"depends on the phases of np\.linalg\.eig's eigenvectors"
    ):
        cr.grad(lambda m: np.sum(np.real(np.linalg.eig(m)[1])))(ROTATING)


def test_the_phase_check_looks_at_each_matrix_of_a_stack():
    def f(m):  # a huge invariant loss on the first matrix, a phase loss on the second
        v = np.linalg.eig(m)[1]
        return 1e10 * np.sum(np.abs(v[0]) ** 2) + np.sum(np.real(v[1]))

    with pytest.raises(ValueError, match="depends on the phases"):
        cr.grad(f)(np.stack([ROTATING, ROTATING.T]))


def test_real_eigenvectors_have_a_gradient_for_any_loss():
    rng = np.random.default_rng(25)
    # Their only freedom is a sign, which does not move under a small change of A.
    a = np.diag([1.0, 3.0, 5.0]) + 0.3 * rng.standard_normal((3, 3))

    def f(m):
        return np.sum(WEIGHTS * np.linalg.eig(m)[1])

    np.testing.assert_allclose(cr.grad(f)(a), numeric_grad(f, a), rtol=1e-5, atol=1e-7)


def test_eig_vectors_at_a_repeated_eigenvalue_raise():
    with pytest.raises(ValueError, match="undefined at repeated values"):
        cr.grad(lambda m: abs_loss(np.linalg.eig(m)[1]))(np.eye(3))


# ------------------------------------------------ second derivatives of eigvals
def eigvals_loss(m):
    w = np.linalg.eigvals(m)
    return np.sum(np.real(w) ** 3) + np.sum(np.imag(w) ** 2)


def test_hessian_of_eigvals_matches_finite_differences():
    rng = np.random.default_rng(26)
    a = ROTATING + 0.1 * rng.standard_normal((3, 3))
    h = cr.hessian(eigvals_loss)(a)
    gradient = cr.grad(eigvals_loss)
    eps = 1e-5
    for j in range(a.size):
        step = np.zeros(a.size)
        step[j] = eps
        step = step.reshape(a.shape)
        column = (gradient(a + step) - gradient(a - step)) / (2 * eps)
        np.testing.assert_allclose(h[(Ellipsis, *np.unravel_index(j, a.shape))], column, atol=1e-6)


def test_grad_of_grad_of_eig_values():
    rng = np.random.default_rng(27)
    a = ROTATING + 0.1 * rng.standard_normal((3, 3))
    d = rng.standard_normal((3, 3))

    g = cr.grad(lambda n: np.sum(np.abs(np.linalg.eig(n)[0]) ** 2))
    hd = cr.grad(lambda m: np.sum(g(m) * d))(a)
    eps = 1e-5
    numeric = (g(a + eps * d) - g(a - eps * d)) / (2 * eps)
    np.testing.assert_allclose(hd, numeric, rtol=1e-5, atol=1e-6)


def test_large_matrices_pair_eig_values_with_their_vectors():
    # np.linalg.eigvals lists the eigenvalues of a large matrix in another order than
    # np.linalg.eig: eig's values must still match its vectors, and eigvals' gradient
    # must use the vectors of its own values.
    rng = np.random.default_rng(3)  # with OpenBLAS, the two orders differ for this one
    n = 160
    a = rng.standard_normal((n, n))
    w, v = np.linalg.eig(cr.tensor(a))
    np.testing.assert_allclose(a @ v.data, v.data * w.data, atol=1e-8)

    def f(m):  # a symmetric function: LAPACK's order jumps as the matrix moves
        return np.sum(np.abs(np.linalg.eigvals(m)) ** 3)

    direction = rng.standard_normal((n, n))
    eps = 1e-6
    numeric = (f(a + eps * direction) - f(a - eps * direction)) / (2 * eps)
    np.testing.assert_allclose(np.sum(cr.grad(f)(a) * direction), numeric, rtol=1e-5)


# ------------------------------------------------------- one triangle (UPLO)
@pytest.mark.parametrize("uplo", ["L", "U"])
@pytest.mark.parametrize(
    "f",
    [
        lambda m, u: np.sum(WEIGHTS[0] * np.linalg.eigvalsh(m, UPLO=u)),
        lambda m, u: np.sum(WEIGHTS * np.linalg.eigh(m, UPLO=u)[1] ** 2),
    ],
    ids=["eigvalsh", "eigh-vectors"],
)
def test_eigh_reads_one_triangle(f, uplo):
    rng = np.random.default_rng(28)
    a = rng.standard_normal((2, 3, 3))  # not symmetric
    g = cr.grad(lambda m: f(m, uplo))(a)
    np.testing.assert_allclose(g, numeric_grad(lambda m: f(m, uplo), a), rtol=1e-5, atol=1e-7)
    ignored = np.triu(np.ones((3, 3)), 1) if uplo == "L" else np.tril(np.ones((3, 3)), -1)
    np.testing.assert_array_equal(g * ignored, 0.0)
    # The used triangle carries both mirrored entries: the symmetric gradient, folded.
    mirrored = np.tril(a) + np.swapaxes(np.tril(a, -1), -1, -2)
    if uplo == "U":
        mirrored = np.triu(a) + np.swapaxes(np.triu(a, 1), -1, -2)
    sym = cr.grad(lambda m: f((m + np.swapaxes(m, -1, -2)) / 2, uplo))(mirrored)
    used = 1.0 - ignored - np.eye(3)
    np.testing.assert_allclose(g * used, 2 * sym * used, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.diagonal(g, 0, -2, -1), np.diagonal(sym, 0, -2, -1))


@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_tangent_of_the_ignored_triangle_is_zero(uplo):
    rng = np.random.default_rng(29)
    a = rng.standard_normal((3, 3))
    t = np.triu(np.ones((3, 3)), 1) if uplo == "L" else np.tril(np.ones((3, 3)), -1)
    w, v = cr.jvp(lambda m: np.linalg.eigh(m, UPLO=uplo), (a,), (t * 0.7,))[1]
    np.testing.assert_array_equal(w, 0.0)
    np.testing.assert_array_equal(v, 0.0)


def test_eigh_refuses_an_unknown_uplo_as_numpy_does():
    with pytest.raises(ValueError, match="UPLO argument must be 'L' or 'U'"):
        np.linalg.eigh(cr.tensor(np.eye(2), requires_grad=True), UPLO="X")


@pytest.mark.skipif(
    np.lib.NumpyVersion(np.__version__) < "2.0.0", reason="cholesky(upper=) is NumPy 2's"
)
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_reads_one_triangle(upper):
    rng = np.random.default_rng(30)
    x = rng.standard_normal((3, 3))
    spd = x @ x.T + 3 * np.eye(3)
    noise = np.tril(rng.standard_normal((3, 3)), -1)
    noise = noise if upper else noise.T  # in the triangle NumPy ignores
    a = spd + noise

    def f(m):
        return np.sum(WEIGHTS * np.linalg.cholesky(m, upper=upper))

    out = np.linalg.cholesky(cr.tensor(a), upper=upper)
    np.testing.assert_allclose(out.data, np.linalg.cholesky(a, upper=upper), rtol=1e-12)
    g = cr.grad(f)(a)
    np.testing.assert_allclose(g, numeric_grad(f, a), rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(g * (noise != 0), 0.0)


# ------------------------------------------------------------ batching rules
@pytest.mark.skipif(
    np.lib.NumpyVersion(np.__version__) < "2.0.0", reason="NumPy 2's rule for solve's b"
)
@pytest.mark.parametrize(
    "sa, sb",
    [((2, 3, 3), (3,)), ((2, 3, 3), (3, 4)), ((3, 3), (2, 3, 1)), ((2, 1, 3, 3), (5, 3, 2))],
)
def test_solve_broadcasts_b_as_numpy_2_does(sa, sb):
    rng = np.random.default_rng(31)
    a = rng.standard_normal(sa) + 4 * np.eye(3)
    b = rng.standard_normal(sb)
    upstream = rng.standard_normal(np.linalg.solve(a, b).shape)

    def f(m, r):
        return np.sum(upstream * np.linalg.solve(m, r))

    ga, gb = cr.grad(f, argnums=(0, 1))(a, b)
    assert ga.shape == sa and gb.shape == sb
    np.testing.assert_allclose(ga, numeric_grad(lambda m: f(m, b), a), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(gb, numeric_grad(lambda r: f(a, r), b), rtol=1e-5, atol=1e-7)


def test_stacked_b_of_the_wrong_size_gets_numpys_error():
    a = cr.tensor(np.eye(3)[None].repeat(2, 0), requires_grad=True)
    with pytest.raises(ValueError, match="mismatch in its core dimension"):
        np.linalg.solve(a, np.ones((2, 2)))


def test_lstsq_of_a_stack_gets_numpys_error():
    rng = np.random.default_rng(32)
    a = cr.tensor(rng.standard_normal((2, 5, 3)), requires_grad=True)
    with pytest.raises(np.linalg.LinAlgError, match="Array must be two-dimensional"):
        np.linalg.lstsq(a, rng.standard_normal((2, 5, 1)), rcond=None)


def test_eigenvalue_orders_are_matched_per_matrix_of_a_stack():
    from chainrule.ops.decompositions import _order

    ref = np.array([[1.0 + 2j, 1.0 - 2j, 3.0], [5.0, 5.0, -1.0]])
    got = np.array([[3.0, 1.0 - 2j, 1.0 + 2j], [-1.0, 5.0, 5.0]]) + 1e-13
    perm = _order(ref, got)
    np.testing.assert_allclose(np.take_along_axis(got, perm, axis=-1), ref, atol=1e-12)
    assert sorted(perm[1]) == [0, 1, 2]  # a repeated value still takes each index once
    assert _order(ref, ref) is None
