"""Walk the backward pass in a web page: one self-contained HTML file per graph.

``save_html(root, path)`` draws the graph with Graphviz (as ``draw_dot`` does) and embeds, next to
the picture, every step of ``backward()``: the nodes in reverse topological order, and after each
node's ``_backward`` runs, the gradients it added into its inputs. In the page, Step / Back / Reset
(or the arrow keys) move through those steps: the node whose rule runs is highlighted and its
inputs' ``grad`` fields fill in, partial sums first where a value is used twice, until every box
shows the gradient ``backward()`` computed. Hovering a node shows its operation and local derivative.

The page needs nothing from the network: the SVG, the styles, the script and the data are all inline,
and a Content-Security-Policy forbids the page from fetching anything.

``screenshot_html`` takes a PNG of such a page in headless Chromium (for a README), through
``headless_chromium``, the one place that starts the browser (the browser tests use it too).
"""

from __future__ import annotations

import contextlib
import html
import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

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

CHROMIUM_PATH = "/usr/bin/chromium"
CHROMEDRIVER_PATH = "/usr/bin/chromedriver"
CHROMIUM_INSTALL_HINT = "apt-get install chromium chromium-driver (Debian/Ubuntu), then pip install selenium"
# Headless, and quiet: no GPU, no sandbox (containers), and none of the background traffic Chromium
# makes by itself (updates, sync, QUIC probes), so that a page's only request is the page itself.
CHROMIUM_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)


# -- the backward pass, step by step --------------------------------------------------------------
def _name(node: Any, i: int) -> str:
    return getattr(node, "label", "") or f"node {i}"


def _can_simulate(order: Sequence[Any]) -> bool:
    """True when every node's rule is recorded as numbers (scalar Values from chainrule's operations)."""
    for node in order:
        if is_array(node.data) or getattr(node, "_custom_backward", None) is not None:
            return False
        if node._prev and len(getattr(node, "_local_grads", ())) != len(node._prev):
            return False
    return True


def _number_or_none(x: Any) -> float | None:
    # JSON has no NaN or infinity; the page shows the text, the number is only for checking.
    if x is None or is_array(x):
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _simulate(order: Sequence[Any], index: dict) -> tuple[list, list]:
    """The backward pass computed from each node's ``_local_grads``, without touching the graph.

    The same arithmetic in the same order as ``Value._chain_rule`` under ``backpropagate``
    (``child.grad += local * node.grad``, nodes in reverse topological order), so the last numbers
    are exactly the floats ``backward()`` leaves in ``grad`` (a test checks this bit for bit). It stays
    beside ``_replay``, which runs the engine's own loop, because the page shows every contribution
    on its own with the local derivative used (``a * a`` adds twice into ``a.grad``), and running a
    ``_backward`` shows only the sum.
    """
    grads = [0.0] * len(order)
    grads[-1] = 1.0  # the seed: d root / d root
    steps = []
    for i in reversed(range(len(order))):
        node = order[i]
        if not node._prev:
            continue  # a leaf's _backward has nothing to push into
        grad = grads[i]
        updates = []
        for child, local in zip(node._prev, node._local_grads):
            c = index[id(child)]
            before = grads[c]
            grads[c] = before + local * grad
            updates.append(
                {
                    "node": c,
                    "grad": format_number(grads[c]),
                    "value": _number_or_none(grads[c]),
                    "note": f"{_name(child, c)}.grad = {format_number(before)} + {format_number(local)} × "
                    f"{format_number(grad)} = {format_number(grads[c])}",
                }
            )
        steps.append({"node": i, "updates": updates})
    return grads, steps


def _seed(root: Any) -> Any:
    """The gradient ``backward()`` starts from: d root / d root, 1 for each entry of root."""
    if is_array(root.data):
        import numpy as np

        # Float, in the root's own precision (float32 stays float32, as Tensor.backward seeds it).
        return np.ones_like(root.data, dtype=np.result_type(root.data.dtype, np.float32))
    return 1.0


def _replay(order: Sequence[Any], index: dict) -> tuple[list, list]:
    """The backward pass as the engine itself runs it, watched one ``_backward`` at a time.

    Used when a rule is recorded only as a closure: a custom ``_backward`` set by user code, or a
    Tensor engine's vector-Jacobian products. Each node's ``_backward`` is wrapped, in the notes' way
    (``node._backward = ...``), by one that runs it and then notes its inputs' ``grad``; then the
    root's own ``backward()`` runs from zeroed gradients, so whatever bookkeeping the engine does in
    ``backward()`` happens as usual. Every ``grad`` and every ``_backward`` is put back afterwards,
    whatever happens.
    """
    saved_grads = [node.grad for node in order]
    saved_rules = [node._custom_backward for node in order]
    steps = []

    def watch(i: int, node: Any, rule: Any) -> Any:
        def watched() -> None:
            rule()
            updates = []
            seen = set()
            for child in node._prev:
                c = index[id(child)]
                if c in seen or child.grad is None:
                    # A closure adds both uses of an operand at once (show the sum once); a constant
                    # operand of a Tensor operation receives nothing.
                    continue
                seen.add(c)
                updates.append(
                    {
                        "node": c,
                        "grad": format_quantity(child.grad),
                        "value": _number_or_none(child.grad),
                        "note": f"{_name(child, c)}.grad is now {format_quantity(child.grad)}",
                    }
                )
            steps.append({"node": i, "updates": updates})

        return watched

    root = order[-1]
    try:
        for i, node in enumerate(order):
            node.grad = None if is_array(node.data) else 0.0  # zero_grad, as before any backward()
            if node._prev:
                node._backward = watch(i, node, node._backward)
        if is_array(root.data) and root.data.size != 1:
            root.backward(_seed(root))  # a Tensor backward() needs the seed unless root is one number
        else:
            root.backward()
        grads = [node.grad for node in order]
    finally:
        for node, grad, rule in zip(order, saved_grads, saved_rules):
            node.grad = grad
            node._custom_backward = rule
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

    Returns ``{"nodes": [...], "steps": [...], "mode": "simulated" | "replayed"}``. ``nodes[i]``
    describes the i-th node of ``topological_order(root)`` (its SVG ids ``v<i>`` / ``op<i>``, label,
    data, the grad text shown before the first step, the final grad, the hover text). ``steps[k]`` is
    the (k+1)-th ``_backward`` that does something, in reverse topological order: ``{"node": i,
    "updates": [{"node": j, "grad": text, "value": float or None, "note": text}, ...]}``, one update
    per contribution, in the order they are added. Leaves are skipped: their ``_backward`` is empty.

    For scalar Values the numbers are computed from each node's ``_local_grads`` (the graph is not
    touched) and equal what ``backward()`` computes, to the last bit. Graphs with a custom
    ``_backward`` or with Tensors record their rules only as closures: there the root's own
    ``backward()`` runs once, from zeroed gradients, with each ``_backward`` watched, and every ``grad``
    and ``_backward`` is put back afterwards. Either way the page shows one ``backward()``, as from
    freshly zeroed gradients (leaf gradients accumulated over several calls are not what it shows).

    Raises ValueError for graphs larger than ``max_nodes``; TypeError if ``root`` is not a graph node.
    """
    return _walk(graph_nodes(root, max_nodes, "save_html"))


def _walk(order: Sequence[Any]) -> dict:
    """``backward_steps`` for a graph already in topological order (root last)."""
    index = {id(node): i for i, node in enumerate(order)}
    names = [_name(node, i) for i, node in enumerate(order)]
    simulated = _can_simulate(order)
    grads, steps = _simulate(order, index) if simulated else _replay(order, index)

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
    return {"mode": "simulated" if simulated else "replayed", "nodes": nodes, "steps": steps}


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

    Raises GraphvizNotFoundError when Graphviz's ``dot`` program is missing (nothing is written),
    ValueError for graphs larger than ``max_nodes``, TypeError if ``root`` is not a graph node.
    """
    require_dot("save_html")  # fail before any work when the picture cannot be drawn
    order = graph_nodes(root, max_nodes, "save_html")
    walk = _walk(order)
    # Lay out each box wide enough for the longest number it will show during the walk.
    shown = [[node["grad_initial"], node["grad_final"]] for node in walk["nodes"]]
    for step in walk["steps"]:
        for update in step["updates"]:
            shown[update["node"]].append(update["grad"])
    widest = [max(texts, key=len) for texts in shown]
    svg = _inline_svg(render_svg(order, rankdir=rankdir, grad_texts=widest))

    title = title if title is not None else f"Backpropagation through {walk['nodes'][-1]['label'] or 'the graph'}"
    values = {"TITLE": html.escape(title), "SVG": svg, "DATA": _json_for_script(walk)}
    # One pass, so text substituted in (a label, a title) is never itself searched for placeholders.
    page = re.sub(r"\{\{(TITLE|SVG|DATA)\}\}", lambda m: values[m.group(1)], _template())
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


# -- headless Chromium -----------------------------------------------------------------------------
def find_chromium() -> tuple[str, str]:
    """Paths of Chromium and its ChromeDriver: ``$CHAINRULE_CHROMIUM`` / ``$CHAINRULE_CHROMEDRIVER``,
    else Debian's ``/usr/bin/chromium`` and ``/usr/bin/chromedriver``, else whatever is on PATH.

    Raises FileNotFoundError, saying how to install them, when either is missing.
    """
    found = []
    for env, default, names in (
        ("CHAINRULE_CHROMIUM", CHROMIUM_PATH, ("chromium", "chromium-browser", "google-chrome")),
        ("CHAINRULE_CHROMEDRIVER", CHROMEDRIVER_PATH, ("chromedriver",)),
    ):
        candidates = [os.environ.get(env), default, *(shutil.which(n) for n in names)]
        path = next((c for c in candidates if c and os.path.exists(c)), None)
        if path is None:
            raise FileNotFoundError(
                f"{os.path.basename(default)} was not found ({default} or on PATH): {CHROMIUM_INSTALL_HINT}"
            )
        found.append(path)
    return found[0], found[1]


@contextlib.contextmanager
def headless_chromium(width: int = 1200, height: int = 700, performance_log: bool = False) -> Iterator[Any]:
    """A Selenium WebDriver for headless Chromium, quit (and its profile deleted) when the block ends.

    The browser and driver are named explicitly (see ``find_chromium``), so Selenium Manager never
    tries to download either; a fresh temporary profile keeps runs independent. ``performance_log``
    records the DevTools network events (read them with ``driver.get_log('performance')``).

    Raises ImportError when selenium is missing and FileNotFoundError when Chromium or ChromeDriver is.
    """
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        raise ImportError(f"selenium is not installed: pip install selenium (and {CHROMIUM_INSTALL_HINT})") from None
    chromium, chromedriver = find_chromium()
    profile = tempfile.mkdtemp(prefix="chainrule-chromium-")
    options = Options()
    options.binary_location = chromium
    for arg in CHROMIUM_ARGS:
        options.add_argument(arg)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={width},{height}")
    if performance_log:
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    try:
        driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    except BaseException:
        shutil.rmtree(profile, ignore_errors=True)
        raise
    try:
        # The viewport itself (not the window around it) gets the requested size, at 1 pixel per px.
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def screenshot_html(
    html_path: str | Path, png_path: str | Path, width: int = 1200, height: int = 700, step: int | None = None
) -> Path:
    """Save a PNG of a page written by ``save_html``, as headless Chromium shows it (for a README).

    ``step`` is how far the backward walk has gone (0: only the root's seed; default: to the end,
    every gradient filled in). Returns the PNG's path.

    Raises FileNotFoundError when the page, Chromium or ChromeDriver is missing, ImportError when
    selenium is, and RuntimeError when the page is not one of ``save_html``'s.
    """
    html_path = Path(html_path).resolve()
    if not html_path.is_file():
        raise FileNotFoundError(f"screenshot_html: no page at {html_path}; write one with save_html first")
    png_path = Path(png_path)
    png_path.parent.mkdir(parents=True, exist_ok=True)
    with headless_chromium(width, height) as driver:
        driver.get(html_path.as_uri())
        total = driver.execute_script("return window.chainrule ? window.chainrule.state().total : null")
        if total is None:
            raise RuntimeError(f"screenshot_html: {html_path} is not a page written by chainrule's save_html")
        driver.execute_script("window.chainrule.go(arguments[0])", total if step is None else step)
        if not driver.save_screenshot(str(png_path)):
            raise RuntimeError(f"screenshot_html: Chromium could not save a screenshot to {png_path}")
    return png_path
