"""The makemore names shipped in the package, the lecture's dataset built from them, and mini-batches."""

import hashlib
import random
import shutil
import subprocess
import sys
import zipfile
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from chainrule.data import NamesDataset, batches, digits, moons, names, names_dataset, random_batch

ROOT = Path(__file__).resolve().parent.parent
SHA256 = "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d"
SHIPPED = ROOT / "chainrule" / "data_files" / "names.txt"


@pytest.fixture(scope="module")
def dataset() -> NamesDataset:
    return names_dataset()


# --- names() -------------------------------------------------------------------------------------------


def test_the_shipped_file_is_the_lectures_copy():
    assert hashlib.sha256(SHIPPED.read_bytes()).hexdigest() == SHA256
    via_resources = (resources.files("chainrule") / "data_files" / "names.txt").read_bytes()
    assert hashlib.sha256(via_resources).hexdigest() == SHA256
    notice = (ROOT / "chainrule" / "data_files" / "README.md").read_text(encoding="utf-8")
    assert "MIT License" in notice and "Copyright (c) 2022 Andrej Karpathy" in notice
    assert "Social Security Administration" in notice


def test_names_are_the_files_lines_in_order():
    words = names()
    lines = SHIPPED.read_text(encoding="utf-8").split("\n")
    assert len(words) == 32_033 and words == lines
    assert words[0] == lines[0] == "emma" and words[-1] == lines[-1] == "zzyzx"
    assert all(w and w.isascii() and w.isalpha() and w.islower() for w in words)
    words.append("not shared")
    assert len(names()) == 32_033  # a new list each call


def test_a_wheel_carries_the_names_and_their_attribution(tmp_path):
    # Built from a copy of the sources, so the checkout gets no build/ or egg-info.
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "chainrule", src / "chainrule", ignore=shutil.ignore_patterns("__pycache__"))
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), "."],
        cwd=src,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = tmp_path.glob("chainrule-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        members = set(archive.namelist())
        assert "chainrule/data_files/names.txt" in members
        assert "chainrule/data_files/README.md" in members
        assert hashlib.sha256(archive.read("chainrule/data_files/names.txt")).hexdigest() == SHA256


def test_the_other_datasets_are_still_importable_from_chainrule_data():
    assert callable(moons) and callable(digits)


# --- names_dataset() -----------------------------------------------------------------------------------


def test_the_lectures_split_sizes(dataset):
    assert len(dataset.train.X) == len(dataset.train.Y) == 182_625
    assert len(dataset.val.X) == len(dataset.val.Y) == 22_655
    assert len(dataset.test.X) == len(dataset.test.Y) == 22_866
    for part in (dataset.train, dataset.val, dataset.test):
        assert part.X.shape == (len(part.Y), 3) and part.Y.shape == (len(part.Y),)
        assert part.X.dtype == np.int64 and part.Y.dtype == np.int64
        assert part.X.min() >= 0 and part.X.max() <= 26 and part.Y.min() >= 0 and part.Y.max() <= 26


def test_the_vocabulary_is_dot_then_a_to_z(dataset):
    assert dataset.itos == ["."] + [chr(c) for c in range(ord("a"), ord("z") + 1)]
    assert dataset.stoi == {ch: i for i, ch in enumerate(dataset.itos)}
    assert dataset.stoi["."] == 0 and dataset.stoi["a"] == 1 and dataset.stoi["z"] == 26
    assert dataset.vocab_size == 27 and dataset.block_size == 3


def test_a_private_random_matches_the_lectures_global_shuffle():
    lecture = names()
    random.seed(42)
    random.shuffle(lecture)
    ours = names()
    random.Random(42).shuffle(ours)
    assert ours == lecture
    assert lecture[:3] == ["yuheng", "diondre", "xavien"]


def test_the_first_training_examples_are_the_first_shuffled_word(dataset):
    # "yuheng": y=25 u=21 h=8 e=5 n=14 g=7, then "." ends it; the next word starts from "...".
    assert dataset.train.X[:8].tolist() == [
        [0, 0, 0],
        [0, 0, 25],
        [0, 25, 21],
        [25, 21, 8],
        [21, 8, 5],
        [8, 5, 14],
        [5, 14, 7],
        [0, 0, 0],
    ]
    assert dataset.train.Y[:7].tolist() == [25, 21, 8, 5, 14, 7, 0]
    assert dataset.train.Y[7] == dataset.stoi["d"]  # "diondre"


def test_no_example_crosses_a_word(dataset):
    words = names()
    random.Random(42).shuffle(words)
    n1, n2 = int(0.8 * len(words)), int(0.9 * len(words))
    for part, chunk in ((dataset.train, words[:n1]), (dataset.val, words[n1:n2]), (dataset.test, words[n2:])):
        # one "." target per word, and dots in a context only as the padding before a word's start
        assert int((part.Y == 0).sum()) == len(chunk)
        nonzero = part.X != 0
        assert not (nonzero[:, :-1] & ~nonzero[:, 1:]).any()
        # read back, the targets spell the words in order
        text = "".join(dataset.itos[i] for i in part.Y.tolist())
        assert text.split(".")[:-1] == chunk
        # each context is the (dot-padded) three characters before its target within the same word
        starts = np.r_[0, np.flatnonzero(part.Y == 0)[:-1] + 1]
        assert (part.X[starts] == 0).all()
        inside = np.setdiff1d(np.arange(len(part.Y)), starts)
        assert (part.X[inside, :-1] == part.X[inside - 1, 1:]).all()
        assert (part.X[inside, -1] == part.Y[inside - 1]).all()


def test_names_dataset_leaves_the_global_random_state_alone():
    random.seed(7)
    expected = random.random()
    random.seed(7)
    names_dataset(words=["ab", "cd"])
    assert random.random() == expected


def test_names_dataset_on_words_of_ones_own():
    data = names_dataset(
        block_size=2, seed=0, words=(w for w in ["ab", "ba", "abc", "c", "bb", "a", "ca", "cc", "b", "aa"])
    )
    assert data.itos == [".", "a", "b", "c"] and data.block_size == 2
    assert data.train.X.shape[1] == 2
    words = ["ab", "ba", "abc", "c", "bb", "a", "ca", "cc", "b", "aa"]
    random.Random(0).shuffle(words)
    assert len(data.train.Y) == sum(len(w) + 1 for w in words[:8])
    assert len(data.val.Y) == len(words[8]) + 1 and len(data.test.Y) == len(words[9]) + 1
    one = names_dataset(words=["x"])
    assert one.train.X.shape == (0, 3) and one.val.X.shape == (0, 3) and one.test.X.shape == (2, 3)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"block_size": 0}, "names_dataset: block_size must be a positive integer, got 0"),
        ({"block_size": 2.5}, "names_dataset: block_size must be a positive integer, got 2.5"),
        ({"block_size": True}, "names_dataset: block_size must be a positive integer, got True"),
        ({"seed": "42"}, "names_dataset: seed must be a whole number >= 0, got '42'"),
        ({"words": "emma"}, "names_dataset: words must be a list of strings"),
        ({"words": ["emma", 3]}, "names_dataset: words must be a list of strings"),
        ({"words": []}, "names_dataset: words is empty"),
        ({"words": ["em.ma"]}, "no word may hold it: 'em.ma'"),
    ],
)
def test_names_dataset_errors(kwargs, message):
    with pytest.raises(ValueError) as error:
        names_dataset(**kwargs)
    assert message in str(error.value)


# --- batches() and random_batch() ----------------------------------------------------------------------


def test_every_example_once_per_epoch():
    X = np.arange(103 * 2).reshape(103, 2)
    Y = np.arange(103) * 10
    got = list(batches(X, Y, batch_size=10, seed=0))
    assert [len(xb) for xb, _ in got] == [10] * 10 + [3]
    rows = np.concatenate([yb for _, yb in got]) // 10
    assert sorted(rows.tolist()) == list(range(103))
    assert rows.tolist() != list(range(103))  # shuffled
    for xb, yb in got:  # the same permutation for every array
        assert (xb[:, 0] == yb // 10 * 2).all()


def test_a_seed_gives_the_same_batches():
    X = np.arange(50)
    first = [b for (b,) in batches(X, batch_size=8, seed=123)]
    again = [b for (b,) in batches(X, batch_size=8, seed=123)]
    other = [b for (b,) in batches(X, batch_size=8, seed=124)]
    assert all((a == b).all() for a, b in zip(first, again))
    assert any((a != b).any() for a, b in zip(first, other))
    order = np.random.default_rng(123).permutation(50)
    assert (np.concatenate(first) == order).all()


def test_a_generator_gives_a_new_order_each_epoch():
    rng = np.random.default_rng(5)
    X = np.arange(40)
    one = np.concatenate([b for (b,) in batches(X, batch_size=16, seed=rng)])
    two = np.concatenate([b for (b,) in batches(X, batch_size=16, seed=rng)])
    assert sorted(one) == sorted(two) == list(range(40)) and (one != two).any()


def test_drop_last_and_no_shuffle():
    X = np.arange(23)
    kept = [b.tolist() for (b,) in batches(X, batch_size=5, shuffle=False)]
    assert kept == [list(range(i, min(i + 5, 23))) for i in range(0, 23, 5)]
    dropped = [b for (b,) in batches(X, batch_size=5, seed=1, drop_last=True)]
    assert [len(b) for b in dropped] == [5, 5, 5, 5]
    assert len(set(np.concatenate(dropped).tolist())) == 20
    assert list(batches(X, batch_size=30, drop_last=True)) == []
    (whole,) = list(batches(X, batch_size=30, shuffle=False))
    assert whole[0].tolist() == list(range(23))
    exact = list(batches(np.arange(20), batch_size=5, drop_last=True))
    assert len(exact) == 4


def test_batches_of_the_names_dataset(dataset):
    xb, yb = next(batches(dataset.train.X, dataset.train.Y, batch_size=32, seed=0))
    assert xb.shape == (32, 3) and yb.shape == (32,) and xb.dtype == np.int64


@pytest.mark.parametrize(
    "arrays, kwargs, message",
    [
        (
            (np.arange(5), np.arange(6)),
            {"batch_size": 2},
            "batches: the arrays must have the same number of rows, got [5, 6]",
        ),
        ((np.arange(5),), {"batch_size": 0}, "batches: batch_size must be a positive integer, got 0"),
        ((np.arange(5),), {"batch_size": 2.0}, "batches: batch_size must be a positive integer, got 2.0"),
        ((np.arange(5),), {"batch_size": True}, "batches: batch_size must be a positive integer, got True"),
        ((np.zeros((0, 3)), np.zeros(0)), {"batch_size": 4}, "batches: the arrays have no rows (an empty dataset)"),
        ((), {"batch_size": 4}, "batches: give at least one array"),
        ((np.float64(3.0),), {"batch_size": 1}, "batches: array 0 is a single number"),
        ((np.arange(5),), {"batch_size": 2, "seed": -1}, "batches: seed must be None, a whole number >= 0"),
        ((np.arange(5),), {"batch_size": 2, "seed": 1.5}, "batches: seed must be None, a whole number >= 0"),
    ],
)
def test_batches_errors_come_at_the_call(arrays, kwargs, message):
    with pytest.raises(ValueError) as error:
        batches(*arrays, **kwargs)  # not iterated: the checks run before the first batch is asked for
    assert message in str(error.value)


def test_random_batch():
    ix = random_batch(1000, 32, np.random.default_rng(0))
    assert ix.shape == (32,) and ix.dtype == np.int64 and ix.min() >= 0 and ix.max() < 1000
    assert (ix == np.random.default_rng(0).integers(0, 1000, size=32)).all()
    rng = np.random.default_rng(1)
    assert (random_batch(1000, 32, rng) != random_batch(1000, 32, rng)).any()
    assert (random_batch(1000, 32) != random_batch(1000, 32)).any()  # None: fresh entropy each call
    many = random_batch(5, 10_000, np.random.default_rng(3))
    assert set(many.tolist()) == {0, 1, 2, 3, 4}
    with pytest.raises(ValueError, match=r"random_batch: n must be a positive integer, got 0"):
        random_batch(0, 4)
    with pytest.raises(ValueError, match=r"random_batch: batch_size must be a positive integer, got -2"):
        random_batch(10, -2)


@pytest.mark.parametrize("rng", [7, np.int64(7), "seed", 1.5, np.random.RandomState(0)])
def test_random_batch_refuses_a_seed_which_would_draw_the_same_batch_every_step(rng):
    # random_batch(n, 32, rng=7) in a loop would make a new generator from 7 each step: one batch, forever.
    with pytest.raises(
        TypeError, match=r"^random_batch: rng must be a numpy.random.Generator or None, got .*; make one once"
    ):
        random_batch(10, 2, rng)
