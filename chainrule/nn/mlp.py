"""The notes' network: a ``Neuron`` weighs its inputs, a ``Layer`` is neurons side by side, an
``MLP`` is layers one after another, all over scalar ``Value`` graphs.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from numbers import Integral, Real

from chainrule.engine import ACTIVATIONS as ENGINE_ACTIVATIONS
from chainrule.engine import Inputs, Value, weighted_sum
from chainrule.nn.module import Module, check_size, is_plain, unique_parameters

ACTIVATIONS = tuple(ENGINE_ACTIVATIONS)  # "tanh", "relu", "sigmoid", "linear"

# What each of the notes' classes holds (see is_plain): their quick parameters() lists cover exactly these.
_NEURON_ATTRIBUTES = frozenset({"activation", "w", "b", "training"})
_LAYER_ATTRIBUTES = frozenset({"neurons", "training"})
_MLP_ATTRIBUTES = frozenset({"layers", "training"})


def _check_activation(activation: str, where: str) -> str:
    if activation not in ACTIVATIONS:
        raise ValueError(f"{where}: activation must be one of {', '.join(ACTIVATIONS)}; got {activation!r}")
    return activation


def _random_source(rng, where: str):
    """Where the initial weights come from: ``random`` itself (None), a ``random.Random``, or an int seed.

    A seed becomes one ``random.Random(seed)`` here, so ``MLP(..., rng=42)`` draws exactly what
    ``MLP(..., rng=random.Random(42))`` draws: every layer and neuron takes its turn from the same stream.
    """
    if rng is None or rng is random:
        # `random` itself, so random.seed(n) makes the model reproducible, as in the notes.
        return random
    if isinstance(rng, random.Random):
        return rng
    if isinstance(rng, Integral) and not isinstance(rng, bool):
        return random.Random(int(rng))
    raise TypeError(
        f"{where}: rng must be None, an int seed or a random.Random, got {type(rng).__name__} {rng!r}; "
        "e.g. rng=42 or rng=random.Random(42)"
    )


def _as_sequence(x, where: str) -> Sequence:
    """One example's inputs as a list or tuple of numbers and Values."""
    if isinstance(x, (list, tuple)):
        return x
    if isinstance(x, (Value, Real)):
        # A one-neuron layer hands the next layer a single Value (as in the notes), not a list.
        return [x]
    if type(x).__name__ == "Tensor" and x.ndim <= 1:
        # One example's numbers, as constants (micrograd takes them too): a Tensor's graph cannot join a
        # graph of Values, so say so if it has one.
        if x.requires_grad:
            raise TypeError(
                f"{where}: got a Tensor that requires grad; Neuron, Layer and MLP compute with scalar Values, "
                "so its gradient could not reach it. Pass its numbers (t.detach()) or use Tensor layers: "
                "Sequential(Linear(...), Tanh(), ...)"
            )
        return x.data.reshape(-1).tolist()
    shape = getattr(x, "shape", None)
    if shape is not None and len(shape) > 1:  # a NumPy array of several examples
        raise ValueError(
            f"{where}: got an array of shape {shape}, but this model takes one example at a time (a list "
            "of numbers); for a batch, call it on each row: [model(x) for x in X]"
        )
    if hasattr(x, "tolist"):  # a 1-D NumPy array, or a NumPy scalar, as Python floats
        return _as_sequence(x.tolist(), where)
    if isinstance(x, Iterable) and not isinstance(x, (str, bytes)):
        return list(x)  # a generator, a range, ...: read once
    return [x]  # not a number: Inputs names it


def _unpack(x, where: str) -> Inputs:
    """``x`` as the ``Inputs`` of one example, or a TypeError naming the input that is not a number."""
    seq = _as_sequence(x, where)
    try:
        return Inputs(seq)
    except TypeError:
        position = next((i for i, e in enumerate(seq) if not isinstance(e, (Value, Real))), None)
        if position is None:
            raise
        bad = seq[position]
        hint = (
            "; this model takes one example at a time: for a batch, call it on each row, [model(x) for x in X]"
            if isinstance(bad, (list, tuple)) or hasattr(bad, "shape")
            else "; convert it first, e.g. float(x)"
        )
        shown = repr(bad) if len(repr(bad)) <= 60 else repr(bad)[:57] + "..."
        raise TypeError(
            f"{where}: input {position} is {type(bad).__name__} {shown}, not a number or a Value{hint}"
        ) from None


def _name_parameters(neuron: Neuron, place: str, made: str = "") -> None:
    """Put ``place`` (the neuron's place in a layer, or the layer's in an MLP) in front of the labels its
    parameters were made with (``made`` + ``w1``, ..., ``made`` + ``b``).

    Done once, while a Layer or an MLP is built, so it costs nothing later; any other label (one a
    subclass gave) is left as it is.
    """
    for i, w in enumerate(neuron.w, start=1):
        if w.label == f"{made}w{i}":
            w.label = f"{place}{made}w{i}"
    if neuron.b.label == f"{made}b":
        neuron.b.label = f"{place}{made}b"


class Neuron(Module):
    """``act = w0*x0 + w1*x1 + ... + b``, then an activation (tanh as in the notes), as one graph node."""

    def __init__(self, nin: int, activation: str = "tanh", rng: random.Random | int | None = None):
        nin = check_size(nin, "nin (number of inputs)", "Neuron")
        self.activation = _check_activation(activation, "Neuron")
        # The bias is drawn from the same generator as the weights, after them.
        rng = _random_source(rng, "Neuron")
        # Labelled as the lecture labels them (w1, w2, ..., b: 1-based, like its x1*w1), so draw_dot shows
        # them by name; a Layer and an MLP put the neuron's and the layer's place in front (L1.n2.w1).
        self.w = [Value(rng.uniform(-1, 1), label=f"w{i}") for i in range(1, nin + 1)]
        self.b = Value(rng.uniform(-1, 1), label="b")

    def __call__(self, x: Sequence | Value | float | Inputs) -> Value:
        if not isinstance(x, Inputs):
            x = _unpack(x, "Neuron")
        if len(x.data) != len(self.w):  # x.data, not x: len() of a list needs no Python-level __len__
            raise ValueError(f"Neuron: expected {len(self.w)} inputs, got {len(x)}")
        # The notes write `act = sum((wi*xi for wi, xi in zip(self.w, x)), self.b)` (2n nodes)
        # and `out = act.tanh()`. weighted_sum is the same neuron, in the same order, as one node
        # whose local derivatives carry the activation's slope (see engine.py).
        return weighted_sum(self.w, x, self.b, self.activation)

    def parameters(self) -> list:
        if not is_plain(self, Neuron, _NEURON_ATTRIBUTES):
            return super().parameters()
        # The same list Module.named_parameters finds (w, then b), built directly: it is asked every step.
        return unique_parameters([*self.w, self.b])

    forward = __call__  # the PyTorch name for the same computation

    def __repr__(self) -> str:
        return f"Neuron({len(self.w)}, activation={self.activation!r})"


class Layer(Module):
    """``nout`` neurons that each see the same ``nin`` inputs."""

    def __init__(self, nin: int, nout: int, activation: str = "tanh", rng: random.Random | int | None = None):
        nout = check_size(nout, "nout (number of neurons)", "Layer")
        rng = _random_source(rng, "Layer")  # one generator for all the neurons, in turn
        self.neurons = [Neuron(nin, activation=activation, rng=rng) for _ in range(nout)]
        for j, neuron in enumerate(self.neurons, start=1):
            _name_parameters(neuron, f"n{j}.")

    def __call__(self, x):
        x = _unpack(x, "Layer")  # unpacked once, read by every neuron
        outs = [n(x) for n in self.neurons]
        # As in the notes: a layer of one neuron gives back that Value, not a one-element list.
        return outs[0] if len(outs) == 1 else outs

    def parameters(self) -> list:
        if not is_plain(self, Layer, _LAYER_ATTRIBUTES):
            return super().parameters()
        return unique_parameters([p for neuron in self.neurons for p in neuron.parameters()])

    forward = __call__
    _summary_as_one_row = True  # summary(): one row for the layer, not one per neuron

    def __repr__(self) -> str:
        activations = {n.activation for n in self.neurons}
        activation = activations.pop() if len(activations) == 1 else "mixed"
        return f"Layer({len(self.neurons[0].w)}, {len(self.neurons)}, activation={activation!r})"


class MLP(Module):
    """A multi-layer perceptron: ``MLP(3, [4, 4, 1])`` is 3 inputs, two layers of 4, one output.

    ``activation`` is used by the hidden layers; ``output_activation`` by the last layer (None: the
    same as the hidden layers, as in the notes, where every neuron is tanh). ``rng`` makes the initial
    weights reproducible: an int seed or a ``random.Random``; None draws from ``random`` itself, so
    ``random.seed(n)`` does it, as in the notes.
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "tanh",
        output_activation: str | None = None,
        rng: random.Random | int | None = None,
    ):
        nin = check_size(nin, "nin (number of inputs)", "MLP")
        if isinstance(nouts, (str, bytes)) or not hasattr(nouts, "__len__") or len(nouts) == 0:
            raise ValueError(f"MLP: nouts must be a non-empty list of layer sizes, e.g. [4, 4, 1]; got {nouts!r}")
        _check_activation(activation, "MLP")
        last = _check_activation(output_activation, "MLP (output)") if output_activation else activation
        sz = [nin] + [check_size(n, "each layer size", "MLP") for n in nouts]
        rng = _random_source(rng, "MLP")  # one generator for all the layers, in turn
        self.layers = [
            Layer(sz[i], sz[i + 1], activation=last if i == len(nouts) - 1 else activation, rng=rng)
            for i in range(len(nouts))
        ]
        for k, layer in enumerate(self.layers, start=1):
            for j, neuron in enumerate(layer.neurons, start=1):
                _name_parameters(neuron, f"L{k}.", made=f"n{j}.")

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)  # the output of one layer is the input of the next: the forward pass
        return x

    def parameters(self) -> list:
        if not is_plain(self, MLP, _MLP_ATTRIBUTES):
            return super().parameters()
        return unique_parameters([p for layer in self.layers for p in layer.parameters()])

    forward = __call__

    def __repr__(self) -> str:
        sizes = [len(layer.neurons) for layer in self.layers]
        acts = [layer.neurons[0].activation for layer in self.layers]
        last = f", output_activation={acts[-1]!r}" if acts[-1] != acts[0] else ""
        return f"MLP({len(self.layers[0].neurons[0].w)}, {sizes}, activation={acts[0]!r}{last})"
