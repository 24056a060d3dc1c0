"""A custom Function, checked by gradcheck, then differentiated twice and in forward mode.

Run: python examples/custom_function.py
"""

import numpy as np

import chainrule as cr


class Sigmoid(cr.Function):
    def forward(self, x):
        y = 1 / (1 + np.exp(-x))
        self.save_for_backward(y)  # the output: its derivative is y * (1 - y)
        return y

    def backward(self, dy):
        (y,) = self.saved_tensors
        return dy * y * (1 - y)  # the chain rule: dy times the local derivative


class SigmoidForgotDy(Sigmoid):
    def backward(self, dy):
        (y,) = self.saved_tensors
        return y * (1 - y)  # the forum's bug


x = np.array([-1.0, 0.5, 2.0])
print("gradcheck(Sigmoid):", cr.gradcheck(Sigmoid, x))
try:
    cr.gradcheck(SigmoidForgotDy, x)
except cr.GradcheckError as e:
    print("gradcheck(SigmoidForgotDy):", str(e).splitlines()[0])


def f(x):
    return np.sum(Sigmoid()(x) ** 2)


print("gradient:          ", cr.grad(f)(x))
print("Hessian diagonal:  ", np.diag(cr.hessian(f)(x)))  # second order through backward
print("forward-mode J @ 1:", cr.jvp(lambda x: Sigmoid()(x), (x,), (np.ones(3),))[1])
