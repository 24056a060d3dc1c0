"""cr.compile: programs equal eager, guards keep branches right, refusals name the
operation, and the cache says why it missed."""

from __future__ import annotations

import linecache
import traceback
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import StagingError

rng = np.random.default_rng(0)


def same(got, want):
    got_leaves, want_leaves = cr.tree_leaves(got), cr.tree_leaves(want)
    assert len(got_leaves) == len(want_leaves)
    for g, w in zip(got_leaves, want_leaves, strict=True):
        assert type(g) is type(w), f"{type(g).__name__} where eager gives {type(w).__name__}"
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


def loss(w, x, y):
    return np.mean((np.tanh(x @ w) - y) ** 2)


W, X, Y = rng.standard_normal(3), rng.standard_normal((5, 3)), rng.standard_normal(5)


# ------------------------------------------------------------------ equal to eager
def test_value_and_grad_equals_eager_and_reuses_the_program():
    step = cr.compile(cr.value_and_grad(loss))
    eager = cr.value_and_grad(loss)
    for _ in range(3):
        w = rng.standard_normal(3)
        same(step(w, X, Y), eager(w, X, Y))
    info = step.cache_info()
    assert (info.entries, info.hits, info.misses) == (1, 2, 1)


def test_the_transforms_compile():
    f = lambda x: np.sum(np.sin(x) * x**2)
    x, v = rng.standard_normal(4), rng.standard_normal(4)
    same(cr.compile(cr.grad(f))(x), cr.grad(f)(x))
    same(cr.compile(lambda x, v: cr.hvp(f, (x,), (v,)))(x, v), cr.hvp(f, (x,), (v,)))
    same(cr.compile(lambda x, v: cr.jvp(f, (x,), (v,)))(x, v), cr.jvp(f, (x,), (v,)))
    same(cr.compile(cr.hessian(f))(x), cr.hessian(f)(x))
    same(cr.compile(cr.jacobian(np.sin))(x), cr.jacobian(np.sin)(x))


def test_a_training_step_with_pytrees_and_closure_tensors():
    scale = cr.tensor(2.0)  # a Tensor from outside: read when the program runs

    def step(params, x):
        def objective(p):
            return np.sum((x @ p["w"] + p["b"]) ** 2) * scale

        value, g = cr.value_and_grad(objective)(params)
        return value, {k: params[k] - 0.1 * g[k] for k in params}

    compiled = cr.compile(step)
    params = {"w": rng.standard_normal(3), "b": np.array(0.5)}
    for _ in range(3):
        got, want = compiled(params, X), step(params, X)
        same(got, want)
        params = got[1]
    scale.data = np.array(3.0)
    same(compiled(params, X), step(params, X))
    assert compiled.cache_info().misses == 1


def test_plain_numpy_results_keep_their_types():
    f = cr.compile(lambda x: (np.sum(x), x * 2.0, x))
    x = np.arange(3.0)
    same(f(x), (np.sum(x), x * 2.0, x))
    assert f(x)[2] is not x  # an argument returned is a copy the caller owns


def test_decorator_forms_and_static_argnums():
    @cr.compile
    def f(x):
        return x * 2.0

    @cr.compile(static_argnums=1)
    def power(x, n):
        return x**n

    x = np.arange(3.0)
    same(f(x), x * 2.0)
    same(power(x, 2), x**2)
    same(power(x, 3), x**3)
    assert power.cache_info().reasons[-1] == "n: now 3, before 2"
    with pytest.raises(TypeError, match=r"static argument 1 \(n\) must be hashable"):
        power(x, [2])


def test_an_argument_of_another_shape_or_dtype_traces_again_with_the_reason():
    f = cr.compile(lambda x: np.sum(x * x))
    f(np.ones(3))
    f(np.ones(4))
    f(np.ones(4, np.float32))
    assert f.cache_info().reasons == [
        "first call",
        "x: now float64[4], before float64[3]",
        "x: now float32[4], before float64[4]",
    ]
    same(f(np.ones(3)), np.float64(3.0))  # the first program is still there


def test_grad_mode_is_part_of_the_key():
    f = cr.compile(lambda x: np.exp(x))
    f(np.ones(2))
    with cr.no_grad():
        f(np.ones(2))
    assert f.cache_info().entries == 2


def test_a_compiled_function_inside_a_transform_runs_eagerly_and_differentiates():
    f = cr.compile(lambda x: np.sum(np.sin(x)))
    x = rng.standard_normal(3)
    same(cr.grad(f)(x), np.cos(x))


def test_explain_of_a_compiled_function():
    def staged(x, y):
        return (x + np.sin(y)) / (np.exp(x) + y**2)

    a = cr.compile(staged).explain(3.0, -4.0, argnums=(0, 1))
    b = cr.explain(staged, 3.0, -4.0, argnums=(0, 1))
    assert str(a) == str(b)


# ----------------------------------------------------------------------- guards
def relu_branch(x):  # torch.jit.trace freezes the branch taken
    if np.sum(x) > 0:
        return np.sum(x**2)
    return np.sum(-x)


def data_dependent_loop(x):  # torch.jit.trace unrolls the trip count it saw
    while np.max(np.abs(x)) > 1.0:
        x = x / 2.0
    return x


def python_scalar(x):  # ReverseDiff's compiled tapes freeze float(x)
    scale = float(np.max(x))
    return x * scale


def index_from_data(x):  # an integer read from the data picks the element
    return x[int(np.argmax(x))] * x


def boolean_mask(x):  # the output's size depends on the values
    return np.sum(x[x > 0] ** 2) * len(x[x > 0])


def early_return_on_item(x):
    if x[0].item() == 0.0:
        return x * 0.0
    return np.log(np.abs(x))


@pytest.mark.parametrize(
    "fn",
    [
        relu_branch,
        data_dependent_loop,
        python_scalar,
        index_from_data,
        boolean_mask,
        early_return_on_item,
    ],
)
def test_branching_functions_are_always_right(fn):
    compiled = cr.compile(fn, max_retraces=100)
    inputs = [
        np.array([1.0, 2.0, -0.5]),
        np.array([-1.0, -2.0, 0.5]),
        np.array([5.0, -9.0, 3.0]),
        np.array([0.0, 0.25, 0.5]),
        np.array([0.1, 0.2, 0.3]),
        np.array([1.0, 2.0, -0.5]),
    ]
    for x in inputs:
        same(compiled(x), fn(x))
    grads = cr.compile(cr.grad(lambda x: np.sum(fn(x))), max_retraces=100)
    for x in inputs:
        same(grads(x), cr.grad(lambda x: np.sum(fn(x)))(x))


def test_a_failed_guard_says_which_read_it_was():
    f = cr.compile(relu_branch)
    f(np.ones(2))
    f(-np.ones(2))
    reason = f.cache_info().reasons[-1]
    assert reason.startswith("bool(t) was True at test_compile.py:"), reason


def test_after_max_retraces_it_stays_eager_and_warns_once():
    f = cr.compile(python_scalar, max_retraces=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for k in range(1, 7):
            x = np.array([float(k), 0.0])
            same(f(x), python_scalar(x))
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(messages) == 1, messages
    assert "max_retraces=2" in messages[0] and "float(t) was" in messages[0]


# --------------------------------------------------------------------- refusals
def test_refusals_name_the_operation():
    x = np.ones(3)

    def writes_input(x):
        x += 1.0
        return x

    def leaves_chainrule(x):
        return np.asarray(x) * 2.0

    def draws(x):
        return x + np.random.normal(size=3)

    gen = np.random.default_rng(1)

    def draws_from_generator(x):
        return x + gen.normal(size=3)

    def calls_backward(x):
        t = cr.tensor(x, requires_grad=True)
        np.sum(t * x).backward()
        return t.grad

    cases = [
        (writes_input, "writes into argument 0 in place"),
        (leaves_chainrule, r"np.asarray\(t\) of a traced value"),
        (draws, "draws random numbers .*global generator.*pass them in"),
        (draws_from_generator, "draws random numbers .*Generator"),
        (calls_backward, r"t.backward\(\) inside a compiled function.*value_and_grad"),
    ]
    for fn, message in cases:
        with pytest.raises(StagingError, match=message):
            cr.compile(fn)(x)
    assert issubclass(StagingError, TypeError)


def test_a_custom_function_is_refused_with_its_name():
    class Square(cr.Function):
        def forward(self, x):
            self.save_for_backward(x)
            return x * x

        def backward(self, dy):
            (x,) = self.saved_tensors
            return 2 * x * dy

    with pytest.raises(StagingError, match="custom Function 'Square'"):
        cr.compile(lambda x: Square()(x))(np.ones(2))


def test_bad_arguments():
    with pytest.raises(TypeError, match="expected a function"):
        cr.compile(3)
    with pytest.raises(TypeError, match="static_argnums must be ints"):
        cr.compile(lambda x: x, static_argnums="x")
    with pytest.raises(ValueError, match="max_retraces"):
        cr.compile(lambda x: x, max_retraces=-1)


# ----------------------------------------------------------------------- source
def test_source_is_the_program_and_deterministic():
    def f(x, y):
        return np.sum(np.tanh(x) * y)

    args = (np.ones(3), np.ones(3))
    one = cr.compile(cr.value_and_grad(f)).source(*args)
    two = cr.compile(cr.value_and_grad(f)).source(*args)
    assert one == two
    assert "tanh(" in one and "def f(a0, a1):" in one


def test_tracebacks_show_the_generated_lines():
    f = cr.compile(lambda a: np.linalg.inv(a) @ a)
    f(np.eye(2))
    with pytest.raises(np.linalg.LinAlgError) as raised:
        f(np.zeros((2, 2)))
    frames = [
        fr
        for fr in traceback.extract_tb(raised.value.__traceback__)
        if fr.filename.startswith("<cr.compile")
    ]
    assert frames, "no frame of the generated program in the traceback"
    assert "inv(" in linecache.getline(frames[0].filename, frames[0].lineno)


# ------------------------------------------------------- chunked elementwise regions
def _elementwise_rows():
    from test_registry_grads import BINARY, UNARY

    n = CHUNK_FROM + 123  # not a whole number of chunks: the last one is shorter
    rows = [pytest.param(f, (gen(n),), id=f.__name__) for f, gen in UNARY.items()]
    rows += [pytest.param(f, (gx(n), gy(n)), id=f.__name__) for f, (gx, gy) in BINARY.items()]
    return rows


from chainrule.staging._chunks import CHUNK_FROM  # noqa: E402


@pytest.mark.parametrize("f, args", _elementwise_rows())
def test_large_elementwise_chains_run_in_chunks_and_equal_eager(f, args):
    def chain(*xs):
        y = f(*xs)
        return np.sin(y) * xs[0] + y * 0.5

    def loss(*xs):
        return np.sum(chain(*xs))

    with np.errstate(all="ignore"):
        grads = cr.grad(loss, argnums=tuple(range(len(args))))
        for fn in (chain, grads):
            compiled = cr.compile(fn)
            assert "for _s in range(" in compiled.source(*args), "no chunked region"
            same(compiled(*args), fn(*args))
