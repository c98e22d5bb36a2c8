"""Datasets for the demos: micrograd's two moons and scikit-learn's handwritten digits.

Both come from scikit-learn (the digits ship inside it: 1,797 real 8x8 scans, nothing to download).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

INSTALL_HINT = "pip install 'chainrule[demo]'"


def _sklearn_datasets():
    try:
        from sklearn import datasets, model_selection
    except ImportError:
        raise ImportError(f"the datasets come from scikit-learn, which is not installed; {INSTALL_HINT}") from None
    return datasets, model_selection


def moons(n_samples: int = 100, noise: float = 0.1, seed: int = 1337) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles, as in micrograd's demo: ``X`` (n, 2) and labels ``y`` in {-1, +1}."""
    if n_samples < 2:
        raise ValueError(f"moons: need at least 2 samples, got {n_samples}")
    datasets, _ = _sklearn_datasets()
    X, y = datasets.make_moons(n_samples=n_samples, noise=noise, random_state=seed)
    return X.astype(np.float64), (y * 2 - 1).astype(np.float64)


class Split(NamedTuple):
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray


def digits(seed: int = 0, test_size: float = 0.2) -> Split:
    """scikit-learn's 8x8 digits, pixels scaled to [0, 1], split 80/20 keeping each digit's share."""
    datasets, model_selection = _sklearn_datasets()
    bunch = datasets.load_digits()
    X = (bunch.data / 16.0).astype(np.float64)
    y = bunch.target.astype(np.int64)
    parts = model_selection.train_test_split(X, y, test_size=test_size, stratify=y, random_state=seed)
    return Split(*parts)
