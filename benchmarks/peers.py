"""The workloads written for peer libraries, each imported only if installed.

Every peer returns its gradients in the hand-written version's layout, so the
suite checks them against it before timing (a peer with a wrong gradient is
reported, not timed). Peers: PyTorch (CPU), HIPS autograd, MyGrad, JAX (eager,
op by op like chainrule, and under jax.jit, which compiles and fuses).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from workloads import (
    W1_OPS,
    W1_X,
    W3_LABELS,
    W3_PARAMS,
    W3_X,
    W4_X,
    W5_V,
    W5_X,
)

Peer = dict[str, Callable[[], Any]]  # workload id -> one forward+backward


def _w1_w2_functions(xnp: Any) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """W1's chain and W2's staged function for a NumPy-like module (HIPS autograd's
    autograd.numpy, jax.numpy), for the function transforms of those libraries."""

    def chain(x: Any) -> Any:
        y = x
        for _ in range(W1_OPS // 4):
            y = xnp.sin(xnp.tanh(y * 1.01 + 0.1))
        return xnp.sum(y)

    def staged(x: Any, y: Any) -> Any:
        s = lambda v: 1.0 / (1 + xnp.exp(-v))
        return (x + s(y)) / (s(x) + (x + y) ** 2)

    return chain, staged


def _torch() -> Peer:
    import torch

    torch.set_grad_enabled(True)

    def w1() -> Any:
        x = torch.tensor(W1_X, requires_grad=True)
        y = x
        for _ in range(W1_OPS // 4):
            y = torch.sin(torch.tanh(y * 1.01 + 0.1))
        y.sum().backward()
        return x.grad.numpy()

    def w2() -> Any:
        x = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
        y = torch.tensor(-4.0, dtype=torch.float64, requires_grad=True)
        f = (x + torch.sigmoid(y)) / (torch.sigmoid(x) + (x + y) ** 2)
        f.backward()
        return x.grad.numpy(), y.grad.numpy()

    params = [torch.tensor(p, requires_grad=True) for p in W3_PARAMS]
    x3, labels = torch.from_numpy(W3_X), torch.from_numpy(W3_LABELS)

    def w3() -> Any:
        for p in params:
            p.grad = None
        w1_, b1, w2_, b2, w3_, b3 = params
        h1 = torch.tanh(x3 @ w1_ + b1)
        h2 = torch.tanh(h1 @ w2_ + b2)
        torch.nn.functional.cross_entropy(h2 @ w3_ + b3, labels).backward()
        return [p.grad.numpy() for p in params]

    x4 = torch.tensor(W4_X, requires_grad=True)

    def w4() -> Any:
        x4.grad = None
        torch.sum(torch.sigmoid(x4) * torch.tanh(x4) + torch.exp(-x4 * x4)).backward()
        return x4.grad.numpy()

    x5, v5 = torch.from_numpy(W5_X), torch.from_numpy(W5_V)

    def w5() -> Any:
        x = x5.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(torch.sum(torch.tanh(x) ** 3), x, create_graph=True)
        (hv,) = torch.autograd.grad(g, x, v5)
        return hv.numpy()

    return {"W1": w1, "W2": w2, "W3": w3, "W4": w4, "W5": w5}


def _hips_autograd() -> Peer:
    import autograd
    import autograd.numpy as anp
    from autograd.scipy.special import logsumexp

    chain, staged = _w1_w2_functions(anp)

    def mlp(params: list) -> Any:
        w1, b1, w2, b2, w3, b3 = params
        h1 = anp.tanh(anp.dot(W3_X, w1) + b1)
        h2 = anp.tanh(anp.dot(h1, w2) + b2)
        logits = anp.dot(h2, w3) + b3
        log_p = logits - logsumexp(logits, axis=1, keepdims=True)
        return -anp.mean(log_p[np.arange(len(W3_LABELS)), W3_LABELS])

    def w4(x: Any) -> Any:
        return anp.sum(1 / (1 + anp.exp(-x)) * anp.tanh(x) + anp.exp(-x * x))

    hvp = autograd.hessian_vector_product(lambda x: anp.sum(anp.tanh(x) ** 3))
    return {
        "W1": lambda: autograd.grad(chain)(W1_X),
        "W2": lambda: autograd.grad(staged, argnum=(0, 1))(3.0, -4.0),
        "W3": lambda: autograd.grad(mlp)(list(W3_PARAMS)),
        "W4": lambda: autograd.grad(w4)(W4_X),
        "W5": lambda: hvp(W5_X, W5_V),
    }


def _mygrad() -> Peer:
    import mygrad as mg
    from mygrad.nnet.losses import softmax_crossentropy

    def w1() -> Any:
        x = mg.tensor(W1_X)
        y = x
        for _ in range(W1_OPS // 4):
            y = mg.sin(mg.tanh(y * 1.01 + 0.1))
        mg.sum(y).backward()
        return x.grad

    def w2() -> Any:
        x, y = mg.tensor(3.0), mg.tensor(-4.0)
        s = lambda v: 1.0 / (1 + mg.exp(-v))
        ((x + s(y)) / (s(x) + (x + y) ** 2)).backward()
        return x.grad, y.grad

    params = [mg.tensor(p) for p in W3_PARAMS]

    def w3() -> Any:
        w1_, b1, w2_, b2, w3_, b3 = params
        h1 = mg.tanh(mg.matmul(W3_X, w1_) + b1)
        h2 = mg.tanh(mg.matmul(h1, w2_) + b2)
        softmax_crossentropy(mg.matmul(h2, w3_) + b3, W3_LABELS).backward()
        return [p.grad for p in params]

    x4 = mg.tensor(W4_X)

    def w4() -> Any:
        s = 1 / (1 + mg.exp(-x4))
        mg.sum(s * mg.tanh(x4) + mg.exp(-x4 * x4)).backward()
        return x4.grad

    return {"W1": w1, "W2": w2, "W3": w3, "W4": w4}  # no second derivatives: no W5


def _jax(jit: bool) -> Peer:
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)  # W1, W2, W4, W5 are float64
    compile_ = jax.jit if jit else (lambda f: f)

    chain, staged = _w1_w2_functions(jnp)
    x3, labels, rows = jnp.asarray(W3_X), jnp.asarray(W3_LABELS), jnp.arange(len(W3_LABELS))

    def mlp(params: list) -> Any:
        w1, b1, w2, b2, w3, b3 = params
        h1 = jnp.tanh(x3 @ w1 + b1)
        h2 = jnp.tanh(h1 @ w2 + b2)
        return -jnp.mean(jax.nn.log_softmax(h2 @ w3 + b3)[rows, labels])

    def w4(x: Any) -> Any:
        return jnp.sum(jax.nn.sigmoid(x) * jnp.tanh(x) + jnp.exp(-x * x))

    def hvp(x: Any, v: Any) -> Any:
        return jax.jvp(jax.grad(lambda z: jnp.sum(jnp.tanh(z) ** 3)), (x,), (v,))[1]

    g1, g2 = compile_(jax.grad(chain)), compile_(jax.grad(staged, argnums=(0, 1)))
    g3, g4, h5 = compile_(jax.grad(mlp)), compile_(jax.grad(w4)), compile_(hvp)
    p3 = [jnp.asarray(p) for p in W3_PARAMS]
    x1, x4, x5, v5 = (jnp.asarray(a) for a in (W1_X, W4_X, W5_X, W5_V))
    ready = jax.block_until_ready  # JAX dispatches asynchronously: time the result
    return {
        "W1": lambda: np.asarray(ready(g1(x1))),
        "W2": lambda: tuple(np.asarray(g) for g in ready(g2(3.0, -4.0))),
        "W3": lambda: [np.asarray(g) for g in ready(g3(p3))],
        "W4": lambda: np.asarray(ready(g4(x4))),
        "W5": lambda: np.asarray(ready(h5(x5, v5))),
    }


_PEERS: dict[str, Callable[[], Peer]] = {
    "PyTorch": _torch,
    "HIPS autograd": _hips_autograd,
    "MyGrad": _mygrad,
    "JAX (eager)": lambda: _jax(jit=False),
    "JAX (jit)": lambda: _jax(jit=True),
}


def peers() -> dict[str, Peer]:
    """The peers that are installed, by name."""
    found = {}
    for name, build in _PEERS.items():
        try:
            found[name] = build()
        except ImportError:
            continue
    return found
