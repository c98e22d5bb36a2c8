"""``cross_entropy`` with a Tensor of targets, and the multi-class ``accuracy``, against PyTorch float64."""

from __future__ import annotations

import numpy as np
import pytest
from oracle import assert_close

from chainrule import Tensor
from chainrule.losses import accuracy, accuracy_from_scores, cross_entropy

RNG = np.random.default_rng(5)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_takes_a_tensor_of_whole_numbers_as_targets(torch, reduction):
    logits = RNG.standard_normal((6, 4))
    targets = np.array([0, 3, 3, 1, 2, 0])
    ours = Tensor(logits, requires_grad=True)
    loss = cross_entropy(ours, Tensor(targets), reduction=reduction)
    same = cross_entropy(Tensor(logits), targets, reduction=reduction)
    theirs = torch.tensor(logits, requires_grad=True)
    expected = torch.nn.functional.cross_entropy(theirs, torch.tensor(targets), reduction=reduction)
    assert loss.data == same.data  # the numbers of the int-array form, exactly
    assert_close(loss.data, expected, 1e-12)
    loss.backward()
    expected.backward()
    assert_close(ours.grad, theirs.grad, 1e-12, 1e-15)
    one = cross_entropy(Tensor(logits[0]), Tensor(np.array(0.0)))  # one example, one target, as in PyTorch
    assert_close(one.data, torch.nn.functional.cross_entropy(torch.tensor(logits[0]), torch.tensor(0)), 1e-12)


def test_cross_entropy_refuses_a_tensor_of_fractions_or_one_that_requires_grad():
    with pytest.raises(
        TypeError,
        match=r"^cross_entropy: targets must hold whole numbers \(integer class indices\), got .* dtype float64",
    ):
        cross_entropy(Tensor(np.zeros((2, 3))), Tensor([1.0, 0.5]))
    with pytest.raises(ValueError, match=r"^cross_entropy: targets must not require grad \(indices are constants"):
        cross_entropy(Tensor(np.zeros((2, 3))), Tensor([1.0, 0.0], requires_grad=True))
    with pytest.raises(ValueError, match=r"^cross_entropy: targets must lie in \[0, 2\]"):
        cross_entropy(Tensor(np.zeros((2, 3))), Tensor([1.0, 3.0]))


def test_accuracy_is_the_fraction_of_argmax_hits(torch):
    logits = RNG.standard_normal((50, 7))
    targets = RNG.integers(0, 7, 50)
    expected = (torch.tensor(logits).argmax(dim=1) == torch.tensor(targets)).double().mean().item()
    assert accuracy(Tensor(logits), targets) == expected
    assert accuracy(logits, Tensor(targets)) == expected
    assert accuracy(logits.tolist(), targets.tolist()) == expected
    assert accuracy(np.array([[1.0, 3.0, 3.0]]), [1]) == 1.0  # a tie goes to the first largest
    assert accuracy(np.array([0.1, 0.9]), 1) == 1.0  # one example
    assert accuracy_from_scores([0.5, -2.0], [1, 1]) == 0.5  # the ±1 accuracy is unchanged


@pytest.mark.parametrize(
    "logits, targets, error, match",
    [
        (np.zeros((2, 3)), [0, 1, 2], ValueError, r".*targets need shape \(2,\), got \(3,\)"),
        (np.zeros((2, 3)), [0.5, 1], TypeError, r"targets must be integer class indices, got dtype float64"),
        (np.zeros((2, 3, 4)), [0, 1], ValueError, r"logits must have shape \(N, C\)"),
        (np.zeros((0, 3)), np.zeros(0, dtype=int), ValueError, r"got no examples"),
    ],
)
def test_accuracy_refuses_mismatched_inputs(logits, targets, error, match):
    with pytest.raises(error, match=r"^accuracy: " + match):
        accuracy(logits, targets)
