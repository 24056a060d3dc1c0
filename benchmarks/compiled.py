"""The workloads of workloads.py through ``cr.compile``, and its trace-and-generate time.

Each compiled workload computes what the eager one does (the gradients that the
hand-written NumPy version returns) with a program traced once, at import; run.py
times it against hand-written NumPy as it times the eager rows.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np
import workloads as wl

import chainrule as cr


def _w1_chain(x: Any) -> Any:
    y = x
    for _ in range(wl.W1_OPS // 4):
        y = np.sin(np.tanh(y * 1.01 + 0.1))
    return np.sum(y)


def _staged(x: Any, y: Any) -> Any:  # the lecture's function, as W2 writes it
    sigy = 1.0 / (1 + np.exp(-y))
    num = x + sigy
    sigx = 1.0 / (1 + np.exp(-x))
    xpy = x + y
    den = sigx + xpy**2
    return num * (1.0 / den)


def _mlp_loss(params: list, x: Any, labels: Any) -> Any:
    w1, b1, w2, b2, w3, b3 = params
    h1 = np.tanh(x @ w1 + b1)
    h2 = np.tanh(h1 @ w2 + b2)
    logits = h2 @ w3 + b3
    return -np.mean(cr.log_softmax(logits)[wl._ROWS, labels])


def _w4_loss(x: Any) -> Any:
    return np.sum(cr.sigmoid(x) * np.tanh(x) + np.exp(-x * x))


def _cubes(x: Any) -> Any:
    return np.sum(np.tanh(x) ** 3)


_W1 = cr.compile(cr.grad(_w1_chain))
_W2 = cr.compile(cr.grad(_staged, argnums=(0, 1)))
_W3 = cr.compile(cr.grad(_mlp_loss))
_W4 = cr.compile(cr.grad(_w4_loss))
_W5 = cr.compile(lambda x, v: cr.hvp(_cubes, (x,), (v,)))

WORKLOADS = [
    wl.Workload(
        "W1c",
        "W1 through cr.compile",
        "<= 1.0x hand",
        "us-ratio",
        lambda: _W1(wl.W1_X),
        wl.w1_hand,
        repeat=50,
        limit=1.0,
    ),
    wl.Workload(
        "W2c",
        "W2 through cr.compile",
        "<= 2x hand",
        "us-ratio",
        lambda: _W2(3.0, -4.0),
        wl.w2_hand,
        repeat=500,
        limit=2.0,
    ),
    wl.Workload(
        "W3c",
        "W3 through cr.compile",
        "<= 0.97x hand",
        "ratio",
        lambda: _W3(wl.W3_PARAMS, wl.W3_X, wl.W3_LABELS),
        wl.w3_hand,
        repeat=3,
        limit=0.97,
    ),
    wl.Workload(
        "W4c",
        "W4 through cr.compile, one thread",
        "<= 0.55x hand",
        "ratio",
        lambda: _W4(wl.W4_X),
        wl.w4_hand,
        repeat=1,
        limit=0.55,
    ),
    wl.Workload(
        "W5c",
        "W5 through cr.compile",
        "<= 3x hand",
        "us-ratio",
        lambda: _W5(wl.W5_X, wl.W5_V),
        wl.w5_hand,
        repeat=50,
        limit=3.0,
    ),
]


def w4_peak_memory() -> float:
    """W4c's peak memory above the baseline, in multiples of the size of x."""
    import tracemalloc

    _W4(wl.W4_X)
    tracemalloc.start()
    tracemalloc.reset_peak()
    _W4(wl.W4_X)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / wl.W4_X.nbytes


def _long_chain(x: Any) -> Any:  # 1,000 primitives forward, as many again backward
    y = x
    for _ in range(250):
        y = np.sin(np.tanh(y * 1.01 + 0.1))
    return np.sum(y)


def trace_times(rounds: int) -> tuple[float, float]:
    """Median seconds to trace and generate W2's gradient, and a 1,000-primitive chain's."""
    w2, chain = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        cr.compile(cr.grad(_staged, argnums=(0, 1)))(3.0, -4.0)
        w2.append(time.perf_counter() - start)
        start = time.perf_counter()
        cr.compile(cr.grad(_long_chain))(wl.W1_X)
        chain.append(time.perf_counter() - start)
    return statistics.median(w2), statistics.median(chain)
