"""Just enough modules and losses to train a network: Module, Linear, Sequential,
Tanh, ReLU, and stable cross_entropy, binary_cross_entropy_with_logits and mse_loss.

>>> import numpy as np, chainrule as cr
>>> rng = np.random.default_rng(0)
>>> model = cr.nn.Sequential(cr.nn.Linear(2, 8, rng), cr.nn.Tanh(), cr.nn.Linear(8, 2, rng))
>>> x, labels = rng.standard_normal((32, 2)), rng.integers(0, 2, 32)
>>> opt = cr.optim.Adam(model.parameters(), lr=0.05)
>>> first = float(cr.nn.cross_entropy(model(x), labels))
>>> for _ in range(50):
...     opt.zero_grad()
...     loss = cr.nn.cross_entropy(model(x), labels)
...     loss.backward()
...     opt.step()
>>> float(loss) < first
True
"""

from ._module import Linear, Module, ReLU, Sequential, Tanh
from .losses import binary_cross_entropy_with_logits, cross_entropy, mse_loss

__all__ = [
    "Linear",
    "Module",
    "ReLU",
    "Sequential",
    "Tanh",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "mse_loss",
]
