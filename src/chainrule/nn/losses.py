"""Losses, stable for any finite input: they work from logits, never from probabilities.

Each takes arrays or Tensors (recorded) and a ``reduction``: ``"mean"``
(default), ``"sum"`` or ``"none"`` (one loss per sample).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor
from ..activations import log_softmax, softplus

__all__ = ["binary_cross_entropy_with_logits", "cross_entropy", "mse_loss"]


def _shape(x: Any) -> tuple[int, ...]:
    return np.shape(x._data if isinstance(x, Tensor) else x)


def _reduce(loss: Any, reduction: str, name: str) -> Any:
    if reduction == "mean":
        return np.mean(loss)
    if reduction == "sum":
        return np.sum(loss)
    if reduction == "none":
        return loss
    raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def cross_entropy(logits: Any, labels: Any, reduction: str = "mean") -> Any:
    """Softmax cross-entropy from unnormalised ``logits`` (..., C) and integer ``labels`` (...).

    ``-log_softmax(logits)[label]`` per sample, through ``cr.log_softmax``:
    no overflow and no ``log(0)`` for any finite logits. Its gradient with
    respect to the logits is ``softmax(logits) - one_hot(labels)`` per sample.

    >>> import numpy as np, chainrule as cr
    >>> logits = np.array([[2.0, 0.0, 0.0], [0.0, 1e4, 0.0]])
    >>> cr.nn.cross_entropy(logits, np.array([0, 2]), reduction="none").round(4)
    array([2.395e-01, 1.000e+04])
    """
    name = "cross_entropy"
    shape = _shape(logits)
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(
            f"{name}: labels must be integer class indices, got dtype {labels.dtype} "
            "(for one-hot or soft targets, use labels.argmax(-1))"
        )
    if len(shape) < 1 or labels.shape != shape[:-1]:
        raise ValueError(
            f"{name}: logits of shape {shape} need labels of shape {shape[:-1]} (one class index "
            f"per row), got {labels.shape}"
        )
    n_classes = shape[-1]
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(
            f"{name}: labels must lie in [0, {n_classes - 1}] for {n_classes} classes, got values "
            f"from {labels.min()} to {labels.max()}"
        )
    log_p = log_softmax(logits, axis=-1)
    picked = np.take_along_axis(log_p, labels[..., None], axis=-1)[..., 0]
    return _reduce(-picked, reduction, name)


def binary_cross_entropy_with_logits(logits: Any, targets: Any, reduction: str = "mean") -> Any:
    """Binary cross-entropy of ``sigmoid(logits)`` against ``targets`` in [0, 1].

    Computed as ``softplus(x) - x * y``, which equals
    ``-(y log σ(x) + (1 - y) log(1 - σ(x)))`` and is finite for any finite
    logit (1e4 included); its gradient is ``sigmoid(x) - y``.

    >>> import numpy as np, chainrule as cr
    >>> x, y = np.array([0.0, 1e4, -1e4]), np.array([1.0, 1.0, 1.0])
    >>> cr.nn.binary_cross_entropy_with_logits(x, y, reduction="none").round(4)
    array([6.931e-01, 0.000e+00, 1.000e+04])
    """
    name = "binary_cross_entropy_with_logits"
    shape = _shape(logits)
    y = targets._data if isinstance(targets, Tensor) else np.asarray(targets, dtype=float)
    if np.shape(y) != shape:
        raise ValueError(
            f"{name}: targets have shape {np.shape(y)}, the logits have shape {shape}; they "
            "must match"
        )
    if y.size and (np.min(y) < 0 or np.max(y) > 1):
        raise ValueError(f"{name}: targets must lie in [0, 1] (probabilities or 0/1 labels)")
    loss = softplus(logits) - logits * (targets if isinstance(targets, Tensor) else y)
    return _reduce(loss, reduction, name)


def mse_loss(pred: Any, target: Any, reduction: str = "mean") -> Any:
    """Squared error ``(pred - target) ** 2``, of two arrays of the same shape.

    >>> import numpy as np, chainrule as cr
    >>> float(cr.nn.mse_loss(np.array([1.0, 2.0]), np.array([1.0, 4.0])))
    2.0
    """
    if _shape(pred) != _shape(target):
        raise ValueError(
            f"mse_loss: pred has shape {_shape(pred)} and target {_shape(target)}; they must "
            "match (broadcasting here is almost always a bug: reshape one explicitly)"
        )
    return _reduce((pred - target) ** 2, reduction, "mse_loss")
