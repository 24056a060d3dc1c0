"""An independent float64 finite-difference check, used by the generic registry test.

It shares no code with ``cr.gradcheck`` (which is itself under test).
"""

from __future__ import annotations

import os

import numpy as np

import chainrule as cr


def numerical_vjp(f, args, upstream, eps=1e-6):
    """d<upstream, f(*args)>/d args[i] by central differences, for each float arg."""
    grads = []
    for i, x in enumerate(args):
        if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
            grads.append(None)
            continue
        g = np.zeros_like(x, dtype=np.float64)
        for j in range(x.size):
            vals = []
            for delta in (eps, -eps):
                xs = list(args)
                xp = x.astype(np.float64).copy()
                xp.reshape(-1)[j] += delta
                xs[i] = xp
                out = f(*[cr.tensor(v) if isinstance(v, np.ndarray) else v for v in xs])
                vals.append(float(np.sum(np.asarray(out.data, np.float64) * upstream)))
            g.reshape(-1)[j] = (vals[0] - vals[1]) / (2 * eps)
        grads.append(g)
    return grads


def analytic_vjp(f, args, upstream):
    """Gradients from backward(upstream), one per float arg, plus the output Tensor."""
    tensors = [
        cr.tensor(x, requires_grad=True) if isinstance(x, np.ndarray) and x.dtype.kind == "f" else x
        for x in args
    ]
    out = f(*tensors)
    assert isinstance(out, cr.Tensor), f"expected a Tensor, got {type(out).__name__}"
    if out.requires_grad:
        out.backward(np.asarray(upstream, dtype=out.dtype))
    grads = []
    for t in tensors:
        if isinstance(t, cr.Tensor):
            grads.append(np.zeros(t.shape, t.dtype) if t.grad is None else t.grad)
        else:
            grads.append(None)
    return grads, out


def check_grads(f, *args, seed=0, rtol=1e-5, atol=1e-6):
    """Reverse mode against float64 finite differences with a random upstream gradient.

    Also checks the forward against NumPy on plain arrays, and each gradient's
    shape and dtype against its input's.
    """
    args = [
        np.asarray(a, np.float64) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
        for a in args
    ]
    expected = f(*args)
    rng = np.random.default_rng(seed)
    upstream = rng.standard_normal(np.shape(expected))
    grads, out = analytic_vjp(f, args, upstream)
    np.testing.assert_allclose(
        out.data, expected, rtol=1e-12, atol=1e-12, err_msg="forward differs from NumPy"
    )
    numeric = numerical_vjp(f, args, upstream)
    for i, (a, n, x) in enumerate(zip(grads, numeric, args)):
        if n is None:
            continue
        assert a.shape == x.shape, f"grad {i}: shape {a.shape} for input of shape {x.shape}"
        assert a.dtype == x.dtype, f"grad {i}: dtype {a.dtype} for input of dtype {x.dtype}"
        np.testing.assert_allclose(a, n, rtol=rtol, atol=atol, err_msg=f"gradient of input {i}")


def check_float32(f, *args, seed=3, output_dtype=None):
    """float32 in keeps NumPy's output dtype, gives float32 gradients and tangents of the
    output's dtype (through backward and through ``cr.jvp`` with float64 tangents), and
    their values are close to the float64 ones.

    A row whose NumPy forward itself promotes (a float64 constant inside, as in
    ``x @ x.T + 3 * np.eye(3)``, or ``np.float_power``) is checked the same way: the
    output must carry NumPy's dtype, and each gradient its input's. ``output_dtype``
    names the dtype expected instead where chainrule knowingly differs from NumPy.
    """
    args64 = [
        np.asarray(a, np.float64) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
        for a in args
    ]
    args32 = [
        a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
        for a in args64
    ]
    expected = np.asarray(f(*args32))
    want = expected.dtype if output_dtype is None else np.dtype(output_dtype)
    rng = np.random.default_rng(seed)
    upstream = rng.standard_normal(expected.shape)
    grads, out = analytic_vjp(f, args32, upstream)
    assert out.dtype == want, f"output dtype {out.dtype}, expected {want} (NumPy: {expected.dtype})"
    grads64, _ = analytic_vjp(f, args64, upstream)
    for i, (g, g64, x) in enumerate(zip(grads, grads64, args32)):
        if g is None:
            continue
        assert g.dtype == np.float32, f"float32 input {i} got a {g.dtype} gradient"
        _assert_close_in_float32(g, g64, f"gradient of input {i}")
    # Forward mode, with float64 tangents as a user passes them (np.ones, a random draw):
    # the tangent takes the output's dtype.
    positions = _float_positions(args32)
    floats = [args32[i] for i in positions]
    v = tuple(rng.standard_normal(x.shape) for x in floats)
    _, jv = cr.jvp(_partial(f, args32, positions), tuple(floats), v)
    _, jv64 = cr.jvp(_partial(f, args64, positions), tuple(args64[i] for i in positions), v)
    assert np.asarray(jv).dtype == want, (
        f"jvp tangent dtype {np.asarray(jv).dtype} for an output of dtype {want}"
    )
    _assert_close_in_float32(np.asarray(jv), np.asarray(jv64), "jvp tangent")


def _assert_close_in_float32(got, reference, what):
    """float32 results against float64 ones, relative to the reference's scale (a float32
    rounding of ~1e-7 per step, amplified by the conditioning of the row's operation)."""
    scale = float(np.max(np.abs(reference), initial=1.0))
    np.testing.assert_allclose(
        np.asarray(got, np.float64),
        reference,
        rtol=2e-3,
        atol=2e-3 * scale,
        err_msg=f"float32 {what} far from the float64 one",
    )


def numerical_jvp(f, floats, tangents, eps=1e-6):
    """The directional derivative of ``f`` at ``floats`` along ``tangents`` by a central
    difference in float64, on plain arrays: no chainrule code on the derivative path."""
    plus = f(*[x + eps * t for x, t in zip(floats, tangents)])
    minus = f(*[x - eps * t for x, t in zip(floats, tangents)])
    return (np.asarray(plus, np.float64) - np.asarray(minus, np.float64)) / (2 * eps)


def _float_positions(args):
    return [i for i, a in enumerate(args) if isinstance(a, np.ndarray) and a.dtype.kind == "f"]


def _partial(f, args, positions):
    def g(*floats):
        full = list(args)
        for i, x in zip(positions, floats):
            full[i] = x
        return f(*full)

    return g


def check_forward_against_reverse(f, *args, seed=1):
    """J v from forward mode (cr.jvp) matches a central difference along v, and
    <J v, u> equals <v, J^T u> from reverse mode (cr.vjp)."""
    args = [
        np.asarray(a, np.float64) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
        for a in args
    ]
    positions = _float_positions(args)
    g = _partial(f, args, positions)
    floats = [args[i] for i in positions]
    rng = np.random.default_rng(seed)
    v = [rng.standard_normal(x.shape) for x in floats]
    out, jv = cr.jvp(g, tuple(floats), tuple(v))
    np.testing.assert_allclose(out, f(*args), rtol=1e-12, atol=1e-12, err_msg="jvp's primal output")
    assert np.shape(jv) == np.shape(out), (
        f"tangent shape {np.shape(jv)} for output shape {np.shape(out)}"
    )
    # Against finite differences too: for elementwise=True and linear=True primitives
    # the JVP is derived from the VJP (or the forward), so agreeing with reverse mode
    # alone would prove nothing about either.
    np.testing.assert_allclose(
        jv,
        numerical_jvp(g, floats, v),
        rtol=1e-5,
        atol=1e-6,
        err_msg="jvp tangent against a central difference along the tangent",
    )
    u = rng.standard_normal(np.shape(out))
    _, vjp_fn = cr.vjp(g, *floats)
    jtu = vjp_fn(u)
    lhs = float(np.sum(np.asarray(jv) * u))
    rhs = float(sum(np.sum(a * b) for a, b in zip(v, jtu)))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-9, atol=1e-10, err_msg="<J v, u> != <v, J^T u>")

    # The tangent is differentiable with respect to the tangents themselves (grad of a
    # jvp): the gradient of <J v, u> in v is J^T u.
    def tangent_dot(*vs):
        return np.sum(cr.jvp(g, tuple(floats), vs)[1] * u)

    grads = cr.grad(tangent_dot, argnums=tuple(range(len(v))))(*v)
    for k, (gk, jk) in enumerate(zip(grads, jtu, strict=True)):
        np.testing.assert_allclose(
            gk, jk, rtol=1e-9, atol=1e-10, err_msg=f"grad of <J v, u> in v, input {k}"
        )


# HYPOTHESIS_PROFILE=thorough (the profile tests/conftest.py registers) also widens the
# generic registry test: every row through every three-level mix instead of a sample.
THOROUGH = os.environ.get("HYPOTHESIS_PROFILE", "ci") == "thorough"

# Every mix of forward (f) and reverse (r) mode, outermost transform first: "fr" is a
# jvp of a vjp (forward over reverse), "rf" a vjp of a jvp.
MIXES2 = ("ff", "fr", "rf", "rr")
MIXES3 = tuple(a + b + c for a in "fr" for b in "fr" for c in "fr")
WHAT = {"f": "jvp", "r": "vjp"}


def _forward(h, direction):
    return lambda *xs: cr.jvp(h, xs, direction)[1]


def _reverse(h, cotangent):
    return lambda *xs: cr.vjp(h, *xs)[1](cotangent)


def mixed_derivative(g, mix, directions, u):
    """Wrap ``g`` (float arrays to one array) in the transforms that ``mix`` names.

    Read outermost first, built innermost first. Level ``k`` (counted from the inside)
    pushes ``directions[k]`` (a tuple, one array per input) forward, or pulls a
    cotangent back: ``u`` (shaped like ``g``'s output) at the first reverse level,
    ``directions[k]`` at a later one, where the derivative is shaped like the inputs.

    Returns ``(h, used, input_shaped)``: the derivative function; the input directions
    it contracts, in order; and whether ``h`` returns a tuple shaped like the inputs
    (the gradient of the order-(n - 1) derivative of ``<u, g>``) rather than an array
    shaped like ``g``'s output (the n-th derivative of ``g`` along ``used``). Either
    way the exact value is symmetric in ``used``, whatever the mix.
    """
    h, used, input_shaped = g, [], False
    for k, letter in enumerate(reversed(mix)):
        if letter == "f":
            h = _forward(h, directions[k])
            used.append(directions[k])
        elif input_shaped:
            h = _reverse(h, directions[k])
            used.append(directions[k])
        else:
            h = _reverse(h, u)
            input_shaped = True
    return h, used, input_shaped


def _as_list(value):
    return [np.asarray(v, np.float64) for v in (value if isinstance(value, tuple) else (value,))]


def _central(h, floats, direction, eps):
    plus = _as_list(h(*[x + eps * d for x, d in zip(floats, direction)]))
    minus = _as_list(h(*[x - eps * d for x, d in zip(floats, direction)]))
    return [(p - m) / (2 * eps) for p, m in zip(plus, minus, strict=True)]


def check_mixes(f, *args, mixes=MIXES2, seed=2, eps=1e-5, rtol=1e-4, atol=1e-6):
    """Each mix of modes against a float64 central difference of one order lower.

    For a mix of n levels, the reference differentiates, by a central difference along
    the last direction the mix contracts, the order-(n - 1) derivative along the
    others, taken by forward mode alone (``"f" * (n - 1)``) when the mix has no reverse
    level and by forward over one reverse level (``"f" * (n - 2) + "r"``) otherwise.
    Those references are themselves checked one order down, down to ``check_grads`` and
    ``check_forward_against_reverse``, which compare with differences of ``f`` itself.
    """
    args = [
        np.asarray(a, np.float64) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
        for a in args
    ]
    positions = _float_positions(args)
    floats = [args[i] for i in positions]
    g = _partial(f, args, positions)
    rng = np.random.default_rng(seed)
    u = rng.standard_normal(np.shape(f(*args)))
    depth = max(len(m) for m in mixes)
    directions = [tuple(rng.standard_normal(x.shape) for x in floats) for _ in range(depth)]
    references: dict = {}
    for mix in mixes:
        h, used, input_shaped = mixed_derivative(g, mix, directions, u)
        got = _as_list(h(*floats))
        n = len(mix)
        lower = "f" * (n - 2) + "r" if input_shaped else "f" * (n - 1)
        # The reverse level of the reference takes u; its forward levels the other
        # directions (the unused slot 0 stands for the level that takes u).
        rest = ([None] if input_shaped else []) + used[:-1]
        key = (lower, tuple(id(d) for d in rest[1 if input_shaped else 0 :]), id(used[-1]))
        if key not in references:
            ref_h, _, _ = mixed_derivative(g, lower, rest, u)
            references[key] = _central(ref_h, floats, used[-1], eps)
        expected = references[key]
        name = " of ".join(WHAT[letter] for letter in mix)
        assert len(got) == len(expected), f"{mix} ({name}): {len(got)} results, {len(expected)}"
        for k, (a, e) in enumerate(zip(got, expected)):
            assert a.shape == e.shape, f"{mix} ({name}), result {k}: shape {a.shape}, {e.shape}"
            np.testing.assert_allclose(
                a,
                e,
                rtol=rtol,
                atol=atol,
                err_msg=f"{mix} ({name}) against a central difference of "
                f"{' of '.join(WHAT[letter] for letter in lower)}, result {k}",
            )


def check_second_order(f, *args, seed=2, eps=1e-5, mixes=MIXES2):
    """Every mix of two modes against central differences of a first derivative.

    Hessian-vector products of s(x) = <u, f(x)>: forward over reverse (cr.hvp, also
    nested on Tensors), reverse over reverse (cr.grad of a gradient), reverse over
    forward (cr.grad of a jvp), against central differences of the gradient; then
    ``check_mixes`` over ``mixes`` (of ff, fr, rf and rr) built from cr.jvp and cr.vjp
    alone (ff, the second derivative of f itself along two directions, against a
    difference of jvp; pass ``mixes=MIXES2`` for all four).
    """
    args = [
        np.asarray(a, np.float64) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
        for a in args
    ]
    positions = _float_positions(args)
    floats = [args[i] for i in positions]
    rng = np.random.default_rng(seed)
    u = rng.standard_normal(np.shape(f(*args)))
    w = [rng.standard_normal(x.shape) for x in floats]
    g = _partial(f, args, positions)
    every = tuple(range(len(floats)))

    def s(*xs):
        return np.sum(g(*xs) * u)

    grad_s = cr.grad(s, argnums=every)
    hv_forward = cr.hvp(s, tuple(floats), tuple(w))
    hv_forward = hv_forward if isinstance(hv_forward, tuple) else (hv_forward,)

    def directional(*xs):
        return sum(np.sum(gi * wi) for gi, wi in zip(grad_s(*xs), w))

    hv_reverse = cr.grad(directional, argnums=every)(*floats)
    # Reverse over forward: the gradient of the directional derivative from cr.jvp.
    hv_rof = cr.grad(lambda *xs: cr.jvp(s, xs, tuple(w))[1], argnums=every)(*floats)
    # Nested, as inside another transform: the primals are Tensors, the results Tensors.
    hv_nested = cr.hvp(s, tuple(cr.tensor(x, requires_grad=True) for x in floats), tuple(w))
    hv_nested = hv_nested if isinstance(hv_nested, tuple) else (hv_nested,)
    plus = grad_s(*[x + eps * d for x, d in zip(floats, w)])
    minus = grad_s(*[x - eps * d for x, d in zip(floats, w)])
    for k in range(len(floats)):
        numeric = (plus[k] - minus[k]) / (2 * eps)
        np.testing.assert_allclose(
            hv_forward[k],
            numeric,
            rtol=1e-4,
            atol=1e-6,
            err_msg=f"hvp (forward-over-reverse), input {k}",
        )
        np.testing.assert_allclose(
            hv_reverse[k], numeric, rtol=1e-4, atol=1e-6, err_msg=f"grad of grad, input {k}"
        )
        np.testing.assert_allclose(
            hv_rof[k], numeric, rtol=1e-4, atol=1e-6, err_msg=f"grad of jvp, input {k}"
        )
        np.testing.assert_allclose(
            hv_nested[k].detach().numpy(),
            numeric,
            rtol=1e-4,
            atol=1e-6,
            err_msg=f"hvp on Tensors (nested), input {k}",
        )
    check_mixes(f, *args, mixes=mixes, seed=seed + 1, eps=eps)


# ------------------------------------------------------------------ complex rows
# For a real loss L = Re<c, f(z)> = sum(Re(conj(c) * f(z))) chainrule's gradient of a
# complex input is dL/dRe(z) + i dL/dIm(z) (it points uphill); of a real input, dL/dx.


def _is_diff(a):
    return isinstance(a, np.ndarray) and a.dtype.kind in "fc"


def _real_loss(out, cot):
    return float(np.sum(np.real(np.conj(cot) * np.asarray(out, np.complex128))))


def complex_numerical_grads(f, args, cot, eps=1e-6):
    """dL/dRe + i dL/dIm (dL/dx for a real input) by central differences, separately along
    the real and the imaginary direction of each element, on plain arrays."""
    grads = []
    for i, x in enumerate(args):
        if not _is_diff(x):
            grads.append(None)
            continue
        directions = (1.0, 1j) if x.dtype.kind == "c" else (1.0,)
        g = np.zeros(x.shape, np.complex128 if x.dtype.kind == "c" else np.float64)
        for j in range(x.size):
            for d in directions:
                vals = []
                for delta in (eps, -eps):
                    xs = list(args)
                    xp = x.copy()
                    xp.reshape(-1)[j] += delta * d
                    xs[i] = xp
                    vals.append(_real_loss(f(*xs), cot))
                g.reshape(-1)[j] += d * (vals[0] - vals[1]) / (2 * eps)
        grads.append(g)
    return grads


def _random_like(rng, shape, complex_):
    x = rng.standard_normal(shape)
    return x + 1j * rng.standard_normal(shape) if complex_ else x


def check_complex(f, *args, seed=0, rtol=1e-5, atol=1e-6):
    """A row on complex data: reverse mode (Tensor.backward and cr.vjp) against central
    differences along the real and the imaginary directions, forward mode (cr.jvp with
    complex tangents) against a directional difference, and the two modes against each
    other: Re<J t, c> = Re<t, J^H c>."""
    expected = np.asarray(f(*args))
    rng = np.random.default_rng(seed)
    cot = _random_like(rng, expected.shape, expected.dtype.kind == "c")
    tensors = [cr.tensor(a, requires_grad=True) if _is_diff(a) else a for a in args]
    out = f(*tensors)
    assert isinstance(out, cr.Tensor), f"expected a Tensor, got {type(out).__name__}"
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12, err_msg="forward")
    assert out.dtype == expected.dtype, f"output dtype {out.dtype}, NumPy's {expected.dtype}"
    if out.requires_grad:  # a constant output (np.linalg.matrix_power(a, 0)) has none
        out.backward(cot.astype(out.dtype))
    numeric = complex_numerical_grads(f, args, cot)
    positions = [i for i, a in enumerate(args) if _is_diff(a)]
    for i in positions:
        got = tensors[i].grad
        got = np.zeros(args[i].shape, args[i].dtype) if got is None else got
        assert got.dtype == args[i].dtype, f"grad {i}: dtype {got.dtype}, input {args[i].dtype}"
        np.testing.assert_allclose(
            got, numeric[i], rtol=rtol, atol=atol, err_msg=f"backward, gradient of input {i}"
        )
    g = _partial(f, args, positions)
    floats = [args[i] for i in positions]
    _, vjp_fn = cr.vjp(g, *floats)
    jtc = vjp_fn(cot.astype(expected.dtype))
    for k, i in enumerate(positions):
        np.testing.assert_allclose(
            jtc[k], numeric[i], rtol=rtol, atol=atol, err_msg=f"cr.vjp, gradient of input {i}"
        )
    tangents = [_random_like(rng, x.shape, x.dtype.kind == "c") for x in floats]
    _, jt = cr.jvp(g, tuple(floats), tuple(tangents))
    eps = 1e-6
    plus = np.asarray(g(*[x + eps * t for x, t in zip(floats, tangents)]), np.complex128)
    minus = np.asarray(g(*[x - eps * t for x, t in zip(floats, tangents)]), np.complex128)
    np.testing.assert_allclose(
        jt, (plus - minus) / (2 * eps), rtol=rtol, atol=atol, err_msg="cr.jvp tangent"
    )
    lhs = _real_loss(jt, cot)
    rhs = sum(_real_loss(t, v) for t, v in zip(tangents, jtc))
    np.testing.assert_allclose(
        lhs, rhs, rtol=1e-9, atol=1e-10, err_msg="Re<J t, c> != Re<t, J^H c>"
    )
