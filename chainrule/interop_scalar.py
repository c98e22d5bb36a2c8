"""``to_torch`` for the notes' scalar models: an ``MLP``, ``Layer`` or ``Neuron`` of Values becomes a
``torch.nn.Sequential`` of ``Linear`` layers and activations (row j of a torch weight is neuron j's ``w``).
The rest of the bridge, and what it promises, is in ``chainrule/interop.py``.
"""

from __future__ import annotations

from chainrule.interop import _TO_TORCH_SUPPORTED, _chainrule_name, _short, _subclass_hint
from chainrule.nn.mlp import Layer, Neuron


def scalar_to_torch(torch, model, dtype):
    """The notes' ``MLP``, ``Layer`` or ``Neuron`` as ``torch.nn.Sequential(Linear, activation, ...)``."""
    dtype = dtype or torch.float64  # a Value holds a Python float: float64
    if type(model) is Neuron:
        layers = [[model]]
    elif type(model) is Layer:
        layers = [model.neurons]
    else:
        for k, layer in enumerate(model.layers):
            if type(layer) is not Layer:
                raise TypeError(
                    f"to_torch: cannot convert {_chainrule_name(layer)} (layer {k} of the MLP); "
                    f"supported: {_TO_TORCH_SUPPORTED}" + _subclass_hint(type(layer), (Layer,))
                )
        layers = [layer.neurons for layer in model.layers]
    for k, neurons in enumerate(layers):
        for n in neurons:
            if type(n) is not Neuron:
                raise TypeError(
                    f"to_torch: cannot convert {_chainrule_name(n)} (in layer {k}); supported: {_TO_TORCH_SUPPORTED}"
                    + _subclass_hint(type(n), (Neuron,))
                )
    _check_no_shared_values(model, layers)
    modules = []
    memo: dict = {}  # a Layer object used twice in an MLP becomes one torch Linear used twice
    for k, neurons in enumerate(layers):
        if id(neurons) not in memo:
            memo[id(neurons)] = _neurons_to_torch(torch, neurons, dtype, f"layer {k}")
        modules += memo[id(neurons)]
    return torch.nn.Sequential(*modules)


_SCALAR_ACTIVATIONS = {"tanh": "Tanh", "relu": "ReLU", "sigmoid": "Sigmoid", "linear": None}


def _neurons_to_torch(torch, neurons: list, dtype, where: str) -> list:
    """The neurons of one layer as ``[torch.nn.Linear]`` and its activation module, if not 'linear'."""
    activations = {n.activation for n in neurons}
    sizes = {len(n.w) for n in neurons}
    if len(activations) != 1 or len(sizes) != 1:
        raise ValueError(
            f"to_torch: the neurons of {where} differ (activations {sorted(activations)}, input sizes "
            f"{sorted(sizes)}); a torch Linear needs every neuron to take the same inputs through the same activation"
        )
    activation = neurons[0].activation
    if activation not in _SCALAR_ACTIVATIONS:
        raise ValueError(
            f"to_torch: {where} has activation {activation!r}; supported: {', '.join(_SCALAR_ACTIVATIONS)}"
        )
    # Row j of torch's weight is neuron j's w: exactly the list of lists below.
    weight = torch.tensor([[w.data for w in n.w] for n in neurons], dtype=dtype)
    bias = torch.tensor([n.b.data for n in neurons], dtype=dtype)
    linear = torch.nn.utils.skip_init(torch.nn.Linear, weight.shape[1], weight.shape[0], dtype=dtype)
    linear.weight, linear.bias = torch.nn.Parameter(weight), torch.nn.Parameter(bias)
    module = _SCALAR_ACTIVATIONS[activation]
    return [linear] if module is None else [linear, getattr(torch.nn, module)()]


def _check_no_shared_values(model, layers: list) -> None:
    """A Value used by two neurons (or twice by one) is one parameter in chainrule, but two entries of a
    torch weight matrix that would be trained apart: refuse it rather than change what training does.
    A whole Layer used twice is fine (it becomes one torch Linear used twice)."""
    seen: dict[int, str] = {}
    done = set()
    for k, neurons in enumerate(layers):
        if id(neurons) in done:
            continue
        done.add(id(neurons))
        for j, n in enumerate(neurons):
            for name, v in [*((f"w[{i}]", w) for i, w in enumerate(n.w)), ("b", n.b)]:
                place = f"layer {k}, neuron {j}, {name}"
                if id(v) in seen:
                    raise ValueError(
                        f"to_torch: {_short(repr(model))} uses the same Value at {seen[id(v)]} and at {place}; a "
                        "torch Linear cannot tie single weights, so the converted model would train them apart"
                    )
                seen[id(v)] = place
