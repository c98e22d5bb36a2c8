"""Losses: one number that says how wrong the predictions are, whose gradient training follows.

Every function takes either scalar ``Value`` s (a list of predictions, as in the notes) or a
``Tensor``, and returns a single ``Value`` or a one-element ``Tensor`` to call ``backward()`` on.

Each gives PyTorch's number or an error that starts with the function's name (``cross_entropy: ...``)
and says what was wrong. NaN in the predictions flows through to the loss, as in PyTorch; a loss is
never quietly computed from inputs it has no meaning for (a wrong shape, a label outside its domain,
nothing at all).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from numbers import Integral, Real

from chainrule.autodiff import is_tensor
from chainrule.engine import Value, sum_of_squares, value_sum

REDUCTIONS = ("mean", "sum")


# -- what the arguments are ------------------------------------------------------------------------


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


def _check_reduction(reduction: str, where: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{where}: reduction must be 'mean' or 'sum', got {reduction!r}")


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


# -- Tensors ---------------------------------------------------------------------------------------
def _tensor_target(targets, like, where: str):
    """Targets as a Tensor shaped like ``like`` (numbers and arrays take ``like``'s dtype), or a shape error.

    A Tensor target is used as it is, so a gradient reaches it if it requires one; numbers and arrays
    become a constant Tensor around the converted array (no copy: losses only read their targets).
    """
    from chainrule.tensor import as_float_array, constant

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
    import numpy as np

    if np.count_nonzero(bad):
        wrong = data[bad]
        raise ValueError(f"{where}: {requirement}, got {wrong.ravel()[0].item()!r} ({wrong.size} such value(s))")


def _check_not_empty(predictions, reduction: str, where: str) -> None:
    # PyTorch returns nan for the mean of no terms (0 / 0): a number that would quietly poison training,
    # so an empty batch is an error here. The sum of no terms is 0, as in PyTorch.
    if reduction == "mean" and predictions.size == 0:
        raise ValueError(
            f"{where}: got no predictions (shape {predictions.shape}), and a mean over none is undefined; "
            "pass at least one, or reduction='sum' (which gives 0)"
        )


def _tensor_reduce(t, reduction: str):
    return t.mean() if reduction == "mean" else t.sum()


# -- the losses ------------------------------------------------------------------------------------
def mse(predictions, targets, reduction: str = "sum"):
    """Squared error ``sum((prediction - target)**2)``, the notes' loss; ``reduction='mean'`` averages."""
    _check_reduction(reduction, "mse")
    if is_tensor(predictions):
        _check_not_empty(predictions, reduction, "mse")
        diff = predictions - _tensor_target(targets, predictions, "mse")
        return _tensor_reduce(diff * diff, reduction)
    preds, targs = _pairs(predictions, targets, "mse")
    # d * d is (yout - ygt)**2 with the same value and gradient, except that a square too large for a float
    # is inf, as in PyTorch, where pow raises.
    return _reduce([d * d for d in (yout - ygt for ygt, yout in zip(targs, preds))], reduction)


def hinge(scores, targets, reduction: str = "mean"):
    """Max-margin loss ``relu(1 - y * score)`` for labels y in {-1, +1}, as in micrograd's demo."""
    _check_reduction(reduction, "hinge")
    if is_tensor(scores):
        import numpy as np

        if is_tensor(targets) and targets.requires_grad:
            raise ValueError("hinge: labels are constants (-1 or +1); pass them without requires_grad")
        from chainrule.tensor import hinge_loss

        _check_not_empty(scores, reduction, "hinge")
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
    ``from_logits=True``, which computes the same loss without ever taking ``log(0)``, by PyTorch's
    formula ``(1 - y) x - log(sigmoid(x))``.
    """
    where = "binary_cross_entropy"
    _check_reduction(reduction, where)
    if from_logits not in (True, False):  # a string such as "False" would count as true
        raise TypeError(f"{where}: from_logits must be True or False, got {from_logits!r}")
    if is_tensor(predictions):
        _check_not_empty(predictions, reduction, where)
        y = _tensor_target(targets, predictions, where)
        t = y.data
        _check_tensor_values(~((t >= 0) & (t <= 1)), t, where, "targets must lie in [0, 1]")
        if from_logits:
            terms = _tensor_bce_with_logits(predictions, y)
        else:
            p = predictions.data
            _check_tensor_values(
                ~((p > 0) & (p < 1)),
                p,
                where,
                "predictions must be probabilities strictly between 0 and 1 (pass raw scores with from_logits=True)",
            )
            terms = -(y * predictions.log() + (1 - y) * (1 - predictions).log())
        return _tensor_reduce(terms, reduction)
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


def _tensor_bce_with_logits(x, y):
    """Every entry's ``(1 - y) x - log(sigmoid(x))`` as one Tensor node (see ``_bce_with_logits``)."""
    import numpy as np

    from chainrule.tensor import record

    a, t = x._data, y._data
    e = np.exp(-np.abs(a))
    # At x = +-inf PyTorch's formula meets 0 * inf or inf - inf and gives NaN; so does this one, quietly.
    with np.errstate(invalid="ignore"):
        terms = (1.0 - t) * a - (np.minimum(a, 0.0) - np.log1p(e))
    return record(terms.astype(x.dtype, copy=False), "bce_with_logits", (x, y), _bce_rule(), (a, t))


def _bce_rule():
    """d/dx = sigmoid(x) - y, d/dy = -x; written with Tensor methods, so it runs on arrays or Tensors."""
    global _BCE_RULE
    if _BCE_RULE is None:
        from chainrule import array_math as xp
        from chainrule.tensor import Rule

        _BCE_RULE = Rule("a b", lambda g, x, y: g * (xp.sigmoid(x) - y), lambda g, x, y: g * -x)
    return _BCE_RULE


_BCE_RULE = None


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
    list of such lists with a list of ints. Tensor form: an ``(N, C)`` Tensor and ``N`` integer targets,
    or, as in PyTorch, a ``(C,)`` Tensor (one example) and one integer target.
    The largest logit is subtracted before ``exp`` (log-sum-exp), so large logits never overflow.
    """
    where = "cross_entropy"
    _check_reduction(reduction, where)
    if is_tensor(logits):
        return _tensor_cross_entropy(logits, targets, reduction)
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


def _tensor_cross_entropy(logits, targets, reduction: str):
    import numpy as np

    where = "cross_entropy"
    if targets is None:
        raise TypeError(f"{where}: targets are None; pass one integer class index per example")
    if isinstance(targets, Iterator):
        targets = list(targets)  # NumPy would make one object out of a generator, not an array of its items
    t = np.asarray(targets.data if is_tensor(targets) else targets)
    if t.dtype.kind not in "iu":
        held = (
            " (a Tensor holds floats: pass the indices as integers, e.g. t.data.astype(int))"
            if is_tensor(targets)
            else ""
        )
        raise TypeError(
            f"{where}: targets must be integer class indices, got dtype {t.dtype}{held}; "
            "convert them, e.g. np.asarray(targets, dtype=int)"
        )
    if logits.ndim == 1 and t.ndim == 0:
        # One example, as PyTorch takes it: (C,) logits and one class index.
        logits, t = logits.reshape(1, logits.shape[0]), t.reshape(1)
    if logits.ndim != 2:
        raise ValueError(
            f"{where}: logits must have shape (N, C), got {logits.shape} "
            "(or shape (C,) with a single class index for one example)"
        )
    n, c = logits.shape
    if c == 0:
        raise ValueError(f"{where}: logits have shape {logits.shape}: no classes to choose from")
    if t.shape != (n,):
        raise ValueError(f"{where}: logits have shape {logits.shape}, so targets need shape ({n},), got {t.shape}")
    _check_not_empty(logits, reduction, where)
    if t.size and (t.min() < 0 or t.max() >= c):
        raise ValueError(f"{where}: targets must lie in [0, {c - 1}], got values from {t.min()} to {t.max()}")
    picked = logits.log_softmax(axis=1)[np.arange(n), t]
    # Negated before reducing, so that an empty batch sums to 0.0 as in PyTorch, not to -0.0.
    return _tensor_reduce(-picked, reduction)


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
            from chainrule.tensor import sum_of_squares as tensor_sum_of_squares

            return tensor_sum_of_squares(parameters, weight)
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
        from chainrule.tensor import sum_of_squares as tensor_sum_of_squares

        return tensor_sum_of_squares(params, weight)
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


def _numbers(x, what: str) -> list[float]:
    """Scores or labels as floats: arrays and Tensors of any shape are read in order (flattened)."""
    if is_tensor(x):
        x = x.data
    if _is_array(x):
        x = x.ravel()
    return [v.data if isinstance(v, Value) else float(v) for v in _items(x, "accuracy_from_scores", what)]
