"""Run a registry row (tests/test_registry_grads.py) on another array backend.

The row runs twice: on NumPy (itself checked against finite differences by the registry
test) and on the backend. The backend's output and gradients must be of the backend's
type and equal NumPy's; on Dask, nothing may be computed until the test computes.
"""

from __future__ import annotations

import traceback

import numpy as np
from standin import DeviceArray, device, host

import chainrule as cr

try:
    import dask
    import dask.array as da
except ImportError:  # the Dask backend is skipped without the dask extra
    dask = da = None

BACKENDS = ("dask", "standin")


class Counter:
    """A Dask scheduler that counts its calls: laziness is "0 until the user computes"."""

    def __init__(self) -> None:
        self.calls = 0
        self.first = None  # where the first compute came from, for the failure message

    def __call__(self, dsk, keys, **kwargs):
        self.calls += 1
        if self.first is None:
            self.first = _caller()
        return dask.get(dsk, keys, **kwargs)


def _caller() -> str:
    """The innermost chainrule line on the stack (or the outermost dask line)."""
    stack = traceback.extract_stack()
    ours = [f for f in stack if "/chainrule/" in f.filename and "/tests/" not in f.filename]
    f = ours[-1] if ours else stack[-3]
    return f"{f.filename.rsplit('/', 2)[-1]}:{f.lineno} ({f.line})"


def to_backend(backend: str, x: np.ndarray):
    if backend == "standin":
        return device(x)
    # Chunked along the first axis (two chunks where it can be split), so that rules
    # meet chunk boundaries.
    chunks = tuple(max(1, -(-s // 2)) if i == 0 else max(s, 1) for i, s in enumerate(x.shape))
    return da.from_array(x, chunks=chunks or ())


def backend_type(backend: str) -> type:
    return DeviceArray if backend == "standin" else da.Array


def to_numpy(backend: str, x):
    if backend == "standin":
        return host(x)
    return np.asarray(dask.compute(x, scheduler="sync")[0])


def _is_float_array(a) -> bool:
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def _gradients(f, args, upstream):
    tensors = [cr.tensor(a, requires_grad=True) if w else a for a, w in args]
    out = f(*tensors)
    assert isinstance(out, cr.Tensor), f"expected a Tensor, got {type(out).__name__}"
    if out.requires_grad:
        out.backward(upstream)
    grads = [t.grad for t, (_, w) in zip(tensors, args) if w]
    return out, grads


def run_row(backend: str, f, args, seed: int = 0) -> None:
    """Raise AssertionError (or the row's error) unless the row is right on ``backend``."""
    args = [np.asarray(a, np.float64) if _is_float_array(a) else a for a in args]
    rng = np.random.default_rng(seed)
    out_np, grads_np = _gradients(f, [(a, _is_float_array(a)) for a in args], None)
    upstream = rng.standard_normal(np.shape(out_np._data))
    out_np, grads_np = _gradients(f, [(a, _is_float_array(a)) for a in args], upstream)
    kind = backend_type(backend)
    moved = [(to_backend(backend, a), True) if _is_float_array(a) else (a, False) for a in args]
    head = to_backend(backend, np.asarray(upstream))
    counter = Counter()
    if backend == "dask":
        with dask.config.set(scheduler=counter):
            out, grads = _gradients(f, moved, head)
        assert counter.calls == 0, (
            f"recording and backward computed {counter.calls} time(s), first at {counter.first}"
        )
    else:
        out, grads = _gradients(f, moved, head)
    assert type(out._data) is kind, f"output is {type(out._data).__name__}, not {kind.__name__}"
    got_out = to_numpy(backend, out._data)
    np.testing.assert_allclose(got_out, out_np._data, rtol=1e-9, atol=1e-12, err_msg="forward")
    for i, (g, g_np) in enumerate(zip(grads, grads_np)):
        if g_np is None:
            assert g is None, f"gradient {i}: {type(g).__name__} where NumPy has none"
            continue
        assert type(g) is kind, f"gradient {i} is {type(g).__name__}, not {kind.__name__}"
        got = to_numpy(backend, g)
        assert got.shape == np.shape(g_np), f"gradient {i}: shape {got.shape}"
        assert got.dtype == g_np.dtype, f"gradient {i}: dtype {got.dtype}"
        np.testing.assert_allclose(got, g_np, rtol=1e-9, atol=1e-11, err_msg=f"gradient {i}")
