"""NumPy code on Tensors: what records, what carries no gradient, what is refused."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import _registry as reg

ALL_UFUNCS = sorted(
    {getattr(np, n) for n in dir(np) if isinstance(getattr(np, n), np.ufunc)},
    key=lambda u: u.__name__,
)


def _sample_args(ufunc):
    """Inputs the ufunc has a loop for: a float x requiring grad (with the loop's other
    input types) where it takes floats, else integers (bitwise ops, gcd, shifts); None
    where it takes neither."""
    loops = [t.split("->")[0] for t in ufunc.types]
    chosen = next(
        (ins for ins in loops if ins[0] == "d" and all(np.dtype(c).kind in "fiu" for c in ins)),
        next((ins for ins in loops if all(np.dtype(c) == np.int64 for c in ins)), None),
    )
    if chosen is None:
        return None
    # A generalized ufunc's operand with two core dimensions (np.matvec's matrix) is 2-D.
    cores = _core_ndims(ufunc)
    first = np.array([0.5, 1.5] if chosen[0] == "d" else [6, 4], dtype=chosen[0])
    x = cr.tensor(np.stack([first, first[::-1]]) if cores[0] == 2 else first)
    if x.dtype.kind == "f":
        x.requires_grad_()
    rest = [np.array([2, 3], dtype=c) for c in chosen[1:]]
    return [x] + [np.stack([r, r]) if n == 2 else r for r, n in zip(rest, cores[1:])]


def _core_ndims(ufunc):
    """The number of core dimensions of each input ('(m,n),(n)->(m)' gives [2, 1])."""
    if not ufunc.signature:
        return [0] * ufunc.nin
    inputs = ufunc.signature.split("->")[0]
    return [len([d for d in part.split(",") if d]) for part in inputs.strip("()").split("),(")]


@pytest.mark.parametrize("ufunc", ALL_UFUNCS, ids=lambda u: u.__name__)
def test_every_numpy_ufunc_records_is_constant_or_is_refused_by_name(ufunc):
    if ufunc in reg.UFUNC_RULES:
        kind = "rule"
    elif ufunc in reg.NONDIFF_UFUNCS:
        kind = "nondiff"
    else:
        kind = "refused"
    args = _sample_args(ufunc)
    if args is None:
        pytest.skip(f"np.{ufunc.__name__} has loops for datetimes only, which no Tensor holds")
    if kind == "refused":
        with pytest.raises(TypeError, match=rf"np\.{ufunc.__name__}\b"):
            ufunc(*args)
        return
    with np.errstate(all="ignore"):
        out = ufunc(*args)
        expected = ufunc(*[np.array(a.numpy()) if isinstance(a, cr.Tensor) else a for a in args])
    outs = out if isinstance(out, tuple) else (out,)
    assert all(isinstance(o, cr.Tensor) for o in outs), [type(o).__name__ for o in outs]
    # Integer inputs (bitwise ops, gcd, shifts) cannot require grad: the result is constant.
    assert all(o.requires_grad == (kind == "rule" and args[0].requires_grad) for o in outs)
    for o, e in zip(outs, expected if isinstance(out, tuple) else (expected,)):
        np.testing.assert_array_equal(o.numpy(), e, err_msg=f"np.{ufunc.__name__} on a Tensor")


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda x: np.put(x, [0], 1.0), "np.put"),
        (lambda x: np.copyto(x, x), "np.copyto"),
        (lambda x: np.divmod(x, x), "np.divmod"),
        (lambda x: np.multiply.outer(x, x), "np.multiply.outer"),
        (lambda x: np.modf(x), "np.modf"),
        (lambda x: np.pad(x, 1, mode="reflect"), "np.pad"),
    ],
)
def test_a_function_without_a_rule_raises_a_type_error_naming_it(call, name):
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(TypeError, match=name.replace(".", r"\.")):
        call(x)


def test_out_argument_is_refused():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"np\.exp\(\.\.\., out=\.\.\.\)"):
        np.exp(x, out=np.empty(2))
    with pytest.raises(TypeError, match=r"np\.sum.*out"):
        np.sum(x, out=np.empty(()))


def test_unsupported_ufunc_keyword_is_refused_by_name():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"np\.exp.*dtype"):
        np.exp(x, dtype=np.float32)


def test_ufunc_methods_with_a_meaning():
    x = cr.tensor(np.arange(1.0, 7.0).reshape(2, 3), requires_grad=True)
    np.testing.assert_allclose(np.add.reduce(x).data, x.data.sum(axis=0))
    np.testing.assert_allclose(np.add.accumulate(x, axis=1).data, np.add.accumulate(x.data, axis=1))
    y = np.multiply.reduce(x, axis=None) + np.maximum.reduce(x, axis=1).sum()
    y.backward()
    assert x.grad.shape == (2, 3)


def test_non_differentiable_functions_return_constants():
    x = cr.tensor([3.0, 1.0, 2.0], requires_grad=True)
    for r in (np.round(x), np.argsort(x), np.isclose(x, 1.0), np.zeros_like(x), np.isfinite(x)):
        assert isinstance(r, cr.Tensor) and not r.requires_grad
    assert np.argmax(x) == 0
    assert np.allclose(x, x.detach())
    assert np.shape(x) == (3,) and np.ndim(x) == 1 and np.size(x) == 3


def test_nonzero_returns_a_tuple_of_constants():
    x = cr.tensor([0.0, 2.0, 3.0], requires_grad=True)
    (idx,) = np.nonzero(x)
    assert idx.tolist() == [1, 2]
    (idx,) = np.where(x > 0)
    assert idx.tolist() == [1, 2]


# --------------------------------------------------------- non-smooth points


def test_maximum_and_minimum_split_ties_evenly():
    a = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = cr.tensor([1.0, 5.0, 0.0], requires_grad=True)
    (np.maximum(a, b) + np.minimum(a, b) * 10).sum().backward()
    np.testing.assert_allclose(a.grad, [5.5, 10.0, 1.0])
    np.testing.assert_allclose(b.grad, [5.5, 1.0, 10.0])


@pytest.mark.parametrize("reduce", [np.max, np.min, np.amax, np.amin])
def test_max_and_min_reductions_split_ties_evenly(reduce):
    x = cr.tensor([[2.0, 2.0, 1.0], [3.0, 3.0, 3.0]], requires_grad=True)
    if reduce in (np.min, np.amin):
        x = cr.tensor(-x.data, requires_grad=True)
    reduce(x, axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3]])
    x.zero_grad()
    reduce(x).backward()
    np.testing.assert_allclose(x.grad.sum(), 1.0)


def test_relu_abs_and_sign_have_gradient_zero_at_zero():
    x = cr.tensor([0.0, 0.0, 0.0], requires_grad=True)
    y = cr.relu(x)[0] + abs(x)[1] + np.abs(x)[2] + (np.sign(x) * 1.0).sum()
    y.backward()
    np.testing.assert_allclose(x.grad, [0.0, 0.0, 0.0])


def test_prod_with_zeros_in_the_input():
    x = cr.tensor([[2.0, 0.0, 3.0], [0.0, 0.0, 4.0], [1.0, 2.0, 3.0]], requires_grad=True)
    np.prod(x, axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0], [6.0, 3.0, 2.0]])


def test_clip_gradient_is_one_inside_including_the_bounds():
    x = cr.tensor([-2.0, -1.0, 0.0, 1.0, 2.0], requires_grad=True)
    np.clip(x, -1.0, 1.0).sum().backward()
    np.testing.assert_allclose(x.grad, [0.0, 1.0, 1.0, 1.0, 0.0])


def test_where_with_a_tensor_condition():
    x = cr.tensor([-1.0, 2.0], requires_grad=True)
    y = np.where(x > 0, x, x * 3)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [3.0, 1.0])


def test_mean_of_an_integer_tensor_is_float():
    assert np.mean(cr.tensor([1, 2])).dtype == np.float64


@pytest.mark.parametrize("reduce", [np.sum, np.mean, np.var, np.std, np.nanvar, np.nanstd])
def test_reductions_compute_and_return_in_the_requested_dtype(reduce):
    a = np.array([1.0, 2.5, 4.0, 7.0])
    out = reduce(cr.tensor(a, requires_grad=True), dtype=np.float32)
    assert out.dtype == reduce(a, dtype=np.float32).dtype == np.float32
    np.testing.assert_allclose(out.data, reduce(a, dtype=np.float32), rtol=1e-6)


def test_hypot_and_arctan2_at_the_origin_have_zero_gradient():
    x = cr.tensor([0.0, 3.0], requires_grad=True)
    y = cr.tensor([0.0, 4.0], requires_grad=True)
    (np.hypot(x, y) + np.arctan2(y, x)).sum().backward()
    np.testing.assert_allclose(x.grad, [0.0, 0.6 - 4 / 25])
    np.testing.assert_allclose(y.grad, [0.0, 0.8 + 3 / 25])


def test_importing_chainrule_does_not_import_scipy():
    import subprocess
    import sys

    code = "import sys, chainrule; print('scipy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False"


DETACH_MESSAGE = (
    r"converting a Tensor that requires grad to a NumPy array would silently drop its "
    r"gradient\. Call t\.detach\(\)"
)


def test_scipy_parameter_gradients_raise_and_python_level_functions_refuse_tensors():
    sp = pytest.importorskip("scipy.special")
    v = cr.tensor(1.5, requires_grad=True)
    with pytest.raises(
        NotImplementedError,
        match=r"scipy\.special\.jv: no derivative rule with respect to the order v",
    ):
        sp.jv(v, np.array(2.0)).backward()
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(
        TypeError, match=r"scipy\.special \(logsumexp\) converted a Tensor.*chainrule\.scipy"
    ):
        sp.logsumexp(x)  # a Python function: it converts its input, which must not pass silently
    np.testing.assert_allclose(cr.grad(lambda t: sp.gammaln(t))(3.0), sp.digamma(3.0))


def test_np_full_with_a_tensor_fill_refuses_instead_of_detaching():
    # NumPy dispatches np.full only on like=, so the fill value is converted: loudly.
    with pytest.raises(TypeError, match=DETACH_MESSAGE):
        np.full((2, 2), cr.tensor(1.0, requires_grad=True))


def test_eig_gradients_work_and_refuse_a_loss_of_the_free_phases():
    a = np.array([[2.0, 1.0], [0.5, 3.0]])
    w = cr.grad(lambda a: np.sum(np.real(np.linalg.eigvals(a))))(a)
    np.testing.assert_allclose(w, np.eye(2), atol=1e-12)  # d trace / dA
    g = cr.grad(lambda a: np.sum(np.abs(np.linalg.eig(a)[1])))(a)
    assert g.shape == (2, 2) and np.all(np.isfinite(g))
    rotating = np.array([[1.0, 2.0], [-1.0, 3.0]])  # complex eigenvectors
    with pytest.raises(ValueError, match=r"phases of np\.linalg\.eig's eigenvectors"):
        cr.grad(lambda a: np.sum(np.real(np.linalg.eig(a)[1])))(rotating)
