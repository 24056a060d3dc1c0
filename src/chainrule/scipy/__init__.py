"""Differentiable versions of SciPy's Python-level functions (the optional ``scipy`` extra).

SciPy's ufuncs (``scipy.special.gammaln`` ...) already record when called on a
Tensor; the functions here are the ones SciPy writes in Python, which would
convert a Tensor to an array: ``stats`` (distributions), ``special.logsumexp``,
``integrate.odeint``, ``signal.convolve`` and ``linalg`` (triangular and
Cholesky solves, ``sqrtm``). Each mirrors SciPy's signature and defaults.

>>> import numpy as np, chainrule as cr
>>> from chainrule.scipy import stats
>>> cr.grad(lambda mu: stats.norm.logpdf(1.0, loc=mu, scale=2.0))(0.0)
array(0.25)
"""

from __future__ import annotations

try:
    import scipy  # noqa: F401  (an optional extra: checked here, once, with a clear message)
except ImportError as e:
    raise ImportError(
        'chainrule.scipy needs SciPy, an optional extra: pip install "chainrule[scipy]"'
    ) from e

import importlib
from typing import Any

__all__ = ["integrate", "linalg", "signal", "special", "stats"]


def __getattr__(name: str) -> Any:
    # Submodules load on first use: scipy.signal and scipy.integrate alone take a second
    # or more to import, which a program that only needs stats should not pay.
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
