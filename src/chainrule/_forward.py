"""Forward mode: each primitive's output tangent, from its registry block.

While a ``jvp`` runs (``_mode.state.forward > 0``), every recorded operation
whose inputs carry tangents computes the output's tangent here:

* an explicit ``jvp(tangents, ans, *args, **kwargs)`` rule when the block has one;
* for ``elementwise`` primitives, the sum of the VJPs applied to the tangents
  (their Jacobian is diagonal, so the VJP rule is also the JVP rule);
* for ``linear`` primitives, the forward applied to the tangents.

Tangent rules run with forward propagation paused (no tangents of tangents).
They see Tensors when the operation is being recorded, so a tangent is itself
differentiable in reverse mode (``grad`` of a ``jvp``); plain arrays otherwise.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _mode, _tensor  # _tensor is partly loaded when this is imported: use at call time

__all__ = ["attach_tangent", "primitive_tangent"]


def primitive_tangent(
    prim: Any, tangents: list, ans: Any, primals: tuple, kwargs: dict | None, inputs: list[bool]
) -> Any:
    """The output tangent of ``prim`` given one tangent (or None) per positional argument.

    ``inputs`` flags the arguments that are data (Tensors, float arrays) rather than
    options (indices, shapes, axes): a linear primitive sees zeros for data without
    a tangent.
    """
    kw = kwargs or {}
    if prim.jvp is not None:
        return prim.jvp(tangents, ans, *primals, **kw)
    if prim.elementwise:
        total = None
        for rule, t in zip(prim.vjps, tangents, strict=False):
            if t is None or rule is None:
                continue
            part = rule(t, ans, *primals, **kw)
            total = part if total is None else total + part
        if total is not None and np.shape(total) != np.shape(ans):
            total = np.broadcast_to(total, np.shape(ans))
        return total
    if prim.linear:
        filled = [
            t if t is not None else (np.zeros(np.shape(p), np.result_type(p)) if data else p)
            for t, p, data in zip(tangents, primals, inputs, strict=True)
        ]
        return _tensor.call(prim, *filled, **kw)
    raise TypeError(f"chainrule has no forward-mode (JVP) rule for '{prim.name}'")


def is_data(a: Any) -> bool:
    return isinstance(a, _tensor.Tensor) or (isinstance(a, np.ndarray) and a.dtype.kind in "fc")


def attach_tangent(result: Any, prim: Any, args: tuple, kwargs: dict | None) -> None:
    """Give ``result`` (the Tensor ``prim`` produced from ``args``) its tangent, if any."""
    Tensor = _tensor.Tensor
    tangents = [a._tangent if isinstance(a, Tensor) else None for a in args]
    if all(t is None for t in tangents):
        return
    if result._data.dtype.kind == "c" or any(
        isinstance(a, Tensor) and a._data.dtype.kind == "c" for a in args
    ):
        prim = _tensor._complex_record(prim)
    record = result.requires_grad
    if record:  # the tangent must itself be differentiable: compute it on Tensors
        primals: tuple = args
        ans: Any = result
    else:
        primals = tuple(a._data if isinstance(a, Tensor) else a for a in args)
        ans = result._data
    inputs = [is_data(a) for a in args]
    if _mode.state.quiet:  # inside a backward sweep: warnings are silenced already
        with _mode.forward_mode(False):
            tangent = primitive_tangent(prim, tangents, ans, primals, kwargs, inputs)
    else:
        with _mode.forward_mode(False), np.errstate(all="ignore"):  # no warnings of our own
            tangent = primitive_tangent(prim, tangents, ans, primals, kwargs, inputs)
    if tangent is None:
        return
    dtype = result._data.dtype
    if tangent.dtype != dtype and dtype.kind in "fc":
        if tangent.dtype.kind == "c" and dtype.kind != "c":
            tangent = np.real(tangent)
        tangent = tangent.astype(dtype)
    if not record and isinstance(tangent, Tensor):
        tangent = tangent._data
    result._tangent = tangent
    if result._node is not None:
        result._node.out_tangent = tangent
