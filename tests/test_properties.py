"""Property-based tests: random NumPy programs on Tensors against finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import (
    MIXES2,
    MIXES3,
    check_forward_against_reverse,
    check_grads,
    check_mixes,
    check_second_order,
)
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
from chainrule import _elide, _reuse

# Ops that keep values moderate, so float64 central differences stay accurate.
UNARY = [
    np.sin,
    np.cos,
    np.tanh,
    np.arctan,
    cr.sigmoid,
    cr.softplus,
    lambda x: x * 0.5,
    lambda x: -x,
    lambda x: x * x,
    lambda x: np.exp(-x * x),
    lambda x: np.sum(x, axis=-1, keepdims=True),
    lambda x: np.mean(x, axis=0, keepdims=True),
    lambda x: np.max(x, axis=-1, keepdims=True),
    lambda x: cr.softmax(x, axis=-1),
    lambda x: cr.logsumexp(x, axis=0, keepdims=True),
    lambda x: np.flip(x, axis=-1),
    lambda x: np.cumsum(x, axis=-1),
    lambda x: np.sqrt(1 + x * x),
]
BINARY = [
    np.add,
    np.subtract,
    np.multiply,
    lambda x, y: x / (1.5 + y * y),
    np.hypot,
    lambda x, y: np.where(np.arange(x.shape[-1] if np.ndim(x) else 1) % 2 == 0, x, y),
    np.arctan2,
    lambda x, y: np.logaddexp(x, y),
]
SHAPES = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((2, 1), (1, 3)),
    ((2, 3), (2, 3)),
    ((4,), (1,)),
    ((1, 3), (2, 1)),
]


@st.composite
def programs(draw):
    shapes = draw(st.sampled_from(SHAPES))
    steps = []
    for k in range(draw(st.integers(1, 6))):
        n_values = 2 + k
        if draw(st.booleans()):
            steps.append(
                ("u", draw(st.integers(0, len(UNARY) - 1)), draw(st.integers(0, n_values - 1)))
            )
        else:
            steps.append(
                (
                    "b",
                    draw(st.integers(0, len(BINARY) - 1)),
                    draw(st.integers(0, n_values - 1)),
                    draw(st.integers(0, n_values - 1)),
                )
            )
    seed = draw(st.integers(0, 2**16))
    return shapes, steps, seed


def run(steps):
    def program(a, b):
        values = [a, b]
        for step in steps:
            if step[0] == "u":
                values.append(UNARY[step[1]](values[step[2]]))
            else:
                values.append(BINARY[step[1]](values[step[2]], values[step[3]]))
        return values[-1] + 0.0 * (values[0] + values[1])  # every input reaches the output

    return program


def instance(prog):
    """A drawn program as (function, a, b, seed), with its inputs drawn from the seed."""
    shapes, steps, seed = prog
    rng = np.random.default_rng(seed)
    a, b = (rng.uniform(-1.5, 1.5, s) for s in shapes)
    return run(steps), a, b, seed


@given(programs())
def test_random_programs_match_finite_differences(prog):
    f, a, b, seed = instance(prog)
    check_grads(f, a, b, seed=seed, rtol=1e-4, atol=1e-6)


@given(programs())
def test_random_programs_forward_mode_agrees_with_reverse_mode(prog):
    f, a, b, seed = instance(prog)
    check_forward_against_reverse(f, a, b, seed=seed)


@given(programs())
def test_random_programs_second_order_matches_finite_differences(prog):
    # Every mix of two modes (ff, fr, rf, rr), each against a central difference of a
    # first derivative, plus cr.hvp and grad of grad (see helpers.check_second_order).
    f, a, b, seed = instance(prog)
    check_second_order(f, a, b, seed=seed, mixes=MIXES2)


# Each example runs one of the eight three-level mixes, drawn with the program.
@given(programs(), st.sampled_from(MIXES3))
def test_random_programs_third_order_mixes_match_finite_differences(prog, mix):
    f, a, b, seed = instance(prog)
    check_mixes(f, a, b, mixes=(mix,), seed=seed)


@given(programs())
def test_float32_programs_stay_float32(prog):
    shapes, steps, seed = prog
    rng = np.random.default_rng(seed)
    a, b = (
        cr.tensor(rng.uniform(-1.5, 1.5, s), dtype=np.float32, requires_grad=True) for s in shapes
    )
    out = run(steps)(a, b)
    assert out.dtype == np.float32
    out.backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float32
    # Forward mode too, with float64 tangents as a user draws them.
    va, vb = (rng.standard_normal(s) for s in shapes)
    _, tangent = cr.jvp(run(steps), (a.detach().numpy(), b.detach().numpy()), (va, vb))
    assert tangent.dtype == np.float32, f"float32 program gave a {tangent.dtype} tangent"


@given(st.lists(st.floats(-1e308, 1e308), min_size=1, max_size=8))
def test_sigmoid_is_finite_bounded_and_symmetric_for_any_finite_input(xs):
    x = np.array(xs)
    s = cr.sigmoid(x)
    assert np.all(np.isfinite(s)) and np.all((s >= 0) & (s <= 1))
    np.testing.assert_allclose(cr.sigmoid(-x), 1 - s, atol=1e-15)


@given(st.lists(st.floats(-1e300, 1e300), min_size=1, max_size=8))
def test_logsumexp_bounds(xs):
    x = np.array(xs)
    lse = cr.logsumexp(x)
    assert x.max() <= lse <= x.max() + np.log(len(xs)) + 1e-9 * abs(x.max())


# Shapes big enough for temporary elision and buffer reuse (tests/test_elision.py,
# tests/test_buffer_reuse.py), which only act on arrays of 32,768 elements or more.
BIG_SHAPES = [
    ((40_000,), (40_000,)),
    ((200, 200), (200,)),
    ((200, 1), (1, 200)),
    ((40_000,), (1,)),
]


@given(programs(), st.sampled_from(BIG_SHAPES))
def test_elision_and_buffer_reuse_change_no_value_and_no_gradient(prog, shapes):
    _, steps, seed = prog
    rng = np.random.default_rng(seed)
    a0, b0 = (rng.uniform(-1.5, 1.5, s) for s in shapes)
    f = run(steps)

    def values_and_grads():
        a, b = cr.tensor(a0, requires_grad=True), cr.tensor(b0, requires_grad=True)
        out = f(a, b)
        value = out.numpy().copy()
        np.sum(out * 0.75).backward()
        return value, a.grad, b.grad

    fast = values_and_grads()
    with pytest.MonkeyPatch.context() as m:
        m.setattr(_elide, "TEMP_REFS", {})  # no elision
        m.setattr(_reuse, "enabled", False)  # no reuse
        plain = values_and_grads()
    for got, expected in zip(fast, plain, strict=True):
        # sigmoid's reuse rule multiplies its three factors in another order (one ulp)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)


# Shapes that give cr.compile's chunked elementwise regions several chunks, the last
# one shorter (see chainrule/staging/_chunks.py), next to the small SHAPES.
COMPILE_SHAPES = [((300_000,), (300_000,)), ((600, 500), (500,))]


@given(programs(), st.booleans())
def test_random_programs_compiled_equal_eager(prog, big):
    # Traced at one input, run at another: the program must equal eager there, for the
    # value, the gradient and a jvp.
    shapes, steps, seed = prog
    if big:
        shapes = COMPILE_SHAPES[seed % len(COMPILE_SHAPES)]
    rng = np.random.default_rng(seed)
    f = run(steps)
    u = rng.standard_normal(np.broadcast_shapes(*shapes))
    t = tuple(rng.standard_normal(s) for s in shapes)
    transforms = [
        f,
        cr.value_and_grad(lambda a, b: np.sum(f(a, b) * u), argnums=(0, 1)),
        lambda a, b: cr.jvp(f, (a, b), t),
    ]
    with np.errstate(all="ignore"):
        for fn in transforms:
            compiled = cr.compile(fn)
            compiled(*(rng.uniform(-1.5, 1.5, s) for s in shapes))
            a, b = (rng.uniform(-1.5, 1.5, s) for s in shapes)
            got, want = cr.tree_leaves(compiled(a, b)), cr.tree_leaves(fn(a, b))
            assert compiled.cache_info().misses == 1
            for g, w in zip(got, want, strict=True):
                np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)
