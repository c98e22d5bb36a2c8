"""What a ``Tensor`` answers as an array, apart from the graph: its shape and dtype, its numbers as a
Python float, int or list, a NumPy array or a detached Tensor, the position of its largest entries
(``argmax``), elementwise comparisons (boolean arrays), its printout, and how it is copied and pickled
(numbers, gradient and flags; never the graph). ``chainrule/tensor.py`` keeps the node's bookkeeping.

None of these answers has a gradient, so none is a Tensor (which holds floats and may be differentiated):
positions are int64 arrays and comparisons boolean arrays, as PyTorch answers them with integer and
boolean tensors. ``one_hot`` (class indices as rows of 0s and a 1) is here for the same reason.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from numbers import Integral
from typing import TYPE_CHECKING

import numpy as np

from chainrule.array_checks import broadcasting, float_dtype, one_axis

if TYPE_CHECKING:
    from chainrule.tensor import Tensor


def input_dtype(data, dtype) -> np.dtype:
    """The dtype ``Tensor(data, dtype=dtype)`` holds: ``dtype`` if given; else a float array's or Tensor's
    own (float32 stays float32, as in PyTorch); else float64 (numbers, lists, integer arrays)."""
    if dtype is None:
        kept = getattr(data, "dtype", None)
        return kept if isinstance(kept, np.dtype) and kept.kind == "f" else np.dtype(np.float64)
    return float_dtype(dtype, "Tensor")


# -- copy on write (Tensor.data) asks how many references hold an array ---------------------------------
def _holders_of_an_array_held_once() -> int:
    """What ``sys.getrefcount`` says, inside ``Tensor.data``, of an array only its tensor holds: measured,
    as it differs between Python versions (without reference counts, every saved array is copied)."""

    class Holder:
        __slots__ = ("_data",)

    holder = Holder()
    holder._data = np.empty(0)
    data = holder._data  # the same references as in Tensor.data: the slot, a local name, the argument
    return refcount(data)


def _holders_of_a_fresh_argument() -> int:
    """What ``sys.getrefcount`` says, inside ``Tensor._accumulate``, of an array that a rule has just made
    and passed straight in (``parent._accumulate(vjp(g, *saved))``): nothing but the call holds it."""

    class Receiver:
        def _accumulate(self, g):
            return refcount(g)

    receiver = Receiver()
    fresh = receiver._accumulate(np.empty(0))
    held = np.empty(0)
    if receiver._accumulate(held) <= fresh:
        return 0  # this Python's counts cannot tell a fresh array from one held elsewhere: always copy
    return fresh


refcount = getattr(sys, "getrefcount", lambda obj: 1 << 30)
HELD_ONCE = _holders_of_an_array_held_once()
PASSED_FRESH = _holders_of_a_fresh_argument()


class ArrayFacts:
    """The array side of ``Tensor`` (which holds ``_data``, ``grad``, ``label`` and the flags in its slots)."""

    __slots__ = ()

    # -- array facts ------------------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def size(self) -> int:
        return self._data.size

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    def item(self) -> float:
        """The single number this Tensor holds, as a Python float."""
        return self._one_number("item")

    def __float__(self) -> float:  # float(t), for a one-element Tensor
        return self._one_number("float")

    def __int__(self) -> int:  # int(t), for a one-element Tensor: truncated toward zero, as int(2.7) is
        return int(self._one_number("int"))

    def _one_number(self, where: str) -> float:
        if self._data.size != 1:
            raise ValueError(f"{where}: only a one-element Tensor can be converted to a number, got shape {self.shape}")
        return self._data.item()

    def tolist(self) -> list | float:
        """The numbers as nested Python lists of floats (one float for a 0-d Tensor), as ``ndarray.tolist``."""
        return self._data.tolist()

    def argmax(self, axis: int | None = None, keepdims: bool = False) -> np.ndarray:
        """The position of the largest entry (the first of ties; a NaN counts as largest), as ``torch.argmax``:
        over the flattened Tensor when ``axis`` is None, else along ``axis``. An int64 array, with no
        gradient (a position is not a number a Tensor holds). Raises ValueError where there is nothing to pick
        from: an empty Tensor, or an empty ``axis`` (along an axis that has entries, an empty Tensor gives an
        empty answer, as in PyTorch)."""
        data = self._data
        if axis is not None:
            axis = one_axis(axis, data.ndim, "argmax", "an int or None")
            if data.shape[axis] == 0:
                raise ValueError(
                    f"argmax: cannot take the argmax of no entries: axis {axis} of shape {data.shape} is empty"
                )
        elif data.size == 0:
            raise ValueError(f"argmax: cannot take the argmax of an empty Tensor of shape {data.shape}")
        return np.asarray(np.argmax(data, axis=axis, keepdims=keepdims), dtype=np.int64)

    # -- comparisons: elementwise, as boolean arrays (PyTorch's); a Tensor stays hashable by identity ---

    __hash__ = object.__hash__  # defining __eq__ would otherwise make Tensors unhashable

    def _compare(self, other, ufunc, where: str):
        number = isinstance(other, (np.generic, int, float))
        if isinstance(other, ArrayFacts):
            other = other._data
        elif not number and not isinstance(other, (np.ndarray, list, tuple)):
            return NotImplemented  # t == None, t == "x": False, as for any two unrelated objects
        other = np.asarray(other)
        if other.dtype.kind not in "biuf":
            return NotImplemented
        if number:
            # A number is compared in the tensor's dtype, as PyTorch compares it and as ``t - 0.1`` lifts it:
            # in float64, float32's own 0.1 (0.1000000015) would not equal 0.1.
            with np.errstate(over="ignore"):  # 1e300 is inf in float32, as in PyTorch
                other = other.astype(self._data.dtype)
        return np.asarray(broadcasting(ufunc, self._data, other, where))

    def __eq__(self, other):
        return self._compare(other, np.equal, "==")

    def __ne__(self, other):
        return self._compare(other, np.not_equal, "!=")

    def __lt__(self, other):
        return self._compare(other, np.less, "<")

    def __le__(self, other):
        return self._compare(other, np.less_equal, "<=")

    def __gt__(self, other):
        return self._compare(other, np.greater, ">")

    def __ge__(self, other):
        return self._compare(other, np.greater_equal, ">=")

    def numpy(self) -> np.ndarray:
        """The data array itself (not a copy), as ``t.data`` gives it."""
        return self.data

    def detach(self) -> Tensor:
        """The same data (not a copy) as a new Tensor outside the graph."""
        from chainrule.tensor_record import constant

        out = constant(self._data)
        # Both now share the array, which a graph may have saved or may yet save: each copies on its first write.
        out._shared = self._shared = True
        return out

    # -- copy and pickle: the numbers, the gradient and the flags; never the graph ---------------------

    def __reduce_ex__(self, protocol):
        # As in PyTorch, a pickled Tensor arrives as a leaf: a copy of a graph's end without the graph
        # could not be differentiated.
        return _rebuild_tensor, (self._data, self._grad_numbers(), self._requires_grad, self.label)

    def __deepcopy__(self, memo) -> Tensor:
        if self._prev:
            raise RuntimeError(
                f"deepcopy: this Tensor is the result of {self._op!r} inside a graph, and only leaves (tensors "
                "you made, such as parameters) can be deep-copied; copy t.detach(), or deep-copy the model"
            )
        grad = self._grad_numbers()
        copy = _rebuild_tensor(
            self._data.copy(), None if grad is None else grad.copy(), self._requires_grad, self.label
        )
        memo[id(self)] = copy
        return copy

    def _grad_numbers(self):
        # After backward(create_graph=True) grad is a Tensor, a graph: a copy keeps only its numbers.
        return self.grad._data if isinstance(self.grad, ArrayFacts) else self.grad

    def __array__(self, dtype=None, copy=None):
        data = self.data  # through the copy on write: np.asarray(t) may be written to
        return data if dtype is None else data.astype(dtype)

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d Tensor")
        return len(self._data)

    def __bool__(self) -> bool:
        # As in PyTorch and NumPy: a one-element Tensor is true when its number is nonzero; any other has no
        # one truth value (without this, bool() would fall back on len(): True for any non-empty rows).
        if self._data.size != 1:
            raise ValueError(
                f"bool: a Tensor of shape {self.shape} holds {self._data.size} numbers, so it has no one truth "
                "value; say which you mean: (t != 0).any() or (t != 0).all()"
            )
        return bool(self._data.reshape(()))

    def __repr__(self) -> str:
        extras = ", requires_grad=True" if self.requires_grad else ""
        extras += f", label={self.label!r}" if self.label else ""
        body = np.array2string(self._data, separator=", ", prefix="Tensor(")
        dtype = "" if self._data.dtype == np.float64 else f", dtype={self._data.dtype}"
        return f"Tensor({body}{dtype}{extras})"


def _rebuild_tensor(data: np.ndarray, grad, requires_grad: bool, label: str) -> Tensor:
    """A leaf Tensor from its parts (unpickling and deep copies)."""
    from chainrule.tensor_record import constant

    t = constant(data)
    t.grad = grad
    t._requires_grad = requires_grad
    t.label = label
    return t


def one_hot(indices, num_classes: int | None = None, dtype=np.float64) -> Tensor:
    """Class indices as one-hot rows, as ``torch.nn.functional.one_hot``: indices of shape ``S`` give a
    Tensor of shape ``S + (num_classes,)``, 1 at each index and 0 elsewhere (of ``dtype``, float64 by
    default: a Tensor holds floats). ``num_classes=None`` takes the largest index + 1.

    ``indices`` are checked as ``cross_entropy`` checks its targets (``chainrule/indices.py``): integers, or
    a Tensor of whole numbers. Raises TypeError for other data, ValueError for a bad ``num_classes`` or
    none to infer, ``ClassIndexError`` (an IndexError and a ValueError) for an index out of range."""
    from chainrule.indices import ClassIndexError, class_indices
    from chainrule.tensor_record import constant

    dtype = float_dtype(dtype, "one_hot")
    if num_classes is not None and (
        isinstance(num_classes, bool) or not isinstance(num_classes, Integral) or num_classes < 0
    ):
        raise ValueError(f"one_hot: num_classes must be an int >= 0 or None, got {num_classes!r}")
    if isinstance(indices, Iterator):
        indices = list(indices)  # read once, here: the error below looks at them again
    try:
        array = class_indices(indices, sys.maxsize if num_classes is None else num_classes, "one_hot", "indices")
    except ClassIndexError:
        if num_classes is not None:
            raise
        lowest = np.min(indices._data if isinstance(indices, ArrayFacts) else np.asarray(indices))
        raise ClassIndexError(f"one_hot: indices must be >= 0, got {int(lowest)}") from None
    if num_classes is None:
        if array.size == 0:
            raise ValueError("one_hot: cannot infer num_classes from no indices; pass num_classes")
        num_classes = int(array.max()) + 1
    return constant(np.eye(num_classes, dtype=dtype)[array])
