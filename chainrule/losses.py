"""Losses: one number that says how wrong the predictions are, whose gradient training follows.

Every function takes either scalar ``Value`` s (a list of predictions, as in the notes) or a
``Tensor``, and returns a single ``Value`` or a one-element ``Tensor`` to call ``backward()`` on.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from numbers import Integral

from chainrule.engine import Value, sum_of_squares, value_sum

REDUCTIONS = ("mean", "sum")


def _is_tensor(x) -> bool:
    # Checked by name so that this module never has to import NumPy for scalar work.
    return type(x).__name__ == "Tensor" and type(x).__module__ == "chainrule.tensor"


def _check_reduction(reduction: str, where: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{where}: reduction must be 'mean' or 'sum', got {reduction!r}")


def _as_list(x, where: str) -> list:
    if isinstance(x, (Value, int, float)):
        return [x]
    items = list(x)
    if not items:
        raise ValueError(f"{where}: got no predictions")
    return items


def _pairs(predictions, targets, where: str):
    preds = _as_list(predictions, where)
    targs = _as_list(targets, where)
    if len(preds) != len(targs):
        raise ValueError(f"{where}: {len(preds)} predictions but {len(targs)} targets")
    return preds, targs


def _reduce(terms: list, reduction: str) -> Value:
    total = value_sum(terms)
    return total * (1.0 / len(terms)) if reduction == "mean" else total


def _tensor_target(targets, like, where: str):
    """Targets as a Tensor shaped like ``like`` (numbers and arrays take ``like``'s dtype), or a shape error.

    A Tensor target is used as it is, so a gradient reaches it if it requires one; numbers and arrays
    become a constant Tensor around the converted array (no copy: losses only read their targets).
    """
    from chainrule.tensor import _constant, as_float_array

    target = targets if _is_tensor(targets) else _constant(as_float_array(targets, where, dtype=like.data.dtype))
    if target.shape != like.shape:
        raise ValueError(f"{where}: predictions have shape {like.shape} but targets have shape {target.shape}")
    return target


def _check_tensor_values(bad, data, where: str, requirement: str) -> None:
    """Raise ``where: requirement, got ...`` if any entry of ``data`` is flagged in the mask ``bad``."""
    import numpy as np

    if np.count_nonzero(bad):
        wrong = data[bad]
        raise ValueError(f"{where}: {requirement}, got {wrong.ravel()[0].item()!r} ({wrong.size} such value(s))")


def _tensor_reduce(t, reduction: str):
    return t.mean() if reduction == "mean" else t.sum()


def mse(predictions, targets, reduction: str = "sum"):
    """Squared error ``sum((prediction - target)**2)``, the notes' loss; ``reduction='mean'`` averages."""
    _check_reduction(reduction, "mse")
    if _is_tensor(predictions):
        diff = predictions - _tensor_target(targets, predictions, "mse")
        return _tensor_reduce(diff * diff, reduction)
    preds, targs = _pairs(predictions, targets, "mse")
    return _reduce([(yout - ygt) ** 2 for ygt, yout in zip(targs, preds)], reduction)


def hinge(scores, targets, reduction: str = "mean"):
    """Max-margin loss ``relu(1 - y * score)`` for labels y in {-1, +1}, as in micrograd's demo."""
    _check_reduction(reduction, "hinge")
    if _is_tensor(scores):
        import numpy as np

        if _is_tensor(targets) and targets.requires_grad:
            raise ValueError("hinge: labels are constants (-1 or +1); pass them without requires_grad")
        from chainrule.tensor import hinge_loss

        y = _tensor_target(targets, scores, "hinge").data
        _check_tensor_values(np.abs(y) != 1, y, "hinge", "labels must be -1 or +1")
        return hinge_loss(scores, y, mean=reduction == "mean")
    preds, targs = _pairs(scores, targets, "hinge")
    _check_signs(targs, "hinge")
    return _reduce([(1 + -yi * si).relu() for yi, si in zip(targs, preds)], reduction)


def _check_signs(labels: list, where: str) -> None:
    for y in labels:
        y = y.data if isinstance(y, Value) else y
        if y not in (-1, 1):
            raise ValueError(f"{where}: labels must be -1 or +1, got {y!r}")


def binary_cross_entropy(predictions, targets, reduction: str = "mean", from_logits: bool = False):
    """``-(y log p + (1 - y) log(1 - p))`` for targets y in [0, 1].

    ``predictions`` are probabilities in (0, 1) (after a sigmoid), or raw scores with
    ``from_logits=True``, which computes the same loss without ever taking ``log(0)``:
    ``max(x, 0) - x*y + log(1 + exp(-|x|))``.
    """
    _check_reduction(reduction, "binary_cross_entropy")
    if _is_tensor(predictions):
        import numpy as np

        y = _tensor_target(targets, predictions, "binary_cross_entropy")
        t = y.data
        _check_tensor_values(~((t >= 0) & (t <= 1)), t, "binary_cross_entropy", "targets must lie in [0, 1]")
        if from_logits:
            x = predictions
            # max(x, 0) - x*y + log(1 + e^-|x|), with max(x, 0) = x * [x >= 0] and |x| = x * sign. One
            # constant mask for both keeps the slope right at x = 0 (sigmoid(0) - y), where relu and abs
            # would each take the slope 0 and the sum would come out as -y.
            positive = x.data >= 0
            sign = np.where(positive, 1.0, -1.0)
            terms = x * positive - x * y + (1 + (-(x * sign)).exp()).log()
        else:
            p = predictions.data
            _check_tensor_values(
                ~((p > 0) & (p < 1)),
                p,
                "binary_cross_entropy",
                "predictions must be probabilities strictly between 0 and 1 (pass raw scores with from_logits=True)",
            )
            terms = -(y * predictions.log() + (1 - y) * (1 - predictions).log())
        return _tensor_reduce(terms, reduction)
    preds, targs = _pairs(predictions, targets, "binary_cross_entropy")
    _check_unit_interval([t.data if isinstance(t, Value) else t for t in targs], "binary_cross_entropy")
    terms = []
    for p, y in zip(preds, targs):
        p = p if isinstance(p, Value) else Value(p)
        if from_logits:
            # log(1 + e^x) - x*y, written so that exp only ever sees -|x|: for x >= 0 it is
            # x + log(1 + e^-x) - x*y. Each branch is smooth, so the slope at x = 0 is sigmoid(0) - y.
            if p.data >= 0.0:
                terms.append(p + (1 + (-p).exp()).log() - p * y)
            else:
                terms.append((1 + p.exp()).log() - p * y)
        else:
            _check_probabilities([p.data])
            terms.append(-(y * p.log() + (1 - y) * (1 - p).log()))
    return _reduce(terms, reduction)


def _check_unit_interval(targets: Iterable[float], where: str) -> None:
    for y in targets:
        if not 0.0 <= y <= 1.0:
            raise ValueError(f"{where}: targets must lie in [0, 1], got {y!r}")


def _check_probabilities(probabilities: Iterable[float]) -> None:
    for p in probabilities:
        if not 0.0 < p < 1.0:
            raise ValueError(
                f"binary_cross_entropy: predictions must be probabilities strictly between 0 and 1, got {p!r}; "
                "pass raw scores with from_logits=True instead"
            )


def cross_entropy(logits, targets, reduction: str = "mean"):
    """Softmax cross-entropy: ``-log(softmax(logits)[target])``, computed stably.

    Scalar form: ``logits`` is a list of Values (one example) and ``targets`` an int class index, or a
    list of such lists with a list of ints. Tensor form: an ``(N, C)`` Tensor and ``N`` integer targets.
    The largest logit is subtracted before ``exp`` (log-sum-exp), so large logits never overflow.
    """
    _check_reduction(reduction, "cross_entropy")
    if _is_tensor(logits):
        return _tensor_cross_entropy(logits, targets, reduction)
    if logits and isinstance(logits[0], (Value, int, float)):
        return _one_cross_entropy(logits, targets)
    rows = list(logits)
    targs = list(targets)
    if not rows:
        raise ValueError("cross_entropy: got no logits; pass a list of logits, or a list of such lists")
    if len(rows) != len(targs):
        raise ValueError(f"cross_entropy: {len(rows)} examples but {len(targs)} targets")
    return _reduce([_one_cross_entropy(row, t) for row, t in zip(rows, targs)], reduction)


def _one_cross_entropy(logits: Sequence, target) -> Value:
    if not isinstance(target, Integral) or isinstance(target, bool):
        raise TypeError(f"cross_entropy: target must be an integer class index, got {target!r}")
    target = int(target)
    if not 0 <= target < len(logits):
        raise ValueError(f"cross_entropy: target {target} is out of range for {len(logits)} classes")
    logits = [z if isinstance(z, Value) else Value(z) for z in logits]
    # log(sum(exp(z))) = m + log(sum(exp(z - m))) with m the largest logit: every exp is <= 1.
    m = max(z.data for z in logits)
    log_sum_exp = value_sum([(z - m).exp() for z in logits]).log() + m
    return log_sum_exp - logits[target]


def _tensor_cross_entropy(logits, targets, reduction: str):
    import numpy as np

    if logits.data.ndim != 2:
        raise ValueError(f"cross_entropy: logits must have shape (N, C), got {logits.shape}")
    t = np.asarray(targets.data if _is_tensor(targets) else targets)
    if t.dtype.kind not in "iu":
        raise TypeError(
            f"cross_entropy: targets must be integer class indices, got dtype {t.dtype}; "
            "convert them, e.g. np.asarray(targets, dtype=int)"
        )
    n, c = logits.shape
    if t.shape != (n,):
        raise ValueError(
            f"cross_entropy: logits have shape {logits.shape}, so targets need shape ({n},), got {t.shape}"
        )
    if t.size and (t.min() < 0 or t.max() >= c):
        raise ValueError(f"cross_entropy: targets must lie in [0, {c - 1}], got values from {t.min()} to {t.max()}")
    picked = logits.log_softmax(axis=1)[np.arange(n), t]
    return -picked.mean() if reduction == "mean" else -picked.sum()


def l2_penalty(parameters, weight: float = 1.0):
    """``weight * sum(p**2)`` over all parameters as one node: the weight penalty of micrograd's demo."""
    params = list(parameters)
    if params and _is_tensor(params[0]):
        from chainrule.tensor import sum_of_squares as tensor_sum_of_squares

        return tensor_sum_of_squares(params, weight)
    return sum_of_squares(params, weight)


def accuracy_from_scores(scores, targets) -> float:
    """Fraction of scores whose sign matches the ±1 label (micrograd's demo accuracy).

    ``scores`` and ``targets`` may be lists (of Values or numbers), arrays or Tensors.
    """
    if _is_tensor(scores) or hasattr(scores, "ravel"):
        preds = (scores.data if _is_tensor(scores) else scores).ravel().tolist()
    else:
        preds = [s.data if isinstance(s, Value) else s for s in _as_list(scores, "accuracy")]
    labels = targets.ravel().tolist() if hasattr(targets, "ravel") else list(targets)
    if len(preds) != len(labels):
        raise ValueError(f"accuracy: {len(preds)} scores but {len(labels)} labels")
    hits = [(y > 0) == (p > 0) for y, p in zip(labels, preds)]
    return sum(hits) / len(hits)
