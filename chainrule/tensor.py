"""The Tensor engine: the scalar ``Value`` 's rules, applied to whole NumPy arrays at once.

A ``Tensor`` is a node of the same graph the notes draw. ``c = a * b`` computes ``c.data`` (an
ndarray) and records ``c._prev = (a, b)`` and ``c._op = '*'``; ``c.backward()`` seeds ``c.grad`` and
lets ``chainrule.autodiff.backpropagate`` (the one topological sort both engines share) call each
node's ``_backward()`` from the output back to the leaves.

This file is the node's bookkeeping and its operators (what it answers as an array, and how it is
copied, is in ``tensor_array.py``). The operations, each with its derivative rule beside it, are in
``tensor_ops.py``, ``tensor_shapes.py`` and ``tensor_joins.py`` (``cat``, ``stack``): for arrays the
local derivative is a matrix far too big to build, so an operation records a ``Rule``, one
*vector-Jacobian product* per operand (``g * b`` and ``g * a`` for ``a * b``: the scalar rule), and the
few arrays it reads (``c._saved``; never the node itself, so a graph is freed the moment it is no longer
named). A rule runs on ndarrays for ``backward()``, and on Tensors for ``backward(create_graph=True)``,
where the gradient comes back as a graph that can be differentiated again (``array_math.py``).

The rules that keep the bookkeeping in one place:

* broadcasting is undone only in ``unbroadcast``, called only from ``Tensor._accumulate``, the one
  place gradients are added up;
* a result requires grad if any operand does, and only then is it recorded; inside ``no_grad()``
  nothing is;
* leaves accumulate ``grad`` across ``backward()`` calls (reset them with ``zero_grad``); an interior
  node's ``grad`` holds only the latest pass's, as in the scalar engine (``autodiff.py``);
* backward uses the numbers the forward pass saw: once a tensor has been used, ``t.data`` hands out a
  fresh copy to change (copy on write), so ``t.data += 1`` leaves the recorded graph as it was.

Numbers and arrays used as operands (``2 - t``, ``t * mask``) become constant tensors of ``t`` 's dtype,
in ``_prev`` in operand order, like ``Value(other)``. NaN and infinity flow through arithmetic as in
NumPy and PyTorch; operations whose domain excludes some inputs (``log``, division by zero, powers,
``exp`` overflow) raise instead, naming the operation and the offending values.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from chainrule.array_checks import as_float_array
from chainrule.array_math import unbroadcast
from chainrule.autodiff import Node, _grad_mode, backpropagate, no_grad
from chainrule.tensor_array import HELD_ONCE, PASSED_FRESH, ArrayFacts, input_dtype, refcount
from chainrule.tensor_array import _rebuild_tensor as _rebuild_tensor  # pickles name it here

__all__ = ["Tensor", "no_grad", "unbroadcast", "linear", "sum_of_squares", "hinge_loss", "as_float_array"]  # noqa: F822

_new = object.__new__


class Tensor(ArrayFacts, Node):
    """An n-dimensional array in a computation graph, with the gradient of the final output in ``grad``.

    ``Tensor(data, requires_grad=False, dtype=None)`` copies ``data`` (a number, nested list, ndarray or
    Tensor) into a float array: of ``dtype`` if given (e.g. ``np.float32``), else of ``data`` 's own float
    dtype (float32 stays float32, as in PyTorch), else float64 (numbers, lists, integer arrays). ``grad``
    is None until a ``backward()`` reaches it, then an ndarray of the same shape and dtype (a Tensor, after
    ``create_graph=True``).

    A new operation can be written the notes' way: ``out = Tensor(data, _children=(a, b), _op='f')``,
    then ``out._backward = closure``, where the closure adds each operand's share of ``out.grad`` with
    ``a._accumulate(share)`` (which also undoes broadcasting).
    """

    __slots__ = (
        "__weakref__",
        "_custom_backward",
        "_data",
        "_op",
        "_prev",
        "_requires_grad",
        "_rule",
        "_saved",
        "_shared",
        "grad",
        "label",
    )
    _GRAD_BEFORE_BACKWARD = None  # what backward() resets an interior node's grad to (see autodiff.py)
    # Make NumPy defer to Tensor's reflected operators: ``ndarray + Tensor`` calls ``Tensor.__radd__``.
    __array_ufunc__ = None

    def __init__(
        self,
        data,
        requires_grad: bool = False,
        dtype=None,
        *,
        label: str = "",
        _children: Sequence[Tensor] = (),
        _op: str = "",
    ):
        dtype = input_dtype(data, dtype)
        if type(data) is np.ndarray and data.dtype == dtype:
            self._data = data.copy()  # the common case, without the checks of as_float_array
        else:
            self._data = np.array(as_float_array(data, "Tensor", dtype), copy=True)
        self.grad = None
        self.label = label
        self._op = _op
        self._rule = recording.NO_RULE
        self._saved = ()
        self._custom_backward = None
        self._shared = False
        # The notes' constructor: Tensor(data, (a, b), '+') records a node whose _backward you assign.
        children = tuple(_children)
        for i, c in enumerate(children):
            if not isinstance(c, Tensor):
                raise TypeError(f"Tensor: _children must be Tensors, got {type(c).__name__} at position {i}")
        if not isinstance(requires_grad, (bool, np.bool_)):
            raise TypeError(f"Tensor: requires_grad must be True or False, got {requires_grad!r}")
        recorded = _grad_mode.enabled and any(c._requires_grad for c in children)
        self._requires_grad = bool(requires_grad) or recorded
        self._prev = children if recorded else ()
        for c in self._prev:
            c._shared = True  # the closure you assign may read their arrays

    # -- data and requires_grad: plain attributes to read and set, with the graph kept consistent --

    @property
    def data(self) -> np.ndarray:
        """The array of numbers. Once an operation has used this tensor, the first read hands out a
        copy (copy on write), so changing it never changes what the recorded graph computes with."""
        data = self._data
        # Copy only while something else may hold the array: a graph's saved operands, a view of it,
        # another tensor. If this tensor is its only holder (the graph is gone), nothing can be hurt.
        if self._shared and (refcount(data) > HELD_ONCE or data.base is not None):
            self._data = data = data.copy()
            self._shared = False
        return data

    @data.setter
    def data(self, value) -> None:
        if value is self._data:
            return  # t.data += 1 assigns back the array it changed in place
        if type(value) is np.ndarray and value.dtype.kind == "f":
            self._data = value  # a float array is taken as it is (no copy), as PyTorch's .data = does
        else:
            self._data = as_float_array(value, "Tensor.data", self._data.dtype)
        self._shared = False

    @property
    def requires_grad(self) -> bool:
        """Whether backward() computes a gradient for this tensor (and operations on it record the graph)."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        if self._prev:
            raise RuntimeError(
                f"requires_grad: can only be changed on a leaf (a tensor you made); this one is the result of "
                f"{self._op!r}. To use its numbers without a gradient, take t.detach()"
            )
        if not isinstance(flag, (bool, np.bool_)):
            raise TypeError(f"requires_grad: expected True or False, got {flag!r}")
        self._requires_grad = bool(flag)

    # -- the notes' protocol: `_backward` (from Node) runs _chain_rule, or a closure you assigned --

    def _chain_rule(self) -> None:
        g = self.grad
        if g is None:
            return
        saved = self._saved
        prev = self._prev
        # The i-th vjp gives the share of the i-th parent (x * x has one, for its one operand, and a node made
        # by hand none). Counted by hand: for one or two parents, building zip(prev, vjps) costs more than
        # the rest of the loop (callgrind: ~1,500 instructions a node).
        i = 0
        for vjp in self._rule.vjps:
            parent = prev[i]
            if parent._requires_grad:
                parent._accumulate(vjp(g, *saved))
            i += 1

    def _graph_chain_rule(self) -> None:
        """The same rule run on Tensors instead of arrays: each share it passes on is a graph too."""
        g = self.grad
        if g is None:
            return
        if self._custom_backward is not None or (self._prev and not self._rule.vjps):
            raise RuntimeError(
                f"create_graph: the node {self._op!r} has no derivative rule to differentiate again (a custom "
                "_backward closure); build it from chainrule's operations"
            )
        saved = self._rule.saved_as_nodes(self)
        for parent, vjp in zip(self._prev, self._rule.vjps):
            if parent._requires_grad:
                parent._accumulate(vjp(g, *saved))

    def _accumulate(self, g) -> None:
        """Add ``g`` into ``self.grad``: the one place gradients are summed (and broadcasting undone)."""
        if type(g) is not np.ndarray:
            if isinstance(g, Tensor):  # create_graph: the gradient is a graph, kept as it is
                g = unbroadcast(g, self._data.shape)
                self.grad = g if self.grad is None else self.grad + g
                return
            g = np.asarray(g)
        data = self._data
        if g.shape != data.shape:
            g = unbroadcast(g, data.shape)
        if g.dtype is not data.dtype and g.dtype != data.dtype:  # the identity test is the quick common case
            g = g.astype(data.dtype)
        if self._prev:
            # Interior node (backpropagate cleared it for this pass). Not added in place, since g may be
            # another node's array (the gradient of `a + b` is passed on unchanged).
            self.grad = g if self.grad is None else self.grad + g
        elif self.grad is None:
            # A leaf gets its own array, so no two parameters ever share gradient memory. An array a rule
            # has just made, that nothing else holds (no name, no graph, no view of it), is already its own.
            owned = g.base is None and refcount(g) <= PASSED_FRESH
            self.grad = g if owned else g.copy()
        else:
            self.grad += g

    def backward(self, grad=None, create_graph: bool = False) -> None:
        """Fill in ``grad`` for every tensor this one was computed from: d self / d that tensor.

        Without ``grad``, ``self`` must hold a single number (e.g. a loss after ``.mean()``); otherwise
        pass ``grad``, an array of ``self`` 's shape (the gradient of some later scalar w.r.t. ``self``).
        Leaf gradients accumulate; reset them (``model.zero_grad()``) before the next ``backward()``.
        An interior tensor's ``grad`` holds only this call's gradient.
        ``create_graph=True`` makes every ``grad`` a Tensor computed from the graph, which can be
        differentiated again (as in PyTorch); ``chainrule.grad`` is the tidier way to do that.
        Raises RuntimeError if ``self`` does not require grad, ValueError for a missing or misshapen grad.
        """
        if not self._requires_grad:
            raise RuntimeError(
                "backward: this Tensor does not require grad (no input had requires_grad=True, or it was "
                "computed inside no_grad()), so there is nothing to differentiate"
            )
        if grad is None:
            if self._data.size != 1:
                raise ValueError(
                    f"backward: this Tensor has shape {self.shape}; backward() without a gradient needs a single "
                    f"number. Reduce it first (.sum(), .mean()) or pass grad=, an array of shape {self.shape}"
                )
            seed = self._seed(create_graph)
        else:
            seed = np.array(as_float_array(grad, "backward (grad)", self._data.dtype), copy=True)
            if seed.shape != self.shape:
                raise ValueError(f"backward: grad has shape {seed.shape} but this Tensor has shape {self.shape}")
            if create_graph:
                seed = recording.constant(seed)
        if create_graph:
            backpropagate(self, seed, create_graph=True)
        else:
            backpropagate(self, seed)

    def zero_grad(self) -> None:
        self.grad = None

    # -- what chainrule.grad asks of a node (see autodiff.grad) ----------------------------------------

    def _weighted_total(self, outputs, grad_outputs) -> Tensor:
        return shapes.weighted_total(outputs, grad_outputs)

    def _seed(self, create_graph: bool):
        ones = np.empty(self._data.shape, dtype=self._data.dtype)
        ones.fill(1.0)  # np.ones is a Python function: three times the cost for the usual single number
        return recording.constant(ones) if create_graph else ones

    def _as_gradient(self, g, create_graph: bool) -> Tensor:
        if g is None:
            return Tensor(np.zeros_like(self._data), dtype=self._data.dtype)
        if create_graph and isinstance(g, Tensor):
            return g
        return Tensor(g, dtype=self._data.dtype)

    # -- the operations, each defined with its derivative rule in chainrule/tensor_ops.py -------------
    # (``a + b``, ``a * b``, ``t.exp()``, ``t += u`` and the other operators that take the tensor first are
    # the operations themselves, set where they are defined, at the end of tensor_ops.py; ``@`` at the end
    # of tensor_shapes.py. Here are those that need more.)

    def __radd__(self, other) -> Tensor:  # other + self
        return ops.add(recording.lift(self, other, "add"), self)

    def __rsub__(self, other) -> Tensor:  # other - self
        return ops.sub(recording.lift(self, other, "sub"), self)

    def __rmul__(self, other) -> Tensor:  # other * self
        return ops.mul(recording.lift(self, other, "mul"), self)

    def __rtruediv__(self, other) -> Tensor:  # other / self
        return ops.div(recording.lift(self, other, "div"), self)

    def __rpow__(self, other) -> Tensor:  # other ** self
        return ops.power(recording.lift(self, other, "pow"), self)

    def __rmatmul__(self, other) -> Tensor:  # other @ self
        return shapes.matmul(recording.lift(self, other, "matmul"), self)

    def __getitem__(self, index) -> Tensor:
        """NumPy indexing: ints, slices, integer or boolean arrays and tuples of them, e.g.
        ``logp[np.arange(n), targets]``. Entries picked more than once get every share of the gradient."""
        return shapes.index(self, index)

    def sum(self, axis=None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (an int, a tuple, or None for all); the gradient is copied to every entry."""
        return shapes.reduce_sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims: bool = False) -> Tensor:
        """Average over ``axis``; each entry gets ``1/count`` of the gradient."""
        return shapes.reduce_mean(self, axis, keepdims)

    def max(self, axis=None, keepdims: bool = False) -> Tensor:
        """Largest entry over ``axis``. The gradient goes to the largest entries; ties share it evenly
        (as ``torch.amax`` does), so ``max`` of ``[1, 3, 3]`` sends half to each 3."""
        return shapes.reduce_max(self, axis, keepdims)

    def min(self, axis=None, keepdims: bool = False) -> Tensor:
        """Smallest entry over ``axis``; ties share the gradient evenly, as in ``max`` (and ``torch.amin``)."""
        return shapes.reduce_min(self, axis, keepdims)

    def var(self, axis=None, correction: float = 1, keepdims: bool = False) -> Tensor:
        """Variance over ``axis``: squared deviations from the mean, summed, over ``count - correction``.
        ``correction=1`` (Bessel's, unbiased) is PyTorch's default; 0 is the population variance."""
        return shapes.var(self, axis, correction, keepdims)

    def std(self, axis=None, correction: float = 1, keepdims: bool = False) -> Tensor:
        """Standard deviation, ``sqrt(var(...))``, with ``var`` 's ``correction`` (1 by default, as PyTorch)."""
        return shapes.std(self, axis, correction, keepdims)

    def reshape(self, *shape) -> Tensor:
        """The same entries in a new shape: ``t.reshape(2, 3)`` or ``t.reshape((2, 3))``; -1 is inferred."""
        return shapes.reshape(self, shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape)

    def view(self, *shape) -> Tensor:
        """``reshape`` under PyTorch's name. Where the entries cannot be viewed in the new shape (after a
        transpose) NumPy copies them, where PyTorch refuses a non-contiguous tensor."""
        return self.reshape(*shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Dimensions ``start_dim`` to ``end_dim`` (inclusive) joined into one, as ``torch.flatten``."""
        return shapes.flatten(self, start_dim, end_dim)

    def transpose(self, *axes) -> Tensor:
        """Permute the axes, as NumPy: no arguments reverses them (``.T``); ``t.transpose(1, 0, 2)`` swaps the first
        two. ``transpose(0, 1)`` of a matrix is an error, since PyTorch reads it as a swap: write ``t.T``."""
        return shapes.transpose(self, axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes)

    @property
    def T(self) -> Tensor:
        return shapes.transpose(self, ())

    def clamp(self, min=None, max=None) -> Tensor:
        """Entries limited to ``[min, max]`` (None: no limit); the gradient passes where min <= x <= max, as torch."""
        return ops.clamp(self, min, max)

    def softmax(self, axis: int = -1) -> Tensor:
        """``exp(x) / sum(exp(x))`` along ``axis``, computed after subtracting the max (never overflows)."""
        return ops.softmax(self, axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        """``x - log(sum(exp(x)))`` along ``axis`` (log-sum-exp after subtracting the max)."""
        return ops.log_softmax(self, axis)


# The operations need the class above, so they are loaded after it.
from chainrule import tensor_ops as ops  # noqa: E402
from chainrule import tensor_record as recording  # noqa: E402
from chainrule import tensor_shapes as shapes  # noqa: E402


def __getattr__(name: str):
    # The fused operations live with their concepts (the layer, the losses) and are also found here.
    if name == "linear":
        from chainrule.nn.layers import linear

        return linear
    if name in ("hinge_loss", "sum_of_squares"):
        from chainrule.losses import tensor as tensor_losses

        return getattr(tensor_losses, name)
    raise AttributeError(f"module 'chainrule.tensor' has no attribute {name!r}")
