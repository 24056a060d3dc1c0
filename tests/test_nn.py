"""chainrule.nn: parameter discovery, state, Linear's init, and the losses' values and gradients."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


class Block(nn.Module):
    def __init__(self, rng):
        self.inner = nn.Linear(3, 4, rng)
        self.heads = [nn.Linear(4, 2, rng), nn.Linear(4, 1, rng, bias=False)]
        self.scale = cr.tensor(np.ones(1), requires_grad=True)
        self.buffer = cr.tensor(np.zeros(2))  # not a parameter: no requires_grad
        self.note = "ignored"

    def forward(self, x):
        h = np.tanh(self.inner(x))
        return self.heads[0](h) * self.scale, self.heads[1](h)


def test_parameters_are_found_through_modules_and_lists(rng):
    block = Block(rng)
    names = [n for n, _ in block.named_parameters()]
    assert names == [
        "inner.weight",
        "inner.bias",
        "heads.0.weight",
        "heads.0.bias",
        "heads.1.weight",
        "scale",
    ]
    assert [p.shape for p in block.parameters()] == [(3, 4), (4,), (4, 2), (2,), (4, 1), (1,)]


def test_shared_parameters_are_listed_once(rng):
    layer = nn.Linear(2, 2, rng)
    model = nn.Sequential(layer, nn.Tanh(), layer)
    assert [n for n, _ in model.named_parameters()] == ["layers.0.weight", "layers.0.bias"]


def test_cycles_do_not_loop(rng):
    block = Block(rng)
    block.parent = block  # a module referring to itself
    assert len(block.parameters()) == 6


def test_zero_grad_and_an_optimizer_take_the_module(rng):
    block = Block(rng)
    x = rng.standard_normal((5, 3))
    a, b = block(x)
    (np.sum(a) + np.sum(b)).backward()
    assert all(p.grad is not None for p in block.parameters())
    before = block.inner.weight.data.copy()
    opt = cr.optim.SGD(block, lr=0.1)  # a module's parameters(), taken directly
    opt.step()
    assert not np.array_equal(block.inner.weight.data, before)
    block.zero_grad()
    assert all(p.grad is None for p in block.parameters())


def test_state_dict_round_trip_and_file(rng, tmp_path):
    a, b = Block(np.random.default_rng(1)), Block(np.random.default_rng(2))
    state = a.state_dict()
    assert set(state) == {n for n, _ in a.named_parameters()}
    state["inner.weight"][...] = 0  # a copy: the module is unchanged
    assert np.any(a.inner.weight.data != 0)
    a.save(tmp_path / "block.npz")
    weight = b.inner.weight  # loading writes in place: the same Tensor objects
    b.load(tmp_path / "block.npz")
    assert b.inner.weight is weight
    for (n1, p1), (n2, p2) in zip(a.named_parameters(), b.named_parameters()):
        assert n1 == n2
        np.testing.assert_array_equal(p1.data, p2.data)
    x = rng.standard_normal((2, 3))
    np.testing.assert_array_equal(a(x)[0].data, b(x)[0].data)


def test_load_state_dict_errors_change_nothing(rng):
    block = Block(rng)
    state = block.state_dict()
    before = block.inner.weight.data.copy()
    bad = dict(state, **{"inner.weight": np.zeros((3, 4)), "heads.0.bias": np.zeros(5)})
    with pytest.raises(
        ValueError, match=r"'heads.0.bias' has shape \(5,\), the parameter has shape \(2,\)"
    ):
        block.load_state_dict(bad)
    np.testing.assert_array_equal(block.inner.weight.data, before)
    missing = {k: v for k, v in state.items() if k != "scale"}
    with pytest.raises(KeyError, match=r"missing keys \['scale'\], unexpected keys \[\]"):
        block.load_state_dict(missing)
    with pytest.raises(KeyError, match=r"unexpected keys \['extra'\]"):
        block.load_state_dict(dict(state, extra=np.ones(1)))
    with pytest.raises(TypeError, match="expected a dict of arrays"):
        block.load_state_dict([1])


def test_linear_init_is_seeded_and_scaled():
    a = nn.Linear(200, 300, rng=np.random.default_rng(7))
    b = nn.Linear(200, 300, rng=7)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    np.testing.assert_array_equal(a.bias.data, np.zeros(300))
    limit = np.sqrt(6 / 500)
    assert np.abs(a.weight.data).max() <= limit
    assert np.abs(a.weight.data).max() > 0.95 * limit  # uniform: fills the range
    he = nn.Linear(200, 300, rng=0, init="he")
    assert abs(he.weight.data.std() - np.sqrt(2 / 200)) < 0.005


def test_linear_bad_arguments():
    with pytest.raises(ValueError, match="in_features must be a positive int"):
        nn.Linear(0, 2, rng=0)
    with pytest.raises(ValueError, match="init must be 'glorot' or 'he'"):
        nn.Linear(2, 2, rng=0, init="xavier")
    with pytest.raises(TypeError, match=r"rng must be a np\.random\.Generator or an int seed"):
        nn.Linear(2, 2, rng="seed")
    with pytest.raises(ValueError, match=r"last axis must have 2 features, got shape \(4, 3\)"):
        nn.Linear(2, 2, rng=0)(np.ones((4, 3)))
    with pytest.raises(TypeError, match=r"layer 1 is a ufunc, not a cr\.nn\.Module"):
        nn.Sequential(nn.Tanh(), np.tanh)
    with pytest.raises(NotImplementedError, match="must define forward"):
        nn.Module()(1.0)


def test_sequential_matches_hand_written_forward(rng):
    model = nn.Sequential(nn.Linear(3, 5, rng), nn.ReLU(), nn.Linear(5, 2, rng), nn.Tanh())
    x = rng.standard_normal((4, 3))
    w1, b1, w2, b2 = (p.data for p in model.parameters())
    expected = np.tanh(np.maximum(x @ w1 + b1, 0) @ w2 + b2)
    np.testing.assert_allclose(model(x).data, expected, rtol=1e-12)
    assert len(model) == 4 and isinstance(model[1], nn.ReLU)


# ------------------------------------------------------------------- losses
def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_value_and_gradient(rng, reduction):
    logits = rng.standard_normal((6, 4))
    labels = rng.integers(0, 4, 6)
    per_sample = -np.log(_softmax(logits)[np.arange(6), labels])
    expected = {"mean": per_sample.mean(), "sum": per_sample.sum(), "none": per_sample}[reduction]
    np.testing.assert_allclose(nn.cross_entropy(logits, labels, reduction), expected, rtol=1e-12)
    scale = {"mean": 1 / 6, "sum": 1.0, "none": 1.0}[reduction]
    g = cr.grad(lambda z: np.sum(nn.cross_entropy(z, labels, reduction)))(logits)
    np.testing.assert_allclose(g, scale * (_softmax(logits) - np.eye(4)[labels]), atol=1e-12)
    assert cr.gradcheck(lambda z, y: nn.cross_entropy(z, y, reduction), logits, labels)


def test_cross_entropy_batched_axes(rng):
    logits = rng.standard_normal((2, 3, 5))
    labels = rng.integers(0, 5, (2, 3))
    out = nn.cross_entropy(logits, labels, "none")
    assert out.shape == (2, 3)
    np.testing.assert_allclose(out[1, 2], -np.log(_softmax(logits[1, 2])[labels[1, 2]]))


def test_losses_at_extreme_logits_are_finite():
    z = cr.tensor(np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]]), requires_grad=True)
    loss = nn.cross_entropy(z, np.array([1, 0]), "sum")
    loss.backward()
    assert np.isfinite(loss.item()) and np.all(np.isfinite(z.grad))
    np.testing.assert_allclose(loss.item(), 2e4 + 2e4 + np.log(2), rtol=1e-12)
    x = cr.tensor(np.array([1e4, -1e4, 1e4, -1e4]), requires_grad=True)
    y = np.array([1.0, 0.0, 0.0, 1.0])
    bce = nn.binary_cross_entropy_with_logits(x, y, "none")
    np.testing.assert_allclose(bce.data, [0.0, 0.0, 1e4, 1e4])
    np.sum(bce).backward()
    np.testing.assert_allclose(x.grad, [0.0, 0.0, 1.0, -1.0])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropy_value_and_gradient(rng, reduction):
    x = rng.standard_normal(7) * 3
    y = rng.uniform(0, 1, 7)  # soft targets are allowed
    p = 1 / (1 + np.exp(-x))
    per_sample = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    expected = {"mean": per_sample.mean(), "sum": per_sample.sum(), "none": per_sample}[reduction]
    np.testing.assert_allclose(
        nn.binary_cross_entropy_with_logits(x, y, reduction), expected, rtol=1e-12
    )
    scale = 1 / 7 if reduction == "mean" else 1.0
    g = cr.grad(lambda z: np.sum(nn.binary_cross_entropy_with_logits(z, y, reduction)))(x)
    np.testing.assert_allclose(g, scale * (p - y), atol=1e-12)
    assert cr.gradcheck(lambda z, t: nn.binary_cross_entropy_with_logits(z, t, reduction), x, y)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_value_and_gradient(rng, reduction):
    pred, target = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    per = (pred - target) ** 2
    expected = {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]
    np.testing.assert_allclose(nn.mse_loss(pred, target, reduction), expected, rtol=1e-12)
    scale = 1 / 6 if reduction == "mean" else 1.0
    g = cr.grad(lambda p: np.sum(nn.mse_loss(p, target, reduction)))(pred)
    np.testing.assert_allclose(g, scale * 2 * (pred - target), atol=1e-12)
    assert cr.gradcheck(lambda p, t: nn.mse_loss(p, t, reduction), pred, target)


def test_loss_input_errors():
    logits = np.zeros((3, 4))
    with pytest.raises(TypeError, match="labels must be integer class indices, got dtype float64"):
        nn.cross_entropy(logits, np.zeros(3))
    with pytest.raises(ValueError, match=r"logits of shape \(3, 4\) need labels of shape \(3,\)"):
        nn.cross_entropy(logits, np.zeros(4, int))
    with pytest.raises(
        ValueError, match=r"labels must lie in \[0, 3\] for 4 classes, got values from 0 to 4"
    ):
        nn.cross_entropy(logits, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match="reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        nn.cross_entropy(logits, np.zeros(3, int), reduction="avg")
    with pytest.raises(
        ValueError, match=r"targets have shape \(2,\), the logits have shape \(3,\)"
    ):
        nn.binary_cross_entropy_with_logits(np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 1\]"):
        nn.binary_cross_entropy_with_logits(np.zeros(2), np.array([0.0, 2.0]))
    with pytest.raises(ValueError, match=r"pred has shape \(3,\) and target \(3, 1\)"):
        nn.mse_loss(np.zeros(3), np.zeros((3, 1)))
