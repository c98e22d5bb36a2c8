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
