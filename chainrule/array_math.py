"""The few array functions the Tensor engine's derivative rules are written with.

A rule in ``chainrule/tensor_ops.py`` is written once and runs two ways. In an ordinary ``backward()``
its arguments are NumPy arrays and it computes numbers; with ``create_graph=True`` they are Tensors
and the same lines build a graph, which can be differentiated again. Operators (``g * b``,
``g @ w.T``) and methods both kinds share (``reshape``, ``transpose``, ``sum``, indexing) need
nothing more; the functions here are the rest: each does the NumPy thing to an ndarray and the
matching Tensor operation to a Tensor.
"""

from __future__ import annotations

import numpy as np


def _on_tensors():
    """The Tensor operations these functions become when given Tensors (``chainrule/tensor_shapes.py``).
    Only reached with Tensors, so that module (which imports this one) is loaded by then."""
    from chainrule import tensor_shapes

    return tensor_shapes


def exp(x):
    return np.exp(x) if _is_numbers(x) else x.exp()


def log(x):
    return np.log(x) if _is_numbers(x) else x.log()


def sigmoid(x):
    if not _is_numbers(x):
        return x.sigmoid()
    e = np.exp(-np.abs(x))  # never overflows: e <= 1, and sigmoid(x) = e / (1 + e) for x < 0
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def numbers_of(x) -> np.ndarray:
    """The numbers of ``x`` (an ndarray, or a Tensor's array): for masks, which the graph never differentiates."""
    return x if _is_numbers(x) else x._data


def where(mask: np.ndarray, x, y):
    """``x`` where ``mask`` holds, else ``y`` (each an array, a number or a Tensor), as ``np.where``."""
    if _is_numbers(x) and _is_numbers(y):
        return np.where(mask, x, y)
    return _on_tensors().where(mask, x, y)


_NUMBERS = (np.ndarray, np.generic, int, float)


def _is_numbers(x) -> bool:
    """Whether ``x`` is numbers (an array, a NumPy scalar, a number) rather than a Tensor."""
    return type(x) is np.ndarray or isinstance(x, _NUMBERS)


def zeros_like(x):
    if _is_numbers(x):
        return np.zeros_like(x)
    return _on_tensors().lift(x, np.zeros(x.shape, dtype=x.dtype), "zeros_like")


def broadcast_to(x, shape: tuple[int, ...]):
    """``x`` repeated along its axes of length 1 up to ``shape`` (the gradient of a sum, spread back)."""
    if type(x) is not np.ndarray and not _is_numbers(x):
        return _on_tensors().broadcast_to(x, shape)
    full = np.empty(shape, dtype=x.dtype)  # an array of its own: a leaf may later add into it in place
    full[...] = x
    return full


def scatter(g, index, shape: tuple[int, ...], basic: bool):
    """An array of zeros of ``shape`` with ``g`` added at ``index``: the gradient of ``x[index]``.

    With integer arrays an entry may be picked more than once; each pick adds its share."""
    if not _is_numbers(g):
        return _on_tensors().scatter(g, index, shape, basic)
    full = np.zeros(shape, dtype=g.dtype)
    if basic:
        full[index] = g  # ints and slices pick each entry at most once
    else:
        np.add.at(full, index, g)
    return full


def swap_last_two(x):
    """The matrix transpose of each matrix in a batch: the last two axes swapped."""
    if _is_numbers(x):
        return np.swapaxes(x, -1, -2)
    return x.transpose((*range(x.ndim - 2), x.ndim - 1, x.ndim - 2))


def unbroadcast(grad, shape: tuple[int, ...]):
    """Sum ``grad`` down to ``shape``: the gradient of an operand that NumPy broadcast up to ``grad.shape``.

    Broadcasting copies an operand along new leading axes and along its axes of length 1; each copy
    received part of the gradient, so the operand's gradient is the sum over those axes. This is the
    one place either engine undoes broadcasting (``Tensor._accumulate`` calls it).
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0 and grad.shape[extra:] == shape and _is_numbers(grad):
        # The usual case (a bias added to every row): only new leading axes, summed in one call.
        return np.add.reduce(grad, axis=0 if extra == 1 else tuple(range(extra)))
    axes = list(range(extra))
    for i, n in enumerate(shape):
        m = grad.shape[extra + i] if extra >= 0 else -1
        if n == 1 and m != 1:
            axes.append(extra + i)
        elif n != m:
            # Summing would hide a rule that returned the wrong shape: say so instead.
            raise ValueError(
                f"backward: a gradient of shape {grad.shape} cannot belong to a tensor of shape {shape} (it is "
                "not that shape broadcast); a custom _backward must pass each operand a gradient of its own shape"
            )
    if not axes:
        return grad.reshape(shape)
    if _is_numbers(grad):
        return np.add.reduce(grad, axis=tuple(axes)).reshape(shape)
    return grad.sum(axis=tuple(axes)).reshape(shape)
