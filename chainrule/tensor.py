"""The Tensor engine: the scalar ``Value`` 's rules, applied to whole NumPy arrays at once.

A ``Tensor`` is a node of the same graph the notes draw. ``c = a * b`` computes ``c.data`` (an
ndarray) and records ``c._prev = (a, b)`` and ``c._op = '*'``; ``c.backward()`` seeds ``c.grad`` and
lets ``chainrule.autodiff.backpropagate`` (the one topological sort both engines share) call each
node's ``_backward()`` from the output back to the leaves.

What an operation records is, as in ``engine.py``, its local derivative next to its result. For arrays
the local derivative is a matrix far too big to build, so each operation records instead one
*vector-Jacobian product* per operand (HIPS autograd's ``defvjp``): a function that takes
``out.grad`` and returns that operand's share of it, ``d loss / d operand``. For ``a * b`` they are
``g -> g * b`` and ``g -> g * a``, exactly the scalar rule. ``out._backward`` is the chain-rule step
that applies them and adds the results into the operands' ``grad`` (``_chain_rule``). The products
close over the operands' arrays or the result's array, never over the result ``Tensor``: no node
refers to itself, so a graph is freed by reference counting the moment it is no longer named.

The rules that keep the bookkeeping in one place:

* broadcasting (``(3, 1) + (1, 4)``) is undone only in ``unbroadcast``, called only from
  ``Tensor._accumulate``, the one place gradients are added up;
* a result requires grad if any operand does, and only then is it recorded (``_prev`` non-empty);
  inside ``with no_grad():`` nothing is recorded at all;
* leaves (tensors you made, with ``requires_grad=True``) accumulate ``grad`` across ``backward()``
  calls, as in the notes and PyTorch; reset them with ``zero_grad``. An interior node's ``grad`` holds
  only the gradient of the latest ``backward()`` through it, so two losses sharing a subgraph can be
  back-propagated one after the other and the leaves still get the sum (the rule of both engines,
  ``chainrule/autodiff.py``);
* backward uses the numbers the forward pass saw. An operation keeps its operands' arrays for its
  vector-Jacobian products, so once a tensor has been used, reading ``t.data`` hands you a fresh copy
  to change (copy on write): ``t.data += 1`` or ``t.data[0] = 5`` between forward and backward changes
  the tensor for later operations and leaves the recorded graph as it was. Arrays given as operands
  (``t * mask``) and index arrays are copied for the same reason.

Numbers and arrays used as operands (``2 - t``, ``t * mask``) become constant tensors of ``t`` 's dtype
and sit in ``_prev`` in operand order, like ``Value(other)`` in the scalar engine. NaN and infinity
are accepted in ``Tensor(...)`` data and flow through arithmetic as in NumPy and PyTorch; operations
whose domain excludes some inputs (``log``, division by zero, powers, ``exp`` overflow) raise instead,
naming the operation and the offending values, as the scalar engine does.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Sequence
from typing import Callable

import numpy as np

from chainrule.autodiff import Node, _grad_mode, backpropagate, no_grad, short_repr

__all__ = ["Tensor", "no_grad", "unbroadcast", "linear", "sum_of_squares", "hinge_loss", "as_float_array"]

Vjp = Callable[[np.ndarray], np.ndarray]

_new = object.__new__


def _holders_of_an_array_held_once() -> int:
    """What ``sys.getrefcount`` says, inside ``Tensor.data``, of an array that only its tensor holds.

    Measured rather than assumed, as the count of temporary references differs between Python
    versions; where there is no reference count (not CPython), every saved array is copied."""

    class Holder:
        __slots__ = ("_data",)

    holder = Holder()
    holder._data = np.empty(0)
    data = holder._data  # the same references as in Tensor.data: the slot, a local name, the argument
    return _refcount(data)


_refcount = getattr(sys, "getrefcount", lambda obj: 1 << 30)
_ALONE = _holders_of_an_array_held_once()


# -- conversion and checks ---------------------------------------------------------------------
def _float_dtype(dtype, where: str) -> np.dtype:
    if dtype is None:
        return np.dtype(np.float64)
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{where}: dtype must be a floating type such as float32 or float64, got {dtype!r}") from None
    if dt.kind != "f":
        raise TypeError(f"{where}: dtype must be a floating type such as float32 or float64, got {dt}")
    return dt


def as_float_array(x, where: str, dtype=None) -> np.ndarray:
    """``x`` (a number, nested list, ndarray or Tensor) as a float ndarray of ``dtype`` (float64 if None).

    Raises TypeError, naming ``where``, for strings, objects (e.g. a list of ``Value`` s), complex numbers
    and other non-numeric data, and ValueError for ragged lists. Does not copy an array that already has
    the right dtype.
    """
    dt = _float_dtype(dtype, where)
    if isinstance(x, Tensor):
        x = x._data
    try:
        arr = np.asarray(x)
    except ValueError as err:
        raise ValueError(f"{where}: cannot make an array from {short_repr(x)}: {err}") from None
    if arr.dtype.kind not in "biuf":
        hint = " (to use Values, build a scalar graph instead)" if arr.dtype.kind == "O" else ""
        raise TypeError(f"{where}: expected real numbers, got an array of dtype {arr.dtype} from {short_repr(x)}{hint}")
    return arr.astype(dt, copy=False)


def _values(arr: np.ndarray, limit: int = 5) -> str:
    """A few entries of ``arr`` for an error message."""
    flat = arr.ravel()
    shown = ", ".join(repr(float(v)) for v in flat[:limit])
    return f"[{shown}{', ...' if flat.size > limit else ''}] ({flat.size} value{'s' if flat.size != 1 else ''})"


def _normalize_axes(axis, ndim: int, where: str) -> tuple[int, ...] | None:
    """``axis`` (None, an int or a tuple of ints) as a tuple of non-negative axes, or an error."""
    if axis is None:
        return None
    if isinstance(axis, (int, np.integer)):
        axes = (axis,)
    elif isinstance(axis, (tuple, list)):
        axes = tuple(axis)
    else:
        raise TypeError(f"{where}: axis must be an int or a tuple of ints, got {short_repr(axis)}")
    normalized = []
    for a in axes:
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"{where}: axis must be an int or a tuple of ints, got {axis!r}")
        if not -ndim <= a < ndim:
            raise ValueError(f"{where}: axis {a} is out of range for a tensor with {ndim} dimension(s)")
        normalized.append(int(a) % ndim)
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{where}: axis {axis!r} repeats an axis")
    return tuple(normalized)


def _broadcasting(ufunc, a: np.ndarray, b: np.ndarray, where: str) -> np.ndarray:
    """``ufunc(a, b)`` with NumPy broadcasting, or an error that names the operation and both shapes."""
    try:
        return ufunc(a, b)
    except ValueError:
        raise ValueError(
            f"{where}: shapes {a.shape} and {b.shape} cannot be broadcast together "
            "(each trailing dimension must match or be 1)"
        ) from None


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` down to ``shape``: the gradient of an operand that NumPy broadcast up to ``grad.shape``.

    Broadcasting copies an operand along new leading axes and along its axes of length 1; each copy
    received part of the gradient, so the operand's gradient is the sum over those axes.
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
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
    return np.add.reduce(grad, axis=tuple(axes)).reshape(shape) if axes else grad.reshape(shape)


# -- the graph node ------------------------------------------------------------------------------
def _node(data, op: str, parents: tuple, vjps: tuple) -> Tensor:
    """The result of an operation: recorded in the graph only if some parent requires grad."""
    out = _new(Tensor)
    out._data = data if type(data) is np.ndarray else np.asarray(data)
    out.grad = None
    out.label = ""
    out._op = op
    out._custom_backward = None
    if _grad_mode.enabled:
        for p in parents:
            if p._requires_grad:
                out._requires_grad = True
                out._prev = parents
                out._vjps = vjps
                # The products may read these arrays at backward time: a later t.data copies first.
                out._saved = True
                for q in parents:
                    q._saved = True
                return out
    # A view (reshape, a slice) shares its operand's array, which a graph may have saved: copy on write.
    if out._data.base is not None:
        out._saved = True
        for p in parents:
            p._saved = True  # the view and its operand share memory: a write to either copies first
    else:
        out._saved = False
    out._requires_grad = False
    out._prev = ()
    out._vjps = ()
    return out


def _constant(data: np.ndarray) -> Tensor:
    """A Tensor around ``data`` (no copy) that needs no gradient: a number or array used as an operand."""
    return _node(data, "", (), ())


def _identity(g):
    return g


def _negate(g):
    return -g


class Tensor(Node):
    """An n-dimensional array in a computation graph, with the gradient of the final output in ``grad``.

    ``Tensor(data, requires_grad=False, dtype=None)`` copies ``data`` (a number, nested list or ndarray)
    into a float64 array (or ``dtype``, e.g. ``np.float32``). ``grad`` is None until a ``backward()``
    reaches it, then an ndarray of the same shape and dtype.

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
        "_saved",
        "_vjps",
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
        dtype = _float_dtype(dtype, "Tensor")
        if type(data) is np.ndarray and data.dtype == dtype:
            self._data = data.copy()  # the common case, without the checks of as_float_array
        else:
            self._data = np.array(as_float_array(data, "Tensor", dtype), copy=True)
        self.grad = None
        self.label = label
        self._op = _op
        self._vjps = ()
        self._custom_backward = None
        self._saved = False
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
            c._saved = True  # the closure you assign may read their arrays

    # -- data and requires_grad: plain attributes to read and set, with the graph kept consistent --
    @property
    def data(self) -> np.ndarray:
        """The array of numbers. Once an operation has used this tensor, the first read hands out a
        copy (copy on write), so changing it never changes what the recorded graph computes with."""
        data = self._data
        # Copy only while something else may hold the array: a graph's saved operands, a view of it,
        # another tensor. If this tensor is its only holder (the graph is gone), nothing can be hurt.
        if self._saved and (_refcount(data) > _ALONE or data.base is not None):
            self._data = data = data.copy()
            self._saved = False
        return data

    @data.setter
    def data(self, value) -> None:
        if value is self._data:
            return  # t.data += 1 assigns back the array it changed in place
        if type(value) is np.ndarray and value.dtype.kind == "f":
            self._data = value  # a float array is taken as it is (no copy), as PyTorch's .data = does
        else:
            self._data = as_float_array(value, "Tensor.data", self._data.dtype)
        self._saved = False

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
        for parent, vjp in zip(self._prev, self._vjps):
            if parent._requires_grad:
                parent._accumulate(vjp(g))

    def _accumulate(self, g) -> None:
        """Add ``g`` into ``self.grad``: the one place gradients are summed (and broadcasting undone)."""
        if type(g) is not np.ndarray:
            g = np.asarray(g)
        data = self._data
        if g.shape != data.shape:
            g = unbroadcast(g, data.shape)
        if g.dtype != data.dtype:
            g = g.astype(data.dtype)
        if self._prev:
            # Interior node (backpropagate cleared it for this pass). Not added in place, since g may be
            # another node's array (the gradient of `a + b` is passed on unchanged).
            self.grad = g if self.grad is None else self.grad + g
        elif self.grad is None:
            # A leaf gets its own array, so no two parameters ever share gradient memory.
            self.grad = g.copy()
        else:
            self.grad += g

    def backward(self, grad=None) -> None:
        """Fill in ``grad`` for every tensor this one was computed from: d self / d that tensor.

        Without ``grad``, ``self`` must hold a single number (e.g. a loss after ``.mean()``); otherwise
        pass ``grad``, an array of ``self`` 's shape (the gradient of some later scalar w.r.t. ``self``).
        Leaf gradients accumulate; reset them (``model.zero_grad()``) before the next ``backward()``.
        An interior tensor's ``grad`` holds only this call's gradient.
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
            seed = self._seed(create_graph=False)
        else:
            seed = np.array(as_float_array(grad, "backward (grad)", self._data.dtype), copy=True)
            if seed.shape != self.shape:
                raise ValueError(f"backward: grad has shape {seed.shape} but this Tensor has shape {self.shape}")
        backpropagate(self, seed)

    def zero_grad(self) -> None:
        self.grad = None

    # -- what chainrule.grad asks of a node (see autodiff.grad) ----------------------------------------
    def _weighted_total(self, outputs, grad_outputs) -> Tensor:
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
                # a constant: the gradient is taken through the outputs, never through grad_outputs
                seed = Tensor(as_float_array(g, "grad (grad_outputs)", o.dtype))
                if seed.shape != o.shape:
                    raise ValueError(f"grad: grad_outputs[{i}] has shape {seed.shape}, output {i} has {o.shape}")
                terms.append((o * seed).sum())
        if len(terms) == 1 and terms[0] is outputs[0] and outputs[0].shape == ():
            return terms[0]
        total = terms[0].reshape(())
        for t in terms[1:]:
            total = total + t.reshape(())
        return total

    def _seed(self, create_graph: bool):
        return np.ones(self._data.shape, dtype=self._data.dtype)

    def _as_gradient(self, g, create_graph: bool) -> Tensor:
        return Tensor(np.zeros_like(self._data) if g is None else g, dtype=self._data.dtype)

    def _graph_chain_rule(self) -> None:
        raise NotImplementedError(
            "create_graph: higher-order gradients work on Values so far; on Tensors take first derivatives "
            "(create_graph=False)"
        )

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
        out = _constant(self._data)
        # Both now share the array, which a graph may have saved or may yet save: each copies on its first write.
        out._saved = self._saved = True
        return out

    # -- copy and pickle: the numbers, the gradient and the flags; never the graph ---------------------
    def __reduce_ex__(self, protocol):
        # As in PyTorch, a pickled Tensor arrives as a leaf: its vector-Jacobian products are closures,
        # which pickle cannot store, and a copy of a graph's end without the graph could not be used.
        return _rebuild_tensor, (self._data, self.grad, self._requires_grad, self.label)

    def __deepcopy__(self, memo) -> Tensor:
        if self._prev:
            raise RuntimeError(
                f"deepcopy: this Tensor is the result of {self._op!r} inside a graph, and only leaves (tensors "
                "you made, such as parameters) can be deep-copied; copy t.detach(), or deep-copy the model"
            )
        copy = _rebuild_tensor(
            self._data.copy(), None if self.grad is None else self.grad.copy(), self._requires_grad, self.label
        )
        memo[id(self)] = copy
        return copy

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

    def _lift(self, other, where: str) -> Tensor:
        """A number or array operand as a constant Tensor of this Tensor's dtype.

        Arrays are copied: the graph keeps the operand for backward, and the caller may change theirs."""
        if isinstance(other, Tensor):
            return other
        if type(other) is float or type(other) is int:
            dtype = self._data.dtype
            if dtype == np.float64:
                return _constant(np.asarray(other, dtype=dtype))
            with np.errstate(over="ignore"):  # 1e300 in float32 is inf, as in PyTorch: no warning
                return _constant(np.asarray(other, dtype=dtype))
        if other is None:
            raise TypeError(f"{where}: expected real numbers (a number, an array or a Tensor), got None")
        return _constant(np.array(as_float_array(other, where, self._data.dtype), copy=True))

    # -- arithmetic: each operation computes its result and its vector-Jacobian products side by side
    def __add__(self, other) -> Tensor:
        other = self._lift(other, "add")
        # d(a + b)/da = 1, d(a + b)/db = 1: the gradient passes through (unbroadcast sums it if needed)
        return _node(_broadcasting(np.add, self._data, other._data, "add"), "+", (self, other), (_identity, _identity))

    def __sub__(self, other) -> Tensor:
        other = self._lift(other, "sub")
        # d(a - b)/da = 1, d(a - b)/db = -1
        return _node(
            _broadcasting(np.subtract, self._data, other._data, "sub"), "-", (self, other), (_identity, _negate)
        )

    def __mul__(self, other) -> Tensor:
        other = self._lift(other, "mul")
        a, b = self._data, other._data
        # d(a * b)/da = b, d(a * b)/db = a
        return _node(_broadcasting(np.multiply, a, b, "mul"), "*", (self, other), (lambda g: g * b, lambda g: g * a))

    def __truediv__(self, other) -> Tensor:
        other = self._lift(other, "div")
        a, b = self._data, other._data
        if not b.all():
            raise ZeroDivisionError(f"div: the divisor (shape {b.shape}) contains zeros at {_where_false(b)}")
        out = _broadcasting(np.divide, a, b, "div")
        # d(a / b)/da = 1/b, d(a / b)/db = -a/b**2 = -out/b
        return _node(out, "/", (self, other), (lambda g: g / b, lambda g: -g * out / b))

    def __pow__(self, other) -> Tensor:
        if isinstance(other, Tensor):
            return self._pow_tensor(other)
        if isinstance(other, bool) or not isinstance(other, (int, float, np.integer, np.floating)):
            raise TypeError(f"pow: exponent must be a number or a Tensor, got {short_repr(other)}")
        n = float(other)
        x = self._data
        _check_pow_domain(x, np.asarray(n))
        out = x**n
        if n == 0.0:
            vjp = _zeros_like_grad
        elif n == 2.0:
            # d(x**2)/dx = 2x
            def vjp(g):
                return g * (2.0 * x)
        else:
            # d(x**n)/dx = n * x**(n-1); infinite at x = 0 for 0 < n < 1, as in PyTorch
            def vjp(g):
                with np.errstate(divide="ignore"):
                    return g * (n * x ** (n - 1.0))

        return _node(out, f"**{other}", (self,), (vjp,))

    def _pow_tensor(self, other: Tensor) -> Tensor:
        a, b = self._data, other._data
        with np.errstate(invalid="ignore", divide="ignore"):
            out = _broadcasting(np.power, a, b, "pow")
        _check_pow_domain(a, b)

        def vjp_base(g):
            # d(a**b)/da = b * a**(b-1), 0 where b == 0
            with np.errstate(divide="ignore", invalid="ignore"):
                return g * np.where(b == 0.0, 0.0, b * a ** (b - 1.0))

        def vjp_exponent(g):
            # d(a**b)/db = a**b * ln(a): 0 at a = 0 (b >= 0), NaN for a < 0 (no real logarithm), as in PyTorch
            with np.errstate(divide="ignore", invalid="ignore"):
                return g * np.where(a == 0.0, 0.0, out * np.log(a))

        return _node(out, "**", (self, other), (vjp_base, vjp_exponent))

    def __neg__(self) -> Tensor:  # -self
        return _node(-self._data, "neg", (self,), (_negate,))

    def __radd__(self, other) -> Tensor:  # other + self
        return self._lift(other, "add") + self

    def __rsub__(self, other) -> Tensor:  # other - self
        return self._lift(other, "sub") - self

    def __rmul__(self, other) -> Tensor:  # other * self
        return self._lift(other, "mul") * self

    def __rtruediv__(self, other) -> Tensor:  # other / self
        return self._lift(other, "div") / self

    def __rpow__(self, other) -> Tensor:  # other ** self
        return self._lift(other, "pow") ** self

    def __rmatmul__(self, other) -> Tensor:  # other @ self
        return self._lift(other, "matmul") @ self

    def __matmul__(self, other) -> Tensor:
        other = self._lift(other, "matmul")
        a, b = self._data, other._data
        try:
            out = a @ b
        except ValueError:
            raise ValueError(_matmul_error(a.shape, b.shape)) from None
        if a.ndim == 2 and b.ndim == 2:
            # d(A @ B)/dA: g @ B.T, d(A @ B)/dB: A.T @ g
            return _node(out, "@", (self, other), (lambda g: g @ b.T, lambda g: a.T @ g))
        return _node(out, "@", (self, other), _matmul_vjps(a, b))

    # -- reductions -------------------------------------------------------------------------------
    def sum(self, axis=None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (an int, a tuple, or None for all); the gradient is copied to every entry."""
        x = self._data
        axes = _normalize_axes(axis, x.ndim, "sum")
        out = np.add.reduce(x, axis=axes, keepdims=keepdims)
        return _node(out, "sum", (self,), (_spread(x, axes, 1.0),))

    def mean(self, axis=None, keepdims: bool = False) -> Tensor:
        """Average over ``axis``; each entry gets ``1/count`` of the gradient."""
        x = self._data
        axes = _normalize_axes(axis, x.ndim, "mean")
        if x.size == 0:
            raise ValueError(f"mean: cannot average an empty Tensor of shape {x.shape}")
        count = x.size if axes is None else math.prod(x.shape[a] for a in axes)
        # np.add.reduce is ndarray.sum without the Python wrapper (several times faster on small arrays)
        out = np.add.reduce(x, axis=axes, keepdims=keepdims) * (1.0 / count)
        return _node(out, "mean", (self,), (_spread(x, axes, 1.0 / count),))

    def max(self, axis=None, keepdims: bool = False) -> Tensor:
        """Largest entry over ``axis``. The gradient goes to the largest entries; ties share it evenly
        (as ``torch.amax`` does), so ``max`` of ``[1, 3, 3]`` sends half to each 3."""
        x = self._data
        axes = _normalize_axes(axis, x.ndim, "max")
        if x.size == 0:
            raise ValueError(f"max: cannot take the max of an empty Tensor of shape {x.shape}")
        top = x.max(axis=axes, keepdims=True)
        out = top if keepdims else (top.reshape(()) if axes is None else np.squeeze(top, axis=axes))

        def vjp(g):
            winners = x == top
            share = winners / winners.sum(axis=axes, keepdims=True)
            if not keepdims and axes is not None:
                g = np.expand_dims(g, axes)
            return g * share

        return _node(out, "max", (self,), (vjp,))

    # -- shapes and indexing ----------------------------------------------------------------------
    def reshape(self, *shape) -> Tensor:
        """The same entries in a new shape: ``t.reshape(2, 3)`` or ``t.reshape((2, 3))``; -1 is inferred."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        x = self._data
        try:
            out = x.reshape(shape)
        except (ValueError, TypeError):
            raise ValueError(f"reshape: cannot reshape shape {x.shape} ({x.size} entries) into {shape}") from None
        in_shape = x.shape
        return _node(out, "reshape", (self,), (lambda g: g.reshape(in_shape),))

    def transpose(self, *axes) -> Tensor:
        """Permute the axes: no arguments reverses them (``.T``); ``t.transpose(1, 0, 2)`` swaps the first two."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        x = self._data
        perm = tuple(range(x.ndim))[::-1] if not axes else _normalize_axes(tuple(axes), x.ndim, "transpose")
        if len(perm) != x.ndim:
            raise ValueError(f"transpose: axes {axes} are not a permutation of the {x.ndim} axes of shape {x.shape}")
        inverse = tuple(np.argsort(perm))
        return _node(x.transpose(perm), "transpose", (self,), (lambda g: g.transpose(inverse),))

    @property
    def T(self) -> Tensor:
        return self.transpose()

    def __getitem__(self, index) -> Tensor:
        """NumPy indexing: ints, slices, integer or boolean arrays and tuples of them, e.g.
        ``logp[np.arange(n), targets]``. Entries picked more than once get every share of the gradient."""
        if isinstance(index, Tensor):
            index = index._data
        x = self._data
        try:
            out = x[index]
        except IndexError as err:
            raise IndexError(f"index: {err} (indexing a Tensor of shape {x.shape} with {short_repr(index)})") from None
        shape, dtype = x.shape, x.dtype
        basic = _is_basic_index(index)
        index = _own_copy_of_index(index)  # the caller may change their index array before backward

        def vjp(g):
            full = np.zeros(shape, dtype=dtype)
            if basic:
                full[index] = g  # basic indexing picks each entry at most once
            else:
                np.add.at(full, index, g)  # integer arrays may repeat an entry: add every share
            return full

        return _node(out if type(out) is np.ndarray else np.asarray(out), "index", (self,), (vjp,))

    # -- elementwise functions --------------------------------------------------------------------
    def exp(self) -> Tensor:
        x = self._data
        limit = math.log(np.finfo(x.dtype).max)
        if x.size and x.max() > limit:
            raise OverflowError(
                f"exp: inputs above about {limit:.2f} overflow {x.dtype}; the largest input is {float(x.max())!r}. "
                "Scale the input down, or use a numerically stable form such as log_softmax"
            )
        out = np.exp(x)
        # d(e**x)/dx = e**x
        return _node(out, "exp", (self,), (lambda g: g * out,))

    def log(self) -> Tensor:
        x = self._data
        positive = x > 0
        if not positive.all():
            raise ValueError(f"log: input must be > 0, got {_values(x[~positive])} at {_where_false(positive)}")
        # d(ln x)/dx = 1/x
        return _node(np.log(x), "log", (self,), (lambda g: g / x,))

    def tanh(self) -> Tensor:
        t = np.tanh(self._data)
        # d(tanh x)/dx = 1 - tanh(x)**2
        return _node(t, "tanh", (self,), (lambda g: g * (1.0 - t * t),))

    def relu(self) -> Tensor:
        out = np.maximum(self._data, 0.0)
        # d(relu x)/dx = 1 for x > 0, else 0 (0 at x = 0), as in PyTorch, which zeroes the gradient
        # where the result is <= 0 and so lets it through a NaN. A float mask multiplies faster than a
        # boolean one.
        slope = np.sign(out)  # 1 where out > 0, 0 where out == 0, NaN where out is NaN
        if math.isnan(np.add.reduce(slope, axis=None)):  # rare: one sum to find out, and only then
            np.fmin(slope, 1.0, out=slope)  # fmin prefers the number to a NaN: 1 there
        return _node(out, "ReLU", (self,), (lambda g: g * slope,))

    def sigmoid(self) -> Tensor:
        x = self._data
        # Written so that exp never overflows: e = e**-|x| <= 1, and sigmoid(x) = e / (1 + e) for x < 0.
        e = np.exp(-np.abs(x))
        s = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
        # d(sigmoid x)/dx = sigmoid(x) * (1 - sigmoid(x))
        return _node(s, "sigmoid", (self,), (lambda g: g * (s * (1.0 - s)),))

    def abs(self) -> Tensor:
        x = self._data
        # d|x|/dx = sign(x) (0 at x = 0, as in PyTorch)
        return _node(np.abs(x), "abs", (self,), (lambda g: g * np.sign(x),))

    def softmax(self, axis: int = -1) -> Tensor:
        """``exp(x) / sum(exp(x))`` along ``axis``, computed after subtracting the max (never overflows)."""
        x = self._data
        ax = _normalize_axes(axis, x.ndim, "softmax") if x.ndim else None  # an int or a tuple of axes
        e = np.exp(x - x.max(axis=ax, keepdims=True))
        s = e / e.sum(axis=ax, keepdims=True)
        # Jacobian diag(s) - s s^T, so the product with g is s * (g - sum(g * s))
        return _node(s, "softmax", (self,), (lambda g: s * (g - (g * s).sum(axis=ax, keepdims=True)),))

    def log_softmax(self, axis: int = -1) -> Tensor:
        """``x - log(sum(exp(x)))`` along ``axis`` (log-sum-exp after subtracting the max)."""
        x = self._data
        ax = _normalize_axes(axis, x.ndim, "log_softmax") if x.ndim else None  # an int or a tuple of axes
        shifted = x - x.max(axis=ax, keepdims=True)
        out = shifted - np.log(np.exp(shifted).sum(axis=ax, keepdims=True))
        # d out_i / d x_j = [i == j] - softmax_j, so the product with g is g - softmax * sum(g)
        return _node(out, "log_softmax", (self,), (lambda g: g - np.exp(out) * g.sum(axis=ax, keepdims=True),))


def _rebuild_tensor(data: np.ndarray, grad, requires_grad: bool, label: str) -> Tensor:
    """A leaf Tensor from its parts (unpickling and deep copies)."""
    t = _constant(data)
    t.grad = grad
    t._requires_grad = requires_grad
    t.label = label
    return t


# -- helpers of the operations -------------------------------------------------------------------
def _zeros_like_grad(g):
    return np.zeros_like(g)


def _where_false(mask: np.ndarray, limit: int = 5) -> str:
    positions = np.argwhere(~np.asarray(mask, dtype=bool))[:limit]
    shown = ", ".join(str(tuple(int(i) for i in p)) for p in positions)
    return f"index {shown}" if mask.ndim else "the only entry"


def _check_pow_domain(base: np.ndarray, exponent: np.ndarray) -> None:
    """Raise, as the scalar engine does, where ``base ** exponent`` has no real value."""
    with np.errstate(invalid="ignore"):
        negative_root = (base < 0) & (exponent != np.floor(exponent))
        zero_to_negative = (base == 0) & (exponent < 0)
    if not (negative_root.any() or zero_to_negative.any()):
        return
    bases, exponents = np.broadcast_arrays(base, exponent)
    if negative_root.any():
        raise ValueError(
            "pow: a negative base with a non-integer exponent has no real value: "
            f"bases {_values(bases[negative_root])}, exponents {_values(exponents[negative_root])}"
        )
    raise ZeroDivisionError(
        f"pow: 0 ** (negative exponent) divides by zero: exponents {_values(exponents[zero_to_negative])}"
    )


def _spread(x: np.ndarray, axes, scale: float) -> Vjp:
    """The gradient of a sum (scale 1) or mean (scale 1/count) of ``x`` over ``axes``: ``g * scale``
    copied back to every entry that was summed."""
    shape, dtype = x.shape, x.dtype
    # g's shape with the summed axes kept as 1s, whether or not the reduction kept them
    kept = (1,) * len(shape) if axes is None else tuple(1 if i in axes else n for i, n in enumerate(shape))

    def vjp(g):
        full = np.empty(shape, dtype=dtype)
        full[...] = g.reshape(kept) if scale == 1.0 else g.reshape(kept) * scale
        return full

    return vjp


def _matmul_error(a_shape, b_shape) -> str:
    if not a_shape or not b_shape:
        return f"matmul: shapes {a_shape} and {b_shape}: both operands need at least one dimension (use * for scalars)"
    inner_a = a_shape[-1]
    inner_b = b_shape[0] if len(b_shape) == 1 else b_shape[-2]
    if inner_a != inner_b:
        which = "its only" if len(b_shape) == 1 else "its second-to-last"
        return (
            f"matmul: shapes {a_shape} and {b_shape} are not aligned: the first has {inner_a} columns (its last "
            f"dimension) but the second has {inner_b} rows ({which} dimension)"
        )
    return f"matmul: the batch dimensions of shapes {a_shape} and {b_shape} cannot be broadcast together"


def _matmul_vjps(a: np.ndarray, b: np.ndarray) -> tuple[Vjp, Vjp]:
    """Products for 1-D and batched matmul: treat a vector as a one-row (a) or one-column (b) matrix."""
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b

    def as_matrix_grad(g):
        # Put back the axes matmul dropped for vector operands, so g has shape (..., n, m).
        if b.ndim == 1:
            g = g[..., None]
        if a.ndim == 1:
            g = g[..., None, :]
        return g

    def vjp_a(g):
        ga = as_matrix_grad(g) @ np.swapaxes(b2, -1, -2)
        return ga[..., 0, :] if a.ndim == 1 else ga

    def vjp_b(g):
        gb = np.swapaxes(a2, -1, -2) @ as_matrix_grad(g)
        return gb[..., 0] if b.ndim == 1 else gb

    return vjp_a, vjp_b


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


def sum_of_squares(tensors: Iterable[Tensor], weight: float = 1.0) -> Tensor:
    """``weight * sum(t**2)`` over every entry of every tensor, as one node (an L2 penalty).

    The local rule: d/dt = 2 * weight * t.
    """
    tensors = tuple(tensors)
    if not tensors:
        raise ValueError("sum_of_squares: got no tensors")
    total = 0  # an int, so the sum takes the tensors' float type
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"sum_of_squares: expected Tensors, got {type(t).__name__}")
        total += np.vdot(t._data, t._data)  # the dot product of the flattened array with itself
    twice = 2.0 * weight
    return _node(weight * total, "sumsq", tensors, tuple(_scaled_by(twice, t._data) for t in tensors))


def _scaled_by(factor: float, x: np.ndarray) -> Vjp:
    return lambda g: (factor * g) * x


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight + bias`` as one node: every neuron's ``w . x + b`` for every row of ``x``, fused.

    The Tensor counterpart of the scalar engine's ``weighted_sum``: the same numbers as the two nodes
    ``x @ weight`` and ``+ bias``, with one node's bookkeeping. ``x`` is ``(..., nin)``, ``weight``
    ``(nin, nout)``, ``bias`` ``(nout,)``. The local rules: d/dx = g @ weight.T, d/dweight = x.T @ g,
    d/dbias = g summed over the rows (``unbroadcast`` does the summing).
    """
    a, w = x._data, weight._data
    if a.ndim != 2 or w.ndim != 2:
        out = x @ weight  # vectors and batches of matrices: the general matmul
        return out if bias is None else out + bias
    try:
        out = a @ w
    except ValueError:
        raise ValueError(_matmul_error(a.shape, w.shape)) from None
    if bias is None:
        return _node(out, "linear", (x, weight), (lambda g: g @ w.T, lambda g: a.T @ g))
    b = bias._data
    if b.shape == out.shape[-1:] and b.dtype == out.dtype:
        out += b  # in place: the product is a fresh array
    else:
        out = _broadcasting(np.add, out, b, "linear (bias)")
    return _node(out, "linear", (x, weight, bias), (lambda g: g @ w.T, lambda g: a.T @ g, _identity))


def hinge_loss(scores: Tensor, labels: np.ndarray, mean: bool = True) -> Tensor:
    """``relu(1 - y * score)`` summed (or averaged) as one node: micrograd's max-margin loss, fused.

    The same numbers as the five nodes ``(1 - y * scores).relu().mean()``; ``labels`` is an array of
    ±1 shaped like ``scores`` (``chainrule.losses.hinge`` checks that). The local rule: an example
    inside the margin (``1 - y * score > 0``) pulls its score toward ``y``: d/dscore = -y, else 0.
    """
    margins = 1.0 - labels * scores._data
    scale = 1.0 / margins.size if mean else 1.0
    total = np.maximum(margins, 0.0).sum() * scale
    # not (margin <= 0) rather than margin > 0: a NaN score passes its gradient on, as relu does in both
    # engines (and PyTorch), so the fused loss and (1 - y * scores).relu().mean() agree there too
    slope = np.where(margins <= 0.0, 0.0, labels * -scale)
    return _node(np.asarray(total, dtype=margins.dtype), "hinge", (scores,), (lambda g: g * slope,))
