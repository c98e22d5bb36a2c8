"""draw_dot on the models of chainrule.nn: parameters named by their place, float inputs shown as the
lecture's input boxes, and a fused neuron drawn as the notes' small nodes on request."""

from __future__ import annotations

import random
import re

import pytest

from chainrule import Value
from chainrule.autodiff import topological_order
from chainrule.nn import MLP, Layer, Neuron
from chainrule.viz.graph import draw_dot

pytest.importorskip("graphviz")


def records(source: str) -> dict:
    """box id -> record label text (the fields without the braces), read back from DOT source."""
    pairs = re.findall(r'^\s*(\w+) \[label="(?:\{ )?(.*?)(?: \})?"[^\n]*shape=record', source, flags=re.MULTILINE)
    return dict(pairs)


def op_nodes(source: str) -> dict:
    """op node id -> its label (the operation), read back from DOT source."""
    found = re.findall(r'^\s*(op\w*) \[label=("[^"]*"|\S+) ', source, flags=re.MULTILINE)
    return {node: label.strip('"') for node, label in found}


def edges(source: str) -> list:
    return re.findall(r"^\s*(\w+) -> (\w+)", source, flags=re.MULTILINE)


def labels_of(source: str) -> list:
    return [text.split(" | ")[0] for text in records(source).values()]


# -- 1. parameters are labelled by their place ---------------------------------------------------------
def test_neuron_layer_and_mlp_label_their_parameters_by_place():
    assert [p.label for p in Neuron(3).parameters()] == ["w1", "w2", "w3", "b"]
    assert [p.label for p in Layer(2, 2).parameters()] == ["n1.w1", "n1.w2", "n1.b", "n2.w1", "n2.w2", "n2.b"]
    net = MLP(2, [3, 1])
    assert [p.label for p in net.parameters()] == [
        *[f"L1.n{j}.{name}" for j in (1, 2, 3) for name in ("w1", "w2", "b")],
        "L2.n1.w1",
        "L2.n1.w2",
        "L2.n1.w3",
        "L2.n1.b",
    ]


def test_labels_do_not_change_the_weights_drawn():
    # The labels are given as the Values are made: the same seed draws the same numbers as before.
    rng = random.Random(7)
    expected = [rng.uniform(-1, 1) for _ in range(3)]
    assert [p.data for p in Neuron(2, rng=random.Random(7)).parameters()] == expected


def test_mlp_drawing_names_every_parameter_box():
    net = MLP(2, [4, 4, 1], activation="relu", output_activation="linear", rng=1337)
    out = net([0.5, -0.25])
    out.backward()
    source = draw_dot(out).source
    labels = labels_of(source)
    for p in net.parameters():
        assert p.label in labels
        assert f"{p.label} | data {p.data:.4f} | grad {p.grad:.4f}" in records(source).values()
    assert "L2.n3.w4" in labels and "L3.n1.b" in labels


def test_labels_given_by_the_user_are_kept():
    net = MLP(2, [2, 1], rng=0)
    net.layers[0].neurons[0].w[1].label = "my weight"
    out = net([1.0, 2.0])
    out.backward()
    net.zero_grad()
    net([3.0, 4.0])  # calling again relabels nothing
    assert net.layers[0].neurons[0].w[1].label == "my weight"
    assert "my weight" in labels_of(draw_dot(out).source)


def test_sequential_labels_tensor_parameters_by_their_state_dict_names():
    from chainrule.nn import Linear, ReLU, Sequential, Tanh
    from chainrule.tensor import Tensor

    shared = Linear(3, 3)
    mine = Linear(3, 1)
    mine.bias.label = "out bias"
    model = Sequential(Linear(2, 3), Tanh(), Sequential(shared, ReLU()), shared, mine)
    names = [name for name, _ in model.named_parameters()]
    labels = [p.label for p in model.parameters()]
    assert names == ["0.weight", "0.bias", "2.0.weight", "2.0.bias", "4.weight", "4.bias"]
    assert labels == ["0.weight", "0.bias", "2.0.weight", "2.0.bias", "4.weight", "out bias"]
    assert [p.label for p in model[:2].parameters()] == ["0.weight", "0.bias"]  # a slice relabels nothing
    # A Linear on its own keeps the names it has in itself.
    assert [p.label for p in Linear(2, 2).parameters()] == ["weight", "bias"]

    loss = model(Tensor([[1.0, 2.0]])).sum()
    shown = labels_of(draw_dot(loss).source)
    assert {"0.weight", "0.bias", "2.0.weight", "2.0.bias", "4.weight", "out bias"} <= set(shown)


# -- 2. inputs given as numbers get boxes ---------------------------------------------------------------
@pytest.fixture
def exact_numbers(monkeypatch):
    """Boxes show every digit (repr) instead of four decimals, so tests can compare them to 1e-12."""
    from chainrule.viz import graph

    monkeypatch.setattr(graph, "format_number", lambda x: repr(float(x)))


def numbers_of(text: str) -> tuple:
    """(label, data, grad) of a record's text; data and grad as floats (grad None when not shown)."""
    fields = text.split(" | ")
    grad = float(fields[2].removeprefix("grad ")) if len(fields) > 2 else None
    return fields[0], float(fields[1].removeprefix("data ")), grad


def test_float_inputs_of_a_neuron_show_as_the_lectures_input_boxes():
    n = Neuron(2, rng=1)
    o = n([2.0, 3.0])
    o.backward()
    source = draw_dot(o).source
    boxes = records(source)
    inputs = {k: v for k, v in boxes.items() if k.startswith("in")}
    w1, w2 = n.w
    slope = 1 - o.data**2
    assert sorted(inputs.values()) == [
        f"x1 | data 2.0000 | grad {w1.data * slope:.4f}",
        f"x2 | data 3.0000 | grad {w2.data * slope:.4f}",
    ]
    op = next(k for k, v in op_nodes(source).items() if v == "tanh(wsum)")
    into_op = [a for a, b in edges(source) if b == op]
    assert sorted(into_op) == sorted([*inputs, "v0", "v1", "v2"])  # w1, w2, b and the two inputs
    assert len(boxes) == 6  # x1, x2, w1, w2, b, out


def test_input_boxes_are_shared_by_a_layers_neurons_and_their_grads_add_up(exact_numbers):
    layer = Layer(2, 3, rng=3)
    outs = layer([0.5, -2.0])
    total = outs[0] + outs[1] * outs[2]
    total.backward()
    boxes = records(draw_dot(total).source)
    inputs = sorted(numbers_of(v) for k, v in boxes.items() if k.startswith("in"))
    assert [(label, data) for label, data, _ in inputs] == [("x1", 0.5), ("x2", -2.0)]
    # What backward gives the same numbers as Values, shared by the neurons.
    x = [Value(0.5), Value(-2.0)]
    hand = [sum((Value(w.data) * xi for w, xi in zip(n.w, x)), Value(n.b.data)).tanh() for n in layer.neurons]
    (hand[0] + hand[1] * hand[2]).backward()
    for (_, _, grad), xi in zip(inputs, x):
        assert grad == pytest.approx(xi.grad, abs=1e-12)


def test_inputs_that_are_values_are_drawn_as_the_values_and_numbers_between_them_get_boxes():
    n = Neuron(3, rng=2)
    a, c = Value(1.0, label="a"), Value(-1.0, label="c")
    o = n([a, 2.0, c])
    o.backward()
    source = draw_dot(o).source
    labels = labels_of(source)
    assert sorted(labels) == sorted(["a", "c", "x2", "w1", "w2", "w3", "b", ""])
    assert f"a | data 1.0000 | grad {a.grad:.4f}" in records(source).values()


def test_copied_fused_neuron_is_drawn_without_its_number_inputs():
    import copy

    o = Neuron(2, rng=1)([2.0, 3.0])
    source = draw_dot(copy.deepcopy(o)).source  # the rules stay behind: the numbers are gone
    assert labels_of(source) == ["w1", "w2", "b", ""]
    assert draw_dot(copy.deepcopy(o), expand_neurons=True).source == source


def test_backward_page_shows_number_inputs_without_a_grad_it_never_fills_in():
    from chainrule.viz.graph import build_digraph

    o = MLP(2, [2, 1], rng=1)([0.5, -0.25])
    o.backward()
    order = topological_order(o)
    source = build_digraph(order, grad_texts=["G"] * len(order)).source
    inputs = [v for k, v in records(source).items() if k.startswith("in")]
    assert sorted(inputs) == ["x1 | data 0.5000", "x2 | data -0.2500"]


# -- 3. expand_neurons: the fused neuron as the notes' small nodes -----------------------------------------
def unfused(neuron: Neuron, x: list, activation: str):
    """The notes' neuron built by hand from single operations, on fresh Values with the same numbers."""
    w = [Value(wi.data) for wi in neuron.w]
    b = Value(neuron.b.data)
    products, sums = [], []
    act = b
    for wi, xi in zip(w, x):
        products.append(wi * xi)
        act = act + products[-1]
        sums.append(act)
    out = act if activation == "linear" else getattr(act, activation)()
    return out, w, b, products, sums


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "linear"])
def test_expanded_neuron_has_the_unfused_graphs_nodes_numbers_and_grads(activation, exact_numbers):
    n = Neuron(3, activation=activation, rng=11)
    numbers = [0.7, -1.3, 2.1]
    o = n(numbers)
    (o * 3.0).backward()  # a grad other than 1 reaches the neuron
    x = [Value(v) for v in numbers]
    out, w, b, products, sums = unfused(n, x, activation)
    (out * 3.0).backward()

    source = draw_dot(o, expand_neurons=True).source
    boxes = {k: numbers_of(v) for k, v in records(source).items()}
    ops = op_nodes(source)
    i = topological_order(o).index(o)
    # n products, n additions, the activation: 2n + 1 operations (2n when linear), and the outer `* 3.0`.
    expected_ops = (
        ["*"] * 3 + ["+"] * 3 + ([] if activation == "linear" else [{"relu": "ReLU"}.get(activation, activation)])
    )
    assert sorted(v for k, v in ops.items() if k.startswith(f"op{i}")) == sorted(expected_ops)
    for k in range(3):
        _, data, grad = boxes[f"v{i}_p{k + 1}"]
        assert data == pytest.approx(products[k].data, abs=1e-12)
        assert grad == pytest.approx(products[k].grad, abs=1e-12)
    for k in range(3 if activation != "linear" else 2):
        _, data, grad = boxes[f"v{i}_s{k + 1}"]
        assert data == pytest.approx(sums[k].data, abs=1e-12)
        assert grad == pytest.approx(sums[k].grad, abs=1e-12)
    assert boxes[f"v{i}"][1:] == pytest.approx((out.data, out.grad), abs=1e-12)
    inputs = sorted((v for k, v in boxes.items() if k.startswith("in")), key=lambda t: t[0])
    assert [data for _, data, _ in inputs] == numbers
    for (_, _, grad), xi in zip(inputs, x):
        assert grad == pytest.approx(xi.grad, abs=1e-12)
    for p, hand in zip(n.parameters(), [*w, b]):
        assert boxes[f"v{topological_order(o).index(p)}"][2] == pytest.approx(hand.grad, abs=1e-12)


def test_expanded_mlp_matches_the_notes_unfused_mlp(exact_numbers):
    net = MLP(2, [3, 2, 1], rng=5)
    xs = [1.5, -0.5]
    o = net(xs)
    loss = (o - 1.0) ** 2
    loss.backward()

    # The notes' MLP by hand: every neuron from single operations, on the same numbers.
    x = [Value(v) for v in xs]
    layer_in, hand = x, {}
    for layer in net.layers:
        outs = []
        for neuron in layer.neurons:
            out, w, b, products, sums = unfused(neuron, layer_in, "tanh")
            hand[id(neuron.w[0])] = (out, w, b, products, sums)
            outs.append(out)
        layer_in = outs
    ((layer_in[0] - 1.0) ** 2).backward()

    source = draw_dot(loss, expand_neurons=True).source
    boxes = {k: numbers_of(v) for k, v in records(source).items()}
    order = topological_order(loss)
    fused = [(i, node) for i, node in enumerate(order) if node._op == "tanh(wsum)"]
    assert len(fused) == 6
    checked = 0
    for i, node in fused:
        out, w, b, products, sums = hand[id(node._prev[0])]
        assert boxes[f"v{i}"][1:] == pytest.approx((out.data, out.grad), abs=1e-12)
        for k, (p, s) in enumerate(zip(products, sums), start=1):
            assert boxes[f"v{i}_p{k}"][1:] == pytest.approx((p.data, p.grad), abs=1e-12)
            assert boxes[f"v{i}_s{k}"][1:] == pytest.approx((s.data, s.grad), abs=1e-12)
            checked += 2
        for param, hand_param in zip([*node._prev[: len(w)], node._prev[-1]], [*w, b]):
            assert param.grad == pytest.approx(hand_param.grad, abs=1e-12)
    assert checked == 2 * (3 * 2 + 2 * 3 + 1 * 2)
    inputs = sorted((v for k, v in boxes.items() if k.startswith("in")), key=lambda t: t[0])
    assert [grad for _, _, grad in inputs] == pytest.approx([xi.grad for xi in x], abs=1e-12)


def test_expand_neurons_counts_and_default():
    n = Neuron(4, rng=0)
    o = n([1.0, 2.0, 3.0, 4.0])
    plain, expanded = draw_dot(o).source, draw_dot(o, expand_neurons=True).source
    assert len(op_nodes(plain)) == 1 and len(records(plain)) == 4 + 4 + 1 + 1  # x's, w's, b, out
    assert sorted(op_nodes(expanded).values()) == ["*"] * 4 + ["+"] * 4 + ["tanh"]  # 2n + 1
    assert len(records(expanded)) == 10 + 4 + 4  # and a box for each product and each partial sum
    # Before backward every grad is 0, as in the unfused graph.
    assert all(text.endswith("grad 0.0000") for text in records(expanded).values())
    # The lecture's hand-built neuron has no fused node: expanding changes nothing.
    from chainrule.examples import lecture_neuron

    assert draw_dot(lecture_neuron(), expand_neurons=True).source == draw_dot(lecture_neuron()).source


# -- 4. pictures that stay readable when shrunk to fit -------------------------------------------------------
def test_draw_dot_keeps_the_lectures_rows_and_stacked_puts_fields_one_under_another():
    from chainrule.examples import lecture_neuron

    rows = draw_dot(lecture_neuron()).source
    assert 'label="{ x1 | data 2.0000 | grad -1.5000 }"' in rows
    assert "fontsize=12]" in rows
    stacked = draw_dot(lecture_neuron(), stacked=True).source
    assert 'label="x1 | data 2.0000 | grad -1.5000"' in stacked  # no braces: one field under another
    assert "fontsize=14]" in stacked
    assert records(stacked) == records(rows)  # the same boxes, the same texts

    o = Neuron(2, rng=1)([2.0, 3.0])
    assert re.search(r'v3 \[label="data 0\.\d{4} \| grad 0\.0000"', draw_dot(o, stacked=True).source)
    assert re.search(r'v3 \[label="\{  \| data 0\.\d{4} \| grad 0\.0000 \}"', draw_dot(o).source)


def test_backward_page_boxes_are_stacked():
    from chainrule.examples import lecture_neuron
    from chainrule.viz.graph import build_digraph

    order = topological_order(lecture_neuron())
    source = build_digraph(order, grad_texts=["grad text"] * len(order)).source
    assert 'label="x1 | data 2.0000 | grad grad text"' in source
    assert "{" not in "".join(records(source).values())


@pytest.mark.usefixtures("graph_renderer")
def test_the_pages_pictures_fit_a_1200_pixel_window_with_readable_text():
    """The README's screenshot (the lecture's neuron) and `chainrule graph --model demo`: at the page's
    1200-pixel width (1160 for the picture) the box text must be at least 12 and 9 pixels high."""
    from chainrule.examples import backward_walk_example, lecture_neuron
    from chainrule.viz.graph import render_svg

    for root, smallest in [(lecture_neuron(), 12.0), (backward_walk_example("demo", 1337), 9.0)]:
        order = topological_order(root)
        svg = render_svg(order, grad_texts=[format(0, ".4f")] * len(order))
        width = float(re.search(r'<svg width="([\d.]+)pt"', svg).group(1))
        scale = min(1.0, 1160 / (width * 4 / 3))  # the page shrinks the picture to fit, never enlarges it
        assert 14 * 4 / 3 * scale >= smallest, (width, scale)


def test_graph_after_backward_with_create_graph_draws_the_gradients_numbers():
    net = MLP(2, [2, 1], rng=0)
    o = net([1.0, 2.0])
    o.backward(create_graph=True)  # every grad is a Value now
    for expand in (False, True):
        boxes = records(draw_dot(o, expand_neurons=expand).source)
        for p in net.parameters():
            assert f"{p.label} | data {p.data:.4f} | grad {p.grad.data:.4f}" in boxes.values()


def test_neuron_parts_tells_the_inputs_of_a_fused_neuron():
    import copy

    from chainrule.engine import weighted_sum
    from chainrule.fused import neuron_parts

    w = [Value(1.0), Value(2.0), Value(3.0)]
    b = Value(0.5)
    a = Value(-1.0)
    out = weighted_sum(w, [4.0, a, 6], b, activation="relu")
    weights, inputs, bias, activation = neuron_parts(out)
    assert all(x is y for x, y in zip(weights, w)) and len(weights) == 3 and bias is b and activation == "relu"
    assert inputs[0] == 4.0 and inputs[1] is a and inputs[2] == 6.0
    all_values = weighted_sum(w, [a, a, a], b)
    assert all(x is a for x in neuron_parts(all_values)[1]) and neuron_parts(all_values)[3] == "linear"
    assert neuron_parts(a * b) is None and neuron_parts(a) is None
    assert neuron_parts(copy.deepcopy(out)) is None  # its rule stayed behind
