"""The smaller gaps of "every order in both directions": each was a clear error or a
wrong answer; each test pins the fixed behaviour (and fails on the old one)."""

from __future__ import annotations

import dataclasses
import itertools
from collections import namedtuple

import numpy as np
import pytest
from helpers import check_forward_against_reverse, check_grads, check_second_order

import chainrule as cr


def _others(x, skip):
    """The product of the entries of x outside ``skip`` (0 when an index repeats)."""
    if len(set(skip)) < len(skip):
        return 0.0
    return float(np.prod([v for k, v in enumerate(x) if k not in skip]))


# ------------------------------------------------------- prod/cumprod at zeros
@pytest.mark.parametrize(
    "x",
    [[2.0, 0.0, 3.0, -1.5], [2.0, 0.0, 3.0, 0.0], [0.0, 0.0, 0.0], [1.5, 2.0, -0.5]],
    ids=["one-zero", "two-zeros", "all-zeros", "no-zero"],
)
def test_prod_derivatives_at_zeros_are_exact(x):
    x = np.array(x)
    n = len(x)
    grad = np.array([_others(x, (i,)) for i in range(n)])
    hess = np.array([[_others(x, (i, j)) for j in range(n)] for i in range(n)])
    np.testing.assert_array_equal(cr.grad(np.prod)(x), grad)
    np.testing.assert_allclose(cr.hessian(np.prod)(x), hess, atol=1e-15)  # forward over reverse
    np.testing.assert_allclose(cr.jacobian(cr.grad(np.prod))(x), hess, atol=1e-15)
    third = cr.jacobian(cr.hessian(np.prod))(x)
    for i, j, k in itertools.product(range(n), repeat=3):
        assert third[i, j, k] == pytest.approx(_others(x, (i, j, k)), abs=1e-15), (i, j, k)


def test_prod_second_derivative_over_several_axes_with_zeros():
    x = np.array([[1.5, 0.0, 2.0], [0.0, -1.0, 3.0]])
    hess = cr.hessian(lambda a: np.prod(a, axis=(0, 1)))(x)
    flat = x.ravel()
    expected = np.array([[_others(flat, (i, j)) for j in range(6)] for i in range(6)])
    np.testing.assert_allclose(hess.reshape(6, 6), expected, atol=1e-15)


def test_cumprod_second_derivative_at_zeros_is_exact():
    x, w = np.array([2.0, 0.0, 3.0, 0.0]), np.array([1.0, -2.0, 0.5, 3.0])

    def f(v):
        return np.sum(np.cumprod(v) * w)

    # d2/dxi dxj sum_k w_k prod_{m<=k} x_m = sum_{k >= max(i, j)} w_k prod_{m<=k, m!=i,j} x_m
    expected = np.zeros((4, 4))
    for i, j in itertools.product(range(4), repeat=2):
        if i != j:
            expected[i, j] = sum(w[k] * _others(x[: k + 1], (i, j)) for k in range(max(i, j), 4))
    np.testing.assert_allclose(cr.hessian(f)(x), expected, atol=1e-15)
    np.testing.assert_allclose(cr.jacobian(cr.grad(f))(x), expected, atol=1e-15)


# ------------------------------------------------- stacking with dtype/casting
@pytest.mark.parametrize(
    "stack",
    [
        lambda a, b, **kw: np.concatenate([a, b], **kw),
        lambda a, b, **kw: np.stack([a, b], **kw),
        lambda a, b, **kw: np.hstack([a, b], **kw),
        lambda a, b, **kw: np.vstack([a, b], **kw),
    ],
    ids=["concatenate", "stack", "hstack", "vstack"],
)
def test_stacks_take_dtype_and_casting(stack):
    a = np.array([1.0, 2.0], dtype=np.float32)
    b = np.array([3.0, 4.0])
    out = stack(cr.tensor(a), cr.tensor(b), dtype=np.float32, casting="same_kind")
    np.testing.assert_array_equal(out.numpy(), stack(a, b, dtype=np.float32, casting="same_kind"))
    assert out.dtype == np.float32
    ga, gb = cr.grad(lambda x, y: np.sum(stack(x, y, dtype=np.float64) * 3.0), (0, 1))(a, b)
    assert ga.dtype == np.float32 and gb.dtype == np.float64  # each in its input's dtype
    np.testing.assert_array_equal(ga, [3.0, 3.0])
    # NumPy's own judgement of a forbidden cast.
    with pytest.raises(TypeError, match=r"Cannot cast .* according to the rule 'no'"):
        stack(cr.tensor(a), cr.tensor(b), casting="no")


# ------------------------------------------------------------ resize, piecewise
def test_resize_repeats_cyclically_and_adds_gradients():
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(np.resize(cr.tensor(x), (2, 4)).numpy(), np.resize(x, (2, 4)))
    g = cr.grad(lambda v: np.sum(np.resize(v, (2, 4)) ** 2))(x)
    np.testing.assert_array_equal(g, [2 * 1.0 * 3, 2 * 2.0 * 3, 2 * 3.0 * 2])  # copies add
    assert np.resize(cr.tensor(x), 0).shape == (0,)
    np.testing.assert_array_equal(np.resize(cr.tensor(np.zeros(0)), 3), np.zeros(3))
    with pytest.raises(ValueError, match="new_shape must be non-negative"):
        np.resize(cr.tensor(x), (-1, 2))


def test_piecewise_differentiates_only_the_branch_in_use():
    x = np.array([-1.0, 0.25, 4.0])

    def f(v):
        # log would give nan (and a nan gradient) on the entries it does not serve.
        return np.piecewise(v, [v < 0, v > 1], [lambda u: u**2, np.log, lambda u: 3 * u])

    np.testing.assert_array_equal(f(cr.tensor(x)).numpy(), f(x))
    np.testing.assert_allclose(cr.grad(lambda v: np.sum(f(v)))(x), [-2.0, 3.0, 0.25])
    np.testing.assert_allclose(np.diag(cr.hessian(lambda v: np.sum(f(v)))(x)), [2, 0, -1 / 16])
    with pytest.raises(ValueError, match="funclist must have 2 or 3 entries, got 1"):
        np.piecewise(cr.tensor(x), [x < 0, x > 1], [np.sin])


# ----------------------------------------------------- outputs that are not floats
@pytest.mark.parametrize(
    "transform",
    [
        lambda f, x: cr.grad(f)(x),
        lambda f, x: cr.value_and_grad(f)(x),
        lambda f, x: cr.vjp(f, x),
        lambda f, x: cr.hessian(f)(x),
    ],
    ids=["grad", "value_and_grad", "vjp", "hessian"],
)
def test_bool_or_integer_output_is_refused(transform):
    x = np.array([1.0, 2.0])
    with pytest.raises(TypeError, match=r"output is a bool of dtype bool, not a differentiable"):
        transform(lambda v: np.allclose(v, 1.0), x)
    with pytest.raises(TypeError, match=r"output is an integer .*np\.argmax"):
        transform(lambda v: np.argmax(v), x)


def test_vjp_names_the_integer_output_among_several():
    with pytest.raises(TypeError, match=r"cr\.vjp: f's output 1 is an integer"):
        cr.vjp(lambda v: (v * 2, np.argmax(v)), np.array([1.0, 2.0]))


# ---------------------------------------------------------- vjp's cotangents
@pytest.mark.parametrize("cotangent", [2.0, 2, np.float32(2.0), np.array(2.0)])
@pytest.mark.parametrize(
    "f", [lambda v: v[0] * v[1], lambda v: np.median(v), lambda v: np.sort(v)[1]]
)
def test_vjp_takes_a_number_for_a_0d_output(f, cotangent):
    x = np.array([3.0, 1.0, 2.0])
    (g,) = cr.vjp(f, x)[1](cotangent)
    expected = cr.grad(f)(x) * 2.0
    np.testing.assert_allclose(g, expected)
    assert g.dtype == np.float64


def test_vjp_cotangent_of_the_wrong_kind_is_named():
    _, vjp_fn = cr.vjp(lambda v: np.sum(v**2), np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"cotangent 0 has shape \(1,\), the output has shape"):
        vjp_fn([1.0])
    with pytest.raises(TypeError, match=r"cotangent 0 has dtype complex128; pass a real number"):
        vjp_fn(1j)
    with pytest.raises(TypeError, match=r"cotangent 0 has dtype <U1"):
        vjp_fn("a")


def test_vjp_cotangent_keeps_a_float32_output_float32():
    x = np.array([1.0, 2.0], dtype=np.float32)
    (g,) = cr.vjp(lambda v: v[0] * v[1], x)[1](1.0)
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, [2.0, 1.0])


# ------------------------------------------------------------ pytree arguments
@cr.register_pytree
@dataclasses.dataclass
class Params:
    w: np.ndarray
    b: float


class Box:
    """Registered with explicit functions; ``scale`` is static data."""

    def __init__(self, value, scale):
        self.value, self.scale = value, scale


cr.register_pytree(Box, lambda b: ((b.value,), b.scale), lambda scale, kids: Box(kids[0], scale))
Pair = namedtuple("Pair", ["a", "b"])


def _loss(p):
    return np.sum(p.w**2) * p.b


def test_grad_of_a_dataclass_argument_is_a_dataclass():
    p = Params(np.array([1.0, 2.0]), 3.0)
    g = cr.grad(_loss)(p)
    assert isinstance(g, Params)
    np.testing.assert_allclose(g.w, 2 * p.w * 3.0)
    np.testing.assert_allclose(g.b, 5.0)
    value, g2 = cr.value_and_grad(_loss)(p)
    assert value == pytest.approx(15.0)
    np.testing.assert_allclose(g2.w, g.w)


def test_namedtuple_and_registered_class_arguments():
    g = cr.grad(lambda q: np.sum(q.a * q.b))(Pair(np.array([1.0, 2.0]), np.array([3.0, 4.0])))
    assert isinstance(g, Pair)
    np.testing.assert_allclose(g.a, [3.0, 4.0])
    np.testing.assert_allclose(g.b, [1.0, 2.0])
    box = cr.grad(lambda bx: np.sum(bx.value**2) * bx.scale)(Box(np.array([1.0, -1.0]), 2.0))
    assert isinstance(box, Box) and box.scale == 2.0
    np.testing.assert_allclose(box.value, [4.0, -4.0])


def test_vjp_and_jvp_take_pytrees():
    p = Params(np.array([1.0, 2.0]), 3.0)
    out, vjp_fn = cr.vjp(lambda q: q.w * q.b, p)
    (g,) = vjp_fn(np.array([1.0, 1.0]))
    assert isinstance(g, Params)
    np.testing.assert_allclose(g.w, [3.0, 3.0])
    np.testing.assert_allclose(g.b, 3.0)
    t = Params(np.array([1.0, 0.0]), 1.0)
    _, tangent = cr.jvp(_loss, (p,), (t,))
    assert tangent == pytest.approx(2 * 1.0 * 3.0 + 5.0)  # <grad, t>
    with pytest.raises(ValueError, match=r"cr\.jvp: tangent 0 has the structure"):
        cr.jvp(_loss, (p,), ((np.ones(2), 1.0),))


def test_hessian_through_a_pytree_argument():
    def f(x):
        return _loss(Params(x, 2.0))

    np.testing.assert_allclose(cr.hessian(f)(np.array([1.0, 2.0])), 4.0 * np.eye(2))
    g2 = cr.grad(lambda x: np.sum(cr.grad(_loss)(Params(x, 2.0)).w))(np.array([1.0, 2.0]))
    np.testing.assert_allclose(g2, [4.0, 4.0])


def test_unregistered_argument_says_how_to_register_it():
    class Opaque:
        pass

    with pytest.raises(
        TypeError,
        match=r"cr\.grad: argument 0 cannot be differentiated: it is a Opaque.*"
        r"cr\.register_pytree\(cls, flatten, unflatten\)",
    ):
        cr.grad(lambda o: 1.0)(Opaque())
    with pytest.raises(TypeError, match=r"its part \['m'\] is a Opaque.*cr\.register_pytree"):
        cr.grad(lambda d: 1.0)({"m": Opaque()})


def test_objects_beside_the_differentiated_argument_are_left_alone():
    class Config:
        scale = 3.0

    g = cr.grad(lambda x, c, name: np.sum(x) * c.scale, argnums=0)(np.ones(2), Config(), "run")
    np.testing.assert_allclose(g, [3.0, 3.0])


def test_dict_arguments_keep_their_key_order():
    params = {"w": np.array([1.0, 2.0]), "b": 0.5}
    g = cr.grad(lambda p: np.sum(p["w"]) * p["b"])(params)
    assert list(g) == ["w", "b"]
    (g2,) = cr.vjp(lambda p: p["w"] * p["b"], params)[1](np.ones(2))
    assert list(g2) == ["w", "b"]


# ------------------------------------------------- second order through Functions
class SinCos(cr.Function):
    """Two outputs; backward reads a saved output (cos x) as well as the input."""

    def forward(self, x):
        s, c = np.sin(x), np.cos(x)
        self.save_for_backward(x, c)
        return s, c

    def backward(self, ds, dc):
        x, c = self.saved_tensors
        return ds * c - dc * np.sin(x)


class ScaleAndArgmax(cr.Function):
    """An integer output beside two float ones (it gets a zero gradient)."""

    def forward(self, x, w):
        self.save_for_backward(x, w)
        return x * w, np.argmax(x), x**2

    def backward(self, dp, di, dq):
        x, w = self.saved_tensors
        return dp * w + dq * 2 * x, dp * x


class CubeKeptOnSelf(cr.Function):
    """Ported style: forward keeps its input and output on self."""

    def forward(self, x, w):
        self.x, self.w = x, w
        self.y = np.tanh(x * w)
        return self.y

    def backward(self, dy):
        local = dy * (1 - self.y**2)
        return local * self.w, local * self.x


class CacheTuple(cr.Function):
    def forward(self, x):
        self.cache = (x, 3.0)
        return x**3

    def backward(self, dy):
        x, c = self.cache
        return dy * c * x**2


X3 = np.array([0.3, -0.7, 1.2])
W3 = np.array([0.5, 0.4, -1.1])
FUNCTIONS = {
    "two-outputs": (lambda x: np.stack(SinCos()(x)), X3),
    "one-of-two-outputs": (lambda x: SinCos()(x)[1] * 2.0, X3),
    "outputs-multiplied": (lambda x: SinCos()(x)[0] * SinCos()(x)[1], X3),
    "with-an-integer-output": (
        lambda x, w: ScaleAndArgmax()(x, w)[0] + ScaleAndArgmax()(x, w)[2],
        X3,
        W3,
    ),
    "attributes-on-self": (lambda x, w: CubeKeptOnSelf()(x, w), X3, W3),
    "attribute-constant-argument": (lambda x: CubeKeptOnSelf()(x, W3), X3),
    "attribute-tuple": (lambda x: CacheTuple()(x), X3),
}


@pytest.mark.parametrize("f, args", [pytest.param(v[0], v[1:], id=k) for k, v in FUNCTIONS.items()])
def test_functions_differentiate_twice_in_every_mode(f, args):
    check_grads(f, *args)
    check_forward_against_reverse(f, *args)
    check_second_order(f, *args)  # hvp, grad of grad, grad of jvp, nested


THIRD_ORDER = {  # a Function-based scalar function and the same in plain NumPy
    "multi-output": (
        lambda x: np.sum(SinCos()(x)[0] * SinCos()(x)[1]),
        lambda x: np.sum(np.sin(x) * np.cos(x)),
    ),
    "attributes": (
        lambda x: np.sum(CubeKeptOnSelf()(x, W3) ** 2),
        lambda x: np.sum(np.tanh(x * W3) ** 2),
    ),
}


def _directional(f):
    """x -> <grad f(x), W3>: a scalar whose gradient is a Hessian-vector product."""
    return lambda u: np.sum(cr.grad(f)(u) * W3)


COMPOSITIONS = {
    "rev-rev-rev": lambda f, x: cr.grad(lambda v: np.sum(cr.grad(_directional(f))(v) * X3))(x),
    "fwd-rev-rev": lambda f, x: cr.jvp(cr.grad(_directional(f)), (x,), (X3,))[1],
    "rev-fwd-rev": lambda f, x: cr.jacobian(cr.hessian(f))(x),
}


@pytest.mark.parametrize("how", COMPOSITIONS.values(), ids=COMPOSITIONS.keys())
@pytest.mark.parametrize("pair", THIRD_ORDER.values(), ids=THIRD_ORDER.keys())
def test_third_order_through_functions_matches_plain_numpy(pair, how):
    through_function, plain = pair
    np.testing.assert_allclose(how(through_function, X3), how(plain, X3), rtol=1e-12, atol=1e-12)


def test_a_0d_output_saved_as_a_numpy_scalar_is_an_output():
    class Cos(cr.Function):
        def forward(self, x):
            y = np.cos(x)  # a numpy scalar for a 0-d x; the output array is made from it
            self.save_for_backward(x, y)
            return y

        def backward(self, dy):
            x, y = self.saved_tensors
            return -dy * np.sin(x) * (y / np.cos(x))

    np.testing.assert_allclose(cr.grad(cr.grad(Cos()))(np.array(0.3)), -np.cos(0.3))


def test_tensor_backward_twice_through_a_multi_output_function():
    x = cr.tensor(X3, requires_grad=True)
    s, c = SinCos()(x)
    (s * c).sum().backward(create_graph=True)
    g = x.grad
    np.testing.assert_allclose(g.detach().numpy(), np.cos(2 * X3))
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(x.grad, -2 * np.sin(2 * X3))


def test_attribute_kept_on_self_gives_the_true_second_derivative():
    # d2/dx2 tanh(w x) = -2 w^2 tanh(w x) (1 - tanh(w x)^2); it was 0 before.
    h = np.diag(cr.hessian(lambda x: np.sum(CubeKeptOnSelf()(x, W3)))(X3))
    t = np.tanh(W3 * X3)
    np.testing.assert_allclose(h, -2 * W3**2 * t * (1 - t**2), rtol=1e-12)


def test_an_intermediate_kept_on_self_is_refused_when_differentiated_twice():
    class Intermediate(cr.Function):
        def forward(self, x):
            self.s = np.sin(x)
            self.unused = np.cos(x)  # never read by backward: no harm
            return self.s * 1.0

        def backward(self, dy):
            return dy * np.cos(np.arcsin(self.s))

    x = np.array([0.3, 0.7])
    np.testing.assert_allclose(cr.grad(lambda v: np.sum(Intermediate()(v)))(x), np.cos(x))
    with pytest.raises(
        cr.BackwardError,
        match=r"Intermediate\.backward read self\.s, an array that forward kept on self.*"
        r"self\.save_for_backward",
    ):
        cr.hessian(lambda v: np.sum(Intermediate()(v)))(x)
    with pytest.raises(cr.BackwardError, match=r"read self\.s"):
        cr.grad(lambda v: np.sum(cr.grad(lambda z: np.sum(Intermediate()(z)))(v)))(x)


def test_attributes_are_restored_after_backward():
    ctx_seen = []

    class Spy(CubeKeptOnSelf):
        def backward(self, dy):
            ctx_seen.append(self)
            return super().backward(dy)

    cr.hessian(lambda x: np.sum(Spy()(x, W3)))(X3)
    assert all(isinstance(c.x, np.ndarray) and not isinstance(c.x, cr.Tensor) for c in ctx_seen)
