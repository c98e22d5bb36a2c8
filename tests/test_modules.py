"""Modules written the PyTorch way: registration by assignment, dotted names, shared parts listed once,
train()/eval() through every child, state_dict and strict, all-or-nothing loading. PyTorch's own
``torch.nn.Module`` is the oracle wherever it has an answer (names, order, what strict loading reports).
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from oracle import assert_close

from chainrule import Tensor, Value
from chainrule.losses import cross_entropy
from chainrule.nn import MLP, Layer, Linear, Module, Neuron, ReLU, Sequential, Tanh
from chainrule.optim import Adam


class Net(Module):
    """The issue's example: layers assigned as attributes, a forward method, nothing else."""

    def __init__(self):
        self.fc1 = Linear(4, 8, rng=0)
        self.fc2 = Linear(8, 3, rng=1)

    def forward(self, x):
        return self.fc2(self.fc1(x).relu())


def torch_net(torch, net: Net):
    """The same network in torch, weights copied (torch's Linear weight is (out, in))."""

    class TorchNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = torch.nn.Linear(4, 8)
            self.fc2 = torch.nn.Linear(8, 3)

        def forward(self, x):
            return self.fc2(torch.relu(self.fc1(x)))

    twin = TorchNet().double()
    with torch.no_grad():
        for name, p in net.named_parameters():
            target = twin.get_parameter(name)
            target.copy_(torch.tensor(p.data.T if p.data.ndim == 2 else p.data))
    return twin


def test_a_pytorch_style_net_registers_its_layers_with_torchs_names(torch):
    net = Net()
    twin = torch_net(torch, net)
    assert [name for name, _ in net.named_parameters()] == [name for name, _ in twin.named_parameters()]
    assert net.parameters() == [net.fc1.weight, net.fc1.bias, net.fc2.weight, net.fc2.bias]
    assert [name for name, _ in net.named_children()] == ["fc1", "fc2"]


def test_a_pytorch_style_net_trains_with_adam_like_torch(torch):
    # The repro: this used to find no parameters, and Adam refused the empty list.
    net = Net()
    twin = torch_net(torch, net)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((16, 4)), rng.integers(0, 3, 16)
    ours, theirs = Adam(net.parameters(), lr=0.01), torch.optim.Adam(twin.parameters(), lr=0.01)
    for _ in range(10):
        loss = cross_entropy(net(Tensor(X)), y)
        ours.zero_grad()
        loss.backward()
        ours.step()
        t_loss = torch.nn.functional.cross_entropy(twin(torch.tensor(X)), torch.tensor(y))
        theirs.zero_grad()
        t_loss.backward()
        theirs.step()
        assert_close(loss.item(), t_loss.item(), rtol=1e-12, what="loss")
    assert_close(net.fc1.weight.data, twin.fc1.weight.detach().T, rtol=1e-10, atol=1e-12, what="fc1.weight")


class Blocks(Module):
    """Parameters and modules inside lists and dicts, a shared layer, a plain Tensor and a number."""

    def __init__(self):
        self.scale = Tensor([2.0], requires_grad=True)
        self.constant = Tensor([5.0])  # requires no grad: not a parameter
        self.steps = 3  # not a module, not a parameter
        self.blocks = [Linear(2, 2, rng=0), Tanh()]
        self.heads = {"a": Linear(2, 1, rng=1)}
        self.again = self.blocks[0]  # shared: one set of parameters

    def forward(self, x):
        return self.heads["a"](self.again(self.blocks[1](self.blocks[0](x)))) * self.scale


def test_lists_dicts_and_shared_layers_are_found_once_like_torch(torch):
    model = Blocks()

    class TorchBlocks(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = torch.nn.Parameter(torch.tensor([2.0]))
            self.blocks = torch.nn.ModuleList([torch.nn.Linear(2, 2), torch.nn.Tanh()])
            self.heads = torch.nn.ModuleDict({"a": torch.nn.Linear(2, 1)})
            self.again = self.blocks[0]

    twin = TorchBlocks()
    assert [n for n, _ in model.named_parameters()] == [n for n, _ in twin.named_parameters()]
    assert len(model.parameters()) == len(list(twin.parameters())) == 5
    # torch's ModuleList and ModuleDict are modules of their own; a plain list or dict here is not
    containers = {"blocks", "heads"}
    assert [n for n, _ in model.named_modules()] == [n for n, _ in twin.named_modules() if n not in containers]


def test_the_notes_classes_are_ordinary_modules_with_the_same_order():
    random.seed(0)
    n = MLP(3, [4, 4, 1])
    names = [name for name, _ in n.named_parameters()]
    assert names[:5] == [
        "layers.0.neurons.0.w.0",
        "layers.0.neurons.0.w.1",
        "layers.0.neurons.0.w.2",
        "layers.0.neurons.0.b",
        "layers.0.neurons.1.w.0",
    ]
    # parameters() (built directly, for speed) is exactly what the attribute walk finds
    assert n.parameters() == [p for _, p in n.named_parameters()] and len(names) == 41
    neuron = Neuron(2, rng=1)
    assert [k for k, _ in neuron.named_parameters()] == ["w.0", "w.1", "b"]
    layer = Layer(2, 3, rng=2)
    assert layer.parameters() == [p for _, p in layer.named_parameters()]
    assert neuron.forward([1.0, 2.0]).data == neuron([1.0, 2.0]).data


def test_a_value_shared_by_two_neurons_is_one_parameter():
    layer = Layer(2, 2, rng=0)
    layer.neurons[1].b = layer.neurons[0].b
    names = [name for name, _ in layer.named_parameters()]
    assert "neurons.1.b" not in names and len(names) == 5
    assert layer.parameters() == [p for _, p in layer.named_parameters()]


def test_sequential_is_named_by_position_like_torch(torch):
    lin = Linear(2, 3, rng=0)
    model = Sequential(lin, Tanh(), Linear(3, 1, rng=1), Tanh(), lin.__class__(1, 1, rng=2))
    twin = torch.nn.Sequential(
        torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1), torch.nn.Tanh(), torch.nn.Linear(1, 1)
    )
    assert list(model.state_dict()) == list(twin.state_dict())
    shared = Sequential(lin, Tanh(), lin)
    t_lin = torch.nn.Linear(2, 2)
    assert [n for n, _ in shared.named_parameters()] == [
        n for n, _ in torch.nn.Sequential(t_lin, t_lin).named_parameters()
    ]


def test_train_and_eval_reach_every_child_like_torch(torch):
    model = Blocks()
    twin = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Sequential(torch.nn.Tanh()))
    assert model.training and all(m.training for m in model.modules())
    assert model.eval() is model
    twin.eval()
    assert not any(m.training for m in model.modules()) and not any(m.training for m in twin.modules())
    model.train()
    assert all(m.training for m in model.modules())
    with pytest.raises(TypeError, match=r"train: mode must be True or False, got 'no'"):
        model.train("no")


def test_a_module_without_forward_says_what_to_define():
    class Empty(Module):
        def __init__(self):
            self.fc = Linear(1, 1)

    with pytest.raises(NotImplementedError, match=r"Empty: define forward\(self, x\)"):
        Empty()(Tensor([1.0]))


# -- state ---------------------------------------------------------------------------------------------
def test_state_dict_round_trip_and_copies():
    net = Net()
    state = net.state_dict()
    assert list(state) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    state["fc1.weight"][0, 0] = 123.0  # a copy: the model is unchanged
    assert net.fc1.weight.data[0, 0] != 123.0
    other = Net()
    other.fc1.weight.data = np.zeros((4, 8))
    other.load_state_dict(net.state_dict())
    x = Tensor(np.ones((2, 4)))
    assert np.array_equal(other(x).data, net(x).data)
    mlp, twin = MLP(2, [3, 1], rng=0), MLP(2, [3, 1], rng=1)
    twin.load_state_dict(mlp.state_dict())
    assert twin([0.5, -1.0]).data == mlp([0.5, -1.0]).data
    assert all(type(p.data) is float for p in twin.parameters())
    assert mlp.state_dict()["layers.0.neurons.0.b"].shape == ()


def test_strict_loading_names_every_problem_and_changes_nothing(torch):
    net = Net()
    before = {k: v.copy() for k, v in net.state_dict().items()}
    bad = Net().state_dict()
    bad["fc1.weight"] = np.zeros((8, 4))  # the transposed (torch) layout
    del bad["fc2.bias"]
    bad["fc3.weight"] = np.zeros(3)
    with pytest.raises(ValueError) as error:
        net.load_state_dict(bad)
    message = str(error.value)
    for part in (
        "missing 'fc2.bias'",
        "unexpected 'fc3.weight'",
        "'fc1.weight' has shape (8, 4)",
        "nothing was loaded",
    ):
        assert part in message
    assert all(np.array_equal(net.state_dict()[k], v) for k, v in before.items())
    # torch reports the same missing and unexpected keys
    twin = torch_net(torch, Net())
    t_state = {k: torch.tensor(v) for k, v in bad.items() if k != "fc1.weight"}
    with pytest.raises(
        RuntimeError,
        match=r'Missing key\(s\) in state_dict: "fc1.weight", "fc2.bias".*\n.*'
        r'Unexpected key\(s\) in state_dict: "fc3.weight"',
    ):
        twin.load_state_dict(t_state)


def test_non_strict_loading_reports_like_torch(torch):
    net = Net()
    partial = {"fc1.weight": np.ones((4, 8)), "other": np.ones(1)}
    result = net.load_state_dict(partial, strict=False)
    twin = torch_net(torch, Net())
    t_result = twin.load_state_dict({"fc1.weight": torch.ones(8, 4), "other": torch.ones(1)}, strict=False)
    assert result.missing_keys == t_result.missing_keys and result.unexpected_keys == t_result.unexpected_keys
    assert np.array_equal(net.fc1.weight.data, np.ones((4, 8)))
    with pytest.raises(ValueError, match=r"'fc1.weight' has shape \(2,\)"):
        net.load_state_dict({"fc1.weight": np.ones(2)}, strict=False)  # a wrong shape is never skipped
    with pytest.raises(TypeError, match=r"load_state_dict \(Net\): expected a dict"):
        net.load_state_dict([1, 2])


def test_loading_takes_tensors_torch_tensors_and_keeps_dtype(torch):
    net = Sequential(Linear(2, 2, rng=0, dtype=np.float32))
    net.load_state_dict({"0.weight": Tensor(np.ones((2, 2))), "0.bias": torch.tensor([1.0, 2.0], dtype=torch.float64)})
    assert net[0].weight.dtype == np.float32 and np.array_equal(net[0].bias.data, [1.0, 2.0])
    with pytest.raises(ValueError, match=r"'0.bias' is not an array of numbers"):
        net.load_state_dict({"0.weight": np.ones((2, 2)), "0.bias": "zero"})


def test_summary_shows_layers_shapes_and_the_total():
    text = MLP(3, [4, 4, 1], rng=0).summary()
    assert "layers.0  Layer(3, 4, activation='tanh')  16 Values" in text
    assert text.splitlines()[-1] == "total: 41 parameters"
    assert "neurons" not in text  # one row per layer, not one per neuron
    text = Sequential(Linear(2, 16), ReLU(), Linear(16, 1)).summary()
    rows = [line.split() for line in text.splitlines()]
    assert rows[2][:3] == ["0", "Linear(2,", "16)"] and rows[2][-1] == "48" and rows[3][:2] == ["1", "ReLU()"]
    assert text.endswith("total: 65 parameters")
    assert Blocks().summary().endswith(f"total: {1 + 6 + 3} parameters")


def test_interior_values_and_tensors_are_not_parameters():
    class Holder(Module):
        def __init__(self):
            self.w = Value(1.0)
            self.result = self.w * 2.0  # computed, not learnable

    assert [n for n, _ in Holder().named_parameters()] == ["w"]


def test_subclasses_and_extra_attributes_of_built_in_layers_are_walked(torch):
    class Scaled(Linear):
        def __init__(self):
            super().__init__(2, 2, rng=0)
            self.scale = Tensor([2.0], requires_grad=True)

    layer = Scaled()
    assert layer.parameters() == [p for _, p in layer.named_parameters()] and len(layer.parameters()) == 3
    seq = Sequential(Linear(2, 2, rng=0))
    seq.gain = Tensor([1.0], requires_grad=True)
    # a module's own parameters come before its children's, as torch lists them
    assert [n for n, _ in seq.named_parameters()] == ["gain", "0.weight", "0.bias"]
    assert seq.parameters() == [p for _, p in seq.named_parameters()]
    frozen = Linear(2, 2, rng=0)
    frozen.weight.requires_grad = False
    assert frozen.parameters() == [p for _, p in frozen.named_parameters()] == [frozen.bias]


def test_dicts_with_any_keys_and_modules_that_refer_back_are_handled():
    class Keys(Module):
        def __init__(self):
            self.table = {0: Value(1.0), (1, 2): Value(2.0)}
            self.child = Linear(1, 1, rng=0)
            self.child.parent = self  # a cycle: walked once, summarised once

    model = Keys()
    assert [n for n, _ in model.named_parameters()] == ["table.0", "table.(1, 2)", "child.weight", "child.bias"]
    assert model.summary().endswith("total: 4 parameters")


def test_a_load_that_fails_while_converting_changes_nothing():
    layer = Sequential(Linear(2, 2, rng=0, dtype=np.float32))
    before = layer.state_dict()
    with np.errstate(over="raise"):
        with pytest.raises(ValueError, match=r"'0.bias' cannot be converted"):
            layer.load_state_dict({"0.weight": np.full((2, 2), 5.0), "0.bias": np.full(2, 1e300)})
    assert all(np.array_equal(layer.state_dict()[k], v) for k, v in before.items())


def test_a_torch_linear_weight_is_refused_by_load_state_dict_since_torch_keeps_it_transposed(torch):
    # torch's Linear holds (nout, nin), chainrule's (nin, nout): a square weight would load transposed, with no error
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2)).double()
    ours = Sequential(Linear(3, 3, rng=0), Tanh(), Linear(3, 2, rng=1))
    before = {k: v.copy() for k, v in ours.state_dict().items()}
    with pytest.raises(ValueError, match=r"'0.weight' is a torch tensor for a Linear's weight.*from_torch.*weight\.T"):
        ours.load_state_dict(theirs.state_dict())
    assert all(np.array_equal(ours.state_dict()[k], v) for k, v in before.items())  # nothing was loaded
    # what the message says to do gives torch's outputs
    ours.load_state_dict({k: (v.T if k.endswith("weight") else v).numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 3))
    assert_close(ours(Tensor(x)).data, theirs(torch.tensor(x)).detach(), rtol=1e-12)
