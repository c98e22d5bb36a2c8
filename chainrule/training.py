"""The training runs behind the command line, written as plain loops you can read top to bottom.

* ``lecture``: the notes' loop, exactly: ``MLP(3, [4, 4, 1])`` on four examples, squared error.
* ``moons_demo``: micrograd's demo, hinge loss + L2, SGD with a decaying rate, on scalar Values or
  on Tensors.
* ``train_digits`` (in ``digits.py``): a 64-128-10 network on scikit-learn's handwritten digits, with Adam.
* ``train_names`` (in ``makemore.py``): the makemore lecture's language model of the names.
* ``evaluate``: a trained model's accuracy again, on the data its run used (``chainrule eval``).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from numbers import Integral, Real
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from chainrule.autodiff import zero_grad
from chainrule.losses import accuracy_from_scores, hinge, l2_penalty
from chainrule.nn import MLP
from chainrule.progress import progress_bar

if TYPE_CHECKING:  # NumPy is imported by the runs that need it, not by `chainrule lecture`
    import numpy as np

LECTURE_XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
LECTURE_YS = [1.0, -1.0, -1.0, 1.0]
# More steps (or epochs) than anyone will wait for; it keeps the counts in the range that the progress
# bar and the learning-rate schedule can do arithmetic with.
MAX_STEPS = 10**9
MOONS_NOISE = 0.1  # micrograd's demo
DIGITS_TEST_SIZE = 0.2  # the share of the digits held out for testing


class TrainingDiverged(FloatingPointError):
    """The loss of a run (or, after its last update, the model's output) became NaN or infinite.

    Raised by the training loops at the first such number instead of carrying on to report ``loss: nan``.
    ``what`` says what happened (``"the loss became nan"``), ``when`` where (``"at step 3"``; steps and
    epochs count from 0, as ``lecture`` prints them and ``history`` lists them) and ``lr`` is the run's
    learning rate, the usual cause. The command line turns them into its one-line message.
    """

    def __init__(self, where: str, what: str, when: str, lr: float):
        self.where, self.what, self.when, self.lr = where, what, when, lr
        super().__init__(f"{where}: {what} {when}; training diverged, try a smaller lr (it was {lr!r})")


def _check_loss(loss: float, where: str, when: str, lr: float, what: str = "the loss") -> None:
    """Stop the run at the first loss that is not a finite number (``what`` names it in the message)."""
    if not math.isfinite(loss):
        raise TrainingDiverged(where, f"{what} became {loss!r}", when, lr)


def _check_outputs(outputs, where: str, when: str, lr: float) -> None:
    """Stop if the model's outputs are not all finite numbers: after the last update no loss is left to
    show it, and an accuracy counted from NaN scores (or an argmax over NaN logits) is a made-up number."""
    import numpy as np

    outputs = np.asarray(outputs, dtype=float)
    finite = np.isfinite(outputs)
    if not finite.all():
        raise TrainingDiverged(where, f"the model's output became {outputs[~finite].flat[0].item()!r}", when, lr)


def _check_settings(where: str, lr: float, **counts: int) -> None:
    """The learning rate and the counts (steps, epochs, ...) of a run, or an error naming the bad one."""
    if not isinstance(lr, Real) or isinstance(lr, bool) or not 0 <= lr < math.inf:
        raise ValueError(f"{where}: lr must be a finite number >= 0, got {lr!r}")
    for name, n in counts.items():
        if not isinstance(n, Integral) or isinstance(n, bool) or not 1 <= n <= MAX_STEPS:
            raise ValueError(f"{where}: {name} must be a whole number from 1 to {MAX_STEPS}, got {n!r}")


@dataclass
class RunResult:
    """What a training run leaves behind: per-step history, final numbers, and files written.

    ``task`` says which data the run used, enough to make it again (plain JSON: ``chainrule train
    --save`` stores it in the model file, and ``evaluate(model, task)`` measures the model on it)."""

    history: dict = field(default_factory=dict)
    final: dict = field(default_factory=dict)
    files: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    model: object = None
    task: dict = field(default_factory=dict)
    samples: list = field(default_factory=list)  # what a language model made up (train names)


# -- the notes -------------------------------------------------------------------------------------
def lecture(steps: int = 20, lr: float = 0.05, seed: int = 0, log: Callable[[str], None] = print) -> RunResult:
    """The notes' training loop, printing ``k loss`` each step, then the predictions.

    Raises ``TrainingDiverged`` at the first loss that is NaN or infinite (a learning rate too large).
    """
    _check_settings("lecture", lr, steps=steps)
    random.seed(seed)
    n = MLP(3, [4, 4, 1])
    xs, ys = LECTURE_XS, LECTURE_YS
    losses = []
    for k in range(steps):
        # forward pass
        ypred = [n(x) for x in xs]
        loss = sum([(yout - ygt) ** 2 for ygt, yout in zip(ys, ypred)])
        _check_loss(loss.data, "lecture", f"at step {k}", lr)
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
    _check_outputs([y.data for y in ypred], "lecture", f"after step {steps - 1}", lr)
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
    params = model.parameters()
    total = hinge(scores, y) + l2_penalty(params, weight=alpha)
    zero_grad(params)  # model.zero_grad() would list the parameters again
    total.backward()
    loss = total.data if isinstance(scores, list) else total.item()  # a float either way
    if not isinstance(scores, list):
        # Let the step's graph go before the update: while it lives, the update must copy each weight
        # (a graph that saved it may still be differentiated); once it is gone the update is in place.
        scores, total = scores.detach(), None
    rate = lr * (1.0 - 0.9 * k / steps)
    for p in params:
        p.data -= rate * p.grad
    return loss, scores


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
    Raises ``TrainingDiverged`` at the first loss that is NaN or infinite (a learning rate too large).
    """
    from chainrule import data

    _check_settings("moons_demo", lr, steps=steps)

    task = {"dataset": "moons", "n_samples": n_samples, "noise": MOONS_NOISE, "seed": seed}
    X, y = data.moons(n_samples=n_samples, noise=MOONS_NOISE, seed=seed)
    if engine == "value":
        model = demo_model(seed)
        inputs, labels = X.tolist(), y.tolist()
        # 80 x 80 grid points, each a forward pass through scalar Values: a couple of seconds
        boundary, resolution, name = "moons_boundary.png", 80, "demo"
    elif engine == "tensor":
        from chainrule.tensor import Tensor

        model = tensor_demo_model(seed)
        inputs, labels = Tensor(X), y.reshape(-1, 1)
        boundary, resolution, name = "moons_tensor_boundary.png", 200, "train moons"
    else:
        raise ValueError(f"moons_demo: engine must be 'value' or 'tensor', got {engine!r}")

    def predict(points):
        return _moons_scores(model, points)

    history = {"loss": [], "accuracy": []}
    bar = progress_bar(range(steps), name, progress)
    for k in bar:
        loss, scores = demo_step(model, inputs, labels, k, steps, lr)
        _check_loss(loss, "moons_demo", f"at step {k}", lr)
        accuracy = accuracy_from_scores(scores, labels)
        history["loss"].append(loss)
        history["accuracy"].append(accuracy)
        bar.set_postfix(loss=f"{loss:.4f}", acc=f"{accuracy:.0%}", refresh=False)
    scores = predict(X)
    _check_outputs(scores, "moons_demo", f"after step {steps - 1}", lr)
    accuracy = accuracy_from_scores(scores, y)
    result = RunResult(
        history=history, final={"loss": history["loss"][-1], "accuracy": accuracy}, model=model, task=task
    )
    if out_dir is not None:
        title = f"chainrule ({engine.capitalize()} engine): moons decision boundary"
        _save_pictures(
            result,
            out_dir,
            boundary=(boundary, predict, X, y, title, resolution),
            history=(boundary.replace("boundary", "training"), f"chainrule {name}: loss and accuracy", "step"),
        )
    return result


def _moons_scores(model, points) -> np.ndarray:
    """The model's score for each row of ``points`` (an (N, 2) array), on whichever engine it uses."""
    import numpy as np

    from chainrule.engine import Value

    if any(isinstance(p, Value) for p in model.parameters()):  # the notes' MLP: one point at a time
        return np.array([model(p).data for p in points.tolist()])
    from chainrule.tensor import Tensor, no_grad

    with no_grad():
        return model(Tensor(points)).data.reshape(-1)


# -- a trained model, measured again ----------------------------------------------------------------
def evaluate(model, task: Mapping[str, Any]) -> tuple[str, float]:
    """``model``'s accuracy (or loss) on the data of ``task`` (a run's ``RunResult.task``), measured as the
    run did.

    Digits: ``("test accuracy", a)`` on the same held-out split; moons: ``("accuracy", a)`` on the points
    it was trained on; names: ``("val loss", l)`` on the lecture's validation split. The same model gives
    the same number its run reported."""
    import numpy as np

    from chainrule import data

    def setting(key: str):
        # Every setting must be there: a missing seed would mean a fresh random split, not the run's own.
        if task.get(key) is None:
            raise ValueError(f"evaluate: the {task['dataset']} task does not say its {key!r}: {dict(task)!r}")
        return task[key]

    def run(function, inputs, shape: str):
        # A model given another run's task (a digits model in a file that says moons) fails inside a layer,
        # whose message names the layer but not the mix-up.
        try:
            return function(model, inputs)
        except (ValueError, TypeError) as error:
            raise ValueError(
                f"evaluate: the model {model!r} does not take the {dataset} data ({shape}); was the file saved "
                f"by another command? {error}"
            ) from None

    dataset = task.get("dataset") if isinstance(task, Mapping) else None
    if dataset == "digits":
        split = data.digits(seed=setting("seed"), test_size=setting("test_size"))
        from chainrule.digits import digits_logits

        predictions = run(digits_logits, split.X_test, "64 pixels an image").argmax(axis=1)
        return "test accuracy", float(np.mean(predictions == split.y_test))
    if dataset == "moons":
        X, y = data.moons(n_samples=setting("n_samples"), noise=setting("noise"), seed=setting("seed"))
        return "accuracy", float(accuracy_from_scores(run(_moons_scores, X, "2 numbers a point"), y))
    if dataset == "names":
        from chainrule.makemore import split_loss

        split = data.names_dataset(block_size=setting("block_size"), seed=setting("split_seed"))
        shape = f"{split.block_size} characters of context an example"
        return "val loss", run(split_loss, split.val, shape)
    raise ValueError(f"evaluate: the task must name the dataset, 'digits', 'moons' or 'names'; got {task!r}")


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
    # Each plot function returns its figure; only the file is kept. The figures are not pyplot's, so
    # dropping them frees them: a long session or test run accumulates none.
    try:
        if history is not None:
            name, title, xlabel, *x = history  # an optional fourth item: the curves' x positions
            figure = plots.plot_history(
                result.history, out_dir / name, title=title, xlabel=xlabel, x=x[0] if x else None
            )
            result.files.append(figure.saved_path)
        if boundary is not None:
            name, predict, X, y, title, resolution = boundary
            figure = plots.plot_decision_boundary(predict, X, y, out_dir / name, title=title, resolution=resolution)
            result.files.append(figure.saved_path)
        if confusion is not None:
            name, y_true, y_pred, title = confusion
            figure = plots.plot_confusion_matrix(y_true, y_pred, out_dir / name, title=title)
            result.files.append(figure.saved_path)
    except ImportError as error:
        result.notes.append(f"pictures skipped: {error}")


def __getattr__(name: str):
    # The digits run has a file of its own (chainrule/digits.py); its names are still found here.
    if name in ("train_digits", "digits_model"):
        from chainrule import digits

        return getattr(digits, name)
    raise AttributeError(f"module 'chainrule.training' has no attribute {name!r}")
