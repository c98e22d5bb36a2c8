"""Datasets for the demos: micrograd's two moons and scikit-learn's handwritten digits.

Both come from scikit-learn (the digits ship inside it: 1,797 real 8x8 scans, nothing to download).
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np

INSTALL_HINT = "pip install 'chainrule[demo]'"
# scikit-learn's random_state takes seeds in [0, 2**32 - 1].
MAX_SEED = 2**32 - 1


def _check_seed(seed, where: str) -> None:
    # None (a fresh random draw each call) is scikit-learn's own default and stays allowed.
    if seed is not None and (not isinstance(seed, Integral) or isinstance(seed, bool) or not 0 <= seed <= MAX_SEED):
        raise ValueError(f"{where}: seed must be a whole number from 0 to {MAX_SEED}, got {seed!r}")


def _sklearn_datasets():
    try:
        from sklearn import datasets, model_selection
    except ImportError:
        raise ImportError(f"the datasets come from scikit-learn, which is not installed; {INSTALL_HINT}") from None
    return datasets, model_selection


def moons(n_samples: int = 100, noise: float = 0.1, seed: int = 1337) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles, as in micrograd's demo: ``X`` (n, 2) and labels ``y`` in {-1, +1}."""
    if not isinstance(n_samples, Integral) or isinstance(n_samples, bool) or n_samples < 2:
        raise ValueError(f"moons: n_samples must be a whole number >= 2, got {n_samples!r}")
    if noise is not None and (not isinstance(noise, Real) or not 0 <= noise < math.inf):
        raise ValueError(f"moons: noise must be a finite number >= 0 (the spread of the points), got {noise!r}")
    _check_seed(seed, "moons")
    datasets, _ = _sklearn_datasets()
    try:
        X, y = datasets.make_moons(n_samples=int(n_samples), noise=noise, random_state=seed)
    except (MemoryError, ValueError) as error:  # the arguments are checked above: only the size is left
        raise MemoryError(
            f"moons: cannot make {n_samples} samples ({error or 'out of memory'}); ask for fewer"
        ) from None
    return X.astype(np.float64), (y * 2 - 1).astype(np.float64)


class Split(NamedTuple):
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray


def digits(seed: int = 0, test_size: float = 0.2) -> Split:
    """scikit-learn's 8x8 digits, pixels scaled to [0, 1], split 80/20 keeping each digit's share."""
    _check_seed(seed, "digits")
    datasets, model_selection = _sklearn_datasets()
    bunch = datasets.load_digits()
    X = (bunch.data / 16.0).astype(np.float64)
    y = bunch.target.astype(np.int64)
    try:
        parts = model_selection.train_test_split(X, y, test_size=test_size, stratify=y, random_state=seed)
    except ValueError as error:
        # scikit-learn's reason (a fraction outside (0, 1), or too few images left for all ten digits in a part)
        raise ValueError(f"digits: cannot split off test_size={test_size!r}: {error}") from None
    return Split(*parts)
