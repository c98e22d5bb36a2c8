"""The losses on scalar Values: one node per term, as the notes build their loss.

Predictions and targets are Values or numbers, one each or in lists; ``chainrule.losses`` has
checked the arguments both engines share. Standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from numbers import Integral, Real

from chainrule.autodiff import is_tensor
from chainrule.engine import Value, value_sum
from chainrule.scalar_rules import ACTIVATIONS


def _is_array(x) -> bool:
    """A NumPy array (or another array with ``ndim`` and ``tolist``) that is not a Tensor."""
    return hasattr(x, "ndim") and hasattr(x, "tolist") and not is_tensor(x)


def _is_number(x) -> bool:
    # numbers.Real: int, float, bool and NumPy's scalars (np.float64, np.int64, ...), not complex or str.
    return isinstance(x, Real)


def _shown(x) -> str:
    """``x`` for an error message: its type and a short repr."""
    text = repr(x)
    return f"{type(x).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def _items(x, where: str, what: str) -> list:
    """``x`` as a list of Values and numbers, or an error naming ``where``.

    ``x`` is one Value or number, or a list, tuple, generator or 1-D array of them. Anything else (None,
    a string, a set, a Tensor among Values, nested lists) would pair predictions with targets wrongly or
    fail deep inside, so it is refused here with what to pass instead.
    """
    if isinstance(x, Value) or _is_number(x):
        return [x]
    if _is_array(x):
        x = x.tolist()  # Python floats; a 0-d array gives one number, a 2-d one nested lists (refused below)
        if not isinstance(x, list):
            return [x]
    if is_tensor(x):
        raise TypeError(
            f"{where}: {what} are a Tensor but the predictions are Values or numbers; use one engine for both: "
            f"Tensor predictions, or {what} as a list (t.data.tolist())"
        )
    if x is None or isinstance(x, (str, bytes, dict, set, frozenset)) or not isinstance(x, Iterable):
        raise TypeError(f"{where}: {what} must be a Value, a number, or a list of them, got {_shown(x)}")
    items = list(x)
    if not items:
        raise ValueError(f"{where}: got no {what}")
    for i, item in enumerate(items):
        if not (isinstance(item, Value) or _is_number(item)):
            if is_tensor(item):
                hint = "; use Tensors throughout: one Tensor of predictions, not a list of Tensors"
            elif isinstance(item, (list, tuple)) or _is_array(item):
                hint = "; flatten nested lists into one list"
            else:
                hint = ""
            raise TypeError(f"{where}: {what} must be Values or numbers, got {_shown(item)} at index {i}{hint}")
    return items


def _pairs(predictions, targets, where: str):
    preds = _items(predictions, where, "predictions")
    targs = _items(targets, where, "targets")
    if len(preds) != len(targs):
        raise ValueError(f"{where}: {len(preds)} predictions but {len(targs)} targets")
    return preds, targs


def _reduce(terms: list, reduction: str) -> Value:
    total = value_sum(terms)
    return total * (1.0 / len(terms)) if reduction == "mean" else total


def mse(predictions, targets, reduction: str = "sum"):
    """Squared error ``sum((prediction - target)**2)``, or its mean."""
    preds, targs = _pairs(predictions, targets, "mse")
    # d * d is (yout - ygt)**2 with the same value and gradient, except that a square too large for a float
    # is inf, as in PyTorch, where pow raises.
    return _reduce([d * d for d in (yout - ygt for ygt, yout in zip(targs, preds))], reduction)


def hinge(scores, targets, reduction: str = "mean"):
    """Max-margin loss ``relu(1 - y * score)`` for labels y in {-1, +1}, as in micrograd's demo."""
    preds, targs = _pairs(scores, targets, "hinge")
    _check_signs(targs, "hinge")
    return _reduce([_relu(1 + -yi * si) for yi, si in zip(targs, preds)], reduction)


def _relu(z):
    # A score and a label that are both plain numbers give a plain number (as mse's terms are), with no graph.
    return z.relu() if isinstance(z, Value) else ACTIVATIONS["relu"][0](float(z))


def _check_signs(labels: list, where: str) -> None:
    for y in labels:
        y = y.data if isinstance(y, Value) else y
        if y not in (-1, 1):
            raise ValueError(f"{where}: labels must be -1 or +1, got {y!r}")


def binary_cross_entropy(predictions, targets, reduction: str = "mean", from_logits: bool = False):
    """One ``-(y log p + (1 - y) log(1 - p))`` per pair, as one node each with ``from_logits``."""
    where = "binary_cross_entropy"
    preds, targs = _pairs(predictions, targets, where)
    _check_unit_interval([t.data if isinstance(t, Value) else t for t in targs], where)
    terms = []
    for p, y in zip(preds, targs):
        if from_logits:
            terms.append(_bce_with_logits(p, y))
        else:
            p = p if isinstance(p, Value) else Value(p)
            _check_probabilities([p.data])
            terms.append(-(y * p.log() + (1 - y) * (1 - p).log()))
    return _reduce(terms, reduction)


def _bce_with_logits(x, y) -> Value:
    """One example's ``(1 - y) x - log(sigmoid(x))`` as one node, computed as PyTorch computes it.

    ``log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|))``: exp never overflows, log1p keeps the tiny losses
    of confident right answers (4e-18 at x = 40, y = 1) that ``log(1 + ...)`` rounds to 0, and a NaN
    logit gives a NaN loss instead of an error from ``log``. The slopes: d/dx = sigmoid(x) - y, d/dy = -x.
    """
    xv = x.data if isinstance(x, Value) else float(x)
    yv = y.data if isinstance(y, Value) else float(y)
    e = math.exp(-abs(xv))  # <= 1
    # min(xv, 0.0) with xv first returns xv when it is NaN (0.0 < nan is False): NaN flows through.
    loss = (1.0 - yv) * xv - (min(xv, 0.0) - math.log1p(e))
    sigmoid = 1.0 / (1.0 + e) if xv >= 0.0 else e / (1.0 + e)
    children, slopes = [], []
    if isinstance(x, Value):
        children.append(x)
        slopes.append(sigmoid - yv)
    if isinstance(y, Value):
        children.append(y)
        slopes.append(-xv)

    def rule(*children_and_out):
        # The same slopes on Values, for create_graph: d/dx = sigmoid(x) - y, d/dy = -x.
        given = iter(children_and_out[:-1])
        xs = next(given) if isinstance(x, Value) else xv
        ys = next(given) if isinstance(y, Value) else yv
        return ([xs.sigmoid() - ys] if isinstance(x, Value) else []) + ([-xs] if isinstance(y, Value) else [])

    return Value(loss, tuple(children), "bce_with_logits", _local_grads=tuple(slopes), _rule=rule)


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
    """A list of logits and a class index (one example), or lists of them (a batch)."""
    where = "cross_entropy"
    if isinstance(logits, Value) or _is_number(logits):
        raise TypeError(f"{where}: logits must be a list of scores, one per class, got one {_shown(logits)}")
    if _is_array(logits):
        logits = logits.tolist()
    if logits is None or isinstance(logits, (str, bytes, dict, set, frozenset)) or not isinstance(logits, Iterable):
        raise TypeError(
            f"{where}: logits must be a list of Values or numbers, or a list of such lists, got {_shown(logits)}"
        )
    logits = list(logits)
    if not logits:
        raise ValueError(f"{where}: got no logits; pass a list of logits (one per class), or a list of such lists")
    if isinstance(logits[0], Value) or _is_number(logits[0]):
        return _one_cross_entropy(_items(logits, where, "logits"), targets)
    rows = []
    for i, row in enumerate(logits):
        if isinstance(row, Value) or _is_number(row):
            raise TypeError(
                f"{where}: example {i} is one number, {_shown(row)}; in a batch every example is a list of logits"
            )
        if is_tensor(row):
            raise TypeError(
                f"{where}: example {i} is a Tensor; pass one (N, C) Tensor of logits, not a list of Tensors"
            )
        rows.append(_items(row, where, f"logits of example {i}"))
    targs = _items(targets, where, "targets")
    if len(rows) != len(targs):
        raise ValueError(f"{where}: {len(rows)} examples but {len(targs)} targets")
    return _reduce([_one_cross_entropy(row, t) for row, t in zip(rows, targs)], reduction)


def _one_cross_entropy(logits: Sequence, target) -> Value:
    """One example's ``-log_softmax(logits)[target]`` as one node, computed as PyTorch computes it.

    ``log_softmax(z) = (z - m) - log(sum(exp(z - m)))`` with m the largest logit, so every exp is <= 1.
    The slopes are ``softmax(z) - onehot(target)``. A NaN logit makes the loss NaN, as in PyTorch.
    """
    if not isinstance(target, Integral) or isinstance(target, bool):
        # A float target is PyTorch's class probability, which this loss does not take.
        fractional = _is_number(target) and not isinstance(target, Integral)
        hint = "; class probabilities are not supported: pass the index of the right class" if fractional else ""
        raise TypeError(f"cross_entropy: target must be an integer class index, got {target!r}{hint}")
    target = int(target)
    if not 0 <= target < len(logits):
        raise ValueError(f"cross_entropy: target {target} is out of range for {len(logits)} classes")
    z = [x.data if isinstance(x, Value) else float(x) for x in logits]
    m = max(z)
    shifted = [x - m for x in z]  # NaN where the largest logit is infinite or NaN, as in PyTorch
    log_total = math.log(sum(math.exp(s) for s in shifted))  # the sum is >= 1 (exp(0) is in it) or NaN
    loss = -(shifted[target] - log_total)
    children, slopes = [], []
    for k, (x, s) in enumerate(zip(logits, shifted)):
        if isinstance(x, Value):
            children.append(x)
            slopes.append(math.exp(s - log_total) - (k == target))

    def rule(*children_and_out):
        # The same slopes on Values, for create_graph: softmax(z)_k - [k == target], with the
        # log-sum-exp rebuilt from small nodes (m is a constant shift, so it needs no gradient).
        given = iter(children_and_out[:-1])
        zs = [next(given) if isinstance(x, Value) else Value(zk) for x, zk in zip(logits, z)]
        log_total = value_sum([(zk - m).exp() for zk in zs]).log()
        # ((z - m) - log_total) as in the forward pass: z - lse would lose the digits of large logits
        return [
            ((zk - m) - log_total).exp() - (k == target)
            for k, (x, zk) in enumerate(zip(logits, zs))
            if isinstance(x, Value)
        ]

    return Value(loss, tuple(children), "cross_entropy", _local_grads=tuple(slopes), _rule=rule)
