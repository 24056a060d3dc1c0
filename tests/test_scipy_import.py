"""chainrule.scipy is an optional extra: without SciPy it says how to install it."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import chainrule as cr


def test_import_without_scipy_names_the_extra(monkeypatch):
    for name in list(sys.modules):
        if name == "scipy" or name.startswith(("scipy.", "chainrule.scipy")):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "scipy", None)  # makes `import scipy` raise ImportError
    with pytest.raises(ImportError, match=r'pip install "chainrule\[scipy\]"'):
        importlib.import_module("chainrule.scipy")


def test_submodules_load_on_first_use():
    pytest.importorskip("scipy")
    code = (
        "import sys, chainrule.scipy as cs; print('scipy.signal' in sys.modules); "
        "cs.signal; print('scipy.signal' in sys.modules); print(cs.stats.norm.cdf(0.0))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["False", "True", "0.5"], out.stderr


def test_unknown_attribute_is_an_attribute_error():
    cs = pytest.importorskip("chainrule.scipy")
    with pytest.raises(AttributeError, match="has no attribute 'optimize'"):
        cs.optimize  # noqa: B018
    assert {"integrate", "linalg", "signal", "special", "stats"} <= set(dir(cs))


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda t: __import__("scipy.stats").stats.norm.logpdf(t), r"scipy\.stats \(.*logpdf\)"),
        (
            lambda t: __import__("scipy.special").special.logsumexp(t),
            r"scipy\.special \(logsumexp\)",
        ),
        (
            lambda t: __import__("scipy.integrate").integrate.odeint(
                lambda y, s: -y, t, [0.0, 1.0]
            ),
            r"scipy\.integrate \(odeint\)",
        ),
    ],
)
def test_a_tensor_reaching_scipy_names_the_function_and_points_to_chainrule_scipy(call, name):
    pytest.importorskip("scipy")
    t = cr.tensor([0.5, 1.0], requires_grad=True)
    with pytest.raises(TypeError, match=name + r".*chainrule\.scipy"):
        call(t)
