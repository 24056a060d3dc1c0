"""Modules: objects whose parameters (Tensors) are found from their attributes.

Not a framework: just what a training script needs to hold its weights, list
them for an optimizer, and save and load them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from .._tensor import Tensor
from ..activations import relu, tanh

__all__ = ["Linear", "Module", "ReLU", "Sequential", "Tanh"]


class Module:
    """Base class: subclasses set Tensors and sub-modules as attributes and define ``forward``.

    Parameters are the attributes that are Tensors with ``requires_grad=True``,
    found recursively through sub-modules and lists or tuples of them, in
    attribute order; their names are dotted paths (``"layers.0.weight"``).
    Calling the module calls ``forward``.

    >>> import numpy as np, chainrule as cr
    >>> class Affine(cr.nn.Module):
    ...     def __init__(self):
    ...         self.scale = cr.tensor(np.ones(2), requires_grad=True)
    ...         self.shift = cr.tensor(np.zeros(2), requires_grad=True)
    ...     def forward(self, x):
    ...         return x * self.scale + self.shift
    >>> model = Affine()
    >>> [name for name, _ in model.named_parameters()]
    ['scale', 'shift']
    >>> model(np.array([3.0, 4.0]))
    tensor([3., 4.], grad_fn=<add>)
    """

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward(self, ...)")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------ parameters
    def named_parameters(self) -> Iterator[tuple[str, Tensor]]:
        """``(name, tensor)`` for each parameter, each shared tensor once.

        >>> import chainrule as cr
        >>> [n for n, _ in cr.nn.Sequential(cr.nn.Linear(2, 3, rng=0)).named_parameters()]
        ['layers.0.weight', 'layers.0.bias']
        """
        seen: set[int] = set()
        for name, value in vars(self).items():
            yield from _named(value, name, seen, {id(self)})

    def parameters(self) -> list[Tensor]:
        """The parameters, as a list (what an optimizer takes).

        >>> import chainrule as cr
        >>> [p.shape for p in cr.nn.Linear(2, 3, rng=0).parameters()]
        [(2, 3), (3,)]
        """
        return [t for _, t in self.named_parameters()]

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to ``None``.

        >>> import numpy as np, chainrule as cr
        >>> layer = cr.nn.Linear(2, 1, rng=0)
        >>> np.sum(layer(np.ones((1, 2)))).backward(); layer.zero_grad()
        >>> layer.weight.grad is None
        True
        """
        for t in self.parameters():
            t.grad = None

    # ----------------------------------------------------------------- state
    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter's values, keyed by name (ready for ``np.savez``).

        >>> import chainrule as cr
        >>> sorted(cr.nn.Linear(2, 3, rng=0).state_dict())
        ['bias', 'weight']
        """
        return {name: np.array(t.data, copy=True) for name, t in self.named_parameters()}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Write saved values into the parameters (in place: optimizers keep working).

        The keys must be exactly the parameter names, with matching shapes.

        >>> import chainrule as cr
        >>> a, b = cr.nn.Linear(2, 3, rng=0), cr.nn.Linear(2, 3, rng=1)
        >>> b.load_state_dict(a.state_dict())
        >>> bool((a.weight.data == b.weight.data).all())
        True
        """
        name = type(self).__name__
        if not hasattr(state_dict, "keys"):
            raise TypeError(
                f"{name}.load_state_dict(): expected a dict of arrays, "
                f"got {type(state_dict).__name__}"
            )
        params = dict(self.named_parameters())
        missing = sorted(set(params) - set(state_dict))
        unexpected = sorted(set(state_dict) - set(params))
        if missing or unexpected:
            raise KeyError(
                f"{name}.load_state_dict(): missing keys {missing}, unexpected keys {unexpected}; "
                "the state must come from a module of the same architecture"
            )
        values = {}
        for key, t in params.items():
            value = np.asarray(state_dict[key])
            if value.shape != t.shape:
                raise ValueError(
                    f"{name}.load_state_dict(): {key!r} has shape {value.shape}, the parameter "
                    f"has shape {t.shape}"
                )
            values[key] = value
        for key, t in params.items():  # all checked first: a failed load changes nothing
            t.data[...] = values[key]

    def save(self, path: str | os.PathLike) -> None:
        """Save the parameters to ``path`` with ``np.savez`` (NumPy adds ``.npz`` if missing).

        >>> import os, tempfile, chainrule as cr
        >>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
        >>> cr.nn.Linear(2, 3, rng=0).save(path); os.path.exists(path)
        True
        """
        arrays: dict[str, Any] = self.state_dict()
        np.savez(path, **arrays)

    def load(self, path: str | os.PathLike) -> None:
        """Load parameters saved by ``save`` into this module.

        >>> import os, tempfile, chainrule as cr
        >>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
        >>> a, b = cr.nn.Linear(2, 3, rng=0), cr.nn.Linear(2, 3, rng=1)
        >>> a.save(path); b.load(path)
        >>> bool((a.weight.data == b.weight.data).all())
        True
        """
        with np.load(path) as saved:
            self.load_state_dict({k: saved[k] for k in saved.files})

    def __repr__(self) -> str:
        inner = [
            f"  {n}: {type(m).__name__}" for n, m in vars(self).items() if isinstance(m, Module)
        ]
        return f"{type(self).__name__}(" + ("\n" + "\n".join(inner) + "\n" if inner else "") + ")"


def _named(value: Any, name: str, seen: set[int], path: set[int]) -> Iterator[tuple[str, Tensor]]:
    if isinstance(value, Tensor):
        if value.requires_grad and id(value) not in seen:
            seen.add(id(value))
            yield name, value
    elif isinstance(value, Module):
        if id(value) in path:
            return  # a module referring back to an ancestor: visited already
        for sub, item in vars(value).items():
            yield from _named(item, f"{name}.{sub}", seen, path | {id(value)})
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _named(item, f"{name}.{i}", seen, path)


def _generator(rng: Any) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise TypeError(
        f"rng must be a np.random.Generator or an int seed, got {type(rng).__name__}; "
        "e.g. rng=np.random.default_rng(0)"
    )


class Linear(Module):
    """``x @ weight + bias``, with ``weight`` of shape ``(in_features, out_features)``.

    ``init="glorot"`` (default, for tanh/sigmoid layers) draws the weight
    uniformly in ±sqrt(6 / (in + out)); ``init="he"`` (for ReLU layers) draws it
    from a normal of std sqrt(2 / in). The bias starts at zero. ``rng`` is a
    ``np.random.Generator`` or an int seed (pass one: ``None`` is unseeded).

    >>> import numpy as np, chainrule as cr
    >>> layer = cr.nn.Linear(3, 2, rng=np.random.default_rng(0))
    >>> layer(np.ones((5, 3))).shape
    (5, 2)
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        rng: Any = None,
        *,
        bias: bool = True,
        init: str = "glorot",
    ) -> None:
        for what, n in (("in_features", in_features), ("out_features", out_features)):
            if not (isinstance(n, (int, np.integer)) and n >= 1):
                raise ValueError(f"Linear: {what} must be a positive int, got {n!r}")
        gen = _generator(rng)
        if init == "glorot":
            limit = np.sqrt(6.0 / (in_features + out_features))
            w = gen.uniform(-limit, limit, (in_features, out_features))
        elif init == "he":
            w = gen.standard_normal((in_features, out_features)) * np.sqrt(2.0 / in_features)
        else:
            raise ValueError(f"Linear: init must be 'glorot' or 'he', got {init!r}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.weight = Tensor(w, requires_grad=True)
        self.bias = Tensor(np.zeros(out_features), requires_grad=True) if bias else None

    def forward(self, x: Any) -> Any:
        if np.shape(x)[-1:] != (self.in_features,):
            raise ValueError(
                f"Linear({self.in_features}, {self.out_features}): the input's last axis must "
                f"have {self.in_features} features, got shape {np.shape(x)}"
            )
        out = x @ self.weight
        return out if self.bias is None else out + self.bias

    def __repr__(self) -> str:
        return f"Linear({self.in_features}, {self.out_features}, bias={self.bias is not None})"


class Sequential(Module):
    """Modules applied one after the other: ``Sequential(a, b)(x) == b(a(x))``.

    >>> import numpy as np, chainrule as cr
    >>> rng = np.random.default_rng(0)
    >>> mlp = cr.nn.Sequential(cr.nn.Linear(4, 8, rng), cr.nn.Tanh(), cr.nn.Linear(8, 3, rng))
    >>> mlp(np.ones((2, 4))).shape, len(mlp.parameters())
    ((2, 3), 4)
    """

    def __init__(self, *layers: Module) -> None:
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(
                    f"Sequential: layer {i} is a {type(layer).__name__}, not a cr.nn.Module"
                )
        self.layers = list(layers)

    def forward(self, x: Any) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, index: int) -> Module:
        return self.layers[index]

    def __repr__(self) -> str:
        return "Sequential(" + ", ".join(repr(m) for m in self.layers) + ")"


class Tanh(Module):
    """The ``tanh`` activation as a module.

    >>> import numpy as np, chainrule as cr
    >>> cr.nn.Tanh()(np.array([0.0, 100.0]))
    array([0., 1.])
    """

    def forward(self, x: Any) -> Any:
        return tanh(x)

    def __repr__(self) -> str:
        return "Tanh()"


class ReLU(Module):
    """The ``max(x, 0)`` activation as a module.

    >>> import numpy as np, chainrule as cr
    >>> cr.nn.ReLU()(np.array([-1.0, 2.0]))
    array([0., 2.])
    """

    def forward(self, x: Any) -> Any:
        return relu(x)

    def __repr__(self) -> str:
        return "ReLU()"
