"""What a ``Tensor`` answers as an array, apart from the graph: its shape and dtype, its numbers as a
Python float, a NumPy array or a detached Tensor, its printout, and how it is copied and pickled
(numbers, gradient and flags; never the graph). ``chainrule/tensor.py`` keeps the node's bookkeeping.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from chainrule.tensor import Tensor


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
        if self._data.size != 1:
            raise ValueError(f"item: only a one-element Tensor can be converted to a number, got shape {self.shape}")
        return self._data.item()

    def numpy(self) -> np.ndarray:
        """The data array itself (not a copy), as ``t.data`` gives it."""
        return self.data

    def detach(self) -> Tensor:
        """The same data (not a copy) as a new Tensor outside the graph."""
        from chainrule.tensor_ops import constant

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

    def __repr__(self) -> str:
        extras = ", requires_grad=True" if self.requires_grad else ""
        extras += f", label={self.label!r}" if self.label else ""
        body = np.array2string(self._data, separator=", ", prefix="Tensor(")
        dtype = "" if self._data.dtype == np.float64 else f", dtype={self._data.dtype}"
        return f"Tensor({body}{dtype}{extras})"


def _rebuild_tensor(data: np.ndarray, grad, requires_grad: bool, label: str) -> Tensor:
    """A leaf Tensor from its parts (unpickling and deep copies)."""
    from chainrule.tensor_ops import constant

    t = constant(data)
    t.grad = grad
    t._requires_grad = requires_grad
    t.label = label
    return t
