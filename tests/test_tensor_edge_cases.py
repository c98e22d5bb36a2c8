"""The Tensor operations at their edges, each against torch float64: empty tensors, NaN and overflow, and
the axis arguments where NumPy and PyTorch read the same spelling differently (a silent wrong number for
someone who writes one library's code in the other, so chainrule refuses what would be ambiguous).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from oracle import assert_close

from chainrule import Tensor, cat, no_grad, stack

EXACT = {"rtol": 1e-12, "atol": 1e-15}


# -- axis=(): NumPy reduces over no axis, PyTorch over every axis -------------------------------------------
AXIS_TAKERS = {
    "sum": (lambda t, axis: t.sum(axis=axis), lambda torch, t, dim: t.sum(dim=dim)),
    "mean": (lambda t, axis: t.mean(axis=axis), lambda torch, t, dim: t.mean(dim=dim)),
    "max": (lambda t, axis: t.max(axis=axis), lambda torch, t, dim: t.amax(dim=dim)),
    "min": (lambda t, axis: t.min(axis=axis), lambda torch, t, dim: t.amin(dim=dim)),
    "var": (lambda t, axis: t.var(axis=axis), lambda torch, t, dim: t.var(dim=dim)),
    "std": (lambda t, axis: t.std(axis=axis), lambda torch, t, dim: t.std(dim=dim)),
}


@pytest.mark.parametrize("name", AXIS_TAKERS)
@pytest.mark.parametrize("empty", [(), []])
def test_an_empty_axis_tuple_is_refused_where_numpy_and_pytorch_disagree_on_it(torch, name, empty):
    ours, theirs = AXIS_TAKERS[name]
    numbers = np.array([[1.0, 2.0, 4.0], [0.5, 3.0, -1.0]])
    # PyTorch reduces every axis for dim=(): the number chainrule would have to give to agree with it...
    assert_close(theirs(torch, torch.tensor(numbers), empty), ours(Tensor(numbers), None).data, **EXACT)
    # ...where NumPy (whose axis= chainrule takes) reduces none. Either answer is wrong for someone: an error.
    refused = rf"^{name}: axis {re.escape(repr(empty))} names no axis .*PyTorch over all.*axis=None"
    with pytest.raises(ValueError, match=refused):
        ours(Tensor(numbers, requires_grad=True), empty)


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_over_an_empty_axis_tuple_is_refused_not_all_ones(op):
    with pytest.raises(ValueError, match=rf"^{op}: axis \(\) names no axis"):
        getattr(Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True), op)(axis=())


@pytest.mark.parametrize("join", [cat, stack])
@pytest.mark.parametrize("axis", [(), (0,), (0, 1), [0]])
def test_cat_and_stack_take_one_int_axis_as_pytorch_does(torch, join, axis):
    a = Tensor(np.ones((2, 3)))
    with pytest.raises(TypeError, match=rf"^{join.__name__}: axis must be an int, got "):
        join([a, a], axis=axis)
    with pytest.raises(TypeError):
        getattr(torch, join.__name__)([torch.ones(2, 3)] * 2, dim=tuple(axis))


# -- empty tensors ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape, axis", [((3, 0), -1), ((3, 0), 0), ((0, 3), -1), ((0,), 0), ((2, 0, 4), 1)])
def test_softmax_of_an_empty_tensor_is_empty_with_an_empty_gradient_like_torch(torch, op, shape, axis):
    x = Tensor(np.zeros(shape), requires_grad=True)
    tx = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
    out, theirs = getattr(x, op)(axis=axis), getattr(tx, op)(dim=axis)
    assert_close(out.data, theirs, **EXACT)
    out.sum().backward()
    theirs.sum().backward()
    assert_close(x.grad, tx.grad, **EXACT, what="gradient")


REDUCTIONS = {
    "sum": (lambda t, axis: t.sum(axis=axis), lambda torch, t, dim: t.sum(dim=dim)),
    "mean": (lambda t, axis: t.mean(axis=axis), lambda torch, t, dim: t.mean(dim=dim)),
    "max": (lambda t, axis: t.max(axis=axis), lambda torch, t, dim: t.amax(dim=dim)),
    "min": (lambda t, axis: t.min(axis=axis), lambda torch, t, dim: t.amin(dim=dim)),
}


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("shape, axis", [((3, 0), 0), ((0, 4, 2), (1, 2)), ((2, 0, 3), -1)])
def test_reducing_axes_that_hold_entries_of_an_empty_tensor_gives_an_empty_result_like_torch(torch, name, shape, axis):
    ours, theirs = REDUCTIONS[name]
    x = Tensor(np.zeros(shape), requires_grad=True)
    tx = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
    out, expected = ours(x, axis), theirs(torch, tx, axis)
    assert_close(out.data, expected, **EXACT)
    out.sum().backward()
    expected.sum().backward()
    assert_close(x.grad, tx.grad, **EXACT, what="gradient")


@pytest.mark.parametrize("name", ["mean", "max", "min"])
def test_reducing_an_axis_with_no_entries_is_still_an_error_naming_the_shape(name):
    # PyTorch gives NaN for mean (and refuses max and min): chainrule raises rather than average nothing
    with pytest.raises(ValueError, match=rf"^{name}: cannot .* no entries: axis 1 of shape \(3, 0\) is empty"):
        REDUCTIONS[name][0](Tensor(np.zeros((3, 0))), 1)


# -- NaN and overflow ---------------------------------------------------------------------------------------
def test_abs_passes_no_gradient_at_nan_as_torch(torch):
    numbers = [np.nan, 0.0, -2.0, 3.0]
    x = Tensor(numbers, requires_grad=True)
    tx = torch.tensor(numbers, dtype=torch.float64, requires_grad=True)
    out, theirs = x.abs(), tx.abs()
    assert_close(out.data, theirs, **EXACT)
    weights = [1.5, -1.0, 2.0, 0.5]
    (out * Tensor(weights)).sum().backward()
    (theirs * torch.tensor(weights, dtype=torch.float64)).sum().backward()
    assert_close(x.grad, tx.grad, **EXACT, what="gradient")  # [0, 0, -2, 0.5]: torch's sign(NaN) is 0
    assert_close(Tensor(np.nan, requires_grad=True).abs().data, np.nan, **EXACT)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_exp_overflow_is_an_error_even_beside_a_nan(dtype):
    # Without the NaN this raises; the NaN must not hide the overflow (the largest entry of [nan, 1000] is nan)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(OverflowError, match=r"exp: .*1000\.0"):
            Tensor(np.array([np.nan, 1000.0, 0.0], dtype=dtype)).exp()
        out = Tensor(np.array([np.nan, 1.0], dtype=dtype)).exp()  # a NaN alone flows through, as in torch
    assert np.isnan(out.data[0]) and out.data[1] == np.exp(dtype(1.0))


@pytest.mark.parametrize("shape, axis, keepdims", [((3, 0), 0, False), ((3, 0), 0, True), ((0, 2, 0), 1, False)])
def test_argmax_along_an_axis_with_entries_of_an_empty_tensor_is_empty_like_torch(torch, shape, axis, keepdims):
    ours = Tensor(np.zeros(shape)).argmax(axis=axis, keepdims=keepdims)
    expected = torch.zeros(shape).argmax(dim=axis, keepdim=keepdims)
    assert ours.dtype == np.int64 and ours.shape == tuple(expected.shape)
    with pytest.raises(ValueError, match=r"^argmax: cannot take the argmax of no entries: axis 1 of shape \(3, 0\)"):
        Tensor(np.zeros((3, 0))).argmax(axis=1)
    with pytest.raises(IndexError):
        torch.zeros(3, 0).argmax(dim=1)


# -- in-place operators: PyTorch's manual update, `with no_grad(): p -= lr * p.grad` ------------------------
@pytest.mark.parametrize("symbol", ["+=", "-=", "*=", "/=", "**="])
def test_a_manual_update_under_no_grad_changes_the_parameter_itself_as_in_torch(torch, symbol):
    start = np.array([[1.0, 2.0], [3.0, 0.5]])
    ours = [Tensor(start, requires_grad=True)]
    theirs = [torch.tensor(start, requires_grad=True)]
    # (an exponent is one number: chainrule's ** takes no array of exponents)
    amount = "1.5" if symbol == "**=" else "0.25 * p.grad + 1.0"
    for _ in range(2):
        (ours[0] * ours[0] * ours[0]).sum().backward()
        (theirs[0] * theirs[0] * theirs[0]).sum().backward()
        with no_grad():
            for p in ours:  # the name p is rebound by `p -= ...` unless the operator changes p itself
                exec(f"p {symbol} {amount}", {"p": p})
        with torch.no_grad():
            for p in theirs:
                exec(f"p {symbol} {amount}", {"p": p})
    assert_close(ours[0].data, theirs[0], **EXACT)
    assert ours[0].requires_grad and not ours[0]._prev  # still the leaf the list holds


def test_in_place_operators_on_tensors_without_grad_change_them_and_keep_graphs_numbers(torch):
    t = Tensor(np.float32([1.0, 2.0, 3.0]))
    alias = t
    t += np.array([0.1, 0.2, 0.3])  # float64 numbers, added in t's float32 as torch's in-place add keeps its dtype
    t *= 2
    expected = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float32)
    expected += torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64)
    expected *= 2
    assert alias is t and t.dtype == np.float32
    assert_close(t.data, expected, rtol=0.0)
    # a graph that used t keeps the numbers it saw (copy on write), as it does for t.data += 1
    w = Tensor([1.0, 1.0, 1.0], requires_grad=True)
    (w * t).sum().backward()
    before = t.data.copy()
    w.grad = None
    y = (w * t).sum()
    t -= 100.0
    y.backward()
    assert_close(w.grad, before, rtol=0.0)
    assert_close(t.data, before - 100.0, rtol=0.0)


def test_in_place_operators_refuse_what_torch_refuses():
    w = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"^-=: .*leaf that requires grad.*no_grad"):
        w -= 1.0
    with pytest.raises(ValueError, match=r"^\+=: .*shape \(2, 2\).*keeps the shape \(2,\)"):
        with no_grad():
            w += np.ones((2, 2))
    with pytest.raises(ZeroDivisionError):
        with no_grad():
            w /= 0.0
    assert w.tolist() == [1.0, 2.0]
    # an interior node of a graph being built is replaced by the result (t = t + 1), recorded as usual
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 3.0
    h += x * x
    h.sum().backward()
    assert x.grad.tolist() == [5.0, 7.0]


# -- transpose(0, 1) of a matrix: NumPy keeps the axes, PyTorch swaps them ---------------------------------
@pytest.mark.parametrize("axes", [(0, 1), (-2, -1), (0, -1), ((0, 1),)])
def test_transpose_0_1_of_a_matrix_is_refused_where_numpy_and_pytorch_disagree(torch, axes):
    numbers = np.arange(6.0).reshape(2, 3)
    # PyTorch swaps the two axes...
    assert tuple(torch.tensor(numbers).transpose(0, 1).shape) == (3, 2)
    # ...where NumPy's reading (chainrule's axes are NumPy's permutation) keeps them: an error, never either
    with pytest.raises(ValueError, match=r"^transpose: axes .* keep both axes .* swap them as PyTorch .* t\.T"):
        Tensor(numbers, requires_grad=True).transpose(*axes)


@pytest.mark.parametrize("axes", [(), ((1, 0),), (1, 0), (-1, 0)])
def test_transpose_that_swaps_a_matrix_matches_torch(torch, axes):
    numbers = np.arange(6.0).reshape(2, 3)
    x, tx = Tensor(numbers, requires_grad=True), torch.tensor(numbers, requires_grad=True)
    out, theirs = x.transpose(*axes), tx.transpose(0, 1)
    assert_close(out.data, theirs, **EXACT)
    weights = np.arange(6.0).reshape(3, 2) + 1.0
    (out * Tensor(weights)).sum().backward()
    (theirs * torch.tensor(weights)).sum().backward()
    assert_close(x.grad, tx.grad, **EXACT, what="gradient")
