"""Write docs/tour.ipynb: the README's tour as a Jupyter notebook, its prose and code taken from README.md.

    python docs/make_tour_notebook.py            # rewrite docs/tour.ipynb from README.md
    python docs/make_tour_notebook.py --check    # exit 1 if docs/tour.ipynb is not what README.md gives

Every ```python block of the sections "A tour that follows the notes", "The gradient is a graph too" and
"Next: makemore" becomes a code cell, the text around them markdown cells. A few cells of the notebook's own show the
graphs inline (``draw_dot(L)``, ``backward_walk(L)``): they carry the tag ``display`` and follow the
README block named in DISPLAY_CELLS. Outputs are left out and cell ids are fixed, so the file changes
only when the README does; tests/test_notebook.py checks that it is up to date and runs it in a kernel.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
NOTEBOOK = ROOT / "docs" / "tour.ipynb"
SECTIONS = ("## A tour that follows the notes", "## The gradient is a graph too", "## Next: makemore")
DISPLAY_TAG = "display"

# (text of the README block the cells follow, markdown to introduce them, their code cells)
DISPLAY_CELLS = (
    (
        "L.backward()\nassert (a.grad",
        "In Jupyter a graph shows itself: `draw_dot(L)` as a cell's last expression draws it, with the\n"
        "gradients `backward()` just filled in. `backward_walk(L)` replays that `backward()` one node at a\n"
        "time: press Step (or click into it and use the arrow keys), hover a node for its rule.",
        (
            "from chainrule import draw_dot\n\ndraw_dot(L)",
            "from chainrule.viz import backward_walk\n\nbackward_walk(L)",
        ),
    ),
    ("o = lecture_neuron()", "The lecture's neuron, drawn:", ("draw_dot(o)",)),
    (
        "fused = weighted_sum(w, x, b",
        "Drawn, a network's parameters are named by place (`L1.n2.w1`: layer 1, neuron 2, weight 1) and the\n"
        "numbers fed in show as `x1`, `x2`; `expand_neurons=True` draws a fused neuron as the notes' small nodes:",
        ("draw_dot(MLP(2, [2, 1])([0.5, -1.5]))", "draw_dot(fused, expand_neurons=True)"),
    ),
    ("picture = draw_dot(do_dn)", "The gradient `do/dn`, as a graph of its own:", ("picture",)),
)

HEADER = """# chainrule: a tour that follows the notes

The tour of chainrule's [README](../README.md), cell by cell: from a derivative as a slope to
`Value`, `backward()`, `MLP`, training, Tensors, gradients that are graphs, and on to makemore. Run the cells in
order; the graphs draw inline (with Graphviz, as `draw_dot` does everywhere).

This notebook is generated from README.md by `python docs/make_tour_notebook.py`: edit the README,
then run that script."""


def tour_text(readme: str) -> str:
    """The README's tour: each section in SECTIONS, up to the next ``## `` heading."""
    parts = []
    for heading in SECTIONS:
        start = readme.index(heading)
        end = readme.find("\n## ", start + len(heading))
        parts.append(readme[start : end if end != -1 else len(readme)].strip())
    return "\n\n".join(parts)


def python_blocks(text: str) -> list[str]:
    """The ```python blocks of ``text``, as tests/test_readme.py reads them (each ends with a newline)."""
    return re.findall(r"```python\n(.*?)```", text, re.S)


def _markdown(text: str) -> str:
    # The notebook lives in docs/: a README link to docs/x is x from there.
    return re.sub(r"\]\(docs/", "](", text.strip())


def build(readme: str) -> nbformat.NotebookNode:
    """The notebook for a README's text; no outputs, and cell ids numbered in order."""
    cells = [nbformat.v4.new_markdown_cell(HEADER)]
    pending = list(DISPLAY_CELLS)
    pieces = re.split(r"```python\n(.*?)```", tour_text(readme), flags=re.S)
    # re.split alternates: prose, block, prose, block, ..., prose.
    for k, piece in enumerate(pieces):
        if k % 2 == 0:
            if piece.strip():
                cells.append(nbformat.v4.new_markdown_cell(_markdown(piece)))
            continue
        cells.append(nbformat.v4.new_code_cell(piece.rstrip("\n")))
        while pending and pending[0][0] in piece:
            _, intro, codes = pending.pop(0)
            cells.append(nbformat.v4.new_markdown_cell(intro))
            for code in codes:
                cells.append(nbformat.v4.new_code_cell(code, metadata={"tags": [DISPLAY_TAG]}))
    if pending:
        raise ValueError(f"make_tour_notebook: no README block contains {pending[0][0]!r}; update DISPLAY_CELLS")
    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i:03d}"  # fixed ids: the same README gives the same file
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata.update(
        {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        }
    )
    nbformat.validate(notebook)
    return notebook


def render(notebook: nbformat.NotebookNode) -> str:
    return nbformat.writes(notebook) + "\n"


def main(argv: list[str]) -> int:
    text = render(build(README.read_text(encoding="utf-8")))
    if argv == ["--check"]:
        if NOTEBOOK.read_text(encoding="utf-8") != text:
            print(f"{NOTEBOOK} is out of date: run python docs/make_tour_notebook.py", file=sys.stderr)
            return 1
        return 0
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    NOTEBOOK.write_text(text, encoding="utf-8")
    print(f"wrote {NOTEBOOK}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
