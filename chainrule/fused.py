"""Fused operations of the scalar engine: many of the notes' nodes as one ``Value``.

``weighted_sum`` is a whole neuron, ``f(b + w0*x0 + w1*x1 + ...)``, where the notes build 2n + 1
nodes; ``Inputs`` unpacks a layer's inputs once for all of its neurons. ``sum_of_squares`` (an L2
penalty) and ``value_sum`` add up many Values in one node. Each records as its local derivatives the
chain rule worked out inside it, so ``backward()`` treats it like any other operation. Every name
here can also be imported from ``chainrule.engine``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from operator import mul as _mul

from chainrule.engine import Number, Value, _as_float, _short_number
from chainrule.scalar_rules import ACTIVATIONS


class Inputs:
    """A layer's inputs, unpacked once for all of its neurons: the Values among them and every float.

    ``weighted_sum`` needs, for each input, its number (d/dw) and, for the inputs that are Values,
    the Value itself (a child in the graph). A layer of 16 neurons reads the same inputs 16 times, so
    it unpacks them here once.
    """

    __slots__ = ("values", "data", "value_positions", "_rules")

    def __init__(self, inputs: Iterable[Value | Number]):
        inputs = inputs if isinstance(inputs, (list, tuple)) else list(inputs)
        values = [x for x in inputs if isinstance(x, Value)]
        self.values = values
        if len(values) == len(inputs):
            self.data = [x.data for x in values]
            self.value_positions = None  # every input is a Value
        else:
            self.data = [x.data if isinstance(x, Value) else _as_float(x, "weighted_sum (input)") for x in inputs]
            self.value_positions = [i for i, x in enumerate(inputs) if isinstance(x, Value)]
        self._rules = {}

    def __len__(self) -> int:
        return len(self.data)

    def rule(self, slope):
        """The rule of a neuron over these inputs with this activation slope: (*w, *x, b, out) -> locals.
        Made once per layer call and shared by its neurons (a closure per neuron would cost every step)."""
        rule = self._rules.get(slope)
        if rule is None:
            n, positions, data = len(self.data), self.value_positions, self.data

            def rule(*children_and_out):
                weights, out = children_and_out[:n], children_and_out[-1]
                xs = _all_inputs(data, positions, children_and_out[n:-2])
                return _neuron_locals(weights, xs, positions, slope(out))

            # Kept on the rule for neuron_parts (drawings): every input's number, and where the Values go.
            rule.input_numbers, rule.value_positions = data, positions
            self._rules[slope] = rule
        return rule


def _all_inputs(numbers: list, value_positions: list | None, values: Sequence) -> Sequence:
    """A neuron's inputs in order: the Values where the inputs were Values, the numbers elsewhere."""
    if value_positions is None:
        return values  # every input is a Value
    inputs = list(numbers)
    for position, value in zip(value_positions, values):
        inputs[position] = value
    return inputs


def _neuron_locals(w, x, value_positions, slope) -> tuple:
    """A neuron's local derivatives, d out/dw_i = f'(act) x_i, d out/dx_i = f'(act) w_i (for the inputs
    that are Values), d out/db = f'(act): the chain rule worked out inside it, on floats or on Values."""
    w_for_values = w if value_positions is None else [w[i] for i in value_positions]
    local_grads = (*x, *w_for_values, 1.0)  # d act/dw, d act/dx, d act/db
    if type(slope) is float and slope == 1.0:
        return local_grads
    return tuple([slope * d for d in local_grads])  # times d out/d act


def weighted_sum(
    weights: Sequence[Value], inputs: Inputs | Iterable[Value | Number], bias: Value, activation: str = "linear"
) -> Value:
    """``f(bias + w0*x0 + w1*x1 + ...)`` as one node: a whole neuron of the notes, fused.

    The notes build a neuron from 2n + 1 nodes: n products, n additions
    (``act = sum((wi*xi ...), self.b)``) and ``out = act.tanh()``. Here it is one node with
    ``_prev = (w0, ..., wn-1, x0, ..., xn-1, b)`` (inputs that are plain numbers are not in the graph).
    Its local derivatives are the chain rule worked out inside the neuron: d out/dwi = f'(act) * xi,
    d out/dxi = f'(act) * wi, d out/db = f'(act). The lecture makes the point: how big an operation
    is, is up to you, as long as you know its local derivative. ``activation`` is ``'linear'`` (f is
    the identity, op ``wsum``), ``'tanh'``, ``'relu'`` or ``'sigmoid'``. The additions happen in the
    notes' order (bias first, then each product, left to right), so ``act`` is the same float.
    """
    if not isinstance(inputs, Inputs):
        inputs = Inputs(inputs)
    x_data = inputs.data
    if len(weights) != len(x_data):
        raise ValueError(f"weighted_sum: {len(weights)} weights but {len(x_data)} inputs")
    try:
        f, slope_of, _ = ACTIVATIONS[activation]
        op = _NEURON_OPS[activation]
    except KeyError:
        names = ", ".join(ACTIVATIONS)
        raise ValueError(f"weighted_sum: activation must be one of {names}; got {activation!r}") from None
    try:
        w_data = [w.data for w in weights]
        b_data = bias.data
    except AttributeError:
        raise TypeError("weighted_sum: the weights and the bias must be Values (the neuron's parameters)") from None
    out = f(sum(map(_mul, w_data, x_data), b_data))
    local_grads = _neuron_locals(w_data, x_data, inputs.value_positions, slope_of(out))
    rule = inputs._rules.get(slope_of) or inputs.rule(slope_of)  # one rule per layer call, shared
    return Value(out, (*weights, *inputs.values, bias), op, "", local_grads, rule)


# What a fused neuron is called in the graph (drawings, _op): its activation around a weighted sum.
_NEURON_OPS = {name: "wsum" if name == "linear" else f"{name}(wsum)" for name in ACTIVATIONS}
_NEURON_ACTIVATIONS = {op: name for name, op in _NEURON_OPS.items()}


def neuron_parts(node: Value) -> tuple[list, list, Value, str] | None:
    """``(weights, inputs, bias, activation)`` of a node made by ``weighted_sum``, each input a Value
    or the plain number it was given; None for any other node, and for a fused neuron whose rule stayed
    behind (a copied or unpickled graph), where the numbers among its inputs cannot be told any more.

    For drawings: ``_prev`` holds only the inputs that are Values. The rule a layer call shares among
    its neurons (``Inputs.rule``) keeps every input's number and where the Values go, so that the hot
    path keeps nothing more for the sake of a picture.
    """
    activation = _NEURON_ACTIVATIONS.get(getattr(node, "_op", None))
    rule = getattr(node, "_rule", None)
    numbers = getattr(rule, "input_numbers", None)
    if activation is None or numbers is None:
        return None
    positions = rule.value_positions
    n, prev = len(numbers), node._prev
    values = prev[n:-1]
    if len(values) != (n if positions is None else len(positions)):
        return None
    return list(prev[:n]), list(_all_inputs(numbers, positions, values)), prev[-1], activation


def sum_of_squares(values: Iterable[Value], weight: float = 1.0) -> Value:
    """``weight * (v0**2 + v1**2 + ...)`` as one node (an L2 penalty); d/dvi = 2 * weight * vi."""
    values = tuple(values)
    total = 0.0
    for v in values:
        if not isinstance(v, Value):
            raise TypeError(f"sum_of_squares: expected Values, got {type(v).__name__} {_short_number(v)}")
        total += v.data * v.data
    twice = 2.0 * weight

    def rule(*values_and_out):
        return [twice * v for v in values_and_out[:-1]]  # d/dv = 2 * weight * v

    return Value(weight * total, values, "sumsq", _local_grads=rule(*[v.data for v in values], None), _rule=rule)


def value_sum(values: Iterable[Value | Number]) -> Value:
    """``v0 + v1 + ...`` as one node (d/dvi = 1), summed left to right like Python's ``sum``."""
    children = []
    total = 0.0
    for v in values:
        if isinstance(v, Value):
            children.append(v)
            total += v.data
        else:
            total += _as_float(v, "value_sum")
    return Value(total, children, "sum", _local_grads=[1.0] * len(children), _rule=_sum_rule)


def _sum_rule(*values_and_out):
    return [1.0] * (len(values_and_out) - 1)  # d(v0 + v1 + ...)/dvi = 1
