"""Every code block of the notes (seeds/000: building micrograd) runs with chainrule as written.

The notes' code is copied here as the notes give it, with their two slips fixed and marked: in ``__add__``
the line ``out._backward = _backward`` belongs after the closure, not inside it, and the Neuron's bias is
drawn with ``random.uniform`` (the notes write ``np.random.uniform``, a different generator).
"""

from __future__ import annotations

import math
import random

import pytest
from oracle import TorchTwin, assert_close, notes_training_in_torch

from chainrule import Value, nn, numerical_derivative
from chainrule.autodiff import topological_order
from chainrule.examples import lecture_neuron

# -- "Pythonda fonksiyon gösterimi" and the derivative as a limit --------------------------------------


def f(x):
    return 3 * x**2 - 4 * x + 5


def test_the_function_and_its_slope():
    assert f(3.0) == 20.0
    # (f(x + h) - f(x)) / h for a small h, as the notes define the derivative; f'(x) = 6x - 4
    h = 0.0001
    assert (f(3.0 + h) - f(3.0)) / h == pytest.approx(14.0, abs=1e-3)
    assert numerical_derivative(f, 3.0, method="forward", h=h) == (f(3.0 + h) - f(3.0)) / h
    assert numerical_derivative(f, -1.0) == pytest.approx(-10.0, abs=1e-6)


def test_the_function_on_a_value_gives_the_same_number_and_the_exact_slope(torch):
    x = Value(3.0)
    y = f(x)
    assert y.data == 20.0
    y.backward()
    assert x.grad == 14.0
    t = torch.tensor(3.0, requires_grad=True)
    f(t).backward()
    assert x.grad == t.grad.item()


# -- "class Value" ---------------------------------------------------------------------------------


def test_value_constructor_of_the_notes():
    a, b = Value(2.0), Value(3.0)
    c = Value(5.0, (a, b), "+", label="c")
    assert c.data == 5.0
    assert c.grad == 0.0
    assert c._backward() is None  # "_backward = lambda: None": a fresh node's step does nothing
    assert set(c._prev) == {a, b}  # the notes keep a set; chainrule keeps a tuple in operand order
    assert c._prev == (a, b)
    assert c._op == "+"
    assert c.label == "c"
    d = Value(1.0, _children=(c,), _op="tanh", label="d")
    assert d._prev == (c,) and d._op == "tanh" and d.label == "d"


# -- "Python Closures" ----------------------------------------------------------------------------


def outer_function(x):
    # Outer function: takes 'x' and defines inner_function
    def inner_function(y):
        return x + y  # 'x' is remembered from outer_function

    return inner_function  # Returns inner function (closure)


def make_counter():
    count = 0  # This variable will be remembered

    def counter():
        nonlocal count  # Modify outer variable
        count += 1
        return count

    return counter


def pre(p):
    # Outer function stores prefix
    def add(t):
        # Inner function uses stored prefix
        return p + " " + t

    return add  # Return closure


def make_multiplier(factor):
    def multiply_by(x):
        return x * factor

    return multiply_by


def test_closure_examples_print_what_the_notes_say(capsys):
    # Create a closure with x = 10
    closure = outer_function(10)
    # Call the closure with different values of 'y'
    print(closure(5))
    print(closure(20))

    counter1 = make_counter()
    print(counter1())  # 1
    print(counter1())

    # Create a closure that always prefixes with "Hello"
    h = pre("Hello")
    print(h("World"))
    print(h("Python"))

    double = make_multiplier(2)
    print(double(5))
    # Check closure variables
    print(double.__closure__[0].cell_contents)

    # (the notes print "Hello Word"; Python prints what the code says)
    assert capsys.readouterr().out.split("\n") == ["15", "30", "1", "2", "Hello World", "Hello Python", "10", "2", ""]


def test_closures_remember_values():
    closure = outer_function(Value(10.0))
    assert closure(5).data == 15.0 and closure(Value(20.0)).data == 30.0
    # Each counter keeps its own count.
    c1, c2 = make_counter(), make_counter()
    assert [c1(), c1(), c2(), c1()] == [1, 2, 1, 3]

    factor = Value(2.0)
    double = make_multiplier(factor)
    assert double(5).data == 10.0
    # The closure keeps a reference, not a copy: changing the Value changes what the closure computes.
    assert double.__closure__[0].cell_contents is factor
    factor.data = 3.0
    assert double(5).data == 15.0


# -- the notes' __add__ and __radd__ ---------------------------------------------------------------


def __add__(self, other):
    other = other if isinstance(other, Value) else Value(other)
    out = Value(self.data + other.data, (self, other), "+")

    def _backward():
        self.grad += 1.0 * out.grad
        other.grad += 1.0 * out.grad

    out._backward = _backward  # fixed: the notes indent this line into _backward, where it never runs

    return out


def __radd__(self, other):
    return self + other


class NotesValue(Value):
    """A chainrule Value that gets the notes' own ``+`` (patched in by the tests that need it)."""


@pytest.fixture
def notes_add(monkeypatch):
    monkeypatch.setattr(NotesValue, "__add__", __add__)
    monkeypatch.setattr(NotesValue, "__radd__", __radd__)


def test_notes_add_on_chainrule_values(notes_add):
    a = NotesValue(2.0)
    b = NotesValue(3.0)
    c = a + b  # Burada __add__ çalışır
    assert type(c) is Value and c.data == 5.0
    assert c._prev == (a, b) and c._op == "+"
    # the closure remembers a, b and c
    remembered = [cell.cell_contents for cell in c._backward.__closure__]
    assert any(x is a for x in remembered) and any(x is b for x in remembered) and any(x is c for x in remembered)
    c.grad = 1.0
    c._backward()
    assert (a.grad, b.grad) == (1.0, 1.0)

    d = a.__add__(b)  # the same as a + b: syntactic sugar
    assert d.data == c.data and d._prev == c._prev

    e = 2 + a  # int has no __add__ for a Value, so Python asks a.__radd__(2)
    assert e.data == 4.0 and e._prev[0] is a and e._prev[1].data == 2.0


def test_notes_add_backpropagates_like_torch(notes_add, torch):
    a, b = NotesValue(-1.5), NotesValue(4.0)
    s = a + b  # the notes' +
    y = (s * a).tanh() + (2 + a) * b  # 2 + a: the notes' __radd__
    y.backward()
    ta = torch.tensor(-1.5, requires_grad=True)
    tb = torch.tensor(4.0, requires_grad=True)
    t_y = ((ta + tb) * ta).tanh() + (2 + ta) * tb
    t_y.backward()
    assert y.data == pytest.approx(t_y.item(), rel=1e-12)
    assert a.grad == pytest.approx(ta.grad.item(), rel=1e-12)
    assert b.grad == pytest.approx(tb.grad.item(), rel=1e-12)


def test_with_the_slip_the_gradient_stops(monkeypatch):
    # The notes' layout: `out._backward = _backward` inside the closure, so it is never assigned.
    def slipped_add(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += 1.0 * out.grad
            other.grad += 1.0 * out.grad
            out._backward = _backward

        return out

    monkeypatch.setattr(NotesValue, "__add__", slipped_add)
    a, b = NotesValue(2.0), NotesValue(3.0)
    (a + b).backward()
    assert (a.grad, b.grad) == (0.0, 0.0)


def test_chainrule_add_is_the_same_story():
    a = Value(2.0)
    b = Value(3.0)
    c = a + b
    assert c.data == 5.0 and c._prev == (a, b) and c._op == "+"
    assert a.__add__(b).data == 5.0
    assert (2 + a).data == 4.0
    c.grad = 1.0
    c._backward()
    assert (a.grad, b.grad) == (1.0, 1.0)


# -- the notes' backward(): a recursive topological sort ---------------------------------------------


def backward(self):
    topo = []
    visited = set()

    def build_topo(v):
        if v not in visited:
            visited.add(v)
            for child in v._prev:
                build_topo(child)
            topo.append(v)

    build_topo(self)

    self.grad = 1.0
    for node in reversed(topo):
        node._backward()
    return topo  # added, so that the tests can compare the order


def graph_with_reuse():
    a, b = Value(-4.0, label="a"), Value(2.0, label="b")
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = (c - d).tanh() * c.sigmoid() + (a * a).log() + 2 ** (b / 4) + b**a
    return e


def mlp_graph():
    model = nn.MLP(3, [4, 4, 1], rng=random.Random(3))
    xs = [[2, 3, -1], [3, -1, 0.5], [0.5, 1, 1], [1, 1, -1]]
    ys = [1, -1, -1, 1]
    return sum((model(x) - y) ** 2 for x, y in zip(xs, ys))


def neuron_graph():
    o = lecture_neuron()
    for v in topological_order(o):
        v.grad = 0.0
    return o


@pytest.mark.parametrize("build", [graph_with_reuse, mlp_graph, neuron_graph])
def test_notes_topological_order_is_chainrules(build):
    root = build()
    notes_order = backward(root)
    ours = topological_order(root)
    assert len(notes_order) == len(ours) > 5
    assert all(x is y for x, y in zip(notes_order, ours))


@pytest.mark.parametrize("build", [graph_with_reuse, mlp_graph, neuron_graph])
def test_notes_backward_gives_chainrules_gradients(build):
    notes_root = build()
    notes_nodes = backward(notes_root)
    root = build()
    root.backward()
    ours = topological_order(root)
    assert [n.data for n in notes_nodes] == [n.data for n in ours]
    assert [n.grad for n in notes_nodes] == [n.grad for n in ours]
    assert any(n.grad != 0.0 for n in ours[:-1])


# -- the notes' Neuron, Layer and MLP -------------------------------------------------------------


class Neuron:
    def __init__(self, nin):
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(random.uniform(-1, 1))  # fixed: the notes write np.random.uniform

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        out = act.tanh()
        return out

    def parameters(self):
        return self.w + [self.b]


class Layer:
    def __init__(self, nin, nout):
        self.neurons = [Neuron(nin) for _ in range(nout)]

    def __call__(self, x):
        outs = [n(x) for n in self.neurons]
        return outs[0] if len(outs) == 1 else outs

    def parameters(self):
        return [p for neuron in self.neurons for p in neuron.parameters()]


class MLP:
    def __init__(self, nin, nouts):
        sz = [nin] + nouts
        self.layers = [Layer(sz[i], sz[i + 1]) for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]


xs = [
    [2.0, 3.0, -1.0],
    [3.0, -1.0, 0.5],
    [0.5, 1.0, 1.0],
    [1.0, 1.0, -1.0],
]
ys = [1.0, -1.0, -1.0, 1.0]


def test_notes_mlp_runs_on_chainrule_values(torch):
    random.seed(1)
    n = MLP(3, [4, 4, 1])
    assert len(n.parameters()) == 41
    out = n(xs[0])
    assert isinstance(out, Value)
    assert isinstance(n.layers[0](xs[0]), list) and len(n.layers[0](xs[0])) == 4
    twin = TorchTwin(torch, n, ["tanh", "tanh", "tanh"])
    assert_close(out.data, twin(xs[0])[0], rtol=1e-12, atol=1e-12, what="output")
    out.backward()
    twin(xs[0]).sum().backward()
    grads = [p.grad for p in n.parameters()]
    assert_close(grads, twin.mlp_order("grad"), rtol=1e-10, atol=1e-12, what="gradients")


def test_chainrule_mlp_is_the_notes_mlp():
    # Same seed, same draws (each neuron's weights, then its bias), same sums in the same order.
    random.seed(4)
    notes = MLP(3, [4, 4, 1])
    random.seed(4)
    ours = nn.MLP(3, [4, 4, 1])
    assert [p.data for p in notes.parameters()] == [p.data for p in ours.parameters()]
    for x in xs:
        assert notes(x).data == ours(x).data
    notes_loss = sum((notes(x) - y) ** 2 for x, y in zip(xs, ys))
    our_loss = sum((ours(x) - y) ** 2 for x, y in zip(xs, ys))
    notes_loss.backward()
    our_loss.backward()
    assert notes_loss.data == our_loss.data
    assert [p.grad for p in notes.parameters()] == pytest.approx([p.grad for p in ours.parameters()], rel=1e-12)


def train_as_in_the_notes(n):
    """The notes' training loop, as written."""
    losses = []
    for k in range(20):
        # forward pass
        ypred = [n(x) for x in xs]
        loss = sum([(yout - ygt) ** 2 for ygt, yout in zip(ys, ypred)])

        # backward pass
        for p in n.parameters():
            p.grad = 0.0
        loss.backward()

        # update
        for p in n.parameters():
            p.data += -0.05 * p.grad

        print(k, loss.data)
        losses.append(loss.data)
    return losses


@pytest.mark.parametrize("seed", [0, 1, 3])
def test_training_loop_converges_and_matches_torch(torch, capsys, seed):
    random.seed(seed)
    n = nn.MLP(3, [4, 4, 1])
    twin = TorchTwin(torch, n, ["tanh", "tanh", "tanh"])
    losses = train_as_in_the_notes(n)
    assert len(capsys.readouterr().out.splitlines()) == 20
    assert all(later < earlier for earlier, later in zip(losses, losses[1:]))
    assert losses[0] > 1.0 and losses[-1] < 0.1
    assert_close(losses, notes_training_in_torch(torch, twin, xs, ys), rtol=1e-9, atol=1e-12, what="losses")
    # the trained weights are torch's too
    weights = [p.data for p in n.parameters()]
    assert_close(weights, twin.mlp_order("data"), rtol=1e-9, atol=1e-12, what="trained weights")
    # and the predictions have the right signs
    assert [math.copysign(1.0, n(x).data) for x in xs] == ys


def test_training_loop_with_the_notes_own_classes_gives_the_same_losses():
    random.seed(0)
    notes = MLP(3, [4, 4, 1])
    random.seed(0)
    ours = nn.MLP(3, [4, 4, 1])
    assert train_as_in_the_notes(notes) == pytest.approx(train_as_in_the_notes(ours), rel=1e-12)
