"""One whole-number check (``chainrule.nn.module.check_size``) and one seeded generator
(``chainrule.sampling.as_generator``), shared by layers, data, sampling and schedules: each argument below
takes the same kinds of number and refuses the same others, in the same words."""

from __future__ import annotations

import re

import numpy as np
import pytest

from chainrule import Value
from chainrule.data import batches, moons, names_dataset, random_batch
from chainrule.nn import MLP
from chainrule.nn.module import check_size
from chainrule.optim import SGD, CosineAnnealingLR, StepLR
from chainrule.sampling import as_generator, multinomial


def _optimizer():
    return SGD([Value(1.0)], lr=0.1)


# Each counted argument, called with a value: (what the message starts with, the call, its minimum).
COUNTS = [
    ("MLP: nin (number of inputs)", lambda n: MLP(n, [1]), 1),
    ("batches: batch_size", lambda n: batches(np.arange(4), batch_size=n), 1),
    ("random_batch: batch_size", lambda n: random_batch(4, n), 1),
    ("multinomial: num_samples", lambda n: multinomial([1.0, 1.0], n, replacement=True), 1),
    ("StepLR: step_size", lambda n: StepLR(_optimizer(), step_size=n), 1),
    ("CosineAnnealingLR: T_max", lambda n: CosineAnnealingLR(_optimizer(), T_max=n), 1),
    ("names_dataset: block_size", lambda n: names_dataset(n, words=["ab", "ba"]), 1),
    ("names_dataset: seed", lambda n: names_dataset(2, n, words=["ab", "ba"]), 0),
]


@pytest.mark.parametrize("start, call, minimum", COUNTS, ids=[c[0] for c in COUNTS])
def test_every_count_takes_ints_and_numpy_ints(start, call, minimum):
    call(minimum + 2)
    call(np.int64(minimum + 2))  # NumPy integers count, as in PyTorch (StepLR refused them before)


@pytest.mark.parametrize("start, call, minimum", COUNTS, ids=[c[0] for c in COUNTS])
@pytest.mark.parametrize("bad", [True, 2.0, "3", None, "below"])
def test_every_count_refuses_the_same_values_in_the_same_words(start, call, minimum, bad):
    bad = minimum - 1 if bad == "below" else bad
    wanted = "a positive integer" if minimum == 1 else f"a whole number >= {minimum}"
    with pytest.raises(ValueError, match="^" + re.escape(f"{start} must be {wanted}, got {bad!r}") + "$"):
        call(bad)


def test_check_size_gives_a_plain_int():
    assert type(check_size(np.int32(3), "n", "f")) is int
    with pytest.raises(ValueError, match=r"^moons: n_samples must be a whole number >= 2, got 1$"):
        moons(1)


def test_as_generator_uses_a_generator_as_is_and_seeds_a_new_one_from_a_seed():
    rng = np.random.default_rng(0)
    assert as_generator(rng, "f") is rng
    assert as_generator(5, "f").integers(0, 10**9) == np.random.default_rng(5).integers(0, 10**9)
    assert as_generator(np.uint8(5), "f").integers(0, 10**9) == np.random.default_rng(5).integers(0, 10**9)
    assert isinstance(as_generator(None, "f"), np.random.Generator)


@pytest.mark.parametrize("bad", [-1, 1.5, True, "0", np.random.RandomState(0)])
def test_batches_and_multinomial_refuse_the_same_seeds_in_the_same_words(bad):
    with pytest.raises(ValueError, match=r"^batches: seed must be None, a whole number >= 0 or a numpy Generator"):
        batches(np.arange(4), batch_size=2, seed=bad)
    with pytest.raises(
        ValueError, match=r"^multinomial: generator must be None, a whole number >= 0 or a numpy Generator"
    ):
        multinomial([1.0, 1.0], generator=bad)
