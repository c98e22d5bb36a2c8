"""The gradient is a graph too: ``chainrule.grad`` and ``backward(create_graph=True)`` on scalar Values,
checked against ``torch.autograd.functional.hessian`` and ``torch.autograd.grad`` (float64).

Every operation's derivative rule is written once and runs on floats (the first-order pass) and on
Values (a gradient graph). ``test_ops.py`` differentiates every entry of the table of operations twice
on the engines that support it; these tests go three times deep, and through ``grad`` 's options.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from op_table import VALUE, check_op
from oracle import assert_close, hessian

from chainrule import Tensor, Value, grad


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


def hessian_of_power(a: float, b: float) -> np.ndarray:
    """chainrule's second derivatives of a ** b with respect to a and b."""
    a, b = Value(a), Value(b)
    return hessian(a**b, [a, b])[1]


def test_pow_with_a_value_exponent_keeps_its_second_derivatives(torch):
    check_op(torch, "a ** b (a > 0)", VALUE, (0.7, 2.5), second_order=True)
    # At exponent 0 the slope in the base, b * a**(b-1), is 0 but not constant: its derivative in b is
    # 1/a. (It once was a constant 0, and torch's own formula still drops it on one side: its Hessian
    # there is not symmetric.) d2/db2 = a**b ln(a)**2.
    second = hessian_of_power(1.5, 0.0)
    assert second[0][1] == second[1][0] == pytest.approx(1 / 1.5, rel=1e-15)
    assert second[0][0] == 0.0 and second[1][1] == pytest.approx(math.log(1.5) ** 2, rel=1e-15)
    # a negative base: d/db has no real value, and its derivatives are NaN (they were 0); d2/da2 of a**3
    # is 6a = -12 (torch's formula goes through log(a) and says NaN there)
    second = hessian_of_power(-2.0, 3.0)
    assert second[0][0] == -12.0 and math.isnan(second[1][1]) and math.isnan(second[1][0])


@pytest.mark.parametrize("n", [0.5, 1.5, 2.5])
@pytest.mark.parametrize("exponent", ["number", "Value"])
def test_a_root_at_zero_differentiates_three_times_to_infinities_as_in_torch(torch, n, exponent):
    # The slope of x ** 0.5 at 0 is inf, as a number (first order) and as a graph: built on Values,
    # 0.5 * x ** -0.5 once raised "pow: 0.0 ** -0.5 divides by zero", a power nobody wrote.
    x = Value(0.0)
    power = n if exponent == "number" else Value(n)
    (d1,) = grad(x**power, [x], create_graph=True)
    (d2,) = grad(d1, [x], create_graph=True)
    (d3,) = grad(d2, [x])
    t = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    tpower = n if exponent == "number" else torch.tensor(n, dtype=torch.float64, requires_grad=True)
    (t1,) = torch.autograd.grad(t**tpower, t, create_graph=True)
    (t2,) = torch.autograd.grad(t1, t, create_graph=True)
    (t3,) = torch.autograd.grad(t2, t)
    assert [d1.data, d2.data, d3.data] == [t1.item(), t2.item(), t3.item()]
    assert math.isinf(d3.data)


def test_cross_entropy_of_large_nearly_equal_logits_differentiates_twice(torch):
    check_op(torch, "cross_entropy (one example)", VALUE, ([1e10, 1e10 + 1.0, 1e10 - 2.0], 0), second_order=True)


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


def test_a_value_whose_grad_is_a_graph_copies_and_pickles_with_the_number(torch):
    import copy
    import pickle

    x = Value(2.0)
    y = x * x * x
    y.backward(create_graph=True)
    assert isinstance(x.grad, Value)
    tx = torch.tensor(2.0, requires_grad=True)
    (tx**3).backward()
    for copied in (copy.deepcopy(x), pickle.loads(pickle.dumps(x)), pickle.loads(pickle.dumps(y))._prev[0]._prev[0]):
        assert type(copied.grad) is float and copied.grad == tx.grad.item() == 12.0
