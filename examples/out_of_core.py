"""The gradient of a least-squares loss over a Dask array larger than memory.

    python examples/out_of_core.py                 # 20 GB on 2 workers x 2 GiB (minutes)
    python examples/out_of_core.py --gb 0.05       # a small run

The data X (rows x cols, float64) and targets y are generated lazily, chunk by chunk,
from a seeded ``da.random`` generator: nothing is ever held whole. chainrule records
``np.mean((X @ w - y) ** 2)`` on the Dask arrays and runs backward without computing
anything; ``dask.compute(loss, w.grad)`` then evaluates both in one pass over the
chunks on a ``dask.distributed.LocalCluster`` whose workers have a memory limit, with
distributed's progress bar. The result is checked against a streaming NumPy
computation that visits one chunk at a time. Needs ``pip install "chainrule[dask]"``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import chainrule as cr


def problem(gb: float, cols: int = 100, chunk_mb: float = 128.0, seed: int = 0):
    """Lazy X (about ``gb`` gigabytes), y, and the weights to differentiate at."""
    import dask.array as da

    rows = int(gb * 1e9 / (8 * cols))
    chunk_rows = max(1, min(rows, int(chunk_mb * 1e6 / (8 * cols))))
    rng = da.random.default_rng(seed)
    X = rng.standard_normal((rows, cols), chunks=(chunk_rows, cols))
    w_true = np.linspace(-1.0, 1.0, cols)
    y = X @ w_true + 0.1 * rng.standard_normal(rows, chunks=chunk_rows)
    w = np.zeros(cols)
    return X, y, w


def lazy_gradient(X, y, w0):
    """The loss and its gradient as Dask arrays: recording and backward compute nothing."""
    w = cr.tensor(w0, requires_grad=True)
    loss = np.mean((X @ w - y) ** 2)
    loss.backward()
    return loss.data, w.grad


def streaming_reference(X, y, w):
    """The same loss and gradient in NumPy, one chunk of rows at a time."""
    import dask

    total, grad, n = 0.0, np.zeros_like(w), X.shape[0]
    for i in range(X.numblocks[0]):
        xb, yb = dask.compute(X.blocks[i], y.blocks[i], scheduler="threads")
        r = xb @ w - yb
        total += float(r @ r)
        grad += 2.0 * (xb.T @ r)
    return total / n, grad / n


def main(gb: float = 20.0, workers: int = 2, memory_limit: str = "2GiB", progress: bool = True):
    from dask.distributed import Client, LocalCluster
    from dask.distributed import progress as show_progress

    X, y, w = problem(gb)
    loss, grad = lazy_gradient(X, y, w)
    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, memory_limit=memory_limit, processes=True
        ) as cluster,
        Client(cluster) as client,
    ):
        start = time.perf_counter()
        futures = client.compute([loss, grad])
        if progress:
            show_progress(futures)
        value, g = client.gather(futures)
        seconds = time.perf_counter() - start
        # The largest memory any worker reached, from the workers' own monitors.
        peak = max(client.run(_peak_rss).values())
    start = time.perf_counter()
    ref_value, ref_grad = streaming_reference(X, y, w)
    ref_seconds = time.perf_counter() - start
    return {
        "gigabytes": X.nbytes / 1e9,
        "chunks": X.numblocks[0],
        "seconds": seconds,
        "peak_worker_bytes": peak,
        "loss": float(value),
        "grad": np.asarray(g),
        "max_abs_diff": float(max(abs(value - ref_value), np.max(np.abs(g - ref_grad)))),
        "reference_seconds": ref_seconds,
    }


def _peak_rss() -> int:
    """On a worker: its process's peak resident memory (ru_maxrss, in bytes on Linux)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=20.0, help="size of X in GB (default 20)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-limit", default="2GiB", help="per worker (default 2GiB)")
    args = parser.parse_args()
    out = main(args.gb, args.workers, args.memory_limit)
    print(
        f"\n{out['gigabytes']:.1f} GB in {out['chunks']} chunks: {out['seconds']:.1f} s, "
        f"peak worker memory {out['peak_worker_bytes'] / 2**30:.2f} GiB, loss {out['loss']:.6f}, "
        f"max |difference| from the streaming NumPy reference {out['max_abs_diff']:.1e} "
        f"(reference: {out['reference_seconds']:.1f} s)"
    )
