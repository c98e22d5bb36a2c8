"""``chainrule.nn`` (Neuron, Layer, MLP) against the same network in PyTorch: outputs, parameter gradients
and input gradients for tanh, relu with a linear output, and sigmoid; plus shapes, parameter order and
reproducible initialisation.
"""

from __future__ import annotations

import math
import random

import pytest
from oracle import TorchTwin, assert_close

from chainrule import Value
from chainrule.nn import MLP, Layer, Neuron

REL = 1e-12


def outputs_as_list(out):
    return out if isinstance(out, list) else [out]


CASES = [
    # (nin, nouts, activation, output_activation, torch activations per layer)
    (3, [4, 4, 1], "tanh", None, ["tanh", "tanh", "tanh"]),
    (2, [8, 3], "relu", "linear", ["relu", "linear"]),
    (4, [5, 5, 2], "sigmoid", None, ["sigmoid", "sigmoid", "sigmoid"]),
    (2, [16, 1, 1], "tanh", None, ["tanh", "tanh", "tanh"]),
    (3, [6, 2], "tanh", "sigmoid", ["tanh", "sigmoid"]),
    (1, [1], "relu", "linear", ["linear"]),
]


@pytest.mark.parametrize("nin, nouts, activation, output_activation, torch_activations", CASES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mlp_matches_torch(torch, seed, nin, nouts, activation, output_activation, torch_activations):
    rng = random.Random(seed)
    model = MLP(nin, nouts, activation=activation, output_activation=output_activation, rng=rng)
    twin = TorchTwin(torch, model, torch_activations)
    inputs = [[rng.uniform(-2, 2) for _ in range(nin)] for _ in range(3)]
    # a loss that weighs every output differently, so each output's gradient path is checked
    weights = [rng.uniform(-1, 1) for _ in range(nouts[-1])]

    x_values = [[Value(v) for v in x] for x in inputs]
    loss = sum(w * o for x in x_values for w, o in zip(weights, outputs_as_list(model(x))))
    loss.backward()

    x_tensors = [torch.tensor(x, requires_grad=True) for x in inputs]
    t_loss = sum((torch.tensor(weights) * twin(x)).sum() for x in x_tensors)
    t_loss.backward()

    for x, x_t in zip(inputs, x_tensors):
        ours = [o.data for o in outputs_as_list(model(x))]
        assert_close(ours, twin(x_t), rtol=REL, atol=1e-15, what=f"outputs at {x}")
    assert_close(loss.data, t_loss, rtol=REL, atol=1e-12, what="loss")
    grads = [p.grad for p in model.parameters()]
    assert_close(grads, twin.mlp_order("grad"), rtol=1e-10, atol=1e-14, what="parameter gradients")
    for xs, x_t in zip(x_values, x_tensors):
        assert_close([v.grad for v in xs], x_t.grad, rtol=1e-10, atol=1e-14, what="input gradients")


def test_mlp_parameter_count_and_layer_sizes():
    model = MLP(3, [4, 4, 1])
    # (3 weights + 1 bias) * 4 + (4 + 1) * 4 + (4 + 1) * 1
    assert len(model.parameters()) == 41
    assert [len(layer.neurons) for layer in model.layers] == [4, 4, 1]
    assert [len(layer.neurons[0].w) for layer in model.layers] == [3, 4, 4]
    assert all(isinstance(p, Value) for p in model.parameters())
    assert len({id(p) for p in model.parameters()}) == 41
    assert len(MLP(2, [16, 1, 1]).parameters()) == 3 * 16 + 17 + 2


def test_layer_returns_a_single_value_when_it_has_one_neuron():
    one = Layer(3, 1)
    out = one([1.0, 2.0, 3.0])
    assert isinstance(out, Value)
    many = Layer(3, 2)
    outs = many([1.0, 2.0, 3.0])
    assert isinstance(outs, list) and len(outs) == 2 and all(isinstance(o, Value) for o in outs)


def test_mlp_with_a_one_neuron_hidden_layer():
    # MLP(2, [16, 1, 1]): the single Value out of the middle layer feeds the last neuron
    random.seed(5)
    model = MLP(2, [16, 1, 1])
    out = model([0.5, -1.0])
    assert isinstance(out, Value)
    hidden = model.layers[0]([0.5, -1.0])
    middle = model.layers[1](hidden)
    last = model.layers[2].neurons[0]
    assert isinstance(middle, Value)
    # tanh(w * middle + b), computed by hand from the middle layer's output
    assert out.data == pytest.approx(math.tanh(last.w[0].data * middle.data + last.b.data), rel=1e-15)


def test_parameters_are_ordered_layer_then_neuron_then_weights_then_bias():
    model = MLP(2, [3, 2])
    expected = []
    for layer in model.layers:
        for neuron in layer.neurons:
            expected += neuron.w
            expected.append(neuron.b)
    assert len(expected) == 9 + 8
    assert all(got is want for got, want in zip(model.parameters(), expected))
    neuron = model.layers[0].neurons[0]
    assert neuron.parameters()[-1] is neuron.b and neuron.parameters()[:-1] == neuron.w


def test_initialisation_is_reproducible_with_random_seed():
    random.seed(42)
    first = [p.data for p in MLP(3, [4, 4, 1]).parameters()]
    random.seed(42)
    second = [p.data for p in MLP(3, [4, 4, 1]).parameters()]
    assert first == second
    # the weights, then the bias, of each neuron are drawn in turn from random.uniform(-1, 1)
    random.seed(42)
    assert first == [random.uniform(-1, 1) for _ in range(41)]
    assert all(-1.0 <= w <= 1.0 for w in first)
    assert len(set(first)) == 41


def test_initialisation_is_reproducible_with_a_generator():
    first = [p.data for p in MLP(3, [4, 4, 1], rng=random.Random(7)).parameters()]
    random.seed(0)  # the global generator must not matter
    second = [p.data for p in MLP(3, [4, 4, 1], rng=random.Random(7)).parameters()]
    assert first == second
    rng = random.Random(7)
    assert first == [rng.uniform(-1, 1) for _ in range(41)]
    assert first != [p.data for p in MLP(3, [4, 4, 1], rng=random.Random(8)).parameters()]


def test_a_generator_leaves_the_global_random_state_alone():
    random.seed(3)
    expected = random.random()
    random.seed(3)
    MLP(3, [4, 4, 1], rng=random.Random(1))
    assert random.random() == expected


def test_neuron_activations_by_hand():
    x = [0.5, -2.0]
    for activation, fn in [
        ("tanh", math.tanh),
        ("relu", lambda z: max(z, 0.0)),
        ("sigmoid", lambda z: 1.0 / (1.0 + math.exp(-z))),
        ("linear", lambda z: z),
    ]:
        n = Neuron(2, activation=activation, rng=random.Random(11))
        z = n.b.data + n.w[0].data * x[0] + n.w[1].data * x[1]
        assert n(x).data == pytest.approx(fn(z), rel=1e-15, abs=1e-300)


def test_neuron_accepts_values_and_numbers_mixed(torch):
    n = Neuron(3, rng=random.Random(2))
    a = Value(0.7)
    out = n([a, 2, -1.5])
    out.backward()
    w = torch.tensor([p.data for p in n.w], requires_grad=True)
    b = torch.tensor(n.b.data, requires_grad=True)
    ta = torch.tensor(0.7, requires_grad=True)
    t_out = torch.tanh(w[0] * ta + w[1] * 2 + w[2] * -1.5 + b)
    t_out.backward()
    assert_close(out.data, t_out, rtol=REL, atol=1e-12, what="output")
    assert_close(a.grad, ta.grad, rtol=REL, atol=1e-12, what="input gradient")
    assert_close([p.grad for p in n.w], w.grad, rtol=REL, atol=1e-12, what="weight gradients")
    assert_close(n.b.grad, b.grad, rtol=REL, atol=1e-12, what="bias gradient")


def test_zero_grad_resets_every_parameter():
    model = MLP(3, [4, 1], rng=random.Random(0))
    model([1.0, 2.0, 3.0]).backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())
