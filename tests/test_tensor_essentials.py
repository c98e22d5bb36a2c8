"""The Tensor essentials a PyTorch user reaches for (makemore's lectures use each): their float32 numbers
and gradients, the answers that are not in the graph (argmax, comparisons, float/int/tolist, one_hot),
the dtype a Tensor keeps, and the errors of cat, stack, var, std, view and flatten. Each against torch.

The float64 values, gradients, gradcheck and second derivatives of the differentiable ones are in the
table of operations (``op_table.py``, checked in ``test_ops.py``).
"""

from __future__ import annotations

import numpy as np
import pytest
from oracle import assert_close

import chainrule
from chainrule import Tensor, cat, one_hot, stack
from chainrule.indices import ClassIndexError

F32 = {"rtol": 1e-5, "atol": 1e-6}


# -- float32: the new operations keep float32 and agree with torch's float32 ------------------------------
FLOAT32_CASES = {
    "sqrt": (lambda a: a.sqrt(), lambda torch, a: a.sqrt()),
    "clamp": (lambda a: a.clamp(-0.5, 1.0), lambda torch, a: a.clamp(-0.5, 1.0)),
    "clamp(min=0)": (lambda a: a.clamp(min=0.0), lambda torch, a: a.clamp(min=0.0)),
    "min(axis=0)": (lambda a: a.min(axis=0), lambda torch, a: a.amin(dim=0)),
    "var(axis=1)": (lambda a: a.var(axis=1), lambda torch, a: a.var(dim=1)),
    "std": (lambda a: a.std(), lambda torch, a: a.std()),
    "std(axis=0, correction=0)": (lambda a: a.std(axis=0, correction=0), lambda torch, a: a.std(dim=0, correction=0)),
    "view": (lambda a: a.view(2, 10), lambda torch, a: a.view(2, 10)),
    "flatten": (lambda a: a.flatten(), lambda torch, a: a.flatten()),
    "cat": (lambda a: cat([a, a * 2.0], axis=1), lambda torch, a: torch.cat([a, a * 2.0], dim=1)),
    "stack": (lambda a: stack([a, a.sqrt()], axis=-1), lambda torch, a: torch.stack([a, a.sqrt()], dim=-1)),
}


@pytest.mark.parametrize("name", FLOAT32_CASES)
def test_operation_in_float32_keeps_float32_and_matches_torch_float32(torch, name):
    ours, theirs = FLOAT32_CASES[name]
    numbers = np.random.default_rng(3).uniform(0.1, 2.0, (5, 4)).astype(np.float32)
    upstream = np.random.default_rng(4).standard_normal(ours(Tensor(numbers)).shape).astype(np.float32)
    a = Tensor(numbers, requires_grad=True)
    out = ours(a)
    (out * upstream).sum().backward()
    ta = torch.tensor(numbers, requires_grad=True)
    expected = theirs(torch, ta)
    (expected * torch.tensor(upstream)).sum().backward()
    assert a.dtype == out.dtype == a.grad.dtype == np.float32 and expected.dtype == torch.float32
    assert_close(out.data, expected, **F32, what=f"{name} value")
    assert_close(a.grad, ta.grad, **F32, what=f"{name} gradient")


# -- the embedding lookup C[X]: every pick of a row adds its share to that row's gradient -----------------
def test_embedding_lookup_scatter_adds_the_gradient_of_repeated_rows_like_torch(torch):
    rng = np.random.default_rng(0)
    C_numbers, W_numbers = rng.standard_normal((27, 10)), rng.standard_normal((30, 5))
    X = rng.integers(0, 27, (32, 3))
    X[:4] = 5  # row 5 picked 12 times, several times within one example
    assert len(np.unique(X)) < X.size
    C, W = Tensor(C_numbers, requires_grad=True), Tensor(W_numbers, requires_grad=True)
    loss = (C[X].view(32, 30) @ W).tanh().sum()
    loss.backward()
    tC, tW = torch.tensor(C_numbers, requires_grad=True), torch.tensor(W_numbers, requires_grad=True)
    expected = (tC[torch.tensor(X)].view(32, 30) @ tW).tanh().sum()
    expected.backward()
    assert_close(loss.item(), expected, rtol=1e-12)
    assert_close(C.grad, tC.grad, rtol=1e-10, atol=1e-12, what="C.grad")
    assert_close(W.grad, tW.grad, rtol=1e-10, atol=1e-12, what="W.grad")
    assert np.count_nonzero(C.grad.any(axis=1)) == len(np.unique(X))  # rows never picked get 0


@pytest.mark.parametrize("as_tensor", ["alone", "in a tuple"])
def test_a_tensor_of_whole_numbers_indexes_as_torch_integer_tensors_do(torch, as_tensor):
    # chainrule's Tensors hold floats, so a Tensor of whole numbers stands in for PyTorch's int64 tensor
    rng = np.random.default_rng(1)
    numbers, rows = rng.standard_normal((6, 4)), np.array([[1, 5], [5, -1]])
    x, tx = Tensor(numbers, requires_grad=True), torch.tensor(numbers, requires_grad=True)
    if as_tensor == "alone":
        ours, theirs = x[Tensor(rows)], tx[torch.tensor(rows)]
    else:
        ours, theirs = x[Tensor(rows), 2], tx[torch.tensor(rows), 2]
    (ours * ours).sum().backward()
    (theirs * theirs).sum().backward()
    assert_close(ours.data, theirs, rtol=0, what="value")
    assert_close(x.grad, tx.grad, rtol=1e-15, what="gradient")  # row 5 picked twice: both shares


@pytest.mark.parametrize(
    "index, error, match",
    [
        (
            Tensor([1.5]),
            IndexError,
            r"^index: a Tensor used as an index must hold whole numbers \(integer indices\), got 1\.5",
        ),
        ((Tensor([np.nan]), 0), IndexError, r"^index: a Tensor used as an index must hold whole numbers .*got nan"),
        (Tensor([1.0], requires_grad=True), ValueError, r"^index: a Tensor used as an index must not require grad"),
        (Tensor([6.0]), IndexError, r"^index: index 6 is out of bounds for axis 0 with size 6"),
        (Tensor([-1e300]), IndexError, r"^index: 1e\+300 is out of bounds for a Tensor of shape \(6, 2\)$"),
    ],
)
def test_a_tensor_index_that_is_no_index_names_what_is_wrong(index, error, match):
    with pytest.raises(error, match=match):
        Tensor(np.zeros((6, 2)))[index]


# -- answers without a gradient ----------------------------------------------------------------------------
ARGMAX_DATA = np.array([[1.0, 5.0, 5.0, -2.0], [7.0, 0.0, 7.0, 3.0], [np.nan, 1.0, 2.0, np.nan]])


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_argmax_matches_torch_with_ties_and_nan(torch, axis, keepdims):
    ours = Tensor(ARGMAX_DATA).argmax(axis=axis, keepdims=keepdims)
    expected = torch.tensor(ARGMAX_DATA).argmax(dim=axis, keepdim=keepdims)
    assert type(ours) is np.ndarray and ours.dtype == np.int64
    assert ours.shape == tuple(expected.shape) and ours.tolist() == expected.tolist()


def test_argmax_errors():
    with pytest.raises(ValueError, match=r"argmax: cannot take the argmax of an empty Tensor of shape \(0,\)"):
        Tensor(np.zeros(0)).argmax()
    with pytest.raises(ValueError, match=r"argmax: axis 2 is out of range"):
        Tensor(np.zeros((2, 2))).argmax(axis=2)
    with pytest.raises(TypeError, match=r"argmax: axis must be an int or None"):
        Tensor(np.zeros((2, 2))).argmax(axis=(0, 1))


OTHERS = {
    "number": 2.0,
    "int": 3,
    "array": np.array([2.0, 0.0, 3.0]),
    "list": [[1.0], [2.0]],
    "Tensor": Tensor([[2.0, 2.0, -1.0]]),
}


@pytest.mark.parametrize("which", OTHERS)
@pytest.mark.parametrize("compare", ["<", "<=", ">", ">=", "==", "!="])
def test_comparisons_are_elementwise_boolean_arrays_as_in_torch(torch, which, compare):
    numbers = np.array([[1.0, 2.0, 3.0], [2.0, -1.0, np.nan]])
    other = OTHERS[which]
    torch_other = other if isinstance(other, (int, float)) else torch.tensor(np.asarray(other))
    ours = eval(f"t {compare} o", {"t": Tensor(numbers), "o": other})
    reflected = eval(f"o {compare} t", {"t": Tensor(numbers), "o": other})
    expected = eval(f"t {compare} o", {"t": torch.tensor(numbers), "o": torch_other})
    expected_reflected = eval(f"o {compare} t", {"t": torch.tensor(numbers), "o": torch_other})
    assert type(ours) is np.ndarray and ours.dtype == bool
    assert ours.tolist() == expected.tolist() and reflected.tolist() == expected_reflected.tolist()


def test_comparisons_leave_tensors_hashable_by_identity():
    a, b = Tensor([1.0, 2.0]), Tensor([1.0, 2.0])
    assert (a == b).tolist() == [True, True]
    assert hash(a) != hash(b) and len({a, b}) == 2 and {a: 1, b: 2}[b] == 2
    assert a in [a] and [a, b].index(a) == 0  # identity is tried first, as for torch tensors
    with pytest.raises(ValueError, match="ambiguous"):
        [b, a].index(a)  # then ==, elementwise (torch raises too): look tensors up by `is` or id()
    assert (a == None) is False and (a != "text") is True  # noqa: E711 (what `==` answers for a non-number)
    with pytest.raises(ValueError, match=r"<: shapes \(2,\) and \(3,\) cannot be broadcast"):
        a < Tensor([1.0, 2.0, 3.0])  # noqa: B015


def test_float_int_item_and_tolist_match_torch(torch):
    for numbers in (2.75, -2.75, [[0.5]], [7.0]):
        ours, theirs = Tensor(numbers), torch.tensor(numbers)
        assert float(ours) == float(theirs) and int(ours) == int(theirs) and ours.item() == theirs.item()
        assert type(float(ours)) is float and type(int(ours)) is int
    for numbers in ([[1.0, 2.5], [3.0, -4.0]], 3.5, [], [[1.0]]):
        assert Tensor(numbers).tolist() == torch.tensor(numbers, dtype=torch.float64).tolist()
    for convert in (float, int):
        with pytest.raises(ValueError, match=rf"{convert.__name__}: only a one-element Tensor .* shape \(2,\)"):
            convert(Tensor([1.0, 2.0]))


@pytest.mark.parametrize(
    "indices, num_classes",
    [([0, 2, 1, 2], None), ([[3], [0]], 5), (np.array([[1, 0], [0, 1]]), 2), (4, None), (np.zeros(0, int), 3)],
)
def test_one_hot_matches_torch(torch, indices, num_classes):
    ours = one_hot(indices, num_classes)
    expected = torch.nn.functional.one_hot(torch.as_tensor(indices, dtype=torch.int64), num_classes or -1)
    assert isinstance(ours, Tensor) and ours.dtype == np.float64 and not ours.requires_grad
    assert ours.shape == tuple(expected.shape) and ours.tolist() == expected.double().tolist()


def test_one_hot_checks_indices_as_cross_entropy_does_and_takes_a_dtype():
    assert one_hot(Tensor([2.0, 0.0]), 3, dtype=np.float32).dtype == np.float32  # a Tensor of whole numbers
    assert one_hot(Tensor([2.0, 0.0]), 3).tolist() == [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    assert one_hot(iter([1, 0])).tolist() == [[0.0, 1.0], [1.0, 0.0]]
    assert chainrule.one_hot is one_hot and {"cat", "stack", "one_hot"} <= set(dir(chainrule))
    with pytest.raises(ClassIndexError, match=r"one_hot: indices must lie in \[0, 2\], got values from -1 to 3"):
        one_hot([0, 3, -1], 3)
    with pytest.raises(ClassIndexError, match=r"one_hot: indices must be >= 0, got -2"):
        one_hot(iter([0, -2]))
    with pytest.raises(
        TypeError, match=r"one_hot: indices must hold whole numbers \(integer class indices\), got 1\.5"
    ):
        one_hot(Tensor([0.0, 1.5]))
    with pytest.raises(TypeError, match=r"one_hot: indices must be integer class indices, got dtype float64"):
        one_hot([0.0, 1.0])  # floats in a list: refused, as torch refuses a float tensor
    with pytest.raises(ValueError, match=r"one_hot: cannot infer num_classes from no indices"):
        one_hot(np.zeros(0, dtype=int))
    for bad in (2.5, -1, True):
        with pytest.raises(ValueError, match=rf"one_hot: num_classes must be an int >= 0 or None, got {bad}"):
            one_hot([0], bad)


# -- the dtype a Tensor keeps -------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_a_float_array_or_tensor_keeps_its_dtype_as_in_torch(torch, dtype):
    array = np.array([1.5, -2.0], dtype=dtype)
    assert Tensor(array).dtype == dtype and Tensor(Tensor(array)).dtype == dtype
    assert Tensor(array[0]).dtype == dtype  # a NumPy scalar too
    assert str(torch.tensor(array).dtype) == f"torch.{np.dtype(dtype).name}"
    assert (Tensor(array) * 2 + 1.5).dtype == dtype  # numbers take the Tensor's dtype


def test_numbers_lists_and_integer_arrays_become_float64_and_an_explicit_dtype_wins():
    assert Tensor(1).dtype == Tensor([1, 2]).dtype == Tensor(np.arange(3)).dtype == np.float64
    assert Tensor(np.array([True])).dtype == np.float64
    assert Tensor(np.ones(2, np.float32), dtype=np.float64).dtype == np.float64
    assert Tensor(np.ones(2), dtype=np.float32).dtype == np.float32
    assert Tensor(Tensor(np.ones(2, np.float32)), dtype="float16").dtype == np.float16


# -- errors ------------------------------------------------------------------------------------------------
def test_cat_and_stack_errors_name_the_shapes():
    a, b = Tensor(np.ones((2, 3))), Tensor(np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"cat: expected a non-empty list of Tensors, got an empty one"):
        cat([])
    with pytest.raises(TypeError, match=r"stack: expected a list or tuple of Tensors, got Tensor"):
        stack(a)
    with pytest.raises(ValueError, match=r"cat: tensor 1 has shape \(2, 4\) but tensor 0 has shape \(2, 3\).*axis 0"):
        cat([a, b])
    with pytest.raises(ValueError, match=r"cat: tensor 1 has shape \(3,\) but tensor 0 has shape \(2, 3\)"):
        cat([a, Tensor(np.ones(3))])
    with pytest.raises(ValueError, match=r"cat: tensor 0 is 0-d .* use stack"):
        cat([Tensor(1.0), Tensor(2.0)])
    with pytest.raises(ValueError, match=r"cat: axis 2 is out of range"):
        cat([a, a], axis=2)
    with pytest.raises(ValueError, match=r"stack: tensor 1 has shape \(2, 4\) but tensor 0 has shape \(2, 3\)"):
        stack([a, b])
    with pytest.raises(ValueError, match=r"stack: axis 3 is out of range"):
        stack([a, a], axis=3)
    with pytest.raises(TypeError, match=r"cat \(tensor 1\): expected real numbers"):
        cat([a, [["x", "y", "z"]]])


def test_cat_and_stack_lift_numbers_and_arrays_as_constants(torch):
    a = Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    joined = cat([a, [[5.0, 6.0, 7.0]], np.zeros((1, 3))])
    assert (
        joined.dtype == np.float32
        and joined.tolist()
        == torch.cat([torch.ones(2, 3), torch.tensor([[5.0, 6.0, 7.0]]), torch.zeros(1, 3)]).tolist()
    )
    joined.sum().backward()
    assert a.grad.tolist() == [[1.0] * 3] * 2
    assert stack([1.0, Tensor(2.0), 3]).tolist() == [1.0, 2.0, 3.0]
    assert stack([np.ones(2), np.zeros(2)]).dtype == np.float64


def test_var_and_std_refuse_too_few_entries_for_the_correction():
    x = Tensor(np.ones((1, 4)))
    with pytest.raises(
        ValueError, match=r"var: 1 entry over axis 0 of shape \(1, 4\) with correction=1 .*correction=0"
    ):
        x.var(axis=0)
    with pytest.raises(ValueError, match=r"std: 4 entries over the whole tensor of shape \(1, 4\) with correction=4"):
        x.std(correction=4)
    with pytest.raises(ValueError, match=r"var: correction must be >= 0, got -1"):
        x.var(correction=-1)
    with pytest.raises(TypeError, match=r"std: correction must be a number"):
        x.std(correction=True)
    assert x.var(axis=0, correction=0).tolist() == [0.0] * 4  # the population variance of one entry


def test_sqrt_and_clamp_errors():
    with pytest.raises(ValueError, match=r"sqrt: input must be >= 0, got \[-1\.0\] \(1 value\) at index \(1,\)"):
        Tensor([4.0, -1.0]).sqrt()
    with pytest.raises(ValueError, match=r"clamp: min and max are both None"):
        Tensor([1.0]).clamp()
    with pytest.raises(ValueError, match=r"clamp: min \(2\.0\) is greater than max \(1\.0\)"):
        Tensor([1.0]).clamp(2, 1)
    with pytest.raises(TypeError, match=r"clamp: max must be a number or None"):
        Tensor([1.0]).clamp(max=Tensor([1.0]))


def test_min_max_and_std_gradients_at_ties_and_zero_spread_match_torch(torch):
    numbers = np.array([[1.0, 1.0, 3.0], [2.0, 2.0, 2.0]])
    for name in ("min", "std"):
        x, tx = Tensor(numbers, requires_grad=True), torch.tensor(numbers, requires_grad=True)
        getattr(x, name)(axis=1).sum().backward()
        (tx.amin(dim=1) if name == "min" else tx.std(dim=1)).sum().backward()
        assert_close(x.grad, tx.grad, rtol=1e-12, what=f"{name} gradient")


# -- view and flatten ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("dims", [(), (1,), (0, 1), (-2, -1), (2, 2), (0, -1)])
def test_flatten_matches_torch(torch, dims):
    numbers = np.arange(24.0).reshape(2, 3, 4)
    assert Tensor(numbers).flatten(*dims).tolist() == torch.tensor(numbers).flatten(*dims).tolist()
    assert Tensor(5.0).flatten().shape == tuple(torch.tensor(5.0).flatten().shape) == (1,)


def test_view_copies_where_torch_would_refuse_and_flatten_errors(torch):
    numbers = np.arange(6.0).reshape(2, 3)
    transposed = Tensor(numbers).T
    assert transposed.view(6).tolist() == torch.tensor(numbers).T.reshape(6).tolist()
    with pytest.raises(RuntimeError):
        torch.tensor(numbers).T.view(6)  # torch refuses; chainrule's view copies, as reshape does
    assert Tensor(numbers).view((3, 2)).shape == Tensor(numbers).view(-1, 2).shape == (3, 2)
    with pytest.raises(ValueError, match=r"reshape: cannot reshape shape \(2, 3\) \(6 entries\) into \(4, 2\)"):
        Tensor(numbers).view(4, 2)
    with pytest.raises(ValueError, match=r"flatten: start_dim=1 comes after end_dim=0 for shape \(2, 3\)"):
        Tensor(numbers).flatten(1, 0)
    with pytest.raises(ValueError, match=r"flatten: end_dim=2 is out of range for shape \(2, 3\)"):
        Tensor(numbers).flatten(0, 2)
    with pytest.raises(TypeError, match=r"flatten: start_dim must be an int"):
        Tensor(numbers).flatten(0.5)


def test_truth_value_is_the_one_numbers_or_an_error_as_in_pytorch(torch):
    for numbers in ([0.0], [[2.5]], -1.0, 0.0, [float("nan")]):
        assert bool(Tensor(numbers)) == bool(torch.tensor(numbers))
    for numbers in ([1.0, 2.0], [[0.0], [0.0]], []):
        with pytest.raises(ValueError, match=r"^bool: a Tensor of shape .* has no one truth value; say which you mean"):
            bool(Tensor(numbers))
        with pytest.raises(RuntimeError):
            bool(torch.tensor(numbers))


def test_an_axis_out_of_range_is_the_index_error_pytorch_raises_and_a_value_error(torch):
    t = Tensor(np.zeros((2, 3)))
    for attempt in (lambda: t.sum(axis=2), lambda: t.flatten(0, 5), lambda: t.softmax(axis=-3)):
        with pytest.raises(IndexError, match="out of range") as caught:
            attempt()
        assert isinstance(caught.value, ValueError)
    with pytest.raises(IndexError):
        torch.zeros((2, 3)).sum(dim=2)
