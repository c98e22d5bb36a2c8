"""Losses: one number that says how wrong the predictions are, whose gradient training follows.

Every function takes either scalar ``Value`` s (a list of predictions, as in the notes) or a
``Tensor``, and returns a single ``Value`` or a one-element ``Tensor`` to call ``backward()`` on.

Each gives PyTorch's number or an error that starts with the function's name (``cross_entropy: ...``)
and says what was wrong. NaN in the predictions flows through to the loss, as in PyTorch; a loss is
never quietly computed from inputs it has no meaning for (a wrong shape, a label outside its domain,
nothing at all).

One public function per loss checks what both engines share and hands the rest to one straight
implementation per engine: ``chainrule/losses/scalar.py`` for Values (standard library only) and
``chainrule/losses/tensor.py`` for Tensors (NumPy, loaded when the first Tensor arrives).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from chainrule.autodiff import is_tensor
from chainrule.engine import Value, sum_of_squares
from chainrule.losses import scalar
from chainrule.losses.scalar import _is_array, _is_number, _items, _shown

REDUCTIONS = ("mean", "sum")

__all__ = [
    "mse",
    "hinge",
    "binary_cross_entropy",
    "cross_entropy",
    "l2_penalty",
    "accuracy_from_scores",
    "accuracy",
    "REDUCTIONS",
]


def _tensor_losses():
    """The Tensor implementations, imported when the first Tensor arrives (so Values never need NumPy)."""
    global _TENSOR_LOSSES
    if _TENSOR_LOSSES is None:
        from chainrule.losses import tensor

        _TENSOR_LOSSES = tensor
    return _TENSOR_LOSSES


_TENSOR_LOSSES = None


def _check_reduction(reduction: str, where: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{where}: reduction must be 'mean' or 'sum', got {reduction!r}")


def mse(predictions, targets, reduction: str = "sum"):
    """Squared error ``sum((prediction - target)**2)``, the notes' loss; ``reduction='mean'`` averages."""
    _check_reduction(reduction, "mse")
    engine = _tensor_losses() if is_tensor(predictions) else scalar
    return engine.mse(predictions, targets, reduction)


def hinge(scores, targets, reduction: str = "mean"):
    """Max-margin loss ``relu(1 - y * score)`` for labels y in {-1, +1}, as in micrograd's demo."""
    _check_reduction(reduction, "hinge")
    engine = _tensor_losses() if is_tensor(scores) else scalar
    return engine.hinge(scores, targets, reduction)


def binary_cross_entropy(predictions, targets, reduction: str = "mean", from_logits: bool = False):
    """``-(y log p + (1 - y) log(1 - p))`` for targets y in [0, 1].

    ``predictions`` are probabilities in (0, 1) (after a sigmoid), or raw scores with
    ``from_logits=True``, which computes the same loss without ever taking ``log(0)``, by PyTorch's
    formula ``(1 - y) x - log(sigmoid(x))``.
    """
    where = "binary_cross_entropy"
    _check_reduction(reduction, where)
    if from_logits not in (True, False):  # a string such as "False" would count as true
        raise TypeError(f"{where}: from_logits must be True or False, got {from_logits!r}")
    engine = _tensor_losses() if is_tensor(predictions) else scalar
    return engine.binary_cross_entropy(predictions, targets, reduction, from_logits)


def cross_entropy(logits, targets, reduction: str = "mean"):
    """Softmax cross-entropy: ``-log(softmax(logits)[target])``, computed stably.

    Scalar form: ``logits`` is a list of Values (one example) and ``targets`` an int class index, or a
    list of such lists with a list of ints. Tensor form: an ``(N, C)`` Tensor and ``N`` integer targets,
    or, as in PyTorch, a ``(C,)`` Tensor (one example) and one integer target.
    The largest logit is subtracted before ``exp`` (log-sum-exp), so large logits never overflow.
    """
    _check_reduction(reduction, "cross_entropy")
    engine = _tensor_losses() if is_tensor(logits) else scalar
    return engine.cross_entropy(logits, targets, reduction)


def l2_penalty(parameters, weight: float = 1.0):
    """``weight * sum(p**2)`` over all parameters as one node: the weight penalty of micrograd's demo.

    ``parameters`` are Values (a scalar model's ``parameters()``) or Tensors (a Tensor model's), or one of
    either.
    """
    where = "l2_penalty"
    if not _is_number(weight):
        raise TypeError(
            f"{where}: weight must be a number, got {_shown(weight)}; "
            "to scale by a Value, multiply the result: w * l2_penalty(params)"
        )
    weight = float(weight)  # a NumPy weight would make the Values' gradients NumPy numbers
    if type(parameters) is list and parameters:
        # The usual call, l2_penalty(model.parameters()), once a training step: one look at the types.
        kinds = set(map(type, parameters))
        if kinds == {Value}:
            return sum_of_squares(parameters, weight)
        if len(kinds) == 1 and is_tensor(parameters[0]):
            return _tensor_losses().sum_of_squares(parameters, weight)
    if isinstance(parameters, Value) or is_tensor(parameters):
        params = [parameters]
    elif parameters is None or isinstance(parameters, (str, bytes)) or not isinstance(parameters, Iterable):
        raise TypeError(f"{where}: expected a model's parameters (Values or Tensors), got {_shown(parameters)}")
    else:
        params = list(parameters)
    if not params:
        raise ValueError(f"{where}: got no parameters; pass model.parameters() of a model that has some")
    tensors = [is_tensor(p) for p in params]
    for i, p in enumerate(params):
        if not (isinstance(p, Value) or tensors[i]):
            plain = " (plain numbers have no gradient to follow; make them Values)" if _is_number(p) else ""
            raise TypeError(f"{where}: expected Values or Tensors, got {_shown(p)} at index {i}{plain}")
    if any(tensors) and not all(tensors):
        first_tensor, first_value = tensors.index(True), tensors.index(False)
        raise TypeError(
            f"{where}: got both Values (index {first_value}) and Tensors (index {first_tensor}); "
            "pass the parameters of one engine, e.g. model.parameters()"
        )
    if tensors[0]:
        return _tensor_losses().sum_of_squares(params, weight)
    return sum_of_squares(params, weight)


def accuracy_from_scores(scores, targets) -> float:
    """Fraction of scores whose sign matches the ±1 label (micrograd's demo accuracy).

    ``scores`` and ``targets`` may be lists (of Values or numbers), arrays or Tensors. A NaN score or
    label makes the accuracy NaN: it is neither right nor wrong.
    """
    preds = _numbers(scores, "scores")
    labels = _numbers(targets, "labels")
    if len(preds) != len(labels):
        raise ValueError(f"accuracy_from_scores: {len(preds)} scores but {len(labels)} labels")
    if any(math.isnan(x) for x in preds + labels):
        return math.nan
    hits = [(y > 0) == (p > 0) for y, p in zip(labels, preds)]
    return sum(hits) / len(hits)


def accuracy(logits, targets) -> float:
    """Fraction of examples whose largest logit is at the target class: multi-class accuracy.

    ``logits`` is ``(N, C)`` (a Tensor or an array; ``(C,)`` for one example) and ``targets`` ``N`` class
    indices in ``[0, C - 1]`` (an int array, a list, or a Tensor holding whole numbers: the rule of
    ``chainrule.indices.class_indices``). A tie goes to the first largest logit, as ``argmax`` does. For
    ±1 labels and one score each, use ``accuracy_from_scores``.
    """
    import numpy as np

    from chainrule.indices import class_indices

    where = "accuracy"
    scores = np.asarray(logits.data if is_tensor(logits) else logits, dtype=float)
    one = scores.ndim == 1  # one example: (C,) logits and one class index
    if one:
        scores = scores[None, :]
    if scores.ndim != 2 or scores.shape[1] == 0:
        raise ValueError(f"{where}: logits must have shape (N, C) with C >= 1, got {scores.shape}")
    labels = class_indices(targets, scores.shape[1], where)
    if one:
        labels = labels.reshape(-1)
    if labels.shape != scores.shape[:1]:
        raise ValueError(
            f"{where}: logits have shape {scores.shape}, so targets need shape ({scores.shape[0]},), got {labels.shape}"
        )
    if labels.size == 0:
        raise ValueError(f"{where}: got no examples, and the accuracy of none is undefined")
    return float(np.mean(scores.argmax(axis=1) == labels))


def _numbers(x, what: str) -> list[float]:
    """Scores or labels as floats: arrays and Tensors of any shape are read in order (flattened)."""
    if is_tensor(x):
        x = x.data
    if _is_array(x):
        x = x.ravel()
    return [v.data if isinstance(v, Value) else float(v) for v in _items(x, "accuracy_from_scores", what)]
