"""cr.compile over the registry table: every row, traced at one input and run at another.

For each row of tests/test_registry_grads.py the forward, a reverse-mode
``cr.vjp`` and a forward-mode ``cr.jvp`` are compiled at the row's sample inputs
(A), then run at nearby inputs (B) and compared with eager at B to 1e-12 (float64).
Running at B is what catches a rule that computed a value from the data in plain
NumPy: staged as a constant, it would repeat A's value. A row whose eager call
fails at B (B left the function's domain) is compared at A only.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_registry_grads import CASES

import chainrule as cr


def _floats(args):
    return [i for i, a in enumerate(args) if isinstance(a, np.ndarray) and a.dtype.kind == "f"]


def _moved(args, positions, rng):
    """B: each float argument moved by a small relative step (ties and signs kept)."""
    out = list(args)
    for i in positions:
        a = np.asarray(args[i], np.float64)
        out[i] = a * (1.0 + 1e-3 * rng.uniform(0.2, 1.0, a.shape))
    return out


def _programs(f, args, positions, u, t):
    def partial(*floats):
        full = list(args)
        for i, x in zip(positions, floats, strict=True):
            full[i] = x
        return f(*full)

    def forward(*floats):
        return partial(*floats)

    def reverse(*floats):
        out, back = cr.vjp(partial, *floats)
        return out, back(u)

    def tangent(*floats):
        return cr.jvp(partial, tuple(floats), t)

    return {"forward": forward, "vjp": reverse, "jvp": tangent}


def _assert_same(got, want, what):
    got_leaves, want_leaves = cr.tree_leaves(got), cr.tree_leaves(want)
    assert len(got_leaves) == len(want_leaves), (
        f"{what}: {len(got_leaves)} results, eager has {len(want_leaves)}"
    )
    for k, (g, w) in enumerate(zip(got_leaves, want_leaves, strict=True)):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape, f"{what} result {k}: shape {g.shape}, eager {w.shape}"
        assert g.dtype == w.dtype, f"{what} result {k}: dtype {g.dtype}, eager {w.dtype}"
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12, err_msg=f"{what} result {k}")


@pytest.fixture(autouse=True)
def _quiet_numpy():
    with np.errstate(all="ignore"):
        yield


@pytest.mark.parametrize("target, f, args", CASES)
def test_row_compiled_equals_eager(target, f, args):
    args = [
        np.asarray(a, np.float64) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
        for a in args
    ]
    positions = _floats(args)
    if not positions:
        pytest.skip("no float inputs")
    rng = np.random.default_rng(11)
    out = np.asarray(f(*args))
    if out.dtype.kind not in "fc":
        pytest.skip("no float output")
    u = rng.standard_normal(out.shape) + (
        1j * rng.standard_normal(out.shape) if out.dtype.kind == "c" else 0
    )
    t = tuple(rng.standard_normal(np.shape(args[i])) for i in positions)
    at_a = [args[i] for i in positions]
    moved = _moved(args, positions, rng)
    at_b = [moved[i] for i in positions]
    for mode, fn in _programs(f, args, positions, u, t).items():
        compiled = cr.compile(fn)
        _assert_same(compiled(*at_a), fn(*at_a), f"{mode} at A")
        try:
            want = fn(*at_b)
        except Exception:
            continue
        _assert_same(compiled(*at_b), want, f"{mode} at B")
        reasons = compiled.cache_info().reasons[1:]
        # The program traced at A ran at B, unless a guard (a value read into Python) changed.
        assert all(" was " in r for r in reasons), f"{mode}: retraced at B: {reasons}"
