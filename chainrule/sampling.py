"""Drawing category indices from probabilities: ``multinomial``, torch.multinomial for NumPy arrays.

It is what the makemore lectures sample names with: ``ix = multinomial(probs, 1, generator=g)[0]``, one
character at a time. Standard library and NumPy only; it takes no gradient.
"""

from __future__ import annotations

import numpy as np

from chainrule.nn.module import check_size

__all__ = ["multinomial", "as_generator"]


def as_generator(seed, where: str, name: str = "seed") -> np.random.Generator:
    """A ``numpy.random.Generator`` from what chainrule's random draws take: a Generator (used as is, so a
    loop passing one gets new draws each call), a whole-number seed >= 0 (``np.random.default_rng(seed)``:
    the same draws every time), or None (fresh entropy). The one place ``multinomial``, ``data.batches``
    and ``data.random_batch`` turn their argument into a generator; anything else is a ValueError naming
    ``where`` and ``name``."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng()
    try:
        return np.random.default_rng(check_size(seed, name, where, minimum=0))
    except ValueError:
        raise ValueError(
            f"{where}: {name} must be None, a whole number >= 0 or a numpy Generator, got {seed!r}"
        ) from None


def _which(weights: np.ndarray, row: int) -> str:
    """How the errors name one row of ``probs``: all of it when it is 1-D."""
    return "probs" if weights.ndim == 1 else f"row {row} of probs"


def _weights(probs) -> tuple[np.ndarray, np.ndarray]:
    """``probs`` checked, as a float64 array, and how many categories of positive weight each row has."""
    # A chainrule Tensor gives its values (.data, a NumPy array); anything else goes through np.asarray.
    data = getattr(probs, "data", None)
    values = data if isinstance(data, np.ndarray) and not isinstance(probs, np.ndarray) else probs
    try:
        weights = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"multinomial: probs must be an array of numbers, got {type(probs).__name__}") from None
    if weights.ndim not in (1, 2):
        raise ValueError(f"multinomial: probs must be 1-D or 2-D (rows of weights), got shape {weights.shape}")
    if weights.shape[-1] == 0:
        raise ValueError(f"multinomial: probs has no categories (shape {weights.shape})")
    if not np.isfinite(weights).all():
        raise ValueError("multinomial: probs must be finite, it holds NaN or infinity")
    if (weights < 0).any():
        raise ValueError(f"multinomial: probs must be >= 0, it holds {float(weights.min())!r}")
    positive = np.count_nonzero(np.atleast_2d(weights) > 0, axis=1)
    empty = np.flatnonzero(positive == 0)
    if empty.size:
        raise ValueError(f"multinomial: {_which(weights, int(empty[0]))} sums to zero: there is no category to draw")
    return weights, positive


def multinomial(probs, num_samples: int = 1, replacement: bool = False, *, generator=None) -> np.ndarray:
    """Indices drawn from the categories of ``probs``, each with probability weight / (sum of its row).

    As ``torch.multinomial``: ``probs`` is 1-D (one distribution; the result has shape ``(num_samples,)``)
    or 2-D (one distribution a row; the result has shape ``(rows, num_samples)``), of weights that need not
    sum to 1 but must be finite and >= 0 with a positive sum in every row. ``replacement=False`` (PyTorch's
    default) draws ``num_samples`` different indices, so it needs at least that many categories of
    positive weight; ``replacement=True`` draws each index independently (with ``num_samples=1`` the two
    agree). ``probs`` may be a NumPy array, a list or a chainrule Tensor.

    ``generator`` is a ``numpy.random.Generator`` (pass the same one each call, as the lecture passes one
    ``torch.Generator``), a whole-number seed (``np.random.default_rng(seed)``: the same draws every time),
    or None (fresh entropy). The result is an int64 array. The draws are NumPy's, so a seed does not give
    PyTorch's numbers for the same seed.
    """
    weights, positive = _weights(probs)
    num_samples = check_size(num_samples, "num_samples", "multinomial")
    if not isinstance(replacement, (bool, np.bool_)):
        raise ValueError(f"multinomial: replacement must be True or False, got {replacement!r}")
    rng = as_generator(generator, "multinomial", "generator")
    rows = np.atleast_2d(weights)
    if not replacement:
        short = np.flatnonzero(positive < num_samples)
        if short.size:
            row = int(short[0])
            raise ValueError(
                f"multinomial: {_which(weights, row)} has {int(positive[row])} categories of positive weight, "
                f"too few for num_samples={num_samples} without replacement (pass replacement=True)"
            )
    out = np.empty((rows.shape[0], num_samples), dtype=np.int64)
    for i, row in enumerate(rows):
        p = row / row.max()  # first by the largest, so that a row of huge weights does not sum to infinity
        p = p / p.sum()
        if replacement:
            # Inverse CDF: the first category whose running total passes a uniform draw. A draw at the very
            # top (rounding) is given to the last category of positive weight.
            cdf = np.cumsum(p)
            picks = np.searchsorted(cdf, rng.random(num_samples) * cdf[-1], side="right")
            out[i] = np.minimum(picks, np.flatnonzero(p > 0)[-1])
        else:
            out[i] = rng.choice(len(p), size=num_samples, replace=False, p=p)
    return out[0] if weights.ndim == 1 else out
