"""The command line: the notes' loop, the demos, real data, the graph page, and one-line errors."""

import os
import random
import re
import subprocess
import sys

import pytest
from oracle import TorchTwin, assert_close, notes_training_in_torch

from chainrule import cli
from chainrule.nn import MLP


def run_cli(capsys, *argv):
    status = cli.main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_lecture_prints_k_and_loss_for_each_step_then_predictions(capsys, torch):
    status, out, _ = run_cli(capsys, "lecture", "--seed", "3")
    assert status == 0
    lines = out.strip().splitlines()
    steps = [line.split() for line in lines[:20]]
    assert [int(k) for k, _ in steps] == list(range(20))
    losses = [float(loss) for _, loss in steps]
    # The notes' network from the same seed, trained by the notes' loop in torch, loses the same amounts.
    random.seed(3)
    twin = TorchTwin(torch, MLP(3, [4, 4, 1]), ["tanh", "tanh", "tanh"])
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    expected = notes_training_in_torch(torch, twin, xs, ys, steps=20, lr=0.05)
    assert_close(losses, expected, rtol=1e-9, what="lecture losses vs torch")
    assert losses[-1] < losses[0]
    assert lines[20].startswith("predictions:")


def test_lecture_options_change_the_run(capsys):
    status, out, _ = run_cli(capsys, "lecture", "--steps", "5", "--lr", "0.1", "--seed", "0")
    assert status == 0
    assert len([line for line in out.splitlines() if re.match(r"^\d+ ", line)]) == 5


def test_demo_reaches_full_training_accuracy_and_saves_pictures(capsys, tmp_path):
    status, out, _ = run_cli(capsys, "demo", "--out", str(tmp_path), "--no-progress")
    assert status == 0
    assert "demo accuracy: 100.00%" in out
    boundary = tmp_path / "moons_boundary.png"
    assert f"saved {boundary}" in out
    assert boundary.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_train_digits_reaches_97_percent_on_held_out_images(capsys, tmp_path):
    status, out, _ = run_cli(capsys, "train", "digits", "--out", str(tmp_path), "--no-progress")
    assert status == 0
    accuracy = float(re.search(r"train digits test accuracy: ([\d.]+)%", out).group(1))
    assert accuracy >= 97.0
    assert (tmp_path / "digits_confusion.png").exists() and (tmp_path / "digits_training.png").exists()


def test_train_moons_on_tensors_reaches_full_accuracy(capsys):
    status, out, _ = run_cli(capsys, "train", "moons", "--no-plots", "--no-progress")
    assert status == 0
    assert "train moons accuracy: 100.00%" in out


def test_graph_writes_the_page_and_the_drawing(capsys, tmp_path):
    page, drawing = tmp_path / "walk.html", tmp_path / "neuron.svg"
    status, out, _ = run_cli(capsys, "graph", "--html", str(page), "--svg", str(drawing))
    assert status == 0
    assert page.read_text().count("chainrule-data") >= 1
    assert drawing.read_text().lstrip().startswith(("<?xml", "<svg"))


@pytest.mark.parametrize(
    "argv, message",
    [
        (["demo", "--steps", "abc"], "--steps: expected a positive whole number, got 'abc'"),
        (["demo", "--steps", "0"], "--steps: expected a positive whole number, got '0'"),
        (["lecture", "--lr", "-1"], "--lr: expected a positive number, got '-1'"),
        (["lecture", "--seed", "x"], "--seed: expected a whole number >= 0, got 'x'"),
        (["demo", "--bogus"], "unrecognized arguments: --bogus"),
        (["train", "cifar"], "invalid choice: 'cifar'"),
        (["graph"], "say what to write"),
        (["nonsense"], "invalid choice: 'nonsense'"),
    ],
)
def test_bad_options_give_one_line_and_a_nonzero_exit(capsys, argv, message):
    status, out, err = run_cli(capsys, *argv)
    assert status == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert message in err


@pytest.mark.parametrize("command", [[], ["lecture"], ["demo"], ["train"], ["graph"]])
def test_help_on_every_command(capsys, command):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(command + ["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: chainrule")
    if command:
        assert "--seed" in out


def test_library_errors_reach_the_terminal_as_one_line(capsys, monkeypatch):
    def broken(args):
        raise ValueError("log: input must be > 0, got -1.0")

    monkeypatch.setitem(cli.COMMANDS, "lecture", broken)
    status, _, err = run_cli(capsys, "lecture")
    assert status == 1
    assert err.strip() == "chainrule: error: ValueError: log: input must be > 0, got -1.0"


def test_python_dash_m_runs_the_same_command_line():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    result = subprocess.run(
        [sys.executable, "-m", "chainrule", "lecture", "--steps", "2", "--lr", "nan"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    ok = subprocess.run(
        [sys.executable, "-m", "chainrule", "lecture", "--steps", "2"], capture_output=True, text=True, env=env
    )
    assert ok.returncode == 0 and ok.stdout.startswith("0 ")
