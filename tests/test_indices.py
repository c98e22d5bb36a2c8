"""One rule for class indices (``chainrule.indices.class_indices``), the same in every operation that takes
them: ``cross_entropy``, ``accuracy`` and ``Embedding``. PyTorch is the oracle for what it has an opinion on:
int64 indices are taken, float indices refused, an index out of range is an IndexError."""

from __future__ import annotations

import math

import numpy as np
import pytest

from chainrule import Tensor
from chainrule.indices import ClassIndexError, class_indices
from chainrule.losses import accuracy, cross_entropy
from chainrule.nn import Embedding

# Each operation with 3 classes (rows) and 2 examples, and the name its errors start with.
OPERATIONS = {
    "cross_entropy": (lambda ix: cross_entropy(Tensor(np.zeros((2, 3))), ix), r"cross_entropy: targets"),
    "accuracy": (lambda ix: accuracy(np.zeros((2, 3)), ix), r"accuracy: targets"),
    "Embedding": (lambda ix: Embedding(3, 2, rng=0)(ix), r"Embedding\(3, 2\): indices"),
}


def _torch_twins(torch):
    """PyTorch's two operations that take class indices, with 3 classes and 2 examples."""
    return {
        "cross_entropy": lambda ix: torch.nn.functional.cross_entropy(torch.zeros(2, 3), ix),
        "Embedding": lambda ix: torch.nn.Embedding(3, 2)(ix),
    }


TAKEN = [
    np.array([0, 2]),
    [0, 2],
    (0, 2),
    np.array([0, 2], dtype=np.uint8),
    np.array([0, 2], dtype=np.int32),
    Tensor([0.0, 2.0]),  # a Tensor holds floats: whole ones stand for PyTorch's int64
    Tensor(np.array([0.0, 2.0], dtype=np.float32)),
]


@pytest.mark.parametrize("name", OPERATIONS)
@pytest.mark.parametrize("indices", TAKEN, ids=lambda x: type(x).__name__ + str(getattr(x, "dtype", "")))
def test_every_operation_takes_the_same_indices(name, indices):
    run, _ = OPERATIONS[name]
    expected = run(np.array([0, 2]))
    got = run(indices)
    assert np.array_equal(getattr(got, "data", got), getattr(expected, "data", expected))


REFUSED = [
    (None, TypeError, r" are None; pass integer class indices"),
    (np.array([0.0, 2.0]), TypeError, r" must be integer class indices, got dtype float64; convert them"),
    ([0.0, 2.0], TypeError, r" must be integer class indices, got dtype float64"),
    (np.array([True, False]), TypeError, r" must be integer class indices, got dtype bool"),
    (["a", "b"], TypeError, r" must be integer class indices, got dtype <U1"),
    (
        Tensor([0.0, 1.5]),
        TypeError,
        r" must hold whole numbers \(integer class indices\), got 1\.5 in a Tensor of dtype float64",
    ),
    (Tensor([math.nan, 1.0]), TypeError, r" must hold whole numbers \(integer class indices\), got nan in a Tensor"),
    (
        Tensor([0.0, 1.0], requires_grad=True),
        ValueError,
        r" must not require grad \(indices are constants, with no gradient to follow\)",
    ),
    (np.array([0, 3]), ClassIndexError, r" must lie in \[0, 2\], got values from 0 to 3$"),
    ([-1, 0], ClassIndexError, r" must lie in \[0, 2\], got values from -1 to 0$"),
    (Tensor([4.0, 1.0]), ClassIndexError, r" must lie in \[0, 2\], got values from 1 to 4$"),
    (np.array([0, 2**64 - 1], dtype=np.uint64), ClassIndexError, r" must lie in \[0, 2\], got values from 0 to 1844"),
    (Tensor([0.0, 1e300]), ClassIndexError, r" must lie in \[0, 2\], got values from 0 to 1000000000000000052504760"),
]


@pytest.mark.parametrize("name", OPERATIONS)
@pytest.mark.parametrize("indices, error, match", REFUSED)
def test_every_operation_refuses_the_same_indices_with_the_same_words(name, indices, error, match):
    run, start = OPERATIONS[name]
    with pytest.raises(error, match="^" + start + match):
        run(indices)


def test_an_index_out_of_range_is_an_index_error_as_in_pytorch_and_a_value_error_as_in_the_scalar_engine(torch):
    assert issubclass(ClassIndexError, IndexError) and issubclass(ClassIndexError, ValueError)
    with pytest.raises(ValueError, match=r"^cross_entropy: target 3 is out of range for 3 classes"):
        cross_entropy([0.0, 0.0, 0.0], 3)  # the scalar engine
    for name, theirs in _torch_twins(torch).items():
        with pytest.raises(IndexError):
            theirs(torch.tensor([0, 3]))
        with pytest.raises(IndexError):
            OPERATIONS[name][0](np.array([0, 3]))


def test_pytorch_takes_int64_indices_and_refuses_float_ones_as_chainrule_does(torch):
    for name, theirs in _torch_twins(torch).items():
        theirs(torch.tensor([0, 2]))  # taken
        with pytest.raises(RuntimeError):
            theirs(torch.tensor([0.0, 2.0]))
        with pytest.raises(TypeError):
            OPERATIONS[name][0](np.array([0.0, 2.0]))


def test_class_indices_keeps_the_shape_and_gives_int64():
    out = class_indices(Tensor([[1.0, 0.0], [2.0, 2.0]]), 3, "op")
    assert out.dtype == np.int64 and out.shape == (2, 2) and out.tolist() == [[1, 0], [2, 2]]
    assert class_indices(np.int32(2), 3, "op").shape == ()
    assert class_indices(iter([0, 2]), 3, "op").tolist() == [0, 2]  # a generator's items, not one object
    assert class_indices(np.zeros(0, dtype=int), 3, "op").shape == (0,)  # no indices: nothing out of range
