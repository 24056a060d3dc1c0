"""Elementwise regions: runs of elementwise steps on one large shape, evaluated in
cache-sized chunks.

A chain such as ``sigmoid(x) * tanh(x) + exp(-x * x)`` and its backward pass is a
few dozen elementwise steps over the same large array. Step by step, each one
streams whole arrays through memory. ``find_regions`` groups such a run into one
``Region`` step; the code generator writes it as a loop over chunks of the
leading axis, in which every intermediate is a chunk-sized scratch array that
stays in cache, and only the values needed after the run are written out in
full. Forward values the backward needs are recomputed per chunk, not stored.

What may join a region: a step of an elementwise primitive (the registry's
``elementwise`` flag), without keywords, whose array operands all have the
region's shape (0-d values and Python numbers are broadcast as they are; arrays
from outside the function are not sliced, so they end it too).
Anything else (a reduction, a reshape, a guard) ends it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._capture import Const, Guard, Step, Var

__all__ = ["CHUNK", "CHUNK_FROM", "Region", "find_regions"]

# Elements per chunk: a handful of float64 scratch arrays of this size stay in cache
# (W4 of benchmarks/run.py was fastest here at 65536, of 16384, 32768 and 65536).
CHUNK = 65536
# Arrays smaller than this are left to the step-by-step code.
CHUNK_FROM = 4 * CHUNK


class Region:
    """Steps run chunk by chunk over ``shape``; ``inputs`` are read as slices,
    ``outputs`` written out in full (they are used after the region)."""

    def __init__(
        self, steps: list[Step], shape: tuple[int, ...], inputs: list[Var], outputs: list[Var]
    ) -> None:
        self.steps, self.shape, self.inputs, self.outputs = steps, shape, inputs, outputs


def _operands(step: Step) -> list[Any]:
    return list(step.args)


def _fits(step: Step, shape: tuple[int, ...] | None) -> tuple[int, ...] | None:
    """The region shape if ``step`` can join a region of ``shape`` (None: any)."""
    out = step.out
    if not step.elementwise or step.kwargs or type(out) is not Var:
        return None
    if out.dtype.kind not in "fc" or int(np.prod(out.shape)) < CHUNK_FROM:
        return None
    if shape is not None and out.shape != shape:
        return None
    for a in _operands(step):
        kind = type(a)
        if kind is Var:
            if a.shape != out.shape and a.shape != ():
                return None
        elif kind is Const:
            value = a.value
            data = getattr(value, "_data", value)
            if np.ndim(data) != 0:  # an array from outside: read whole, not by chunk
                return None
        elif not isinstance(a, (int, float, complex, np.generic)):
            return None
    return out.shape


def find_regions(steps: list[Step | Guard], outputs: list[Any]) -> list[Step | Guard]:
    """``steps`` with each run of two or more chunkable steps replaced by a Region step."""
    used_at: dict[int, list[int]] = {}
    for pos, step in enumerate(steps):
        operands = [step.value] if isinstance(step, Guard) else [step.args, step.kwargs]
        for v in _vars(operands):
            used_at.setdefault(v.index, []).append(pos)
    returned = {v.index for v in _vars(outputs)}
    result: list[Step | Guard] = []
    pos = 0
    while pos < len(steps):
        step = steps[pos]
        shape = _fits(step, None) if isinstance(step, Step) else None
        end = pos + 1
        while shape is not None and end < len(steps):
            nxt = steps[end]
            if not isinstance(nxt, Step) or _fits(nxt, shape) is None:
                break
            end += 1
        if shape is None or end - pos < 2:
            result.append(step)
            pos += 1
            continue
        run: list[Step] = steps[pos:end]  # type: ignore[assignment]
        made = {s.out.index for s in run}
        inputs: dict[int, Var] = {}
        for s in run:
            for v in _vars(s.args):
                if v.index not in made and v.shape == shape:
                    inputs.setdefault(v.index, v)
        outs = [
            s.out
            for s in run
            if s.out.index in returned or any(p >= end for p in used_at.get(s.out.index, ()))
        ]
        region = Region(run, shape, list(inputs.values()), outs)
        small = [v for s in run for v in _vars(s.args) if v.index not in made and v.shape != shape]
        args = tuple(inputs.values()) + tuple({v.index: v for v in small}.values())
        result.append(Step(region, args, {}, tuple(outs), "region", False))
        pos = end
    return result


def _vars(tree: Any) -> list[Var]:
    found: list[Var] = []
    todo = [tree]
    while todo:
        a = todo.pop()
        kind = type(a)
        if kind is Var:
            found.append(a)
        elif kind in (tuple, list):
            todo.extend(a)
        elif kind is dict:
            todo.extend(a.values())
    return found
