"""The Tensor engine's operations: each computes its result, and its derivative rule sits beside it.

An operation checks its input (``chainrule/array_checks.py``), computes the result with NumPy, and
``record`` s it (``chainrule/tensor_record.py``) with a ``Rule``: one vector-Jacobian product per
operand (``g`` is the gradient of the result; each product returns one operand's share) and the arrays
those products read. The scalar engine's rules, one array at a time: ``d(a * b)/da = b`` becomes ``g * b``.

Each rule is written once, with operators, methods that ndarrays and Tensors share, and the functions
of ``chainrule/array_math.py``: the first-order ``backward()`` runs it on arrays; ``create_graph=True``
runs it on Tensors, so the gradient is a graph of the same operations and can be differentiated again.
A rule that reads only a constant (relu's 0/1 slope, the largest entries of a max) has a second
derivative of zero, which is what running it on Tensors gives too.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from chainrule import array_math as xp  # the rules' functions: NumPy's on arrays, these operations on Tensors
from chainrule.array_checks import (
    AxisError,
    at_fault,
    broadcasting,
    check_pow_domain,
    div_by_zero_error,
    exp_overflow_error,
    log_domain_error,
    normalize_axes,
    some_values,
)
from chainrule.autodiff import _grad_mode, short_repr
from chainrule.tensor import Tensor
from chainrule.tensor_record import Rule, lift, record

# -- arithmetic ------------------------------------------------------------------------------------
# d(a + b)/da = 1, d(a + b)/db = 1: the gradient passes through (unbroadcast sums it where needed)
ADD = Rule("", lambda g: g, lambda g: g)


def add(a: Tensor, b) -> Tensor:
    b = lift(a, b, "add")
    return record(broadcasting(np.add, a._data, b._data, "add"), "+", (a, b), ADD, ())


# d(a - b)/da = 1, d(a - b)/db = -1
SUB = Rule("", lambda g: g, lambda g: -g)


def sub(a: Tensor, b) -> Tensor:
    b = lift(a, b, "sub")
    return record(broadcasting(np.subtract, a._data, b._data, "sub"), "-", (a, b), SUB, ())


NEG = Rule("", lambda g: -g)


def neg(x: Tensor) -> Tensor:
    return record(-x._data, "neg", (x,), NEG, ())


# d(a * b)/da = b, d(a * b)/db = a
MUL = Rule("a b", lambda g, a, b: g * b, lambda g, a, b: g * a)


def mul(a: Tensor, b) -> Tensor:
    if a is b:  # x * x: one share, 2x, instead of two shares of x added up
        return record(np.multiply(a._data, a._data), "*", (a, a), SQUARE, (a._data,))
    b = lift(a, b, "mul")
    x, y = a._data, b._data
    return record(broadcasting(np.multiply, x, y, "mul"), "*", (a, b), MUL, (x, y))


# d(a / b)/da = 1/b, d(a / b)/db = -a/b**2 = -out/b
DIV = Rule("a b out", lambda g, a, b, out: g / b, lambda g, a, b, out: -g * out / b)


def div(a: Tensor, b) -> Tensor:
    b = lift(a, b, "div")
    x, y = a._data, b._data
    if not y.all():
        raise div_by_zero_error(x, y)
    out = broadcasting(np.divide, x, y, "div")
    return record(out, "/", (a, b), DIV, (x, y, out))


def _power_vjp(g, x, n):
    # d(x**n)/dx = n * x**(n-1); infinite at x = 0 for 0 < n < 1, as in PyTorch
    with np.errstate(divide="ignore"):
        return g * (n * x ** (n - 1.0))


POWER = Rule("x n", _power_vjp)
SQUARE = Rule("x", lambda g, x: g * (2.0 * x))  # d(x**2)/dx = 2x
ZEROTH_POWER = Rule("", lambda g: xp.zeros_like(g))  # x**0 is 1 whatever x is


def _pow_base_vjp(g, a, b, out):
    # d(a**b)/da = b * a**(b-1), and 0 where b == 0 (a**0 does not depend on a). The power is taken at
    # a base of 1 there, so no 0 ** -1 appears only to be thrown away.
    constant_there = xp.numbers_of(b) == 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        return g * xp.where(constant_there, 0.0, b * xp.where(constant_there, 1.0, a) ** (b - 1.0))


def _pow_exponent_vjp(g, a, b, out):
    # d(a**b)/db = a**b * ln(a): 0 at a = 0 (a**b is 0 for every b > 0), NaN for a < 0 (no real
    # logarithm), as in PyTorch. The logarithm is taken only where it exists.
    base = xp.numbers_of(a)
    positive = base > 0.0
    slope = xp.where(positive, out * xp.log(xp.where(positive, a, 1.0)), xp.where(base == 0.0, 0.0, math.nan))
    return g * slope


POW = Rule("a b out", _pow_base_vjp, _pow_exponent_vjp)


def power(x: Tensor, exponent) -> Tensor:
    if isinstance(exponent, Tensor):
        a, b = x._data, exponent._data
        with np.errstate(invalid="ignore", divide="ignore"):
            out = broadcasting(np.power, a, b, "pow")
        check_pow_domain(a, b)
        return record(out, "**", (x, exponent), POW, (a, b, out))
    if isinstance(exponent, bool) or not isinstance(exponent, (int, float, np.integer, np.floating)):
        raise TypeError(f"pow: exponent must be a number or a Tensor, got {short_repr(exponent)}")
    n = float(exponent)
    data = x._data
    check_pow_domain(data, np.asarray(n))
    if n == 0.0:
        return record(data**n, f"**{exponent}", (x,), ZEROTH_POWER, ())
    if n == 2.0:
        return record(data**n, f"**{exponent}", (x,), SQUARE, (data,))
    return record(data**n, f"**{exponent}", (x,), POWER, (data, n))


# -- in-place operators: `t += u` changes t itself, as in PyTorch ------------------------------------
def _in_place(operation: Callable, symbol: str) -> Callable:
    """``t op= u``: t's own numbers replaced by ``t op u`` (its dtype and shape kept), as PyTorch does, so that
    ``with no_grad(): p -= lr * p.grad`` updates the parameter ``p`` names, not a new tensor bound to the name.

    While the graph is being recorded, a leaf that requires grad is refused (as in PyTorch: the graph's
    gradient would be of numbers that are gone), and any other tensor in the graph is replaced by the
    recorded result, ``t = t op u``. A graph that saved t's numbers keeps them (copy on write)."""

    def update(x: Tensor, other) -> Tensor:
        if _grad_mode.enabled and (x._requires_grad or (isinstance(other, Tensor) and other._requires_grad)):
            if x._requires_grad and not x._prev:
                raise RuntimeError(
                    f"{symbol}: this Tensor is a leaf that requires grad, whose numbers the graph needs; change it "
                    f"inside `with no_grad():` (an update by hand), or write t = t {symbol[:-1]} u for a new tensor"
                )
            return NotImplemented  # Python then computes t = t op u, recorded as any operation
        result = operation(x, other)._data  # with every check of the operation (shapes, a zero divisor)
        if result.shape != x._data.shape:
            raise ValueError(
                f"{symbol}: the result has shape {result.shape}, but an in-place operation keeps the shape "
                f"{x._data.shape} of the tensor it changes; write t = t {symbol[:-1]} u for a new tensor"
            )
        data = x.data  # copy on write: a graph that saved the old array keeps it
        data[...] = result  # in x's dtype, as PyTorch's in-place operations keep it
        return x

    return update


iadd, isub, imul = _in_place(add, "+="), _in_place(sub, "-="), _in_place(mul, "*=")
itruediv, ipow = _in_place(div, "/="), _in_place(power, "**=")


# -- elementwise functions -------------------------------------------------------------------------
EXP = Rule("out", lambda g, out: g * out)  # d(e**x)/dx = e**x


def exp(x: Tensor) -> Tensor:
    data = x._data
    limit = math.log(np.finfo(data.dtype).max)
    if data.size:
        top = data.max()
        # a NaN is the max of any array holding one, so then the entries are looked at one by one
        if top > limit or (top != top and (data > limit).any()):
            raise exp_overflow_error(data, limit)
    out = np.exp(data)
    return record(out, "exp", (x,), EXP, (out,))


LOG = Rule("x", lambda g, x: g / x)  # d(ln x)/dx = 1/x


def log(x: Tensor) -> Tensor:
    data = x._data
    positive = data > 0
    if not positive.all():
        raise log_domain_error(data, positive)
    return record(np.log(data), "log", (x,), LOG, (data,))


def _sqrt_vjp(g, out):
    # d(sqrt x)/dx = 1 / (2 sqrt x): infinite at x = 0, as in PyTorch
    with np.errstate(divide="ignore", invalid="ignore"):
        return g / (2.0 * out)


SQRT = Rule("out", _sqrt_vjp)


def sqrt(x: Tensor) -> Tensor:
    data = x._data
    negative = data < 0
    if negative.any():
        raise ValueError(f"sqrt: input must be >= 0, got {some_values(data[negative])}{at_fault(negative)}")
    out = np.sqrt(data)
    return record(out, "sqrt", (x,), SQRT, (out,))


# d clamp(x)/dx is 1 where min <= x <= max (at a bound too, as in PyTorch) and 0 outside: a constant mask
CLAMP = Rule("inside", lambda g, inside: g * inside)


def clamp(x: Tensor, low=None, high=None) -> Tensor:
    low, high = _bound(low, "min"), _bound(high, "max")
    if low is None and high is None:
        raise ValueError("clamp: min and max are both None; give min, max or both")
    if low is not None and high is not None and low > high:
        raise ValueError(f"clamp: min ({low!r}) is greater than max ({high!r})")
    data = x._data
    inside = np.ones(data.shape, dtype=bool)
    if low is not None:
        inside &= data >= low
    if high is not None:
        inside &= data <= high
    return record(np.clip(data, low, high), "clamp", (x,), CLAMP, (inside.astype(data.dtype),))


def _bound(bound, name: str) -> float | None:
    if bound is None:
        return None
    if isinstance(bound, bool) or not isinstance(bound, (int, float, np.integer, np.floating)):
        raise TypeError(f"clamp: {name} must be a number or None, got {short_repr(bound)}")
    if math.isnan(bound):
        raise ValueError(f"clamp: {name} is NaN")
    return float(bound)


TANH = Rule("out", lambda g, t: g * (1.0 - t * t))  # d(tanh x)/dx = 1 - tanh(x)**2


def tanh(x: Tensor) -> Tensor:
    out = np.tanh(x._data)
    return record(out, "tanh", (x,), TANH, (out,))


# The slope is 1 for x > 0, else 0 (0 at x = 0), as in PyTorch, which zeroes the gradient where the
# result is <= 0 and so lets it through a NaN. A float mask multiplies faster than a boolean one.
RELU = Rule("slope", lambda g, slope: g * slope)


def relu(x: Tensor) -> Tensor:
    out = np.maximum(x._data, 0.0)
    # out is >= 0 or NaN, so out != 0 is exactly "x > 0 or NaN": two NumPy calls (the float mask made
    # once here) where sign-then-fmin took three and measured 50% longer
    slope = (out != 0.0).astype(out.dtype)
    return record(out, "ReLU", (x,), RELU, (slope,))


SIGMOID = Rule("out", lambda g, s: g * (s * (1.0 - s)))  # d(sigmoid x)/dx = sigmoid(x) (1 - sigmoid(x))


def sigmoid(x: Tensor) -> Tensor:
    s = xp.sigmoid(x._data)
    return record(s, "sigmoid", (x,), SIGMOID, (s,))


ABS = Rule("sign", lambda g, sign: g * sign)  # d|x|/dx = sign(x), 0 at x = 0 as in PyTorch


def absolute(x: Tensor) -> Tensor:
    data = x._data
    # np.sign(NaN) is NaN where PyTorch's sign is 0: the gradient at a NaN entry is 0, as in PyTorch
    sign = np.where(np.isnan(data), 0.0, np.sign(data)).astype(data.dtype, copy=False)
    return record(np.abs(data), "abs", (x,), ABS, (sign,))


def _softmax_axes(axis, ndim: int, where: str):
    """The axes to normalize over. A 0-d Tensor (one number) takes axis 0 or -1, as in PyTorch, and is
    normalized over itself (None); any other axis is out of range there too."""
    if ndim == 0:
        if isinstance(axis, bool) or axis not in (0, -1):
            raise AxisError(f"{where}: axis {axis!r} is out of range for a 0-d tensor (use 0 or -1)")
        return None
    return normalize_axes(axis, ndim, where)


def _row_max(data: np.ndarray, axes):
    """The largest entry along ``axes``, kept as axes of 1: the shift that keeps exp from overflowing. An
    empty tensor has nothing to shift (NumPy has no max of an axis of length 0): its softmax is empty too."""
    return data.max(axis=axes, keepdims=True) if data.size else 0.0


# The Jacobian of softmax is diag(s) - s s^T, so its product with g is s * (g - sum(g * s)).
SOFTMAX = Rule("out axes", lambda g, s, axes: s * (g - (g * s).sum(axis=axes, keepdims=True)))


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    data = x._data
    axes = _softmax_axes(axis, data.ndim, "softmax")
    e = np.exp(data - _row_max(data, axes))
    s = e / e.sum(axis=axes, keepdims=True)
    return record(s, "softmax", (x,), SOFTMAX, (s, axes))


# d out_i / d x_j = [i == j] - softmax_j, so the product with g is g - softmax * sum(g)
LOG_SOFTMAX = Rule("out axes", lambda g, out, axes: g - xp.exp(out) * g.sum(axis=axes, keepdims=True))


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    data = x._data
    axes = _softmax_axes(axis, data.ndim, "log_softmax")
    shifted = data - _row_max(data, axes)
    # (an empty tensor's totals are sums of nothing, 0, never used: their log, -inf and a warning, is not taken)
    out = shifted - np.log(np.exp(shifted).sum(axis=axes, keepdims=True)) if data.size else shifted
    return record(out, "log_softmax", (x,), LOG_SOFTMAX, (out, axes))


# The operators and the elementwise functions are these operations themselves: ``a * b`` runs ``mul(a, b)``
# with no method in between (a method that only forwards would cost a Python call per node). Set here,
# where they are defined, so that this module or chainrule.tensor may be imported first.
Tensor.__add__, Tensor.__sub__, Tensor.__mul__, Tensor.__truediv__ = add, sub, mul, div
Tensor.__pow__, Tensor.__neg__ = power, neg
Tensor.__iadd__, Tensor.__isub__, Tensor.__imul__, Tensor.__itruediv__, Tensor.__ipow__ = (
    iadd,
    isub,
    imul,
    itruediv,
    ipow,
)
Tensor.exp, Tensor.log, Tensor.sqrt, Tensor.abs = exp, log, sqrt, absolute
Tensor.tanh, Tensor.relu, Tensor.sigmoid = tanh, relu, sigmoid
