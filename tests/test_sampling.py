"""chainrule.sampling.multinomial: torch.multinomial's draws for NumPy arrays, from a seeded generator."""

import numpy as np
import pytest

import chainrule
from chainrule.sampling import multinomial

# chi-square with 3 and 4 degrees of freedom exceeded with probability 0.001
CHI2_3, CHI2_4 = 16.27, 18.47


def chi_square(counts, p) -> float:
    expected = np.asarray(p, dtype=float) / np.sum(p) * np.sum(counts)
    keep = expected > 0
    assert (counts[~keep] == 0).all()  # a category of weight zero is never drawn
    return float((((counts - expected) ** 2)[keep] / expected[keep]).sum())


def test_frequencies_follow_the_unnormalised_weights():
    weights = [0.5, 1.0, 0.0, 1.5, 2.0]  # sums to 5, a zero in the middle
    draws = multinomial(weights, 200_000, replacement=True, generator=0)
    assert draws.shape == (200_000,) and draws.dtype == np.int64
    counts = np.bincount(draws, minlength=5)
    assert counts[2] == 0
    assert chi_square(counts, weights) < CHI2_3


def test_rows_are_drawn_each_from_its_own_weights():
    probs = np.array([[0.0, 0.0, 1.0, 0.0, 0.0], [1, 2, 3, 4, 5], [5, 4, 3, 2, 1]], dtype=float)
    draws = multinomial(probs, 100_000, replacement=True, generator=np.random.default_rng(1))
    assert draws.shape == (3, 100_000)
    assert (draws[0] == 2).all()
    for row, weights in zip(draws[1:], probs[1:]):
        assert chi_square(np.bincount(row, minlength=5), weights) < CHI2_4


def test_one_sample_a_step_as_the_lecture_samples():
    # ix = torch.multinomial(p, num_samples=1, replacement=True, generator=g).item(), one generator throughout
    weights = np.array([1.0, 3.0, 6.0])
    rng = np.random.default_rng(2147483647)
    draws = np.array([multinomial(weights, 1, replacement=True, generator=rng)[0] for _ in range(5_000)])
    assert chi_square(np.bincount(draws, minlength=3), weights) < 13.82  # 2 degrees of freedom
    # num_samples=1 draws the same with or without replacement (a single index either way)
    assert multinomial(weights, generator=5).shape == (1,)


def test_without_replacement_the_indices_differ():
    weights = np.array([[1.0, 0.0, 2.0, 3.0, 4.0]] * 4)
    draws = multinomial(weights, 4, generator=3)
    assert draws.shape == (4, 4)
    for row in draws:
        assert sorted(row.tolist()) == [0, 2, 3, 4]  # every positive category once, the zero one never
    # the first of the draws follows the weights (rows of one array, each drawn on its own)
    first = multinomial(np.tile(weights[0], (5_000, 1)), 2, generator=np.random.default_rng(4))[:, 0]
    assert chi_square(np.bincount(first, minlength=5), weights[0]) < CHI2_3


def test_a_seed_gives_the_same_draws_and_a_generator_moves_on():
    p = np.full(27, 1 / 27)
    assert (multinomial(p, 50, True, generator=42) == multinomial(p, 50, True, generator=42)).all()
    assert (multinomial(p, 50, True, generator=42) != multinomial(p, 50, True, generator=43)).any()
    rng = np.random.default_rng(0)
    assert (multinomial(p, 50, True, generator=rng) != multinomial(p, 50, True, generator=rng)).any()
    again = np.random.default_rng(0)
    first = multinomial(p, 50, True, generator=again)
    assert (first == multinomial(p, 50, True, generator=np.random.default_rng(0))).all()
    unseeded = multinomial(p, 5, True)
    assert unseeded.shape == (5,) and unseeded.min() >= 0 and unseeded.max() < 27


def test_a_tensor_a_list_and_huge_or_tiny_weights():
    t = chainrule.Tensor([[0.0, 2.0], [3.0, 0.0]])
    assert multinomial(t, 3, replacement=True, generator=0).tolist() == [[1, 1, 1], [0, 0, 0]]
    assert multinomial([0, 0, 7], 4, replacement=True, generator=0).tolist() == [2, 2, 2, 2]
    huge = multinomial([1e308, 1e308], 10_000, replacement=True, generator=0)
    assert 4_500 < np.count_nonzero(huge) < 5_500
    tiny = multinomial([1e-320, 0.0, 3e-320], 10_000, replacement=True, generator=0)
    assert set(tiny.tolist()) == {0, 2}
    assert multinomial(np.array([1.0], dtype=np.float32), 3, replacement=True, generator=0).tolist() == [0, 0, 0]


@pytest.mark.parametrize(
    "probs, kwargs, message",
    [
        ([0.5, -0.1, 0.6], {}, "multinomial: probs must be >= 0, it holds -0.1"),
        ([0.5, np.nan], {}, "multinomial: probs must be finite, it holds NaN or infinity"),
        ([0.5, np.inf], {}, "multinomial: probs must be finite, it holds NaN or infinity"),
        ([0.0, 0.0], {}, "multinomial: probs sums to zero: there is no category to draw"),
        ([[1.0, 0.0], [0.0, 0.0]], {}, "multinomial: row 1 of probs sums to zero: there is no category to draw"),
        (0.5, {}, "multinomial: probs must be 1-D or 2-D (rows of weights), got shape ()"),
        (np.ones((2, 2, 2)), {}, "multinomial: probs must be 1-D or 2-D (rows of weights), got shape (2, 2, 2)"),
        (np.ones((2, 0)), {}, "multinomial: probs has no categories (shape (2, 0))"),
        (["a", "b"], {}, "multinomial: probs must be an array of numbers, got list"),
        ([1.0, 1.0], {"num_samples": 0}, "multinomial: num_samples must be a positive integer, got 0"),
        ([1.0, 1.0], {"num_samples": 1.5}, "multinomial: num_samples must be a positive integer, got 1.5"),
        ([1.0, 1.0], {"replacement": "yes"}, "multinomial: replacement must be True or False, got 'yes'"),
        (
            [1.0, 1.0],
            {"generator": -1},
            "multinomial: generator must be None, a whole number >= 0 or a numpy Generator",
        ),
        (
            [1.0, 1.0],
            {"generator": "g"},
            "multinomial: generator must be None, a whole number >= 0 or a numpy Generator",
        ),
        (
            [1.0, 0.0, 1.0],
            {"num_samples": 3},
            "multinomial: probs has 2 categories of positive weight, too few for num_samples=3 without replacement",
        ),
        (
            [[1.0, 1.0], [1.0, 0.0]],
            {"num_samples": 2},
            "multinomial: row 1 of probs has 1 categories of positive weight, too few for num_samples=2",
        ),
    ],
)
def test_errors(probs, kwargs, message):
    with pytest.raises(ValueError) as error:
        multinomial(probs, **kwargs)
    assert message in str(error.value)
