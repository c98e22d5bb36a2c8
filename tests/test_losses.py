"""``chainrule.losses`` on scalar Values against ``torch.nn.functional`` (float64): values and gradients of
mse, hinge, binary cross-entropy (probabilities and logits), cross-entropy and the L2 penalty.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import assert_close, check_against_torch

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


def check_loss(torch, ours, theirs, inputs, what: str) -> Value:
    """``ours`` on Values made from ``inputs`` (lists of numbers) has the value of ``theirs`` on torch tensors
    of the same numbers, to REL; after backward() on both, every Value has torch's gradient to 1e-10."""
    return check_against_torch(
        torch, ours, theirs, inputs, rtol=REL, atol=1e-15, grad_rtol=1e-10, grad_atol=1e-15, what=what
    )


finite = st.floats(-10.0, 10.0, allow_nan=False)


@pytest.mark.parametrize("reduction", ["sum", "mean"])
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_mse(torch, reduction, data):
    n = data.draw(st.integers(1, 6))
    preds = data.draw(st.lists(finite, min_size=n, max_size=n))
    targets = data.draw(st.lists(finite, min_size=n, max_size=n))
    check_loss(
        torch,
        lambda p: mse(p, targets, reduction=reduction),
        lambda tp: torch.nn.functional.mse_loss(tp, torch.tensor(targets), reduction=reduction),
        [preds],
        f"mse ({reduction})",
    )


def test_mse_default_is_the_notes_sum_of_squared_errors(torch):
    preds, targets = [0.5, -0.2, 0.9, 1.5], [1, -1, -1, 1]
    loss = check_loss(
        torch,
        lambda p: mse(p, targets),
        lambda tp: torch.nn.functional.mse_loss(tp, torch.tensor(targets, dtype=torch.float64), reduction="sum"),
        [preds],
        "mse (default)",
    )
    assert loss.data == pytest.approx(sum((a - b) ** 2 for a, b in zip(preds, targets)), rel=1e-15)


def test_mse_with_value_targets_sends_gradients_to_both(torch):
    check_loss(
        torch,
        lambda p, y: mse(p, y, reduction="mean"),
        lambda tp, ty: torch.nn.functional.mse_loss(tp, ty, reduction="mean"),
        [[0.3, -1.2, 2.0], [1.0, 0.5, -0.5]],
        "mse with Value targets",
    )


def test_mse_of_a_single_value(torch):
    check_loss(
        torch,
        lambda p: mse(p, 2.0),
        lambda tp: torch.nn.functional.mse_loss(tp, torch.tensor(2.0)),
        [0.25],
        "mse of one Value",
    )


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_hinge(torch, reduction, data):
    n = data.draw(st.integers(1, 6))
    scores = data.draw(st.lists(finite.filter(lambda s: abs(abs(s) - 1.0) > 1e-9), min_size=n, max_size=n))
    labels = data.draw(st.lists(st.sampled_from([-1, 1]), min_size=n, max_size=n))
    check_loss(
        torch,
        lambda s: hinge(s, labels, reduction=reduction),
        # torch's margin ranking loss against zero is max(0, 1 - y * s): the hinge loss
        lambda ts: torch.nn.functional.margin_ranking_loss(
            ts, torch.zeros(n), torch.tensor(labels, dtype=torch.float64), margin=1.0, reduction=reduction
        ),
        [scores],
        f"hinge ({reduction})",
    )


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
    check_loss(
        torch,
        lambda p: binary_cross_entropy(p, targets, reduction=reduction),
        lambda tp: torch.nn.functional.binary_cross_entropy(tp, torch.tensor(targets), reduction=reduction),
        [probabilities],
        f"binary_cross_entropy ({reduction})",
    )


# Where the two branches of a stable formula meet, x = 0, the slope must still be sigmoid(x) - y.
LOGITS_AT_THE_SEAM = [0.0, 1e-12, -1e-12]


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("seed", range(5))
def test_binary_cross_entropy_from_logits(torch, reduction, seed):
    rng = random.Random(seed)
    n = rng.randint(1, 6)
    logits = [rng.uniform(-8, 8) for _ in range(n)] + LOGITS_AT_THE_SEAM
    targets = [rng.choice([0.0, 1.0, rng.random()]) for _ in logits]
    check_loss(
        torch,
        lambda x: binary_cross_entropy(x, targets, reduction=reduction, from_logits=True),
        lambda tx: torch.nn.functional.binary_cross_entropy_with_logits(tx, torch.tensor(targets), reduction=reduction),
        [logits],
        f"binary_cross_entropy from logits ({reduction}) at {logits}",
    )


@pytest.mark.parametrize("logit", LOGITS_AT_THE_SEAM)
@pytest.mark.parametrize("target", [0.0, 1.0, 0.3])
def test_binary_cross_entropy_from_one_logit_at_zero(torch, logit, target):
    check_loss(
        torch,
        lambda x: binary_cross_entropy(x, [target], from_logits=True),
        lambda tx: torch.nn.functional.binary_cross_entropy_with_logits(tx, torch.tensor([target])),
        [[logit]],
        f"binary_cross_entropy from logit {logit} with target {target}",
    )


def test_binary_cross_entropy_from_large_logits_does_not_overflow(torch):
    logits = [1000.0, -1000.0, 800.0, -750.0, 40.0]
    targets = [0.0, 1.0, 1.0, 0.0, 0.5]
    loss = check_loss(
        torch,
        lambda x: binary_cross_entropy(x, targets, reduction="sum", from_logits=True),
        lambda tx: torch.nn.functional.binary_cross_entropy_with_logits(tx, torch.tensor(targets), reduction="sum"),
        [logits],
        "binary_cross_entropy from large logits",
    )
    assert loss.data == pytest.approx(1000.0 + 1000.0 + 0.0 + 0.0 + (40.0 - 20.0), rel=1e-12)  # by hand


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
    check_loss(
        torch,
        lambda z: cross_entropy(z, target),
        lambda tz: torch.nn.functional.cross_entropy(tz.unsqueeze(0), torch.tensor([target])),
        [logits],
        "cross_entropy of one example",
    )


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("seed", range(4))
def test_cross_entropy_batch(torch, reduction, seed):
    rng = random.Random(seed)
    n, classes = rng.randint(1, 5), rng.randint(2, 5)
    rows = [[rng.uniform(-5, 5) for _ in range(classes)] for _ in range(n)]
    targets = [rng.randrange(classes) for _ in range(n)]
    check_loss(
        torch,
        lambda values: cross_entropy(values, targets, reduction=reduction),
        lambda t_rows: torch.nn.functional.cross_entropy(t_rows, torch.tensor(targets), reduction=reduction),
        [rows],
        f"cross_entropy of a batch ({reduction})",
    )


@pytest.mark.parametrize(
    "logits, target",
    [([1000.0, 0.0, -1000.0], 0), ([1000.0, 0.0, -1000.0], 2), ([1000.0, 999.0, 998.0], 1), ([-1000.0, -1000.0], 1)],
)
def test_cross_entropy_with_large_logits_does_not_overflow(torch, logits, target):
    loss = check_loss(
        torch,
        lambda z: cross_entropy(z, target),
        lambda tz: torch.nn.functional.cross_entropy(tz.unsqueeze(0), torch.tensor([target])),
        [logits],
        "cross_entropy of large logits",
    )
    assert loss.data == loss.data and abs(loss.data) != float("inf")


def test_cross_entropy_accepts_plain_numbers_and_numpy_integer_targets(torch):
    import numpy as np

    loss = cross_entropy([2.0, 1.0, 0.1], np.int64(0))
    expected = torch.nn.functional.cross_entropy(torch.tensor([[2.0, 1.0, 0.1]]), torch.tensor([0]))
    assert_close(loss.data, expected, rtol=REL, what="cross_entropy of plain numbers")


@settings(max_examples=25, deadline=None)
@given(st.lists(finite, min_size=1, max_size=8))
def test_l2_penalty(torch, numbers):
    check_loss(torch, l2_penalty, lambda tp: torch.linalg.vector_norm(tp) ** 2, [numbers], "l2_penalty")


def test_l2_penalty_of_model_parameters(torch):
    from chainrule.nn import MLP

    model = MLP(2, [3, 1], rng=random.Random(0))
    check_loss(torch, l2_penalty, lambda t: (t * t).sum(), [model.parameters()], "l2_penalty of an MLP")


def test_accuracy_from_scores():
    scores = [Value(0.3), Value(-2.0), Value(0.1), -0.5]
    assert accuracy_from_scores(scores, [1, -1, -1, 1]) == 0.5
    assert accuracy_from_scores([Value(1.0)], [1]) == 1.0
