"""``numerical_derivative`` and ``gradcheck``: the notes' slope (f(x + h) - f(x)) / h made into a checker,
tested against closed-form derivatives, and shown to catch a deliberately wrong ``_backward``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import assert_close

from chainrule import GradcheckError, Tensor, Value, gradcheck, numerical_derivative


def f(x):
    return 3 * x**2 - 4 * x + 5


def test_slope_of_the_notes_parabola_at_3_is_14():
    # f'(x) = 6x - 4
    assert numerical_derivative(f, 3.0) == pytest.approx(14.0, abs=1e-6)
    assert numerical_derivative(f, 3.0, h=1e-6) == pytest.approx(14.0, abs=1e-6)


def test_central_difference_is_the_default_and_more_accurate_than_forward():
    h = 1e-3
    central = numerical_derivative(f, 3.0, h=h)
    forward = numerical_derivative(f, 3.0, h=h, method="forward")
    assert central == numerical_derivative(f, 3.0, h=h, method="central")
    # For a parabola the central difference is exact up to rounding; the forward one is off by 3h.
    assert central == pytest.approx(14.0, abs=1e-8)
    assert forward == pytest.approx(14.0 + 3 * h, abs=1e-8)
    assert forward == pytest.approx((f(3.0 + h) - f(3.0)) / h, rel=1e-15)


@pytest.mark.parametrize("x", [-2.0, 0.0, 0.5, 3.0, 10.0])
def test_slope_of_the_parabola_everywhere(x):
    assert numerical_derivative(f, x) == pytest.approx(6 * x - 4, abs=1e-5)
    assert numerical_derivative(f, x, method="forward") == pytest.approx(6 * x - 4, abs=1e-4)


def test_function_returning_a_value():
    slope = numerical_derivative(lambda x: f(Value(x)), 3.0)
    assert type(slope) is float
    assert slope == pytest.approx(14.0, abs=1e-6)
    assert numerical_derivative(lambda x: Value(x).tanh(), 0.5) == pytest.approx(1 - math.tanh(0.5) ** 2, abs=1e-9)


def test_gradient_from_backward_agrees_with_the_slope():
    x = Value(3.0)
    f(x).backward()
    assert x.grad == 14.0
    assert x.grad == pytest.approx(numerical_derivative(f, 3.0), abs=1e-6)


@settings(max_examples=50, deadline=None)
@given(st.floats(-3.0, 3.0), st.floats(-3.0, 3.0), st.floats(0.5, 3.0))
def test_gradcheck_passes_on_correct_gradients(a, b, c):
    def g(x, y, z):
        return (x * y).tanh() + y**2 / z - (z.log() * x).exp() + x.sigmoid() * z

    values = [Value(a), Value(b), Value(c)]
    assert gradcheck(g, values) is True
    # the inputs keep their data and hold the analytic gradient afterwards
    assert [v.data for v in values] == [a, b, c]
    x, y, z = Value(a), Value(b), Value(c)
    g(x, y, z).backward()
    assert [v.grad for v in values] == [x.grad, y.grad, z.grad]


def test_gradcheck_resets_gradients_before_checking():
    x = Value(1.5)
    x.grad = 123.0  # stale gradient from some earlier backward()
    assert gradcheck(lambda v: v * v, [x]) is True
    assert x.grad == 3.0


def wrong_square(v: Value) -> Value:
    """v**2 with a deliberately wrong backward: d/dv written as v instead of 2v."""
    out = Value(v.data**2, (v,), "wrong_square")

    def _backward():
        v.grad += v.data * out.grad

    out._backward = _backward
    return out


def test_gradcheck_raises_naming_the_input_and_both_numbers():
    x = Value(3.0, label="x")
    y = Value(2.0, label="y")
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a, b: a * b + wrong_square(b), [x, y])
    message = str(info.value)
    # d/dx = y = 2 is right; d/dy = x + 2y = 7, but the wrong backward gives x + y = 5
    assert "input 1" in message and "'y'" in message
    assert "5.0" in message
    numeric = float(message.split("but ")[1].split(" from")[0])
    assert numeric == pytest.approx(7.0, abs=1e-6)
    assert isinstance(info.value, AssertionError)


def test_gradcheck_error_without_a_label_names_the_position():
    with pytest.raises(GradcheckError, match=r"input 0 is 2\.0 from backward\(\) but 4\.0\d* from central differences"):
        gradcheck(wrong_square, [Value(2.0)], atol=1e-7, rtol=1e-7)


def test_gradcheck_tolerances():
    # analytic 4.0 vs numeric 4.0 within rounding: passes; a wrong gradient off by 1% fails only under tight rtol.
    def slightly_wrong(v: Value) -> Value:
        out = Value(v.data**2, (v,), "slightly_wrong")

        def _backward():
            v.grad += 2.02 * v.data * out.grad

        out._backward = _backward
        return out

    assert gradcheck(slightly_wrong, [Value(2.0)], rtol=0.02) is True
    with pytest.raises(GradcheckError):
        gradcheck(slightly_wrong, [Value(2.0)], rtol=1e-3)
    assert gradcheck(slightly_wrong, [Value(2.0)], atol=0.1, rtol=0.0) is True


def test_gradcheck_with_custom_eps():
    assert gradcheck(lambda v: v.exp(), [Value(1.0)], eps=1e-4) is True
    # with a huge step the central difference of exp is far from e: the check fails
    with pytest.raises(GradcheckError):
        gradcheck(lambda v: v.exp(), [Value(1.0)], eps=1.0, atol=1e-6, rtol=1e-6)


# -- the inputs come back as they went in, however the check ends ----------------------------------
def test_inputs_are_restored_when_f_raises_at_a_nudged_point():
    x = Value(5e-4, label="x")
    # log is fine at 5e-4 but not at 5e-4 - eps: f raises halfway through the check
    with pytest.raises(ValueError, match="log"):
        gradcheck(lambda v: v.log(), [x], eps=1e-3)
    assert x.data == 5e-4
    assert x.grad == pytest.approx(1 / 5e-4, rel=1e-12)  # the analytic gradient, from before the nudges


def test_tensor_inputs_are_restored_when_f_raises_at_a_nudged_point():
    start = np.array([[0.5, 2.0], [5e-4, 3.0]])
    t = Tensor(start, requires_grad=True)
    other = Value(1.5)
    with pytest.raises(ValueError, match="log"):
        gradcheck(lambda a, b: a.log().sum() * b.data, [t, other], eps=1e-3)
    np.testing.assert_array_equal(t.data, start)
    assert other.data == 1.5


def test_inputs_are_restored_when_the_check_fails():
    x, y = Value(3.0), Value(2.0)
    with pytest.raises(GradcheckError):
        gradcheck(lambda a, b: a * b + wrong_square(b), [x, y])
    assert (x.data, y.data) == (3.0, 2.0)
    t = Tensor([1.0, -2.0], requires_grad=True)

    def wrong_tensor_square(v):
        out = Tensor(v.data**2, _children=(v,), _op="wrong_square")
        out._backward = lambda: v._accumulate(v.data * out.grad)  # should be 2 * v.data
        return out.sum()

    with pytest.raises(GradcheckError, match=r"input 0, element 0"):
        gradcheck(wrong_tensor_square, [t])
    np.testing.assert_array_equal(t.data, [1.0, -2.0])


def test_tensor_nudges_never_write_into_an_array_f_has_seen():
    # Each nudge is a new array assigned to t.data: an array f (or a graph) kept hold of never changes.
    start = np.array([0.3, -1.2, 2.0])
    t = Tensor(start, requires_grad=True)
    seen = []

    def f(v):
        seen.append((v.data, v.data.copy()))
        return (v * v).tanh().sum()

    assert gradcheck(f, [t]) is True
    assert len(seen) == 1 + 2 * 3
    assert all(np.array_equal(array, copy) for array, copy in seen)
    np.testing.assert_array_equal(t.data, start)


def test_tensor_gradients_left_behind_are_torchs(torch):
    x = np.array([[0.3, -1.2, 2.0], [0.5, 0.1, -0.7]])
    w = np.array([0.4, -0.6, 1.1])
    a, b = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)
    assert gradcheck(lambda p, q: ((p * q).tanh() + (p * p + 1.0).log()).sum(), [a, b]) is True
    ta, tb = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    ((ta * tb).tanh() + (ta * ta + 1.0).log()).sum().backward()
    assert_close(a.grad, ta.grad, rtol=1e-12, atol=1e-14, what="gradient of a")
    assert_close(b.grad, tb.grad, rtol=1e-12, atol=1e-14, what="gradient of b")
    np.testing.assert_array_equal(a.data, x)


# -- what gradcheck cannot check is an error, not a false result ----------------------------------
def test_plain_numbers_as_inputs_are_a_type_error():
    with pytest.raises(
        TypeError, match=r"^gradcheck: input 0 is float 0\.5; inputs must be Values or Tensors.*Value\(0\.5\)"
    ):
        gradcheck(lambda v: v * v, [0.5])
    with pytest.raises(TypeError, match=r"^gradcheck: input 1 is int 2"):
        gradcheck(lambda a, b: a * b, [Value(1.0), 2])
    with pytest.raises(TypeError, match=r"^gradcheck: inputs must be a list, got a single Value; pass \[x\]"):
        gradcheck(lambda v: v * v, Value(0.5))
    with pytest.raises(TypeError, match=r"^gradcheck: inputs must be a list of Values or Tensors, got float"):
        gradcheck(lambda v: v * v, 0.5)


def test_no_inputs_is_an_error():
    with pytest.raises(ValueError, match=r"^gradcheck: got no inputs"):
        gradcheck(lambda: Value(1.0), [])


def test_a_float32_tensor_is_refused_not_reported_wrong():
    # in float32 the central difference is rounding noise: a correct backward() would be reported wrong
    t = Tensor([0.3, -1.2], requires_grad=True, dtype=np.float32)
    with pytest.raises(
        TypeError, match=r"^gradcheck: input 0 is a float32 Tensor; gradcheck needs float64.*dtype=np\.float64"
    ):
        gradcheck(lambda v: (v * v).sum(), [t])
    np.testing.assert_array_equal(t.data, np.float32([0.3, -1.2]))
    assert gradcheck(lambda v: (v * v).sum(), [Tensor(t.data, requires_grad=True, dtype=np.float64)]) is True


def test_a_tensor_without_requires_grad_is_an_error():
    with pytest.raises(ValueError, match=r"^gradcheck: input 0 is a Tensor with requires_grad=False"):
        gradcheck(lambda v: (v * v).sum(), [Tensor([1.0, 2.0])])


def test_f_must_return_a_single_number_from_the_graph():
    t = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(
        ValueError,
        match=r"^gradcheck: f must return a single number, but f\(\*inputs\) is a Tensor of shape \(3,\).*\.sum\(\)",
    ):
        gradcheck(lambda v: v * v, [t])
    with pytest.raises(TypeError, match=r"^gradcheck: f must return a Value or a one-element Tensor.*float 1\.0"):
        gradcheck(lambda v: 1.0, [Value(2.0)])
    with pytest.raises(TypeError, match=r"^gradcheck: f must return a Value .*NoneType None"):
        gradcheck(lambda v: None, [Value(2.0)])
    with pytest.raises(ValueError, match=r"^gradcheck: f\(\*inputs\) does not depend on any input"):
        gradcheck(lambda v: Tensor([1.0]).sum(), [t])
    np.testing.assert_array_equal(t.data, [1.0, 2.0, 3.0])


@pytest.mark.parametrize("eps", [0.0, -1e-6, math.nan, math.inf])
def test_bad_steps_are_refused(eps):
    with pytest.raises(ValueError, match=rf"^gradcheck: step eps must be > 0, got {eps!r}"):
        gradcheck(lambda v: v * v, [Value(1.0)], eps=eps)
    with pytest.raises(ValueError, match=rf"^numerical_derivative: step h must be > 0, got {eps!r}"):
        numerical_derivative(f, 1.0, h=eps)


@pytest.mark.parametrize("name", ["atol", "rtol"])
@pytest.mark.parametrize("tol", [-1e-5, math.nan, math.inf])
def test_bad_tolerances_are_refused(name, tol):
    with pytest.raises(ValueError, match=rf"^gradcheck: {name} must be a finite number >= 0, got {tol!r}"):
        gradcheck(lambda v: v * v, [Value(1.0)], **{name: tol})


def test_numerical_derivative_at_a_float32_point_is_measured_in_float64():
    # in float32, 3 +- 1e-6 rounds to a neighbour of 3 (spacing 2.4e-7): the slope of the parabola
    # through Values came out as 13.35 instead of 14, with no error
    assert numerical_derivative(lambda x: f(Value(x)), np.float32(3.0)) == pytest.approx(14.0, abs=1e-6)
    assert numerical_derivative(f, np.float32(3.0)) == pytest.approx(14.0, abs=1e-6)
    assert type(numerical_derivative(f, np.float32(3.0))) is float
    assert numerical_derivative(f, np.int64(3)) == pytest.approx(14.0, abs=1e-6)


def test_numerical_derivative_of_a_function_with_several_outputs_is_an_error():
    with pytest.raises(
        ValueError, match=r"^numerical_derivative: f must return a single number, got an array of shape \(2,\)"
    ):
        numerical_derivative(lambda x: np.array([x, 2 * x]), 1.0)
