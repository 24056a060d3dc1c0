"""cr.explain writes the backward pass as the lecture does, and the text computes
cr.value_and_grad's numbers when it is exec'd."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr

RNG_SEED = 0


def run_text(e, *args):
    """exec the explanation's text (not the object's own compiled copy) and call it."""
    scope = e.namespace()
    exec(str(e), scope)
    name = re.search(r"^def (\w+)\(", str(e), flags=re.M).group(1)
    return scope[name](*args)


def check(f, *args, argnums=0, rtol=1e-12):
    """The text exec'd, and the object called, agree with cr.value_and_grad."""
    e = cr.explain(f, *args, argnums=argnums)
    want_value, want_grads = cr.value_and_grad(f, argnums=argnums)(*args)
    for got_value, got_grads in (run_text(e, *args), e(*args)):
        np.testing.assert_allclose(got_value, want_value, rtol=rtol, atol=1e-12)
        if isinstance(argnums, int):
            got_grads, want = (got_grads,), (want_grads,)
        else:
            want = want_grads
        assert len(got_grads) == len(want)
        for g, w in zip(got_grads, want, strict=True):
            assert np.shape(g) == np.shape(w)
            np.testing.assert_allclose(g, w, rtol=rtol, atol=1e-12)
    return e


def staged(x, y):
    sigy = 1.0 / (1 + np.exp(-y))  # sigmoid in numerator
    num = x + sigy  # numerator
    sigx = 1.0 / (1 + np.exp(-x))  # sigmoid in denominator
    xpy = x + y  # plus
    xpysqr = xpy**2
    den = sigx + xpysqr  # denominator
    invden = 1.0 / den  # inversion
    f = num * invden
    return f


# ------------------------------------------------------------------ the lecture
def test_the_lectures_staged_function_reads_as_the_notes():
    e = check(staged, 3.0, -4.0, argnums=(0, 1))
    assert len(e.forward_lines) <= 8 and len(e.backward_lines) <= 13
    value, (dx, dy) = run_text(e, 3.0, -4.0)
    assert f"{float(value):.10f}" == "1.5456448841"
    assert f"{float(dx):.10f}" == "2.0595697956"
    assert f"{float(dy):.10f}" == "1.5922327515"
    text = str(e)
    # the user's names, the sigmoid on one line, the notes' local derivatives
    for line in (
        "sigy = 1.0 / (1 + np.exp(-y))",
        "f = num * invden",
        "# f = num * invden",
        "dden = (-1.0 / den**2) * dinvden",
        "dxpy = (2 * xpy) * dxpysqr",
        "dx += ((1 - sigx) * sigx) * dsigx",
        "dy += ((1 - sigy) * sigy) * dsigy",
        "return f, (dx, dy)",
    ):
        assert line in text, line


def test_every_backward_group_sits_under_its_forward_line():
    e = cr.explain(staged, 3.0, -4.0, argnums=(0, 1))
    lines = [s.strip() for s in str(e).splitlines()]
    forward = set(e.forward_lines)
    comments = [s[2:] for s in lines[lines.index("# backward pass") + 1 :] if s.startswith("#")]
    assert comments and all(c in forward for c in comments)
    assert len(comments) == len(set(comments))
    # the gradient groups run from the output back: the comments follow reversed forward order
    order = [e.forward_lines.index(c) for c in comments]
    assert order == sorted(order, reverse=True)


def test_the_text_is_deterministic():
    a = str(cr.explain(staged, 3.0, -4.0, argnums=(0, 1)))
    b = str(cr.explain(staged, 3.0, -4.0, argnums=(0, 1)))
    assert a == b
    assert str(cr.explain(staged, 1.0, 2.0, argnums=(0, 1))) == a  # values are not in the text


def test_calling_it_runs_the_program_at_new_values():
    e = cr.explain(staged, 3.0, -4.0, argnums=(0, 1))
    value, (dx, dy) = e(0.5, 1.5)
    want_value, (wx, wy) = cr.value_and_grad(staged, argnums=(0, 1))(0.5, 1.5)
    np.testing.assert_allclose([value, dx, dy], [want_value, wx, wy], rtol=1e-12)


def test_markdown_and_repr_show_the_program():
    e = cr.explain(staged, 3.0, -4.0)
    md = e._repr_markdown_()
    assert md.startswith("```python\n") and md.rstrip().endswith("```")
    assert str(e) in md and repr(e) == str(e)
    assert "return f, dx" in str(e)  # one argnum: one gradient, not a tuple


# ------------------------------------------------------------ shapes and forks
def test_matmul_with_a_broadcast_bias_sums_the_gradient_visibly():
    rng = np.random.default_rng(RNG_SEED)
    W, b, X = rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal((5, 3))

    def layer(W, b, X):
        h = np.tanh(X @ W + b)
        return np.sum(h**2)

    e = check(layer, W, b, X, argnums=(0, 1))
    assert "db = np.sum(" in str(e) and "axis=0)" in str(e)
    assert "X.T @ " in str(e)


def test_a_stretched_axis_is_summed_with_keepdims():
    rng = np.random.default_rng(RNG_SEED)
    col, row = rng.standard_normal((3, 1)), rng.standard_normal((1, 4))

    def outer_sum(col, row):
        grid = col * row
        return np.sum(np.sin(grid))

    e = check(outer_sum, col, row, argnums=(0, 1))
    assert "axis=1, keepdims=True)" in str(e) and "axis=0, keepdims=True)" in str(e)


def test_sum_and_mean_reductions():
    x = np.random.default_rng(RNG_SEED).standard_normal((4, 3))

    def reduce(x):
        rows = np.sum(x**2, axis=1)
        return np.mean(np.sqrt(rows)) + np.sum(x, axis=(0, 1), keepdims=True)[0, 0]

    e = check(reduce, x)
    assert "np.sum(x_squared, axis=1)" in str(e)
    assert "np.expand_dims(" in str(e)


def test_a_fork_adds_with_plus_equals_and_never_writes_through_an_alias():
    x = np.array([0.3, -1.2, 2.0])
    kept = x.copy()

    def fork(x):
        y = x + 1.0
        z = y * y
        return np.sum(z + y)

    e = check(fork, x)
    assert "dy += " in str(e)
    # dy starts as dz_plus_y's own array: the first line copies it before += adds into it
    assert "dy = np.copy(" in str(e)
    np.testing.assert_array_equal(x, kept)


def test_a_variable_used_twice_in_one_operation():
    e = check(lambda x: np.sum(x * x), np.array([1.0, 2.0, 3.0]))
    assert e.backward_lines[-1].startswith("dx += ")


def test_two_arrays_with_a_tuple_of_argnums():
    rng = np.random.default_rng(RNG_SEED)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))

    def f(a, b):
        return np.sum(np.exp(a) * np.cos(b) - a / (1.0 + b**2))

    e = check(f, a, b, argnums=(0, 1))
    assert "return out, (da, db)" in str(e)
    value, grads = e(a, b)
    assert isinstance(grads, tuple) and len(grads) == 2
    _, only_b = check(f, a, b, argnums=(1,))(a, b)
    assert isinstance(only_b, tuple) and len(only_b) == 1


# ------------------------------------------------- primitives without a template
def _spd(n):
    m = np.random.default_rng(RNG_SEED).standard_normal((n, n))
    return m @ m.T + n * np.eye(n)


@pytest.mark.parametrize(
    "name, f, args",
    [
        ("solve", lambda a, b: np.sum(np.linalg.solve(a, b) ** 2), (_spd(3), np.ones(3))),
        ("inv", lambda a, b: np.sum(np.linalg.inv(a) @ b), (_spd(3), np.arange(3.0))),
        ("maximum", lambda a, b: np.sum(np.maximum(a, b)), (np.array([1.0, -2.0]), np.zeros(2))),
        ("clip", lambda a, b: np.sum(np.clip(a * b, -0.5, 0.5)), (np.linspace(-1, 1, 4),) * 2),
        ("concatenate", lambda a, b: np.sum(np.concatenate([a, b]) ** 3), (np.ones(2), np.ones(3))),
        ("getitem", lambda a, b: np.sum(a[1:, 0] * b[::2]), (np.ones((3, 2)), np.arange(4.0))),
        ("max", lambda a, b: np.max(a @ b.T), (np.eye(2), np.array([[1.0, 2.0], [3.0, 4.0]]))),
        (
            "reshape",
            lambda a, b: np.sum(np.reshape(a, (3, 2)).T * b),
            (np.arange(6.0), np.ones((2, 3))),
        ),
        ("einsum", lambda a, b: np.einsum("ij,ij->", a, b), (np.ones((2, 2)), np.eye(2))),
        ("prod", lambda a, b: np.prod(a + b), (np.array([1.0, 2.0]), np.array([0.5, 3.0]))),
        ("logsumexp", lambda a, b: cr.logsumexp(a - b), (np.arange(3.0), np.ones(3))),
        ("sigmoid", lambda a, b: np.sum(cr.sigmoid(a) * b), (np.arange(3.0), np.ones(3))),
    ],
)
def test_registry_ops_run_through_their_own_rules(name, f, args):
    e = check(f, *args, argnums=(0, 1))
    assert e.backward_lines, name


def test_a_primitive_without_a_template_calls_the_registrys_rule():
    e = check(lambda a, b: np.sum(np.linalg.solve(a, b)), _spd(3), np.ones(3), argnums=(0, 1))
    text = str(e)
    assert "np.linalg.solve(a, b)" in text
    assert "_vjp('linalg.solve', 0)(" in text and "_vjp('linalg.solve', 1)(" in text
    assert "from chainrule.staging.explain import _prim, _vjp" in text


def test_a_large_constant_is_named_and_listed():
    w = np.linspace(0.0, 1.0, 50)
    e = check(lambda x: np.sum(x * w), np.ones(50))
    assert "c0" in str(e) and e.constants["c0"] is not None
    np.testing.assert_array_equal(e.constants["c0"], w)


def test_float32_gradients_stay_float32():
    x = np.array([0.5, 1.5], dtype=np.float32)
    e = check(lambda x: np.sum(np.exp(x) * 2.0), x, rtol=1e-6)
    _, g = e(x)
    assert g.dtype == np.float32


# ------------------------------------------------------------------------ names
def test_a_loop_names_each_pass_and_a_reassigned_input_gets_a_new_name():
    def f(x):
        h = x
        for _ in range(3):
            h = np.tanh(h)
        x = x * 2.0
        return np.sum(h * x)

    e = check(f, np.array([0.1, 0.2]))
    lines = e.forward_lines
    assert [s.split(" = ")[0] for s in lines[:3]] == ["h", "h_1", "h_2"]
    assert "x_1 = x * 2.0" in lines and "out = np.sum(h_2_times_x_1)" in lines


def test_names_without_source_come_from_the_operands():
    e = check(lambda x, y: np.sum(np.exp(x + y)), np.ones(2), np.ones(2), argnums=(0, 1))
    assert e.forward_lines[:2] == ("x_plus_y = x + y", "exp_x_plus_y = np.exp(x_plus_y)")


def test_an_inplace_update_keeps_its_name():
    def f(x):
        acc = x * 3.0
        acc += x**2
        return np.sum(acc)

    e = check(f, np.array([1.0, -2.0]))
    assert "acc = x * 3.0" in e.forward_lines and "acc_1 = acc + x_squared" in e.forward_lines


# ----------------------------------------------------------------- edge outputs
def test_an_output_that_ignores_an_argument_gives_zeros():
    e = check(lambda x, y: np.sum(x**2), np.ones(2), np.ones(3), argnums=(0, 1))
    assert "dy = np.zeros_like(y)" in e.backward_lines


def test_the_identity_function():
    e = check(lambda x: x, 2.0)
    assert "dx = np.ones_like(x)" in e.backward_lines


def test_a_non_float_argument_is_built_in():
    def pick(x, k):
        return np.sum(x[:k] ** 2)

    x = np.arange(4.0)
    e = check(pick, x, 2)
    assert e(x, 2)[0] == 1.0
    with pytest.raises(ValueError, match="argument 1 is built into the program as 2"):
        e(x, 3)


# ------------------------------------------------------------------- bad input
def test_bad_input_is_named():
    with pytest.raises(TypeError, match="f must be a function"):
        cr.explain(3.0, 1.0)
    with pytest.raises(ValueError, match="argnums=2 does not fit a call with 1 argument"):
        cr.explain(np.sin, 1.0, argnums=2)
    with pytest.raises(TypeError, match="argument 0 has dtype int64; gradients need floating"):
        cr.explain(lambda x: x * 2.0, np.array([1, 2]))
    with pytest.raises(TypeError, match="argument 0 is a tuple"):
        cr.explain(lambda x: x[0], (1.0, 2.0))
    with pytest.raises(TypeError, match=r"f must return a scalar, got an output of shape \(2,\)"):
        cr.explain(np.sin, np.ones(2))
    e = cr.explain(lambda x: np.sum(x), np.ones(2))
    with pytest.raises(ValueError, match=r"argument 0 of shape \(2,\) and dtype float64, got"):
        e(np.ones(3))
    with pytest.raises(TypeError, match="takes 1 argument"):
        e(np.ones(2), np.ones(2))


def test_a_custom_function_is_refused_by_name():
    class Square(cr.Function):
        def forward(self, x):
            self.save_for_backward(x)
            return x * x

        def backward(self, dy):
            (x,) = self.saved_tensors
            return 2 * x * dy

    with pytest.raises(TypeError, match="'Square' is not one of chainrule's NumPy primitives"):
        cr.explain(lambda x: np.sum(Square()(x)), np.ones(2))


def test_importing_chainrule_does_not_import_the_compile_package():
    code = "import sys, chainrule; print('chainrule.staging' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "False", proc.stderr


def test_an_indexed_write_names_the_new_value_and_a_method_drops_self():
    class Model:
        def loss(self, x):
            y = x * 1.0
            y[0] = 5.0 * x[1]
            return np.sum(y**2)

    e = check(Model().loss, np.array([0.3, 0.7, 2.0]))
    assert str(e).startswith("import numpy as np") and "def loss(x):" in str(e)
    assert any(s.startswith("y_1 = _prim('setitem')(y, 0, ") for s in e.forward_lines)


def test_the_sigmoid_written_the_other_way_round_and_an_output_of_shape_one():
    e = check(lambda x: np.sum(1 / (np.exp(-x) + 1)), np.array([0.3, -0.7]))
    assert "sigmoid_x = 1 / (np.exp(-x) + 1)" in e.forward_lines
    e = check(lambda x: x * 2.0, np.array([1.5]))
    assert e.backward_lines == ("dout = np.ones_like(out)", "dx = 2.0 * dout")


def test_a_gradient_taken_inside_f_is_written_out_too():
    def f(x):
        g = cr.grad(lambda t: np.sum(np.sin(t) * t))(x)
        return np.sum(g**2)

    e = check(f, np.array([0.3, 0.7]))
    assert "g = " in "\n".join(e.forward_lines)
