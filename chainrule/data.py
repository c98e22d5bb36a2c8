"""Datasets for the demos: micrograd's two moons, scikit-learn's handwritten digits, the makemore names.

The moons and digits come from scikit-learn (the digits ship inside it: 1,797 real 8x8 scans, nothing to
download). The 32,033 names of the makemore lectures ship inside chainrule (``data_files/names.txt``, MIT
License, Copyright (c) 2022 Andrej Karpathy; see ``data_files/README.md``): ``names()`` reads them,
``names_dataset()`` builds the lecture's training, validation and test sets, and ``batches()`` and
``random_batch()`` draw mini-batches from arrays.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from importlib import resources
from numbers import Real
from typing import NamedTuple

import numpy as np

from chainrule.nn.module import check_size
from chainrule.sampling import as_generator

INSTALL_HINT = "pip install 'chainrule[demo]'"
# scikit-learn's random_state takes seeds in [0, 2**32 - 1].
MAX_SEED = 2**32 - 1


def _check_seed(seed, where: str) -> None:
    # None (a fresh random draw each call) is scikit-learn's own default and stays allowed.
    try:
        allowed = seed is None or check_size(seed, "seed", where, minimum=0) <= MAX_SEED
    except ValueError:
        allowed = False
    if not allowed:
        raise ValueError(f"{where}: seed must be a whole number from 0 to {MAX_SEED}, got {seed!r}")


def _sklearn_datasets():
    try:
        from sklearn import datasets, model_selection
    except ImportError:
        raise ImportError(f"the datasets come from scikit-learn, which is not installed; {INSTALL_HINT}") from None
    return datasets, model_selection


def moons(n_samples: int = 100, noise: float = 0.1, seed: int = 1337) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles, as in micrograd's demo: ``X`` (n, 2) and labels ``y`` in {-1, +1}."""
    n_samples = check_size(n_samples, "n_samples", "moons", minimum=2)
    if noise is not None and (not isinstance(noise, Real) or not 0 <= noise < math.inf):
        raise ValueError(f"moons: noise must be a finite number >= 0 (the spread of the points), got {noise!r}")
    _check_seed(seed, "moons")
    datasets, _ = _sklearn_datasets()
    try:
        X, y = datasets.make_moons(n_samples=n_samples, noise=noise, random_state=seed)
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


# --- the makemore names --------------------------------------------------------------------------------

NAMES_FILE = "names.txt"


def names() -> list[str]:
    """The makemore lectures' 32,033 names (lowercase a-z), in the file's order.

    Read from the copy inside the package with ``importlib.resources``, so it works offline and from a
    wheel. Each call returns a new list.
    """
    # one name a step: Traversable.joinpath takes several names only from Python 3.11 on
    text = (resources.files("chainrule") / "data_files" / NAMES_FILE).read_text(encoding="utf-8")
    return text.splitlines()


class XY(NamedTuple):
    """One part of a dataset: inputs ``X`` and targets ``Y`` (int64 NumPy arrays, one example a row)."""

    X: np.ndarray
    Y: np.ndarray


class NamesDataset(NamedTuple):
    """The makemore lecture's dataset: contexts of ``block_size`` characters and the character that follows.

    ``itos`` lists the vocabulary by index (``"."``, the start and end of a name, is 0; for the names the
    letters a-z are 1..26) and ``stoi`` maps each character back to its index.
    """

    train: XY
    val: XY
    test: XY
    stoi: dict
    itos: list
    block_size: int

    @property
    def vocab_size(self) -> int:
        return len(self.itos)


def _examples(words: Sequence[str], stoi: dict, block_size: int) -> XY:
    # The lecture's build_dataset: each word, then ".", predicted from the block_size characters before it,
    # the context starting as block_size dots.
    X, Y = [], []
    for word in words:
        context = [0] * block_size
        for ch in word + ".":
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]
    return XY(np.array(X, dtype=np.int64).reshape(len(X), block_size), np.array(Y, dtype=np.int64))


def names_dataset(block_size: int = 3, seed: int = 42, *, words: Sequence[str] | None = None) -> NamesDataset:
    """The makemore lecture's split of the names into training, validation and test examples.

    As the lecture builds it: the vocabulary is ``"."`` (index 0) and the words' characters, sorted (a-z,
    1..26, for the names); the words are shuffled as ``random.seed(seed); random.shuffle(words)`` would
    (on a copy, with a ``random.Random(seed)`` of its own: the global random state is left alone); the
    first 80% make the training set, the next 10% the validation set, the rest the test set. Every word
    gives one example per character and one for the ``"."`` that ends it, each from the ``block_size``
    characters before it (dots before the word's start). With the defaults the three sets hold 182,625,
    22,655 and 22,866 examples, the lecture's numbers.

    ``words`` replaces the names with words of your own (none may contain ``"."``).
    """
    block_size = check_size(block_size, "block_size", "names_dataset")
    seed = check_size(seed, "seed", "names_dataset", minimum=0)
    if words is None:
        words = names()
    else:
        words = None if isinstance(words, str) else list(words)
        if words is None or not all(isinstance(w, str) for w in words):
            raise ValueError("names_dataset: words must be a list of strings")
        if not words:
            raise ValueError("names_dataset: words is empty")
        dotted = next((w for w in words if "." in w), None)
        if dotted is not None:
            raise ValueError(
                f"names_dataset: '.' marks the start and end of a word, so no word may hold it: {dotted!r}"
            )
    itos = ["."] + sorted(set("".join(words)))
    stoi = {ch: i for i, ch in enumerate(itos)}
    random.Random(seed).shuffle(words)
    n1, n2 = int(0.8 * len(words)), int(0.9 * len(words))
    return NamesDataset(
        train=_examples(words[:n1], stoi, block_size),
        val=_examples(words[n1:n2], stoi, block_size),
        test=_examples(words[n2:], stoi, block_size),
        stoi=stoi,
        itos=itos,
        block_size=block_size,
    )


# --- mini-batches --------------------------------------------------------------------------------------


def batches(
    *arrays,
    batch_size: int,
    shuffle: bool = True,
    seed: int | np.random.Generator | None = None,
    drop_last: bool = False,
) -> Iterator[tuple[np.ndarray, ...]]:
    """One epoch of mini-batches: tuples holding the same rows of each array (rows along the first axis).

    ``shuffle`` draws one permutation of the rows for all the arrays, from ``np.random.default_rng(seed)``
    (a seed gives the same batches every time; a ``numpy.random.Generator`` is used as is, so an epoch
    loop passing one generator gets a new order each epoch); ``shuffle=False`` keeps the rows in order.
    Every row appears in exactly one batch. The last batch holds what is left over (fewer than
    ``batch_size`` rows) unless ``drop_last`` drops it; so with ``drop_last`` and fewer rows than
    ``batch_size`` there are no batches at all.

    The arguments are checked when ``batches`` is called, not at the first batch: no arrays, arrays of
    different lengths, arrays with no rows (an empty dataset is an error, not an epoch of nothing), and a
    ``batch_size`` that is not a whole number >= 1 raise ``ValueError``.
    """
    batch_size = check_size(batch_size, "batch_size", "batches")
    if not arrays:
        raise ValueError("batches: give at least one array")
    arrays = tuple(np.asarray(a) for a in arrays)
    for i, a in enumerate(arrays):
        if a.ndim == 0:
            raise ValueError(f"batches: array {i} is a single number, not rows of examples")
    lengths = [len(a) for a in arrays]
    if len(set(lengths)) > 1:
        raise ValueError(f"batches: the arrays must have the same number of rows, got {lengths}")
    n = lengths[0]
    if n == 0:
        raise ValueError("batches: the arrays have no rows (an empty dataset)")
    order = as_generator(seed, "batches").permutation(n) if shuffle else np.arange(n)
    stop = n - n % batch_size if drop_last else n

    def epoch():
        for start in range(0, stop, batch_size):
            rows = order[start : start + batch_size]
            yield tuple(a[rows] for a in arrays)

    return epoch()


def random_batch(n: int, batch_size: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """The lecture's mini-batch: ``batch_size`` row indices drawn uniformly from ``0..n-1``, with repeats.

    The NumPy form of ``torch.randint(0, n, (batch_size,), generator=g)``: ``X[ix], Y[ix]`` is the batch.
    ``rng`` is a ``numpy.random.Generator`` made once, before the training loop, and passed every step (as
    the lecture makes one ``torch.Generator``), or None for fresh entropy. A seed is refused with a
    TypeError: a new generator from the same seed every step would draw the same batch every step, and
    the model would train on ``batch_size`` examples only.
    """
    n = check_size(n, "n", "random_batch")
    batch_size = check_size(batch_size, "batch_size", "random_batch")
    if not (rng is None or isinstance(rng, np.random.Generator)):
        raise TypeError(
            f"random_batch: rng must be a numpy.random.Generator or None, got {rng!r}; make one once, before "
            "the loop (rng = np.random.default_rng(seed)), and pass it every step: a seed here would draw "
            "the same batch every step"
        )
    return as_generator(rng, "random_batch", "rng").integers(0, n, size=batch_size, dtype=np.int64)
