"""The two engines agree: the notes' scalar ``MLP`` and a Tensor ``Sequential`` holding the same weights
give the same outputs, losses and gradients (to 1e-10), so the Tensor engine is the scalar story at speed.

The scalar network is the oracle here; ``assert_engines_agree`` is the one comparison.
"""

import random

import numpy as np
import pytest

from chainrule import Tensor, Value
from chainrule.losses import hinge, l2_penalty, mse
from chainrule.nn import MLP, Identity, Linear, ReLU, Sequential, Sigmoid, Tanh

TOL = 1e-10
ACTIVATION_MODULES = {"tanh": Tanh, "relu": ReLU, "sigmoid": Sigmoid, "linear": Identity}


def tensor_twin(mlp: MLP) -> Sequential:
    """A Sequential with ``mlp``'s weights: neuron j of a layer is column j of its Linear's weight."""
    modules = []
    for layer in mlp.layers:
        nin, nout = len(layer.neurons[0].w), len(layer.neurons)
        linear = Linear(nin, nout, rng=0)
        linear.weight.data = np.array([[w.data for w in n.w] for n in layer.neurons]).T.copy()
        linear.bias.data = np.array([n.b.data for n in layer.neurons])
        modules += [linear, ACTIVATION_MODULES[layer.neurons[0].activation]()]
    return Sequential(*modules)


def scalar_gradients_in_tensor_layout(mlp: MLP) -> list:
    """The scalar parameters' grads arranged like the twin's parameters: (weight (nin, nout), bias) per layer."""
    arrays = []
    for layer in mlp.layers:
        arrays.append(np.array([[w.grad for w in n.w] for n in layer.neurons]).T)
        arrays.append(np.array([n.b.grad for n in layer.neurons]))
    return arrays


def assert_engines_agree(mlp: MLP, model: Sequential, scalar_loss: Value, tensor_loss: Tensor, outputs) -> None:
    """Same outputs and loss; after backward() on both, the same gradient for every parameter."""
    scalar_outputs, tensor_outputs = outputs
    np.testing.assert_allclose(tensor_outputs.data.reshape(-1), np.array(scalar_outputs).reshape(-1), rtol=TOL)
    assert tensor_loss.item() == pytest.approx(scalar_loss.data, rel=TOL)
    scalar_loss.backward()
    tensor_loss.backward()
    expected = scalar_gradients_in_tensor_layout(mlp)
    params = model.parameters()
    assert len(params) == len(expected)
    for p, g in zip(params, expected):
        np.testing.assert_allclose(p.grad, g, rtol=TOL, atol=1e-14)
    assert any(np.abs(g).max() > 1e-3 for g in expected)  # the comparison is not of zeros


def test_tanh_networks_agree_under_squared_error():
    # The notes' example: MLP(3, [4, 4, 1]) with tanh everywhere, four inputs, squared error.
    random.seed(42)
    mlp = MLP(3, [4, 4, 1])
    model = tensor_twin(mlp)
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    scalar_out = [mlp(x) for x in xs]
    tensor_out = model(Tensor(xs))
    assert tensor_out.shape == (4, 1)
    assert_engines_agree(
        mlp,
        model,
        mse(scalar_out, ys),
        mse(tensor_out, np.array(ys).reshape(-1, 1)),
        ([v.data for v in scalar_out], tensor_out),
    )


def test_relu_networks_with_linear_output_agree_under_hinge_and_l2():
    # micrograd's moons demo network: relu hidden layers, a linear output, hinge loss + L2 penalty.
    random.seed(7)
    mlp = MLP(2, [16, 16, 1], activation="relu", output_activation="linear")
    model = tensor_twin(mlp)
    rng = np.random.default_rng(3)
    X = rng.standard_normal((12, 2))
    y = np.where(rng.random(12) < 0.5, -1.0, 1.0)
    scalar_out = [mlp(list(row)) for row in X.tolist()]
    scalar_loss = hinge(scalar_out, y.tolist()) + 1e-2 * l2_penalty(mlp.parameters())
    tensor_out = model(Tensor(X))
    tensor_loss = hinge(tensor_out, y.reshape(-1, 1)) + 1e-2 * l2_penalty(model.parameters())
    assert_engines_agree(mlp, model, scalar_loss, tensor_loss, ([v.data for v in scalar_out], tensor_out))


def test_sigmoid_networks_agree():
    random.seed(3)
    mlp = MLP(2, [5, 3], activation="sigmoid")
    model = tensor_twin(mlp)
    X = np.random.default_rng(5).standard_normal((6, 2))
    scalar_out = [mlp(list(row)) for row in X.tolist()]
    targets = np.random.default_rng(6).standard_normal((6, 3))
    scalar_loss = mse([v for row in scalar_out for v in row], targets.reshape(-1).tolist(), reduction="mean")
    tensor_out = model(Tensor(X))
    tensor_loss = mse(tensor_out, targets, reduction="mean")
    assert_engines_agree(
        mlp, model, scalar_loss, tensor_loss, ([[v.data for v in row] for row in scalar_out], tensor_out)
    )


def test_parameter_order_is_the_same_in_both_engines():
    # layer by layer; within a layer the scalar MLP lists neuron by neuron (weights, then bias), the Tensor
    # model lists the weight matrix then the bias vector: the same numbers, grouped per layer.
    random.seed(0)
    mlp = MLP(3, [2, 1])
    model = tensor_twin(mlp)
    scalar = [p.data for p in mlp.parameters()]
    per_layer = []
    for linear in (m for m in model if isinstance(m, Linear)):
        for j in range(linear.nout):
            per_layer += list(linear.weight.data[:, j]) + [linear.bias.data[j]]
    assert per_layer == scalar
