"""The scalar engine against PyTorch (float64) beyond the table of operations (``op_table.py``, checked on
random and edge inputs in ``test_ops.py``): documented edge semantics, the graph's bookkeeping (``_prev``,
``_op``, ``label``, ``grad``), gradient accumulation, user-defined operations and the published examples.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from dependencies import require
from op_table import FLOAT, TENSOR, VALUE, check_op
from oracle import assert_close, check_against_torch

from chainrule import Value
from chainrule.autodiff import topological_order
from chainrule.examples import lecture_neuron

# Values and gradients must agree with torch to a few ulps (pow and exp may round differently).
REL = 1e-12
ABS = 1e-300


# -- documented edge semantics, each checked against torch ---------------------------------------------


@pytest.mark.parametrize(
    "a, b, grad_b",
    [
        (-2.0, 3.0, math.nan),  # d(a**b)/db = a**b ln(a): no real value for a < 0
        (-0.5, -2.0, math.nan),
        (0.0, 2.0, 0.0),  # the limit at a = 0 for b >= 0
        (0.0, 0.0, 0.0),
        (0.0, 0.5, 0.0),
        (3.0, 2.0, 9.0 * math.log(3.0)),
    ],
)
def test_power_gradient_wrt_exponent_edge_semantics(torch, a, b, grad_b):
    name = "a ** b (a > 0)" if a > 0 else "a ** b (a = 0, b >= 0)" if a == 0 else "a ** b (a < 0, whole b)"
    power = check_op(torch, name, VALUE, (a, b))
    exponent = power._prev[1]
    assert_close(exponent.grad, grad_b, rtol=REL, atol=ABS, what="d/db vs closed form")


def test_relu_gradient_at_zero_is_zero_like_torch(torch):
    x = Value(0.0)
    y = x.relu()
    y.backward()
    t = torch.tensor(0.0, requires_grad=True)
    t.relu().backward()
    assert (y.data, x.grad) == (0.0, 0.0) == (0.0, t.grad.item())


def test_square_root_at_zero_has_infinite_slope_like_torch(torch):
    x = Value(0.0)
    (x**0.5).backward()
    t = torch.tensor(0.0, requires_grad=True)
    (t**0.5).backward()
    assert x.grad == math.inf == t.grad.item()


# (the Tensor engine gets there with NumPy's RuntimeWarning "overflow encountered")
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.parametrize("engine", [FLOAT, VALUE, TENSOR])
def test_division_by_a_tiny_number_gives_torch_gradients(torch, engine):
    # 1 / 1e-200 = 1e200 is a finite float; d/db = -a / b**2 overflows to -inf, as torch reports.
    check_op(torch, "a / b", engine, (1.0, 1e-200))


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.parametrize("engine", [FLOAT, VALUE, TENSOR])
def test_negative_power_of_a_tiny_number_gives_torch_gradient(torch, engine):
    # 1e-200 ** -1.5 = 1e300 is finite; its slope -1.5 * x**-2.5 overflows to -inf, as torch reports.
    check_op(torch, "a ** -1.5", engine, (1e-200,))


# -- the graph's bookkeeping -------------------------------------------------------------------------


def test_prev_is_a_tuple_in_operand_order():
    a, b = Value(2.0), Value(3.0)
    for expr, expected in [
        (a + b, (a, b)),
        (b + a, (b, a)),
        (a * b, (a, b)),
        (b * a, (b, a)),
        (a / b, (a, b)),
        (a**b, (a, b)),
        (b**a, (b, a)),
        (a.tanh(), (a,)),
        (a**2, (a,)),
    ]:
        assert type(expr._prev) is tuple
        assert len(expr._prev) == len(expected)
        assert all(got is want for got, want in zip(expr._prev, expected))
    # a number operand becomes a leaf Value, on whichever side it was written
    c = a * 5
    assert c._prev[0] is a and c._prev[1].data == 5.0 and c._prev[1]._prev == ()
    for reflected, number in [(5 * a, 5.0), (2 + a, 2.0), (2.5 / a, 2.5), (3**a, 3.0)]:
        first, second = reflected._prev
        assert first.data == number and first._prev == () and second is a
    # other - self is other + (-self)
    d = 2 - a
    assert d._op == "+" and d._prev[0].data == 2.0 and d._prev[0]._prev == ()
    assert d._prev[1]._op == "neg" and d._prev[1]._prev[0] is a
    # a Value used twice appears twice
    e = a * a
    assert e._prev[0] is a and e._prev[1] is a


@pytest.mark.parametrize(
    "build, op",
    [
        (lambda a, b: a + b, "+"),
        (lambda a, b: a * b, "*"),
        (lambda a, b: a / b, "/"),
        (lambda a, b: a**b, "**"),
        (lambda a, b: a**2, "**2"),
        (lambda a, b: a**-1.5, "**-1.5"),
        (lambda a, b: -a, "neg"),
        (lambda a, b: a.exp(), "exp"),
        (lambda a, b: a.log(), "log"),
        (lambda a, b: a.tanh(), "tanh"),
        (lambda a, b: a.relu(), "ReLU"),
        (lambda a, b: a.sigmoid(), "sigmoid"),
        (lambda a, b: Value(1.0), ""),
    ],
)
def test_op_strings(build, op):
    assert build(Value(2.0), Value(3.0))._op == op


def test_subtraction_is_addition_of_the_negation():
    a, b = Value(5.0), Value(3.0)
    c = a - b
    assert c._op == "+" and c._prev[0] is a and c._prev[1]._op == "neg" and c._prev[1]._prev[0] is b


def test_label_grad_and_data_defaults():
    v = Value(1.5)
    assert (v.data, v.grad, v.label, v._op, v._prev) == (1.5, 0.0, "", "", ())
    assert type(v.grad) is float
    assert v._backward() is None  # a leaf's backward step does nothing
    w = Value(2.0, label="w")
    assert w.label == "w"
    assert "label='w'" in repr(w) and "2.0" in repr(w)
    w.label = "weight"
    assert w.label == "weight"
    out = v * w
    assert out.grad == 0.0 and out.label == ""


def test_node_used_twice_gets_its_full_gradient(torch):
    a = Value(-3.0)
    b = a + a
    c = b * a
    c.backward()  # c = 2a**2, dc/da = 4a
    assert a.grad == -12.0
    t = torch.tensor(-3.0, requires_grad=True)
    ((t + t) * t).backward()
    assert a.grad == t.grad.item()


def test_backward_twice_accumulates_into_the_leaves(torch):
    # One operation deep, a second backward() adds the same gradients again, as torch's does.
    a, b = Value(1.5), Value(-2.0)
    out = a * b
    out.backward()
    out.backward()
    ta = torch.tensor(1.5, requires_grad=True)
    tb = torch.tensor(-2.0, requires_grad=True)
    t_out = ta * tb
    t_out.backward(retain_graph=True)
    t_out.backward()
    assert (a.grad, b.grad) == (-4.0, 3.0) == (ta.grad.item(), tb.grad.item())


def test_backward_twice_deep_down_adds_exactly_once_more_unlike_micrograd(torch):
    # Interior nodes hold only the current pass's gradient, so a second backward() through a deeper graph
    # adds exactly the first pass's gradients again, as torch's does (with retain_graph). micrograd keeps
    # interior gradients and counts the first pass twice: its users report that as a bug.
    micrograd = require("micrograd.engine", "pip install micrograd==0.1.0")
    results = {}
    for value_type in (Value, micrograd.Value):
        a, b = value_type(1.5), value_type(-2.0)
        out = (a * b + a * a + 4).relu() * b
        out.backward()
        first = (a.grad, b.grad)
        out.backward()
        results[value_type] = (first, (a.grad, b.grad))
    ta, tb = torch.tensor(1.5, requires_grad=True), torch.tensor(-2.0, requires_grad=True)
    t_out = (ta * tb + ta * ta + 4).relu() * tb
    t_out.backward(retain_graph=True)
    t_first = (ta.grad.item(), tb.grad.item())
    t_out.backward()
    first, second = results[Value]
    assert first == pytest.approx(t_first, rel=REL) and first != (0.0, 0.0)
    assert second == pytest.approx((ta.grad.item(), tb.grad.item()), rel=REL)
    assert second == pytest.approx((2 * first[0], 2 * first[1]), rel=REL)
    assert results[micrograd.Value][1] != pytest.approx(second, rel=REL)  # the bug we do not copy


def test_help_shows_no_section_comment_as_a_method_doc():
    """pydoc shows the comment block right above a def that has no docstring as that method's doc, so
    a section comment (``# -- arithmetic ...``) must not touch a def: ``help(Value)`` showed it under
    ``__add__``."""
    import inspect
    import pydoc

    for name, member in vars(Value).items():
        if inspect.isfunction(member):
            assert inspect.getcomments(member) is None, name
    assert "# --" not in pydoc.render_doc(Value, renderer=pydoc.plaintext)


def test_zero_grad_resets_a_node():
    a = Value(2.0)
    (a * a).backward()
    assert a.grad == 4.0
    a.zero_grad()
    assert a.grad == 0.0


def test_backward_visits_each_node_once_in_topological_order():
    a, b = Value(2.0), Value(-1.0)
    c = a * b
    d = c + a
    e = d * c
    order = topological_order(e)
    assert len(order) == len({id(n) for n in order}) == 5
    assert order[-1] is e
    position = {id(n): i for i, n in enumerate(order)}
    for node in order:
        for child in node._prev:
            assert position[id(child)] < position[id(node)]


# -- a user-defined operation, written the notes' way ---------------------------------------------------


def cube(v: Value) -> Value:
    out = Value(v.data**3, (v,), "cube")

    def _backward():
        v.grad += 3 * v.data**2 * out.grad

    out._backward = _backward
    return out


def test_user_defined_operation_with_a_closure(torch):
    a, b = Value(-1.5), Value(0.75)
    y = check_against_torch(
        torch,
        lambda a, b: cube(a * b) * a + cube(b),
        lambda a, b: (a * b) ** 3 * a + b**3,
        (a, b),
        rtol=REL,
        atol=ABS,
        what="cube(a * b) * a + cube(b)",
    )
    assert y._prev[0]._prev[0]._op == "cube"


def test_assigned_backward_is_the_closure_that_runs():
    a = Value(2.0)
    out = cube(a)
    calls = []
    original = out._backward

    def spy():
        calls.append(out.grad)
        original()

    out._backward = spy
    assert out._backward is spy
    (out * 5.0).backward()
    assert calls == [5.0]
    assert a.grad == 5.0 * 3 * 4.0


# -- any real number is data ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number, expected",
    [
        (3, 3.0),
        (-7, -7.0),
        (True, 1.0),
        (2.5, 2.5),
        (np.float64(1.25), 1.25),
        (np.int64(-4), -4.0),
        (np.float32(0.5), 0.5),
        (np.int32(9), 9.0),
        (np.float32(0.1), float(np.float32(0.1))),
        (np.True_, 1.0),
        (np.False_, 0.0),
    ],
    ids=repr,
)
def test_any_real_number_is_stored_as_a_python_float(number, expected):
    v = Value(number)
    assert type(v.data) is float
    assert v.data == expected


def test_numpy_scalars_as_operands(torch):
    check_against_torch(
        torch,
        lambda a: a * np.float64(2.0) + np.int64(3) - a ** np.int64(2) / np.float32(4.0),
        lambda t: t * 2.0 + 3 - t**2 / 4.0,
        (Value(np.float32(1.5)),),
        rtol=REL,
        atol=ABS,
        what="numpy scalars as operands",
    )


def test_a_numpy_bool_is_a_number_on_either_side(torch):
    # `v * (x > 0)` with a NumPy x: np.True_ on the left worked (NumPy's own loop) but on the right raised
    # "cannot combine a Value with bool", though Python's True works on both sides.
    check_against_torch(
        torch,
        lambda a: a * np.True_ + np.False_ - np.True_ / a + a**np.True_ + np.True_ * a - a / np.True_,
        lambda t: t * 1.0 + 0.0 - 1.0 / t + t**1.0 + 1.0 * t - t / 1.0,
        (Value(1.5),),
        rtol=REL,
        atol=ABS,
        what="numpy bools as operands",
    )


# -- published examples ------------------------------------------------------------------------------


def micrograd_readme_example(value_type):
    """micrograd's README example, verbatim, on any Value class (chainrule's or micrograd's)."""
    a = value_type(-4.0)
    b = value_type(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    return a, b, g


def test_micrograd_readme_example_published_numbers():
    a, b, g = micrograd_readme_example(Value)
    # as printed in micrograd's README
    assert f"{g.data:.4f}" == "24.7041"
    assert f"{a.grad:.4f}" == "138.8338"
    assert f"{b.grad:.4f}" == "645.5773"


def test_micrograd_readme_example_against_torch(torch):
    a, b, g = micrograd_readme_example(Value)
    ta = torch.tensor(-4.0, requires_grad=True)
    tb = torch.tensor(2.0, requires_grad=True)
    c = ta + tb
    d = ta * tb + tb**3
    c = c + c + 1
    c = c + 1 + c + (-ta)
    d = d + d * 2 + (tb + ta).relu()
    d = d + 3 * d + (tb - ta).relu()
    e = c - d
    f = e**2
    t_g = f / 2.0
    t_g = t_g + 10.0 / f
    t_g.backward()
    assert type(g.data) is float and type(a.grad) is float and type(b.grad) is float
    assert_close(g.data, t_g, rtol=REL, atol=ABS, what="g")
    assert_close(a.grad, ta.grad, rtol=REL, atol=ABS, what="a.grad")
    assert_close(b.grad, tb.grad, rtol=REL, atol=ABS, what="b.grad")


def test_micrograd_readme_example_against_micrograd():
    micrograd = require("micrograd.engine", "pip install micrograd==0.1.0")
    ours = micrograd_readme_example(Value)
    theirs = micrograd_readme_example(micrograd.Value)
    assert ours[2].data == pytest.approx(theirs[2].data, rel=REL)
    assert ours[0].grad == pytest.approx(theirs[0].grad, rel=REL)
    assert ours[1].grad == pytest.approx(theirs[1].grad, rel=REL)


def test_lecture_neuron_published_numbers():
    o = lecture_neuron()
    assert o.data == pytest.approx(math.sqrt(0.5), abs=1e-12)
    leaves = {v.label: v for v in topological_order(o) if not v._prev}
    assert set(leaves) == {"x1", "x2", "w1", "w2", "b"}
    assert leaves["x1"].grad == pytest.approx(-1.5, abs=1e-12)
    assert leaves["w1"].grad == pytest.approx(1.0, abs=1e-12)
    assert leaves["x2"].grad == pytest.approx(0.5, abs=1e-12)
    assert leaves["w2"].grad == 0.0
    assert o.grad == 1.0


def test_lecture_neuron_against_torch(torch):
    o = lecture_neuron()
    leaves = {v.label: v for v in topological_order(o) if not v._prev}
    t = {name: torch.tensor(v.data, requires_grad=True) for name, v in leaves.items()}
    t_o = (t["x1"] * t["w1"] + t["x2"] * t["w2"] + t["b"]).tanh()
    t_o.backward()
    assert type(o.data) is float
    assert_close(o.data, t_o, rtol=REL, atol=ABS, what="o")
    for name, v in leaves.items():
        assert type(v.grad) is float
        assert_close(v.grad, t[name].grad, rtol=REL, atol=ABS, what=f"{name}.grad")
