"""The losses on Tensors: each a few array operations, or one fused node with the rule of the whole.

``chainrule.losses`` has checked what both engines share (the reduction, the flags); here come the
checks of shapes and values, then the computation. ``hinge_loss``, ``sum_of_squares`` and
``bce_with_logits`` are fused: one node whose rule, like every Tensor rule, runs on arrays for
``backward()`` and on Tensors for ``create_graph=True``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from chainrule import array_math as xp
from chainrule.autodiff import is_tensor
from chainrule.indices import class_indices
from chainrule.tensor import Tensor, as_float_array
from chainrule.tensor_record import Rule, constant, record


def _reduce(terms: Tensor, reduction: str) -> Tensor:
    return terms.mean() if reduction == "mean" else terms.sum()


def _check_not_empty(predictions: Tensor, reduction: str, where: str) -> None:
    # PyTorch returns nan for the mean of no terms (0 / 0): a number that would quietly poison training,
    # so an empty batch is an error here. The sum of no terms is 0, as in PyTorch.
    if reduction == "mean" and predictions.size == 0:
        raise ValueError(
            f"{where}: got no predictions (shape {predictions.shape}), and a mean over none is undefined; "
            "pass at least one, or reduction='sum' (which gives 0)"
        )


def _targets(targets, like, where: str):
    """Targets as a Tensor shaped like ``like`` (numbers and arrays take ``like``'s dtype), or a shape error.

    A Tensor target is used as it is, so a gradient reaches it if it requires one; numbers and arrays
    become a constant Tensor around the converted array (no copy: losses only read their targets).
    """
    if targets is None:
        raise TypeError(f"{where}: targets are None; pass an array or Tensor of shape {like.shape}")
    if is_tensor(targets):
        target = targets
    else:
        if isinstance(targets, Iterator):
            targets = list(targets)  # NumPy would make one object out of a generator, not an array of its items
        target = constant(as_float_array(targets, where, dtype=like.dtype))
    if target.shape != like.shape:
        # No broadcasting: (N, 1) predictions against (N,) targets would compare every pair, N * N terms.
        if target.size == like.size:
            hint = f"reshape them, e.g. np.reshape(targets, {like.shape})"
        else:
            hint = f"pass one target per prediction (an array of shape {like.shape})"
        raise ValueError(f"{where}: predictions have shape {like.shape} but targets have shape {target.shape}; {hint}")
    return target


def _check_tensor_values(bad, data, where: str, requirement: str) -> None:
    """Raise ``where: requirement, got ...`` if any entry of ``data`` is flagged in the mask ``bad``."""
    if np.count_nonzero(bad):
        wrong = data[bad]
        raise ValueError(f"{where}: {requirement}, got {wrong.ravel()[0].item()!r} ({wrong.size} such value(s))")


def mse(predictions: Tensor, targets, reduction: str) -> Tensor:
    _check_not_empty(predictions, reduction, "mse")
    diff = predictions - _targets(targets, predictions, "mse")
    return _reduce(diff * diff, reduction)


def hinge(scores: Tensor, targets, reduction: str) -> Tensor:
    if is_tensor(targets) and targets.requires_grad:
        raise ValueError("hinge: labels are constants (-1 or +1); pass them without requires_grad")
    _check_not_empty(scores, reduction, "hinge")
    if type(targets) is np.ndarray and targets.shape == scores.shape and targets.dtype == scores.dtype:
        y = targets  # the usual call, once a step: an array of labels, read and never kept
    else:
        y = _targets(targets, scores, "hinge")._data
    if np.count_nonzero(y * y != 1.0):  # -1 and +1 are the numbers whose square is 1 (NaN is not)
        _check_tensor_values(np.abs(y) != 1, y, "hinge", "labels must be -1 or +1")
    return hinge_loss(scores, y, mean=reduction == "mean")


def binary_cross_entropy(predictions: Tensor, targets, reduction: str, from_logits: bool) -> Tensor:
    where = "binary_cross_entropy"
    _check_not_empty(predictions, reduction, where)
    y = _targets(targets, predictions, where)
    t = y._data
    _check_tensor_values(~((t >= 0) & (t <= 1)), t, where, "targets must lie in [0, 1]")
    if from_logits:
        return _reduce(bce_with_logits(predictions, y), reduction)
    p = predictions._data
    _check_tensor_values(
        ~((p > 0) & (p < 1)),
        p,
        where,
        "predictions must be probabilities strictly between 0 and 1 (pass raw scores with from_logits=True)",
    )
    return _reduce(-(y * predictions.log() + (1 - y) * (1 - predictions).log()), reduction)


def _logits_shape_error(shape: tuple) -> ValueError:
    return ValueError(
        f"cross_entropy: logits must have shape (N, C), got {shape} "
        "(or shape (C,) with a single class index for one example)"
    )


def cross_entropy(logits, targets, reduction: str):
    """``(N, C)`` logits and ``N`` integer class indices, or ``(C,)`` logits and one index, as in PyTorch.

    The targets follow ``chainrule.indices.class_indices``: integers, or a Tensor of whole numbers.
    """
    where = "cross_entropy"
    if logits.ndim not in (1, 2):
        raise _logits_shape_error(logits.shape)
    c = logits.shape[-1]
    if c == 0:
        raise ValueError(f"{where}: logits have shape {logits.shape}: no classes to choose from")
    t = class_indices(targets, c, where)
    if logits.ndim == 1:
        if t.ndim != 0:
            raise _logits_shape_error(logits.shape)
        # One example, as PyTorch takes it: (C,) logits and one class index.
        logits, t = logits.reshape(1, c), t.reshape(1)
    n = logits.shape[0]
    if t.shape != (n,):
        raise ValueError(f"{where}: logits have shape {logits.shape}, so targets need shape ({n},), got {t.shape}")
    _check_not_empty(logits, reduction, where)
    picked = logits.log_softmax(axis=1)[np.arange(n), t]
    # Negated before reducing, so that an empty batch sums to 0.0 as in PyTorch, not to -0.0.
    return _reduce(-picked, reduction)


# -- fused nodes -----------------------------------------------------------------------------------
# d/dx = sigmoid(x) - y, d/dy = -x
BCE_WITH_LOGITS = Rule("a b", lambda g, x, y: g * (xp.sigmoid(x) - y), lambda g, x, y: g * -x)


def bce_with_logits(x: Tensor, y: Tensor) -> Tensor:
    """Every entry's ``(1 - y) x - log(sigmoid(x))`` as one node, computed as PyTorch computes it:
    ``log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|))``, so exp never overflows."""
    a, t = x._data, y._data
    e = np.exp(-np.abs(a))
    # At x = +-inf PyTorch's formula meets 0 * inf or inf - inf and gives NaN; so does this one, quietly.
    with np.errstate(invalid="ignore"):
        terms = (1.0 - t) * a - (np.minimum(a, 0.0) - np.log1p(e))
    return record(terms.astype(x.dtype, copy=False), "bce_with_logits", (x, y), BCE_WITH_LOGITS, (a, t))


def _sum_of_squares_rule(count: int) -> Rule:
    """d/dt (weight * sum(t**2)) = 2 * weight * t, for each of ``count`` tensors."""
    rule = _SUM_OF_SQUARES.get(count)
    if rule is None:
        vjps = [(lambda g, tensors, twice, i=i: (twice * g) * tensors[i]) for i in range(count)]
        rule = _SUM_OF_SQUARES[count] = Rule("operands twice", *vjps)
    return rule


_SUM_OF_SQUARES: dict = {}


def sum_of_squares(tensors, weight: float = 1.0) -> Tensor:
    """``weight * sum(t**2)`` over every entry of every tensor, as one node (an L2 penalty).

    The local rule: d/dt = 2 * weight * t.
    """
    tensors = tuple(tensors)
    if not tensors:
        raise ValueError("sum_of_squares: got no tensors")
    total = 0  # an int, so the sum takes the tensors' float type
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"sum_of_squares: expected Tensors, got {type(t).__name__}")
        total += np.vdot(t._data, t._data)  # the dot product of the flattened array with itself
    saved = (tuple([t._data for t in tensors]), 2.0 * weight)
    return record(weight * total, "sumsq", tensors, _sum_of_squares_rule(len(tensors)), saved)


HINGE = Rule("slope", lambda g, slope: g * slope)


def hinge_loss(scores: Tensor, labels: np.ndarray, mean: bool = True) -> Tensor:
    """``relu(1 - y * score)`` summed (or averaged) as one node: micrograd's max-margin loss, fused.

    The same numbers as the five nodes ``(1 - y * scores).relu().mean()``; ``labels`` is an array of
    ±1 shaped like ``scores`` (``hinge`` checks that). The local rule: an example
    inside the margin (``1 - y * score > 0``) pulls its score toward ``y``: d/dscore = -y, else 0.
    """
    margins = 1.0 - labels * scores._data
    scale = 1.0 / margins.size if mean else 1.0
    total = np.add.reduce(np.maximum(margins, 0.0), axis=None) * scale
    # not (margin <= 0) rather than margin > 0: a NaN score passes its gradient on, as relu does in both
    # engines (and PyTorch), so the fused loss and (1 - y * scores).relu().mean() agree there too
    slope = np.where(margins <= 0.0, 0.0, labels * -scale)
    return record(np.asarray(total, dtype=margins.dtype), "hinge", (scores,), HINGE, (slope,))
