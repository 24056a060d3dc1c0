"""gradcheck: passes correct gradients, diagnoses the classic mistakes."""

from __future__ import annotations

import importlib
import warnings

import numpy as np
import pytest

import chainrule as cr


def function(forward, backward, name="Op"):
    return type(name, (cr.Function,), {"forward": forward, "backward": backward})


def _sig_forward(self, x):
    y = 1 / (1 + np.exp(-x))
    self.save_for_backward(y)
    return y


Sigmoid = function(
    _sig_forward,
    lambda self, dy: dy * self.saved_tensors[0] * (1 - self.saved_tensors[0]),
    "Sigmoid",
)
X = np.array([0.3, -1.2, 2.0])


def test_correct_function_passes():
    assert cr.gradcheck(Sigmoid, X) is True
    assert cr.gradcheck(Sigmoid(), X) is True


def test_numpy_code_on_tensors_passes():
    assert cr.gradcheck(
        lambda x, w: np.tanh(x @ w).sum(axis=0), np.ones((2, 3)) * 0.3, np.eye(3) * 0.5
    )


def test_gradcheck_error_is_an_assertion_error():
    assert issubclass(cr.GradcheckError, AssertionError)


def test_upstream_gradient_ignored_the_forum_bug():
    Forgot = function(
        _sig_forward, lambda self, dy: self.saved_tensors[0] * (1 - self.saved_tensors[0]), "Forgot"
    )
    with pytest.raises(cr.GradcheckError, match="ignores its upstream gradient dy") as info:
        cr.gradcheck(Forgot, X)
    msg = str(info.value)
    assert "Forgot, input 0 (shape (3,))" in msg
    assert "ignores its upstream gradient dy" in msg
    assert "local derivative alone" in msg
    assert "worst element [" in msg and "analytic" in msg and "numerical" in msg


def test_wrong_sign():
    Flipped = function(
        _sig_forward, lambda self, dy: -dy * self.saved_tensors[0] * (1 - self.saved_tensors[0])
    )
    with pytest.raises(cr.GradcheckError, match="wrong sign"):
        cr.gradcheck(Flipped, X)


@pytest.mark.parametrize("factor, shown", [(2.0, "2 times"), (0.5, "0.5 times")])
def test_constant_factor(factor, shown):
    Scaled = function(
        _sig_forward,
        lambda self, dy: factor * dy * self.saved_tensors[0] * (1 - self.saved_tensors[0]),
    )
    with pytest.raises(cr.GradcheckError, match=f"constant factor: it is {shown}"):
        cr.gradcheck(Scaled, X)


def test_missing_reduction_over_broadcast_axes():
    AddBias = function(lambda self, x, b: x + b, lambda self, dy: (dy, dy), "AddBias")
    with pytest.raises(cr.GradcheckError, match="missing the reduction") as info:
        cr.gradcheck(AddBias, np.ones((3, 4)), np.ones(4))
    msg = str(info.value)
    assert "AddBias, input 1 (shape (4,))" in msg
    assert "missing the reduction over the broadcast axes" in msg
    assert "Sum dy over axes (0,)" in msg


def test_missing_reduction_over_a_kept_axis():
    AddBias = function(lambda self, x, b: x + b, lambda self, dy: (dy, dy))
    with pytest.raises(cr.GradcheckError, match=r"Sum dy over axes \(1,\)"):
        cr.gradcheck(AddBias, np.ones((3, 4)), np.ones((3, 1)))


def _matmul_forward(self, w, x):
    self.save_for_backward(w, x)
    return w @ x


def test_transposed_gradient_of_a_square_matrix():
    Transposed = function(
        _matmul_forward,
        lambda self, dy: ((dy @ self.saved_tensors[1].T).T, self.saved_tensors[0].T @ dy),
        "MatMul",
    )
    rng = np.random.default_rng(0)
    with pytest.raises(cr.GradcheckError, match=r"MatMul, input 0.*transposed"):
        cr.gradcheck(Transposed, rng.standard_normal((3, 3)), rng.standard_normal((3, 2)))


def test_transposed_gradient_of_a_rectangular_matrix():
    Transposed = function(
        _matmul_forward,
        lambda self, dy: (self.saved_tensors[1] @ dy.T, self.saved_tensors[0].T @ dy),
        "MatMul",
    )
    rng = np.random.default_rng(0)
    with pytest.raises(
        cr.GradcheckError, match=r"input 0 \(shape \(2, 3\)\).*shape \(3, 2\).*transposed"
    ):
        cr.gradcheck(Transposed, rng.standard_normal((2, 3)), rng.standard_normal((3, 4)))


def test_a_kink_is_reported_as_such_not_as_a_wrong_gradient():
    with pytest.raises(cr.GradcheckError, match=r"a kink\)") as info:
        cr.gradcheck(cr.relu, np.array([0.0, 1.0, -1.0]))
    msg = str(info.value)
    assert "non-differentiable point (a kink)" in msg
    assert "element [0]" in msg and "This is not a wrong gradient" in msg


def test_abs_at_zero_passes_since_its_kink_is_symmetric():
    assert cr.gradcheck(np.abs, np.array([0.0, 1.5]))


def test_generic_wrong_gradient():
    Wrong = function(lambda self, x: x**3, lambda self, dy: dy * 3 * self_x(dy))
    with pytest.raises(cr.GradcheckError, match="disagrees with finite differences"):
        cr.gradcheck(Wrong, X)


def self_x(dy):
    return np.cos(dy)  # deliberately meaningless


def _mul_forward(self, x, y):
    self.save_for_backward(x, y)
    return x * y


def test_returns_none_for_an_input():
    NoGrad = function(_mul_forward, lambda self, dy: (dy * self.saved_tensors[1], None))
    with pytest.raises(cr.GradcheckError, match=r"input 1 .*no gradient \(None or zeros\)"):
        cr.gradcheck(NoGrad, np.array([1.0, 2.0]), np.array([3.0, 4.0]))


def test_wrong_number_of_gradients_is_reported():
    Two = function(lambda self, x: x * 2, lambda self, dy: (dy, dy), "Two")
    with pytest.raises(cr.GradcheckError, match=r"Two\.backward returned 2 gradient"):
        cr.gradcheck(Two, X)


def test_non_float_inputs_pass_through_and_float32_is_checked_in_float64():
    seen = set()

    def reduce(x, axis):
        assert axis == 1
        seen.add(x.dtype)
        return np.sum(x * x, axis=axis)

    assert cr.gradcheck(reduce, np.ones((2, 3), np.float32), 1)
    assert seen == {np.dtype(np.float64), np.dtype(np.float32)}  # finite differences in float64


def test_multiple_outputs_are_checked():
    class SplitOps(cr.Function):
        def forward(self, x):
            self.save_for_backward(x)
            return x * 2, x**2

        def backward(self, d1, d2):
            (x,) = self.saved_tensors
            return d1 * 2 + d2 * 2 * x

    assert cr.gradcheck(SplitOps, X)

    class SecondIgnored(SplitOps):
        def backward(self, d1, d2):
            return d1 * 2

    with pytest.raises(
        cr.GradcheckError,
        match=r"SecondIgnored, input 0 \(shape \(3,\)\): the analytic gradient disagrees",
    ):
        cr.gradcheck(SecondIgnored, X)


def test_seed_makes_it_deterministic_and_upstream_is_not_all_ones():
    seen = []

    class Record(cr.Function):
        def forward(self, x):
            return x * 1.0

        def backward(self, dy):
            if isinstance(dy, np.ndarray):  # forward mode runs backward on Tensors too
                seen.append(dy.copy())
            return dy

    cr.gradcheck(Record, X, seed=3)
    cr.gradcheck(Record, X, seed=3)
    np.testing.assert_array_equal(seen[0], seen[1])
    assert not np.allclose(seen[0], 1.0)


def test_bad_arguments():
    with pytest.raises(TypeError, match="no floating-point input"):
        cr.gradcheck(lambda n: n, 3)
    with pytest.raises(TypeError, match=r"must be a cr\.Function or a callable"):
        cr.gradcheck(42, X)
    with pytest.raises(cr.GradcheckError, match="not recorded"):
        cr.gradcheck(lambda x: np.sin(x.detach().numpy()), X)


# ------------------------------------------------------------ at scale
def test_fast_mode_checks_a_large_input_with_a_few_evaluations_and_catches_a_small_error():
    x = np.random.default_rng(0).standard_normal(10_000)
    calls = []

    def f(t):
        calls.append(1)
        return np.tanh(t) * np.sin(t)

    assert cr.gradcheck(f, x, fast_mode=True)
    # A handful in each mode (reverse: 4, forward: 3), not two per element as the full
    # check would need.
    assert len(calls) <= 8
    OffByOnePercent = function(
        lambda self, x: (self.save_for_backward(x), x**2)[1],
        lambda self, dy: dy * 2 * self.saved_tensors[0] * 1.01,
        "OffByOnePercent",
    )
    with pytest.raises(
        cr.GradcheckError, match=r"fast mode.*OffByOnePercent, input 0 \(shape \(10000,\)\)"
    ):
        cr.gradcheck(OffByOnePercent, x, fast_mode=True)


def test_fast_mode_on_a_small_input_gives_the_full_diagnosis():
    Forgot = function(
        _sig_forward, lambda self, dy: self.saved_tensors[0] * (1 - self.saved_tensors[0])
    )
    with pytest.raises(cr.GradcheckError, match="ignores its upstream gradient"):
        cr.gradcheck(Forgot, X, fast_mode=True)


def test_order_2_checks_second_derivatives():
    assert cr.gradcheck(lambda x: np.sum(np.tanh(x) ** 3), X, order=2)
    assert cr.gradcheck(Sigmoid, X, order=2)

    def cube_backward(self, dy):
        (x,) = self.saved_tensors
        # Right to first order, but floor() hides x from the second derivative.
        return dy * 3 * x * (np.floor(x * 1e8) / 1e8)

    Cube = function(lambda self, x: (self.save_for_backward(x), x**3)[1], cube_backward, "Cube")
    assert cr.gradcheck(Cube, X)
    with pytest.raises(
        cr.GradcheckError,
        match=r"second order \(order=2\), reverse over reverse \(the gradient of the gradient\): "
        r"gradcheck failed for the gradient of Cube",
    ):
        cr.gradcheck(Cube, X, order=2)


def test_order_2_through_a_function_that_saves_an_intermediate_names_it():
    SavesSquare = function(
        lambda self, x: (self.save_for_backward(x * x), x**3)[1],
        lambda self, dy: dy * 3 * self.saved_tensors[0],
        "SavesSquare",
    )
    assert cr.gradcheck(SavesSquare, X)
    with pytest.raises(cr.BackwardError, match="SavesSquare saved an array"):
        cr.gradcheck(SavesSquare, X, order=2)


def test_float32_inputs_are_also_checked_in_float32():
    assert cr.gradcheck(lambda x: np.tanh(x) * 2, X.astype(np.float32))

    def lossy(x):  # fine in float64 (to 1e-10), rounded to multiples of 1/16 in float32
        return (x + 1e6) - 1e6

    # Points far from multiples of 1/16, so that float32 loses a lot at each; (x + 1e8)
    # would lose too much in float64 as well for finite differences at eps=1e-6.
    x = np.array([0.03, 0.47, -0.22], np.float32)
    with pytest.raises(cr.GradcheckError, match=r"input 0 in float32: the gradient computed"):
        cr.gradcheck(lambda x: lossy(x) * x, x)
    assert cr.gradcheck(lambda x: lossy(x) * x, x, dtype_tolerances={})


def test_bad_order():
    with pytest.raises(ValueError, match="order must be 1 or 2"):
        cr.gradcheck(np.sin, X, order=3)


# ------------------------------------------------------------ never vacuous
class NaNBack(cr.Function):
    def forward(self, x):
        return 2 * x

    def backward(self, dy):
        return dy * np.nan


def test_a_backward_returning_nan_fails_naming_the_element():
    with pytest.raises(
        cr.GradcheckError,
        match=r"NaNBack, input 0 \(shape \(2,\)\): the backward returned NaN at element \[0\]",
    ):
        cr.gradcheck(NaNBack, np.array([1.0, 2.0]))
    with pytest.raises(cr.GradcheckError, match=r"backward returned NaN at element \[0\]"):
        cr.gradcheck(NaNBack, np.array([1.0, 2.0]), fast_mode=True)


def test_a_backward_returning_inf_at_one_element_names_it():
    class InfAtOne(cr.Function):
        def forward(self, x):
            self.save_for_backward(x)
            return x**2

        def backward(self, dy):
            (x,) = self.saved_tensors
            return dy * np.where(x > 1.5, np.inf, 2 * x)

    with pytest.raises(
        cr.GradcheckError,
        match=r"input 1 \(shape \(2, 2\)\): the backward returned inf at element \[1, 0\] "
        r"\(1 of 4 elements",
    ):
        cr.gradcheck(
            lambda a, b: InfAtOne()(a) * InfAtOne()(b),
            np.array([0.5, 0.7]),
            np.array([[0.1, 0.2], [2.0, 0.3]]),
        )


@pytest.mark.parametrize("bad, kind", [(np.nan, "NaN"), (np.inf, "inf"), (-np.inf, "-inf")])
def test_a_non_finite_input_is_a_value_error_naming_input_and_element(bad, kind):
    x = np.array([[1.0, 2.0], [3.0, bad]])
    with pytest.raises(
        ValueError, match=rf"input 1 of <lambda> contains {kind} at element \[1, 1\]"
    ):
        cr.gradcheck(lambda y, x: np.sum(x**2) * y, np.array(1.0), x)


def test_the_issue_examples_no_longer_pass():
    with pytest.raises(cr.GradcheckError, match="backward returned NaN"):
        cr.gradcheck(NaNBack, np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"input 0 of <lambda> contains NaN at element \[0\]"):
        cr.gradcheck(lambda x: np.sum(x**2), np.array([np.nan, 1.0]))


def test_a_function_that_is_not_finite_at_the_point_fails():
    with pytest.raises(
        cr.GradcheckError,
        match=r"<lambda> is not finite at the given point: output 0 is NaN at element \[0\]",
    ):
        cr.gradcheck(lambda x: np.log(x - 1.5), np.array([1.0, 2.0]))
    with pytest.raises(cr.GradcheckError, match=r"not finite at the given point: output 1 is inf"):
        cr.gradcheck(lambda x: (x, np.exp(x)), np.array([1.0, 800.0]))


def test_a_function_not_finite_within_eps_of_the_point_fails_in_every_mode():
    for modes in [("rev",), ("fwd",), ("rev", "fwd")]:
        for fast_mode in (False, True):
            with pytest.raises(
                cr.GradcheckError,
                match=r"sqrt is not finite near the given point \(input 0.*edge of the "
                r"function's domain",
            ):
                cr.gradcheck(np.sqrt, np.array([0.0, 2.0]), modes=modes, fast_mode=fast_mode)


@pytest.mark.parametrize("modes", [("rev",), ("fwd",)])
def test_finite_outputs_too_large_to_difference_fail(modes):
    with pytest.raises(
        cr.GradcheckError, match=r"finite differences of <lambda> .* are not finite: output 0"
    ):
        cr.gradcheck(lambda x: 1.5e308 * np.tanh(x * 1e7), np.array([0.0, 1.0]), modes=modes)


def test_no_numpy_warning_leaks_out():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(cr.GradcheckError, match="not finite near the given point"):
            cr.gradcheck(lambda x: np.log(x), np.array([1e-7, 2.0]))  # log of a negative
        with pytest.raises(cr.GradcheckError, match="not finite at the given point"):
            cr.gradcheck(lambda x: np.exp(x) - np.exp(x), np.array([1e3]))  # inf - inf
    assert [str(w.message) for w in caught] == []


# ------------------------------------------------------------ tolerances
def _sin_off_by(factor):
    return function(
        lambda self, x: (self.save_for_backward(x), np.sin(x))[1],
        lambda self, dy: dy * np.cos(self.saved_tensors[0]) * factor,
        "SinOff",
    )


def test_full_mode_catches_a_backward_wrong_by_two_percent():
    x = np.random.default_rng(1).uniform(-2, 2, (3, 4))
    assert cr.gradcheck(_sin_off_by(1.0), x, fast_mode=False)
    with pytest.raises(
        cr.GradcheckError, match=r"SinOff, input 0 .*it is 1\.02 times the true one"
    ):
        cr.gradcheck(_sin_off_by(1.02), x, fast_mode=False, modes=("rev",))
    with pytest.raises(cr.GradcheckError, match=r"it is 0\.98 times the true one"):
        cr.gradcheck(_sin_off_by(0.98), x, fast_mode=False)


def test_forward_mode_catches_a_jvp_wrong_by_two_percent():
    class SinJvpOff(cr.Function):
        def forward(self, x):
            self.save_for_backward(x)
            return np.sin(x)

        def backward(self, dy):
            return dy * np.cos(self.saved_tensors[0])

        def jvp(self, t):
            return t * np.cos(self.saved_tensors[0]) * 1.02

    x = np.random.default_rng(2).uniform(-2, 2, 5)
    with pytest.raises(cr.GradcheckError, match=r"forward mode: the JVP .* 1\.02 times"):
        cr.gradcheck(SinJvpOff, x, modes=("fwd",))


# ------------------------------------------------------------ modes
def test_modes_default_to_both_and_each_can_be_chosen():
    assert cr.gradcheck(Sigmoid, X, modes=("rev",))
    assert cr.gradcheck(Sigmoid, X, modes=("fwd",))
    assert cr.gradcheck(Sigmoid, X, modes="fwd")
    assert cr.gradcheck(np.tanh, X, modes=("fwd", "rev"), order=2)


class SigmoidBadJvp(cr.Function):
    def forward(self, x):
        y = 1 / (1 + np.exp(-x))
        self.save_for_backward(y)
        return y

    def backward(self, dy):
        (y,) = self.saved_tensors
        return dy * y * (1 - y)

    def jvp(self, t):
        (y,) = self.saved_tensors
        return t * y  # forgot (1 - y)


def test_a_jvp_disagreeing_with_backward_is_diagnosed_as_such():
    assert cr.gradcheck(SigmoidBadJvp, X, modes=("rev",))  # reverse mode alone cannot see it
    with pytest.raises(
        cr.GradcheckError,
        match=r"^SigmoidBadJvp: jvp\(\) and backward\(\) disagree: backward\(\) matches finite "
        r"differences, jvp\(\) does not\.\n.*input 0 \(shape \(3,\)\), forward mode",
    ):
        cr.gradcheck(SigmoidBadJvp, X)


def test_a_backward_disagreeing_with_a_right_jvp_says_jvp_matches():
    class BadBackward(SigmoidBadJvp):
        def backward(self, dy):
            (y,) = self.saved_tensors
            return -dy * y * (1 - y)

        def jvp(self, t):
            (y,) = self.saved_tensors
            return t * y * (1 - y)

    with pytest.raises(
        cr.GradcheckError,
        match=r"^BadBackward: jvp\(\) and backward\(\) disagree: jvp\(\) matches finite "
        r"differences, backward\(\) does not\.\n.*wrong sign",
    ):
        cr.gradcheck(BadBackward, X)


def test_the_dot_product_test_catches_modes_each_within_tolerance_but_apart():
    class Apart(cr.Function):
        def forward(self, x):
            return x * 3.0

        def backward(self, dy):
            return dy * 3.0 * 1.0009  # each 0.09 % off, within rtol=1e-3 of finite differences

        def jvp(self, t):
            return t * 3.0 * 0.9991

    x = np.array([0.5, 1.5, 2.5])
    assert cr.gradcheck(Apart, x, atol=1e-9, modes=("rev",))
    assert cr.gradcheck(Apart, x, atol=1e-9, modes=("fwd",))
    with pytest.raises(
        cr.GradcheckError,
        match=r"^gradcheck failed for Apart, input 0 \(shape \(3,\)\), forward mode: Apart\.jvp\(\) "
        r"and backward disagree \(the dot-product test\): .*<J v, u> from "
        r"Apart\.jvp\(\) is",
    ):
        cr.gradcheck(Apart, x, atol=1e-9)


def test_forward_mode_that_cannot_run_is_reported_not_passed():
    class BufferBackward(cr.Function):  # backward writes into a NumPy buffer: not on Tensors
        def forward(self, x):
            self.n = x.size
            return x[1:] * 2

        def backward(self, dy):
            g = np.zeros(self.n)
            g[1:] = 2 * dy
            return g

    x = np.array([0.1, 0.2, 0.3])
    assert cr.gradcheck(BufferBackward, x, modes=("rev",))
    with pytest.raises(
        cr.GradcheckError,
        match=r"forward mode: cr\.jvp could not run \(BackwardError: BufferBackward\.backward "
        r"failed when run on Tensors.*Pass modes=\('rev',\)",
    ):
        cr.gradcheck(BufferBackward, x)


@pytest.mark.parametrize("modes", [(), ("bwd",), ("rev", "reverse"), 3])
def test_bad_modes(modes):
    with pytest.raises(ValueError, match=r"modes must be a non-empty tuple of 'rev' and 'fwd'"):
        cr.gradcheck(np.sin, X, modes=modes)


def test_order_2_in_forward_mode_alone_is_refused_not_skipped():
    with pytest.raises(NotImplementedError, match=r"forward over forward .* add 'rev' to modes"):
        cr.gradcheck(np.sin, X, order=2, modes=("fwd",))


def test_order_2_checks_three_mixes_and_skips_forward_over_forward(monkeypatch):
    module = importlib.import_module("chainrule.gradcheck")
    inner = []
    original = module.gradcheck

    def spy(fn, *inputs, **kwargs):
        if kwargs.get("order", 1) == 1:
            inner.append((fn.__name__, kwargs["modes"]))
        return original(fn, *inputs, **kwargs)

    monkeypatch.setattr(module, "gradcheck", spy)
    assert original(lambda x: np.sin(x) * x, X, order=2)
    assert inner == [
        ("the gradient of <lambda>", ("rev",)),  # reverse over reverse
        ("the gradient of <lambda>", ("fwd",)),  # forward over reverse
        ("the JVP of <lambda>", ("rev",)),  # reverse over forward
    ]
    inner.clear()
    assert original(lambda x: np.sin(x) * x, X, order=2, modes=("rev",))
    assert inner == [("the gradient of <lambda>", ("rev",))]
