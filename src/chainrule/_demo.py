"""``python -m chainrule demo``: every worked example of the seed documents, in chainrule."""

from __future__ import annotations

import textwrap
import warnings

import numpy as np

import chainrule as cr


def _title(text: str) -> None:
    print(f"\n{text}\n{'-' * len(text)}")


def _show(label: str, value: object) -> None:
    print(f"  {label:<36} {value}")


class Sigmoid(cr.Function):
    """The forum's sigmoid, with the chain rule applied: dy * y * (1 - y)."""

    def forward(self, x):
        y = 1 / (1 + np.exp(-x))
        self.save_for_backward(y)
        return y

    def backward(self, dy):
        (y,) = self.saved_tensors
        return dy * y * (1 - y)


class SigmoidForgotDy(Sigmoid):
    """The forum's original bug: the local derivative alone, without dy."""

    def backward(self, dy):
        (y,) = self.saved_tensors
        return y * (1 - y)


def forum_thread() -> None:
    _title("1. The forum thread: a custom sigmoid Function, then z = y * y")
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = Sigmoid()(x)
    z = y * y
    z.backward()
    _show("x.grad with dy * y * (1 - y):", np.array2string(x.grad, precision=8))
    _show("the thread's right result:", "[0.28746966 0.18495613 0.08606823] (float32)")

    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (SigmoidForgotDy()(x) ** 2).backward()
    _show("x.grad with the forgotten dy:", np.array2string(x.grad, precision=8))
    print("\n  cr.gradcheck(SigmoidForgotDy, x) says:")
    try:
        cr.gradcheck(SigmoidForgotDy, np.array([1.0, 2.0, 3.0]))
    except cr.GradcheckError as e:
        for line in str(e).splitlines():
            print(
                textwrap.fill(line.strip(), 96, initial_indent="    ", subsequent_indent="      ")
            )
    _show("cr.gradcheck(Sigmoid, x):", cr.gradcheck(Sigmoid, np.array([1.0, 2.0, 3.0])))


def sigmoid_neuron() -> None:
    _title("2. The lecture's sigmoid neuron f(w, x) = sigmoid(w0*x0 + w1*x1 + w2)")
    w = cr.tensor([2.0, -3.0, -3.0], requires_grad=True)
    x = cr.tensor([-1.0, -2.0], requires_grad=True)
    dot = w[0] * x[0] + w[1] * x[1] + w[2]
    f: cr.Tensor = 1.0 / (1 + np.exp(-dot))  # type: ignore[assignment]  # NumPy's stubs
    f.backward()
    _show("f:", f"{f.item():.6f}")
    _show("df/dx (lecture: [w0, w1] * ds):", np.array2string(x.grad, precision=6))
    _show("df/dw (lecture: [x0, x1, 1] * ds):", np.array2string(w.grad, precision=6))


def staged_computation() -> None:
    _title("3. Staged computation f(x, y) = (x + sigmoid(y)) / (sigmoid(x) + (x + y)**2)")
    x = cr.tensor(3.0, requires_grad=True)
    y = cr.tensor(-4.0, requires_grad=True)
    sigy = 1.0 / (1 + np.exp(-y))
    num = x + sigy
    sigx = 1.0 / (1 + np.exp(-x))
    xpy = x + y
    xpysqr = xpy**2
    den = sigx + xpysqr
    invden = 1.0 / den
    f = num * invden
    f.backward()
    dx, dy = _staged_by_hand(3.0, -4.0)
    _show("f at x=3, y=-4:", f"{f.item():.6f}")
    _show("dx, dy from chainrule:", f"{x.grad.item():.6f}, {y.grad.item():.6f}")
    _show("dx, dy from the lecture's backprop:", f"{dx:.6f}, {dy:.6f}")
    print("  (x and y are used twice: their gradients add up at the forks)")


def _staged_by_hand(x: float, y: float) -> tuple[float, float]:
    """The lecture's hand-written backward pass, verbatim in spirit."""
    sigy = 1.0 / (1 + np.exp(-y))
    num = x + sigy
    sigx = 1.0 / (1 + np.exp(-x))
    xpy = x + y
    xpysqr = xpy**2
    den = sigx + xpysqr
    invden = 1.0 / den
    dnum = invden
    dinvden = num
    dden = (-1.0 / (den**2)) * dinvden
    dsigx = (1) * dden
    dxpysqr = (1) * dden
    dxpy = (2 * xpy) * dxpysqr
    dx = (1) * dxpy
    dy = (1) * dxpy
    dx += ((1 - sigx) * sigx) * dsigx
    dx += (1) * dnum
    dsigy = (1) * dnum
    dy += ((1 - sigy) * sigy) * dsigy
    return float(dx), float(dy)


def matrix_gradients() -> None:
    _title("4. Matrix gradients: D = W.dot(X), with dD from above")
    rng = np.random.default_rng(0)
    W = cr.tensor(rng.standard_normal((5, 10)), requires_grad=True)
    X = cr.tensor(rng.standard_normal((10, 3)), requires_grad=True)
    D = W.dot(X)
    dD = rng.standard_normal(D.shape)
    D.backward(dD)
    dW = dD.dot(X.data.T)
    dX = W.data.T.dot(dD)
    _show("W.grad == dD.dot(X.T):", bool(np.allclose(W.grad, dW)))
    _show("X.grad == W.T.dot(dD):", bool(np.allclose(X.grad, dX)))
    _show("shapes (W, dW), (X, dX):", f"{W.shape} {W.grad.shape}, {X.shape} {X.grad.shape}")


def stable_sigmoid() -> None:
    _title("5. A numerically stable sigmoid (no warning, no nan, no inf)")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any overflow warning would stop the demo
        for x in ([-2.0, 0.0, 2.0], [-1000.0, 1000.0], [-1e308, 1e308]):
            _show(f"cr.sigmoid({x}):", cr.sigmoid(np.array(x)))
        s = cr.sigmoid(np.array([-100.0, 0.0, 100.0]))
        g = cr.sigmoid_backward(np.ones(3), s)
        _show("sigmoid_backward at [-100, 0, 100]:", np.array2string(g, precision=4))
        print("  (the saturated tails give gradient 0: the vanishing gradient)")
        naive = "overflow warning"
        try:
            1 / (1 + np.exp(-np.array([-1000.0])))
        except RuntimeWarning as w:
            naive = f"RuntimeWarning: {w}"
    _show("the naive 1/(1+exp(-x)) at -1000:", naive)


def main() -> None:
    print("chainrule demo: the worked examples of the seed documents")
    forum_thread()
    sigmoid_neuron()
    staged_computation()
    matrix_gradients()
    stable_sigmoid()
