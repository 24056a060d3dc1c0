"""Who is calling: the user's line that reached chainrule, or the SciPy function
converting a Tensor (for error messages and compile guards)."""

from __future__ import annotations

import linecache
import os
import sys
from typing import Any

import numpy as np

__all__ = ["scipy_caller", "user_frame", "write_site"]

_PACKAGE = os.path.dirname(os.path.abspath(__file__))
_NUMPY = os.path.dirname(os.path.abspath(np.__file__))


def user_frame(depth: int) -> Any:
    """The innermost frame outside chainrule and NumPy, starting ``depth`` frames up
    from the caller of this function; None if there is none."""
    frame: Any = sys._getframe(depth + 1)
    while frame is not None and frame.f_code.co_filename.startswith((_PACKAGE, _NUMPY)):
        frame = frame.f_back
    return frame


def write_site(t: Any) -> tuple[list[str], str]:
    """The names bound to ``t`` in the user code writing into it, and that code's place
    (file, line and text)."""
    frame = user_frame(2)
    if frame is None:
        return [], "an unknown place"
    names = sorted(name for name, value in frame.f_locals.items() if value is t)
    filename, line = frame.f_code.co_filename, frame.f_lineno
    text = linecache.getline(filename, line).strip()
    return names, f'File "{filename}", line {line}' + (f" ({text})" if text else "")


def scipy_caller() -> str | None:
    """The SciPy function (the outermost SciPy frame) converting a Tensor, if one is."""
    frame: Any = sys._getframe(2)
    found = None
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module.startswith("scipy."):
            code = frame.f_code
            public = ".".join(p for p in module.split(".")[:2] if not p.startswith("_"))
            found = f"{public} ({getattr(code, 'co_qualname', code.co_name)})"
        elif found is not None:
            return found
        frame = frame.f_back
    return found
