"""The backward sweep computing into buffers it no longer needs (the registry's ``reuse``).

Every primitive with a ``reuse`` rule must give exactly the gradients of its plain
VJPs (``retain_graph=True`` keeps the graph, which turns reuse off), must actually
reuse on large arrays, and must never write into an array that anyone else can see.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule import _registry as reg
from chainrule import _reuse

# Reuse turns itself off where its reference-count self-test fails; on CPython before
# 3.14 it must be on.
REUSES = _reuse.enabled
MUST_REUSE = sys.implementation.name == "cpython" and sys.version_info < (3, 14)
N = 2 * _reuse.REUSE_FROM  # big enough for the sweep to try reusing
RNG = np.random.default_rng(7)
X0 = RNG.standard_normal(N)
W = RNG.standard_normal(N)
HALF = int(np.sqrt(N))  # for a broadcasting case: (HALF, HALF) * (HALF,)
XB = RNG.standard_normal(HALF * HALF)

# name -> (function of x, the primitives that should reuse, input)
CASES = {
    "exp": (lambda x: np.sum(np.exp(x * 0.5) * W), {"exp"}, X0),
    "tanh": (lambda x: np.sum(np.tanh(x * 0.5) * W), {"tanh"}, X0),
    "sigmoid": (lambda x: np.sum(cr.sigmoid(x * 0.5) * W), {"sigmoid"}, X0),
    "negative": (lambda x: np.sum(-(x * 0.5) * W), {"negative"}, X0),
    "multiply, both inputs free": (
        lambda x: np.sum(((x * 0.5) * (x + 1.0)) * W),
        {"multiply"},
        X0,
    ),
    "multiply by a scalar": (lambda x: np.sum(((x * 0.5) * 3.0) * W), {"multiply"}, X0),
    "multiply by a leaf": (lambda x: np.sum(((x * 0.5) * x) * W), {"multiply"}, X0),
    "multiply, broadcast": (
        lambda x: np.sum(
            (x.reshape(HALF, HALF) * 0.5) * x[:HALF] * W[: HALF * HALF].reshape(HALF, HALF)
        ),
        {"multiply"},
        XB,
    ),
    "the W4 benchmark": (
        lambda x: np.sum(cr.sigmoid(x) * np.tanh(x) + np.exp(-x * x)),
        {"exp", "multiply", "negative", "tanh", "sigmoid"},
        X0,
    ),
}


def test_every_reuse_rule_has_a_case():
    with_rules = {p.name for p in reg.PRIMITIVES.values() if p.reuse is not None}
    covered = set().union(*(reusers for _, reusers, _ in CASES.values()))
    assert with_rules <= covered, f"add a case for {sorted(with_rules - covered)}"


def _grad(f, x0, retain):
    x = cr.tensor(x0, requires_grad=True)
    f(x).backward(retain_graph=retain)
    return x.grad


@pytest.mark.parametrize("name", list(CASES))
def test_reuse_gives_the_plain_gradients_and_happens(name, monkeypatch):
    f, expected_reusers, x0 = CASES[name]
    reused = set()
    for prim in reg.PRIMITIVES.values():
        if prim.reuse is not None:
            rule = prim.reuse

            def counting(g, ans, args, free, needed, rule=rule, name=prim.name):
                out = rule(g, ans, args, free, needed)
                if out is not None:
                    reused.add(name)
                return out

            monkeypatch.setattr(prim, "reuse", counting)
    plain = _grad(f, x0, retain=True)
    assert not reused  # a retained graph keeps its buffers
    fast = _grad(f, x0, retain=False)
    assert expected_reusers <= reused or not REUSES
    reused.clear()
    np.testing.assert_array_equal(cr.grad(f)(x0), fast)  # grad frees its graph too
    assert expected_reusers <= reused or not REUSES
    # The same formulas; sigmoid's associates its three factors differently (one ulp,
    # which the sums of the W4 case can turn into a larger relative difference near 0).
    np.testing.assert_allclose(fast, plain, rtol=1e-15, atol=1e-16)


def test_reuse_never_writes_into_what_others_hold():
    x = cr.tensor(X0, requires_grad=True)
    h = x * 0.5
    s = cr.sigmoid(h)  # the user keeps the output
    t = np.tanh(h)
    w = cr.tensor(W, requires_grad=True)
    other = t.detach() * w  # another graph saved t's array
    view = np.exp(h).numpy()[::2]  # a view keeps exp's output alive
    loss = np.sum(s * W) + np.sum(t * W) + np.sum(np.exp(h) * W)
    kept_s = s.numpy().copy()
    del t
    loss.backward()
    np.testing.assert_array_equal(s.numpy(), kept_s)
    np.testing.assert_array_equal(view, np.exp(X0 * 0.5)[::2])
    other.sum().backward()
    np.testing.assert_array_equal(w.grad, np.tanh(X0 * 0.5))


def test_reuse_leaves_hooked_and_retained_gradients_alone():
    x = cr.tensor(X0, requires_grad=True)
    h = x * 0.5
    h.retain_grad()
    seen = []
    y = np.exp(h)
    y.register_hook(lambda g: seen.append(g.copy()) or None)
    np.sum(np.tanh(y) * W).backward()
    g_y = W * (1 - np.tanh(np.exp(X0 * 0.5)) ** 2)
    np.testing.assert_allclose(seen[0], g_y, rtol=1e-12)
    np.testing.assert_allclose(h.grad, g_y * np.exp(X0 * 0.5), rtol=1e-12)
    np.testing.assert_allclose(x.grad, h.grad * 0.5, rtol=1e-12)


def test_the_ownership_self_test_passed_on_this_interpreter():
    if not MUST_REUSE and not REUSES:
        pytest.skip("buffer reuse is off on this interpreter (its self-test says so)")
    assert _reuse.enabled


def test_threads_get_the_sequential_gradients():
    # Elision and reuse read reference counts; each thread's arrays stay its own, and a
    # tensor both threads read is never written into.
    import threading

    f = CASES["the W4 benchmark"][0]
    shared = np.exp(cr.tensor(X0) * 0.5)  # read by both threads, held by this test

    def grads():
        x = cr.tensor(X0, requires_grad=True)
        (f(x) + np.sum(np.tanh(x * shared) + shared)).backward()
        return x.grad

    expected = grads()
    before = shared.numpy().copy()
    results, errors = [], []

    def work():
        try:
            for _ in range(5):
                results.append(grads())
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 10
    for r in results:
        np.testing.assert_array_equal(r, expected)
    np.testing.assert_array_equal(shared.numpy(), before)
