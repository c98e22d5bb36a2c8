"""``chainrule.losses`` against ``torch.nn.functional`` (float64) beyond the table of operations
(``op_table.py``, where every loss is checked on both engines, on random inputs, in ``test_ops.py``): the
inputs users push a library with (NumPy scalars, NaN and infinities, large logits, empty inputs,
generators, wrong shapes and types), on both engines: PyTorch's number, or an error that names the loss.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from op_table import LOSS, TENSOR, VALUE, check_op
from oracle import assert_close, check_against_torch

from chainrule import Tensor, Value
from chainrule.losses import (
    accuracy_from_scores,
    binary_cross_entropy,
    cross_entropy,
    hinge,
    l2_penalty,
    mse,
)

REL = LOSS["rtol"]


def test_hinge_by_hand():
    s = [Value(2.0), Value(0.5), Value(-0.5), Value(-3.0)]
    loss = hinge(s, [1, 1, 1, -1], reduction="sum")
    # max(0, 1 - 2) + max(0, 1 - 0.5) + max(0, 1 + 0.5) + max(0, 1 - 3)
    assert loss.data == 2.0
    loss.backward()
    assert [v.grad for v in s] == [0.0, -1.0, -1.0, 0.0]


def test_binary_cross_entropy_from_large_logits_does_not_overflow(torch):
    logits = [1000.0, -1000.0, 800.0, -750.0, 40.0]
    targets = [0.0, 1.0, 1.0, 0.0, 0.5]
    loss = check_op(torch, "binary_cross_entropy from logits (sum)", VALUE, (logits, targets))
    assert loss.data == pytest.approx(1000.0 + 1000.0 + 0.0 + 0.0 + (40.0 - 20.0), rel=1e-12)  # by hand


def test_binary_cross_entropy_of_sigmoid_equals_from_logits():
    logits = [0.3, -2.0, 4.5]
    targets = [1.0, 0.0, 0.25]
    via_probabilities = binary_cross_entropy([Value(z).sigmoid() for z in logits], targets)
    via_logits = binary_cross_entropy([Value(z) for z in logits], targets, from_logits=True)
    assert via_probabilities.data == pytest.approx(via_logits.data, rel=1e-12)


@pytest.mark.parametrize(
    "logits, target",
    [([1000.0, 0.0, -1000.0], 0), ([1000.0, 0.0, -1000.0], 2), ([1000.0, 999.0, 998.0], 1), ([-1000.0, -1000.0], 1)],
)
def test_cross_entropy_with_large_logits_does_not_overflow(torch, logits, target):
    loss = check_op(torch, "cross_entropy (one example)", VALUE, (logits, target))
    assert loss.data == loss.data and abs(loss.data) != float("inf")


def test_cross_entropy_accepts_plain_numbers_and_numpy_integer_targets(torch):
    loss = cross_entropy([2.0, 1.0, 0.1], np.int64(0))
    expected = torch.nn.functional.cross_entropy(torch.tensor([[2.0, 1.0, 0.1]]), torch.tensor([0]))
    assert_close(loss.data, expected, rtol=REL, what="cross_entropy of plain numbers")


def test_hinge_accepts_plain_numbers_as_the_other_losses_do(torch):
    # Plain-number scores once reached (1 + -y * s).relu() as a float: AttributeError 'float' has no 'relu'.
    scores, labels = [2.0, 0.5, -0.5, np.float64(-3.0)], [1, 1, -1, -1]
    loss = hinge(scores, labels)
    t = torch.tensor([2.0, 0.5, -0.5, -3.0], dtype=torch.float64)
    expected = torch.relu(1 - torch.tensor(labels, dtype=torch.float64) * t).mean()
    assert isinstance(loss, Value)
    assert_close(loss.data, expected, rtol=REL, what="hinge of plain numbers")
    mixed = [Value(2.0), 0.5, Value(-0.5), -3.0]
    assert_close(hinge(mixed, labels, reduction="sum").data, expected * 4, rtol=REL, what="hinge, numbers and Values")


def test_l2_penalty_of_model_parameters(torch):
    from chainrule.nn import MLP

    model = MLP(2, [3, 1], rng=random.Random(0))
    check_against_torch(
        torch, l2_penalty, lambda t: (t * t).sum(), [model.parameters()], **LOSS, what="l2_penalty of an MLP"
    )


def test_accuracy_from_scores():
    scores = [Value(0.3), Value(-2.0), Value(0.1), -0.5]
    assert accuracy_from_scores(scores, [1, -1, -1, 1]) == 0.5
    assert accuracy_from_scores([Value(1.0)], [1]) == 1.0


# -- No silent wrong numbers: PyTorch's number, or an error that names the loss ---------------------
# NumPy scalars where floats were expected, NaN and infinities, empty and odd-shaped inputs, generators.
NAN, INF = math.nan, math.inf


def test_cross_entropy_with_a_numpy_integer_target_on_values_matches_torch(torch):
    for target in (np.int64(1), np.int32(2), np.uint8(0)):
        check_against_torch(
            torch,
            lambda z, target=target: cross_entropy(z, target),
            lambda tz, target=target: torch.nn.functional.cross_entropy(tz.unsqueeze(0), torch.tensor([int(target)])),
            [[0.5, -1.25, 2.0]],
            **LOSS,
            what=f"cross_entropy with target {target!r}",
        )


@pytest.mark.parametrize("target", [np.int64(2), 2, np.array(2)])
def test_cross_entropy_of_one_example_tensor_and_one_index_matches_torch(torch, target):
    # PyTorch's unbatched form: logits of shape (C,) and a single class index.
    check_against_torch(
        torch,
        lambda z: cross_entropy(z, target),
        lambda tz: torch.nn.functional.cross_entropy(tz, torch.tensor(int(target))),
        [np.array([0.5, -1.25, 2.0, 0.0])],
        **LOSS,
        what="cross_entropy of one (C,) example",
    )


def test_cross_entropy_takes_generators_tuples_and_arrays_of_logits(torch):
    rows, targets = [[0.5, -1.0, 2.0], [1.5, 0.25, -3.0]], [2, 0]
    expected = torch.nn.functional.cross_entropy(torch.tensor(rows), torch.tensor(targets))
    for logits, targs in [
        ((row for row in rows), iter(targets)),
        (tuple(tuple(row) for row in rows), tuple(targets)),
        (np.array(rows), np.array(targets)),
        ([[np.float64(z) for z in row] for row in rows], [np.int64(t) for t in targets]),
    ]:
        assert_close(cross_entropy(logits, targs).data, expected, rtol=REL, what=f"cross_entropy of {type(logits)}")
    first = torch.nn.functional.cross_entropy(torch.tensor([rows[0]]), torch.tensor([2]))
    assert_close(cross_entropy((z for z in rows[0]), 2).data, first, rtol=REL, what="a generator of one example")


@pytest.mark.parametrize("loss", ["mse", "binary_cross_entropy"])
def test_numpy_float_targets_work_on_values(torch, loss):
    preds = [0.25, 0.5, 0.875]
    targets = [np.float64(0.0), np.float32(1.0), np.float64(0.5)]
    F = torch.nn.functional
    ours = {"mse": lambda p, t: mse(p, t, reduction="mean"), "binary_cross_entropy": binary_cross_entropy}[loss]
    theirs = {"mse": F.mse_loss, "binary_cross_entropy": F.binary_cross_entropy}[loss]
    reference = torch.tensor([float(t) for t in targets])
    for numbers in (targets, np.array(targets, dtype=np.float64), (t for t in targets)):
        check_against_torch(
            torch,
            lambda p, numbers=numbers: ours(p, numbers),
            lambda tp: theirs(tp, reference),
            [preds],
            **LOSS,
            what=f"{loss} with NumPy targets in a {type(numbers).__name__}",
        )
    # one prediction and one NumPy number
    one = (lambda p: ours(p, np.float64(1.0)), lambda tp: theirs(tp, torch.tensor(1.0)))
    check_against_torch(torch, *one, [0.75], **LOSS, what=loss)


def test_numpy_float_targets_work_on_tensors(torch):
    check_against_torch(
        torch,
        lambda p: mse(p, np.float64(0.5)),
        lambda tp: torch.nn.functional.mse_loss(tp, torch.tensor(0.5), reduction="sum"),
        [np.array(0.25)],
        **LOSS,
        what="mse of a 0-d Tensor and a NumPy float",
    )
    check_against_torch(
        torch,
        lambda p: binary_cross_entropy(p, np.array([np.float32(1.0), np.float32(0.0)])),
        lambda tp: torch.nn.functional.binary_cross_entropy(tp, torch.tensor([1.0, 0.0])),
        [np.array([0.75, 0.125])],
        **LOSS,
        what="binary_cross_entropy with float32 targets",
    )


# NaN in the predictions is carried to the loss as PyTorch carries it: never replaced, never an error.
# (hinge is the notes' relu(1 - y s) on both engines: relu lets the gradient through a NaN, as PyTorch's
# does, where torch's margin_ranking_loss would give 0.) Each: the table's entry, its targets.
NAN_CASES = {
    "mse (mean)": [1.0, -1.0],
    "hinge (mean)": [1.0, -1.0],
    "cross_entropy (one example)": 1,
    "binary_cross_entropy from logits (mean)": [1.0, 0.25],
}


@pytest.mark.parametrize("name", NAN_CASES)
@pytest.mark.parametrize("scores", [[NAN, 0.5], [0.5, NAN]])
def test_nan_predictions_give_nan_losses_as_in_torch_on_values(torch, name, scores):
    loss = check_op(torch, name, VALUE, (scores, NAN_CASES[name]))
    assert math.isnan(loss.data)


@pytest.mark.parametrize("name", NAN_CASES)
def test_nan_predictions_give_nan_losses_as_in_torch_on_tensors(torch, name):
    if name.startswith("cross_entropy"):
        loss = check_op(torch, "cross_entropy (mean)", TENSOR, ([[0.5, NAN, 1.0]], [1]))
    else:
        loss = check_op(torch, name, TENSOR, ([NAN, 0.5], NAN_CASES[name]))
    assert math.isnan(loss.item())


# The Tensor engine's log_softmax warns (RuntimeWarning) where it meets inf - inf, with PyTorch's numbers.
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("logits", [[-INF, 1.0], [INF, 1.0], [1e308, -1e308], [-INF, -INF], [1000.0, 1e-300]])
@pytest.mark.parametrize("target", [0, 1])
def test_cross_entropy_of_infinite_and_extreme_logits_is_torchs(torch, logits, target):
    check_op(torch, "cross_entropy (one example)", VALUE, (logits, target))
    check_op(torch, "cross_entropy (mean)", TENSOR, ([logits], [target]))


@pytest.mark.parametrize("logit", [NAN, INF, -INF, 40.0, -40.0, 745.0, -745.0, 0.0])
@pytest.mark.parametrize("target", [0.0, 1.0, 0.5])
@pytest.mark.parametrize("engine", [VALUE, TENSOR])
def test_binary_cross_entropy_from_logits_is_torchs_everywhere(torch, logit, target, engine):
    # Targets that require grad too: d/dy = -x. At +-inf PyTorch's formula gives NaN in places; so does ours.
    check_op(torch, "binary_cross_entropy from logits (targets that are leaves)", engine, ([logit], [target]))


def test_binary_cross_entropy_keeps_the_tiny_loss_of_a_confident_right_answer(torch):
    # log1p(exp(-40)) = 4.2e-18; log(1 + exp(-40)) rounds it to 0, a relative error of 100%.
    expected = torch.nn.functional.binary_cross_entropy_with_logits(torch.tensor([40.0]), torch.tensor([1.0]))
    assert_close(binary_cross_entropy([Value(40.0)], [1.0], from_logits=True).data, expected, rtol=1e-15)
    assert_close(binary_cross_entropy(Tensor([40.0]), [1.0], from_logits=True).item(), expected, rtol=1e-15)


def test_binary_cross_entropy_from_logits_keeps_float32(torch):
    x = Tensor([0.5, -2.0], requires_grad=True, dtype=np.float32)
    loss = binary_cross_entropy(x, [1.0, 0.0], from_logits=True)
    loss.backward()
    assert loss.dtype == np.float32 and x.grad.dtype == np.float32
    tx = torch.tensor([0.5, -2.0], requires_grad=True)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(tx, torch.tensor([1.0, 0.0]))
    expected.backward()
    assert_close(loss.item(), expected, rtol=1e-6, what="float32 loss")
    assert_close(x.grad, tx.grad, rtol=1e-6, what="float32 gradient")


def test_mse_of_a_square_too_large_for_a_float_is_inf_as_in_torch(torch):
    check_op(torch, "mse (sum)", VALUE, ([1e200, 2.0], [0.0, 1.0]))


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda p: mse(p, np.zeros(0)), lambda F, tp: F.mse_loss(tp, torch_zeros(tp, 0), reduction="sum")),
        (lambda p: hinge(p, np.zeros(0), reduction="sum"), lambda F, tp: tp.sum()),
        (
            lambda p: binary_cross_entropy(p, np.zeros(0), reduction="sum", from_logits=True),
            lambda F, tp: F.binary_cross_entropy_with_logits(tp, torch_zeros(tp, 0), reduction="sum"),
        ),
        (
            lambda p: binary_cross_entropy(p, np.zeros(0), reduction="sum"),
            lambda F, tp: F.binary_cross_entropy(tp, torch_zeros(tp, 0), reduction="sum"),
        ),
    ],
)
def test_the_sum_over_an_empty_tensor_is_0_as_in_torch(torch, ours, theirs):
    loss = ours(Tensor(np.zeros(0), requires_grad=True))
    expected = theirs(torch.nn.functional, torch.zeros(0, requires_grad=True))
    assert_close(loss.item(), expected, rtol=0.0)
    assert math.copysign(1.0, loss.item()) == 1.0  # +0.0, as torch


def torch_zeros(like, n):
    return like.new_zeros(n)


def test_cross_entropy_of_an_empty_batch_sums_to_0_as_in_torch(torch):
    logits = Tensor(np.zeros((0, 3)), requires_grad=True)
    loss = cross_entropy(logits, np.zeros(0, dtype=int), reduction="sum")
    assert loss.item() == 0.0 and math.copysign(1.0, loss.item()) == 1.0
    loss.backward()
    assert logits.grad.shape == (0, 3)


def test_losses_take_generators_and_single_values(torch):
    preds = [Value(0.5), Value(-0.25), Value(2.0)]
    targets = [1.0, -1.0, 1.0]
    assert mse(iter(preds), iter(targets)).data == mse(preds, targets).data
    assert hinge(iter(preds), (t for t in targets)).data == hinge(preds, targets).data
    assert l2_penalty(p for p in preds).data == l2_penalty(preds).data
    assert l2_penalty(Value(3.0)).data == 9.0
    t = Tensor([1.0, 2.0], requires_grad=True)
    assert l2_penalty(t).item() == 5.0 and l2_penalty(t)._prev == (t,)


def test_l2_penalty_takes_a_numpy_weight(torch):
    check_against_torch(
        torch,
        lambda p: l2_penalty(p, weight=np.float64(0.25)),
        lambda tp: 0.25 * (tp * tp).sum(),
        [[0.5, -3.0]],
        **LOSS,
        what="l2_penalty with a NumPy weight",
    )


def test_accuracy_from_scores_of_arrays_tensors_and_values():
    scores = np.array([[0.5], [-1.0], [2.0], [-0.1]])
    labels = np.array([[1.0], [1.0], [1.0], [-1.0]])
    assert accuracy_from_scores(scores, labels) == 0.75
    assert accuracy_from_scores(Tensor(scores), Tensor(labels)) == 0.75
    assert accuracy_from_scores([Value(s) for s in scores.ravel()], [Value(y) for y in labels.ravel()]) == 0.75
    assert accuracy_from_scores(0.5, 1) == 1.0


def test_accuracy_from_nan_scores_is_nan_not_a_count():
    # A NaN score is neither right nor wrong; counting it as either would be a made-up number.
    assert math.isnan(accuracy_from_scores([0.5, NAN], [1, -1]))
    assert math.isnan(accuracy_from_scores(Tensor([0.5, 1.0]), [1, NAN]))


LOGITS = [Value(1.0), Value(2.0), Value(0.5)]
ERRORS = [
    # (call, error type, message): every message starts with the function's name
    (lambda: cross_entropy([], 0), ValueError, r"^cross_entropy: got no logits"),
    (lambda: cross_entropy([[]], [0]), ValueError, r"^cross_entropy: got no logits of example 0"),
    (
        lambda: cross_entropy(LOGITS, True),
        TypeError,
        r"^cross_entropy: target must be an integer class index, got True$",
    ),
    (lambda: cross_entropy(LOGITS, np.bool_(True)), TypeError, r"^cross_entropy: target must be an integer class"),
    (
        lambda: cross_entropy(LOGITS, None),
        TypeError,
        r"^cross_entropy: target must be an integer class index, got None",
    ),
    (lambda: cross_entropy(LOGITS, 1.0), TypeError, r"^cross_entropy: .*got 1\.0; class probabilities are not"),
    (lambda: cross_entropy([LOGITS], None), TypeError, r"^cross_entropy: targets must be .*got NoneType None"),
    (lambda: cross_entropy("abc", 0), TypeError, r"^cross_entropy: logits must be a list .*got str 'abc'"),
    (lambda: cross_entropy(None, 0), TypeError, r"^cross_entropy: logits must be a list .*got NoneType None"),
    (lambda: cross_entropy(Value(1.0), 0), TypeError, r"^cross_entropy: logits must be a list of scores, one per"),
    (lambda: cross_entropy([[1.0, 2.0], 3.0], [0, 0]), TypeError, r"^cross_entropy: example 1 is one number"),
    (lambda: cross_entropy([Tensor([1.0, 2.0])], [0]), TypeError, r"^cross_entropy: example 0 is a Tensor; pass one"),
    (lambda: cross_entropy(Tensor(np.zeros((0, 3))), []), TypeError, r"^cross_entropy: targets must be integer"),
    (
        lambda: cross_entropy(Tensor(np.zeros((0, 3))), np.zeros(0, dtype=int)),
        ValueError,
        r"^cross_entropy: got no predictions \(shape \(0, 3\)\), and a mean over none is undefined",
    ),
    (lambda: cross_entropy(Tensor(np.zeros((2, 0))), [0, 0]), ValueError, r"^cross_entropy: .*\(2, 0\): no classes"),
    (lambda: cross_entropy(Tensor(np.zeros((2, 3))), None), TypeError, r"^cross_entropy: targets are None"),
    (lambda: cross_entropy(Tensor(np.zeros((1, 3))), [True]), TypeError, r"^cross_entropy: .*got dtype bool"),
    (
        lambda: cross_entropy(Tensor(np.zeros((1, 3))), Tensor([1.5])),
        TypeError,
        r"^cross_entropy: targets must hold whole numbers \(integer class indices\), got 1\.5 in a Tensor of dtype "
        r"float64$",
    ),
    (lambda: cross_entropy(Tensor(np.zeros(3)), [1]), ValueError, r"^cross_entropy: logits must have shape \(N, C\)"),
    (lambda: mse([Value(1.0)], [1.0, 2.0]), ValueError, r"^mse: 1 predictions but 2 targets$"),
    (lambda: mse([Value(1.0)], None), TypeError, r"^mse: targets must be a Value, a number, or a list of them, got No"),
    (lambda: mse([Value(1.0)], [None]), TypeError, r"^mse: targets must be Values or numbers, got NoneType None at"),
    (lambda: mse([Value(1.0)], ["a"]), TypeError, r"^mse: targets must be Values or numbers, got str 'a' at index 0$"),
    (lambda: mse([Value(1.0)], "1"), TypeError, r"^mse: targets must be a Value, a number, or a list of them, got str"),
    (lambda: mse([[Value(1.0)]], [[1.0]]), TypeError, r"^mse: predictions must be .*at index 0; flatten nested lists"),
    (lambda: mse({Value(1.0)}, [1.0]), TypeError, r"^mse: predictions must be a Value, a number, .*got set"),
    (lambda: mse({"a": 1.0}, [1.0]), TypeError, r"^mse: predictions must be a Value, a number, .*got dict"),
    (lambda: mse([Tensor([1.0])], [1.0]), TypeError, r"^mse: predictions must be .*not a list of Tensors"),
    (lambda: mse(Value(1.0), Tensor([1.0])), TypeError, r"^mse: targets are a Tensor but the predictions are Values"),
    (lambda: mse([Value(1.0)], [1j]), TypeError, r"^mse: targets must be Values or numbers, got complex 1j"),
    (lambda: mse([], []), ValueError, r"^mse: got no predictions$"),
    (lambda: mse(Tensor([1.0, 2.0]), None), TypeError, r"^mse: targets are None; pass an array or Tensor of shape"),
    (
        lambda: mse(Tensor([1.0, 2.0]), [1.0, 2.0, 3.0]),
        ValueError,
        r"^mse: predictions have shape \(2,\) but targets have shape \(3,\); pass one target per prediction",
    ),
    (
        lambda: mse(Tensor(np.ones((2, 1))), [1.0, 2.0]),
        ValueError,
        r"^mse: .*shape \(2,\); reshape them, e\.g\. np\.reshape\(targets, \(2, 1\)\)$",
    ),
    (lambda: mse(Tensor(np.ones(0)), np.ones(0), reduction="mean"), ValueError, r"^mse: got no predictions \(shape"),
    (lambda: hinge([Value(1.0), Value(2.0)], [0, 2]), ValueError, r"^hinge: labels must be -1 or \+1, got 0$"),
    (lambda: hinge(Tensor([1.0, 2.0]), [2, -1]), ValueError, r"^hinge: labels must be -1 or \+1, got 2\.0 \(1 such"),
    (lambda: hinge([Value(1.0)], [NAN]), ValueError, r"^hinge: labels must be -1 or \+1, got nan$"),
    (lambda: hinge([Value(1.0)], None), TypeError, r"^hinge: targets must be a Value, a number, or a list of them"),
    (lambda: hinge(Tensor([1.0]), None), TypeError, r"^hinge: targets are None"),
    (lambda: hinge(Tensor(np.zeros(0)), np.zeros(0)), ValueError, r"^hinge: got no predictions \(shape \(0,\)\)"),
    (lambda: binary_cross_entropy([Value(0.5)], None), TypeError, r"^binary_cross_entropy: targets must be a Value"),
    (lambda: binary_cross_entropy([Value(0.5)], [None]), TypeError, r"^binary_cross_entropy: targets must be Values"),
    (lambda: binary_cross_entropy(Tensor([0.5]), None), TypeError, r"^binary_cross_entropy: targets are None"),
    (lambda: binary_cross_entropy([Value(NAN)], [1.0]), ValueError, r"^binary_cross_entropy: predictions must be prob"),
    (lambda: binary_cross_entropy([0.5], [NAN]), ValueError, r"^binary_cross_entropy: targets must lie in \[0, 1\]"),
    (
        lambda: binary_cross_entropy(Tensor(np.zeros(0)), np.zeros(0), from_logits=True),
        ValueError,
        r"^binary_cross_entropy: got no predictions",
    ),
    (
        lambda: binary_cross_entropy([Value(0.5)], [1.0], from_logits="False"),
        TypeError,
        r"^binary_cross_entropy: from_logits must be True or False, got 'False'$",
    ),
    (lambda: l2_penalty([1.0, 2.0]), TypeError, r"^l2_penalty: expected Values or Tensors, got float 1\.0 at index 0"),
    (lambda: l2_penalty(np.array([1.0])), TypeError, r"^l2_penalty: expected Values or Tensors, got float64"),
    (lambda: l2_penalty([]), ValueError, r"^l2_penalty: got no parameters; pass model\.parameters\(\)"),
    (lambda: l2_penalty(iter([])), ValueError, r"^l2_penalty: got no parameters"),
    (lambda: l2_penalty(None), TypeError, r"^l2_penalty: expected a model's parameters .*got NoneType None"),
    (lambda: l2_penalty([[Value(1.0)]]), TypeError, r"^l2_penalty: expected Values or Tensors, got list"),
    (lambda: l2_penalty([Value(1.0), Tensor([1.0])]), TypeError, r"^l2_penalty: got both Values \(index 0\) and Tens"),
    (lambda: l2_penalty([Tensor([1.0]), Value(1.0)]), TypeError, r"^l2_penalty: got both Values \(index 1\) and Tens"),
    (lambda: l2_penalty([Value(1.0)], weight=None), TypeError, r"^l2_penalty: weight must be a number, got NoneType"),
    (lambda: l2_penalty([Tensor([1.0])], weight="1"), TypeError, r"^l2_penalty: weight must be a number, got str"),
    (lambda: l2_penalty([Value(1.0)], weight=Value(2.0)), TypeError, r"^l2_penalty: weight .*multiply the result"),
    (lambda: accuracy_from_scores([], []), ValueError, r"^accuracy_from_scores: got no scores$"),
    (lambda: accuracy_from_scores(np.zeros(0), np.zeros(0)), ValueError, r"^accuracy_from_scores: got no scores$"),
    (lambda: accuracy_from_scores(Tensor(np.zeros((0, 1))), []), ValueError, r"^accuracy_from_scores: got no scores"),
    (lambda: accuracy_from_scores([1.0, 2.0], [1]), ValueError, r"^accuracy_from_scores: 2 scores but 1 labels$"),
    (lambda: accuracy_from_scores([1.0], None), TypeError, r"^accuracy_from_scores: labels must be a Value, a number"),
    (lambda: accuracy_from_scores(["a"], [1]), TypeError, r"^accuracy_from_scores: scores must be Values or numbers"),
]


@pytest.mark.parametrize("call, error, message", ERRORS, ids=[m[1:40] for _, _, m in ERRORS])
def test_wrong_inputs_give_an_error_that_names_the_loss(call, error, message):
    with pytest.raises(error, match=message):
        call()
