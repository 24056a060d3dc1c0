"""Checks on a real GPU with CuPy: ``python benchmarks/gpu_check.py [--backend standin]``.

Runs the registry table on CuPy, the gradient of a least-squares loss at 20000 x 4096
float32, and the µs/op of a W1-style elementwise chain. Without CuPy or a GPU it says so
and exits 0; ``--backend standin`` runs the same logic on the CPU with the strict device
stand-in of tests/standin.py (no timings are meaningful there).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

TESTS = Path(__file__).resolve().parents[1] / "tests"


def _library(backend: str):
    """(to_device, to_host) for the backend, or None when it is not available."""
    if backend == "standin":
        sys.path.insert(0, str(TESTS))
        from standin import device, host

        return device, host
    try:
        import cupy

        cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # no CuPy, or no GPU/driver
        print(f"gpu_check: CuPy or a GPU is not available ({type(e).__name__}: {e}); skipped")
        return None
    return cupy.asarray, cupy.asnumpy


def least_squares(to_device, to_host, rows: int, cols: int) -> float:
    import chainrule as cr

    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((rows, cols), dtype=np.float32)
    y_np = rng.standard_normal(rows, dtype=np.float32)
    w0 = np.zeros(cols, np.float32)
    X, y = to_device(x_np), to_device(y_np)
    w = cr.tensor(to_device(w0), requires_grad=True)
    loss = np.mean((X @ w - y) ** 2)
    loss.backward()
    got = to_host(w.grad)
    expected = 2 * x_np.T @ (x_np @ w0 - y_np) / rows
    return float(np.max(np.abs(got - expected)))


def chain_us_per_op(to_device, n_ops: int = 200) -> float:
    import chainrule as cr

    x = cr.tensor(to_device(np.linspace(0, 1, 1000)), requires_grad=True)
    start = time.perf_counter()
    h = x
    for _ in range(n_ops // 2):
        h = np.tanh(h) * 1.01
    np.sum(h).backward()
    return (time.perf_counter() - start) / n_ops * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("cupy", "standin"), default="cupy")
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--cols", type=int, default=4096)
    args = parser.parse_args(argv)
    lib = _library(args.backend)
    if lib is None:
        return 0
    to_device, to_host = lib
    diff = least_squares(to_device, to_host, args.rows, args.cols)
    print(f"least squares {args.rows}x{args.cols} float32: max |grad - reference| = {diff:.2e}")
    print(f"W1-style chain: {chain_us_per_op(to_device):.1f} us/op ({args.backend})")
    return 0 if diff < 1e-3 else 1


if __name__ == "__main__":
    sys.exit(main())
