"""What an operation leaves in the graph: the node it makes, and the derivative rule it records there.

``record`` makes an operation's result a Tensor and, when some operand requires grad, a node of the
graph: ``_prev`` its operands in order, ``_rule`` its ``Rule`` (one vector-Jacobian product per
operand) and ``_saved`` the few arrays the rule reads. ``constant`` wraps a number or array used as an
operand (``2 * t``, ``t - y``), as the notes' ``Value(other)`` does, and ``lift`` decides when to. The
operations themselves are in ``tensor_ops.py``, ``tensor_shapes.py`` and ``tensor_joins.py``.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from chainrule.array_checks import as_float_array
from chainrule.autodiff import _grad_mode

_new = object.__new__
FLOAT64 = np.dtype(np.float64)


class Rule:
    """An operation's derivative rule: one vector-Jacobian product per operand, and what they read.

    ``Rule("a b", lambda g, a, b: g * b, lambda g, a, b: g * a)`` is the rule of ``a * b``. Each
    product is called as ``vjp(g, *saved)``, ``saved`` being what the operation recorded, in the order
    ``saves`` names it. The names ``x`` (or ``a``), ``b``, ``c`` stand for the operands, ``operands``
    for a tuple of all of them, and ``out`` for the result: when the gradient must be a graph, those
    come as the Tensors themselves (not their arrays), so what the product computes from them is
    recorded too. Any other name (a shape, an axis, a constant mask) comes as it was saved.
    """

    __slots__ = ("vjps", "roles")
    _OPERANDS = {"x": 0, "a": 0, "b": 1, "c": 2, "out": "out", "operands": "operands"}

    def __init__(self, saves: str, *vjps: Callable):
        self.vjps = vjps
        self.roles = tuple(self._OPERANDS.get(name) for name in saves.split())

    def saved_as_nodes(self, out: Tensor) -> tuple:
        """What ``out`` saved for this rule, with each operand's array (and the result's) replaced by its
        Tensor, so that what the products compute from them is recorded (``create_graph``)."""
        return tuple(_as_node(out, value, role) for value, role in zip(out._saved, self.roles))


def _as_node(out: Tensor, value, role):
    if role is None:
        return value  # a shape, an axis, a constant mask: as it was saved
    if role == "operands":
        return tuple(_as_node(out, array, i) for i, array in enumerate(value))
    node = out if role == "out" else out._prev[role]
    if node._data is value:
        return node
    # The node's array was replaced since (copy on write): use the saved numbers, and let the gradient
    # through to the node.
    return record(value, "saved", (node,), PASS_ON, ())


NO_RULE = Rule("")  # a node made by hand (the notes' constructor), whose _backward you assign


def record(data, op: str, parents: tuple, rule: Rule, saved: tuple) -> Tensor:
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
                out._rule = rule
                out._saved = saved
                # The rule may read these arrays at backward time: a later t.data copies first.
                out._shared = True
                for q in parents:
                    q._shared = True
                return out
    # A view (reshape, a slice) shares its operand's array, which a graph may have saved: copy on write.
    if out._data.base is not None:
        out._shared = True
        for p in parents:
            p._shared = True  # the view and its operand share memory: a write to either copies first
    else:
        out._shared = False
    out._requires_grad = False
    out._prev = ()
    out._rule = NO_RULE
    out._saved = ()
    return out


def constant(data: np.ndarray) -> Tensor:
    """A Tensor around ``data`` (no copy) that needs no gradient: a number or array used as an operand.

    What ``record`` would make of it with no parents, written out: every ``2 * t`` makes one. The two
    field lists are kept apart on purpose: ``record`` starting from ``constant`` measured 2.7% more
    instructions for a training step written from small operations (callgrind), every node paying
    for a call and for fields set twice."""
    out = _new(Tensor)
    out._data = data if type(data) is np.ndarray else np.asarray(data)
    out.grad = None
    out.label = ""
    out._op = ""
    out._custom_backward = None
    out._shared = out._data.base is not None  # a view shares its array: copy on write
    out._requires_grad = False
    out._prev = ()
    out._rule = NO_RULE
    out._saved = ()
    return out


PASS_ON = Rule("", lambda g: g)  # the gradient passes through unchanged


def lift(x: Tensor, other, where: str) -> Tensor:
    """A number or array operand as a constant Tensor of ``x`` 's dtype.

    Arrays are copied: the graph keeps the operand for backward, and the caller may change theirs."""
    if isinstance(other, Tensor):
        return other
    if type(other) is float or type(other) is int:
        dtype = x._data.dtype
        if dtype is FLOAT64:  # by identity: == against a type converts it to a dtype first, every time
            return constant(np.asarray(other, dtype=dtype))
        with np.errstate(over="ignore"):  # 1e300 in float32 is inf, as in PyTorch: no warning
            return constant(np.asarray(other, dtype=dtype))
    if other is None:
        raise TypeError(f"{where}: expected real numbers (a number, an array or a Tensor), got None")
    return constant(np.array(as_float_array(other, where, x._data.dtype), copy=True))


# Last, so that this module can be imported first: chainrule.tensor loads the operation modules, which
# need the names above (``record`` and ``constant`` look Tensor up only when they run).
from chainrule.tensor import Tensor  # noqa: E402
