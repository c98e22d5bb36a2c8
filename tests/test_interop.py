"""The bridge to PyTorch (``chainrule.interop``): a converted model computes the same outputs and the same
gradients as the original, to 1e-12, in torch float64.

Parameters are matched by position: a Tensor-engine model's ``parameters()`` and torch's ``parameters()``
list each (shared) parameter once, layer by layer, weight then bias, so they pair up one to one, with
torch's weight the transpose of chainrule's. For the scalar ``MLP``, neuron ``j`` of layer ``k`` is row
``j`` of the ``k``-th torch Linear: its ``w[i]`` is ``weight[j, i]``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from oracle import assert_close

import chainrule.interop
from chainrule import Tensor, Value, data
from chainrule.interop import from_torch, to_torch
from chainrule.losses import cross_entropy, hinge, l2_penalty, mse
from chainrule.nn import MLP, Identity, Layer, Linear, Module, Neuron, ReLU, Sequential, Sigmoid, Tanh
from chainrule.optim import SGD

RTOL, ATOL = 1e-12, 1e-14  # the atol only forgives entries that cancel to ~1e-17 in different orders


# -- comparisons ------------------------------------------------------------------------------------------
def torch_layout(array: np.ndarray) -> np.ndarray:
    """A chainrule parameter's numbers as torch stores them: a weight (nin, nout) becomes (nout, nin)."""
    return array.T if array.ndim == 2 else array


def paired(model, net) -> list:
    """(chainrule parameter, torch parameter) pairs, in both models' order; the counts must match."""
    ours, theirs = model.parameters(), list(net.parameters())
    assert len(ours) == len(theirs), f"chainrule has {len(ours)} parameters, torch {len(theirs)}"
    return list(zip(ours, theirs))


def assert_same_weights(model, net) -> None:
    """The same numbers, bit for bit (a copy and a transpose change none), in each pair of parameters."""
    for i, (p, t) in enumerate(paired(model, net)):
        assert tuple(t.shape) == torch_layout(p.data).shape, f"parameter {i}: {tuple(t.shape)} vs {p.shape}"
        np.testing.assert_array_equal(torch_layout(p.data), t.detach().numpy(), err_msg=f"parameter {i}")


def assert_same_function(torch, model, net, X: np.ndarray, loss: str = "squares", labels=None) -> None:
    """``model`` (Tensor engine) and ``net`` (torch) on the batch ``X``: the same outputs, and the same
    gradients of the loss with respect to the inputs and to every parameter."""
    x = Tensor(X, requires_grad=True)
    xt = torch.tensor(X, requires_grad=True)
    out, out_t = model(x), net(xt)
    assert_close(out.data, out_t, RTOL, ATOL, "outputs")
    if loss == "squares":
        ours, theirs = (out**2).sum(), (out_t**2).sum()
    else:
        ours = cross_entropy(out, labels)
        theirs = torch.nn.functional.cross_entropy(out_t, torch.tensor(labels))
    assert_close(ours.data, theirs, RTOL, ATOL, "loss")
    model.zero_grad()
    net.zero_grad()
    ours.backward()
    theirs.backward()
    assert_close(x.grad, xt.grad, RTOL, ATOL, "gradient wrt the inputs")
    for i, (p, t) in enumerate(paired(model, net)):
        assert p.grad is not None and t.grad is not None, f"parameter {i} got no gradient"
        assert_close(torch_layout(p.grad), t.grad, RTOL, ATOL, f"gradient wrt parameter {i}")


def torch_linears(torch, net) -> list:
    """The torch Linear modules of a converted scalar model, in order (a shared one as often as it is used)."""
    return [m for m in net if isinstance(m, torch.nn.Linear)]


def scalar_pairs(torch, model, net) -> list:
    """(Value, torch parameter, index into it) for every weight and bias of a scalar MLP."""
    layers = model.layers if isinstance(model, MLP) else [model]
    linears = torch_linears(torch, net)
    assert len(linears) == len(layers)
    pairs = []
    for layer, linear in zip(layers, linears):
        for j, neuron in enumerate(layer.neurons):
            pairs += [(w, linear.weight, (j, i)) for i, w in enumerate(neuron.w)]
            pairs.append((neuron.b, linear.bias, (j,)))
    return pairs


def assert_scalar_model_matches(torch, model, net, X: np.ndarray, loss) -> None:
    """The scalar ``model`` on each row of ``X`` (as Values) and ``net`` on the batch: same outputs, and the
    same gradients of ``loss(outputs)`` for every input and every weight; ``loss`` works on both."""
    xs = [[Value(v) for v in row] for row in X.tolist()]
    outs = [model(x) for x in xs]
    xt = torch.tensor(X, requires_grad=True)
    out_t = net(xt)
    per_example = [[o] if isinstance(o, Value) else o for o in outs]  # one output: a Value, not a list
    assert out_t.shape == (len(X), len(per_example[0])), "torch keeps the output dimension, even of size 1"
    assert_close([[o.data for o in row] for row in per_example], out_t, RTOL, ATOL, "outputs")
    ours, theirs = loss(outs), loss(out_t)
    assert_close(ours.data, theirs, RTOL, ATOL, "loss")
    model.zero_grad()
    ours.backward()
    theirs.backward()
    assert_close([[v.grad for v in x] for x in xs], xt.grad, RTOL, ATOL, "gradients wrt the inputs")
    pairs = scalar_pairs(torch, model, net)
    assert len({id(v) for v, _, _ in pairs}) == sum(t.numel() for t in net.parameters())
    got = [v.grad for v, _, _ in pairs]
    want = [float(t.grad[index]) for _, t, index in pairs]
    assert_close(got, want, RTOL, ATOL, "gradients wrt the weights and biases")


def torch_linear(torch, nin: int, nout: int, seed: int, bias: bool = True):
    """A torch Linear with weights from a seeded NumPy generator, leaving torch's global generator alone."""
    layer = torch.nn.utils.skip_init(torch.nn.Linear, nin, nout, bias=bias)
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for p in layer.parameters():
            p.copy_(torch.tensor(rng.uniform(-1, 1, size=tuple(p.shape))))
    return layer


def all_tensor_layers_model() -> Sequential:
    """Every layer the bridge knows, a nested Sequential and a Linear without bias: 4 inputs, 3 outputs."""
    return Sequential(
        Linear(4, 6, rng=1),
        Tanh(),
        Sequential(Linear(6, 5, rng=2), Sigmoid()),
        Linear(5, 5, bias=False, rng=3),
        ReLU(),
        Linear(5, 3, rng=4),
        Identity(),
    )


# -- the Tensor engine, both ways ----------------------------------------------------------------------
def test_sequential_to_torch_same_modules_weights_outputs_and_gradients(torch):
    model = all_tensor_layers_model()
    net = to_torch(model)
    assert isinstance(net, torch.nn.Sequential)
    assert [type(m).__name__ for m in net] == ["Linear", "Tanh", "Sequential", "Linear", "ReLU", "Linear", "Identity"]
    assert [type(m).__name__ for m in net[2]] == ["Linear", "Sigmoid"]
    assert net[3].bias is None and net[0].in_features == 4 and net[0].out_features == 6
    assert all(p.dtype == torch.float64 for p in net.parameters())
    assert_same_weights(model, net)
    rng = np.random.default_rng(1)
    X = rng.standard_normal((8, 4))
    assert_same_function(torch, model, net, X, "cross_entropy", labels=rng.integers(0, 3, size=8))
    # One example, not a batch: (nin,) in, (nout,) out, as in chainrule.
    assert_close(model(X[0]).data, net(torch.tensor(X[0])), RTOL, ATOL, "one example")


def test_linear_alone_becomes_torch_linear_and_back(torch):
    rng = np.random.default_rng(2)
    for bias in (True, False):
        layer = Linear(3, 2, bias=bias, rng=5)
        net = to_torch(layer)
        assert type(net) is torch.nn.Linear and (net.bias is not None) == bias
        assert_same_weights(layer, net)
        assert_same_function(torch, layer, net, rng.standard_normal((4, 3)))
        back = from_torch(net)
        assert type(back) is Linear and repr(back) == repr(layer)
        assert_same_function(torch, back, net, rng.standard_normal((4, 3)))


def test_to_torch_then_from_torch_round_trips(torch):
    model = all_tensor_layers_model()
    net = to_torch(model)
    back = from_torch(net)
    assert repr(back) == repr(model)
    assert len(back.parameters()) == len(model.parameters())
    for p, q in zip(model.parameters(), back.parameters()):
        assert q is not p and q.dtype == np.float64 and q.requires_grad
        np.testing.assert_array_equal(q.data, p.data)  # transposed twice: bit for bit the same numbers
    rng = np.random.default_rng(3)
    X = rng.standard_normal((6, 4))
    assert_same_function(torch, model, net, X)
    assert_same_function(torch, back, net, X, "cross_entropy", labels=rng.integers(0, 3, size=6))


def test_from_torch_then_to_torch_round_trips(torch):
    net = torch.nn.Sequential(
        torch_linear(torch, 3, 7, seed=0),
        torch.nn.ReLU(),
        torch.nn.Sequential(torch_linear(torch, 7, 7, seed=1, bias=False), torch.nn.Tanh()),
        torch.nn.Identity(),
        torch_linear(torch, 7, 2, seed=2),
        torch.nn.Sigmoid(),
    )
    model = from_torch(net)
    assert repr(model) == (
        "Sequential(Linear(3, 7), ReLU(), Sequential(Linear(7, 7, bias=False), Tanh()), Identity(), Linear(7, 2), "
        "Sigmoid())"
    )
    assert all(p.dtype == np.float64 and p.requires_grad and p.grad is None for p in model.parameters())
    assert_same_weights(model, net)
    again = to_torch(model)
    assert str(again) == str(net)
    assert len(list(again.parameters())) == len(list(net.parameters()))
    for p, q in zip(net.parameters(), again.parameters()):
        assert q is not p and torch.equal(p, q)
    rng = np.random.default_rng(4)
    X = rng.standard_normal((5, 3))
    assert_same_function(torch, model, net, X)
    assert_same_function(torch, model, again, X, "cross_entropy", labels=np.array([0, 1, 1, 0, 1]))


# -- the scalar engine ------------------------------------------------------------------------------------
def test_notes_tanh_mlp_to_torch_same_outputs_and_gradients(torch):
    model = MLP(3, [4, 4, 1], rng=0)  # the notes' network: tanh everywhere
    net = to_torch(model)
    assert [type(m).__name__ for m in net] == ["Linear", "Tanh", "Linear", "Tanh", "Linear", "Tanh"]
    assert all(p.dtype == torch.float64 for p in net.parameters())
    X = np.array([[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]])
    ys = [1.0, -1.0, -1.0, 1.0]

    def notes_loss(outs):  # the notes' sum of squared errors, on a list of Values or on torch's (N, 1)
        if isinstance(outs, list):
            return sum((o - y) ** 2 for o, y in zip(outs, ys))
        return ((outs[:, 0] - torch.tensor(ys)) ** 2).sum()

    assert_scalar_model_matches(torch, model, net, X, notes_loss)


def test_moons_demo_mlp_to_torch_same_outputs_and_gradients(torch):
    # micrograd's demo: ReLU hidden layers, a linear output, hinge loss + 1e-4 L2
    model = MLP(2, [16, 16, 1], activation="relu", output_activation="linear", rng=1337)
    net = to_torch(model)
    assert [type(m).__name__ for m in net] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]  # no module for linear
    X, y = data.moons(n_samples=12, noise=0.1, seed=1337)

    def demo_loss(outs):
        if isinstance(outs, list):
            return hinge(outs, y.tolist()) + l2_penalty(model.parameters(), weight=1e-4)
        margins = torch.relu(1 - torch.tensor(y) * outs[:, 0]).mean()
        return margins + 1e-4 * sum((p**2).sum() for p in net.parameters())

    assert_scalar_model_matches(torch, model, net, X, demo_loss)
    # One example gives shape (1,) where chainrule gives one Value.
    one = net(torch.tensor(X[0]))
    assert one.shape == (1,) and abs(one.item() - model(X[0].tolist()).data) <= RTOL * abs(one.item())


@pytest.mark.parametrize("activation, module", [("sigmoid", "Sigmoid"), ("linear", None), ("relu", "ReLU")])
def test_layer_and_neuron_alone_to_torch(torch, activation, module):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((5, 3))
    layer = Layer(3, 4, activation=activation, rng=2)
    net = to_torch(layer)
    assert [type(m).__name__ for m in net] == ["Linear"] + ([module] if module else [])
    assert net(torch.tensor(X[0])).shape == (4,) and net(torch.tensor(X)).shape == (5, 4)
    assert_scalar_model_matches(torch, layer, net, X, lambda outs: sum(o * o for row in outs for o in row))

    neuron = Neuron(3, activation=activation, rng=3)
    net = to_torch(neuron)
    assert net[0].weight.shape == (1, 3) and net(torch.tensor(X[0])).shape == (1,)
    xs = [[Value(v) for v in row] for row in X.tolist()]
    outs = [neuron(x) for x in xs]
    xt = torch.tensor(X, requires_grad=True)
    out_t = net(xt)
    assert out_t.shape == (5, 1)  # one Value per example in chainrule; (N, 1) in torch
    assert_close([o.data for o in outs], out_t[:, 0], RTOL, ATOL, "Neuron outputs")
    sum(o * o for o in outs).backward()
    (out_t**2).sum().backward()
    assert_close(
        [v.grad for v in neuron.w] + [neuron.b.grad],
        net[0].weight.grad[0].tolist() + net[0].bias.grad.tolist(),
        RTOL,
        ATOL,
        "Neuron weights",
    )
    assert_close([[v.grad for v in x] for x in xs], xt.grad, RTOL, ATOL, "Neuron inputs")


# -- sharing ----------------------------------------------------------------------------------------------
def test_a_linear_used_twice_becomes_one_torch_linear_used_twice(torch):
    shared = Linear(3, 3, rng=8)
    model = Sequential(shared, Tanh(), shared, ReLU(), Linear(3, 2, rng=9))
    net = to_torch(model)
    assert net[0] is net[2] and len(list(net.parameters())) == 4
    rng = np.random.default_rng(6)
    X = rng.standard_normal((6, 3))
    # Both uses add into the one weight, in chainrule and in torch alike.
    assert_same_function(torch, model, net, X)
    one_use = np.zeros_like(shared.weight.grad)
    for use in (0, 2):  # the gradient really is the sum of two different contributions
        hidden = torch.tensor(X) if use == 0 else torch.tanh(net[0](torch.tensor(X))).detach()
        rest = net[use + 1 :]
        weight = net[0].weight.detach().clone().requires_grad_(True)
        (rest(hidden @ weight.T + net[0].bias.detach()) ** 2).sum().backward()
        one_use += weight.grad.numpy().T
        assert not np.allclose(weight.grad.numpy().T, shared.weight.grad)
    assert_close(one_use, shared.weight.grad, RTOL, ATOL, "the two uses' contributions")


def test_a_torch_linear_used_twice_becomes_one_chainrule_linear_used_twice(torch):
    shared = torch_linear(torch, 4, 4, seed=3)
    net = torch.nn.Sequential(shared, torch.nn.Sigmoid(), shared, torch.nn.Tanh(), shared)
    model = from_torch(net)
    assert model[0] is model[2] is model[4] and len(model.parameters()) == 2
    rng = np.random.default_rng(7)
    assert_same_function(torch, model, net, rng.standard_normal((3, 4)))
    again = to_torch(model)
    assert again[0] is again[2] is again[4] and len(list(again.parameters())) == 2


def test_weights_tied_between_two_linears_stay_tied(torch):
    first, second = Linear(3, 3, rng=10), Linear(3, 3, rng=11)
    second.weight = first.weight  # tied weights, separate biases
    model = Sequential(first, Tanh(), second)
    net = to_torch(model)
    assert net[0] is not net[2] and net[0].weight is net[2].weight and net[0].bias is not net[2].bias
    rng = np.random.default_rng(8)
    assert_same_function(torch, model, net, rng.standard_normal((4, 3)))
    back = from_torch(net)
    assert back[0].weight is back[2].weight and back[0].bias is not back[2].bias
    assert_same_function(torch, back, net, rng.standard_normal((4, 3)))


def test_a_scalar_layer_used_twice_becomes_one_torch_linear_used_twice(torch):
    model = MLP(3, [3, 3, 3], rng=4)
    model.layers[2] = model.layers[1]  # the same Layer twice (chainrule lists its Values once)
    net = to_torch(model)
    linears = torch_linears(torch, net)
    assert linears[1] is linears[2] and len(list(net.parameters())) == 4
    rng = np.random.default_rng(9)
    # Each shared Value's grad adds both uses, and so does the one torch entry it maps to.
    assert_scalar_model_matches(
        torch, model, net, rng.standard_normal((4, 3)), lambda outs: sum(o * o for row in outs for o in row)
    )


def test_a_value_shared_between_neurons_is_refused(torch):
    model = MLP(2, [3, 1], rng=5)
    model.layers[1].neurons[0].w[2] = model.layers[0].neurons[1].b  # one Value in two places
    with pytest.raises(ValueError, match=r"to_torch: .*same Value at layer 0, neuron 1, b and at layer 1, neuron 0"):
        to_torch(model)


def test_a_layer_whose_neurons_differ_is_refused(torch):
    layer = Layer(2, 3, activation="tanh", rng=6)
    layer.neurons[1].activation = "relu"
    with pytest.raises(ValueError, match=r"to_torch: the neurons of layer 0 differ \(activations \['relu', 'tanh'\]"):
        to_torch(layer)


# -- dtypes, independence, side effects ---------------------------------------------------------------------
def test_float32_is_kept_both_ways_unless_a_dtype_is_given(torch):
    model = Sequential(Linear(3, 4, rng=1, dtype=np.float32), Tanh(), Linear(4, 2, rng=2, dtype=np.float32))
    net = to_torch(model)
    assert [p.dtype for p in net.parameters()] == [torch.float32] * 4
    rng = np.random.default_rng(10)
    X = rng.standard_normal((5, 3)).astype(np.float32)
    assert_close(model(X).data, net(torch.tensor(X)), 1e-6, 1e-7, "float32 outputs")
    back = from_torch(net)
    assert [p.dtype for p in back.parameters()] == [np.float32] * 4
    assert_same_weights(back, net)

    wide = to_torch(model, dtype=torch.float64)
    assert [p.dtype for p in wide.parameters()] == [torch.float64] * 4
    assert_same_weights(model, wide)  # float32 -> float64 is exact
    assert [p.dtype for p in from_torch(wide).parameters()] == [np.float64] * 4
    assert [p.dtype for p in from_torch(wide, dtype=np.float32).parameters()] == [np.float32] * 4
    assert [p.dtype for p in to_torch(MLP(2, [2], rng=0), dtype=torch.float32).parameters()] == [torch.float32] * 2


def test_other_float_types(torch):
    half = to_torch(Linear(3, 2, rng=0, dtype=np.float16))
    assert half.weight.dtype == torch.float16
    # NumPy has no bfloat16: such weights come to chainrule as float64, every number exactly kept.
    brain = torch.nn.Linear(3, 2).to(torch.bfloat16)
    model = from_torch(brain)
    assert model.weight.dtype == np.float64 and model.bias.dtype == np.float64
    np.testing.assert_array_equal(model.weight.data, brain.weight.double().detach().numpy().T)
    np.testing.assert_array_equal(model.bias.data, brain.bias.double().detach().numpy())


def test_converted_parameters_are_fresh_leaves_independent_of_the_original(torch):
    model = all_tensor_layers_model()
    before = [p.data.copy() for p in model.parameters()]
    net = to_torch(model)
    for t in net.parameters():
        assert t.is_leaf and t.requires_grad and t.grad is None
    with torch.no_grad():
        for t in net.parameters():
            t.add_(1.0)
    for p, b in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.data, b)  # changing torch's weights left chainrule's alone
    back = from_torch(net)
    torch_numbers = [t.detach().clone() for t in net.parameters()]
    for p in back.parameters():
        p.data += 1.0
    for t, n in zip(net.parameters(), torch_numbers):
        assert torch.equal(t, n)  # and the other way round
    scalar = MLP(2, [2, 1], rng=3)
    scalar_net = to_torch(scalar)
    with torch.no_grad():
        scalar_net[0].weight.zero_()
    assert all(v.data != 0.0 for v in scalar.layers[0].neurons[0].w)


def test_conversion_leaves_the_global_random_generators_alone(torch):
    torch_state, numpy_state = torch.random.get_rng_state(), np.random.get_state()[1].copy()
    net = to_torch(all_tensor_layers_model())
    to_torch(MLP(3, [4, 1], rng=0))
    from_torch(net)
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    np.testing.assert_array_equal(np.random.get_state()[1], numpy_state)


# -- the graduation path ------------------------------------------------------------------------------------
def scalar_engine_problem(torch):
    """micrograd's demo on 30 points: MLP(2, [16, 16, 1]), hinge + 1e-4 L2. Returns the model, its loss in
    chainrule, the loss of a converted net, (chainrule number, torch number) for each parameter entry, and
    the learning rate."""
    X, y = data.moons(n_samples=30, noise=0.1, seed=1337)
    model = MLP(2, [16, 16, 1], activation="relu", output_activation="linear", rng=1337)
    xs, ys = X.tolist(), y.tolist()

    def ours():
        return hinge([model(x) for x in xs], ys) + l2_penalty(model.parameters(), weight=1e-4)

    def theirs(net):
        margins = torch.relu(1 - torch.tensor(y) * net(torch.tensor(X))[:, 0]).mean()
        return margins + 1e-4 * sum((p**2).sum() for p in net.parameters())

    def numbers(net):
        return [(v.data, float(t[index].detach())) for v, t, index in scalar_pairs(torch, model, net)]

    return model, ours, theirs, numbers, 0.05


def tensor_engine_problem(torch):
    """A regression on the Tensor engine: Sequential(Linear(3, 8), Tanh(), Linear(8, 2)), sum of squares."""
    rng = np.random.default_rng(11)
    X, Y = rng.standard_normal((20, 3)), rng.standard_normal((20, 2))
    model = Sequential(Linear(3, 8, rng=0), Tanh(), Linear(8, 2, rng=1))

    def ours():
        return mse(model(X), Y, reduction="sum")

    def theirs(net):
        return ((net(torch.tensor(X)) - torch.tensor(Y)) ** 2).sum()

    def numbers(net):
        pairs = paired(model, net)
        return [(torch_layout(p.data).ravel(), t.detach().numpy().ravel()) for p, t in pairs]

    return model, ours, theirs, numbers, 0.01


@pytest.mark.parametrize("problem", [scalar_engine_problem, tensor_engine_problem], ids=["scalar", "tensor"])
def test_graduation_train_in_chainrule_then_keep_training_in_torch(torch, problem):
    model, ours, theirs, numbers, lr = problem(torch)
    optimizer = SGD(model.parameters(), lr=lr)
    chainrule_losses = []
    for _ in range(3):
        loss = ours()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        chainrule_losses.append(float(loss.data))
    assert chainrule_losses[-1] < chainrule_losses[0]

    net = to_torch(model)
    before = np.hstack([t for _, t in numbers(net)])
    torch_optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    # chainrule's own next step, on the original (the converted net is independent of it) ...
    loss = ours()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    # ... and torch's first step: the same loss, and the same parameters afterwards.
    torch_loss = theirs(net)
    torch_optimizer.zero_grad()
    torch_loss.backward()
    torch_optimizer.step()
    assert_close(torch_loss.item(), float(loss.data), RTOL, ATOL, "loss at the first torch step")
    ours_after, theirs_after = zip(*numbers(net))
    assert_close(np.hstack(ours_after), np.hstack(theirs_after), RTOL, ATOL, "parameters after one step")
    assert not np.allclose(before, np.hstack(theirs_after)), "the step moved the parameters"

    torch_losses = [torch_loss.item()]
    for _ in range(20):
        torch_loss = theirs(net)
        torch_optimizer.zero_grad()
        torch_loss.backward()
        torch_optimizer.step()
        torch_losses.append(torch_loss.item())
    assert all(b < a for a, b in zip(torch_losses, torch_losses[1:])), torch_losses
    assert torch_losses[-1] < chainrule_losses[-1]


def test_the_module_docstring_example_runs(torch):
    doc = chainrule.interop.__doc__
    example = textwrap.dedent(doc.split("::\n\n", 1)[1].split("\n\n", 1)[0])
    assert example.count("\n") == 4, "the docstring promises a five-line example"
    model = MLP(3, [4, 1], rng=0)
    rng = np.random.default_rng(12)
    X, y = rng.standard_normal((6, 3)), rng.standard_normal((6, 1))
    namespace = {"torch": torch, "model": model, "X": X, "y": y}
    exec(example, namespace)
    expected = mse([model(x) for x in X.tolist()], y[:, 0].tolist(), reduction="sum")
    assert_close(namespace["loss"].item(), expected.data, RTOL, ATOL, "the example's loss")
    assert not torch.equal(namespace["net"][0].weight, to_torch(model)[0].weight), "the example took a step"


# -- what is refused ------------------------------------------------------------------------------------------
class Doubler(Module):
    """A module of the user's own."""

    def __call__(self, x):
        return x * 2

    def __repr__(self):
        return "Doubler()"


class ScaledLinear(Linear):
    """A subclass that computes something else: it must not pass for a Linear."""

    def __call__(self, x):
        return super().__call__(x) * 3


@pytest.mark.parametrize(
    "model, named",
    [
        (Doubler(), "Doubler()"),
        (Sequential(Linear(2, 2, rng=0), Doubler()), "Doubler() (item 1 of a Sequential)"),
        (Sequential(Sequential(ScaledLinear(2, 2, rng=0))), "ScaledLinear Linear(2, 2) (item 0 of a Sequential)"),
        (Sequential(MLP(2, [2], rng=0)), "MLP(2, [2], activation='tanh') (item 0 of a Sequential)"),
        (Value(1.0), "Value(data=1.0"),
        ([Linear(2, 2, rng=0)], "list [Linear(2, 2)]"),
        (type("TaggedMLP", (MLP,), {})(2, [2], rng=0), "TaggedMLP MLP(2, [2], activation='tanh')"),
        (type("Lay", (Layer,), {})(2, 2, rng=0), "Lay Layer(2, 2, activation='tanh')"),  # a prefix of its base's name
    ],
    ids=[
        "own module",
        "inside a Sequential",
        "subclass of Linear",
        "scalar MLP inside",
        "Value",
        "list",
        "MLP subclass",
        "Layer subclass",
    ],
)
def test_to_torch_refuses_what_it_cannot_convert(torch, model, named):
    with pytest.raises(TypeError) as error:
        to_torch(model)
    message = str(error.value)
    assert message.startswith(f"to_torch: cannot convert {named}"), message
    assert "; supported: a Sequential or Linear of the Tensor engine, made of Linear, ReLU, Tanh, Sigmoid" in message
    subclass_of = {"ScaledLinear": "Linear", "TaggedMLP": "MLP", "Lay": "Layer"}.get(named.split(" ")[0])
    if subclass_of:
        assert message.endswith(f" is a subclass of {subclass_of}, which may compute something else, so it is refused)")
    else:
        assert "subclass" not in message, message
    if named.startswith("MLP"):
        assert message.endswith("(a scalar-engine model converts on its own, not inside a Tensor-engine Sequential)")


def test_to_torch_refuses_a_torch_module_and_a_bad_dtype(torch):
    with pytest.raises(TypeError, match=r"to_torch: Linear\(in_features=2.*is already a torch module; from_torch"):
        to_torch(torch.nn.Linear(2, 2))
    with pytest.raises(TypeError, match="to_torch: dtype must be a torch floating type such as torch.float32, got"):
        to_torch(Linear(2, 2, rng=0), dtype=np.float32)
    with pytest.raises(TypeError, match="to_torch: dtype must be a torch floating type"):
        to_torch(Linear(2, 2, rng=0), dtype=torch.int64)


def torch_unsupported(torch) -> list:
    """(module, how its error names it) for modules from_torch must refuse."""

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(2, 2)

        def forward(self, x):
            return self.fc(x).relu()

    class MyLinear(torch.nn.Linear):
        def forward(self, x):
            return super().forward(x) * 3

    hooked = torch.nn.Linear(2, 2)
    hooked.register_forward_hook(lambda module, inputs, output: output * 2)
    return [
        (torch.nn.Conv2d(1, 8, 3), "Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1))"),
        (torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout(0.1)), "Dropout(p=0.1, inplace=False) (item 1"),
        (torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.LeakyReLU()), "LeakyReLU(negative_slope=0.01) (item 1"),
        (Net(), "Net()"),
        (torch.nn.Sequential(MyLinear(2, 2)), "MyLinear(in_features=2, out_features=2, bias=True) (item 0"),
        (torch.nn.ModuleList([torch.nn.Linear(2, 2)]), "ModuleList()"),
        (torch.nn.Sequential(hooked), "Linear(in_features=2, out_features=2, bias=True) (item 0 of a Sequential): it "),
    ]


def test_from_torch_refuses_what_it_cannot_convert(torch):
    for module, named in torch_unsupported(torch):
        with pytest.raises(TypeError) as error:
            from_torch(module)
        message = str(error.value)
        assert message.startswith(f"from_torch: cannot convert {named}"), message
        if "hooks" not in message:
            assert "; supported: torch.nn.Sequential and torch.nn.Linear, with torch.nn.ReLU, Tanh" in message
        subclass = "(MyLinear is a subclass of Linear, which may compute something else, so it is refused)"
        assert message.endswith(subclass) == named.startswith("MyLinear"), message
    with pytest.raises(TypeError, match=r"replace it with torch.nn.Identity\(\)"):
        from_torch(torch.nn.Dropout(0.5))
    with pytest.raises(TypeError, match=r"from_torch: Sequential\(Linear\(2, 2\)\) is a chainrule model; to_torch"):
        from_torch(Sequential(Linear(2, 2, rng=0)))
    with pytest.raises(TypeError, match="from_torch: expected a torch.nn.Module, got ndarray"):
        from_torch(np.zeros((2, 2)))
    with pytest.raises(TypeError, match="from_torch: dtype must be a NumPy floating type"):
        from_torch(torch.nn.Linear(2, 2), dtype=np.int32)


def test_imports_without_torch_and_says_how_to_install_it():
    script = textwrap.dedent(
        """
        import sys

        class Blocked:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("torch", "numpy"):
                    raise ImportError(f"{name} is blocked in this test")

        sys.meta_path.insert(0, Blocked())
        from chainrule.interop import from_torch, to_torch
        from chainrule.nn import MLP

        for convert, model in [(to_torch, MLP(2, [1], rng=0)), (from_torch, None)]:
            try:
                convert(model)
            except ImportError as error:
                print(error)
        """
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "to_torch: needs PyTorch, which is not installed; pip install torch",
        "from_torch: needs PyTorch, which is not installed; pip install torch",
    ]
