"""``cr.compile``: trace a function once per kind of argument, then run the
straight-line NumPy program the trace became.

A call looks its arguments up by key (shapes, dtypes, pytree structure,
static arguments, grad mode). A new key traces the function (``_capture``),
cleans the trace up (``_optimize``) and writes it out as Python
(``_codegen``). Later calls with that key run the program. The program
checks its guards as it goes; one that fails (a branch on a traced value went
the other way) falls back to eager for that call and retraces. After
``max_retraces`` the function stays eager and warns once.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import _mode
from .._pytree import tree_flatten, tree_unflatten
from .._tensor import Tensor
from ._capture import capture
from ._codegen import GuardFailed, Mismatch, Program, generate
from ._optimize import optimize

__all__ = ["CacheInfo", "Compiled", "compile"]

_ndarray = np.ndarray
_state = _mode.state


@dataclass
class CacheInfo:
    """What a compiled function's cache holds: programs, hits, and why it missed."""

    entries: int
    hits: int
    misses: int
    reasons: list[str] = field(default_factory=list)


def _describe(leaf: Any) -> str:
    if isinstance(leaf, _ndarray):
        return f"{leaf.dtype}{list(leaf.shape)}"
    return f"{type(leaf).__name__} {leaf!r}"


class _Entry:
    """One program for one key, and the guard reasons it was traced under."""

    def __init__(self, program: Program, fast: bool) -> None:
        self.program, self.fast = program, fast


class Compiled:
    """The callable ``cr.compile`` returns (see ``compile``)."""

    def __init__(self, fn: Callable[..., Any], static_argnums: Sequence[int], max_retraces: int):
        self.fn = fn
        self.static = tuple(sorted(static_argnums))
        self.max_retraces = max_retraces
        self._entries: dict[Any, list[_Entry]] = {}
        self._fast: Any = None  # the last program run, called first with the arguments
        self._fast_n = -1
        self._fast_mode = True  # the grad mode the fast program was traced under
        self._hits = self._misses = self._traces = 0
        self._reasons: list[str] = []
        self._last: tuple[list[str], Any] | None = None  # the last key's leaves, described
        self._eager = False
        self._name = _function_name(fn)
        functools.update_wrapper(self, fn)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ calls
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        fast = self._fast
        if (
            fast is not None
            and not kwargs
            and len(args) == self._fast_n
            and _state.enabled is self._fast_mode
        ):
            try:
                result = fast(*args)
            except Mismatch:
                pass
            else:
                self._hits += 1
                return result
        return self._call(args, kwargs)

    def _call(self, args: tuple, kwargs: dict) -> Any:
        if self._eager or kwargs or self._needs_eager(args):
            return self.fn(*args, **kwargs)
        key, leaves, rebuild, described = self._key(args)
        entries = self._entries.get(key)
        reason = None
        if entries:
            traced = [x for x in leaves if isinstance(x, _ndarray)]
            for entry in reversed(entries):
                try:
                    result = entry.program.function(*traced)
                except GuardFailed as failed:
                    reason = entry.program.guards[failed.args[0]]
                    continue
                self._hits += 1
                self._remember(entry, len(args))
                return result
        else:
            reason = self._new_key_reason(described)
        self._misses += 1
        self._reasons.append(reason or "first call")
        if self._traces > self.max_retraces:
            return self._give_up(reason, args)
        return self._trace(key, leaves, rebuild, described, len(args))

    def _needs_eager(self, args: tuple) -> bool:
        """Tensors that record (a compiled function inside a transform), or a trace
        already running: then this function's operations belong to the outer one."""
        state = _mode.state
        if state.tracer is not None:
            return True
        return any(type(a) is Tensor and (a.requires_grad or a._tangent is not None) for a in args)

    def _key(self, args: tuple) -> tuple[Any, list, Callable[[list], tuple], list[str]]:
        parts: list[Any] = [_mode.state.enabled]
        leaves: list[Any] = []
        described: list[str] = []
        names = self._arg_names(len(args))
        layout: list[tuple[Any, ...]] = []
        for i, a in enumerate(args):
            if i in self.static:
                try:
                    hash(a)
                except TypeError:
                    raise TypeError(
                        f"cr.compile({self._name}): static argument {i} ({names[i]}) must be "
                        f"hashable, got {type(a).__name__}; pass a tuple instead of a list, or "
                        "leave it out of static_argnums"
                    ) from None
                parts.append(("static", i, type(a), a))
                described.append(f"{names[i]}: {a!r}")
                layout.append(("static", a))
                continue
            flat, tree = tree_flatten(a)
            row = []
            for k, leaf in enumerate(flat):
                leaf = _as_leaf(leaf)
                label = names[i] if len(flat) == 1 and tree.kind is None else f"{names[i]}[{k}]"
                if isinstance(leaf, _ndarray):
                    parts.append((leaf.shape, leaf.dtype.str))
                else:  # a Python number or another object: part of the key by value
                    parts.append((type(leaf), leaf))
                described.append(f"{label}: {_describe(leaf)}")
                row.append(leaf)
            leaves.extend(row)
            parts.append(tree)
            layout.append(("tree", tree, len(row)))

        def rebuild(values: list) -> tuple:
            out, k = [], 0
            for item in layout:
                if item[0] == "static":
                    out.append(item[1])
                else:
                    out.append(tree_unflatten(item[1], values[k : k + item[2]]))
                    k += item[2]
            return tuple(out)

        try:
            key = tuple(parts)
            hash(key)
        except TypeError:
            key = tuple(id(p) if not _hashable(p) else p for p in parts)
        return key, leaves, rebuild, described

    # ---------------------------------------------------------------- tracing
    def _trace(self, key: Any, leaves: list, rebuild: Any, described: list[str], n: int) -> Any:
        self._traces += 1
        traced = [x for x in leaves if isinstance(x, _ndarray)]
        cap, _ = capture(self.fn, leaves, rebuild, f"cr.compile({self._name})")
        plan = optimize(cap)
        params = [f"a{i}" for i in range(len(traced))]
        program = generate(plan, self._name, params, _arg_checks(params, traced))
        # The program takes the arguments themselves when each is one array or number.
        entry = _Entry(program, len(traced) == n == len(leaves) and not self.static)
        self._entries.setdefault(key, []).append(entry)
        self._last = (described, key)
        self._remember(entry, n)
        return program.function(*traced)

    def _remember(self, entry: _Entry, n: int) -> None:
        if entry.fast:
            self._fast, self._fast_n = entry.program.function, n
            self._fast_mode = _state.enabled
        else:
            self._fast = None

    def _new_key_reason(self, described: list[str]) -> str | None:
        if self._last is None:
            return None
        before = self._last[0]
        if len(before) != len(described):
            return f"now {len(described)} array arguments, before {len(before)}"
        changed = [
            f"{now.split(': ', 1)[0]}: now {now.split(': ', 1)[1]}, before {old.split(': ', 1)[1]}"
            for now, old in zip(described, before, strict=True)
            if now != old
        ]
        return "; ".join(changed) if changed else "grad mode or structure changed"

    def _give_up(self, reason: str | None, args: tuple) -> Any:
        self._eager = True
        self._fast = None
        warnings.warn(
            f"cr.compile({self._name}): traced {self._traces} times, more than "
            f"max_retraces={self.max_retraces}; it runs eagerly from now on. Last reason: "
            f"{reason}",
            RuntimeWarning,
            stacklevel=3,
        )
        return self.fn(*args)

    # ------------------------------------------------------------ inspection
    def source(self, *args: Any) -> str:
        """The exact Python source that runs for these arguments.

        >>> import numpy as np, chainrule as cr
        >>> f = cr.compile(lambda x: np.sum(np.sin(x)))
        >>> print(f.source(np.zeros(3)).splitlines()[-3])
                a0 = sum(a0, axis=None, keepdims=False)
        """
        key, leaves, rebuild, described = self._key(args)
        entries = self._entries.get(key)
        if not entries:
            self._misses += 1
            self._reasons.append(self._new_key_reason(described) or "first call")
            self._trace(key, leaves, rebuild, described, len(args))
            entries = self._entries[key]
        return entries[-1].program.source

    def cache_info(self) -> CacheInfo:
        """Programs held, hits, misses, and each miss's reason.

        >>> import numpy as np, chainrule as cr
        >>> f = cr.compile(lambda x: np.sum(x * x))
        >>> _ = f(np.ones(3)); _ = f(np.ones(3)); _ = f(np.ones(4))
        >>> info = f.cache_info()
        >>> info.entries, info.hits, info.misses
        (2, 1, 2)
        >>> info.reasons[-1]
        'x: now float64[4], before float64[3]'
        """
        entries = sum(len(v) for v in self._entries.values())
        return CacheInfo(entries, self._hits, self._misses, list(self._reasons))

    def explain(self, *args: Any, argnums: int | tuple[int, ...] = 0) -> Any:
        """``cr.explain`` of the compiled function at these arguments."""
        from .explain import explain

        return explain(self.fn, *args, argnums=argnums)

    # ---------------------------------------------------------------- naming
    def _arg_names(self, n: int) -> list[str]:
        names: list[str] = []
        target = inspect.unwrap(self.fn) if callable(self.fn) else self.fn
        try:
            params = list(inspect.signature(target).parameters.values())
            names = [
                p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            ]
        except (TypeError, ValueError):
            pass
        return [names[i] if i < len(names) else f"arg{i}" for i in range(n)]


def _hashable(x: Any) -> bool:
    try:
        hash(x)
    except TypeError:
        return False
    return True


def _as_leaf(leaf: Any) -> Any:
    """A Tensor without grad is its data; a float or a NumPy scalar a 0-d array (ints,
    bools and other objects stay static: part of the key by value)."""
    kind = type(leaf)
    if kind is _ndarray:
        return leaf
    if kind is Tensor:
        return np.asarray(leaf._data)
    if kind is float or (isinstance(leaf, np.generic) and leaf.dtype.kind in "fciub"):
        return np.asarray(leaf)
    return leaf


def _function_name(fn: Any) -> str:
    name = getattr(inspect.unwrap(fn), "__name__", None) or type(fn).__name__
    return name if name.isidentifier() else "compiled"


def _arg_checks(params: list[str], traced: list[np.ndarray]) -> list[str]:
    """Lines that make the program refuse arguments of another type, shape or dtype
    (a dtype is compared by identity first: NumPy's own dtypes are singletons)."""
    lines = []
    for p, a in zip(params, traced, strict=True):
        d = f"_dt_{a.dtype.name}"
        test = (
            f"type({p}) is not ndarray or {p}.shape != {a.shape!r} "
            f"or ({p}.dtype is not {d} and {p}.dtype != {d})"
        )
        if a.shape == () and a.dtype == np.float64:  # a Python float stands for one
            lines += [f"if type({p}) is float:", f"    {p} = _to_float64({p})", f"elif {test}:"]
        else:
            lines.append(f"if {test}:")
        lines.append("    raise Mismatch")
    return lines


def compile(
    fn: Callable[..., Any] | None = None, *, static_argnums: Any = (), max_retraces: int = 8
) -> Any:
    """Trace ``fn`` once per kind of argument and run it as straight-line NumPy code.

    Usable as ``cr.compile(fn)`` or as a decorator (``@cr.compile`` or
    ``@cr.compile(static_argnums=1)``). It usually wraps a transform:
    ``cr.compile(cr.value_and_grad(loss))``. See the guide's "Compiling" section.

    >>> import numpy as np, chainrule as cr
    >>> step = cr.compile(cr.value_and_grad(lambda w: np.sum(np.tanh(w) ** 2)))
    >>> value, g = step(np.array([0.5, -1.0]))
    >>> round(float(value), 6), g.round(6)
    (0.793578, array([ 0.726862, -0.6397  ]))
    """
    if isinstance(static_argnums, int):
        static_argnums = (static_argnums,)
    statics = tuple(static_argnums)
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in statics):
        raise TypeError(f"cr.compile: static_argnums must be ints, got {static_argnums!r}")
    if not isinstance(max_retraces, int) or max_retraces < 0:
        raise ValueError(f"cr.compile: max_retraces must be an int >= 0, got {max_retraces!r}")
    if fn is None:
        return lambda f: compile(f, static_argnums=statics, max_retraces=max_retraces)
    if not callable(fn):
        raise TypeError(f"cr.compile: expected a function, got {type(fn).__name__}")
    return Compiled(fn, statics, max_retraces)
