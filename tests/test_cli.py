"""The command line: the notes' loop, the demos, real data, the graph page, and one-line errors."""

import os
import random
import re
import subprocess
import sys

import pytest
from dependencies import require
from oracle import TorchTwin, assert_close, notes_training_in_torch

from chainrule import cli
from chainrule.nn import MLP


def run_cli(capsys, *argv):
    status = cli.main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def run_module(*argv, **kwargs):
    """``python -m chainrule ARGV`` in a fresh process, as a user runs it, with this test's chainrule."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    return subprocess.run([sys.executable, "-m", "chainrule", *argv], capture_output=True, text=True, env=env, **kwargs)


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


def test_graph_writes_the_page_and_the_drawing(capsys, tmp_path, graph_renderer):
    page, drawing = tmp_path / "walk.html", tmp_path / "neuron.svg"
    status, out, _ = run_cli(capsys, "graph", "--html", str(page), "--svg", str(drawing))
    assert status == 0
    # every file written is named, the DOT source that save_graph keeps beside the drawing included
    assert out.splitlines() == [
        f"saved {drawing}",
        f"saved {tmp_path / 'neuron.dot'} (the drawing's DOT source)",
        f"saved {page}",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["neuron.dot", "neuron.svg", "walk.html"]
    assert page.read_text().count("chainrule-data") >= 1
    assert drawing.read_text().lstrip().startswith(("<?xml", "<svg"))


def test_graph_screenshot_without_selenium_says_once_what_to_install(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "selenium", None)  # as if it were not installed
    page = tmp_path / "walk.html"
    status, out, err = run_cli(capsys, "graph", "--html", str(page), "--screenshot", str(tmp_path / "walk.png"))
    assert status == 1
    assert out == "" and not page.exists()  # stopped before writing anything
    (line,) = err.splitlines()
    assert "--screenshot drives headless Chromium through selenium, which is not installed" in line
    assert line.count("pip install selenium") == 1 and "chainrule[test]" in line


def test_progress_bar_into_a_file_is_a_few_updates_not_one_per_step(tmp_path):
    # stderr is a pipe here, as in a log or CI: the bar shows its start and its end, not 100 redraws.
    result = run_module("train", "moons", "--steps", "100", "--no-plots", timeout=300)
    assert result.returncode == 0, result.stderr
    updates = [u for u in re.split(r"[\r\n]", result.stderr) if u.strip()]
    assert 1 <= len(updates) <= 3, updates
    assert "100/100" in updates[-1] and "loss=" in updates[-1]


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
        (
            ["graph", "--html", "out.svg"],
            "--html out.svg: the backward-walk page is HTML, so the file name must end in .html or .htm",
        ),
        (["graph", "--svg", "g.png"], "--svg g.png: the drawing is SVG, so the file name must end in .svg"),
        (["graph", "--svg", "g"], "--svg g: the drawing is SVG, so the file name must end in .svg"),
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
    result = run_module("lecture", "--steps", "2", "--lr", "nan")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    ok = run_module("lecture", "--steps", "2")
    assert ok.returncode == 0 and ok.stdout.startswith("0 ")


# -- --save and eval --------------------------------------------------------------------------------
@pytest.fixture
def safetensors():
    return require("safetensors", "pip install 'chainrule[save]'")


def accuracy_line(out: str, name: str = "test accuracy") -> str:
    """The printed percentage of ``name`` ("test accuracy: 97.50%" gives "97.50%"); exactly one such line."""
    found = re.findall(rf"(?:^|\s){name}: (\S+%)$", out, re.M)
    assert len(found) == 1, out
    return found[0]


def test_train_digits_save_then_eval_prints_the_same_test_accuracy(capsys, tmp_path, safetensors):
    path = tmp_path / "m.safetensors"
    status, trained, _ = run_cli(capsys, "train", "digits", "--save", str(path), "--no-plots", "--no-progress")
    assert status == 0 and f"saved {path}" in trained
    status, evaluated, err = run_cli(capsys, "eval", str(path))
    assert status == 0 and err == ""
    assert "train digits test accuracy: " + accuracy_line(trained) in trained
    assert f"eval digits test accuracy: {accuracy_line(trained)}" in evaluated
    assert float(accuracy_line(evaluated)[:-1]) >= 97.0
    assert "Sequential(Linear(64, 128), ReLU(), Linear(128, 10))" in evaluated
    assert "note:" not in evaluated


def test_train_then_eval_as_a_user_runs_them(tmp_path, safetensors):
    # The line, `chainrule train digits --save m.safetensors && chainrule eval m.safetensors`, as two
    # fresh processes in a folder of their own.
    def chainrule(*argv):
        return run_module(*argv, cwd=tmp_path)

    trained = chainrule("train", "digits", "--save", "m.safetensors", "--no-plots", "--no-progress")
    assert trained.returncode == 0, trained.stderr
    evaluated = chainrule("eval", "m.safetensors")
    assert evaluated.returncode == 0 and evaluated.stderr == "", evaluated.stderr
    assert accuracy_line(evaluated.stdout) == accuracy_line(trained.stdout)


@pytest.mark.parametrize(
    "argv, printed",
    [
        (["demo", "--steps", "12", "--seed", "7"], "demo accuracy"),  # the notes' MLP on scalar Values
        (["train", "moons", "--steps", "30", "--seed", "3"], "train moons accuracy"),  # a Tensor Sequential
    ],
    ids=["demo", "train moons"],
)
def test_moons_models_are_measured_again_on_their_training_points(capsys, tmp_path, argv, printed, safetensors):
    path = tmp_path / "moons.safetensors"
    status, trained, _ = run_cli(capsys, *argv, "--save", str(path), "--no-plots", "--no-progress")
    assert status == 0
    accuracy = re.search(rf"^{printed}: (\S+%)$", trained, re.M).group(1)
    status, evaluated, _ = run_cli(capsys, "eval", str(path))
    assert status == 0
    assert f"eval moons accuracy: {accuracy}\n" in evaluated
    assert "note:" not in evaluated


def test_the_saved_file_records_the_task_and_what_training_printed(capsys, tmp_path, safetensors):
    from chainrule.serialization import read_metadata

    path = tmp_path / "m.safetensors"
    argv = ["train", "digits", "--epochs", "2", "--seed", "4", "--batch-size", "32", "--save", str(path)]
    status, out, _ = run_cli(capsys, *argv, "--no-plots", "--no-progress")
    assert status == 0
    metadata = read_metadata(path)
    assert metadata["command"] == "chainrule train digits"
    assert metadata["task"] == {"dataset": "digits", "test_size": 0.2, "seed": 4}
    assert metadata["settings"] == {"epochs": 2, "lr": 5e-3, "batch_size": 32, "seed": 4}
    assert f"test accuracy: {metadata['reported']['test accuracy']:.2%}" in out
    assert f"train accuracy: {metadata['reported']['train accuracy']:.2%}" in out


def test_eval_says_when_the_number_differs_from_what_training_printed(capsys, tmp_path, safetensors):
    import chainrule
    from chainrule.training import tensor_demo_model

    # A model that was never trained, filed as if its training had reported 99%: eval measures it itself.
    path = chainrule.save(
        tensor_demo_model(1337),
        tmp_path / "untrained.safetensors",
        metadata={
            "command": "chainrule train moons",
            "task": {"dataset": "moons", "n_samples": 100, "noise": 0.1, "seed": 1337},
            "reported": {"accuracy": 0.99},
        },
    )
    status, out, _ = run_cli(capsys, "eval", str(path))
    assert status == 0
    measured = re.search(r"^eval moons accuracy: (\S+)%$", out, re.M).group(1)
    assert measured != "99.00"
    assert "note: training reported 99.00%" in out


def test_eval_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["eval", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: chainrule eval [-h] PATH")
    assert "--save PATH" in out


@pytest.mark.parametrize("command", [["demo"], ["train", "digits"]])
def test_save_is_offered_where_a_model_is_trained(capsys, command):
    with pytest.raises(SystemExit):
        cli.main(command + ["--help"])
    assert "--save PATH" in capsys.readouterr().out
