"""The update rules: SGD (with momentum and Nesterov), Adam, and AdamW.

Each follows PyTorch's formulas (``torch.optim``), one leaf at a time on plain
arrays; the bookkeeping (Tensors or pytrees, state, schedules) is in ``_base``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._base import LearningRate, Optimizer

__all__ = ["SGD", "Adam", "AdamW"]


def _check(name: str, what: str, value: Any, low: float, high: float | None = None) -> float:
    value = float(value)
    if not (value >= low and (high is None or value < high)):
        bound = f"in [{low}, {high})" if high is not None else f">= {low}"
        raise ValueError(f"{name}: {what} must be {bound}, got {value}")
    return value


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum, Nesterov and weight decay.

    With gradient ``g`` (plus ``weight_decay * p``) and momentum ``mu``:
    ``buf = mu * buf + g`` (``buf = g`` on the first step), then
    ``p -= lr * (g + mu * buf)`` with ``nesterov=True``, else ``p -= lr * buf``.
    ``lr`` is a number or a schedule ``lr(step)``. Pass ``params`` (Tensors, or a
    module) to update them in place with ``step``; leave it out to use
    ``update`` on pytrees of arrays.

    >>> import numpy as np, chainrule as cr
    >>> w = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> opt = cr.optim.SGD([w], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad(); np.sum(w ** 2).backward(); opt.step()
    >>> w
    tensor([0.46, 0.92], requires_grad=True)
    """

    _state_names = ("momentum_buffer",)

    def __init__(
        self,
        params: Any = None,
        lr: LearningRate = 1e-2,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        self.momentum = _check("SGD", "momentum", momentum, 0.0, 1.0)
        self.weight_decay = _check("SGD", "weight_decay", weight_decay, 0.0)
        if nesterov and self.momentum == 0:
            raise ValueError("SGD: nesterov=True needs momentum > 0")
        self.nesterov = bool(nesterov)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict, lr: float) -> np.ndarray:
        if self.weight_decay:
            g = g + self.weight_decay * p
        if self.momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(g, dtype=p.dtype, copy=True)
            else:
                buf *= self.momentum
                buf += g
            g = g + self.momentum * buf if self.nesterov else buf
        return p - lr * g


class Adam(Optimizer):
    """Adam: per-element steps from bias-corrected moving averages of g and g².

    ``m = b1 m + (1 - b1) g``, ``v = b2 v + (1 - b2) g²`` and
    ``p -= lr * m̂ / (sqrt(v̂) + eps)`` with ``m̂ = m / (1 - b1^t)``,
    ``v̂ = v / (1 - b2^t)``. ``weight_decay`` adds ``weight_decay * p`` to the
    gradient (L2 regularisation, as ``torch.optim.Adam``); for decoupled decay
    use ``AdamW``. Tensor and functional use as in ``SGD``.

    >>> import numpy as np, chainrule as cr
    >>> opt = cr.optim.Adam(lr=0.1)
    >>> opt.update([np.array([1.0, -3.0])], [np.array([0.5, -20.0])])  # first step: lr * sign
    [array([ 0.9, -2.9])]
    """

    _state_names = ("step", "exp_avg", "exp_avg_sq")

    def __init__(
        self,
        params: Any = None,
        lr: LearningRate = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        name = type(self).__name__
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (
            _check(name, "betas[0]", betas[0], 0.0, 1.0),
            _check(name, "betas[1]", betas[1], 0.0, 1.0),
        )
        self.eps = _check(name, "eps", eps, 0.0)
        self.weight_decay = _check(name, "weight_decay", weight_decay, 0.0)

    def _init_state(self, p: np.ndarray) -> dict:
        return {"step": np.array(0), "exp_avg": np.zeros_like(p), "exp_avg_sq": np.zeros_like(p)}

    def _decay(self, p: np.ndarray, g: np.ndarray, lr: float) -> tuple[np.ndarray, np.ndarray]:
        """Adam: L2 regularisation through the gradient."""
        if self.weight_decay:
            g = g + self.weight_decay * p
        return p, g

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict, lr: float) -> np.ndarray:
        p, g = self._decay(p, g, lr)
        b1, b2 = self.betas
        state["step"] = t = np.array(int(state["step"]) + 1)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * np.square(g)
        m_hat = m / (1 - b1 ** int(t))
        v_hat = v / (1 - b2 ** int(t))
        return p - lr * m_hat / (np.sqrt(v_hat) + self.eps)


class AdamW(Adam):
    """Adam with decoupled weight decay: ``p *= 1 - lr * weight_decay`` before the Adam step.

    The decay does not pass through the moving averages, so it shrinks every
    weight at the same relative rate (Loshchilov & Hutter); default ``1e-2``.

    >>> import numpy as np, chainrule as cr
    >>> opt = cr.optim.AdamW(lr=0.1, weight_decay=0.5)
    >>> opt.update([np.array([2.0])], [np.array([0.0])])  # no gradient: decay alone
    [array([1.9])]
    """

    def __init__(
        self,
        params: Any = None,
        lr: LearningRate = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)

    def _decay(self, p: np.ndarray, g: np.ndarray, lr: float) -> tuple[np.ndarray, np.ndarray]:
        return p * (1 - lr * self.weight_decay), g
