"""draw_dot / save_graph: the lecture's picture of a graph, for scalar Values and array Tensors."""

from __future__ import annotations

import html
import re
import shutil
import time

import numpy as np
import pytest

from chainrule import Value
from chainrule.autodiff import topological_order
from chainrule.examples import lecture_neuron
from chainrule.viz.graph import GraphvizNotFoundError, draw_dot, format_array, save_graph

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")


class ArrayNode:
    """A stand-in for chainrule.tensor.Tensor with only the protocol the pictures may rely on."""

    def __init__(self, data, _prev=(), _op="", label=""):
        self.data = np.asarray(data, dtype=float)
        self.grad = None
        self._prev = tuple(_prev)
        self._op = _op
        self.label = label

    def _backward(self):  # the pictures never call it
        raise AssertionError("draw_dot must not run the backward pass")


def records(source: str) -> dict:
    """node id -> record label text, read back from DOT source."""
    return dict(re.findall(r'^\s*(v\d+) \[label="\{ (.*?) \}"', source, flags=re.MULTILINE))


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


@needs_dot
def test_special_characters_render_literally_in_svg(tmp_path):
    a = Value(1.0, label="x{1}|<y>")
    path = save_graph(a.tanh(), tmp_path / "g.svg")
    assert "x{1}|&lt;y&gt;" in path.read_text()


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


def test_save_graph_without_dot_writes_source_and_says_how_to_install(tmp_path, monkeypatch):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert shutil.which("dot") is None
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
