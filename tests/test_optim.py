"""Optimizers: each rule against a hand-written NumPy reference, both modes, state, schedules."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.optim import SGD, Adam, AdamW, CosineDecay, StepDecay

STEPS = 4


def _problem(rng):
    """A start point and a gradient function (a fixed quadratic plus a sine), plain NumPy."""
    p0 = rng.standard_normal((3, 2))
    a = rng.standard_normal((3, 2))

    def grad(p):
        return a * p + np.cos(p)

    return p0, grad


# ---- hand-written references (PyTorch's documented formulas, written out longhand)
def ref_sgd(p, grad, lr, momentum=0.0, nesterov=False, weight_decay=0.0, steps=STEPS):
    buf = None
    for _ in range(steps):
        g = grad(p) + weight_decay * p
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
    return p


def ref_adam(p, grad, lr, b1=0.9, b2=0.999, eps=1e-8, wd=0.0, decoupled=False, steps=STEPS):
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    for t in range(1, steps + 1):
        g = grad(p)
        if decoupled:
            p = p * (1 - lr * wd)
        else:
            g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


CASES = [
    ("sgd", lambda **k: SGD(lr=0.1, **k), ref_sgd, dict(lr=0.1)),
    ("momentum", lambda **k: SGD(lr=0.1, momentum=0.9, **k), ref_sgd, dict(lr=0.1, momentum=0.9)),
    (
        "nesterov",
        lambda **k: SGD(lr=0.05, momentum=0.8, nesterov=True, **k),
        ref_sgd,
        dict(lr=0.05, momentum=0.8, nesterov=True),
    ),
    (
        "sgd_wd",
        lambda **k: SGD(lr=0.1, momentum=0.5, weight_decay=0.1, **k),
        ref_sgd,
        dict(lr=0.1, momentum=0.5, weight_decay=0.1),
    ),
    ("adam", lambda **k: Adam(lr=0.05, **k), ref_adam, dict(lr=0.05)),
    (
        "adam_betas",
        lambda **k: Adam(lr=0.02, betas=(0.5, 0.9), eps=1e-3, **k),
        ref_adam,
        dict(lr=0.02, b1=0.5, b2=0.9, eps=1e-3),
    ),
    ("adam_l2", lambda **k: Adam(lr=0.05, weight_decay=0.3, **k), ref_adam, dict(lr=0.05, wd=0.3)),
    ("adamw", lambda **k: AdamW(lr=0.05, **k), ref_adam, dict(lr=0.05, wd=1e-2, decoupled=True)),
    (
        "adamw_wd",
        lambda **k: AdamW(lr=0.05, weight_decay=0.3, **k),
        ref_adam,
        dict(lr=0.05, wd=0.3, decoupled=True),
    ),
]


@pytest.mark.parametrize("name,make,ref,ref_kw", CASES, ids=[c[0] for c in CASES])
def test_functional_update_matches_reference(rng, name, make, ref, ref_kw):
    p0, grad = _problem(rng)
    expected = ref(p0, grad, **ref_kw)
    opt = make()
    params = {"p": p0}
    for _step in range(STEPS):
        params = opt.update(params, {"p": grad(params["p"])})
    np.testing.assert_array_equal(params["p"], expected)  # same operations, same bits
    assert opt.step_count == STEPS


@pytest.mark.parametrize("name,make,ref,ref_kw", CASES, ids=[c[0] for c in CASES])
def test_tensor_step_matches_reference(rng, name, make, ref, ref_kw):
    p0, grad = _problem(rng)
    expected = ref(p0, grad, **ref_kw)
    w = cr.tensor(p0.copy(), requires_grad=True)
    opt = make(params=[w])
    for _step in range(STEPS):
        opt.zero_grad()
        w.grad = grad(w.data)
        opt.step()
    np.testing.assert_array_equal(w.data, expected)


def test_tensor_step_through_backward_and_skips_params_without_grad():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    unused = cr.tensor([5.0], requires_grad=True)
    opt = SGD([w, unused], lr=0.5)
    np.sum(w**2).backward()
    opt.step()
    np.testing.assert_array_equal(w.data, [0.0, 0.0])
    np.testing.assert_array_equal(unused.data, [5.0])
    assert unused.grad is None


def test_step_counts_as_a_write_so_stale_graphs_refuse_backward():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    opt = Adam([w], lr=0.1)
    loss = np.sum(w**3)  # saves w
    loss.backward(retain_graph=True)
    opt.step()
    with pytest.raises(
        cr.BackwardError,
        match=r"was modified in place after the graph saved it \(version 0, now 1\)",
    ):
        loss.backward()
    opt.zero_grad()
    np.sum(w**3).backward()  # a graph built after the step is fine
    assert w.grad is not None


def test_adam_drives_a_quadratic_to_its_minimum(rng):
    a = rng.standard_normal((4, 4))
    h = a @ a.T + np.eye(4)  # positive definite
    target = rng.standard_normal(4)
    x = cr.tensor(np.zeros(4), requires_grad=True)
    opt = Adam([x], lr=0.05)
    for _ in range(2000):
        opt.zero_grad()
        d = x - target
        (0.5 * d @ h @ d).backward()
        opt.step()
    np.testing.assert_allclose(x.data, target, atol=1e-4)


def test_update_leaves_inputs_alone_and_keeps_python_floats():
    p = {"w": np.array([1.0, 2.0]), "b": 0.5}
    opt = SGD(lr=0.1)
    out = opt.update(p, {"w": np.array([1.0, 1.0]), "b": 1.0})
    np.testing.assert_array_equal(p["w"], [1.0, 2.0])
    assert isinstance(out["b"], float) and out["b"] == pytest.approx(0.4)


def test_state_is_kept_per_structure():
    opt = SGD(lr=1.0, momentum=0.5)
    a, b = [np.zeros(1)], (np.zeros(2),)
    for _ in range(2):
        a = opt.update(a, [np.ones(1)])
        b = opt.update(b, (np.full(2, 2.0),))
    # each structure has its own buffer: a: 1, then 1.5 -> -2.5 ; b twice that
    np.testing.assert_allclose(a[0], [-2.5])
    np.testing.assert_allclose(b[0], [-5.0, -5.0])


def test_schedules_feed_the_learning_rate():
    opt = SGD(lr=StepDecay(1.0, step_size=2, gamma=0.5))
    p = [np.zeros(1)]
    lrs = []
    for _ in range(5):
        lrs.append(opt.current_lr)
        p = opt.update(p, [np.ones(1)])
    assert lrs == [1.0, 1.0, 0.5, 0.5, 0.25]
    np.testing.assert_allclose(p[0], [-3.25])
    cos = CosineDecay(0.2, total_steps=4, min_lr=0.1)
    assert [round(cos(s), 12) for s in range(6)] == [
        0.2,
        0.185355339059,
        0.15,
        0.114644660941,
        0.1,
        0.1,
    ]


def test_schedule_returning_a_bad_value_is_reported():
    opt = SGD(lr=lambda step: -1.0)
    with pytest.raises(ValueError, match=r"schedule gave lr=-1\.0 at step 0"):
        opt.update([np.ones(1)], [np.ones(1)])


@pytest.mark.parametrize(
    "make", [lambda p: Adam(p, lr=0.1), lambda p: SGD(p, lr=0.1, momentum=0.9)]
)
def test_tensor_state_dict_round_trips_through_npz(rng, tmp_path, make):
    p0, grad = _problem(rng)
    w1 = cr.tensor(p0.copy(), requires_grad=True)
    opt1 = make([w1])
    for _ in range(3):
        w1.grad = grad(w1.data)
        opt1.step()
    np.savez(tmp_path / "opt.npz", **opt1.state_dict())
    w2 = cr.tensor(w1.data.copy(), requires_grad=True)
    opt2 = make([w2])
    with np.load(tmp_path / "opt.npz") as saved:
        opt2.load_state_dict(saved)
    assert opt2.step_count == 3
    for _ in range(3):
        for w, opt in ((w1, opt1), (w2, opt2)):
            w.grad = grad(w.data)
            opt.step()
    np.testing.assert_array_equal(w1.data, w2.data)


def test_functional_state_dict_loads_before_the_first_update(rng):
    p0, grad = _problem(rng)
    opt1 = AdamW(lr=0.1)
    params = [p0]
    for _ in range(3):
        params = opt1.update(params, [grad(params[0])])
    opt2 = AdamW(lr=0.1)
    opt2.load_state_dict(opt1.state_dict())
    assert sorted(opt2.state_dict()) == sorted(opt1.state_dict())
    p1 = opt1.update(params, [grad(params[0])])
    p2 = opt2.update(params, [grad(params[0])])
    np.testing.assert_array_equal(p1[0], p2[0])
    opt3 = AdamW(lr=0.1)
    opt3.update(params, [grad(params[0])])
    opt3.load_state_dict(opt1.state_dict())  # loads into the structure already seen
    np.testing.assert_array_equal(
        opt3.update(p1, [grad(p1[0])])[0], opt1.update(p1, [grad(p1[0])])[0]
    )


def test_load_state_dict_rejects_wrong_state():
    w = cr.tensor(np.ones(2), requires_grad=True)
    opt = Adam([w])
    with pytest.raises(ValueError, match="no 'step_count' entry"):
        opt.load_state_dict({})
    with pytest.raises(ValueError, match=r"unexpected key 'state\.0\.0\.momentum_buffer'"):
        opt.load_state_dict({"step_count": 1, "state.0.0.momentum_buffer": np.ones(2)})
    with pytest.raises(ValueError, match=r"exp_avg of parameter 0 has shape \(3,\)"):
        opt.load_state_dict({"step_count": 1, "state.0.0.exp_avg": np.ones(3)})
    with pytest.raises(ValueError, match="which has only 1 parameters"):
        opt.load_state_dict({"step_count": 1, "state.0.4.exp_avg": np.ones(2)})
    with pytest.raises(ValueError, match="several parameter structures"):
        opt.load_state_dict({"step_count": 1, "state.1.0.exp_avg": np.ones(2)})
    with pytest.raises(TypeError, match="expected a dict"):
        opt.load_state_dict([1, 2])


def test_mode_errors():
    w = cr.tensor(np.ones(2), requires_grad=True)
    with pytest.raises(TypeError, match="made without parameters"):
        Adam(lr=0.1).step()
    with pytest.raises(TypeError, match="updates the Tensors it was made with"):
        Adam([w]).update([np.ones(2)], [np.ones(2)])
    with pytest.raises(TypeError, match="a functional optimizer updates arrays"):
        Adam().update([w], [np.ones(2)])


def test_bad_parameters_are_named():
    w = cr.tensor(np.ones(2), requires_grad=True)
    with pytest.raises(TypeError, match="parameter 1 is a ndarray, not a Tensor"):
        SGD([w, np.ones(2)])
    with pytest.raises(ValueError, match="must be a leaf Tensor with requires_grad=True"):
        SGD([w * 2])
    with pytest.raises(ValueError, match="must be a leaf Tensor"):
        SGD([cr.tensor(np.ones(2))])
    with pytest.raises(ValueError, match="parameter 1 appears twice"):
        SGD([w, w])
    with pytest.raises(ValueError, match="got no parameters"):
        SGD([])


def test_bad_hyperparameters_are_named():
    with pytest.raises(ValueError, match="lr must be a non-negative number or a schedule"):
        SGD(lr=-0.1)
    with pytest.raises(ValueError, match="lr must be"):
        SGD(lr="fast")
    with pytest.raises(ValueError, match=r"momentum must be in \[0.0, 1.0\)"):
        SGD(lr=0.1, momentum=1.5)
    with pytest.raises(ValueError, match="nesterov=True needs momentum > 0"):
        SGD(lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas must be a pair"):
        Adam(betas=0.9)
    with pytest.raises(ValueError, match=r"betas\[1\] must be in"):
        Adam(betas=(0.9, 1.0))
    with pytest.raises(ValueError, match=r"weight_decay must be >= 0\.0"):
        AdamW(weight_decay=-1)
    with pytest.raises(ValueError, match="step_size must be a positive int"):
        StepDecay(0.1, step_size=0)
    with pytest.raises(ValueError, match="need 0 <= min_lr <= lr"):
        CosineDecay(0.1, total_steps=10, min_lr=0.5)


def test_gradient_mismatches_are_named():
    opt = SGD(lr=0.1)
    with pytest.raises(ValueError, match="grads have structure"):
        opt.update({"w": np.ones(2)}, [np.ones(2)])
    with pytest.raises(
        ValueError, match=r"params leaf 0 has shape \(2,\) but its gradient has shape \(3,\)"
    ):
        opt.update([np.ones(2)], [np.ones(3)])
    with pytest.raises(TypeError, match="must be floating point"):
        opt.update([np.arange(2)], [np.ones(2)])
    w = cr.tensor(np.ones(2), requires_grad=True)
    w.grad = np.ones(3)
    with pytest.raises(
        ValueError, match=r"parameter 0 has shape \(2,\) but its .grad has shape \(3,\)"
    ):
        SGD([w]).step()


def test_tensor_params_as_a_pytree_with_a_0d_bias():
    w = cr.tensor(np.zeros(2), requires_grad=True)
    b = cr.tensor(0.0, requires_grad=True)  # 0-d: held as a numpy scalar until written
    opt = SGD({"w": w, "b": b}, lr=0.1)
    x = np.array([[1.0, 2.0]])
    np.sum((x @ w + b - 3.0) ** 2).backward()
    opt.step()
    # d/dw = 2 * (0 - 3) * x = [-6, -12], d/db = -6
    np.testing.assert_allclose(w.data, [0.6, 1.2])
    assert b.item() == pytest.approx(0.6)
    assert repr(opt) == "SGD(lr=0.1, 2 tensors, step_count=1)"
