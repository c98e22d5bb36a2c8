"""Pictures of a training run: the loss and accuracy curves, the decision boundary a model learned on
2-D data, and the confusion matrix of its predictions.

Each function returns its matplotlib figure (Jupyter shows it inline) and, given a path, also saves it
as a PNG there (the figure's ``saved_path``). Drawn with matplotlib's Agg renderer on a ``Figure`` made
directly (not through ``pyplot``), so no window ever opens, the backend of your own session (Jupyter, a
GUI) is left alone, and no figure stays open in ``pyplot`` to be closed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

DEMO_INSTALL_HINT = "pip install 'chainrule[demo]'"


def _new_figure(width: float, height: float):
    """A ``PlotFigure`` drawn by Agg, or an ImportError that says how to install matplotlib."""
    try:
        from chainrule.viz.figure import PlotFigure
    except ImportError:
        raise ImportError(f"chainrule's plots need matplotlib: {DEMO_INSTALL_HINT}") from None
    return PlotFigure(figsize=(width, height), dpi=100, layout="constrained")


def _check_path(path: str | Path | None) -> Path | None:
    # Checked before drawing, so a wrong name fails at once and writes nothing.
    if path is None:
        return None
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"plots are saved as PNG: give a path ending in .png, got {str(path)!r}")
    return path


def _finish(fig, path: Path | None):
    """Save ``fig`` where asked (noting where in ``fig.saved_path``) and return it."""
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format="png")
        fig.saved_path = path
    return fig


def class_name(label: Any) -> str:
    """A class label as the pictures show it: ``-1.0`` as ``-1`` (labels are often whole floats)."""
    if isinstance(label, (float, np.floating)) and float(label).is_integer():
        return str(int(label))
    return str(label)


# -- training curves ----------------------------------------------------------------------------------
def plot_history(
    history: Mapping[str, Sequence[float]],
    path: str | Path | None = None,
    title: str = "Training history",
    xlabel: str = "step",
    x: Mapping[str, Sequence[float]] | None = None,
):
    """Draw training curves, one line per entry of ``history`` (a name -> list of floats).

    Curves whose name contains ``loss`` share the left axes; every other curve (accuracy, learning rate,
    ...) goes on axes of its own to the right, so a loss of 2.3 and an accuracy of 0.9 are both
    readable; each axes is labelled with what it shows. ``xlabel`` says what one entry is, ``"step"``
    or ``"epoch"``: entry k is at x = k, counting from 0 as chainrule's training runs number them.
    ``x`` gives a curve other positions (name -> one x per entry), e.g. a loss logged every 1,000 steps
    at 1000, 2000, ...; curves measured at different moments then share the same axis.

    Returns the matplotlib figure; with a ``path`` (ending in .png) it is also saved there, and
    ``figure.saved_path`` is that path.

    NaN and infinite entries are left out (gaps in their curves). Raises ValueError for an empty
    history, an empty or non-numeric curve, a curve with no finite number, or a path not ending in
    .png; ImportError if matplotlib is missing.
    """
    path = _check_path(path)
    if not history:
        raise ValueError("plot_history: history is empty; pass e.g. {'loss': [...], 'accuracy': [...]}")
    curves = {}
    for name, values in history.items():
        try:
            ys = np.asarray(values, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"plot_history: curve {name!r} must be a list of numbers, got {values!r}") from None
        if ys.ndim != 1 or ys.size == 0:
            raise ValueError(f"plot_history: curve {name!r} must be a non-empty list of numbers, got shape {ys.shape}")
        if not np.isfinite(ys).any():
            # matplotlib draws no NaN or infinite point: the axes would be empty, the legend naming the curve.
            raise ValueError(
                f"plot_history: curve {name!r} holds no finite number (its first is {float(ys[0])!r}); nothing to draw"
            )
        curves[str(name)] = ys
    positions = {name: np.arange(ys.size) for name, ys in curves.items()}
    for name, xs in (x or {}).items():
        if str(name) not in curves:
            raise ValueError(f"plot_history: x names {name!r}, which is not a curve of history ({list(curves)})")
        xs = np.asarray(xs, dtype=float)
        if xs.shape != curves[str(name)].shape:
            raise ValueError(
                f"plot_history: x[{name!r}] has {xs.size} positions for the curve's {curves[str(name)].size} entries"
            )
        positions[str(name)] = xs
    losses = [name for name in curves if "loss" in name.lower()]
    others = [name for name in curves if name not in losses]
    groups = [(group, _axis_label(group, kind)) for group, kind in ((losses, "loss"), (others, "accuracy")) if group]

    fig = _new_figure(5.0 * len(groups), 4.0)
    fig.suptitle(title)
    for column, (names, ylabel) in enumerate(groups, start=1):
        ax = fig.add_subplot(1, len(groups), column)
        for name in names:
            ys = curves[name]
            ax.plot(positions[name], ys, label=name, marker="." if ys.size <= 30 else None)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if max(positions[name].max() for name in names) >= 10_000:
            # 200,000 steps: "50k", not "50000" (five-digit labels run into each other)
            ax.xaxis.set_major_formatter(lambda value, _: f"{value / 1000:g}k")
        ax.grid(True, alpha=0.3)
        ax.legend()
    return _finish(fig, path)


def _axis_label(names: Sequence[str], kind: str) -> str:
    """What an axes shows: its one curve's name, or the kind its curves share ("loss", "accuracy")."""
    if len(names) == 1:
        return names[0]
    if all(kind in name.lower() for name in names):
        return kind
    return ", ".join(names)


# -- decision boundary --------------------------------------------------------------------------------
def decision_regions(
    predict: Callable[[np.ndarray], Any], X: Any, y: Any, resolution: int = 200, margin: float = 0.5
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """Evaluate ``predict`` on a grid covering the 2-D points ``X``: what the boundary plot colours.

    Returns ``(xx, yy, zz, multiclass)``: the grid coordinates, each of shape (resolution, resolution),
    and ``zz``, the model's answer at each grid point. With two classes in ``y``, ``predict`` returns
    scores and ``zz`` holds them (the boundary is where they cross 0); with more, ``predict`` returns
    class ids, or an (M, K) array of per-class scores, and ``zz`` holds the winning class id.

    Raises ValueError when ``X`` is not (N, 2), ``y`` does not match it, or ``predict`` does not
    return one answer per point.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: X must be an (N, 2) array of 2-D points, got shape {X.shape}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"plot_decision_boundary: y must have shape ({X.shape[0]},) to match X, got {y.shape}")
    multiclass = np.unique(y).size > 2
    lo = X.min(axis=0) - margin
    hi = X.max(axis=0) + margin
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    zz = np.asarray(predict(grid), dtype=float)
    if multiclass and zz.ndim == 2 and zz.shape[0] == grid.shape[0]:
        zz = zz.argmax(axis=1).astype(float)  # per-class scores: the class with the highest one wins
    elif zz.ndim == 2 and zz.shape[1] == 1:
        zz = zz[:, 0]
    if zz.shape != (grid.shape[0],):
        raise ValueError(
            f"plot_decision_boundary: predict must map an (M, 2) array of points to an (M,) array of scores "
            f"(or class ids); for M={grid.shape[0]} it returned shape {zz.shape}"
        )
    return xx, yy, zz.reshape(xx.shape), multiclass


def plot_decision_boundary(
    predict: Callable[[np.ndarray], Any],
    X: Any,
    y: Any,
    path: str | Path | None = None,
    title: str = "Decision boundary",
    resolution: int = 200,
):
    """Colour the plane by what the model predicts and draw the data on top.

    ``predict`` maps an (M, 2) array of points to an (M,) array: scores for two classes (the
    boundary is drawn where the score crosses 0, as for a tanh or raw output), or class ids when ``y``
    has more than two classes (an (M, K) array of per-class scores works too). The legend names each
    class by its label (``class -1``, ``class 1``). Returns the matplotlib figure; with a ``path``
    (ending in .png) it is also saved there, and ``figure.saved_path`` is that path.

    Raises ValueError for data that is not 2-D, a ``predict`` whose output has the wrong shape, or a
    path not ending in .png; ImportError if matplotlib is missing.
    """
    path = _check_path(path)
    xx, yy, zz, multiclass = decision_regions(predict, X, y, resolution)
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    classes = np.unique(y)

    fig = _new_figure(6.0, 5.0)
    ax = fig.add_subplot(1, 1, 1)
    if multiclass:
        levels = np.arange(classes.size + 1) - 0.5 if np.array_equal(classes, np.arange(classes.size)) else None
        ax.contourf(xx, yy, zz, levels=levels, cmap="tab10", alpha=0.3, vmin=0, vmax=9)
    else:
        # Shade each side by how sure the model is, and draw the boundary itself where the score is 0.
        limit = max(float(np.abs(zz).max()), 1e-12)
        ax.contourf(xx, yy, zz, levels=np.linspace(-limit, limit, 21), cmap="RdBu", alpha=0.4)
        if zz.min() < 0.0 < zz.max():
            ax.contour(xx, yy, zz, levels=[0.0], colors="k", linewidths=1.5)
    for k, label in enumerate(classes):
        points = X[y == label]
        ax.scatter(
            points[:, 0],
            points[:, 1],
            s=18,
            color=_class_colour(k, classes.size),
            edgecolors="k",
            linewidths=0.5,
            label=f"class {class_name(label)}",
        )
    ax.set_xlim(xx.min(), xx.max())
    ax.set_ylim(yy.min(), yy.max())
    ax.set_xlabel("x[0]")
    ax.set_ylabel("x[1]")
    ax.set_title(title)
    ax.legend(loc="best", fontsize="small")
    return _finish(fig, path)


def _class_colour(k: int, n_classes: int) -> str:
    # Two classes follow the RdBu shading (negative scores red, positive blue); more use tab10.
    if n_classes <= 2:
        return ("#d6604d", "#4393c3")[k]
    return f"C{k % 10}"


# -- confusion matrix ---------------------------------------------------------------------------------
def confusion_counts(y_true: Any, y_pred: Any, labels: Sequence[Any] | None = None) -> tuple[np.ndarray, list]:
    """Count how often each true class was predicted as each class.

    Returns ``(counts, labels)``: ``counts[i, j]`` is the number of examples of class ``labels[i]``
    predicted as ``labels[j]`` (rows true, columns predicted, as scikit-learn's
    ``confusion_matrix``). ``labels`` defaults to every class seen in either array, sorted; pairs
    involving a class not in ``labels`` are left out.

    Raises ValueError when the arrays differ in length or ``labels`` is empty or repeats a class.
    """
    y_true = np.asarray(y_true).ravel()
    y_pred = np.asarray(y_pred).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"confusion_counts: y_true and y_pred must have the same length, got {y_true.size} and {y_pred.size}"
        )
    labels = list(np.unique(np.concatenate([y_true, y_pred]))) if labels is None else list(labels)
    if not labels:
        raise ValueError("confusion_counts: labels is empty; give at least one class")
    position = {}
    for i, label in enumerate(labels):
        if label in position:
            raise ValueError(f"confusion_counts: labels repeats the class {label!r}")
        position[label] = i
    counts = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for t, p in zip(y_true.tolist(), y_pred.tolist()):
        if t in position and p in position:
            counts[position[t], position[p]] += 1
    return counts, labels


def plot_confusion_matrix(
    y_true: Any,
    y_pred: Any,
    path: str | Path | None = None,
    labels: Sequence[Any] | None = None,
    title: str = "Confusion matrix",
    class_names: Sequence[str] | None = None,
):
    """Draw the confusion matrix (rows: true class, columns: predicted) with each count written in.

    ``labels`` picks and orders the classes (default: all seen, sorted); ``class_names`` names them on
    the axes (default: the labels themselves, ``1.0`` as ``1``). Returns the matplotlib figure; with a
    ``path`` (ending in .png) it is also saved there, and ``figure.saved_path`` is that path.

    Raises ValueError as ``confusion_counts`` does, when ``class_names`` does not name every class, or
    for a path not ending in .png; ImportError if matplotlib is missing.
    """
    path = _check_path(path)
    counts, labels = confusion_counts(y_true, y_pred, labels)
    names = [class_name(label) for label in labels] if class_names is None else [str(n) for n in class_names]
    if len(names) != len(labels):
        raise ValueError(f"plot_confusion_matrix: {len(labels)} classes but {len(names)} class_names")
    size = min(3.0 + 0.5 * len(labels), 12.0)
    fig = _new_figure(size + 1.0, size)
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(counts, cmap="Blues", vmin=0)
    fig.colorbar(image, ax=ax, shrink=0.8)
    ticks = np.arange(len(labels))
    ax.set_xticks(ticks, names, rotation=45 if max(len(n) for n in names) > 3 else 0)
    ax.set_yticks(ticks, names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(f"{title}\n{int(np.trace(counts))} of {int(counts.sum())} correct")
    # Dark text on light cells and light text on dark ones, so every count stays readable.
    threshold = counts.max() / 2.0
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            ax.text(
                j,
                i,
                str(counts[i, j]),
                ha="center",
                va="center",
                fontsize=9,
                color="white" if counts[i, j] > threshold else "black",
            )
    return _finish(fig, path)
