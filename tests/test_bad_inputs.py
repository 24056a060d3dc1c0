"""Every public function with bad input: a clear error naming what was wrong, or the
documented result. One table; each row is (what, call, exception, message pattern)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

X = cr.tensor([1.0, 2.0], requires_grad=True)
READ_ONLY = np.arange(4.0)
READ_ONLY.flags.writeable = False
STRIDED = np.arange(12.0).reshape(3, 4)[:, ::2]  # non-contiguous


class Doubler(cr.Function):
    def forward(self, x):
        return x * 2

    def backward(self, dy):
        return dy * 2


ERRORS = [
    # ------------------------------------------------------------ cr.tensor
    ("tensor of None", lambda: cr.tensor(None), TypeError, r"cr\.tensor: cannot hold object data"),
    ("tensor of str", lambda: cr.tensor("ab"), TypeError, r"cr\.tensor: cannot hold <U2 data"),
    (
        "tensor of ragged lists",
        lambda: cr.tensor([[1.0], [1.0, 2.0]]),
        TypeError,
        r"cr\.tensor: cannot make an array of list",
    ),
    (
        "tensor of objects",
        lambda: cr.tensor([object()]),
        TypeError,
        r"cr\.tensor: cannot hold object",
    ),
    (
        "int data requiring grad",
        lambda: cr.tensor([1, 2], requires_grad=True),
        TypeError,
        r"got dtype int64",
    ),
    (
        "bool data requiring grad",
        lambda: cr.tensor(True, requires_grad=True),
        TypeError,
        r"got dtype bool",
    ),
    (
        "requires_grad_ on ints",
        lambda: cr.tensor([1]).requires_grad_(),
        TypeError,
        r"requires_grad_\(\).*int64",
    ),
    # ------------------------------------------------------------- backward
    (
        "backward without grad",
        lambda: cr.tensor([1.0]).backward(),
        cr.BackwardError,
        r"does not require grad",
    ),
    (
        "head of the wrong shape",
        lambda: (X * 2).backward(np.ones(3)),
        cr.BackwardError,
        r"head gradient has shape \(3,\) but the tensor has shape \(2,\)",
    ),
    (
        "head with an extra axis",
        lambda: (X * 2).backward(np.ones((1, 2))),
        cr.BackwardError,
        r"shape \(1, 2\) but the tensor has shape \(2,\)",
    ),
    (
        "head of strings",
        lambda: (X * 2).backward("ab"),
        TypeError,
        r"head gradient must be numbers shaped like the tensor \(2,\), got str",
    ),
    ("head None on a vector", lambda: X.item(), ValueError, r"size 1"),
    # ------------------------------------------------------------ operators
    (
        "Tensor + None",
        lambda: X + None,
        TypeError,
        r"unsupported operand type\(s\) for \+: 'Tensor' and 'NoneType'",
    ),
    (
        "None * Tensor",
        lambda: None * X,
        TypeError,
        r"unsupported operand type\(s\) for \*: 'NoneType' and 'Tensor'",
    ),
    ("Tensor + str", lambda: X + "a", TypeError, r"unsupported operand"),
    (
        "Tensor + object array",
        lambda: X + np.array([object(), object()]),
        TypeError,
        r"unsupported operand",
    ),
    (
        "broadcast mismatch",
        lambda: X + np.ones(3),
        ValueError,
        r"could not be broadcast together with shapes \(2,\) \(3,\)",
    ),
    ("matmul mismatch", lambda: X @ np.ones(3), ValueError, r"matmul.*mismatch"),
    (
        "matmul of a 0-d tensor",
        lambda: cr.tensor(2.0, requires_grad=True) @ cr.tensor(3.0),
        ValueError,
        r"matmul: Input operand 0 does not have enough dimensions",
    ),
    (
        "axis out of range",
        lambda: X.sum(axis=3),
        np.exceptions.AxisError,
        r"axis 3 is out of bounds",
    ),
    (
        "bad reshape",
        lambda: X.reshape(3),
        ValueError,
        r"cannot reshape array of size 2 into shape \(3,\)",
    ),
    ("index out of range", lambda: X[5], IndexError, r"index 5 is out of bounds"),
    ("float of a vector", lambda: float(X), ValueError, r"size 1"),
    ("silent conversion", lambda: np.asarray(X), TypeError, r"detach"),
    (
        "out= into an array",
        lambda: np.exp(X, out=np.empty(2)),
        TypeError,
        r"would drop its gradient",
    ),
    (
        "unknown NumPy function",
        lambda: np.put(X, [0], 1.0),
        TypeError,
        r"no derivative rule for np\.put",
    ),
    (
        "ufunc keyword",
        lambda: np.exp(X, dtype=np.float32),
        TypeError,
        r"np\.exp.*keyword argument\(s\) dtype",
    ),
    (
        "in-place into a leaf from a graph",
        lambda: cr.tensor([1.0, 2.0], requires_grad=True).__iadd__(X * 2),
        cr.BackwardError,
        r"\+= on a leaf tensor that requires grad, with a value that requires grad",
    ),
    # ----------------------------------------------------------- activations
    ("sigmoid of None", lambda: cr.sigmoid(None), TypeError, r"cr\.sigmoid: expected numbers"),
    ("softmax of str", lambda: cr.softmax("a"), TypeError, r"cr\.softmax: expected numbers"),
    (
        "logsumexp bad axis",
        lambda: cr.logsumexp(np.ones(3), axis=2),
        np.exceptions.AxisError,
        r"axis 2",
    ),
    (
        "sigmoid_backward shapes",
        lambda: cr.sigmoid_backward(np.ones(3), np.ones(2)),
        ValueError,
        r"cr\.sigmoid_backward: grad_out has shape \(3,\) and sigmoid_out \(2,\)",
    ),
    # ----------------------------------------------------------- transforms
    (
        "grad of a non-function",
        lambda: cr.grad(3),
        TypeError,
        r"cr\.grad: f must be a function, got int",
    ),
    (
        "grad of None argument",
        lambda: cr.grad(np.sin)(None),
        TypeError,
        r"cr\.grad: argument 0 has dtype object",
    ),
    (
        "grad of a string",
        lambda: cr.grad(np.sin)("a"),
        TypeError,
        r"cr\.grad: argument 0 has dtype <U1",
    ),
    (
        "grad of an int",
        lambda: cr.grad(np.sin)(3),
        TypeError,
        r"cr\.grad: argument 0 has dtype int",
    ),
    (
        "grad of a vector output",
        lambda: cr.grad(np.sin)(np.ones(2)),
        TypeError,
        r"f must return a scalar, got an output of shape \(2,\)",
    ),
    (
        "grad argnums not an int",
        lambda: cr.grad(np.sin, argnums="a")(1.0),
        ValueError,
        r"argnums='a'",
    ),
    (
        "value_and_grad of a non-function",
        lambda: cr.value_and_grad(None),
        TypeError,
        r"cr\.value_and_grad: f must be a function",
    ),
    (
        "vjp cotangent shape",
        lambda: cr.vjp(np.sin, np.ones(2))[1](np.ones(3)),
        ValueError,
        r"cotangent 0 has shape \(3,\), the output has shape \(2,\)",
    ),
    (
        "vjp of a non-function",
        lambda: cr.vjp(1, np.ones(2)),
        TypeError,
        r"cr\.vjp: f must be a function",
    ),
    (
        "jvp primals not a tuple",
        lambda: cr.jvp(np.sin, np.ones(2), np.ones(2)),
        TypeError,
        r"primals must be a tuple",
    ),
    (
        "jvp int tangent",
        lambda: cr.jvp(np.sin, (np.ones(2),), (np.array([1, 2]),)),
        TypeError,
        r"cr\.jvp: tangent 0 has dtype int64",
    ),
    (
        "jvp tangent shape",
        lambda: cr.jvp(np.sin, (np.ones(2),), (np.ones(3),)),
        ValueError,
        r"tangent 0 has shape \(3,\), its primal has shape \(2,\)",
    ),
    (
        "jacobian of ints",
        lambda: cr.jacobian(np.sin)(np.array([1, 2])),
        TypeError,
        r"cr\.jacobian: argument 0 has dtype int64",
    ),
    (
        "hessian of a vector output",
        lambda: cr.hessian(np.sin)(np.ones(2)),
        TypeError,
        r"cr\.hessian: f must return a scalar",
    ),
    (
        "hvp length mismatch",
        lambda: cr.hvp(np.sum, (np.ones(2),), ()),
        ValueError,
        r"cr\.hvp: 1 primal\(s\) but 0 tangent\(s\)",
    ),
    ("complex input to grad", lambda: cr.grad(np.sum)(np.array([1j])), TypeError, r"complex"),
    # ------------------------------------------------------------ gradcheck
    (
        "gradcheck with no float input",
        lambda: cr.gradcheck(np.sin, None),
        TypeError,
        r"no floating-point input",
    ),
    (
        "gradcheck of a non-function",
        lambda: cr.gradcheck(5, np.ones(2)),
        TypeError,
        r"must be a cr\.Function or a callable",
    ),
    (
        "gradcheck of a None result",
        lambda: cr.gradcheck(lambda x: None, np.ones(2)),
        cr.GradcheckError,
        r"returned no floating-point Tensor output",
    ),
    (
        "gradcheck order 3",
        lambda: cr.gradcheck(np.sin, np.ones(2), order=3),
        ValueError,
        r"order must be 1 or 2",
    ),
    # --------------------------------------------------------------- hooks
    (
        "hook on a constant",
        lambda: cr.tensor([1.0]).register_hook(print),
        cr.BackwardError,
        r"does not require grad",
    ),
    ("hook not callable", lambda: X.register_hook(3), TypeError, r"hook must be callable, got int"),
    # ------------------------------------------------------------ Function
    (
        "Function without forward",
        lambda: cr.Function()(X),
        NotImplementedError,
        r"Function must define forward",
    ),
]


@pytest.mark.parametrize("what, call, error, pattern", ERRORS, ids=[row[0] for row in ERRORS])
def test_bad_input_gives_a_clear_error(what, call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


DOCUMENTED = [
    ("0-d tensor", lambda: cr.grad(lambda x: x**2)(np.array(3.0)), 6.0),
    ("Python float", lambda: cr.grad(lambda x: x**2)(3.0), 6.0),
    ("empty array", lambda: cr.grad(lambda x: np.sum(x))(np.zeros(0)).shape, (0,)),
    (
        "empty sum backward",
        lambda: _backward(lambda t: np.sum(t * 2), np.zeros((0, 3))).shape,
        (0, 3),
    ),
    (
        "read-only input",
        lambda: cr.grad(lambda x: np.sum(x**2))(READ_ONLY).tolist(),
        [0.0, 2.0, 4.0, 6.0],
    ),
    ("read-only into tensor", lambda: cr.tensor(READ_ONLY).data.flags.writeable, True),
    (
        "non-contiguous input",
        lambda: cr.grad(lambda x: np.sum(x**2))(STRIDED).tolist(),
        (2 * STRIDED).tolist(),
    ),
    ("nested list data", lambda: cr.tensor([[1.0, 2.0], [3.0, 4.0]]).shape, (2, 2)),
    (
        "nested list in grad",
        lambda: cr.grad(lambda p: p[0] * p[1][0])([2.0, [3.0]])[1][0].item(),
        2.0,
    ),
    (
        "Python scalar head",
        lambda: _backward(lambda t: np.sum(t), np.ones(2), head=2.0).tolist(),
        [2.0, 2.0],
    ),
    (
        "Tensor head",
        lambda: _backward(lambda t: t * 1.0, np.ones(2), head=cr.tensor([1.0, 3.0])).tolist(),
        [1.0, 3.0],
    ),
    ("sigmoid of a list", lambda: cr.sigmoid([0.0, 0.0]).tolist(), [0.5, 0.5]),
    ("sigmoid of an int", lambda: float(cr.sigmoid(0)), 0.5),
    ("Function on an array", lambda: Doubler()(np.ones(2)).requires_grad, False),
    (
        "non-contiguous tensor op",
        lambda: _backward(lambda t: np.sum(t.T * 2), STRIDED).shape,
        STRIDED.shape,
    ),
]


def _backward(f, value, head=None):
    t = cr.tensor(value, requires_grad=True)
    f(t).backward(head)
    return t.grad


@pytest.mark.parametrize("what, call, expected", DOCUMENTED, ids=[row[0] for row in DOCUMENTED])
def test_edge_inputs_give_the_documented_result(what, call, expected):
    assert call() == expected
