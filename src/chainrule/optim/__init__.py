"""Optimizers for training loops: SGD, Adam, AdamW, and learning-rate schedules.

Two ways to use one. With Tensors (PyTorch style), the optimizer updates them
in place from their ``.grad``; with pytrees of arrays (HIPS autograd / optax
style), ``params = opt.update(params, grads)`` returns new arrays and the
optimizer keeps the momenta.

>>> import numpy as np, chainrule as cr
>>> w = cr.tensor([3.0, -2.0], requires_grad=True)
>>> opt = cr.optim.Adam([w], lr=0.1)
>>> for _ in range(200):
...     opt.zero_grad()
...     np.sum((w - 1.0) ** 2).backward()
...     opt.step()
>>> bool(np.abs(w.data - 1.0).max() < 1e-2)
True
"""

from ._base import Optimizer
from ._rules import SGD, Adam, AdamW
from .schedules import CosineDecay, StepDecay

__all__ = ["SGD", "Adam", "AdamW", "CosineDecay", "Optimizer", "StepDecay"]
