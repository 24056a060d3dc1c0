"""The registry table on other array backends: Dask (chunked, lazy) and the device
stand-in (tests/standin.py, which refuses host copies as CuPy does).

Every row of tests/test_registry_grads.py runs on each backend in reverse mode and is
compared with the NumPy result (itself checked against finite differences there):
output and gradients must be of the backend's type, equal NumPy's, and on Dask nothing
may be computed before the test computes. A row that cannot work on a backend is listed
in tests/backend_gaps.py with its reason and the error it raises; it must still raise
it (a fixed row is then removed from the list).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from backend_gaps import GAPS
from backend_harness import BACKENDS, Counter, run_row, to_backend
from standin import DeviceArray, device
from test_registry_grads import CASES

import chainrule as cr

da = pytest.importorskip("dask.array")
import dask  # noqa: E402  (after the skip: the dask extra may be missing)

_LISTED = {
    backend: {rid: (pattern, reason) for reason, (pattern, ids) in table.items() for rid in ids}
    for backend, table in GAPS.items()
}
_PARAMS = [
    pytest.param(backend, p.id, p.values[1], p.values[2], id=f"{backend}-{p.id}")
    for backend in BACKENDS
    for p in CASES
]


@pytest.fixture(autouse=True)
def _quiet_numpy():
    # The rows' NumPy forwards may overflow in float32-free ways the registry test
    # already pins; here only agreement between backends is under test.
    with np.errstate(all="ignore"):
        yield


@pytest.mark.parametrize("backend, row, f, args", _PARAMS)
def test_row_on_backend(backend, row, f, args):
    listed = _LISTED[backend].get(row)
    if listed is None:
        run_row(backend, f, args)
        return
    pattern, reason = listed
    with pytest.raises(
        (
            TypeError,
            ValueError,
            AssertionError,
            NotImplementedError,
            IndexError,
            AttributeError,
            cr.BackwardError,
            FutureWarning,  # Dask's "not implemented by Dask array" (warnings are errors)
        ),
        match=pattern,
    ):
        run_row(backend, f, args)


def test_listed_rows_exist():
    ids = {p.id for p in CASES}
    for backend, rows in _LISTED.items():
        assert backend in BACKENDS
        missing = sorted(set(rows) - ids)
        assert not missing, f"{backend}: backend_gaps.py lists rows that do not exist: {missing}"


def test_most_rows_run_on_every_backend():
    # The table is the exception: if it grows past a fifth of the rows, something broke.
    for backend, rows in _LISTED.items():
        assert len(rows) < len(CASES) / 3, f"{backend}: {len(rows)} of {len(CASES)} rows listed"


# ------------------------------------------------------------------ Dask contract
def test_dask_least_squares_is_lazy_until_the_user_computes():
    counter = Counter()
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((40, 3))
    y_np = rng.standard_normal(40)
    X, y = da.from_array(x_np, chunks=(10, 3)), da.from_array(y_np, chunks=10)
    w = cr.tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    with dask.config.set(scheduler=counter):
        loss = np.mean((X @ w - y) ** 2)
        loss.backward()
        assert counter.calls == 0
        assert isinstance(w.grad, da.Array) and isinstance(loss.data, da.Array)
        value, grad = dask.compute(loss.data, w.grad)
    assert counter.calls == 1  # one pass computes both
    r = x_np @ w.data - y_np
    np.testing.assert_allclose(value, np.mean(r**2), rtol=1e-12)
    np.testing.assert_allclose(grad, 2 * x_np.T @ r / 40, rtol=1e-12)


def test_dask_grad_transform_stays_lazy():
    X = da.from_array(np.arange(12.0).reshape(4, 3) / 10, chunks=(2, 3))
    g = cr.grad(lambda x: np.sum(np.tanh(x) ** 2))(X)
    assert isinstance(g, da.Array)
    expected = 2 * np.tanh(X.compute()) * (1 - np.tanh(X.compute()) ** 2)
    np.testing.assert_allclose(g.compute(), expected, rtol=1e-12)


def test_python_control_flow_on_lazy_values_says_what_to_do():
    t = cr.tensor(da.ones(3, chunks=2), requires_grad=True)
    with pytest.raises(TypeError, match=r"bool\(t\).*lazy dask.*dask.compute"):
        if np.sum(t) > 0:
            pass
    with pytest.raises(TypeError, match=r"float\(t\).*np.where"):
        float(np.sum(t))


def test_in_place_writes_into_dask_data_are_refused():
    t = cr.tensor(da.ones(4, chunks=2), requires_grad=True)
    with pytest.raises(TypeError, match=r"in-place write into Dask data.*out of place"):
        t += 1
    with pytest.raises(TypeError, match=r"in-place write into Dask data"):
        t[0] = 5.0


def test_gradcheck_on_lazy_arrays_says_what_to_do():
    x = da.ones(3, chunks=2)
    with pytest.raises(TypeError, match=r"gradcheck.*lazy.*compute"):
        cr.gradcheck(lambda a: np.sum(a**2), x)


def test_a_numpy_head_for_dask_data_becomes_a_dask_array():
    t = cr.tensor(da.ones((2, 2), chunks=1), requires_grad=True)
    (t * 3).backward(np.ones((2, 2)))
    assert isinstance(t.grad, da.Array)
    np.testing.assert_array_equal(t.grad.compute(), np.full((2, 2), 3.0))


# ---------------------------------------------------------------- device contract
def test_device_data_never_goes_to_the_host():
    x = cr.tensor(device(np.linspace(-1, 1, 6).reshape(2, 3)), requires_grad=True)
    b = cr.tensor(device(np.ones(3)), requires_grad=True)
    loss = np.sum(np.tanh(x + b) ** 2)
    loss.backward()
    assert type(x.grad) is DeviceArray and type(b.grad) is DeviceArray
    with pytest.raises(TypeError, match="Implicit conversion to a NumPy array"):
        np.asarray(x.grad)
    expected = 2 * np.tanh(x.grad.get() * 0 + np.linspace(-1, 1, 6).reshape(2, 3) + 1)
    expected = expected * (1 - np.tanh(np.linspace(-1, 1, 6).reshape(2, 3) + 1) ** 2)
    np.testing.assert_allclose(x.grad.get(), expected, rtol=1e-12)
    np.testing.assert_allclose(b.grad.get(), expected.sum(0), rtol=1e-12)


def test_device_forward_mode_tangents_stay_on_the_device():
    x = device(np.array([0.1, 0.2, 0.3]))
    out, tangent = cr.jvp(lambda a: np.sin(a) * a, (x,), (device(np.ones(3)),))
    assert type(out) is DeviceArray and type(tangent) is DeviceArray
    a = np.array([0.1, 0.2, 0.3])
    np.testing.assert_allclose(tangent.get(), np.cos(a) * a + np.sin(a), rtol=1e-12)


def test_chunked_backend_arrays_split_the_first_axis():
    chunked = to_backend("dask", np.zeros((5, 2)))
    assert chunked.chunks == ((3, 2), (2,))
    assert re.match("DeviceArray", repr(to_backend("standin", np.zeros(1))))


def test_gpu_check_script_runs_on_the_stand_in(capsys):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.py"
    spec = importlib.util.spec_from_file_location("gpu_check", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--backend", "standin", "--rows", "200", "--cols", "16"]) == 0
    assert re.search(r"max \|grad - reference\| = \d", capsys.readouterr().out)
