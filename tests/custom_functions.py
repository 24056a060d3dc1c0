"""Custom Functions that several test modules run through chainrule."""

from __future__ import annotations

import numpy as np

import chainrule as cr


class Sigmoid(cr.Function):
    """One input; the backward reads the saved output."""

    def forward(self, x):
        y = 1 / (1 + np.exp(-x))
        self.save_for_backward(y)
        return y

    def backward(self, dy):
        (y,) = self.saved_tensors
        return dy * y * (1 - y)


class MulAdd(cr.Function):
    """Two inputs, two outputs."""

    def forward(self, x, y):
        self.save_for_backward(x, y)
        return x * y, x + y

    def backward(self, d_prod, d_sum):
        x, y = self.saved_tensors
        return d_prod * y + d_sum, d_prod * x + d_sum
