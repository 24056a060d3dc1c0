"""The six workloads of the benchmark suite: chainrule and hand-written NumPy.

Each workload has a chainrule version and a hand-written NumPy forward+backward
that returns the same gradients (the limit); peers.py writes them for other libraries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import chainrule as cr


@dataclass
class Workload:
    wid: str
    title: str
    target: str
    unit: str  # "us/op", "us", "ratio", "ms"
    chainrule: Callable[[], Any]
    hand: Callable[[], Any] | None
    per: int = 1  # operations per call, for per-op units
    repeat: int = 1  # calls per timed block
    limit: float = 0.0


# --------------------------------------------------------------------- W1
W1_X = np.linspace(0.1, 0.4, 4)
W1_OPS = 200


def w1_chainrule() -> np.ndarray:
    x = cr.tensor(W1_X, requires_grad=True)
    y = x
    for _ in range(W1_OPS // 4):
        y = y * 1.01
        y = y + 0.1
        y = np.tanh(y)
        y = np.sin(y)
    y.sum().backward()
    return x.grad


def w1_hand() -> np.ndarray:
    y, saved = W1_X, []
    for _ in range(W1_OPS // 4):
        y = y * 1.01
        y = y + 0.1
        y = np.tanh(y)
        saved.append(y)
        y = np.sin(y)
    g = np.ones_like(y)
    for t in reversed(saved):
        g = g * np.cos(t)
        g = g * (1 - t * t)
        g = g * 1.01
    return g


# --------------------------------------------------------------------- W2
def w2_chainrule() -> tuple:
    x = cr.tensor(3.0, requires_grad=True)
    y = cr.tensor(-4.0, requires_grad=True)
    sigy = 1.0 / (1 + np.exp(-y))
    num = x + sigy
    sigx = 1.0 / (1 + np.exp(-x))
    xpy = x + y
    xpysqr = xpy**2
    den = sigx + xpysqr
    invden = 1.0 / den
    f = num * invden
    f.backward()
    return x.grad, y.grad


def w2_hand() -> tuple:
    x, y = 3.0, -4.0
    sigy = 1.0 / (1 + np.exp(-y))
    num = x + sigy
    sigx = 1.0 / (1 + np.exp(-x))
    xpy = x + y
    xpysqr = xpy**2
    den = sigx + xpysqr
    invden = 1.0 / den
    dnum = invden
    dinvden = num
    dden = (-1.0 / (den**2)) * dinvden
    dxpy = (2 * xpy) * dden
    dx = dxpy + ((1 - sigx) * sigx) * dden + dnum
    dy = dxpy + ((1 - sigy) * sigy) * dnum
    return np.float64(dx), np.float64(dy)


# --------------------------------------------------------------------- W3
B, D, H, C = 256, 784, 1024, 10
_rng = np.random.default_rng(3)
W3_X = _rng.standard_normal((B, D)).astype(np.float32)
W3_LABELS = _rng.integers(0, C, B)
W3_PARAMS = [
    (_rng.standard_normal((D, H)) * 0.03).astype(np.float32),
    np.zeros(H, np.float32),
    (_rng.standard_normal((H, H)) * 0.03).astype(np.float32),
    np.zeros(H, np.float32),
    (_rng.standard_normal((H, C)) * 0.03).astype(np.float32),
    np.zeros(C, np.float32),
]
_ROWS = np.arange(B)


W3_TENSORS = [cr.tensor(p, requires_grad=True) for p in W3_PARAMS]  # made once, as in training


def w3_chainrule() -> list:
    ps = W3_TENSORS
    for p in ps:
        p.grad = None
    w1, b1, w2, b2, w3, b3 = ps
    h1 = np.tanh(W3_X @ w1 + b1)
    h2 = np.tanh(h1 @ w2 + b2)
    logits = h2 @ w3 + b3
    loss = -np.mean(cr.log_softmax(logits)[_ROWS, W3_LABELS])
    loss.backward()
    return [p.grad for p in ps]


def w3_hand() -> list:
    W1, b1, W2, b2, W3, b3 = W3_PARAMS
    h1 = np.tanh(W3_X @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    logits = h2 @ W3 + b3
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    p = e / e.sum(axis=1, keepdims=True)
    d = p
    d[_ROWS, W3_LABELS] -= 1
    d /= B
    gW3, gb3 = h2.T @ d, d.sum(axis=0)
    da2 = (d @ W3.T) * (1 - h2 * h2)
    gW2, gb2 = h1.T @ da2, da2.sum(axis=0)
    da1 = (da2 @ W2.T) * (1 - h1 * h1)
    gW1, gb1 = W3_X.T @ da1, da1.sum(axis=0)
    return [gW1, gb1, gW2, gb2, gW3, gb3]


# --------------------------------------------------------------------- W4
W4_X = np.random.default_rng(4).standard_normal(4_000_000)
# The input, made once (cr.tensor copies): as for the hand-written version, whose x is
# W4_X, what is timed and measured is the forward and backward pass.
W4_TENSOR = cr.tensor(W4_X, requires_grad=True)


def w4_chainrule() -> np.ndarray:
    x = W4_TENSOR
    x.grad = None
    y = np.sum(cr.sigmoid(x) * np.tanh(x) + np.exp(-x * x))
    y.backward()
    return x.grad


def w4_hand() -> np.ndarray:
    x = W4_X
    s = 1 / (1 + np.exp(-x))
    t = np.tanh(x)
    e = np.exp(-x * x)
    _ = np.sum(s * t + e)
    return s * (1 - s) * t + s * (1 - t * t) - 2 * x * e


# --------------------------------------------------------------------- W5
W5_X = np.random.default_rng(5).standard_normal(1000)
W5_V = np.random.default_rng(6).standard_normal(1000)


def w5_chainrule() -> np.ndarray:
    return cr.hvp(lambda x: np.sum(np.tanh(x) ** 3), (W5_X,), (W5_V,))


def w5_hand() -> np.ndarray:
    t = np.tanh(W5_X)
    d = 1 - t * t
    # d2/dx2 tanh^3 = 6 t d^2 - 6 t^3 d
    return (6 * t * d * d - 6 * t**3 * d) * W5_V


WORKLOADS = [
    Workload(
        "W1",
        "chain of 200 elementwise ops on a (4,) array, fwd+bwd",
        "<= 4.5 us/op",
        "us/op",
        w1_chainrule,
        w1_hand,
        per=W1_OPS,
        repeat=50,
        limit=4.5,
    ),
    Workload(
        "W2",
        "the lecture's staged f(x, y) at (3, -4), 0-d, fwd+bwd",
        "<= 30 us",
        "us",
        w2_chainrule,
        w2_hand,
        repeat=500,
        limit=30.0,
    ),
    Workload(
        "W3",
        "MLP 784-1024-1024-10, tanh, softmax CE, float32, batch 256",
        "<= 0.95x hand",
        "ratio",
        w3_chainrule,
        w3_hand,
        repeat=3,
        limit=0.95,
    ),
    Workload(
        "W4",
        "sum(sigmoid(x) tanh(x) + exp(-x^2)), x of 4e6 float64",
        "<= 1.0x hand",
        "ratio",
        w4_chainrule,
        w4_hand,
        repeat=1,
        limit=1.0,
    ),
    Workload(
        "W5",
        "Hessian-vector product of sum(tanh(x)^3), x of 1000",
        "<= 200 us",
        "us",
        w5_chainrule,
        w5_hand,
        repeat=50,
        limit=200.0,
    ),
]
