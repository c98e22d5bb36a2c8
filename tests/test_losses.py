"""``chainrule.losses`` on scalar Values against ``torch.nn.functional`` (float64): values and gradients of
mse, hinge, binary cross-entropy (probabilities and logits), cross-entropy and the L2 penalty.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule import Value
from chainrule.losses import (
    accuracy_from_scores,
    binary_cross_entropy,
    cross_entropy,
    hinge,
    l2_penalty,
    mse,
)

REL = 1e-12


def leaves(torch, numbers):
    """The same numbers as chainrule Values and as one torch tensor that collects gradients."""
    return [Value(x) for x in numbers], torch.tensor([float(x) for x in numbers], requires_grad=True)


def assert_matches(torch_loss, loss: Value, pairs) -> None:
    """``loss`` has torch's value, and each (Values, tensor) pair has torch's gradients, after backward()."""
    loss.backward()
    torch_loss.backward()
    assert isinstance(loss, Value)
    assert loss.data == pytest.approx(torch_loss.item(), rel=REL, abs=1e-15)
    for values, tensor in pairs:
        assert [v.grad for v in values] == pytest.approx(tensor.grad.reshape(-1).tolist(), rel=1e-10, abs=1e-15)


finite = st.floats(-10.0, 10.0, allow_nan=False)


@pytest.mark.parametrize("reduction", ["sum", "mean"])
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_mse(torch, reduction, data):
    n = data.draw(st.integers(1, 6))
    preds = data.draw(st.lists(finite, min_size=n, max_size=n))
    targets = data.draw(st.lists(finite, min_size=n, max_size=n))
    p, tp = leaves(torch, preds)
    expected = torch.nn.functional.mse_loss(tp, torch.tensor(targets), reduction=reduction)
    assert_matches(expected, mse(p, targets, reduction=reduction), [(p, tp)])


def test_mse_default_is_the_notes_sum_of_squared_errors(torch):
    preds, targets = [0.5, -0.2, 0.9, 1.5], [1, -1, -1, 1]
    p, tp = leaves(torch, preds)
    loss = mse(p, targets)
    assert loss.data == pytest.approx(sum((a - b) ** 2 for a, b in zip(preds, targets)), rel=1e-15)
    assert_matches(
        torch.nn.functional.mse_loss(tp, torch.tensor(targets, dtype=torch.float64), reduction="sum"), loss, [(p, tp)]
    )


def test_mse_with_value_targets_sends_gradients_to_both(torch):
    p, tp = leaves(torch, [0.3, -1.2, 2.0])
    y, ty = leaves(torch, [1.0, 0.5, -0.5])
    assert_matches(
        torch.nn.functional.mse_loss(tp, ty, reduction="mean"), mse(p, y, reduction="mean"), [(p, tp), (y, ty)]
    )


def test_mse_of_a_single_value(torch):
    p, tp = leaves(torch, [0.25])
    assert_matches(torch.nn.functional.mse_loss(tp, torch.tensor([2.0])), mse(p[0], 2.0), [(p, tp)])


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_hinge(torch, reduction, data):
    n = data.draw(st.integers(1, 6))
    scores = data.draw(st.lists(finite.filter(lambda s: abs(abs(s) - 1.0) > 1e-9), min_size=n, max_size=n))
    labels = data.draw(st.lists(st.sampled_from([-1, 1]), min_size=n, max_size=n))
    s, ts = leaves(torch, scores)
    # torch's margin ranking loss against zero is max(0, 1 - y * s): the hinge loss
    expected = torch.nn.functional.margin_ranking_loss(
        ts, torch.zeros(n), torch.tensor(labels, dtype=torch.float64), margin=1.0, reduction=reduction
    )
    assert_matches(expected, hinge(s, labels, reduction=reduction), [(s, ts)])


def test_hinge_by_hand():
    s = [Value(2.0), Value(0.5), Value(-0.5), Value(-3.0)]
    loss = hinge(s, [1, 1, 1, -1], reduction="sum")
    # max(0, 1 - 2) + max(0, 1 - 0.5) + max(0, 1 + 0.5) + max(0, 1 - 3)
    assert loss.data == 2.0
    loss.backward()
    assert [v.grad for v in s] == [0.0, -1.0, -1.0, 0.0]


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("seed", range(5))
def test_binary_cross_entropy_on_probabilities(torch, reduction, seed):
    rng = random.Random(seed)
    n = rng.randint(1, 6)
    probabilities = [rng.uniform(0.01, 0.99) for _ in range(n)]
    targets = [rng.choice([0.0, 1.0, rng.random()]) for _ in range(n)]
    p, tp = leaves(torch, probabilities)
    expected = torch.nn.functional.binary_cross_entropy(tp, torch.tensor(targets), reduction=reduction)
    assert_matches(expected, binary_cross_entropy(p, targets, reduction=reduction), [(p, tp)])


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("seed", range(5))
def test_binary_cross_entropy_from_logits(torch, reduction, seed):
    rng = random.Random(seed)
    n = rng.randint(1, 6)
    logits = [rng.uniform(-8, 8) for _ in range(n)]
    targets = [rng.choice([0.0, 1.0, rng.random()]) for _ in range(n)]
    x, tx = leaves(torch, logits)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(tx, torch.tensor(targets), reduction=reduction)
    assert_matches(expected, binary_cross_entropy(x, targets, reduction=reduction, from_logits=True), [(x, tx)])


def test_binary_cross_entropy_from_large_logits_does_not_overflow(torch):
    logits = [1000.0, -1000.0, 800.0, -750.0, 40.0]
    targets = [0.0, 1.0, 1.0, 0.0, 0.5]
    x, tx = leaves(torch, logits)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(tx, torch.tensor(targets), reduction="sum")
    loss = binary_cross_entropy(x, targets, reduction="sum", from_logits=True)
    assert loss.data == pytest.approx(1000.0 + 1000.0 + 0.0 + 0.0 + (40.0 - 20.0), rel=1e-12)  # by hand
    assert_matches(expected, loss, [(x, tx)])


def test_binary_cross_entropy_of_sigmoid_equals_from_logits():
    logits = [0.3, -2.0, 4.5]
    targets = [1.0, 0.0, 0.25]
    via_probabilities = binary_cross_entropy([Value(z).sigmoid() for z in logits], targets)
    via_logits = binary_cross_entropy([Value(z) for z in logits], targets, from_logits=True)
    assert via_probabilities.data == pytest.approx(via_logits.data, rel=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_cross_entropy_single_example(torch, seed):
    rng = random.Random(seed)
    classes = rng.randint(2, 6)
    logits = [rng.uniform(-5, 5) for _ in range(classes)]
    target = rng.randrange(classes)
    z, tz = leaves(torch, logits)
    expected = torch.nn.functional.cross_entropy(tz.unsqueeze(0), torch.tensor([target]))
    assert_matches(expected, cross_entropy(z, target), [(z, tz)])


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("seed", range(4))
def test_cross_entropy_batch(torch, reduction, seed):
    rng = random.Random(seed)
    n, classes = rng.randint(1, 5), rng.randint(2, 5)
    rows = [[rng.uniform(-5, 5) for _ in range(classes)] for _ in range(n)]
    targets = [rng.randrange(classes) for _ in range(n)]
    values = [[Value(x) for x in row] for row in rows]
    t_rows = torch.tensor(rows, requires_grad=True)
    expected = torch.nn.functional.cross_entropy(t_rows, torch.tensor(targets), reduction=reduction)
    flat = [v for row in values for v in row]
    loss = cross_entropy(values, targets, reduction=reduction)
    assert_matches(expected, loss, [(flat, t_rows)])


@pytest.mark.parametrize(
    "logits, target",
    [([1000.0, 0.0, -1000.0], 0), ([1000.0, 0.0, -1000.0], 2), ([1000.0, 999.0, 998.0], 1), ([-1000.0, -1000.0], 1)],
)
def test_cross_entropy_with_large_logits_does_not_overflow(torch, logits, target):
    z, tz = leaves(torch, logits)
    expected = torch.nn.functional.cross_entropy(tz.unsqueeze(0), torch.tensor([target]))
    loss = cross_entropy(z, target)
    assert loss.data == loss.data and abs(loss.data) != float("inf")
    assert_matches(expected, loss, [(z, tz)])


def test_cross_entropy_accepts_plain_numbers_and_numpy_integer_targets(torch):
    import numpy as np

    loss = cross_entropy([2.0, 1.0, 0.1], np.int64(0))
    expected = torch.nn.functional.cross_entropy(torch.tensor([[2.0, 1.0, 0.1]]), torch.tensor([0]))
    assert loss.data == pytest.approx(expected.item(), rel=REL)


@settings(max_examples=25, deadline=None)
@given(st.lists(finite, min_size=1, max_size=8))
def test_l2_penalty(torch, numbers):
    p, tp = leaves(torch, numbers)
    assert_matches(torch.linalg.vector_norm(tp) ** 2, l2_penalty(p), [(p, tp)])


def test_l2_penalty_of_model_parameters(torch):
    from chainrule.nn import MLP

    model = MLP(2, [3, 1], rng=random.Random(0))
    params = model.parameters()
    t = torch.tensor([p.data for p in params], requires_grad=True)
    assert_matches((t * t).sum(), l2_penalty(params), [(params, t)])


def test_accuracy_from_scores():
    scores = [Value(0.3), Value(-2.0), Value(0.1), -0.5]
    assert accuracy_from_scores(scores, [1, -1, -1, 1]) == 0.5
    assert accuracy_from_scores([Value(1.0)], [1]) == 1.0
