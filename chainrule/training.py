"""The training runs behind the command line, written as plain loops you can read top to bottom.

* ``lecture``: the notes' loop, exactly: ``MLP(3, [4, 4, 1])`` on four examples, squared error.
* ``moons_demo``: micrograd's demo, hinge loss + L2, SGD with a decaying rate, on scalar Values or
  on Tensors.
* ``train_digits``: a 64-128-10 network on scikit-learn's handwritten digits, with Adam.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from chainrule.losses import accuracy_from_scores, hinge, l2_penalty
from chainrule.nn import MLP

LECTURE_XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
LECTURE_YS = [1.0, -1.0, -1.0, 1.0]


def _progress(iterable, desc: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc, disable=not enabled, leave=True, dynamic_ncols=True)


@dataclass
class RunResult:
    """What a training run leaves behind: per-step history, final numbers, and files written."""

    history: dict = field(default_factory=dict)
    final: dict = field(default_factory=dict)
    files: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    model: object = None


# -- the notes -------------------------------------------------------------------------------------
def lecture(steps: int = 20, lr: float = 0.05, seed: int = 0, log: Callable[[str], None] = print) -> RunResult:
    """The notes' training loop, printing ``k loss`` each step, then the predictions."""
    random.seed(seed)
    n = MLP(3, [4, 4, 1])
    xs, ys = LECTURE_XS, LECTURE_YS
    losses = []
    for k in range(steps):
        # forward pass
        ypred = [n(x) for x in xs]
        loss = sum([(yout - ygt) ** 2 for ygt, yout in zip(ys, ypred)])
        # backward pass
        for p in n.parameters():
            p.grad = 0.0
        loss.backward()
        # update
        for p in n.parameters():
            p.data += -lr * p.grad
        log(f"{k} {loss.data}")
        losses.append(loss.data)
    ypred = [n(x) for x in xs]
    log("predictions: " + ", ".join(f"{y.data:+.4f}" for y in ypred) + f"  (targets {ys})")
    return RunResult(
        history={"loss": losses}, final={"loss": losses[-1], "predictions": [y.data for y in ypred]}, model=n
    )


# -- micrograd's moons demo, on either engine ------------------------------------------------------
def demo_model(seed: int = 1337) -> MLP:
    """``MLP(2, [16, 16, 1])``: ReLU hidden layers and a linear output, as in micrograd's demo."""
    return MLP(2, [16, 16, 1], activation="relu", output_activation="linear", rng=random.Random(seed))


def tensor_demo_model(seed: int = 1337):
    """The demo's network on Tensors, initialized like the scalar ``MLP``: every weight uniform in (-1, 1)."""
    import numpy as np

    from chainrule.nn import Linear, ReLU, Sequential

    rng = np.random.default_rng(seed)
    model = Sequential(Linear(2, 16, rng=rng), ReLU(), Linear(16, 16, rng=rng), ReLU(), Linear(16, 1, rng=rng))
    for p in model.parameters():
        p.data = rng.uniform(-1.0, 1.0, size=p.shape)
    return model


def demo_step(model, X, y, k: int, steps: int, lr: float = 1.0, alpha: float = 1e-4):
    """One full-batch step of the demo: hinge loss + ``alpha`` * L2, backward, SGD at ``lr (1 - 0.9 k / steps)``.

    Scalar engine: ``model`` an ``MLP``, ``X`` a list of points, ``y`` a list of ±1 labels. Tensor
    engine: ``model`` a ``Sequential``, ``X`` an (N, 2) Tensor, ``y`` an (N, 1) array of ±1 labels.
    Returns the loss (a float) and the scores computed before the update.
    """
    scores = [model(x) for x in X] if isinstance(X, list) else model(X)
    total = hinge(scores, y) + l2_penalty(model.parameters(), weight=alpha)
    model.zero_grad()
    total.backward()
    rate = lr * (1.0 - 0.9 * k / steps)
    for p in model.parameters():
        p.data -= rate * p.grad
    return float(total.data), scores


def moons_demo(
    steps: int = 100,
    lr: float = 1.0,
    seed: int = 1337,
    n_samples: int = 100,
    out_dir: Path | None = None,
    progress: bool = True,
    engine: str = "value",
) -> RunResult:
    """micrograd's demo: two moons, ``MLP(2, [16, 16, 1])``, hinge + L2, ``steps`` steps of SGD.

    ``engine='value'`` trains the scalar ``MLP`` (one node per number, ``chainrule demo``);
    ``engine='tensor'`` the same network on Tensors (one node per array operation, ``chainrule train moons``).
    """
    import numpy as np

    from chainrule import data

    X, y = data.moons(n_samples=n_samples, noise=0.1, seed=seed)
    if engine == "value":
        model = demo_model(seed)
        inputs, labels = X.tolist(), y.tolist()

        def predict(points):
            return np.array([model(p).data for p in points.tolist()])

        # 80 x 80 grid points, each a forward pass through scalar Values: a couple of seconds
        boundary, resolution, name = "moons_boundary.png", 80, "demo"
    elif engine == "tensor":
        from chainrule.tensor import Tensor, no_grad

        model = tensor_demo_model(seed)
        inputs, labels = Tensor(X), y.reshape(-1, 1)

        def predict(points):
            with no_grad():
                return model(Tensor(points)).data.reshape(-1)

        boundary, resolution, name = "moons_tensor_boundary.png", 200, "train moons"
    else:
        raise ValueError(f"moons_demo: engine must be 'value' or 'tensor', got {engine!r}")

    history = {"loss": [], "accuracy": []}
    bar = _progress(range(steps), name, progress)
    for k in bar:
        loss, scores = demo_step(model, inputs, labels, k, steps, lr)
        accuracy = accuracy_from_scores(scores, labels)
        history["loss"].append(loss)
        history["accuracy"].append(accuracy)
        bar.set_postfix(loss=f"{loss:.4f}", acc=f"{accuracy:.0%}")
    accuracy = accuracy_from_scores(predict(X), y)
    result = RunResult(history=history, final={"loss": history["loss"][-1], "accuracy": accuracy}, model=model)
    if out_dir is not None:
        title = f"chainrule ({engine.capitalize()} engine): moons decision boundary"
        _save_pictures(
            result,
            out_dir,
            boundary=(boundary, predict, X, y, title, resolution),
            history=(boundary.replace("boundary", "training"), f"chainrule {name}: loss and accuracy"),
        )
    return result


# -- handwritten digits -----------------------------------------------------------------------------
def digits_model(seed: int = 0, hidden: int = 128):
    from chainrule.nn import Linear, ReLU, Sequential

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
    """An MLP 64-128-10 trained with Adam on scikit-learn's digits (80/20 stratified split)."""
    import numpy as np

    from chainrule import data
    from chainrule.losses import cross_entropy
    from chainrule.optim import Adam
    from chainrule.tensor import Tensor, no_grad

    split = data.digits(seed=seed)
    model = digits_model(seed, hidden)
    optimizer = Adam(model.parameters(), lr=lr)
    order_rng = np.random.default_rng(seed)
    n = len(split.X_train)
    history = {"loss": [], "accuracy": [], "test accuracy": []}

    def predict(X):
        with no_grad():
            return model(Tensor(X)).data.argmax(axis=1)

    bar = _progress(range(epochs), "train digits", progress)
    for _epoch in bar:
        order = order_rng.permutation(n)
        epoch_loss = 0.0
        for start in range(0, n, batch_size):
            batch = order[start : start + batch_size]
            loss = cross_entropy(model(Tensor(split.X_train[batch])), split.y_train[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            epoch_loss += float(loss.data) * len(batch)
        train_accuracy = float(np.mean(predict(split.X_train) == split.y_train))
        test_accuracy = float(np.mean(predict(split.X_test) == split.y_test))
        history["loss"].append(epoch_loss / n)
        history["accuracy"].append(train_accuracy)
        history["test accuracy"].append(test_accuracy)
        bar.set_postfix(loss=f"{epoch_loss / n:.4f}", acc=f"{train_accuracy:.1%}", test=f"{test_accuracy:.1%}")

    predictions = predict(split.X_test)
    result = RunResult(
        history=history,
        final={
            "loss": history["loss"][-1],
            "train accuracy": history["accuracy"][-1],
            "test accuracy": float(np.mean(predictions == split.y_test)),
        },
        model=model,
    )
    if out_dir is not None:
        _save_pictures(
            result,
            out_dir,
            history=("digits_training.png", "chainrule train digits: loss and accuracy"),
            confusion=("digits_confusion.png", split.y_test, predictions, "digits: confusion matrix (test set)"),
        )
    return result


# -- pictures ---------------------------------------------------------------------------------------
def _save_pictures(result: RunResult, out_dir: Path, boundary=None, history=None, confusion=None) -> None:
    """Save the run's pictures with matplotlib; where it is missing, say so instead of failing."""
    try:
        from chainrule.viz import plots
    except ImportError as error:
        result.notes.append(f"pictures skipped: {error}")
        return
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        if history is not None:
            name, title = history
            result.files.append(plots.plot_history(result.history, out_dir / name, title=title))
        if boundary is not None:
            name, predict, X, y, title, resolution = boundary
            result.files.append(
                plots.plot_decision_boundary(predict, X, y, out_dir / name, title=title, resolution=resolution)
            )
        if confusion is not None:
            name, y_true, y_pred, title = confusion
            result.files.append(plots.plot_confusion_matrix(y_true, y_pred, out_dir / name, title=title))
    except ImportError as error:
        result.notes.append(f"pictures skipped: {error}")
