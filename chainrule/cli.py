"""The ``chainrule`` command line (also ``python -m chainrule``).

    chainrule lecture              the notes' training loop, step by step
    chainrule demo                 micrograd's moons demo on scalar Values, with a picture
    chainrule train digits|moons   the Tensor engine on real data
    chainrule train names          the makemore lecture's language model: losses, then 20 made-up names
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

from chainrule.commands import PROG, UsageError, run_demo, run_eval, run_graph, run_lecture, run_train
from chainrule.training import MAX_STEPS, TrainingDiverged

# scikit-learn takes seeds in [0, 2**32 - 1] (chainrule.data.MAX_SEED; not imported from there, since
# chainrule.data imports NumPy, which `chainrule --help` does not need).
MAX_DATA_SEED = 2**32 - 1


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
        help="the Tensor engine on real data: digits, moons or names",
        description="Train with the NumPy Tensor engine.",
    )
    train.add_argument(
        "dataset",
        choices=["digits", "moons", "names"],
        help="digits: scikit-learn's 8x8 handwritten digits; moons: the demo on Tensors; names: the makemore "
        "lecture's character-level language model (MLP with batch norm) on 32,033 names",
    )
    train.add_argument(
        "--epochs",
        type=_count,
        default=None,
        help="passes over the data (digits, default 30) or steps (moons, default 100; names, default 200000)",
    )
    train.add_argument("--steps", type=_count, default=None, help="same as --epochs")
    train.add_argument(
        "--lr",
        type=_positive_float,
        default=None,
        help="learning rate (digits: Adam, 5e-3; moons: SGD, 1.0; names: SGD, 0.1, then a tenth of it halfway)",
    )
    train.add_argument("--batch-size", type=_positive_int, default=None, help="mini-batch size (digits: 64; names: 32)")
    train.add_argument(
        "--seed", type=_data_seed, default=None, help="seed for the split (digits, moons), the weights and batches"
    )
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


COMMANDS = {
    "lecture": run_lecture,
    "demo": run_demo,
    "train": run_train,
    "eval": run_eval,
    "graph": run_graph,
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
