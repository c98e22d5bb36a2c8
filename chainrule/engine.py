"""The scalar engine from the notes: a ``Value`` remembers how it was made, so ``backward()`` can
apply the chain rule from the output back to every input.

The story is the notes' own. ``c = a + b`` runs ``a.__add__(b)``, which computes ``c.data`` and
records ``c._prev = (a, b)``, ``c._op = '+'`` and how to push ``c.grad`` back into ``a.grad`` and
``b.grad``. ``c._backward()`` is that push, and it is a closure: called later, it still knows ``a``,
``b`` and ``c``.

How the closure is kept is the one place where this engine differs from the notes, for speed. In the
notes every operation stores its closure on ``out``, and the closure refers to ``out``: each node forms
a reference cycle with its own ``_backward``, and Python can free cycles only with its cyclic garbage
collector, which then spends most of a training step walking old graphs. Here an operation records its
*local derivatives* next to its result (``d out / d operand`` for each operand in ``_prev``), and
``out._backward`` hands back, when asked, the closure that multiplies them by ``out.grad`` and adds
them into the operands' ``grad`` (``_chain_rule`` below). No node refers to itself, so a graph is freed
the moment the last name for it goes away.

You can still add an operation exactly as the notes do, by writing a closure and assigning it:
``out._backward = _backward`` stores it on the node and ``backward()`` calls it (see ``cube`` in the
README's tour for an example).

This file is the ``Value`` class: a node's bookkeeping, the operators, ``backward()`` and pickling. The
rule each operation applies (``_mul_rule`` and the others, the activations) is in ``scalar_rules.py``;
the fused neuron and sums (``weighted_sum``, ``sum_of_squares``, ``value_sum``) are in ``fused.py``,
and can still be imported from here.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Sequence
from numbers import Real
from typing import Union

from chainrule import domains  # each operation's domain error, in the Tensor engine's words too
from chainrule.autodiff import Node, backpropagate, topological_order

Number = Union[int, float]


def _as_float(data, where: str = "Value") -> float:
    """The number ``data`` as a Python float, or a TypeError that says what was given instead."""
    if type(data) is float:
        return data
    # numbers.Real covers int, bool, fractions and NumPy's float64/int64 scalars that scikit-learn
    # hands out; str, None, lists and complex numbers are not real numbers.
    if isinstance(data, Real) or _is_numpy_bool(data):
        try:
            return float(data)
        except OverflowError:
            raise OverflowError(
                f"{where}: {_short_number(data)} is too large for a float (the largest is about 1.8e308)"
            ) from None
    raise TypeError(
        f"{where}: expected a real number (int or float), got {type(data).__name__} {data!r}; "
        "convert it first, e.g. float(x) or Value(float(x))"
    )


def _is_numpy_bool(x) -> bool:
    # NumPy's bool (what `x > 0` gives for a NumPy x) is no numbers.Real, but a number as Python's bool
    # is: 1.0 or 0.0. Told by its type's name, so that the scalar engine never imports NumPy.
    return type(x).__module__ == "numpy" and type(x).__name__ in ("bool", "bool_")


def _operand(x, where: str) -> Value:
    """A plain number on either side of an operator, as a Value (a leaf); anything else is a clear error."""
    if type(x) is float:
        return Value(x)
    if isinstance(x, Real) or _is_numpy_bool(x):
        return Value(_as_float(x, where))
    hint = (
        "; a Value and a Tensor belong to two different engines: use Values with Values, Tensors with Tensors"
        if type(x).__name__ == "Tensor"
        else "; convert it first, e.g. float(x)"
    )
    raise TypeError(f"{where}: cannot combine a Value with {type(x).__name__} {_short_number(x)}{hint}")


def _short_number(x) -> str:
    text = repr(x)
    return text if len(text) <= 40 else f"{text[:20]}...{text[-8:]} ({len(text)} digits)"


def _describe(v: Value) -> str:
    return f"{v.data!r} (label {v.label!r})" if v.label else repr(v.data)


class Value(Node):
    """One number in a computation graph, with the gradient of the final output with respect to it.

    ``Value(data, _children=(), _op='', label='')`` as in the notes. ``data`` is stored as a float;
    ``grad`` starts at 0.0 and is filled in by ``backward()`` on some later result.
    """

    _GRAD_BEFORE_BACKWARD = 0.0  # what backward() resets an interior node's grad to (see autodiff.py)

    __slots__ = ("data", "grad", "label", "_op", "_prev", "_local_grads", "_rule", "_custom_backward", "__weakref__")

    def __init__(
        self,
        data: Number,
        _children: Sequence[Value] = (),
        _op: str = "",
        label: str = "",
        _local_grads: Sequence[float] = (),
        _rule=None,
    ):
        self.data = data if type(data) is float else _as_float(data)
        self.grad = 0.0
        self.label = label
        self._op = _op
        # A tuple in operand order (the notes use a set): the traversal order, and so the order in
        # which floating-point gradients are added up, is the same on every run.
        self._prev = _children if type(_children) is tuple else tuple(_children)
        # d(self)/d(child) for each child in _prev: the operation's derivative rule, already evaluated.
        self._local_grads = _local_grads
        # The rule itself, rule(*children, out) -> local derivatives: run again on Values when the
        # gradient must be a graph (backward(create_graph=True)). None for a node made by hand.
        self._rule = _rule
        self._custom_backward = None

    # -- the closure of the notes: `_backward` (from Node) runs this, or a closure you assigned ---

    def _chain_rule(self) -> None:
        grad = self.grad
        for child, local in zip(self._prev, self._local_grads):
            # += and not =: a Value used twice (a + a, b * b) receives both contributions.
            child.grad += local * grad

    def _graph_chain_rule(self) -> None:
        """The chain rule with the local derivatives as Values: the gradient becomes a graph too."""
        grad = self.grad
        if type(grad) is float and grad == 0.0:
            return  # nothing reached this node in this pass
        if self._custom_backward is not None or self._rule is None:
            raise RuntimeError(
                f"create_graph: the node {self._op!r} has no derivative rule to differentiate again (a custom "
                "_backward closure, a node made by hand with _local_grads, or a node of a copied or unpickled graph, "
                "whose rules stay behind); build it from chainrule's operations, in this process"
            )
        locals_ = self._rule(*self._prev, self)
        for child, local, number in zip(self._prev, locals_, self._local_grads):
            # The rule gave `number` on the forward pass's floats; other numbers now mean an input changed.
            now = _number(local)
            if not (math.isclose(now, number, rel_tol=1e-9, abs_tol=1e-12) or (math.isnan(now) and math.isnan(number))):
                raise RuntimeError(
                    f"create_graph: an input of {self._op!r} changed after the forward pass (its local derivative "
                    f"was {number!r}, now {now!r}); compute the result again before differentiating"
                )
            child.grad = child.grad + local * grad

    def _accumulate(self, g: float) -> None:
        self.grad = self.grad + g  # not +=: with create_graph, g is a Value and grad becomes one

    def backward(self, grad: Number = 1.0, create_graph: bool = False) -> None:
        """Fill in ``grad`` for every Value this one was computed from: d self / d that value.

        Seeds ``self.grad = 1.0`` (d self / d self; ``grad`` to start from another number), sorts the
        graph topologically and runs each node's ``_backward`` from here back to the leaves. Leaves
        (Values you made, such as weights) accumulate: reset them to 0.0 (``model.zero_grad()``)
        before calling ``backward()`` again on a new result. The ``grad`` of a Value computed from
        others holds only this call's gradient.

        ``create_graph=True`` builds the gradients themselves as Values computed from the graph, so they
        can be differentiated again (as PyTorch's option of the same name). A leaf's ``grad`` then
        refers to a graph that refers back to the leaf, a cycle only the garbage collector frees:
        ``chainrule.grad`` is the tidier way to take second derivatives.
        """
        seed = grad if type(grad) is float else _as_float(grad, "backward (grad)")
        if create_graph:
            backpropagate(self, Value(seed), create_graph=True)
        else:
            backpropagate(self, seed)

    def zero_grad(self) -> None:
        self.grad = 0.0

    # -- what chainrule.grad asks of a node (see autodiff.grad) ----------------------------------------

    def _weighted_total(self, outputs, grad_outputs) -> Value:
        if len(outputs) == 1 and grad_outputs[0] is None:
            return self
        # The weights are numbers: the gradient is taken through the outputs, never through the weights
        # (as torch.autograd.grad's grad_outputs), even when a weight is a Value computed from the graph.
        return value_sum([o if g is None else _number(g) * o for o, g in zip(outputs, grad_outputs)])

    def _seed(self, create_graph: bool):
        return Value(1.0) if create_graph else 1.0

    def _as_gradient(self, g, create_graph: bool) -> Value:
        if create_graph:
            return g if isinstance(g, Value) else Value(g)
        return Value(_number(g))

    # -- copy and pickle, for graphs of any depth --------------------------------------------------

    def __reduce_ex__(self, protocol):
        """Pickle (and ``copy.deepcopy``) a Value with its whole graph, a million nodes deep or more.

        Done field by field, pickle would reach a leaf through one nested call per level and stop at
        Python's recursion limit. So a Value first hands over the nodes it depends on in topological
        order: each of them arrives after its own ``_prev``, which pickle has then already seen and
        only refers to. Identity is kept: a node shared by two results, or by a model and a loss
        pickled together, is one node after loading.
        """
        fields = self._copied_fields()
        if self._prev and self not in _arriving_in_order:
            earlier = topological_order(self)[:-1]
            interior = [node for node in earlier if node._prev]
            for node in interior:  # refused before anything is marked: a refusal halfway would leave marks
                if node._custom_backward is not None:
                    node._copied_fields()  # raises, naming the node's op
            _arriving_in_order.update(interior)
            # Some of `earlier` may have been pickled already (pickle.dumps([mid, y]), mid inside y's graph):
            # pickle only refers to those and never asks them again, so _Arrived, pickled after all of them,
            # unmarks the lot; a node left marked would pickle a later time one nested call per level.
            return _rebuild_value, ([*earlier, _Arrived(interior)], fields)
        _arriving_in_order.discard(self)
        return _rebuild_value, ((), fields)

    def __copy__(self) -> Value:
        """``copy.copy``: a new node with the same fields on the same children. Not through
        ``__reduce_ex__``, whose marks on the graph only a pickle of the whole graph takes off again."""
        return _rebuild_value((), self._copied_fields())

    def _copied_fields(self) -> tuple:
        if self._custom_backward is not None:
            raise TypeError(
                f"Value (op {self._op!r}) has a custom _backward closure; closures refer to the original nodes "
                "and cannot be copied or pickled. Copy the numbers instead (Value(v.data))"
            )
        # A grad that is a graph (after backward(create_graph=True)) leads back into this graph: its number
        # is what a copy keeps, as a copy never keeps a graph's rules either.
        grad = self.grad.data if isinstance(self.grad, Value) else self.grad
        return (self.data, grad, self.label, self._op, self._prev, tuple(self._local_grads))

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    # -- arithmetic: each operation computes its result and its local derivatives side by side ----

    def __add__(self, other: Value | Number) -> Value:
        other = other if isinstance(other, Value) else _operand(other, "add")
        return Value(self.data + other.data, (self, other), "+", _local_grads=(1.0, 1.0), _rule=_add_rule)

    def __mul__(self, other: Value | Number) -> Value:
        other = other if isinstance(other, Value) else _operand(other, "mul")
        a, b = self.data, other.data
        return Value(a * b, (self, other), "*", _local_grads=_mul_rule(a, b, None), _rule=_mul_rule)

    def __truediv__(self, other: Value | Number) -> Value:
        other = other if isinstance(other, Value) else _operand(other, "div")
        a, b = self.data, other.data
        if b == 0.0:
            raise domains.div_by_zero(_describe(self), _describe(other))
        out = a / b
        return Value(out, (self, other), "/", _local_grads=_div_rule(a, b, out), _rule=_div_rule)

    def __pow__(self, other: Value | Number) -> Value:
        if isinstance(other, Value):
            return self._pow_value(other)
        n = _as_float(other, "pow (exponent)")
        x = self.data
        out = _checked_pow(x, n)
        rule = _power_rule(n)
        return Value(out, (self,), f"**{other}", _local_grads=rule(x, out), _rule=rule)

    def _pow_value(self, other: Value) -> Value:
        a, b = self.data, other.data
        out = _checked_pow(a, b)
        return Value(out, (self, other), "**", _local_grads=_pow_rule(a, b, out), _rule=_pow_rule)

    def __neg__(self) -> Value:  # -self
        return Value(-self.data, (self,), "neg", _local_grads=(-1.0,), _rule=_neg_rule)

    def __radd__(self, other: Number) -> Value:  # other + self
        return _operand(other, "add") + self

    def __sub__(self, other: Value | Number) -> Value:  # self - other
        other = other if isinstance(other, Value) else _operand(other, "sub")
        return self + (-other)

    def __rsub__(self, other: Number) -> Value:  # other - self
        return _operand(other, "sub") + (-self)

    def __rmul__(self, other: Number) -> Value:  # other * self
        return _operand(other, "mul") * self

    def __rtruediv__(self, other: Number) -> Value:  # other / self
        return _operand(other, "div") / self

    def __rpow__(self, other: Number) -> Value:  # other ** self
        return _operand(other, "pow") ** self

    # -- functions -----------------------------------------------------------------------------

    def exp(self) -> Value:
        x = self.data
        try:
            out = math.exp(x)
        except OverflowError:
            raise domains.exp_overflow(_describe(self)) from None
        return Value(out, (self,), "exp", _local_grads=(out,), _rule=_exp_rule)

    def log(self) -> Value:
        x = self.data
        if not x > 0.0:
            raise domains.log_domain(_describe(self))
        return Value(math.log(x), (self,), "log", _local_grads=_log_rule(x, None), _rule=_log_rule)

    def tanh(self) -> Value:
        return self._activation("tanh", "tanh")

    def relu(self) -> Value:
        return self._activation("relu", "ReLU")

    def sigmoid(self) -> Value:
        return self._activation("sigmoid", "sigmoid")

    def _activation(self, name: str, op: str) -> Value:
        f, slope, rule = ACTIVATIONS[name]
        out = f(self.data)
        return Value(out, (self,), op, _local_grads=(slope(out),), _rule=rule)


# Interior nodes that an earlier node's pickling has put ahead of themselves (see Value.__reduce_ex__):
# they pickle as their fields alone. Weak, so a pickle that fails halfway holds nothing alive.
_arriving_in_order: weakref.WeakSet = weakref.WeakSet()


class _Arrived:
    """The end of a Value's ``earlier`` nodes in a pickle: pickled, it unmarks them (see ``__reduce_ex__``)."""

    __slots__ = ("nodes",)

    def __init__(self, nodes: list):
        self.nodes = nodes

    def __reduce_ex__(self, protocol):
        _arriving_in_order.difference_update(self.nodes)
        # It arrives as float() = 0.0, a builtin, so that any version of chainrule loads the pickle.
        return float, ()


def _rebuild_value(earlier: Sequence[Value], fields: tuple) -> Value:
    """Unpickle a Value. ``earlier`` (its graph, pickled first so that it arrives first) has been rebuilt
    by now and is only there for the order."""
    data, grad, label, op, prev, local_grads = fields
    v = Value(data, prev, op, label, local_grads)
    v.grad = grad
    return v


# The derivative rules and the fused operations build Values, so they are imported here, once Value
# exists (bound to names of this module, so an operation finds its rule without a second lookup).
# weighted_sum and the rest stay importable from chainrule.engine, where they were first.
from chainrule.fused import Inputs, sum_of_squares, value_sum, weighted_sum  # noqa: E402, F401
from chainrule.scalar_rules import (  # noqa: E402, F401
    ACTIVATIONS,
    _add_rule,
    _checked_pow,
    _div_rule,
    _exp_rule,
    _log_rule,
    _mul_rule,
    _neg_rule,
    _number,
    _pow_rule,
    _power_rule,
)
