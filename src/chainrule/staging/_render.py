"""Python text for the values a program holds: literals, indices, and variable names.

``literal(value)`` writes a value as Python source that evaluates back to the
same value of the same type (``1.0``, ``np.float32(0.5)``, ``np.array([1.0,
2.0])``, ``slice(1, None, None)``), or returns ``None`` when no short text does
(then the program names it as a constant). ``Names`` hands out variable names
that never clash: a forward name ``x`` also reserves its gradient's ``dx``.
"""

from __future__ import annotations

import keyword
import re
from typing import Any

import numpy as np

__all__ = ["Names", "atom", "index_text", "literal", "short_literal_name"]

# The largest array written out in full; bigger ones become named constants.
_ARRAY_INLINE = 8
_DEFAULT_DTYPES = ("float64", "int64", "bool")
# What literal text may name besides np (slice, Ellipsis).
_BUILTINS = {"slice": slice, "Ellipsis": Ellipsis}


def _text(value: Any) -> str | None:
    if value is None or value is Ellipsis or isinstance(value, (bool, int, str)):
        return repr(value)
    if isinstance(value, float):
        if np.isfinite(value):
            return repr(value)
        return "np.nan" if np.isnan(value) else ("np.inf" if value > 0 else "-np.inf")
    if isinstance(value, complex):
        return repr(value)
    if isinstance(value, slice):
        parts = [_text(p) for p in (value.start, value.stop, value.step)]
        return None if None in parts else f"slice({', '.join(parts)})"  # type: ignore[arg-type]
    if isinstance(value, (tuple, list)):
        items = [_text(v) for v in value]
        if None in items:
            return None
        inner = ", ".join(items)  # type: ignore[arg-type]
        if isinstance(value, list):
            return f"[{inner}]"
        return f"({inner},)" if len(items) == 1 else f"({inner})"
    if isinstance(value, np.generic):
        item = _text(value.item())
        return None if item is None else f"np.{type(value).__name__}({item})"
    if isinstance(value, np.ndarray):
        if value.size > _ARRAY_INLINE or value.ndim > 2 or value.dtype.kind not in "biuf":
            return None
        listed = _text(value.tolist())
        if listed is None:
            return None
        if value.dtype.name in _DEFAULT_DTYPES and value.size:
            return f"np.array({listed})"
        return f"np.array({listed}, dtype=np.{value.dtype.name})"
    if isinstance(value, np.dtype):
        return f"np.dtype({value.name!r})"
    if isinstance(value, type) and issubclass(value, np.generic):
        return f"np.{value.__name__}"
    return None


def _same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and bool(np.array_equal(a, b))
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def literal(value: Any) -> str | None:
    """Python text that evaluates to ``value`` (same type, same numbers), or None.

    >>> literal(1.0), literal(np.float32(0.5)), literal(np.array([1.0, 2.0]))
    ('1.0', 'np.float32(0.5)', 'np.array([1.0, 2.0])')
    >>> literal(np.zeros(100)) is None
    True
    """
    text = _text(value)
    if text is None:
        return None
    try:
        back = eval(text, {"np": np, "__builtins__": _BUILTINS})
    except Exception:
        return None
    return text if _same(back, value) else None


def atom(text: str) -> str:
    """``text`` safe as an operand of an operator: a negative literal gets parentheses."""
    return f"({text})" if text.startswith("-") else text


def index_text(index: Any) -> str | None:
    """The inside of ``x[...]`` for an index: ``0, 1:``; None when it is not plain."""
    items = index if isinstance(index, tuple) else (index,)
    parts = []
    for item in items:
        if isinstance(item, slice):
            ends = [item.start, item.stop, item.step]
            if not all(e is None or (isinstance(e, int) and not isinstance(e, bool)) for e in ends):
                return None
            text = ":".join("" if e is None else str(e) for e in ends[:2])
            parts.append(text if item.step is None else f"{text}:{item.step}")
        elif item is Ellipsis:
            parts.append("...")
        elif item is None:
            parts.append("None")
        elif isinstance(item, int) and not isinstance(item, bool):
            parts.append(str(item))
        else:
            return None
    if not parts:
        return "()"
    return ", ".join(parts) + ("," if isinstance(index, tuple) and len(parts) == 1 else "")


_NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def short_literal_name(value: Any) -> str:
    """A word for a constant in a derived name: ``one`` for 1.0, ``c`` otherwise."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        v = float(value)
        if v.is_integer() and abs(v) < len(_NUMBER_WORDS):
            word = _NUMBER_WORDS[int(abs(v))]
            return f"minus_{word}" if v < 0 else word
    return "c"


class Names:
    """Variable names for a program: unique, and never a gradient's ``d`` name."""

    def __init__(self, reserved: tuple[str, ...] = ()) -> None:
        self.taken = set(reserved)

    def new(self, base: str) -> str:
        """A fresh name like ``base`` (``base_1`` ... when taken); reserves ``d<name>``."""
        base = re.sub(r"\W+", "_", base).strip("_") or "v"
        if base[0].isdigit():
            base = "v" + base
        name, k = base, 0
        while name in self.taken or "d" + name in self.taken or keyword.iskeyword(name):
            k += 1
            name = f"{base}_{k}"
        self.taken.update((name, "d" + name))
        return name

    def reserve(self, name: str) -> None:
        """Keep ``name`` out of reach (a module or helper the program uses)."""
        self.taken.add(name)
