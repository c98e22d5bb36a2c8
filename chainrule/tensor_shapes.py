"""The Tensor operations that move entries around: matrix products, reductions (sum, mean, max, min,
var, std, and the weighted total ``chainrule.grad`` differentiates), reshapes, indexing.

As in ``chainrule/tensor_ops.py``, each operation computes its result and ``record`` s it with its
``Rule`` beside it. Their rules are made of the same kinds of operations: the gradient of a sum is
spread back (``broadcast_to``), the gradient of an index is scattered back (``scatter``), the gradient
of a matrix product is two more matrix products. On Tensors (``create_graph=True``) those are
operations here too, so gradients of gradients work through all of them.
"""

from __future__ import annotations

import math

import numpy as np

from chainrule import array_math as xp  # the rules' functions: NumPy's on arrays, these operations on Tensors
from chainrule.array_checks import AxisError, as_float_array, matmul_error, normalize_axes
from chainrule.autodiff import short_repr
from chainrule.indices import tensor_indices
from chainrule.tensor import Tensor
from chainrule.tensor_record import PASS_ON, Rule, constant, lift, record

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


def _count(shape: tuple, axes) -> int:
    """How many entries a reduction over ``axes`` (None: all) takes into each result."""
    return math.prod(shape) if axes is None else math.prod(shape[a] for a in axes)


def _where_empty(shape: tuple, axes) -> str:
    """Which of a reduction's axes hold no entries, for its error: ``axis 1 of shape (3, 0) is empty``."""
    if axes is None:
        return f"the Tensor of shape {shape} is empty"
    empty = tuple(a for a in axes if shape[a] == 0)
    return f"axis {empty[0] if len(empty) == 1 else empty} of shape {shape} is empty"


# The gradient of a sum is copied back to every entry that was summed; a mean's is scaled by 1/count.
def _with_kept_axes(g, kept: tuple):
    # The reduced axes put back as 1s, so g lines up with the input; a single number (a full reduction,
    # the usual loss) lines up with anything as it is.
    return g if g.ndim == 0 else g.reshape(kept)


SUM = Rule("shape kept", lambda g, shape, kept: xp.broadcast_to(_with_kept_axes(g, kept), shape))
MEAN = Rule("shape kept scale", lambda g, shape, kept, scale: xp.broadcast_to(_with_kept_axes(g, kept) * scale, shape))


def reduce_sum(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    data = x._data
    if axis is None and not keepdims:  # the whole tensor to one number: the usual loss term
        return record(np.add.reduce(data, axis=None), "sum", (x,), SUM, (data.shape, ()))
    axes = normalize_axes(axis, data.ndim, "sum")
    out = np.add.reduce(data, axis=axes, keepdims=keepdims)
    return record(out, "sum", (x,), SUM, (data.shape, _kept_shape(data.shape, axes)))


def reduce_mean(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    data = x._data
    axes = normalize_axes(axis, data.ndim, "mean")
    count = _count(data.shape, axes)
    if count == 0:  # (an empty Tensor averaged over axes that do have entries gives an empty result, as torch)
        raise ValueError(f"mean: cannot average no entries: {_where_empty(data.shape, axes)}")
    scale = 1.0 / count
    # np.add.reduce is ndarray.sum without the Python wrapper (several times faster on small arrays)
    out = np.add.reduce(data, axis=axes, keepdims=keepdims) * scale
    return record(out, "mean", (x,), MEAN, (data.shape, _kept_shape(data.shape, axes), scale))


def weighted_total(outputs: list, grad_outputs: list) -> Tensor:
    """The one number ``chainrule.grad`` differentiates: the sum of each output, weighted by its entry of
    ``grad_outputs`` (a constant: the gradient is taken through the outputs, never through it)."""
    terms = []
    for i, (o, g) in enumerate(zip(outputs, grad_outputs)):
        if g is None:
            if o.size != 1:
                raise ValueError(
                    f"grad: output {i} has shape {o.shape}; pass grad_outputs (an array of that shape for it) "
                    "or reduce it first (.sum())"
                )
            terms.append(o)
        else:
            weight = constant(np.array(as_float_array(g, "grad (grad_outputs)", o.dtype), copy=True))
            if weight.shape != o.shape:
                raise ValueError(f"grad: grad_outputs[{i}] has shape {weight.shape}, output {i} has {o.shape}")
            terms.append((o * weight).sum())
    if len(terms) == 1 and terms[0] is outputs[0] and outputs[0].shape == ():
        return terms[0]
    total = terms[0].reshape(())
    for t in terms[1:]:
        total = total + t.reshape(())
    return total


def _extreme_vjp(g, entries, top, axes, kept):
    # The entries equal to the result share the gradient evenly: a constant, so the second derivative is 0.
    winners = entries == top
    return g.reshape(kept) * (winners / winners.sum(axis=axes, keepdims=True))


EXTREME = Rule("entries top axes kept", _extreme_vjp)  # max's rule, and min's


def reduce_max(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    return _reduce_extreme(x, axis, keepdims, "max")


def reduce_min(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    return _reduce_extreme(x, axis, keepdims, "min")


def _reduce_extreme(x: Tensor, axis, keepdims: bool, which: str) -> Tensor:
    data = x._data
    axes = normalize_axes(axis, data.ndim, which)
    if _count(data.shape, axes) == 0:
        raise ValueError(f"{which}: cannot take the {which} of no entries: {_where_empty(data.shape, axes)}")
    top = getattr(data, which)(axis=axes, keepdims=True)
    out = top if keepdims else (top.reshape(()) if axes is None else np.squeeze(top, axis=axes))
    return record(out, which, (x,), EXTREME, (data, top, axes, top.shape))


# d var / dx_i = 2 (x_i - mean) / (count - correction): `scale` is 2 / (count - correction)
def _var_vjp(g, x, axes, kept, scale):
    return _with_kept_axes(g, kept) * (scale * (x - x.mean(axis=axes, keepdims=True)))


def _std_vjp(g, x, out, axes, kept, scale):
    # through the square root (g / (2 std)), then var's rule; 0 where the std is 0 (all entries equal),
    # as PyTorch does, instead of 0 / 0
    zero = xp.numbers_of(out) == 0.0
    through_sqrt = xp.where(zero, 0.0, g / (2.0 * xp.where(zero, 1.0, out)))
    return _var_vjp(through_sqrt, x, axes, kept, scale)


VAR = Rule("x axes kept scale", _var_vjp)
STD = Rule("x out axes kept scale", _std_vjp)


def var(x: Tensor, axis=None, correction: float = 1, keepdims: bool = False) -> Tensor:
    out, saved = _variance(x._data, axis, correction, keepdims, "var")
    return record(out, "var", (x,), VAR, saved)


def std(x: Tensor, axis=None, correction: float = 1, keepdims: bool = False) -> Tensor:
    variance, (data, *rest) = _variance(x._data, axis, correction, keepdims, "std")
    out = np.sqrt(variance)
    return record(out, "std", (x,), STD, (data, out, *rest))


def _variance(data: np.ndarray, axis, correction, keepdims: bool, where: str) -> tuple:
    """The variance of ``data`` and what var's rule reads: the entries, the axes, the kept shape, the scale."""
    axes = normalize_axes(axis, data.ndim, where)
    divisor = _variance_divisor(data.shape, axes, correction, where)
    out = np.asarray(np.var(data, axis=axes, ddof=correction, keepdims=keepdims), dtype=data.dtype)
    return out, (data, axes, _kept_shape(data.shape, axes), 2.0 / divisor)


def _variance_divisor(shape: tuple, axes, correction, where: str) -> float:
    """``count - correction``, the divisor of a variance, or an error: never a silent NaN or infinity."""
    if isinstance(correction, bool) or not isinstance(correction, (int, float, np.integer, np.floating)):
        raise TypeError(f"{where}: correction must be a number (1: Bessel's, 0: none), got {short_repr(correction)}")
    if not correction >= 0:
        raise ValueError(f"{where}: correction must be >= 0, got {correction!r}")
    count = _count(shape, axes)
    if count <= correction:
        over = "the whole tensor" if axes is None else f"axis {axes[0] if len(axes) == 1 else axes}"
        raise ValueError(
            f"{where}: {count} entr{'y' if count == 1 else 'ies'} over {over} of shape {shape} with "
            f"correction={correction} leaves count - correction = {count - correction} to divide by; use more "
            "entries, or correction=0 (the population variance)"
        )
    return count - correction


# -- shapes and indexing ---------------------------------------------------------------------------
RESHAPE = Rule("shape", lambda g, shape: g.reshape(shape))


def reshape(x: Tensor, shape: tuple) -> Tensor:
    data = x._data
    try:
        out = data.reshape(tuple(shape))
    except (ValueError, TypeError):
        raise ValueError(f"reshape: cannot reshape shape {data.shape} ({data.size} entries) into {shape}") from None
    return record(out, "reshape", (x,), RESHAPE, (data.shape,))


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    shape = x._data.shape or (1,)  # a 0-d Tensor flattens to one entry, as in PyTorch
    dims = []
    for name, dim in (("start_dim", start_dim), ("end_dim", end_dim)):
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
            raise TypeError(f"flatten: {name} must be an int, got {short_repr(dim)}")
        if not -len(shape) <= dim < len(shape):
            raise AxisError(f"flatten: {name}={dim} is out of range for shape {x.shape}")
        dims.append(int(dim) % len(shape))
    start, end = dims
    if start > end:
        raise ValueError(f"flatten: start_dim={start_dim} comes after end_dim={end_dim} for shape {x.shape}")
    return reshape(x, (*shape[:start], math.prod(shape[start : end + 1]), *shape[end + 1 :]))


TRANSPOSE = Rule("inverse", lambda g, inverse: g.transpose(inverse))


def transpose(x: Tensor, axes: tuple) -> Tensor:
    data = x._data
    perm = tuple(range(data.ndim))[::-1] if not axes else normalize_axes(tuple(axes), data.ndim, "transpose")
    if len(perm) != data.ndim:
        raise ValueError(f"transpose: axes {axes} are not a permutation of the {data.ndim} axes of shape {data.shape}")
    if perm == (0, 1):
        # NumPy reads t.transpose(0, 1) as "keep the axes", PyTorch as "swap them": either answer would be a
        # wrong number, with no error, for code written for the other library
        raise ValueError(
            f"transpose: axes {tuple(axes)} of a 2-d tensor keep both axes where they are as NumPy reads them, "
            "but swap them as PyTorch reads them; to swap, write t.T or t.transpose(1, 0)"
        )
    return record(data.transpose(perm), "transpose", (x,), TRANSPOSE, (tuple(np.argsort(perm)),))


INDEX = Rule("index shape basic", lambda g, index, shape, basic: xp.scatter(g, index, shape, basic))


def index(x: Tensor, index) -> Tensor:
    # A Tensor of whole numbers picks entries, as PyTorch's integer tensors do (chainrule's hold floats)
    if isinstance(index, Tensor):
        index = _tensor_index(index, x._data.shape)
    elif isinstance(index, tuple) and any(isinstance(item, Tensor) for item in index):
        index = tuple(_tensor_index(item, x._data.shape) if isinstance(item, Tensor) else item for item in index)
    data = x._data
    try:
        out = data[index]
    except IndexError as err:
        raise IndexError(f"index: {err} (indexing a Tensor of shape {data.shape} with {short_repr(index)})") from None
    basic = _is_basic_index(index)
    index = _own_copy_of_index(index)  # the caller may change their index array before backward
    out = out if type(out) is np.ndarray else np.asarray(out)
    return record(out, "index", (x,), INDEX, (index, data.shape, basic))


def _tensor_index(t: Tensor, shape: tuple) -> np.ndarray:
    numbers = tensor_indices(t, "index", "a Tensor used as an index", "indices", IndexError)
    # No length comes near 2**62: anything that far out is out of bounds, and must not wrap around in int64
    if numbers.size and np.abs(numbers).max() >= 2.0**62:
        raise IndexError(f"index: {float(np.abs(numbers).max())!r} is out of bounds for a Tensor of shape {shape}")
    return numbers.astype(np.int64)


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
    return record(np.broadcast_to(x._data, shape).copy(), "broadcast", (x,), PASS_ON, ())


SCATTER = Rule("index", lambda g, index: g[index])


def scatter(g: Tensor, index, shape: tuple, basic: bool) -> Tensor:
    return record(xp.scatter(g._data, index, shape, basic), "scatter", (g,), SCATTER, (index,))


WHERE = Rule("mask", lambda g, mask: g * mask, lambda g, mask: g * ~mask)


def where(mask: np.ndarray, x, y) -> Tensor:
    like = x if isinstance(x, Tensor) else y
    x, y = lift(like, x, "where"), lift(like, y, "where")
    return record(np.where(mask, x._data, y._data), "where", (x, y), WHERE, (np.asarray(mask, dtype=bool),))


Tensor.__matmul__ = matmul  # ``a @ b`` is the operation itself (see the end of tensor_ops.py)
