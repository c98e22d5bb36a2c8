"""The scalar engine's derivative rules: each operation's local derivatives, written once.

``Value``'s operators (``engine.py``) and the fused neuron (``fused.py``) compute their result and
take d result / d input from a rule here. Beside the rules sit the forward computations that need
care of their own: the activations (``ACTIVATIONS``: f, its slope and its rule, in one table) and
``_checked_pow``, which turns a power with no real value into an error that names both numbers.

A rule tells floats from Values (``_number``, ``_power``, ``_log``), so this module imports ``Value``;
``engine.py`` imports it only once ``Value`` is defined, at its end, so the two load without a cycle.
"""

from __future__ import annotations

import math

from chainrule.domains import pow_domain
from chainrule.engine import Value


# -- each operation's local derivatives, written once ------------------------------------------------
# A rule takes the operation's inputs and its result and returns d result / d input for each input. It
# uses arithmetic only (and _number, _power, _log below), so the same rule runs on floats, where the
# forward pass evaluates it into _local_grads, and on Values, where backward(create_graph=True) builds
# the gradient as a graph of its own that can be differentiated again.
def _number(x) -> float:
    return x.data if isinstance(x, Value) else x


def _add_rule(a, b, out):
    return 1.0, 1.0  # d(a + b)/da = 1, d(a + b)/db = 1


def _mul_rule(a, b, out):
    return b, a  # d(a * b)/da = b, d(a * b)/db = a


def _div_rule(a, b, out):
    # d(a / b)/da = 1/b, d(a / b)/db = -a/b**2, written -out/b so that a tiny b gives -inf (as in
    # PyTorch) instead of dividing by an underflowed b*b = 0.
    return 1.0 / b, -out / b


def _neg_rule(x, out):
    return (-1.0,)


def _exp_rule(x, out):
    return (out,)  # d(e**x)/dx = e**x


def _log_rule(x, out):
    return (1.0 / x,)  # d(ln x)/dx = 1/x


def _power_rule(n: float):
    """The rule of ``x ** n`` for a number n: d/dx = n * x**(n-1) (0 when n is 0)."""

    def rule(x, out):
        return (0.0 if n == 0.0 else n * _power(x, n - 1.0),)

    return rule


def _pow_rule(a, b, out):
    # d(a**b)/da = b * a**(b-1); d(a**b)/db = a**b * ln(a), real only for a > 0. At a = 0 the limit is
    # 0 (for b >= 0); for a < 0 there is no real derivative and the gradient is NaN, as in PyTorch.
    av, bv = _number(a), _number(b)
    # At b = 0 the slope b * a**(b-1) is 0, but on Values it must stay a graph in b (its derivative in b
    # is a**-1): only where a is 0 too (0 * inf) is it the constant 0.
    d_base = 0.0 if bv == 0.0 and (av == 0.0 or not isinstance(b, Value)) else b * _power(a, b - 1.0)
    if av > 0.0:
        d_exponent = out * _log(a)
    elif av == 0.0 and bv >= 0.0:
        d_exponent = 0.0
    else:
        d_exponent = out * math.nan  # NaN, and on Values a graph whose derivatives are NaN too, as in PyTorch
    return d_base, d_exponent


def _power(x, k):
    """``x ** k``; on floats with IEEE results where Python raises (0 ** -1 is inf, overflow is inf)."""
    if isinstance(x, Value) or isinstance(k, Value):
        if _number(x) == 0.0 and _number(k) < 0.0:
            return _pole(x, k)
        return x**k
    try:
        return x**k
    except ZeroDivisionError:
        return math.copysign(math.inf, x) if float(k).is_integer() and k % 2 else math.inf
    except OverflowError:
        return -math.inf if x < 0.0 and k % 2.0 == 1.0 else math.inf


def _pole(x, k):
    """``0 ** k`` for a negative k, on Values: inf, as on floats and in PyTorch. The slope of a root at 0
    (0.5 * x ** -0.5 for x ** 0.5) is such a power, and the operator would raise for a power nobody wrote,
    so the node is built here by hand, with its rule."""
    x = x if isinstance(x, Value) else Value(x)
    out = _power(x.data, _number(k))
    if isinstance(k, Value):
        return Value(out, (x, k), "**", _local_grads=_pow_rule(x.data, k.data, out), _rule=_pow_rule)
    rule = _power_rule(k)
    return Value(out, (x,), f"**{k}", _local_grads=rule(x.data, out), _rule=rule)


def _log(x):
    return x.log() if isinstance(x, Value) else math.log(x)


# Activations: f(x), its slope f'(x) written from out = f(x) (so a neuron needs no other number), and
# the slope as a rule of (x, out). Value's methods and the fused neuron share them.
def _tanh_slope(out):
    return 1.0 - out * out  # d(tanh x)/dx = 1 - tanh(x)**2


def _sigmoid_slope(out):
    return out * (1.0 - out)  # d(sigmoid x)/dx = sigmoid(x) * (1 - sigmoid(x))


def _relu_slope(out):
    # 1 for x > 0, else 0 (0 at x = 0, as in PyTorch). NaN stays NaN and passes its gradient on, as
    # PyTorch's relu does (it zeroes the gradient only where the result is <= 0).
    return 0.0 if (out if type(out) is float else _number(out)) <= 0.0 else 1.0


def _linear_slope(out):
    return 1.0


def _relu(x: float) -> float:
    return x if not x <= 0.0 else 0.0  # NaN stays NaN


def _sigmoid(x: float) -> float:
    # Written so that exp never overflows: for negative x, use e**x / (1 + e**x).
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _unary_rule(slope):
    def rule(x, out):
        return (slope(out),)

    return rule


ACTIVATIONS = {
    name: (f, slope, _unary_rule(slope))
    for name, f, slope in [
        ("tanh", math.tanh, _tanh_slope),
        ("relu", _relu, _relu_slope),
        ("sigmoid", _sigmoid, _sigmoid_slope),
        ("linear", float, _linear_slope),
    ]
}


def _checked_pow(base: float, exponent: float) -> float:
    """``base ** exponent`` as a real float, or an error that names both numbers (see ``domains.py``)."""
    if base == 0.0 and exponent < 0.0:
        raise pow_domain("zero", repr(base), repr(exponent))
    if base < 0.0 and not float(exponent).is_integer():
        raise pow_domain("root", repr(base), repr(exponent))
    try:
        return base**exponent
    except OverflowError:
        raise pow_domain("overflow", repr(base), repr(exponent)) from None
