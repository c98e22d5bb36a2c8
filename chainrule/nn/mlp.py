"""The notes' network: a ``Neuron`` weighs its inputs, a ``Layer`` is neurons side by side, an
``MLP`` is layers one after another, all over scalar ``Value`` graphs.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from chainrule.engine import ACTIVATIONS as ENGINE_ACTIVATIONS
from chainrule.engine import Inputs, Value, weighted_sum
from chainrule.nn.module import Module, check_size

ACTIVATIONS = tuple(ENGINE_ACTIVATIONS)  # "tanh", "relu", "sigmoid", "linear"


def _check_activation(activation: str, where: str) -> str:
    if activation not in ACTIVATIONS:
        raise ValueError(f"{where}: activation must be one of {', '.join(ACTIVATIONS)}; got {activation!r}")
    return activation


def _as_sequence(x) -> Sequence:
    # A one-neuron layer hands the next layer a single Value (as in the notes), not a list.
    return x if isinstance(x, (list, tuple)) else [x]


class Neuron(Module):
    """``act = w0*x0 + w1*x1 + ... + b``, then an activation (tanh as in the notes), as one graph node."""

    def __init__(self, nin: int, activation: str = "tanh", rng: random.Random | None = None):
        nin = check_size(nin, "nin (number of inputs)", "Neuron")
        self.activation = _check_activation(activation, "Neuron")
        # `random` itself unless a generator is given, so random.seed(n) makes it reproducible, as in
        # the notes. The bias is drawn from the same generator as the weights.
        rng = rng if rng is not None else random
        self.w = [Value(rng.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(rng.uniform(-1, 1))

    def __call__(self, x: Sequence | Value | float | Inputs) -> Value:
        if not isinstance(x, Inputs):
            x = Inputs(_as_sequence(x))
        if len(x) != len(self.w):
            raise ValueError(f"Neuron: expected {len(self.w)} inputs, got {len(x)}")
        # The notes write `act = sum((wi*xi for wi, xi in zip(self.w, x)), self.b)` (2n nodes)
        # and `out = act.tanh()`. weighted_sum is the same neuron, in the same order, as one node
        # whose local derivatives carry the activation's slope (see engine.py).
        return weighted_sum(self.w, x, self.b, self.activation)

    def parameters(self) -> list:
        return self.w + [self.b]

    def __repr__(self) -> str:
        return f"Neuron({len(self.w)}, activation={self.activation!r})"


class Layer(Module):
    """``nout`` neurons that each see the same ``nin`` inputs."""

    def __init__(self, nin: int, nout: int, activation: str = "tanh", rng: random.Random | None = None):
        nout = check_size(nout, "nout (number of neurons)", "Layer")
        self.neurons = [Neuron(nin, activation=activation, rng=rng) for _ in range(nout)]

    def __call__(self, x):
        x = Inputs(_as_sequence(x))  # unpacked once, read by every neuron
        outs = [n(x) for n in self.neurons]
        # As in the notes: a layer of one neuron gives back that Value, not a one-element list.
        return outs[0] if len(outs) == 1 else outs

    def parameters(self) -> list:
        return [p for neuron in self.neurons for p in neuron.parameters()]

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """A multi-layer perceptron: ``MLP(3, [4, 4, 1])`` is 3 inputs, two layers of 4, one output.

    ``activation`` is used by the hidden layers; ``output_activation`` by the last layer (None: the
    same as the hidden layers, as in the notes, where every neuron is tanh).
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "tanh",
        output_activation: str | None = None,
        rng: random.Random | None = None,
    ):
        nin = check_size(nin, "nin (number of inputs)", "MLP")
        if isinstance(nouts, (str, bytes)) or not hasattr(nouts, "__len__") or len(nouts) == 0:
            raise ValueError(f"MLP: nouts must be a non-empty list of layer sizes, e.g. [4, 4, 1]; got {nouts!r}")
        _check_activation(activation, "MLP")
        last = _check_activation(output_activation, "MLP (output)") if output_activation else activation
        sz = [nin] + [check_size(n, "each layer size", "MLP") for n in nouts]
        self.layers = [
            Layer(sz[i], sz[i + 1], activation=last if i == len(nouts) - 1 else activation, rng=rng)
            for i in range(len(nouts))
        ]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)  # the output of one layer is the input of the next: the forward pass
        return x

    def parameters(self) -> list:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"
