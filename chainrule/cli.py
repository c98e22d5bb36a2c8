"""The ``chainrule`` command line (also ``python -m chainrule``).

    chainrule lecture              the notes' training loop, step by step
    chainrule demo                 micrograd's moons demo on scalar Values, with a picture
    chainrule train digits|moons   the Tensor engine on real data
    chainrule eval PATH            a model saved by `demo --save PATH` or `train ... --save PATH`, measured
                                   again on its data (the same held-out digits, the same moons)
    chainrule graph --html PATH    a page that walks the backward pass node by node

Every mistake on the command line ends in one line that says what was wrong and a non-zero exit,
never a traceback; so does a run whose loss stops being a number. No Python warning reaches the
screen either: the one line (or the results) is all there is to read.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from chainrule.training import MAX_STEPS, TrainingDiverged

PROG = "chainrule"
# scikit-learn takes seeds in [0, 2**32 - 1] (chainrule.data.MAX_SEED; not imported from there, since
# chainrule.data imports NumPy, which `chainrule --help` does not need).
MAX_DATA_SEED = 2**32 - 1


class UsageError(Exception):
    """A bad option or value: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    # argparse prints the usage block and exits; the command line reports one line instead.
    def error(self, message: str):
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def _checked(convert, accept, expected: str, most=None):
    """An argparse ``type`` that converts the text and accepts the value (up to ``most``, if given), or
    says what was expected."""

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            value = None
        shown = repr(text if len(text) <= 40 else text[:37] + "...")  # a 5000-digit number stays one short line
        if value is None or not accept(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {shown}")
        if most is not None and value > most:
            raise argparse.ArgumentTypeError(f"expected at most {most}, got {shown}")
        return value

    return parse


_positive_int = _checked(int, lambda n: n >= 1, "a positive whole number")
_count = _checked(int, lambda n: n >= 1, "a positive whole number", most=MAX_STEPS)
_positive_float = _checked(float, lambda x: 0.0 < x < float("inf"), "a positive number")
_seed = _checked(int, lambda n: n >= 0, "a whole number >= 0")
_data_seed = _checked(int, lambda n: n >= 0, "a whole number >= 0", most=MAX_DATA_SEED)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="chainrule: backpropagation you can read, trained on real data.")
    parser.add_argument("--version", action="version", version=f"{PROG} {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    lecture = commands.add_parser(
        "lecture",
        help="the notes' training loop: MLP(3, [4, 4, 1]) on four examples",
        description="Run the notes' training loop exactly, printing 'k loss' each step.",
    )
    lecture.add_argument("--steps", type=_count, default=20, help="training steps (default 20)")
    lecture.add_argument("--lr", type=_positive_float, default=0.05, help="learning rate (default 0.05)")
    lecture.add_argument("--seed", type=_seed, default=0, help="random.seed for the weights (default 0)")

    demo = commands.add_parser(
        "demo",
        help="micrograd's moons demo on scalar Values",
        description="Train MLP(2, [16, 16, 1]) (ReLU, linear output) on 100 moons points "
        "with hinge loss + 1e-4 L2 and SGD, lr * (1 - 0.9 k / steps).",
    )
    demo.add_argument("--steps", type=_count, default=100, help="training steps (default 100)")
    demo.add_argument("--lr", type=_positive_float, default=1.0, help="initial learning rate (default 1.0)")
    demo.add_argument("--seed", type=_data_seed, default=1337, help="seed for the data and the weights (default 1337)")
    _add_output_options(demo)
    _add_save_option(demo)

    train = commands.add_parser(
        "train",
        help="the Tensor engine on real data: digits or moons",
        description="Train with the NumPy Tensor engine.",
    )
    train.add_argument(
        "dataset",
        choices=["digits", "moons"],
        help="digits: scikit-learn's 8x8 handwritten digits; moons: the demo on Tensors",
    )
    train.add_argument(
        "--epochs",
        type=_count,
        default=None,
        help="passes over the data (digits, default 30) or steps (moons, default 100)",
    )
    train.add_argument("--steps", type=_count, default=None, help="same as --epochs")
    train.add_argument(
        "--lr", type=_positive_float, default=None, help="learning rate (digits: Adam, 5e-3; moons: SGD, 1.0)"
    )
    train.add_argument("--batch-size", type=_positive_int, default=64, help="digits mini-batch size (default 64)")
    train.add_argument("--seed", type=_data_seed, default=None, help="seed for the split and weights")
    _add_output_options(train)
    _add_save_option(train)

    evaluate = commands.add_parser(
        "eval",
        help="a saved model's accuracy on the data it was trained for",
        description="Load a model saved by `chainrule demo --save PATH` or `chainrule train digits|moons "
        "--save PATH` and print its accuracy on the same data (for digits the same held-out test split, for "
        "moons the points it was trained on): the accuracy its training printed.",
    )
    evaluate.add_argument("path", type=Path, metavar="PATH", help="the model file (.safetensors)")

    graph = commands.add_parser(
        "graph",
        help="draw a graph and write the step-through backward-pass page",
        description="Draw the lecture's neuron (or the demo model on one input) and "
        "write a self-contained HTML page that walks its backward pass.",
    )
    graph.add_argument("--html", type=Path, help="write the interactive page here (a .html file)")
    graph.add_argument(
        "--svg",
        type=Path,
        help="also draw the graph into this .svg file (its DOT source goes next to it, as .dot)",
    )
    graph.add_argument(
        "--model",
        choices=["neuron", "demo"],
        default="neuron",
        help="neuron: the lecture's tanh neuron (default); demo: MLP(2, [2, 2, 1]) on one point",
    )
    graph.add_argument("--seed", type=_seed, default=1337, help="weights for --model demo")
    graph.add_argument(
        "--screenshot",
        type=Path,
        help="save a PNG screenshot of the page (needs selenium and Chromium; chainrule[test] has selenium)",
    )
    return parser


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("chainrule-output"),
        help="folder for the pictures (default ./chainrule-output)",
    )
    parser.add_argument("--no-plots", action="store_true", help="do not save pictures")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _add_save_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--save",
        type=Path,
        metavar="PATH",
        help="after training, save the model (a safetensors file) with what `chainrule eval PATH` needs",
    )


def _version() -> str:
    from chainrule import __version__

    return __version__


def _report(result, what: str) -> None:
    for name, value in result.final.items():
        if isinstance(value, float):
            shown = f"{value:.2%}" if "accuracy" in name else f"{value:.6f}"
            print(f"{what} {name}: {shown}")
    for path in result.files:
        print(f"saved {path}")
    for note in result.notes:
        print(note)


def _run_lecture(args) -> None:
    from chainrule.training import lecture

    lecture(steps=args.steps, lr=args.lr, seed=args.seed)


def _run_demo(args) -> None:
    from chainrule.training import moons_demo

    _check_save_path(args.save, "demo")
    result = moons_demo(
        steps=args.steps,
        lr=args.lr,
        seed=args.seed,
        out_dir=None if args.no_plots else args.out,
        progress=not args.no_progress,
    )
    _report(result, "demo")
    _save_model(result, args.save, "demo", {"steps": args.steps, "lr": args.lr, "seed": args.seed})


def _run_train(args) -> None:
    from chainrule import training

    if args.epochs is not None and args.steps is not None and args.epochs != args.steps:
        raise UsageError(f"{PROG} train: give --epochs or --steps, not both")
    count = args.epochs if args.epochs is not None else args.steps
    out_dir = None if args.no_plots else args.out
    progress = not args.no_progress
    command = f"train {args.dataset}"
    _check_save_path(args.save, command)
    if args.dataset == "digits":
        settings = {
            "epochs": count or 30,
            "lr": args.lr or 5e-3,
            "batch_size": args.batch_size,
            "seed": 0 if args.seed is None else args.seed,
        }
        result = training.train_digits(**settings, out_dir=out_dir, progress=progress)
    else:
        settings = {"steps": count or 100, "lr": args.lr or 1.0, "seed": 1337 if args.seed is None else args.seed}
        result = training.moons_demo(engine="tensor", **settings, out_dir=out_dir, progress=progress)
    _report(result, command)
    _save_model(result, args.save, command, settings)


def _check_save_path(path: Path | None, command: str) -> None:
    """Before training: that ``--save PATH`` can be written, so a long run does not end in a failed save."""
    if path is None:
        return
    from chainrule.serialization import require_safetensors

    require_safetensors()
    if path.is_dir():
        raise UsageError(
            f"{PROG} {command}: --save {path} is a folder; give a file name, e.g. {path / 'model.safetensors'}"
        )
    if not path.parent.is_dir():
        raise UsageError(f"{PROG} {command}: --save {path}: the folder {path.parent} does not exist")


def _save_model(result, path: Path | None, command: str, settings: dict) -> None:
    """Save the trained model with what ``chainrule eval`` needs: the data it was trained on (``task``) and
    the accuracy the run printed, to compare with."""
    if path is None:
        return
    from chainrule import serialization

    metadata = {
        "command": f"{PROG} {command}",
        "settings": settings,
        "task": result.task,
        "reported": {name: value for name, value in result.final.items() if "accuracy" in name},
    }
    print(f"saved {serialization.save(result.model, path, metadata=metadata)}")


def _run_eval(args) -> None:
    from chainrule import serialization, training

    metadata = serialization.read_metadata(args.path)  # a missing or broken file is reported from here
    serialization.read_architecture(args.path)  # and one that chainrule.save did not write
    task = metadata.get("task")
    if not isinstance(task, dict):
        raise ValueError(
            f"{args.path}: no training task is recorded in it; {PROG} eval measures models saved by "
            f"`{PROG} demo --save PATH` or `{PROG} train digits|moons --save PATH` (in Python, chainrule.load "
            "reads any model saved by chainrule.save)"
        )
    model = serialization.load(args.path)
    name, accuracy = training.evaluate(model, task)
    print(f"model: {model!r}, from `{metadata.get('command', '?')}` (seed {task.get('seed')})")
    print(f"eval {task['dataset']} {name}: {accuracy:.2%}")
    reported = metadata.get("reported", {}).get(name) if isinstance(metadata.get("reported"), dict) else None
    if isinstance(reported, float) and f"{reported:.2%}" != f"{accuracy:.2%}":
        print(f"note: training reported {reported:.2%}; the data or the library has changed since it was saved")


def _run_graph(args) -> None:
    if args.html is None and args.svg is None:
        raise UsageError(f"{PROG} graph: say what to write: --html PATH and/or --svg PATH")
    if args.screenshot is not None and args.html is None:
        raise UsageError(f"{PROG} graph: --screenshot takes a picture of the page, so it needs --html PATH too")
    _check_suffix("--html", args.html, (".html", ".htm"), "the backward-walk page is HTML")
    _check_suffix("--svg", args.svg, (".svg",), "the drawing is SVG")
    if args.screenshot is not None:
        from chainrule.viz.browser import require_screenshot_tools

        require_screenshot_tools(f"{PROG} graph: --screenshot")  # before writing anything
    from chainrule.examples import backward_walk_example

    root = backward_walk_example(args.model, args.seed)
    if args.svg is not None:
        from chainrule.viz.graph import save_graph

        print(f"saved {save_graph(root, args.svg)}")
        # save_graph keeps the DOT source beside the picture; say so, rather than leave a file unannounced.
        print(f"saved {args.svg.with_suffix('.dot')} (the drawing's DOT source)")
    if args.html is not None:
        from chainrule.viz import save_html

        title = "The lecture's neuron" if args.model == "neuron" else "MLP(2, [2, 2, 1]) on one moons point"
        print(f"saved {save_html(root, args.html, title=title)}")
        if args.screenshot is not None:
            from chainrule.viz.html import screenshot_html

            print(f"saved {screenshot_html(args.html, args.screenshot)}")


def _check_suffix(option: str, path: Path | None, suffixes: tuple[str, ...], what: str) -> None:
    """A usage error when ``path`` does not end in one of ``suffixes`` (so ``--html out.svg`` is refused)."""
    if path is not None and path.suffix.lower() not in suffixes:
        endings = " or ".join(suffixes)
        raise UsageError(f"{PROG} graph: {option} {path}: {what}, so the file name must end in {endings}")


COMMANDS = {
    "lecture": _run_lecture,
    "demo": _run_demo,
    "train": _run_train,
    "eval": _run_eval,
    "graph": _run_graph,
}


def _command_name(args) -> str:
    return f"{args.command} {args.dataset}" if args.command == "train" else args.command


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 on success)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        with warnings.catch_warnings():
            # NumPy's RuntimeWarnings from an overflowing run (and any library's notices) would bury the
            # one line that says what happened: a run that goes wrong says so itself (TrainingDiverged).
            warnings.simplefilter("ignore")
            COMMANDS[args.command](args)
        return 0
    except UsageError as error:
        print(f"{error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except TrainingDiverged as error:
        print(
            f"{PROG} {_command_name(args)}: {error.what} {error.when}; "
            f"training diverged, try a smaller --lr (it was {error.lr!r})",
            file=sys.stderr,
        )
        return 1
    except BrokenPipeError:
        # Whoever read the output (`| head`) has gone: stop quietly, as other command-line tools do, and
        # point stdout at nothing so that Python's final flush has nowhere to fail.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (
        ValueError,
        TypeError,
        ImportError,
        OSError,
        OverflowError,
        ZeroDivisionError,
        RuntimeError,
        MemoryError,
    ) as error:
        # One line: what failed and why; the library's messages already say what to do.
        _one_line(f"{PROG}: error: {type(error).__name__}: {error}")
        return 1
    except Exception as error:
        if os.environ.get("CHAINRULE_TRACEBACK"):
            raise
        _one_line(
            f"{PROG}: internal error (a bug in chainrule, please report it; CHAINRULE_TRACEBACK=1 shows where): "
            f"{type(error).__name__}: {error}"
        )
        return 1


def _one_line(message: str) -> None:
    print(message.splitlines()[0], file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
