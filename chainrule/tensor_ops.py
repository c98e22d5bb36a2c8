"""The Tensor engine's operations: each computes its result, and its derivative rule sits beside it.

An operation checks its input (``chainrule/array_checks.py``), computes the result with NumPy, and
``record`` s it with a ``Rule``: one vector-Jacobian product per operand (``g`` is the gradient of the
result; each product returns one operand's share) and the arrays those products read. The scalar
engine's rules, one array at a time: ``d(a * b)/da = b`` becomes ``g * b``.

Each rule is written once, with operators, methods that ndarrays and Tensors share, and the functions
of ``chainrule/array_math.py``: the first-order ``backward()`` runs it on arrays; ``create_graph=True``
runs it on Tensors, so the gradient is a graph of the same operations and can be differentiated again.
A rule that reads only a constant (relu's 0/1 slope, the largest entries of a max) has a second
derivative of zero, which is what running it on Tensors gives too.
"""

from __future__ import annotations

import math

import numpy as np

from chainrule import array_math as xp  # the rules' functions: NumPy's on arrays, these operations on Tensors
from chainrule.array_checks import (
    as_float_array,
    broadcasting,
    check_pow_domain,
    matmul_error,
    normalize_axes,
    some_values,
    where_false,
)
from chainrule.autodiff import short_repr
from chainrule.tensor import Rule, Tensor, constant, record

_PASS = Rule("", lambda g: g)


def lift(x: Tensor, other, where: str) -> Tensor:
    """A number or array operand as a constant Tensor of ``x`` 's dtype.

    Arrays are copied: the graph keeps the operand for backward, and the caller may change theirs."""
    if isinstance(other, Tensor):
        return other
    if type(other) is float or type(other) is int:
        dtype = x._data.dtype
        if dtype == np.float64:
            return constant(np.asarray(other, dtype=dtype))
        with np.errstate(over="ignore"):  # 1e300 in float32 is inf, as in PyTorch: no warning
            return constant(np.asarray(other, dtype=dtype))
    if other is None:
        raise TypeError(f"{where}: expected real numbers (a number, an array or a Tensor), got None")
    return constant(np.array(as_float_array(other, where, x._data.dtype), copy=True))


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
    b = lift(a, b, "mul")
    x, y = a._data, b._data
    return record(broadcasting(np.multiply, x, y, "mul"), "*", (a, b), MUL, (x, y))


# d(a / b)/da = 1/b, d(a / b)/db = -a/b**2 = -out/b
DIV = Rule("a b out", lambda g, a, b, out: g / b, lambda g, a, b, out: -g * out / b)


def div(a: Tensor, b) -> Tensor:
    b = lift(a, b, "div")
    x, y = a._data, b._data
    if not y.all():
        raise ZeroDivisionError(f"div: the divisor (shape {y.shape}) contains zeros at {where_false(y)}")
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


# -- matrix product --------------------------------------------------------------------------------
# d(A @ B)/dA: g @ B.T, d(A @ B)/dB: A.T @ g
MATMUL = Rule("a b", lambda g, a, b: g @ b.T, lambda g, a, b: a.T @ g)


def _as_matrix_grad(g, a, b):
    # Put back the axes matmul dropped for vector operands, so g has shape (..., n, m).
    if b.ndim == 1:
        g = g[..., None]
    if a.ndim == 1:
        g = g[..., None, :]
    return g


def _matmul_vjp_a(g, a, b):
    # A vector b acts as a one-column matrix; a vector a as a one-row matrix, dropped again at the end.
    ga = _as_matrix_grad(g, a, b) @ xp.swap_last_two(b[:, None] if b.ndim == 1 else b)
    return ga[..., 0, :] if a.ndim == 1 else ga


def _matmul_vjp_b(g, a, b):
    gb = xp.swap_last_two(a[None, :] if a.ndim == 1 else a) @ _as_matrix_grad(g, a, b)
    return gb[..., 0] if b.ndim == 1 else gb


BATCHED_MATMUL = Rule("a b", _matmul_vjp_a, _matmul_vjp_b)  # vectors and stacks of matrices


def matmul(a: Tensor, b) -> Tensor:
    b = lift(a, b, "matmul")
    x, y = a._data, b._data
    try:
        out = x @ y
    except ValueError:
        raise ValueError(matmul_error(x.shape, y.shape)) from None
    rule = MATMUL if x.ndim == 2 and y.ndim == 2 else BATCHED_MATMUL
    return record(out, "@", (a, b), rule, (x, y))


# -- reductions ------------------------------------------------------------------------------------
def _kept_shape(shape: tuple, axes) -> tuple:
    """``shape`` with the reduced axes as 1s: the shape of a reduction's result with keepdims."""
    return (1,) * len(shape) if axes is None else tuple(1 if i in axes else n for i, n in enumerate(shape))


# The gradient of a sum is copied back to every entry that was summed; a mean's is scaled by 1/count.
SUM = Rule("shape kept", lambda g, shape, kept: xp.broadcast_to(g.reshape(kept), shape))
MEAN = Rule("shape kept scale", lambda g, shape, kept, scale: xp.broadcast_to(g.reshape(kept) * scale, shape))


def reduce_sum(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    data = x._data
    axes = normalize_axes(axis, data.ndim, "sum")
    out = np.add.reduce(data, axis=axes, keepdims=keepdims)
    return record(out, "sum", (x,), SUM, (data.shape, _kept_shape(data.shape, axes)))


def reduce_mean(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    data = x._data
    axes = normalize_axes(axis, data.ndim, "mean")
    if data.size == 0:
        raise ValueError(f"mean: cannot average an empty Tensor of shape {data.shape}")
    scale = 1.0 / (data.size if axes is None else math.prod(data.shape[a] for a in axes))
    # np.add.reduce is ndarray.sum without the Python wrapper (several times faster on small arrays)
    out = np.add.reduce(data, axis=axes, keepdims=keepdims) * scale
    return record(out, "mean", (x,), MEAN, (data.shape, _kept_shape(data.shape, axes), scale))


def _max_vjp(g, entries, top, axes, kept):
    # The largest entries share the gradient evenly: a constant, so the second derivative is 0.
    winners = entries == top
    return g.reshape(kept) * (winners / winners.sum(axis=axes, keepdims=True))


MAX = Rule("entries top axes kept", _max_vjp)


def reduce_max(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    data = x._data
    axes = normalize_axes(axis, data.ndim, "max")
    if data.size == 0:
        raise ValueError(f"max: cannot take the max of an empty Tensor of shape {data.shape}")
    top = data.max(axis=axes, keepdims=True)
    out = top if keepdims else (top.reshape(()) if axes is None else np.squeeze(top, axis=axes))
    return record(out, "max", (x,), MAX, (data, top, axes, top.shape))


# -- shapes and indexing ---------------------------------------------------------------------------
RESHAPE = Rule("shape", lambda g, shape: g.reshape(shape))


def reshape(x: Tensor, shape: tuple) -> Tensor:
    data = x._data
    try:
        out = data.reshape(tuple(shape))
    except (ValueError, TypeError):
        raise ValueError(f"reshape: cannot reshape shape {data.shape} ({data.size} entries) into {shape}") from None
    return record(out, "reshape", (x,), RESHAPE, (data.shape,))


TRANSPOSE = Rule("inverse", lambda g, inverse: g.transpose(inverse))


def transpose(x: Tensor, axes: tuple) -> Tensor:
    data = x._data
    perm = tuple(range(data.ndim))[::-1] if not axes else normalize_axes(tuple(axes), data.ndim, "transpose")
    if len(perm) != data.ndim:
        raise ValueError(f"transpose: axes {axes} are not a permutation of the {data.ndim} axes of shape {data.shape}")
    return record(data.transpose(perm), "transpose", (x,), TRANSPOSE, (tuple(np.argsort(perm)),))


INDEX = Rule("index shape basic", lambda g, index, shape, basic: xp.scatter(g, index, shape, basic))


def index(x: Tensor, index) -> Tensor:
    if isinstance(index, Tensor):
        index = index._data
    data = x._data
    try:
        out = data[index]
    except IndexError as err:
        raise IndexError(f"index: {err} (indexing a Tensor of shape {data.shape} with {short_repr(index)})") from None
    basic = _is_basic_index(index)
    index = _own_copy_of_index(index)  # the caller may change their index array before backward
    out = out if type(out) is np.ndarray else np.asarray(out)
    return record(out, "index", (x,), INDEX, (index, data.shape, basic))


def _own_copy_of_index(index):
    """``index`` with its arrays and lists copied into arrays of our own."""
    items = index if isinstance(index, tuple) else (index,)
    kept = tuple(np.array(item) if isinstance(item, (np.ndarray, list)) else item for item in items)
    return kept if isinstance(index, tuple) else kept[0]


def _is_basic_index(index) -> bool:
    """True for ints, slices, None and Ellipsis (alone or in a tuple): no entry is picked twice."""
    items = index if isinstance(index, tuple) else (index,)
    for item in items:
        basic = item is None or item is Ellipsis or isinstance(item, (slice, int, np.integer))
        if isinstance(item, bool) or not basic:
            return False
    return True


# The gradients of gradients: a sum's rule spreads g out, an index's scatters it, pow's picks with
# where. On Tensors (create_graph) those are operations too, with rules of their own.
def broadcast_to(x: Tensor, shape: tuple) -> Tensor:
    # the rule passes the gradient on; Tensor._accumulate sums it back down to x's shape
    return record(np.broadcast_to(x._data, shape).copy(), "broadcast", (x,), _PASS, ())


SCATTER = Rule("index", lambda g, index: g[index])


def scatter(g: Tensor, index, shape: tuple, basic: bool) -> Tensor:
    return record(xp.scatter(g._data, index, shape, basic), "scatter", (g,), SCATTER, (index,))


WHERE = Rule("mask", lambda g, mask: g * mask, lambda g, mask: g * ~mask)


def where(mask: np.ndarray, x, y) -> Tensor:
    like = x if isinstance(x, Tensor) else y
    x, y = lift(like, x, "where"), lift(like, y, "where")
    return record(np.where(mask, x._data, y._data), "where", (x, y), WHERE, (np.asarray(mask, dtype=bool),))


# -- elementwise functions -------------------------------------------------------------------------
EXP = Rule("out", lambda g, out: g * out)  # d(e**x)/dx = e**x


def exp(x: Tensor) -> Tensor:
    data = x._data
    limit = math.log(np.finfo(data.dtype).max)
    if data.size and data.max() > limit:
        raise OverflowError(
            f"exp: inputs above about {limit:.2f} overflow {data.dtype}; the largest input is {float(data.max())!r}. "
            "Scale the input down, or use a numerically stable form such as log_softmax"
        )
    out = np.exp(data)
    return record(out, "exp", (x,), EXP, (out,))


LOG = Rule("x", lambda g, x: g / x)  # d(ln x)/dx = 1/x


def log(x: Tensor) -> Tensor:
    data = x._data
    positive = data > 0
    if not positive.all():
        raise ValueError(f"log: input must be > 0, got {some_values(data[~positive])} at {where_false(positive)}")
    return record(np.log(data), "log", (x,), LOG, (data,))


TANH = Rule("out", lambda g, t: g * (1.0 - t * t))  # d(tanh x)/dx = 1 - tanh(x)**2


def tanh(x: Tensor) -> Tensor:
    out = np.tanh(x._data)
    return record(out, "tanh", (x,), TANH, (out,))


# The slope is 1 for x > 0, else 0 (0 at x = 0), as in PyTorch, which zeroes the gradient where the
# result is <= 0 and so lets it through a NaN. A float mask multiplies faster than a boolean one.
RELU = Rule("slope", lambda g, slope: g * slope)


def relu(x: Tensor) -> Tensor:
    out = np.maximum(x._data, 0.0)
    slope = np.sign(out)  # 1 where out > 0, 0 where out == 0, NaN where out is NaN
    if math.isnan(np.add.reduce(slope, axis=None)):  # rare: one sum to find out, and only then
        np.fmin(slope, 1.0, out=slope)  # fmin prefers the number to a NaN: 1 there
    return record(out, "ReLU", (x,), RELU, (slope,))


SIGMOID = Rule("out", lambda g, s: g * (s * (1.0 - s)))  # d(sigmoid x)/dx = sigmoid(x) (1 - sigmoid(x))


def sigmoid(x: Tensor) -> Tensor:
    s = xp.sigmoid(x._data)
    return record(s, "sigmoid", (x,), SIGMOID, (s,))


ABS = Rule("sign", lambda g, sign: g * sign)  # d|x|/dx = sign(x), 0 at x = 0 as in PyTorch


def absolute(x: Tensor) -> Tensor:
    data = x._data
    return record(np.abs(data), "abs", (x,), ABS, (np.sign(data),))


# The Jacobian of softmax is diag(s) - s s^T, so its product with g is s * (g - sum(g * s)).
SOFTMAX = Rule("out axes", lambda g, s, axes: s * (g - (g * s).sum(axis=axes, keepdims=True)))


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    data = x._data
    axes = normalize_axes(axis, data.ndim, "softmax") if data.ndim else None
    e = np.exp(data - data.max(axis=axes, keepdims=True))
    s = e / e.sum(axis=axes, keepdims=True)
    return record(s, "softmax", (x,), SOFTMAX, (s, axes))


# d out_i / d x_j = [i == j] - softmax_j, so the product with g is g - softmax * sum(g)
LOG_SOFTMAX = Rule("out axes", lambda g, out, axes: g - xp.exp(out) * g.sum(axis=axes, keepdims=True))


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    data = x._data
    axes = normalize_axes(axis, data.ndim, "log_softmax") if data.ndim else None
    shifted = data - data.max(axis=axes, keepdims=True)
    out = shifted - np.log(np.exp(shifted).sum(axis=axes, keepdims=True))
    return record(out, "log_softmax", (x,), LOG_SOFTMAX, (out, axes))
