"""What every optimizer shares: its two ways of being used, its state and its schedule.

An optimizer made with parameters (Tensors) updates them in place from their
``.grad`` on ``Optimizer.step``. One made without parameters is
functional: ``Optimizer.update`` takes a pytree of arrays and a pytree of
gradients and returns the updated pytree, keeping the per-leaf state (momenta)
inside the optimizer, keyed by the pytree's structure. The update rules
themselves (subclasses) see one leaf at a time, as plain arrays.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .._pytree import PyTreeDef, tree_flatten, tree_unflatten
from .._tensor import Tensor

__all__ = ["Optimizer"]

LearningRate = float | Callable[[int], float]

_KEY = re.compile(r"state\.(\d+)\.(\d+)\.(\w+)\Z")


class Optimizer:
    """Base class: subclasses define ``_update(p, g, state, lr) -> new p`` for one leaf.

    Use one of ``chainrule.optim.SGD``, ``Adam`` or ``AdamW``.

    >>> import numpy as np, chainrule as cr
    >>> opt = cr.optim.SGD(lr=0.1)
    >>> opt.update({"w": np.array([1.0])}, {"w": np.array([2.0])})
    {'w': array([0.8])}
    """

    # names a state entry may have (checked by load_state_dict)
    _state_names: tuple[str, ...] = ()

    def __init__(self, params: Any, lr: LearningRate) -> None:
        name = type(self).__name__
        if not (callable(lr) or (_is_number(lr) and lr >= 0)):
            raise ValueError(
                f"{name}: lr must be a non-negative number or a schedule lr(step), got {lr!r}"
            )
        self.lr = lr
        self.step_count = 0  # steps taken: the step a schedule sees is this number
        self._tensors: list[Tensor] | None = None if params is None else _tensors(params, name)
        # per structure: one state dict (or None before its first gradient) per leaf
        self._slots: dict[PyTreeDef | None, list[dict | None]] = {}
        self._shapes: dict[PyTreeDef | None, list[tuple]] = {}  # the leaves' shapes
        self._pending: dict[int, dict[int, dict]] = {}  # loaded states awaiting a structure
        if self._tensors is not None:
            self._slots[None] = [None] * len(self._tensors)

    # ------------------------------------------------------------ the rule
    def _update(self, p: np.ndarray, g: np.ndarray, state: dict, lr: float) -> np.ndarray:
        raise NotImplementedError

    def _init_state(self, p: np.ndarray) -> dict:
        return {}

    # ---------------------------------------------------------- schedule
    @property
    def current_lr(self) -> float:
        """The learning rate the next step uses (a schedule evaluated at ``step_count``).

        >>> import chainrule as cr
        >>> cr.optim.Adam(lr=lambda step: 0.1 / (1 + step)).current_lr
        0.1
        """
        lr = self.lr(self.step_count) if callable(self.lr) else self.lr
        lr = float(lr)
        if not math.isfinite(lr) or lr < 0:
            raise ValueError(
                f"{type(self).__name__}: the schedule gave lr={lr} at step {self.step_count}; "
                "it must be finite and non-negative"
            )
        return lr

    # ------------------------------------------------------- Tensor mode
    def step(self) -> None:
        """Update each parameter in place from its ``.grad`` (those without one are skipped).

        The write goes through ``Tensor.data``, so it is counted: a backward
        pass through a graph built before the step raises instead of using the
        old values.

        >>> import numpy as np, chainrule as cr
        >>> w = cr.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = cr.optim.SGD([w], lr=0.25)
        >>> np.sum(w ** 2).backward()
        >>> opt.step(); w
        tensor([ 0.5, -1. ], requires_grad=True)
        """
        if self._tensors is None:
            raise TypeError(
                f"{type(self).__name__}.step(): this optimizer was made without parameters; "
                "call params = opt.update(params, grads), or make it with the Tensors to update"
            )
        lr = self.current_lr
        states = self._slots[None]
        for i, t in enumerate(self._tensors):
            if t.grad is None:
                continue  # as PyTorch: a parameter that got no gradient is left alone
            g = np.asarray(t.grad._data if isinstance(t.grad, Tensor) else t.grad)
            if g.shape != t.shape:
                raise ValueError(
                    f"{type(self).__name__}.step(): parameter {i} has shape {t.shape} but its "
                    f".grad has shape {g.shape}"
                )
            p = np.asarray(t.data)  # a plain view: the rule computes on plain arrays
            state = states[i]
            if state is None:
                state = states[i] = self._init_state(p)
            t.data[...] = self._update(p, g, state, lr)  # counted by t's version
        self.step_count += 1

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to ``None`` (nothing to do when functional).

        >>> import chainrule as cr
        >>> w = cr.tensor([1.0], requires_grad=True)
        >>> opt = cr.optim.Adam([w]); (w * 2).sum().backward(); opt.zero_grad()
        >>> w.grad is None
        True
        """
        for t in self._tensors or ():
            t.grad = None

    # --------------------------------------------------- functional mode
    def update(self, params: Any, grads: Any) -> Any:
        """One step on a pytree of arrays: returns the new pytree (``params`` is not changed).

        ``grads`` has the structure of ``params``. The optimizer keeps the
        per-leaf state (momenta) for each distinct structure it is given, so
        one optimizer serves a training loop written in the style of HIPS
        autograd or optax. Each call is one step of the learning-rate schedule.

        >>> import numpy as np, chainrule as cr
        >>> opt = cr.optim.Adam(lr=0.1)
        >>> params = {"w": np.array([1.0, -1.0])}
        >>> for _ in range(3):
        ...     params = opt.update(params, cr.grad(lambda p: np.sum(p["w"] ** 2))(params))
        >>> params["w"].round(6)
        array([ 0.701586, -0.701586])
        """
        name = type(self).__name__
        if self._tensors is not None:
            raise TypeError(
                f"{name}.update(): this optimizer updates the Tensors it was made with; "
                "call opt.step() after backward(), or make it without parameters"
            )
        leaves, treedef = tree_flatten(params)
        g_leaves, g_def = tree_flatten(grads)
        if g_def != treedef:
            raise ValueError(
                f"{name}.update(): grads have structure {g_def} but params have {treedef}; "
                "pass gradients shaped like the parameters (cr.grad of a function of params)"
            )
        states = self._slot_for(treedef, leaves)
        lr = self.current_lr
        new = []
        for i, (p, g) in enumerate(zip(leaves, g_leaves, strict=True)):
            arr = _float_leaf(p, f"{name}.update(): params leaf {i}")
            g = np.asarray(g._data if isinstance(g, Tensor) else g)
            if g.shape != arr.shape:
                raise ValueError(
                    f"{name}.update(): params leaf {i} has shape {arr.shape} but its gradient "
                    f"has shape {g.shape}"
                )
            if states[i] is None:
                states[i] = self._init_state(arr)
            out = self._update(arr, g, states[i], lr)  # type: ignore[arg-type]
            new.append(float(out) if isinstance(p, float) else out)
        self.step_count += 1
        return tree_unflatten(treedef, new)

    def _slot_for(self, treedef: PyTreeDef, leaves: list) -> list[dict | None]:
        states = self._slots.get(treedef)
        if states is None:
            states = self._slots[treedef] = [None] * len(leaves)
            self._shapes[treedef] = [np.shape(_data(leaf)) for leaf in leaves]
            index = len(self._slots) - 1
            loaded = self._pending.pop(index, None)
            if loaded is not None:  # a state_dict loaded before this structure was seen
                self._fill(states, loaded, self._shapes[treedef], index)
        return states

    # ------------------------------------------------------------ state
    def state_dict(self) -> dict[str, np.ndarray]:
        """The optimizer's state as a flat dict of arrays (a copy), ready for ``np.savez``.

        Keys are ``"step_count"`` and ``"state.<structure>.<leaf>.<name>"``;
        hyperparameters are not included (they come from the constructor).

        >>> import numpy as np, chainrule as cr
        >>> opt = cr.optim.SGD(lr=0.1, momentum=0.9)
        >>> _ = opt.update([np.ones(2)], [np.ones(2)])
        >>> sorted(opt.state_dict())
        ['state.0.0.momentum_buffer', 'step_count']
        """
        out = {"step_count": np.array(self.step_count)}
        for j, states in enumerate(self._slots.values()):
            for i, state in enumerate(states):
                for key, value in (state or {}).items():
                    out[f"state.{j}.{i}.{key}"] = np.array(value, copy=True)
        for j, loaded in self._pending.items():
            for i, state in loaded.items():
                for key, value in state.items():
                    out[f"state.{j}.{i}.{key}"] = np.array(value, copy=True)
        return out

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore a ``state_dict`` (a dict, or what ``np.load`` gives for a ``.npz``).

        The optimizer must update the same parameters (shapes are checked). A
        functional optimizer may load before its first ``update``: the
        state is matched to the structures in the order they are first seen.

        >>> import numpy as np, chainrule as cr
        >>> opt = cr.optim.Adam(lr=0.1)
        >>> p = opt.update([np.ones(2)], [np.ones(2)])
        >>> again = cr.optim.Adam(lr=0.1)
        >>> again.load_state_dict(opt.state_dict())
        >>> again.update(p, [np.ones(2)])[0] == opt.update(p, [np.ones(2)])[0]
        array([ True,  True])
        """
        name = type(self).__name__
        if not hasattr(state_dict, "keys"):
            raise TypeError(
                f"{name}.load_state_dict(): expected a dict from state_dict(), "
                f"got {type(state_dict).__name__}"
            )
        if "step_count" not in state_dict:
            raise ValueError(
                f"{name}.load_state_dict(): no 'step_count' entry; pass what state_dict() returned"
            )
        by_slot: dict[int, dict[int, dict]] = {}
        for key in state_dict:
            if key == "step_count":
                continue
            match = _KEY.match(key)
            if match is None or match.group(3) not in self._state_names:
                raise ValueError(
                    f"{name}.load_state_dict(): unexpected key {key!r}; {name} keeps "
                    f"{', '.join(self._state_names) or 'no state'} per parameter"
                )
            j, i = int(match.group(1)), int(match.group(2))
            leaf = by_slot.setdefault(j, {}).setdefault(i, {})
            leaf[match.group(3)] = np.array(state_dict[key], copy=True)
        slots = list(self._slots)
        if self._tensors is not None and any(j > 0 for j in by_slot):
            raise ValueError(
                f"{name}.load_state_dict(): the state holds several parameter structures (from "
                "a functional optimizer); this one updates a single list of Tensors"
            )
        pending = {}
        for j, loaded in by_slot.items():
            if j < len(slots):
                key_def = slots[j]
                shapes = (
                    [t.shape for t in self._tensors]
                    if key_def is None and self._tensors is not None
                    else self._shapes[key_def]
                )
                fresh: list[dict | None] = [None] * len(shapes)
                self._fill(fresh, loaded, shapes, j)
                self._slots[key_def] = fresh
            else:
                pending[j] = loaded
        self._pending = pending
        self.step_count = int(np.asarray(state_dict["step_count"]))

    def _fill(self, states: list, loaded: dict[int, dict], shapes: list, slot: int) -> None:
        """Put loaded per-leaf states into ``states``, checking them against the leaves."""
        name = type(self).__name__
        for i, state in loaded.items():
            if i >= len(shapes):
                raise ValueError(
                    f"{name}.load_state_dict(): the state has an entry for parameter {i} of "
                    f"structure {slot}, which has only {len(shapes)} parameters"
                )
            for key, value in state.items():
                if key != "step" and value.shape != tuple(shapes[i]):
                    raise ValueError(
                        f"{name}.load_state_dict(): {key} of parameter {i} has shape "
                        f"{value.shape}, the parameter has shape {tuple(shapes[i])}"
                    )
            states[i] = state

    def __repr__(self) -> str:
        mode = "functional" if self._tensors is None else f"{len(self._tensors)} tensors"
        return f"{type(self).__name__}(lr={self.lr!r}, {mode}, step_count={self.step_count})"


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)


def _data(x: Any) -> Any:
    return x._data if isinstance(x, Tensor) else x


def _float_leaf(p: Any, where: str) -> np.ndarray:
    if isinstance(p, Tensor):
        raise TypeError(
            f"{where} is a Tensor: a functional optimizer updates arrays; to update Tensors "
            "in place, make the optimizer with them (opt = Adam([w, b])) and call opt.step()"
        )
    arr = np.asarray(p)
    if arr.dtype.kind != "f":
        raise TypeError(f"{where} has dtype {arr.dtype}; parameters must be floating point")
    return arr


def _tensors(params: Any, name: str) -> list[Tensor]:
    """The Tensors to update: a list (or any pytree) of them, or a module's parameters()."""
    if callable(getattr(params, "parameters", None)):
        params = list(params.parameters())
    leaves, _ = tree_flatten(params)
    if not leaves:
        raise ValueError(f"{name}: got no parameters to optimize")
    seen: set[int] = set()
    for i, t in enumerate(leaves):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"{name}: parameter {i} is a {type(t).__name__}, not a Tensor; pass Tensors "
                f"made with requires_grad=True, or make a functional {name}(lr=...) and call "
                "opt.update(params, grads) on arrays"
            )
        if not (t.requires_grad and t.is_leaf):
            raise ValueError(
                f"{name}: parameter {i} (shape {t.shape}) must be a leaf Tensor with "
                "requires_grad=True (cr.tensor(x, requires_grad=True))"
            )
        if id(t) in seen:
            raise ValueError(f"{name}: parameter {i} appears twice; pass each Tensor once")
        seen.add(id(t))
    return leaves
