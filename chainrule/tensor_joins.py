"""Joining Tensors: ``cat`` (along an existing axis) and ``stack`` (along a new one), as ``torch.cat``
and ``torch.stack``.

As in ``chainrule/tensor_ops.py``, each computes its result and ``record`` s it with its ``Rule``: one
vector-Jacobian product per joined tensor, each cutting that tensor's part back out of the gradient (a
slice for ``cat``, one position for ``stack``). On Tensors (``create_graph=True``) the cut is indexing,
so gradients of gradients work too.

Entries that are not Tensors (numbers, lists, arrays) join as constants of the first Tensor's dtype, as
an operand of ``t + array`` does; they get no gradient.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from chainrule.array_checks import one_axis
from chainrule.autodiff import short_repr
from chainrule.tensor import Tensor
from chainrule.tensor_record import Rule, constant, lift, record


def cat(tensors: Sequence, axis: int = 0) -> Tensor:
    """The tensors joined end to end along ``axis``: shapes (2, 3) and (4, 3) make (6, 3) along axis 0.

    Every entry must have the same number of dimensions (at least one) and the same size on every other
    axis. Raises TypeError for a Tensor or anything but a list or tuple, ValueError for an empty list and
    for shapes that do not fit (naming them)."""
    parts = _operands(tensors, "cat")
    first = parts[0]._data
    if first.ndim == 0:
        raise ValueError("cat: tensor 0 is 0-d (one number) and has no axis to join along; use stack")
    axis = one_axis(axis, first.ndim, "cat")
    for i, part in enumerate(parts[1:], start=1):
        shape = part._data.shape
        if len(shape) != first.ndim or any(n != m for k, (n, m) in enumerate(zip(shape, first.shape)) if k != axis):
            raise ValueError(
                f"cat: tensor {i} has shape {shape} but tensor 0 has shape {first.shape}; every tensor needs "
                f"{first.ndim} dimension(s), of the same sizes except along axis {axis}"
            )
    ends = tuple(np.cumsum([part._data.shape[axis] for part in parts]).tolist())
    out = np.concatenate([part._data for part in parts], axis=axis)
    return record(out, "cat", tuple(parts), _cat_rule(len(parts)), (ends, axis))


@functools.cache
def _cat_rule(n: int) -> Rule:
    # tensor i gets the slice of the gradient it filled: from the end of tensor i - 1 to its own end
    def cut(i):
        return lambda g, ends, axis: g[(slice(None),) * axis + (slice(ends[i - 1] if i else 0, ends[i]),)]

    return Rule("ends axis", *(cut(i) for i in range(n)))


def stack(tensors: Sequence, axis: int = 0) -> Tensor:
    """The tensors, all of one shape, joined along a new axis at position ``axis``: three of shape (2, 5)
    make (3, 2, 5) along axis 0 and (2, 5, 3) along axis -1. Raises TypeError for a Tensor or anything but
    a list or tuple, ValueError for an empty list and for shapes that differ (naming them)."""
    parts = _operands(tensors, "stack")
    first = parts[0]._data
    for i, part in enumerate(parts[1:], start=1):
        if part._data.shape != first.shape:
            raise ValueError(
                f"stack: tensor {i} has shape {part._data.shape} but tensor 0 has shape {first.shape}; "
                "stack needs tensors of one shape"
            )
    axis = one_axis(axis, first.ndim + 1, "stack")
    out = np.stack([part._data for part in parts], axis=axis)
    return record(out, "stack", tuple(parts), _stack_rule(len(parts)), (axis,))


@functools.cache
def _stack_rule(n: int) -> Rule:
    # tensor i gets the gradient at position i of the new axis
    def pick(i):
        return lambda g, axis: g[(slice(None),) * axis + (i,)]

    return Rule("axis", *(pick(i) for i in range(n)))


def _operands(tensors, where: str) -> list[Tensor]:
    """The entries as Tensors: numbers, lists and arrays as constants of the first Tensor's dtype."""
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{where}: expected a list or tuple of Tensors, got {short_repr(tensors)}")
    if not tensors:
        raise ValueError(f"{where}: expected a non-empty list of Tensors, got an empty one")
    like = next((t for t in tensors if isinstance(t, Tensor)), None)
    if like is None:
        like = constant(np.zeros(0))  # no Tensor among them: constants of float64
    return [lift(like, t, f"{where} (tensor {i})") for i, t in enumerate(tensors)]
