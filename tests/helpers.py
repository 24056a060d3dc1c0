"""An independent float64 finite-difference check, used by the generic registry test.

It shares no code with ``cr.gradcheck`` (which is itself under test).
"""

from __future__ import annotations

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


def check_float32(f, *args):
    """float32 in gives float32 out and float32 gradients, close to the float64 ones."""
    args32 = [
        a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
        for a in args
    ]
    expected = f(*args32)
    if np.asarray(expected).dtype != np.float32:
        return  # NumPy itself promotes this op (e.g. float_power): nothing to preserve
    upstream = np.ones(np.shape(expected), np.float32)
    grads, out = analytic_vjp(f, args32, upstream)
    assert out.dtype == np.float32
    for g, x in zip(grads, args32):
        if g is not None:
            assert g.dtype == np.float32, f"float32 input got a {g.dtype} gradient"


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
    """<J v, u> from forward mode (cr.jvp) equals <v, J^T u> from reverse mode (cr.vjp)."""
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


def check_second_order(f, *args, seed=2, eps=1e-5):
    """Hessian-vector products of s(x) = <u, f(x)>: forward over reverse (cr.hvp, also
    nested on Tensors), reverse over reverse (cr.grad of a gradient), reverse over
    forward (cr.grad of a jvp), against central differences of the gradient."""
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
