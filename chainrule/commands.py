"""What each ``chainrule`` command does once its options are parsed (``chainrule/cli.py`` parses them
and turns every failure into one line).

A mistake the options could not catch (``--save`` into a missing folder, ``graph`` with nothing to write)
raises ``UsageError``; everything else a command prints is its results and the files it wrote.
"""

from __future__ import annotations

import os
from pathlib import Path

PROG = "chainrule"


class UsageError(Exception):
    """A bad option or value: reported in one line, exit status 2."""


def _shown(name: str, value: float) -> str:
    """A final number as the commands print it: accuracies as percentages, losses to 4 decimals (the
    lectures' precision), anything else to 6."""
    if "accuracy" in name:
        return f"{value:.2%}"
    return f"{value:.4f}" if "loss" in name else f"{value:.6f}"


def _report(result, what: str) -> None:
    if result.samples:
        # A language model (train names): its losses, as the lecture prints them, then what it made up.
        for name, value in result.final.items():
            print(f"{name} {_shown(name, value)}")
        print(f"{len(result.samples)} names sampled from the model:")
        for sample in result.samples:
            print(sample)
    else:
        for name, value in result.final.items():
            if isinstance(value, float):
                print(f"{what} {name}: {_shown(name, value)}")
    for path in result.files:
        print(f"saved {path}")
    for note in result.notes:
        print(note)


def run_lecture(args) -> None:
    from chainrule.training import lecture

    lecture(steps=args.steps, lr=args.lr, seed=args.seed)


def run_demo(args) -> None:
    from chainrule.training import moons_demo

    _check_save_path(args.save, "demo")
    if not args.no_plots:
        _check_folder("--out", args.out, args.out, "demo", " (or --no-plots)")
    result = moons_demo(
        steps=args.steps,
        lr=args.lr,
        seed=args.seed,
        out_dir=None if args.no_plots else args.out,
        progress=not args.no_progress,
    )
    _report(result, "demo")
    _save_model(result, args.save, "demo", {"steps": args.steps, "lr": args.lr, "seed": args.seed})


def run_train(args) -> None:
    from chainrule import training

    if args.epochs is not None and args.steps is not None and args.epochs != args.steps:
        raise UsageError(f"{PROG} train: give --epochs or --steps, not both")
    count = args.epochs if args.epochs is not None else args.steps
    out_dir = None if args.no_plots else args.out
    progress = not args.no_progress
    command = f"train {args.dataset}"
    if args.dataset == "moons" and args.batch_size is not None:
        # The moons run is full-batch: dropping the option unsaid would train another run than the one asked for.
        raise UsageError(
            f"{PROG} {command}: --batch-size does not apply: moons trains on all 100 points at every step "
            "(it applies to train digits and train names)"
        )
    if args.dataset == "names" and args.batch_size == 1:
        raise UsageError(
            f"{PROG} {command}: --batch-size 1: the model's batch norm takes a variance over each batch, "
            "so a batch needs at least 2 examples (the lecture's is 32)"
        )
    _check_save_path(args.save, command)
    if out_dir is not None:
        _check_folder("--out", out_dir, out_dir, command, " (or --no-plots)")
    if args.dataset == "digits":
        settings = {
            "epochs": count or 30,
            "lr": args.lr or 5e-3,
            "batch_size": args.batch_size or 64,
            "seed": 0 if args.seed is None else args.seed,
        }
        from chainrule.digits import train_digits

        result = train_digits(**settings, out_dir=out_dir, progress=progress)
    elif args.dataset == "names":
        from chainrule import makemore

        settings = {
            "steps": count or makemore.STEPS,
            "lr": args.lr or makemore.LR,
            "batch_size": args.batch_size or makemore.BATCH_SIZE,
            "seed": 0 if args.seed is None else args.seed,
        }
        result = makemore.train_names(**settings, out_dir=out_dir, progress=progress)
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
    if not os.access(path.parent, os.W_OK):
        raise UsageError(f"{PROG} {command}: --save {path}: cannot write in the folder {path.parent}; save elsewhere")


def _check_folder(option: str, path: Path, folder: Path, command: str, hint: str = "") -> None:
    """Before any work: that ``folder`` (where ``option``'s ``path`` goes) exists or can be made. The files are
    written last (the pictures after training), so a file in the way would otherwise cost the whole run."""
    existing = folder
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent  # made with parents=True: the first part that exists must be a folder
    if existing.is_dir():
        if not os.access(existing, os.W_OK):
            raise UsageError(f"{PROG} {command}: {option} {path}: cannot write in the folder {existing}{hint}")
        return
    if existing == path:
        raise UsageError(f"{PROG} {command}: {option} {path} is a file, not a folder; give a folder{hint}")
    raise UsageError(f"{PROG} {command}: {option} {path}: {existing} is a file, not a folder; give another path{hint}")


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
        "reported": {name: value for name, value in result.final.items() if isinstance(value, float)},
    }
    print(f"saved {serialization.save(result.model, path, metadata=metadata)}")


def run_eval(args) -> None:
    from chainrule import serialization, training

    metadata = serialization.read_metadata(args.path)  # a missing or broken file is reported from here
    serialization.read_architecture(args.path)  # and one that chainrule.save did not write
    task = metadata.get("task")
    if not isinstance(task, dict):
        raise ValueError(
            f"{args.path}: no training task is recorded in it; {PROG} eval measures models saved by "
            f"`{PROG} demo --save PATH` or `{PROG} train digits|moons|names --save PATH` (in Python, chainrule.load "
            "reads any model saved by chainrule.save)"
        )
    model = serialization.load(args.path)
    name, measured = training.evaluate(model, task)
    print(f"model: {model!r}, from `{metadata.get('command', '?')}` (seed {task.get('seed')})")
    print(f"eval {task['dataset']} {name}: {_shown(name, measured)}")
    reported = metadata.get("reported", {}).get(name) if isinstance(metadata.get("reported"), dict) else None
    if isinstance(reported, float) and _shown(name, reported) != _shown(name, measured):
        print(
            f"note: training reported {_shown(name, reported)}; the data or the library has changed since it was saved"
        )


def run_graph(args) -> None:
    if args.html is None and args.svg is None:
        raise UsageError(f"{PROG} graph: say what to write: --html PATH and/or --svg PATH")
    if args.screenshot is not None and args.html is None:
        raise UsageError(f"{PROG} graph: --screenshot takes a picture of the page, so it needs --html PATH too")
    _check_suffix("--html", args.html, (".html", ".htm"), "the backward-walk page is HTML")
    _check_suffix("--svg", args.svg, (".svg",), "the drawing is SVG")
    _check_suffix("--screenshot", args.screenshot, (".png",), "the screenshot is PNG")
    for option, path in (("--html", args.html), ("--svg", args.svg), ("--screenshot", args.screenshot)):
        if path is not None and path.is_dir():
            raise UsageError(f"{PROG} graph: {option} {path} is a folder; give a file name, e.g. {path / path.name}")
        if path is not None:
            _check_folder(option, path, path.parent, "graph")
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
