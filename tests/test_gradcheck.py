"""``numerical_derivative`` and ``gradcheck``: the notes' slope (f(x + h) - f(x)) / h made into a checker,
tested against closed-form derivatives, and shown to catch a deliberately wrong ``_backward``.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule import GradcheckError, Value, gradcheck, numerical_derivative


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
