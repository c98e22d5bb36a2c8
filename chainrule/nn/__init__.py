"""Neural networks built from the two engines.

From the notes (scalar ``Value`` graphs, standard library only): ``Neuron``, ``Layer``, ``MLP``.
For NumPy ``Tensor`` graphs: ``Linear``, ``Sequential``, ``ReLU``, ``Tanh``, ``Sigmoid``, ``Flatten``,
``Embedding``, ``BatchNorm1d``, ``Dropout``; they are
imported on first use, so ``import chainrule.nn`` never needs NumPy. ``unique_parameters`` lists
parameters once each, for a model of your own whose parts share weights.
"""

from chainrule.nn.mlp import ACTIVATIONS, MLP, Layer, Neuron
from chainrule.nn.module import Module, unique_parameters

_TENSOR_LAYERS = ("Linear", "Sequential", "ReLU", "Tanh", "Sigmoid", "Identity", "Flatten")
_HOMES = {"Embedding": "embedding", "BatchNorm1d": "norm", "Dropout": "dropout"}

__all__ = ["Module", "Neuron", "Layer", "MLP", "ACTIVATIONS", "unique_parameters", *_TENSOR_LAYERS, *_HOMES]


def __getattr__(name):
    if name in _TENSOR_LAYERS:
        from chainrule.nn import layers

        return getattr(layers, name)
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(f"chainrule.nn.{_HOMES[name]}"), name)
    raise AttributeError(f"module 'chainrule.nn' has no attribute {name!r}")
