"""The Tensor engine on real data: a 64-128-10 network trained with Adam on scikit-learn's handwritten
digits (1,797 real 8x8 scans; an 80/20 stratified split), ``chainrule train digits``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from chainrule import data
from chainrule.autodiff import no_grad
from chainrule.losses import cross_entropy
from chainrule.nn import Linear, ReLU, Sequential
from chainrule.nn.module import check_size
from chainrule.optim import Adam
from chainrule.progress import progress_bar
from chainrule.tensor import Tensor
from chainrule.training import DIGITS_TEST_SIZE, RunResult, _check_loss, _check_outputs, _check_settings, _save_pictures


def digits_model(seed: int = 0, hidden: int = 128) -> Sequential:
    """``Linear(64, hidden)``, ReLU, ``Linear(hidden, 10)``: one logit per digit."""
    return Sequential(Linear(64, hidden, rng=seed), ReLU(), Linear(hidden, 10, rng=seed + 1))


def train_digits(
    epochs: int = 30,
    lr: float = 5e-3,
    batch_size: int = 64,
    seed: int = 0,
    hidden: int = 128,
    out_dir: Path | None = None,
    progress: bool = True,
) -> RunResult:
    """An MLP 64-128-10 trained with Adam on scikit-learn's digits (80/20 stratified split).

    Raises ``TrainingDiverged`` at the first batch whose loss is NaN or infinite (a learning rate too large).
    """

    _check_settings("train_digits", lr, epochs=epochs)
    batch_size = check_size(batch_size, "batch_size", "train_digits")
    task = {"dataset": "digits", "test_size": DIGITS_TEST_SIZE, "seed": seed}
    split = data.digits(seed=seed, test_size=DIGITS_TEST_SIZE)
    model = digits_model(seed, hidden)
    optimizer = Adam(model.parameters(), lr=lr)
    order_rng = np.random.default_rng(seed)
    n = len(split.X_train)
    history = {"loss": [], "accuracy": [], "test accuracy": []}

    def logits(X):
        return digits_logits(model, X)

    def predict(X):
        return logits(X).argmax(axis=1)

    bar = progress_bar(range(epochs), "train digits", progress)
    for epoch in bar:
        order = order_rng.permutation(n)
        epoch_loss = 0.0
        for start in range(0, n, batch_size):
            batch = order[start : start + batch_size]
            loss = cross_entropy(model(Tensor(split.X_train[batch])), split.y_train[batch])
            value = float(loss.data)
            _check_loss(value, "train_digits", f"in epoch {epoch} (batch {start // batch_size})", lr)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            epoch_loss += value * len(batch)
        train_logits, test_logits = logits(split.X_train), logits(split.X_test)
        for outputs in (train_logits, test_logits):
            _check_outputs(outputs, "train_digits", f"after epoch {epoch}", lr)
        train_accuracy = float(np.mean(train_logits.argmax(axis=1) == split.y_train))
        test_accuracy = float(np.mean(test_logits.argmax(axis=1) == split.y_test))
        history["loss"].append(epoch_loss / n)
        history["accuracy"].append(train_accuracy)
        history["test accuracy"].append(test_accuracy)
        bar.set_postfix(
            loss=f"{epoch_loss / n:.4f}", acc=f"{train_accuracy:.1%}", test=f"{test_accuracy:.1%}", refresh=False
        )

    predictions = predict(split.X_test)
    result = RunResult(
        history=history,
        final={
            "loss": history["loss"][-1],
            "train accuracy": history["accuracy"][-1],
            "test accuracy": float(np.mean(predictions == split.y_test)),
        },
        model=model,
        task=task,
    )
    if out_dir is not None:
        _save_pictures(
            result,
            out_dir,
            history=("digits_training.png", "chainrule train digits: loss and accuracy", "epoch"),
            confusion=("digits_confusion.png", split.y_test, predictions, "digits: confusion matrix (test set)"),
        )
    return result


def digits_logits(model, X) -> np.ndarray:
    """The model's 10 logits for each row of ``X`` (no graph is recorded)."""
    with no_grad():
        return model(Tensor(X)).data
