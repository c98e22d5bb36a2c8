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
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Iterable, Sequence
from numbers import Real
from operator import mul as _mul
from typing import Union

from chainrule.autodiff import Node, backpropagate, topological_order

Number = Union[int, float]


def _as_float(data, where: str = "Value") -> float:
    """The number ``data`` as a Python float, or a TypeError that says what was given instead."""
    if type(data) is float:
        return data
    # numbers.Real covers int, bool, fractions and NumPy's float64/int64 scalars that scikit-learn
    # hands out; str, None, lists and complex numbers are not real numbers.
    if isinstance(data, Real):
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


def _operand(x, where: str) -> Value:
    """A plain number on either side of an operator, as a Value (a leaf); anything else is a clear error."""
    if type(x) is float:
        return Value(x)
    if isinstance(x, Real):
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
        if self._custom_backward is not None:
            raise TypeError(
                f"Value (op {self._op!r}) has a custom _backward closure; closures refer to the original nodes "
                "and cannot be copied or pickled. Copy the numbers instead (Value(v.data))"
            )
        fields = (self.data, self.grad, self.label, self._op, self._prev, tuple(self._local_grads))
        if self._prev and self not in _arriving_in_order:
            earlier = topological_order(self)[:-1]
            _arriving_in_order.update(node for node in earlier if node._prev)
            return _rebuild_value, (earlier, fields)
        _arriving_in_order.discard(self)
        return _rebuild_value, ((), fields)

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
        other = other if isinstance(other, Value) else _operand(other, "division")
        a, b = self.data, other.data
        if b == 0.0:
            raise ZeroDivisionError(f"division: cannot divide {_describe(self)} by zero ({_describe(other)})")
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
        return _operand(other, "division") / self

    def __rpow__(self, other: Number) -> Value:  # other ** self
        return _operand(other, "pow") ** self

    # -- functions -----------------------------------------------------------------------------
    def exp(self) -> Value:
        x = self.data
        try:
            out = math.exp(x)
        except OverflowError:
            raise OverflowError(
                f"exp: exp({_describe(self)}) is too large for a float (inputs above about 709.78 overflow); "
                "scale the input down, or use a numerically stable form such as log-sum-exp"
            ) from None
        return Value(out, (self,), "exp", _local_grads=(out,), _rule=_exp_rule)

    def log(self) -> Value:
        x = self.data
        if not x > 0.0:
            raise ValueError(f"log: input must be > 0, got {_describe(self)}")
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


def _rebuild_value(earlier: Sequence[Value], fields: tuple) -> Value:
    """Unpickle a Value. ``earlier`` (its graph, pickled first so that it arrives first) has been rebuilt
    by now and is only there for the order."""
    data, grad, label, op, prev, local_grads = fields
    v = Value(data, prev, op, label, local_grads)
    v.grad = grad
    return v


# -- each operation's local derivatives, written once ------------------------------------------------
# A rule takes the operation's inputs and its result and returns d result / d input for each input. It
# uses arithmetic only (and _number, _power, _log below), so the same rule runs on floats, where the
# forward pass evaluates it into _local_grads, and on Values, where backward(create_graph=True) builds
# the gradient as a graph of its own that can be differentiated again.
def _number(x) -> float:
    return x.data if isinstance(x, Value) else x


def _add_rule(a, b, out):
    return 1.0, 1.0  # d(a + b)/da = 1, d(a + b)/db = 1


def _mul_rule(a, b, out):
    return b, a  # d(a * b)/da = b, d(a * b)/db = a


def _div_rule(a, b, out):
    # d(a / b)/da = 1/b, d(a / b)/db = -a/b**2, written -out/b so that a tiny b gives -inf (as in
    # PyTorch) instead of dividing by an underflowed b*b = 0.
    return 1.0 / b, -out / b


def _neg_rule(x, out):
    return (-1.0,)


def _exp_rule(x, out):
    return (out,)  # d(e**x)/dx = e**x


def _log_rule(x, out):
    return (1.0 / x,)  # d(ln x)/dx = 1/x


def _power_rule(n: float):
    """The rule of ``x ** n`` for a number n: d/dx = n * x**(n-1) (0 when n is 0)."""

    def rule(x, out):
        return (0.0 if n == 0.0 else n * _power(x, n - 1.0),)

    return rule


def _pow_rule(a, b, out):
    # d(a**b)/da = b * a**(b-1); d(a**b)/db = a**b * ln(a), real only for a > 0. At a = 0 the limit is
    # 0 (for b >= 0); for a < 0 there is no real derivative and the gradient is NaN, as in PyTorch.
    av, bv = _number(a), _number(b)
    # At b = 0 the slope b * a**(b-1) is 0, but on Values it must stay a graph in b (its derivative in b
    # is a**-1): only where a is 0 too (0 * inf) is it the constant 0.
    d_base = 0.0 if bv == 0.0 and (av == 0.0 or not isinstance(b, Value)) else b * _power(a, b - 1.0)
    if av > 0.0:
        d_exponent = out * _log(a)
    elif av == 0.0 and bv >= 0.0:
        d_exponent = 0.0
    else:
        d_exponent = out * math.nan  # NaN, and on Values a graph whose derivatives are NaN too, as in PyTorch
    return d_base, d_exponent


def _power(x, k):
    """``x ** k``; on floats with IEEE results where Python raises (0 ** -1 is inf, overflow is inf)."""
    if isinstance(x, Value) or isinstance(k, Value):
        return x**k
    try:
        return x**k
    except ZeroDivisionError:
        return math.copysign(math.inf, x) if float(k).is_integer() and k % 2 else math.inf
    except OverflowError:
        return -math.inf if x < 0.0 and k % 2.0 == 1.0 else math.inf


def _log(x):
    return x.log() if isinstance(x, Value) else math.log(x)


# Activations: f(x), its slope f'(x) written from out = f(x) (so a neuron needs no other number), and
# the slope as a rule of (x, out). Value's methods and the fused neuron share them.
def _tanh_slope(out):
    return 1.0 - out * out  # d(tanh x)/dx = 1 - tanh(x)**2


def _sigmoid_slope(out):
    return out * (1.0 - out)  # d(sigmoid x)/dx = sigmoid(x) * (1 - sigmoid(x))


def _relu_slope(out):
    # 1 for x > 0, else 0 (0 at x = 0, as in PyTorch). NaN stays NaN and passes its gradient on, as
    # PyTorch's relu does (it zeroes the gradient only where the result is <= 0).
    return 0.0 if (out if type(out) is float else _number(out)) <= 0.0 else 1.0


def _linear_slope(out):
    return 1.0


def _relu(x: float) -> float:
    return x if not x <= 0.0 else 0.0  # NaN stays NaN


def _sigmoid(x: float) -> float:
    # Written so that exp never overflows: for negative x, use e**x / (1 + e**x).
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _unary_rule(slope):
    def rule(x, out):
        return (slope(out),)

    return rule


ACTIVATIONS = {
    name: (f, slope, _unary_rule(slope))
    for name, f, slope in [
        ("tanh", math.tanh, _tanh_slope),
        ("relu", _relu, _relu_slope),
        ("sigmoid", _sigmoid, _sigmoid_slope),
        ("linear", float, _linear_slope),
    ]
}


def _checked_pow(base: float, exponent: float) -> float:
    """``base ** exponent`` as a real float, or an error that names both numbers."""
    if base == 0.0 and exponent < 0.0:
        raise ZeroDivisionError(f"pow: 0.0 ** {exponent!r} divides by zero (negative power of zero)")
    if base < 0.0 and not float(exponent).is_integer():
        raise ValueError(f"pow: {base!r} ** {exponent!r} has no real value (negative base, non-integer exponent)")
    try:
        return base**exponent
    except OverflowError:
        raise OverflowError(f"pow: {base!r} ** {exponent!r} is too large for a float") from None


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
                values = children_and_out[n:-2]
                if positions is None:
                    xs = values
                else:  # numbers where the inputs were numbers, the Values where they were Values
                    xs = list(data)
                    for position, value in zip(positions, values):
                        xs[position] = value
                return _neuron_locals(weights, xs, positions, slope(out))

            self._rules[slope] = rule
        return rule


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
    op = "wsum" if activation == "linear" else f"{activation}(wsum)"
    rule = inputs._rules.get(slope_of) or inputs.rule(slope_of)  # one rule per layer call, shared
    return Value(out, (*weights, *inputs.values, bias), op, _local_grads=local_grads, _rule=rule)


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
