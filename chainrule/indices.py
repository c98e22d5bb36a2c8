"""Class indices, checked once for everything that takes them: ``cross_entropy``, ``accuracy`` and ``Embedding``.

The rule, as PyTorch's ``int64`` targets and indices: integers (an int array, a list of ints, one int, a
NumPy integer), or a chainrule ``Tensor`` holding only finite whole numbers (a Tensor always holds floats,
so it stands in for PyTorch's ``LongTensor``). Everything else is refused with a TypeError: floats in an
array or list (PyTorch refuses them too; convert with ``np.asarray(x, dtype=int)``), bools, strings. A
Tensor that requires grad is refused with a ValueError: indices are constants, with no gradient to follow.
Every index must lie in ``[0, count - 1]``; one outside raises ``ClassIndexError``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from chainrule.autodiff import is_tensor

__all__ = ["ClassIndexError", "class_indices", "tensor_indices"]


class ClassIndexError(IndexError, ValueError):
    """An index outside ``[0, count - 1]``: an IndexError, as PyTorch raises, and a ValueError, as the scalar
    engine's ``cross_entropy`` raises (NumPy's ``AxisError`` is both in the same way)."""


def class_indices(indices, count: int, where: str, what: str = "targets") -> np.ndarray:
    """``indices`` as an int64 array of the same shape, each checked to lie in ``[0, count - 1]``.

    ``where`` names the operation and ``what`` the argument in the errors. Raises TypeError for None and
    for anything but integers or a Tensor of whole numbers, ValueError for a Tensor that requires grad,
    and ``ClassIndexError`` (an IndexError and a ValueError) for an index out of range.
    """
    if indices is None:
        raise TypeError(f"{where}: {what} are None; pass integer class indices")
    if isinstance(indices, Iterator):
        indices = list(indices)  # NumPy would make one object out of a generator, not an array of its items
    if is_tensor(indices):
        array = tensor_indices(indices, where, what, "class indices")
    else:
        array = np.asarray(indices)
        if array.dtype.kind not in "iu":
            raise TypeError(
                f"{where}: {what} must be integer class indices, got dtype {array.dtype}; "
                f"convert them, e.g. np.asarray({what}, dtype=int)"
            )
    # Checked before the conversion, which would wrap a huge uint64 or float around into range.
    if array.size and (array.min() < 0 or array.max() >= count):
        low, high = int(array.min()), int(array.max())
        raise ClassIndexError(f"{where}: {what} must lie in [0, {count - 1}], got values from {low} to {high}")
    return array.astype(np.int64, copy=False)


def tensor_indices(tensor, where: str, what: str, kind: str, error: type = TypeError) -> np.ndarray:
    """The numbers a Tensor holds, checked to be whole (still floats: the caller checks their range before it
    converts them). A Tensor always holds floats, so one holding whole numbers stands in for PyTorch's
    integer tensor. ``what`` names the argument in the errors and
    ``kind`` the indices ("class indices"). Raises ``error`` naming the first entry that is not a whole
    number, and ValueError for a Tensor that requires grad (indices are constants)."""
    if tensor.requires_grad:
        raise ValueError(f"{where}: {what} must not require grad (indices are constants, with no gradient to follow)")
    array = tensor.data
    whole = np.isfinite(array) & (array == np.round(array))
    if not whole.all():
        raise error(
            f"{where}: {what} must hold whole numbers (integer {kind}), got {array[~whole].ravel()[0].item()!r} "
            f"in a Tensor of dtype {array.dtype}"
        )
    return array
