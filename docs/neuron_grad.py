"""Draw docs/neuron_grad.svg (and its DOT source, docs/neuron_grad.dot): the gradient graph in the README.

Run it from anywhere: ``python docs/neuron_grad.py``. It runs the README's Python block that draws
``do_dn`` (section "The gradient is a graph too") and saves that gradient graph with
``chainrule.viz.graph.save_graph``, so the picture is exactly what the README's code draws.
``tests/test_readme.py`` checks that the committed DOT source still matches the README.
"""

import re
from pathlib import Path

from chainrule.viz.graph import save_graph

DOCS = Path(__file__).resolve().parent
README = DOCS.parent / "README.md"
MARKER = "draw_dot(do_dn)"


def readme_block() -> str:
    """The README's Python block that draws the gradient ``do_dn``."""
    blocks = [b for b in re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S) if MARKER in b]
    if len(blocks) != 1:
        raise SystemExit(f"{README}: expected one Python block containing {MARKER!r}, found {len(blocks)}")
    return blocks[0]


def main() -> None:
    namespace: dict = {}
    exec(compile(readme_block(), f"{README} (the block with {MARKER})", "exec"), namespace)
    print(f"saved {save_graph(namespace['do_dn'], DOCS / 'neuron_grad.svg')}")


if __name__ == "__main__":
    main()
