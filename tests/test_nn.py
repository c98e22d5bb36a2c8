"""``chainrule.nn`` (Neuron, Layer, MLP) against the same network in PyTorch: outputs, parameter gradients
and input gradients for tanh, relu with a linear output, and sigmoid; plus shapes, parameter order and
reproducible initialisation.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from oracle import TorchTwin, assert_close

from chainrule import Value
from chainrule.nn import MLP, Layer, Module, Neuron, unique_parameters
from chainrule.optim import SGD, Adam, AdamW

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


# -- seeds: an int works wherever a random.Random does ---------------------------------------------
@pytest.mark.parametrize("seed", [42, 0, np.int64(42)], ids=["42", "0", "np.int64"])
def test_an_int_seed_is_a_random_random_of_that_seed(seed):
    from_int = [p.data for p in MLP(2, [3, 1], rng=seed).parameters()]
    assert from_int == [p.data for p in MLP(2, [3, 1], rng=seed).parameters()]
    # one generator for the whole model, each neuron drawing its weights then its bias in turn
    assert from_int == [p.data for p in MLP(2, [3, 1], rng=random.Random(int(seed))).parameters()]
    rng = random.Random(int(seed))
    assert from_int == [rng.uniform(-1, 1) for _ in range(len(from_int))]
    assert [p.data for p in Layer(2, 3, rng=seed).parameters()] == from_int[:9]
    assert [p.data for p in Neuron(2, rng=seed).parameters()] == from_int[:3]


def test_an_int_seed_leaves_the_global_random_state_alone():
    random.seed(3)
    expected = random.random()
    random.seed(3)
    MLP(2, [3, 1], rng=42)
    assert random.random() == expected


@pytest.mark.parametrize("rng", [True, 1.5, "42", np.random.default_rng(0), [42]])
@pytest.mark.parametrize(
    "build, where",
    [
        (lambda rng: MLP(2, [3], rng=rng), "MLP"),
        (lambda rng: Layer(2, 3, rng=rng), "Layer"),
        (lambda rng: Neuron(2, rng=rng), "Neuron"),
    ],
)
def test_anything_else_as_rng_is_a_type_error(build, where, rng):
    with pytest.raises(
        TypeError, match=rf"^{where}: rng must be None, an int seed or a random\.Random, got {type(rng).__name__}"
    ):
        build(rng)


# -- shared parameters are listed, and trained, once ------------------------------------------------
def scalar_forward_in_torch(model, leaves, x):
    """``model``'s forward pass (tanh everywhere) in torch, each Value replaced by ``leaves[id(value)]``,
    so a Value shared by two neurons is one torch leaf too. Sums in the notes' order: bias first."""
    for layer in model.layers:
        outs = []
        for neuron in layer.neurons:
            act = leaves[id(neuron.b)]
            for w, xi in zip(neuron.w, x):
                act = act + leaves[id(w)] * xi
            outs.append(act.tanh())
        x = outs
    return x[0]


@pytest.mark.parametrize(
    "ours, theirs, options",
    [(SGD, "SGD", {"lr": 0.05, "momentum": 0.9}), (Adam, "Adam", {"lr": 0.05}), (AdamW, "AdamW", {"lr": 0.05})],
    ids=["SGD", "Adam", "AdamW"],
)
def test_a_value_shared_by_two_neurons_trains_like_torch(torch, ours, theirs, options):
    model = MLP(2, [2, 1], rng=3)
    first, second = model.layers[0].neurons
    second.w[0] = first.w[0]  # tied weights: one Value in two neurons
    params = model.parameters()
    assert len(params) == 8 and len({id(p) for p in params}) == 8
    assert sum(p is first.w[0] for p in params) == 1
    assert params[:3] == [first.w[0], first.w[1], first.b]  # first-seen order
    assert model.layers[0].parameters() == [first.w[0], first.w[1], first.b, second.w[1], second.b]

    leaves = {id(p): torch.tensor(p.data, requires_grad=True) for p in params}
    t_params = [leaves[id(p)] for p in params]
    optimizer, t_optimizer = ours(params, **options), getattr(torch.optim, theirs)(t_params, **options)
    xs, ys = [[0.5, -1.0], [1.0, 2.0], [-1.5, 0.3]], [1.0, -1.0, 1.0]
    for step in range(5):
        optimizer.zero_grad()
        loss = sum((model(x) - y) ** 2 for x, y in zip(xs, ys))
        loss.backward()
        optimizer.step()
        t_optimizer.zero_grad()
        t_loss = sum((scalar_forward_in_torch(model, leaves, x) - y) ** 2 for x, y in zip(xs, ys))
        t_loss.backward()
        t_optimizer.step()
        assert_close(loss.data, t_loss, rtol=1e-12, what=f"step {step}: loss")
        assert_close([p.data for p in params], [t.item() for t in t_params], rtol=0.0, atol=1e-10, what=f"step {step}")
    # still tied after training
    assert second.w[0] is first.w[0]


def test_unique_parameters_goes_by_identity_not_equality():
    a, b = Value(2.0), Value(2.0)  # equal numbers, two parameters
    assert unique_parameters([a, b, a, b, a]) == [a, b]
    assert [id(p) for p in unique_parameters(iter([b, a, b]))] == [id(b), id(a)]
    assert unique_parameters([]) == []


def test_a_module_of_your_own_lists_shared_parts_once():
    class Twice(Module):
        def __init__(self):
            self.block = MLP(2, [2], rng=1)

        def __call__(self, x):
            return self.block(self.block(x))

        def parameters(self):
            return unique_parameters(self.block.parameters() + self.block.parameters())

    model = Twice()
    assert model.parameters() == model.block.parameters() and len(model.parameters()) == 6
    model([1.0, 2.0])[0].backward()
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


# -- one example's inputs, in whatever container they come ---------------------------------------
def test_inputs_as_an_array_a_tuple_or_a_generator_give_the_same_output():
    model = MLP(3, [4, 2], rng=0)
    expected = [o.data for o in model([0.5, -1.0, 2.0])]
    for x in [
        (0.5, -1.0, 2.0),
        np.array([0.5, -1.0, 2.0]),
        (v for v in [0.5, -1.0, 2.0]),
        np.float64([0.5, -1.0, 2.0]),
    ]:
        out = model(x)
        assert [o.data for o in out] == expected
        assert all(type(o.data) is float for o in out)
    neuron = Neuron(1, rng=0)
    assert neuron(np.float32(0.5)).data == neuron([0.5]).data == neuron(np.array(0.5)).data


def test_a_batch_given_to_a_scalar_model_is_a_clear_error():
    model = MLP(2, [3, 1], rng=0)
    with pytest.raises(
        ValueError, match=r"^Layer: got an array of shape \(4, 2\).*one example at a time.*\[model\(x\) for x in X\]"
    ):
        model(np.ones((4, 2)))
    with pytest.raises(
        TypeError, match=r"^Layer: input 0 is list \[1\.0, 2\.0\], not a number or a Value.*one example at a time"
    ):
        model([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(TypeError, match=r"^Neuron: input 1 is str 'x', not a number or a Value"):
        Neuron(2)([1.0, "x"])
    with pytest.raises(TypeError, match=r"^Layer: input 0 is NoneType None"):
        model(None)


def test_a_tensor_row_is_one_example_and_a_tensor_with_a_graph_is_a_clear_error():
    # A 1-D Tensor is one example's numbers, as micrograd takes it; a batch or a Tensor with a gradient
    # to follow cannot go into a scalar model.
    from chainrule import Tensor

    model = MLP(2, [3, 1], rng=0)
    assert model(Tensor([1.0, 2.0])).data == model([1.0, 2.0]).data
    assert model(np.array([1.0, 2.0])).data == model([1.0, 2.0]).data
    with pytest.raises(TypeError, match=r"^Layer: got a Tensor that requires grad.*Sequential\(Linear"):
        model(Tensor([1.0, 2.0], requires_grad=True))
    with pytest.raises(ValueError, match=r"one example at a time"):
        model(Tensor([[1.0, 2.0], [3.0, 4.0]]))
