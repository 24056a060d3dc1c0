"""Train a logistic regression with chainrule: plain NumPy code, one backward per step.

Run: python examples/logistic_regression.py
"""

import numpy as np

import chainrule as cr

rng = np.random.default_rng(0)
n, d = 200, 3
X = rng.standard_normal((n, d))
true_w = np.array([2.0, -1.0, 0.5])
y = (X @ true_w + 0.3 * rng.standard_normal(n) > 0).astype(float)

w = cr.tensor(np.zeros(d), requires_grad=True)
b = cr.tensor(0.0, requires_grad=True)

for step in range(300):
    logits = X @ w + b
    # log(sigmoid) and log(1 - sigmoid), both stable: cross-entropy without log(0)
    loss = -np.mean(y * cr.log_sigmoid(logits) + (1 - y) * cr.log_sigmoid(-logits))
    w.grad = b.grad = None
    loss.backward()
    with cr.no_grad():  # an optimizer step: update the leaves in place
        w -= 0.5 * w.grad
        b -= 0.5 * b.grad
    if step % 100 == 0:
        print(f"step {step:3d}  loss {loss.item():.4f}")

accuracy = np.mean((cr.sigmoid(X @ w.data + b.data) > 0.5) == (y > 0.5))
print(f"final loss {loss.item():.4f}, accuracy {accuracy:.2%}, w = {np.round(w.data, 2)}")
