"""Training pictures: real PNG files of sensible size, and the numbers behind them checked."""

from __future__ import annotations

import struct
import sys

import numpy as np
import pytest
from dependencies import require

from chainrule.viz import plots

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _matplotlib():
    require("matplotlib", "pip install 'chainrule[demo]'")


def png_size(path) -> tuple[int, int]:
    """Width and height of a PNG, read from its IHDR chunk (after checking it is a PNG at all)."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_plot_history_draws_loss_and_accuracy_on_separate_axes(tmp_path):
    import matplotlib.image

    loss = [2.3 * 0.9**k for k in range(40)]
    accuracy = [1 - 0.9 * 0.92**k for k in range(40)]
    figure = plots.plot_history({"loss": loss, "accuracy": accuracy}, tmp_path / "history.png", title="run")
    path = figure.saved_path
    assert path == tmp_path / "history.png"
    assert png_size(path) == (1000, 400)  # two axes side by side, 5 x 4 inches each at 100 dpi
    pixels = matplotlib.image.imread(path)
    assert pixels.shape == (400, 1000, 4)
    assert pixels[..., :3].std() > 0.05  # something was drawn, not a blank canvas

    single = plots.plot_history({"train loss": loss, "test loss": loss[::2]}, tmp_path / "losses.png")
    assert png_size(single.saved_path) == (500, 400)  # both losses share one axes


def axes_labels(figure) -> list:
    return [(ax.get_xlabel(), ax.get_ylabel()) for ax in figure.axes]


def test_plot_history_labels_its_axes_with_what_they_show():
    loss = [2.0, 1.0, 0.5]
    figure = plots.plot_history({"loss": loss, "accuracy": [0.5, 0.7, 0.9], "test accuracy": [0.4, 0.6, 0.8]})
    assert figure.saved_path is None  # no path: nothing written
    assert axes_labels(figure) == [("step", "loss"), ("step", "accuracy")]
    figure = plots.plot_history({"loss": loss, "lr": [0.1, 0.1, 0.05], "accuracy": [0.5, 0.7, 0.9]}, xlabel="epoch")
    assert axes_labels(figure) == [("epoch", "loss"), ("epoch", "lr, accuracy")]
    figure = plots.plot_history({"train loss": loss, "test loss": loss})
    assert axes_labels(figure) == [("step", "loss")]
    # Entry k is at x = k: step 0 is the first, as the training runs and their messages number them.
    assert list(figure.axes[0].lines[0].get_xdata()) == [0, 1, 2]


def test_plot_history_puts_curves_logged_at_different_steps_on_one_axis():
    train, val = [3.0, 2.5, 2.2, 2.1], [2.6, 2.15]
    figure = plots.plot_history(
        {"train loss": train, "val loss": val}, x={"train loss": [500, 1000, 1500, 2000], "val loss": [1000, 2000]}
    )
    lines = {line.get_label(): line for line in figure.axes[0].lines}
    assert list(lines["train loss"].get_xdata()) == [500, 1000, 1500, 2000]
    assert list(lines["val loss"].get_xdata()) == [1000, 2000] and list(lines["val loss"].get_ydata()) == val
    long = plots.plot_history({"val loss": val}, x={"val loss": [100_000, 200_000]})
    assert long.axes[0].xaxis.get_major_formatter()(50_000, 0) == "50k"  # not five digits that run together
    with pytest.raises(ValueError, match=r"x\['val loss'\] has 3 positions for the curve's 2 entries"):
        plots.plot_history({"val loss": val}, x={"val loss": [1, 2, 3]})
    with pytest.raises(ValueError, match="x names 'test loss', which is not a curve of history"):
        plots.plot_history({"val loss": val}, x={"test loss": [1, 2]})


def test_plot_history_refuses_a_curve_with_nothing_to_draw():
    # matplotlib leaves NaN and infinite points out: an all-NaN curve drew an empty plot whose legend still
    # named it, as though the curve were there.
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match=rf"curve 'loss' holds no finite number \(its first is {bad}\)"):
            plots.plot_history({"loss": [bad, bad], "accuracy": [0.5, 0.6]})
    # one finite point is a curve: the gaps show where the run's numbers stopped being numbers
    fig = plots.plot_history({"loss": [2.0, float("nan"), 1.0]})
    assert fig.axes[0].get_lines()[0].get_ydata()[[0, 2]].tolist() == [2.0, 1.0]


def test_plot_history_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="history is empty"):
        plots.plot_history({}, tmp_path / "h.png")
    with pytest.raises(ValueError, match="curve 'loss' must be a non-empty list"):
        plots.plot_history({"loss": []}, tmp_path / "h.png")
    with pytest.raises(ValueError, match="curve 'loss' must be a list of numbers"):
        plots.plot_history({"loss": ["high", "low"]}, tmp_path / "h.png")
    with pytest.raises(ValueError, match="give a path ending in .png"):
        plots.plot_history({"loss": [1.0]}, tmp_path / "sub" / "h.jpg")
    with pytest.raises(ValueError, match="give a path ending in .png"):
        plots.plot_confusion_matrix([0], [0], tmp_path / "c.svg")
    with pytest.raises(ValueError, match="give a path ending in .png"):
        plots.plot_decision_boundary(lambda P: P[:, 0], np.zeros((2, 2)), np.array([0, 1]), tmp_path / "b")
    assert list(tmp_path.iterdir()) == []


def two_blobs(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(-1.5, 0.5, size=(n, 2)), rng.normal(1.5, 0.5, size=(n, 2))])
    y = np.array([0] * n + [1] * n)
    return X, y


def test_decision_regions_follow_the_sign_of_the_score():
    X, y = two_blobs()
    xx, yy, zz, multiclass = plots.decision_regions(lambda P: P[:, 0] + P[:, 1], X, y, resolution=50)
    assert not multiclass
    assert xx.shape == yy.shape == zz.shape == (50, 50)
    np.testing.assert_allclose(zz, xx + yy)
    # The grid covers every point with the margin on each side.
    assert xx.min() == pytest.approx(X[:, 0].min() - 0.5) and xx.max() == pytest.approx(X[:, 0].max() + 0.5)
    assert yy.min() == pytest.approx(X[:, 1].min() - 0.5) and yy.max() == pytest.approx(X[:, 1].max() + 0.5)


def test_decision_regions_take_class_ids_or_class_scores_for_many_classes():
    X = np.array([[-2.0, 0.0], [0.0, 0.0], [2.0, 0.0], [2.0, 1.0]])
    y = np.array([0, 1, 2, 2])

    def ids(P):
        return np.digitize(P[:, 0], [-1.0, 1.0])

    def scores(P):
        return np.eye(3)[ids(P)] * 5.0

    _, _, z_ids, multiclass = plots.decision_regions(ids, X, y, resolution=30)
    _, _, z_scores, _ = plots.decision_regions(scores, X, y, resolution=30)
    assert multiclass
    np.testing.assert_array_equal(z_ids, z_scores)
    assert set(np.unique(z_ids)) == {0.0, 1.0, 2.0}


def test_plot_decision_boundary_writes_png(tmp_path):
    X, y = two_blobs()
    figure = plots.plot_decision_boundary(lambda P: np.tanh(P.sum(axis=1)), X, y, tmp_path / "b.png", title="blobs")
    assert png_size(figure.saved_path) == (600, 500)
    figure3 = plots.plot_decision_boundary(
        lambda P: np.digitize(P[:, 0], [-1.0, 1.0]), X, np.digitize(X[:, 0], [-1.0, 1.0]), tmp_path / "b3.png"
    )
    assert png_size(figure3.saved_path) == (600, 500)


def test_decision_boundary_legend_names_whole_float_classes_as_ints():
    X, y = two_blobs()
    figure = plots.plot_decision_boundary(lambda P: P.sum(axis=1), X, np.where(y == 1, 1.0, -1.0), resolution=20)
    legend = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert legend == ["class -1", "class 1"]  # micrograd's moons labels are -1.0 and 1.0
    assert axes_labels(figure) == [("x[0]", "x[1]")]
    figure = plots.plot_decision_boundary(lambda P: P.sum(axis=1), X, np.where(y == 1, 0.5, -0.5), resolution=20)
    assert [text.get_text() for text in figure.axes[0].get_legend().get_texts()] == ["class -0.5", "class 0.5"]


def test_plot_decision_boundary_rejects_bad_shapes(tmp_path):
    X, y = two_blobs()
    with pytest.raises(ValueError, match=r"X must be an \(N, 2\) array"):
        plots.plot_decision_boundary(lambda P: P[:, 0], np.zeros((5, 3)), np.zeros(5), tmp_path / "b.png")
    with pytest.raises(ValueError, match=r"y must have shape \(120,\)"):
        plots.plot_decision_boundary(lambda P: P[:, 0], X, y[:10], tmp_path / "b.png")
    with pytest.raises(ValueError, match=r"it returned shape \(3,\)"):
        plots.plot_decision_boundary(lambda P: np.zeros(3), X, y, tmp_path / "b.png")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_confusion_counts_match_scikit_learn(seed):
    metrics = require("sklearn.metrics", "pip install scikit-learn")
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 4, size=200)
    # Mostly right, with some mistakes, and class 4 predicted although it never occurs.
    y_pred = np.where(rng.random(200) < 0.7, y_true, rng.integers(0, 5, size=200))
    counts, labels = plots.confusion_counts(y_true, y_pred)
    np.testing.assert_array_equal(counts, metrics.confusion_matrix(y_true, y_pred))
    assert labels == [0, 1, 2, 3, 4]
    assert counts.sum() == 200 and np.trace(counts) == int((y_true == y_pred).sum())

    chosen = [3, 0, 1]  # a subset in a chosen order, as scikit-learn's labels= argument
    counts, labels = plots.confusion_counts(y_true, y_pred, labels=chosen)
    np.testing.assert_array_equal(counts, metrics.confusion_matrix(y_true, y_pred, labels=chosen))
    assert labels == chosen


def test_confusion_counts_by_hand_and_errors():
    counts, labels = plots.confusion_counts(["cat", "dog", "dog", "cat"], ["cat", "cat", "dog", "cat"])
    assert labels == ["cat", "dog"]
    assert counts.tolist() == [[2, 0], [1, 1]]
    with pytest.raises(ValueError, match="same length, got 2 and 3"):
        plots.confusion_counts([0, 1], [0, 1, 1])
    with pytest.raises(ValueError, match="repeats the class 1"):
        plots.confusion_counts([0, 1], [0, 1], labels=[0, 1, 1])


def test_plot_confusion_matrix_writes_png(tmp_path):
    y_true = [0, 0, 1, 1, 2, 2, 2]
    y_pred = [0, 1, 1, 1, 2, 0, 2]
    figure = plots.plot_confusion_matrix(y_true, y_pred, tmp_path / "c.png", class_names=["a", "b", "c"])
    width, height = png_size(figure.saved_path)
    assert (width, height) == (550, 450)
    figure = plots.plot_confusion_matrix([1.0, -1.0], [1.0, 1.0])
    assert [tick.get_text() for tick in figure.axes[0].get_xticklabels()] == ["-1", "1"]
    with pytest.raises(ValueError, match="3 classes but 2 class_names"):
        plots.plot_confusion_matrix(y_true, y_pred, tmp_path / "d.png", class_names=["a", "b"])


def test_missing_matplotlib_says_how_to_install(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    # As on a machine without matplotlib, where chainrule.viz.figure (which imports it) never loaded.
    monkeypatch.delitem(sys.modules, "chainrule.viz.figure", raising=False)
    with pytest.raises(ImportError, match=r"pip install 'chainrule\[demo\]'"):
        plots.plot_history({"loss": [1.0, 0.5]}, tmp_path / "h.png")


def test_figures_show_in_jupyter_and_stay_out_of_pyplot(tmp_path):
    """The figures are what Jupyter displays (a PNG, through IPython's formatter) and, not being pyplot's,
    leave nothing open: drawing many in a loop or a notebook accumulates no figures to close."""
    import pickle

    import matplotlib.pyplot as plt

    open_before = plt.get_fignums()
    figure = plots.plot_history({"loss": [1.0, 0.5]}, tmp_path / "h.png")
    assert plt.get_fignums() == open_before
    png = figure._repr_png_()
    assert png[:8] == PNG_SIGNATURE
    assert png == (tmp_path / "h.png").read_bytes()  # what Jupyter shows is what was saved
    formatters = require("IPython.core.formatters", "pip install ipykernel")
    data, _ = formatters.DisplayFormatter().format(figure)
    assert data["image/png"][:8] == PNG_SIGNATURE
    assert pickle.loads(pickle.dumps(figure)).saved_path == tmp_path / "h.png"
