"""The Tensor engine beyond the table of operations (``op_table.py``, whose every entry ``test_ops.py``
checks against PyTorch and central differences): broadcasting of every elementwise entry, ties,
numerical stability, graph bookkeeping, no_grad, float32 and the error messages.
"""

import gc
import weakref

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes
from op_table import OPS, TENSOR, Case, check_op
from oracle import assert_close

import chainrule
from chainrule import GradcheckError, Tensor, gradcheck, no_grad
from chainrule.autodiff import zero_grad
from chainrule.tensor import as_float_array, linear, sum_of_squares, unbroadcast

RTOL = 1e-10


def test_gradcheck_catches_a_wrong_tensor_gradient():
    x = Tensor([0.5, -1.0, 2.0], requires_grad=True)

    def wrong_square(t):
        out = Tensor(t.data**2, _children=(t,), _op="sq")

        def _backward():
            t._accumulate(out.grad * t.data)  # should be 2 * t.data

        out._backward = _backward
        return out.sum()

    with pytest.raises(GradcheckError, match="element 0"):
        gradcheck(wrong_square, [x])


BROADCASTING = [op for op in OPS if op.broadcasts and op.smooth_domains]


@settings(max_examples=40, deadline=None)
@given(
    shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=1, max_side=3),
    op=st.sampled_from(BROADCASTING),
    seed=st.integers(0, 2**16),
)
def test_broadcasting_binary_operations_match_torch(torch, shapes, op, seed):
    case = Case(op, TENSOR, shapes.input_shapes)
    case.check(torch, case.sample(np.random.default_rng(seed)))


# -- max: ties -------------------------------------------------------------------------------------
def test_max_splits_the_gradient_evenly_among_ties_like_torch_amax(torch):
    data = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    out = check_op(torch, "max(axis=1)", TENSOR, [data])
    assert out.data.tolist() == [3.0, 2.0]
    t = Tensor(data, requires_grad=True)
    t.max().backward()
    assert t.grad.tolist() == [[0.0, 0.5, 0.5], [0.0, 0.0, 0.0]]


# -- numerical stability ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_and_log_softmax_are_stable_for_huge_logits(torch, name):
    logits = np.array([[1000.0, 999.0, -1000.0], [-1e4, -1e4, -1e4]])
    out = check_op(torch, name, TENSOR, [logits])
    assert np.isfinite(out.data).all()
    np.testing.assert_allclose(Tensor(logits).softmax().data.sum(axis=1), [1.0, 1.0], rtol=1e-15)


def test_sigmoid_is_stable_for_large_magnitudes(torch):
    x = np.array([-800.0, -40.0, 0.0, 40.0, 800.0])
    out = check_op(torch, "sigmoid", TENSOR, [x])
    assert out.data[0] == 0.0 and out.data[-1] == 1.0
    assert out.data[1] == pytest.approx(4.248354255291589e-18, rel=1e-12)


# -- graph bookkeeping -----------------------------------------------------------------------------
def test_prev_holds_the_operands_in_order_and_numbers_become_constants():
    a = Tensor([1.0, 2.0], requires_grad=True, label="a")
    b = Tensor([3.0, 4.0], requires_grad=True, label="b")
    c = a * b
    assert c._prev == (a, b) and c._op == "*" and c.requires_grad
    d = 2 - a
    assert d._prev[1] is a and d._prev[0].data.tolist() == 2.0 and not d._prev[0].requires_grad
    assert (a @ b)._prev == (a, b)


def test_results_of_constants_are_not_recorded():
    a = Tensor([1.0, 2.0])
    b = Tensor([3.0, 4.0])
    c = (a * b).exp().sum()
    assert not c.requires_grad and c._prev == ()
    with pytest.raises(RuntimeError, match="does not require grad"):
        c.backward()


def test_only_leaves_that_require_grad_receive_gradients():
    w = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    x = Tensor([[0.5, -1.0]])
    (x @ w).sum().backward()
    assert x.grad is None
    assert w.grad.tolist() == [[0.5, 0.5], [-1.0, -1.0]]


def test_leaf_gradients_accumulate_and_zero_grad_resets_them():
    x = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    assert x.grad.tolist() == [2.0, -4.0, 6.0]
    (x * 3).sum().backward()
    assert x.grad.tolist() == [5.0, -1.0, 9.0]
    zero_grad([x])
    assert x.grad is None
    x.zero_grad()
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0, 3.0]


def test_a_leaf_gradient_is_an_array_of_its_own():
    # _accumulate keeps a rule's fresh array for a leaf instead of copying it; a gradient passed on
    # unchanged (a + b), or held by an interior node, must still be copied.
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    s = a + b
    total = s.sum()
    total.backward()
    assert not np.shares_memory(a.grad, b.grad)
    assert not np.shares_memory(a.grad, s.grad)
    a.grad += 1.0  # changing one leaf's gradient in place changes nothing else
    assert b.grad.tolist() == [1.0, 1.0] and s.grad.tolist() == [1.0, 1.0]
    w = Tensor([1.0, 2.0], requires_grad=True)
    ((w * 3.0).sum() + (w * w).sum()).backward()  # the first share kept, the second added into it
    assert w.grad.tolist() == [5.0, 7.0]


def test_two_losses_through_a_shared_subgraph_add_up_at_the_leaves(torch):
    data = np.array([0.3, -0.7, 1.1])
    x = Tensor(data, requires_grad=True)
    h = (x * 2).tanh()
    h.sum().backward()
    (h * h).sum().backward()  # h's old gradient must not be pushed back a second time

    tx = torch.tensor(data, requires_grad=True)
    th = (tx * 2).tanh()
    th.sum().backward(retain_graph=True)
    (th * th).sum().backward()
    assert_close(x.grad, tx.grad, rtol=RTOL, atol=0.0, what="x.grad")


def test_leaf_gradients_never_share_memory():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad *= 10  # e.g. gradient clipping in place
    assert b.grad.tolist() == [1.0, 1.0]


def test_graphs_are_freed_without_the_cycle_collector():
    gc.disable()
    try:
        w = Tensor(np.ones((3, 2)), requires_grad=True)
        x = Tensor(np.ones((4, 3)))
        hidden = (x @ w).relu()
        loss = (hidden * hidden).mean()
        loss.backward()
        probe = weakref.ref(hidden)
        del hidden, loss
        assert probe() is None  # freed by reference counting alone: no node refers to itself
    finally:
        gc.enable()


def test_backward_needs_a_gradient_for_non_scalar_results():
    t = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ValueError, match=r"shape \(2, 3\).*\.sum\(\)"):
        (t * 2).backward()
    with pytest.raises(ValueError, match=r"grad has shape \(3,\) but this Tensor has shape \(2, 3\)"):
        (t * 2).backward(np.ones(3))
    (t * 2).backward(np.full((2, 3), 0.5))
    assert t.grad.tolist() == [[1.0] * 3] * 2
    one = Tensor([[4.0]], requires_grad=True)
    (one * 3).backward()  # a single number in any shape needs no gradient argument
    assert one.grad.tolist() == [[3.0]]


def test_notes_style_custom_operation():
    # Defining an operation the notes' way: a closure assigned to out._backward.
    x = Tensor([1.0, 2.0], requires_grad=True)
    out = Tensor(np.sin(x.data), _children=(x,), _op="sin")

    def _backward():
        x._accumulate(out.grad * np.cos(x.data))

    out._backward = _backward
    assert out._prev == (x,) and out.requires_grad
    out.sum().backward()
    np.testing.assert_allclose(x.grad, np.cos([1.0, 2.0]), rtol=1e-15)


def test_unbroadcast_sums_over_broadcast_axes():
    g = np.arange(24.0).reshape(2, 3, 4)
    assert unbroadcast(g, (2, 3, 4)) is g
    np.testing.assert_array_equal(unbroadcast(g, (4,)), g.sum(axis=(0, 1)))
    np.testing.assert_array_equal(unbroadcast(g, (3, 1)), g.sum(axis=(0, 2)).reshape(3, 1))
    np.testing.assert_array_equal(unbroadcast(g, ()), g.sum())


# -- no_grad ---------------------------------------------------------------------------------------
def test_no_grad_records_nothing_and_restores_recording():
    w = Tensor([1.0, 2.0], requires_grad=True)
    with no_grad():
        y = (w * 3).exp().sum()
        with no_grad():
            z = w + 1
        u = w - 1  # still off after the nested block ends
    assert not y.requires_grad and y._prev == () and z._prev == () and u._prev == ()
    assert y.item() == pytest.approx(np.exp(3.0) + np.exp(6.0), rel=1e-15)
    assert (w * 3)._prev[0] is w  # recording is back on


def test_no_grad_restores_recording_after_an_error_and_works_as_a_decorator():
    w = Tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError), no_grad():
        (w - 5).log()
    assert (w * 2).requires_grad

    @no_grad()
    def evaluate(t):
        return t * 2

    assert not evaluate(w).requires_grad
    assert chainrule.no_grad is no_grad


# -- data types and conversions --------------------------------------------------------------------
def test_float32_stays_float32_through_operations_and_gradients():
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True, dtype=np.float32)
    w = Tensor([0.5, -0.5], requires_grad=True, dtype=np.float32)
    loss = ((x * w + 1) / 2 - x**2).tanh().log_softmax().sum() + sum_of_squares([w]) * 0.1
    assert x.dtype == np.float32 and loss.dtype == np.float32
    loss.backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32
    x64 = Tensor(x.data.astype(np.float64), requires_grad=True)
    w64 = Tensor(w.data.astype(np.float64), requires_grad=True)
    (((x64 * w64 + 1) / 2 - x64**2).tanh().log_softmax().sum() + sum_of_squares([w64]) * 0.1).backward()
    np.testing.assert_allclose(x.grad, x64.grad, rtol=1e-5, atol=1e-6)


def test_mixed_precision_promotes_like_numpy_and_casts_gradients_back():
    a = Tensor([1.0, 2.0], requires_grad=True, dtype=np.float32)
    b = Tensor([3.0, 4.0], requires_grad=True)
    c = a * b
    assert c.dtype == np.float64
    c.sum().backward()
    assert a.grad.dtype == np.float32 and a.grad.tolist() == [3.0, 4.0]


def test_tensor_basics():
    t = Tensor([[1, 2, 3], [4, 5, 6]])
    assert t.dtype == np.float64 and t.shape == (2, 3) and t.ndim == 2 and t.size == 6 and len(t) == 2
    assert t.grad is None and not t.requires_grad
    assert Tensor(2.5).item() == 2.5 and isinstance(Tensor(2.5).item(), float)
    assert t.numpy() is t.data
    source = np.array([1.0, 2.0])
    copied = Tensor(source)
    source[0] = 99.0
    assert copied.data[0] == 1.0  # Tensor(...) copies its data
    assert "requires_grad=True" in repr(Tensor([1.0], requires_grad=True))
    assert np.asarray(t).shape == (2, 3)
    assert (np.ones(3) + Tensor([1.0, 2.0, 3.0])).data.tolist() == [2.0, 3.0, 4.0]  # numpy defers to Tensor
    with pytest.raises(ValueError, match=r"item: .*shape \(2, 3\)"):
        t.item()


def test_nan_inputs_are_accepted_and_propagate():
    t = Tensor([1.0, np.nan], requires_grad=True)
    out = (t * 2).sum()
    assert np.isnan(out.item())
    out.backward()
    assert t.grad.tolist() == [2.0, 2.0]


def test_zero_dimensional_results_are_arrays():
    s = Tensor([1.0, 2.0], requires_grad=True).sum()
    assert type(s.data) is np.ndarray and s.shape == ()
    s2 = s * 2
    assert type(s2.data) is np.ndarray
    s2.backward()
    assert type(s.grad) is np.ndarray


# -- errors ----------------------------------------------------------------------------------------
def test_shape_errors_name_the_operation_and_both_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(3, 4\) and \(5, 2\) are not aligned"):
        Tensor(np.ones((3, 4))) @ Tensor(np.ones((5, 2)))
    with pytest.raises(ValueError, match=r"matmul: shapes \(4, 3\) and \(2, 2\) are not aligned"):
        linear(Tensor(np.ones((4, 3))), Tensor(np.ones((2, 2))))
    with pytest.raises(ValueError, match=r"linear \(bias\): shapes \(4, 2\) and \(3,\) cannot be broadcast"):
        linear(Tensor(np.ones((4, 3))), Tensor(np.ones((3, 2))), Tensor(np.ones(3)))
    with pytest.raises(ValueError, match=r"matmul: shapes \(\) and \(3,\)"):
        Tensor(2.0) @ Tensor(np.ones(3))
    with pytest.raises(ValueError, match=r"add: shapes \(3, 4\) and \(5,\) cannot be broadcast"):
        Tensor(np.ones((3, 4))) + Tensor(np.ones(5))
    with pytest.raises(ValueError, match=r"mul: shapes \(2,\) and \(3,\)"):
        Tensor(np.ones(2)) * np.ones(3)
    with pytest.raises(ValueError, match=r"reshape: cannot reshape shape \(3, 4\) \(12 entries\) into \(5,\)"):
        Tensor(np.ones((3, 4))).reshape(5)
    with pytest.raises(ValueError, match=r"sum: axis 2 is out of range for a tensor with 2 dimension"):
        Tensor(np.ones((3, 4))).sum(axis=2)
    with pytest.raises(ValueError, match=r"transpose: axis \(0, 0\) repeats an axis"):
        Tensor(np.ones((3, 4))).transpose(0, 0)
    with pytest.raises(IndexError, match=r"index: .*out of bounds.*shape \(3, 4\)"):
        Tensor(np.ones((3, 4)))[5]


def test_domain_errors_name_the_operation_and_the_values():
    with pytest.raises(ValueError, match=r"log: input must be > 0, got \[-1\.0, 0\.0\]"):
        Tensor([2.0, -1.0, 0.0]).log()
    with pytest.raises(ValueError, match=r"log: .*nan"):
        Tensor([np.nan]).log()
    with pytest.raises(
        ZeroDivisionError,
        match=r"^div: cannot divide 2\.0 by zero \(the divisor of shape \(2,\) is 0 at index \(1,\)\)$",
    ):
        Tensor([1.0, 2.0]) / Tensor([1.0, 0.0])
    with pytest.raises(ZeroDivisionError, match=r"^div: cannot divide \[1\.0, 2\.0\] \(2 values\) by zero \(0\.0\)$"):
        Tensor([1.0, 2.0]) / 0
    with pytest.raises(
        ValueError,
        match=r"^pow: -2\.0 \*\* 0\.5 at index \(1,\) has no real value \(negative base, non-integer exponent\)$",
    ):
        Tensor([4.0, -2.0]) ** 0.5
    with pytest.raises(ZeroDivisionError, match=r"^pow: 0\.0 \*\* -1\.0 at index \(0,\) divides by zero"):
        Tensor([0.0, 1.0]) ** -1
    with pytest.raises(
        OverflowError,
        match=r"^exp: exp\(1000\.0\) at index \(1,\) is too large for float64 \(inputs above about 709\.78",
    ):
        Tensor([1.0, 1000.0]).exp()
    with pytest.raises(
        OverflowError,
        match=r"^exp: exp\(\[800\.0, 1000\.0\] \(2 values\)\) at index \(0, 1\), \(1, 0\) .*largest input is 1000\.0",
    ):
        Tensor([[1.0, 800.0], [1000.0, 2.0]]).exp()
    with pytest.raises(
        ZeroDivisionError,
        match=r"^div: cannot divide \[3\.0, 4\.0\] \(2 values\) by zero \(the divisor of shape \(2, 1\)",
    ):
        Tensor([[1.0, 2.0], [3.0, 4.0]]) / Tensor([[1.0], [0.0]])
    with pytest.raises(ValueError, match=r"^div: shapes \(3,\) and \(2,\) cannot be broadcast together"):
        Tensor([1.0, 2.0, 3.0]) / Tensor([0.0, 1.0])  # the shapes are the first thing wrong
    with pytest.raises(TypeError, match="pow: exponent must be a number or a Tensor"):
        Tensor([1.0]) ** "2"


def test_conversion_errors_name_where_they_happened():
    with pytest.raises(TypeError, match=r"Tensor: expected real numbers, got an array of dtype <U"):
        Tensor(["a", "b"])
    with pytest.raises(TypeError, match=r"Tensor: expected real numbers, got an array of dtype object"):
        Tensor([chainrule.Value(1.0), chainrule.Value(2.0)])
    with pytest.raises(TypeError, match="complex"):
        Tensor([1 + 2j])
    with pytest.raises(ValueError, match="Tensor: cannot make an array"):
        Tensor([[1.0, 2.0], [3.0]])
    with pytest.raises(TypeError, match=r"Tensor: dtype must be a floating type .*int64"):
        Tensor([1, 2], dtype=np.int64)
    with pytest.raises(TypeError, match=r"mse targets: expected real numbers"):
        as_float_array(["x"], "mse targets")
    with pytest.raises(TypeError, match=r"add: expected real numbers"):
        Tensor([1.0]) + "1"


def test_as_float_array_converts_without_needless_copies():
    a = np.array([1.0, 2.0])
    assert as_float_array(a, "here") is a
    assert as_float_array([1, 2], "here").dtype == np.float64
    assert as_float_array(np.array([1, 2]), "here", dtype=np.float32).dtype == np.float32
    assert as_float_array(Tensor([3.0]), "here").tolist() == [3.0]
    assert as_float_array(True, "here").tolist() == 1.0
