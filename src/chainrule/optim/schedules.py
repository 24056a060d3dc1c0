"""Learning-rate schedules: callables ``lr(step)``, accepted wherever ``lr`` is.

``step`` is the optimizer's ``step_count``: 0 for the first update.
"""

from __future__ import annotations

import math

__all__ = ["CosineDecay", "StepDecay"]


class StepDecay:
    """``lr * gamma ** (step // step_size)``: multiply by ``gamma`` every ``step_size`` steps.

    >>> import chainrule as cr
    >>> schedule = cr.optim.StepDecay(0.1, step_size=10, gamma=0.5)
    >>> schedule(0), schedule(9), schedule(10), schedule(25)
    (0.1, 0.1, 0.05, 0.025)
    """

    def __init__(self, lr: float, step_size: int, gamma: float = 0.1) -> None:
        if not lr >= 0:
            raise ValueError(f"StepDecay: lr must be >= 0, got {lr}")
        if not (isinstance(step_size, int) and step_size >= 1):
            raise ValueError(f"StepDecay: step_size must be a positive int, got {step_size!r}")
        if not gamma > 0:
            raise ValueError(f"StepDecay: gamma must be > 0, got {gamma}")
        self.lr, self.step_size, self.gamma = float(lr), step_size, float(gamma)

    def __call__(self, step: int) -> float:
        return self.lr * self.gamma ** (int(step) // self.step_size)

    def __repr__(self) -> str:
        return f"StepDecay(lr={self.lr}, step_size={self.step_size}, gamma={self.gamma})"


class CosineDecay:
    """Half a cosine from ``lr`` at step 0 down to ``min_lr`` at ``total_steps`` (then flat).

    >>> import chainrule as cr
    >>> schedule = cr.optim.CosineDecay(1.0, total_steps=100, min_lr=0.0)
    >>> schedule(0), schedule(50), schedule(100), schedule(500)
    (1.0, 0.5, 0.0, 0.0)
    """

    def __init__(self, lr: float, total_steps: int, min_lr: float = 0.0) -> None:
        if not (isinstance(total_steps, int) and total_steps >= 1):
            raise ValueError(
                f"CosineDecay: total_steps must be a positive int, got {total_steps!r}"
            )
        if not 0 <= min_lr <= lr:
            raise ValueError(f"CosineDecay: need 0 <= min_lr <= lr, got lr={lr}, min_lr={min_lr}")
        self.lr, self.total_steps, self.min_lr = float(lr), total_steps, float(min_lr)

    def __call__(self, step: int) -> float:
        frac = min(int(step), self.total_steps) / self.total_steps
        cosine = 0.5 * (1 + math.cos(math.pi * frac))
        return self.min_lr + (self.lr - self.min_lr) * cosine

    def __repr__(self) -> str:
        return f"CosineDecay(lr={self.lr}, total_steps={self.total_steps}, min_lr={self.min_lr})"
