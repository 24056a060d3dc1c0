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
