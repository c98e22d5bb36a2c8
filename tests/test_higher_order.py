"""The gradient is a graph too: ``chainrule.grad`` and ``backward(create_graph=True)`` on scalar Values,
checked against ``torch.autograd.functional.hessian`` and ``torch.autograd.grad`` (float64).

Every operation's derivative rule is written once and runs on floats (the first-order pass) and on
Values (a gradient graph); these tests differentiate each operation twice, and some three times.
"""

from __future__ import annotations

import math

import pytest
from oracle import assert_close

from chainrule import Tensor, Value, grad
from chainrule.engine import sum_of_squares, value_sum, weighted_sum
from chainrule.losses import binary_cross_entropy, cross_entropy, hinge, mse

POINT = [0.7, -1.3, 0.4]


def hessian_of(f, point):
    """chainrule's Hessian of f at point: grad of each first derivative, by create_graph."""
    xs = [Value(v) for v in point]
    out = f(*xs)
    first = grad(out, xs, create_graph=True)
    rows = []
    for g in first:
        row = grad(g, xs, allow_unused=True)
        rows.append([0.0 if h is None else h.data for h in row])
    return out.data, [g.data for g in first], rows


# Each case: a function of three Values, and the same function of three torch scalars.
CASES = {
    "add sub neg": (lambda a, b, c: (a + b) * (a - c) - (-b) * c, None),
    "mul reuse": (lambda a, b, c: a * a * b + b * b * c * a, None),
    "div": (lambda a, b, c: a / (1.5 + b * b) + (2 - c) / (a * a + 1), None),
    "pow const": (lambda a, b, c: (a * a + 1) ** 1.5 + b**3 - (c + 2) ** -0.5, None),
    "pow value": (lambda a, b, c: (a * a + 0.5) ** (b * c), None),
    "exp log": (lambda a, b, c: (a * b).exp() + (1 + c * c).log() * a, None),
    "tanh": (lambda a, b, c: (a * b + c).tanh() * a, lambda a, b, c: (a * b + c).tanh() * a),
    "sigmoid": (lambda a, b, c: (a - b * c).sigmoid() * b, lambda a, b, c: (a - b * c).sigmoid() * b),
    "relu": (lambda a, b, c: (a * b + 1).relu() * c + (a * a - b).relu(), None),
    "the notes' neuron": (lambda a, b, c: (a * b + c * 0.5 + 0.2).tanh(), None),
}


def torch_version(torch, name):
    ours, theirs = CASES[name]
    if theirs is not None:
        return theirs
    # the same expression on torch scalars: the operators are the same; relu is a method in both
    return ours


@pytest.mark.parametrize("name", list(CASES))
def test_second_derivatives_of_every_operation_equal_torchs_hessian(torch, name):
    ours, _ = CASES[name]
    theirs = torch_version(torch, name)
    value, first, hessian = hessian_of(ours, POINT)
    point = torch.tensor(POINT)
    expected = torch.autograd.functional.hessian(lambda v: theirs(v[0], v[1], v[2]), point)
    t_point = point.clone().requires_grad_(True)
    t_first = torch.autograd.grad(theirs(t_point[0], t_point[1], t_point[2]), t_point)[0]
    assert_close(value, theirs(*point).item(), rtol=1e-12, what=f"{name}: value")
    assert_close(first, t_first, rtol=1e-12, atol=1e-15, what=f"{name}: gradient")
    assert_close(hessian, expected, rtol=1e-8, atol=1e-12, what=f"{name}: Hessian")


FUSED = {
    "weighted_sum tanh": (
        lambda a, b, c: weighted_sum([a, b], [c, 0.5], Value(0.1), "tanh"),
        lambda torch, a, b, c: torch.tanh(0.1 + a * c + b * 0.5),
    ),
    "weighted_sum sigmoid": (
        lambda a, b, c: weighted_sum([a, c], [b, b], Value(-0.2), "sigmoid") * b,
        lambda torch, a, b, c: torch.sigmoid(-0.2 + a * b + c * b) * b,
    ),
    "weighted_sum relu and linear": (
        lambda a, b, c: weighted_sum([a], [b], c, "relu") * weighted_sum([b, c], [a, 2.0], a, "linear"),
        lambda torch, a, b, c: torch.relu(c + a * b) * (a + b * a + c * 2.0),
    ),
    "sum_of_squares and value_sum": (
        lambda a, b, c: sum_of_squares([a, b, a * c], 0.3) * value_sum([a, 2.0, b * c]),
        lambda torch, a, b, c: 0.3 * (a * a + b * b + (a * c) ** 2) * (a + 2.0 + b * c),
    ),
    "cross_entropy": (
        lambda a, b, c: cross_entropy([a * b, c, 0.3], 1),
        lambda torch, a, b, c: torch.nn.functional.cross_entropy(
            torch.stack([a * b, c, torch.tensor(0.3)]), torch.tensor(1)
        ),
    ),
    "binary_cross_entropy from logits": (
        lambda a, b, c: binary_cross_entropy([a * c, b], [0.25, 1.0], from_logits=True),
        lambda torch, a, b, c: torch.nn.functional.binary_cross_entropy_with_logits(
            torch.stack([a * c, b]), torch.tensor([0.25, 1.0])
        ),
    ),
    "mse and hinge": (
        lambda a, b, c: mse([a * b, c], [0.5, -1.0]) + hinge([a + b, c * a], [1.0, -1.0]),
        lambda torch, a, b, c: (
            ((a * b - 0.5) ** 2 + (c + 1.0) ** 2) + (torch.relu(1 - (a + b)) + torch.relu(1 + c * a)) / 2
        ),
    ),
}


@pytest.mark.parametrize("name", list(FUSED))
def test_second_derivatives_through_fused_nodes_equal_torchs_hessian(torch, name):
    ours, theirs = FUSED[name]
    value, first, hessian = hessian_of(ours, POINT)
    expected = torch.autograd.functional.hessian(lambda v: theirs(torch, v[0], v[1], v[2]), torch.tensor(POINT))
    assert_close(value, theirs(torch, *torch.tensor(POINT)).item(), rtol=1e-12, what=f"{name}: value")
    assert_close(hessian, expected, rtol=1e-8, atol=1e-12, what=f"{name}: Hessian")


def test_third_derivatives(torch):
    x = Value(0.3)
    f = (x * 2).tanh() * x**4
    (d1,) = grad(f, [x], create_graph=True)
    (d2,) = grad(d1, [x], create_graph=True)
    (d3,) = grad(d2, [x])
    t = torch.tensor(0.3, requires_grad=True)
    g = (t * 2).tanh() * t**4
    (t1,) = torch.autograd.grad(g, t, create_graph=True)
    (t2,) = torch.autograd.grad(t1, t, create_graph=True)
    (t3,) = torch.autograd.grad(t2, t)
    assert_close([d1.data, d2.data, d3.data], [t1.item(), t2.item(), t3.item()], rtol=1e-10, what="derivatives")


def test_newtons_method_on_the_notes_function_lands_on_the_minimum_in_one_step():
    x = Value(3.0)
    f = 3 * x**2 - 4 * x + 5
    (slope,) = grad(f, [x], create_graph=True)
    (curvature,) = grad(slope, [x])
    assert (slope.data, curvature.data) == (14.0, 6.0)
    x_next = x.data - slope.data / curvature.data
    assert abs(x_next - 2 / 3) < 1e-15


def test_grad_leaves_every_grad_as_it_was():
    a, b = Value(1.5), Value(-0.5)
    h = a * b
    out = (h + a).tanh()
    out.backward()
    before = [(v, v.grad) for v in (a, b, h, out)]
    ga, gb = grad(out, [a, b])
    assert [v.grad for v, _ in before] == [g for _, g in before]
    assert (ga.data, gb.data) == (a.grad, b.grad)
    assert ga._prev == () and isinstance(ga, Value)  # without create_graph: plain numbers, as Values
    (gh,) = grad(out, [h])
    assert gh.data == h.grad  # an interior input: d out / d h


def test_grad_with_several_outputs_and_weights_matches_torch(torch):
    a, b = Value(0.3), Value(2.0)
    outputs = [a * b, (a + b).exp()]
    ga, gb = grad(outputs, [a, b], grad_outputs=[2.0, -1.0])
    ta, tb = torch.tensor(0.3, requires_grad=True), torch.tensor(2.0, requires_grad=True)
    t_ga, t_gb = torch.autograd.grad(
        [ta * tb, (ta + tb).exp()], [ta, tb], grad_outputs=[torch.tensor(2.0), torch.tensor(-1.0)]
    )
    assert_close([ga.data, gb.data], [t_ga.item(), t_gb.item()], rtol=1e-14, what="gradients")


def test_unused_inputs_are_an_error_or_none():
    a, b = Value(1.0), Value(2.0)
    with pytest.raises(ValueError, match=r"grad: input 1 is not used to compute the outputs; pass allow_unused=True"):
        grad(a * 3.0, [a, b])
    assert grad(a * 3.0, [a, b], allow_unused=True)[1] is None
    with pytest.raises(TypeError, match=r"grad: every input must be a Value or a Tensor, got float"):
        grad(a * 3.0, [1.0])


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")  # torch's, about its own cycle
def test_backward_with_create_graph_leaves_gradients_that_are_graphs(torch):
    x = Value(0.8)
    y = (x * x * x).tanh()
    y.backward(create_graph=True)
    assert isinstance(x.grad, Value) and x.grad._prev
    (second,) = grad(x.grad, [x])
    t = torch.tensor(0.8, requires_grad=True)
    (t * t * t).tanh().backward(create_graph=True)
    (t_second,) = torch.autograd.grad(t.grad, t)
    assert_close([x.grad.data, second.data], [t.grad.item(), t_second.item()], rtol=1e-12, what="x.grad, d/dx")


def test_a_custom_backward_or_a_changed_input_cannot_be_differentiated_again():
    x = Value(2.0)
    out = Value(x.data**3, (x,), "cube")
    out._backward = lambda: None
    with pytest.raises(RuntimeError, match=r"create_graph: the node 'cube' has no derivative rule"):
        grad(out, [x], create_graph=True)
    y = x * x
    x.data = 5.0
    with pytest.raises(RuntimeError, match=r"create_graph: an input of '\*' changed after the forward pass"):
        grad(y, [x], create_graph=True)


# -- found by review: each of these once gave a wrong number without an error --------------------------
def test_grad_outputs_are_weights_not_part_of_the_graph(torch):
    x = Value(3.0)
    y = x * x
    (g,) = grad(y, [x], grad_outputs=[y])
    tx = torch.tensor(3.0, requires_grad=True)
    ty = tx * tx
    (t_g,) = torch.autograd.grad(ty, tx, grad_outputs=ty)
    assert g.data == t_g.item() == 54.0
    X = Tensor([1.0, 2.0], requires_grad=True)
    Y = X * X
    (G,) = grad(Y, [X], grad_outputs=[Y])
    assert_close(G.data, [2.0, 16.0], rtol=0.0, what="Tensor grad with grad_outputs")


def test_a_tensor_input_without_requires_grad_is_an_error_not_zeros():
    a, c = Tensor([2.0, 3.0], requires_grad=True), Tensor([1.0, 1.0])
    with pytest.raises(ValueError, match=r"grad: input 0 is a Tensor that does not require grad"):
        grad((a * c).sum(), [c])


def test_pow_with_a_value_exponent_keeps_its_second_derivatives(torch):
    _, _, hessian = hessian_of(lambda a, b, c: a**b + c, [0.7, 2.5, 0.0])
    expected = torch.autograd.functional.hessian(lambda v: v[0] ** v[1], torch.tensor([0.7, 2.5]))
    assert_close([row[:2] for row in hessian[:2]], expected, rtol=1e-10, what="Hessian of a**b at (0.7, 2.5)")
    # At exponent 0 the slope in the base, b * a**(b-1), is 0 but not constant: its derivative in b is
    # 1/a. (It once was a constant 0, and torch's own formula still drops it on one side: its Hessian
    # there is not symmetric.) d2/db2 = a**b ln(a)**2.
    _, _, hessian = hessian_of(lambda a, b, c: a**b + c, [1.5, 0.0, 0.0])
    assert hessian[0][1] == hessian[1][0] == pytest.approx(1 / 1.5, rel=1e-15)
    assert hessian[0][0] == 0.0 and hessian[1][1] == pytest.approx(math.log(1.5) ** 2, rel=1e-15)
    # a negative base: d/db has no real value, and its derivatives are NaN (they were 0); d2/da2 of a**3
    # is 6a = -12 (torch's formula goes through log(a) and says NaN there)
    _, _, hessian = hessian_of(lambda a, b, c: a**b + c, [-2.0, 3.0, 0.0])
    assert hessian[0][0] == -12.0 and math.isnan(hessian[1][1]) and math.isnan(hessian[1][0])


def test_cross_entropy_of_large_nearly_equal_logits_differentiates_twice(torch):
    _, first, hessian = hessian_of(lambda a, b, c: cross_entropy([a, b, c], 0), [1e10, 1e10 + 1.0, 1e10 - 2.0])
    point = torch.tensor([1e10, 1e10 + 1.0, 1e10 - 2.0])
    expected = torch.autograd.functional.hessian(lambda v: torch.nn.functional.cross_entropy(v, torch.tensor(0)), point)
    assert_close(hessian, expected, rtol=1e-8, atol=1e-12, what="Hessian of cross_entropy at 1e10")


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_an_optimizer_steps_on_numbers_after_backward_with_create_graph():
    from chainrule.nn import MLP
    from chainrule.optim import SGD

    model = MLP(2, [3, 1], rng=0)
    out = model([0.5, -0.2])
    (out * out).backward(create_graph=True)
    expected = [p.data - 0.1 * p.grad.data for p in model.parameters()]
    SGD(model.parameters(), lr=0.1).step()
    assert [p.data for p in model.parameters()] == expected
    assert all(type(p.data) is float for p in model.parameters())
