"""The next lecture on chainrule: makemore's character-level language model of the names.

Given the three characters before it, the model gives a probability to each of the 27 characters
(``"."`` and a-z) that may come next; sampling one character after another, from ``"..."`` until a
``"."``, makes up a name. This is the network of the makemore lectures (Bengio et al. 2003, with batch
normalisation from part 3), built from chainrule's layers:

    Embedding(27, 10)            each character becomes a learned vector of 10 numbers
    Flatten()                    the 3 context vectors side by side: 30 numbers
    Linear(30, 200, bias=False)  the hidden layer (batch norm's shift makes a bias useless)
    BatchNorm1d(200)             each hidden unit centred and scaled over the batch
    Tanh()
    Linear(200, 27)              one logit per next character

and trained as the lecture trains it: 200,000 steps of SGD on random batches of 32 examples, with the
cross-entropy of the true next character as the loss, from a learning rate of 0.1. One change: the rate
comes down along a half cosine to 0.001, where the lecture drops it to 0.01 halfway, which reaches a lower
validation loss on the same steps. ``train_names`` is that loop; ``split_loss`` measures a model on a
whole split, and ``sample_names`` makes names up.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from chainrule import nn
from chainrule.autodiff import no_grad
from chainrule.data import XY, NamesDataset, names_dataset, random_batch
from chainrule.losses import cross_entropy
from chainrule.optim import SGD
from chainrule.progress import progress_bar
from chainrule.sampling import as_generator, multinomial
from chainrule.schedules import CosineAnnealingLR
from chainrule.training import RunResult, _check_loss, _check_settings, _save_pictures

# The lecture's settings (makemore part 3, "batch normalization").
BLOCK_SIZE = 3  # characters of context
EMBEDDING_DIM = 10
HIDDEN = 200
STEPS = 200_000
BATCH_SIZE = 32
LR = 0.1  # at the start; it follows a half cosine down to LR * FINAL_LR_SHARE at the last step
FINAL_LR_SHARE = 0.01
BN_MOMENTUM = 0.001  # the lecture's running estimates move this much towards each batch's
OUTPUT_STD = 0.01  # the last layer starts near zero, so the first predictions are all about 1/27
SPLIT_SEED = 42  # random.seed(42); random.shuffle(words): the lecture's split, whatever --seed is
LOG_POINTS = 200  # the loss curve's points: one per 1,000 steps of the default run


def names_model(
    vocab_size: int = 27,
    block_size: int = BLOCK_SIZE,
    embedding_dim: int = EMBEDDING_DIM,
    hidden: int = HIDDEN,
    seed: int | np.random.Generator | None = 0,
    dtype=np.float64,
) -> nn.Sequential:
    """The lecture's MLP language model with batch normalisation, initialised as the lecture does it.

    The hidden layer's weight is Kaiming-scaled for tanh, N(0, (5/3)**2 / fan_in), so the tanh units
    start neither saturated nor idle; the output layer's weight is N(0, 0.01**2) and its bias 0, so the
    first loss is about -ln(1/27) = 3.30 rather than a confident, wrong guess. ``seed`` (an int or a
    ``numpy.random.Generator``) makes the weights reproducible.
    """
    rng = as_generator(seed, "names_model")
    fan_in = block_size * embedding_dim
    model = nn.Sequential(
        nn.Embedding(vocab_size, embedding_dim, rng=rng, dtype=dtype),
        nn.Flatten(),
        nn.Linear(fan_in, hidden, bias=False, rng=rng, dtype=dtype, init="kaiming", gain="tanh"),
        nn.BatchNorm1d(hidden, momentum=BN_MOMENTUM, dtype=dtype),
        nn.Tanh(),
        # Kaiming's N(0, gain**2 / fan_in) with gain = 0.01 * sqrt(fan_in) is the lecture's N(0, 0.01**2).
        nn.Linear(hidden, vocab_size, rng=rng, dtype=dtype, init="kaiming", gain=OUTPUT_STD * math.sqrt(hidden)),
    )
    return model


def split_loss(model, split: XY, chunk: int = 20_000) -> float:
    """The mean cross-entropy of ``model`` over a whole split, in evaluation mode (batch norm uses its
    running statistics, so each example's loss does not depend on the others); the model's mode is
    restored afterwards. The examples go through ``chunk`` at a time: the 182,625 training examples at
    once would need several arrays of 182,625 x 200 numbers (290 MB each)."""
    X, Y = split
    if len(X) == 0:
        raise ValueError("split_loss: the split holds no examples")
    with _evaluating(model), no_grad():
        total = sum(
            cross_entropy(model(X[i : i + chunk]), Y[i : i + chunk], reduction="sum").item()
            for i in range(0, len(X), chunk)
        )
    return total / len(X)


@contextmanager
def _evaluating(model):
    """``model`` in ``eval()`` mode inside, and every layer back in its own mode after: a batch norm the
    user froze with ``eval()`` while the rest trains stays frozen (``model.train(was_training)`` would
    have put it back into training)."""
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for module, training in modes:
            module.training = training


def sample_names(model, dataset: NamesDataset, count: int = 20, seed: int | np.random.Generator | None = 0) -> list:
    """``count`` names made up by ``model``: each starts from a context of dots and takes one character
    at a time, drawn from the model's probabilities (``multinomial``), until it draws ``"."``."""
    generator = as_generator(seed, "sample_names")
    made = []
    # eval(): one example at a time, so batch norm must use its running statistics
    with _evaluating(model), no_grad():
        for _ in range(count):
            context, name = [0] * dataset.block_size, []
            while True:
                probs = model(np.array([context])).softmax(axis=1)
                ix = int(multinomial(probs.data[0], 1, generator=generator)[0])
                if ix == 0:
                    break
                name.append(dataset.itos[ix])
                context = context[1:] + [ix]
            made.append("".join(name))
    return made


def train_names(
    steps: int = STEPS,
    batch_size: int = BATCH_SIZE,
    lr: float = LR,
    seed: int = 0,
    samples: int = 20,
    out_dir: Path | None = None,
    progress: bool = True,
    dataset: NamesDataset | None = None,
) -> RunResult:
    """Train ``names_model`` on the lecture's split of the names, as the lecture does.

    Each step draws ``batch_size`` random training examples (with repeats) and takes one SGD step on their
    mean cross-entropy; the learning rate starts at ``lr`` and comes down to ``lr / 100`` along a half
    cosine (``CosineAnnealingLR``). ``seed`` sets the weights, the batches and the sampled names (the
    split itself is always the lecture's). The
    result's ``final`` holds the train and validation losses (batch norm in evaluation mode), its
    ``samples`` the names made up, and its ``history`` the mean training loss and the validation loss at
    ``LOG_POINTS`` points (each training entry the mean over the steps since the last). With ``out_dir``
    the curves are saved there as ``names_loss.png``.

    Raises ``TrainingDiverged`` at the first loss that is not a finite number.
    """
    where = "train_names"
    _check_settings(where, lr, steps=steps, batch_size=batch_size)
    dataset = names_dataset(BLOCK_SIZE, SPLIT_SEED) if dataset is None else dataset
    rng = as_generator(seed, where)
    model = names_model(dataset.vocab_size, dataset.block_size, seed=rng)
    optimizer = SGD(model.parameters(), lr=lr)
    # From lr down to lr / 100 along a half cosine, where the lecture drops lr to lr / 10 halfway: on the
    # same steps and batches that reached validation losses of 2.1000 and 2.1038 (seeds 0 and 1) against
    # the drop's 2.1084 and 2.1102 (the lecture's own run: 2.1057).
    schedule = CosineAnnealingLR(optimizer, T_max=steps, eta_min=lr * FINAL_LR_SHARE)
    X, Y = dataset.train
    # The training loss is logged LOG_POINTS times (each the mean over the steps since the last); the
    # validation loss, a pass over 22,655 examples, a tenth as often.
    every, val_every = max(1, steps // LOG_POINTS), max(1, steps // (LOG_POINTS // 10))
    history = {"train loss": [], "val loss": []}
    logged_at = {"train loss": [], "val loss": []}
    block_total = 0.0

    bar = progress_bar(range(steps), "train names", progress)
    for step in bar:
        rows = random_batch(len(X), batch_size, rng)
        loss = cross_entropy(model(X[rows]), Y[rows])
        value = loss.item()
        _check_loss(value, where, f"at step {step}", lr)  # the rate asked for, not the schedule's of this step
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        block_total += value
        done = step + 1
        if done % every == 0 or done == steps:
            history["train loss"].append(block_total / (step % every + 1))
            logged_at["train loss"].append(done)
            block_total = 0.0
            bar.set_postfix(loss=f"{history['train loss'][-1]:.4f}", refresh=False)
        if done % val_every == 0 or done == steps:
            history["val loss"].append(split_loss(model, dataset.val))
            logged_at["val loss"].append(done)
            bar.set_postfix(
                loss=f"{history['train loss'][-1]:.4f}", val=f"{history['val loss'][-1]:.4f}", refresh=False
            )

    final = {"train loss": split_loss(model, dataset.train), "val loss": split_loss(model, dataset.val)}
    for name, value in final.items():
        # After the last update no training loss is left to show a blow-up: these are the first to see it
        # (and names sampled from NaN probabilities would fail with a message about sampling).
        _check_loss(value, where, f"after step {steps - 1}", lr, what=f"the model's {name}")
    result = RunResult(
        history=history,
        final=final,
        model=model,
        task={"dataset": "names", "block_size": dataset.block_size, "split_seed": SPLIT_SEED, "seed": seed},
        samples=sample_names(model, dataset, samples, rng),
    )
    if out_dir is not None:
        _save_pictures(
            result,
            out_dir,
            history=("names_loss.png", "chainrule train names: loss", "step", logged_at),
        )
    return result
