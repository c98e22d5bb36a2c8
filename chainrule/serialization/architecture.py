"""The architecture record: how to rebuild a model, written into the file as JSON by ``save``.

``_architecture`` describes a model (the notes' ``MLP``, ``Linear``, activations, ``Flatten``,
``Embedding``, ``BatchNorm1d``, ``Dropout``, ``Sequential`` s of
them; ``{"type": "custom", ...}`` for anything else), ``_check_rebuilds`` makes sure ``load`` could
rebuild what was described, ``_build`` rebuilds it, and ``_parameter_count`` says how many numbers a
record holds before anything is built. Records are matched against chainrule's own classes only:
nothing a file names is imported or run.
"""

from __future__ import annotations

import random

from chainrule.nn.module import Module
from chainrule.serialization.files import DTYPES

_ACTIVATION_LAYERS = ("ReLU", "Tanh", "Sigmoid", "Identity")


class _NotBuiltIn(Exception):
    """Inside ``_describe``: a module (at ``name``) of a class that ``load`` does not rebuild."""

    def __init__(self, name: str, module: Module):
        super().__init__(name)
        self.name, self.module = name, module


def _class_name(obj) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def _architecture(model: Module) -> dict:
    """How to rebuild ``model``: a JSON-ready dict, ``{"type": "custom", ...}`` for classes of your own."""
    try:
        return _describe(model, "", {})
    except _NotBuiltIn as part:
        record = {"type": "custom", "class": _class_name(model)}
        if part.module is not model:
            record["contains"] = {"name": part.name, "class": _class_name(part.module)}
        return record


def _describe(module, name: str, seen: dict) -> dict:
    from chainrule.nn import layers
    from chainrule.nn.mlp import MLP

    # Exact classes only: a subclass may compute something else in forward, which no record can say.
    kind = type(module)
    if kind is MLP:
        return _describe_mlp(module, name)
    if kind is layers.Linear:
        return {
            "type": "Linear",
            "nin": module.nin,
            "nout": module.nout,
            "bias": module.bias is not None,
            "dtype": module.weight.dtype.name,
        }
    if kind.__name__ in _ACTIVATION_LAYERS and kind is getattr(layers, kind.__name__):
        return {"type": kind.__name__}
    if kind is layers.Flatten:
        return {"type": "Flatten", "start_dim": module.start_dim, "end_dim": module.end_dim}
    if kind.__name__ in _MAKEMORE_LAYERS and kind is _makemore_class(kind.__name__):
        return _describe_makemore_layer(module)
    if kind is layers.Sequential:
        seen[id(module)] = name
        entries = []
        for i, layer in enumerate(module.layers):
            path = f"{name}.{i}" if name else str(i)
            if id(layer) in seen:
                # The same layer object again (Sequential(lin, Tanh(), lin)): one layer, rebuilt shared.
                entries.append({"same_as": seen[id(layer)]})
            else:
                seen[id(layer)] = path
                entries.append(_describe(layer, path, seen))
        return {"type": "Sequential", "layers": entries}
    raise _NotBuiltIn(name, module)


# The layers of the makemore lecture, each in its own module of chainrule.nn.
_MAKEMORE_LAYERS = ("Embedding", "BatchNorm1d", "Dropout")


def _makemore_class(name: str) -> type:
    import chainrule.nn

    return getattr(chainrule.nn, name)


def _describe_makemore_layer(module) -> dict:
    kind = type(module).__name__
    if kind == "Embedding":
        return {
            "type": kind,
            "num_embeddings": module.num_embeddings,
            "embedding_dim": module.embedding_dim,
            "dtype": module.weight.dtype.name,
        }
    if kind == "BatchNorm1d":
        return {
            "type": kind,
            "num_features": module.num_features,
            "eps": module.eps,
            "momentum": module.momentum,
            "affine": module.affine,
            "dtype": module.running_mean.dtype.name,
        }
    # Dropout: its generator's state is not saved; the rebuilt layer draws from NumPy's global generator.
    return {"type": kind, "p": module.p}


def _build_makemore_layer(record: dict) -> Module:
    kind = record["type"]
    cls = _makemore_class(kind)
    try:
        if kind == "Dropout":
            return cls(record.get("p"))
        dtype = record.get("dtype")
        if dtype not in DTYPES:
            raise _BadRecord(f"{kind} dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
        if kind == "Embedding":
            return cls(_int(record, "num_embeddings"), _int(record, "embedding_dim"), rng=0, dtype=dtype)
        return cls(
            _int(record, "num_features"),
            eps=record.get("eps"),
            momentum=record.get("momentum"),
            affine=record.get("affine"),
            dtype=dtype,
        )
    except (TypeError, ValueError) as error:  # a value the layer itself refuses (a negative eps, say)
        raise _BadRecord(str(error)) from None


def _describe_mlp(model, name: str) -> dict:
    from chainrule.nn.mlp import Layer, Neuron

    if not model.layers or any(type(layer) is not Layer or not layer.neurons for layer in model.layers):
        raise _NotBuiltIn(name, model)
    sizes, activations = [], []
    for i, layer in enumerate(model.layers):
        if any(type(neuron) is not Neuron for neuron in layer.neurons):
            raise _NotBuiltIn(name, model)
        kinds = sorted({neuron.activation for neuron in layer.neurons})
        if len(kinds) != 1:
            raise ValueError(
                f"save: layer {i} of the MLP mixes activations ({', '.join(kinds)}); chainrule.load rebuilds "
                "MLPs whose layers each use one activation, as MLP(...) builds them"
            )
        sizes.append(len(layer.neurons))
        activations.append(kinds[0])
    return {"type": "MLP", "nin": len(model.layers[0].neurons[0].w), "sizes": sizes, "activations": activations}


def _check_rebuilds(model: Module, architecture: dict, state: dict) -> None:
    """Build the model the record describes and check it has the same parameters (names, shapes,
    dtypes): what ``save`` writes, ``load`` can read back. Fails for weights resized by hand, or one
    weight shared by two different layers (a record of layers cannot say that)."""
    try:
        rebuilt = _build(architecture).state_dict()
    except _BadRecord as error:  # a Sequential that contains itself, say
        raise ValueError(f"save: chainrule.load could not rebuild this {type(model).__name__}: {error}") from None
    problems = [f"{name!r} is missing from the rebuilt model" for name in state if name not in rebuilt]
    problems += [f"the rebuilt model has {name!r}, which this one lacks" for name in rebuilt if name not in state]
    problems += [
        f"{name!r} is {state[name].dtype.name} {state[name].shape}, rebuilt {rebuilt[name].dtype.name} "
        f"{rebuilt[name].shape}"
        for name in state
        if name in rebuilt and (state[name].shape, state[name].dtype) != (rebuilt[name].shape, rebuilt[name].dtype)
    ]
    if problems:
        raise ValueError(
            f"save: this {type(model).__name__} differs from the {architecture['type']} its layers describe, so "
            f"chainrule.load could not rebuild it: {'; '.join(problems[:5])}"
            + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        )


class _BadRecord(Exception):
    """An architecture record that does not describe a model chainrule builds."""


def _int(record: dict, key: str) -> int:
    value = record.get(key)
    if type(value) is not int or value < 1:
        raise _BadRecord(f"{record.get('type')} needs {key!r} a positive whole number, got {value!r}")
    return value


def _build(record, name: str = "", built: dict | None = None) -> Module:
    """The model an architecture record describes, with fresh weights (``load`` then fills them in).

    Draws from private generators, never ``random`` or ``np.random``: loading a model does not change
    what a user's seeded run draws next."""
    built = {} if built is None else built
    if not isinstance(record, dict):
        raise _BadRecord(f"expected an object, got {record!r}")
    kind = record.get("type")
    if kind == "MLP":
        from chainrule.nn.mlp import ACTIVATIONS, MLP

        nin, sizes, activations = _int(record, "nin"), record.get("sizes"), record.get("activations")
        if not isinstance(sizes, list) or not sizes or any(type(n) is not int or n < 1 for n in sizes):
            raise _BadRecord(f"MLP needs 'sizes' a list of positive whole numbers, got {sizes!r}")
        if not isinstance(activations, list) or len(activations) != len(sizes):
            raise _BadRecord(f"MLP needs one activation per layer, got {activations!r}")
        if any(a not in ACTIVATIONS for a in activations):
            raise _BadRecord(f"MLP activations must be among {', '.join(ACTIVATIONS)}, got {activations!r}")
        model = MLP(nin, sizes, rng=random.Random(0))
        for layer, activation in zip(model.layers, activations):
            for neuron in layer.neurons:
                neuron.activation = activation
    elif kind == "Linear":
        from chainrule.nn.layers import Linear

        dtype, bias = record.get("dtype"), record.get("bias")
        if dtype not in DTYPES:
            raise _BadRecord(f"Linear dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
        if not isinstance(bias, bool):
            raise _BadRecord(f"Linear needs 'bias' true or false, got {bias!r}")
        model = Linear(_int(record, "nin"), _int(record, "nout"), bias=bias, rng=0, dtype=dtype)
    elif kind in _ACTIVATION_LAYERS:
        from chainrule.nn import layers

        model = getattr(layers, kind)()
    elif kind == "Flatten":
        from chainrule.nn.layers import Flatten

        start, end = record.get("start_dim"), record.get("end_dim")
        if type(start) is not int or type(end) is not int:
            raise _BadRecord(f"Flatten needs whole numbers 'start_dim' and 'end_dim', got {start!r} and {end!r}")
        model = Flatten(start, end)
    elif kind in _MAKEMORE_LAYERS:
        model = _build_makemore_layer(record)
    elif kind == "Sequential":
        from chainrule.nn.layers import Sequential

        entries = record.get("layers")
        if not isinstance(entries, list):
            raise _BadRecord(f"Sequential needs a list of 'layers', got {entries!r}")
        children = []
        for i, entry in enumerate(entries):
            path = f"{name}.{i}" if name else str(i)
            if isinstance(entry, dict) and "same_as" in entry:
                if entry["same_as"] not in built:
                    raise _BadRecord(f"layer {path} is the same as {entry['same_as']!r}, which comes before it")
                children.append(built[entry["same_as"]])
            else:
                children.append(_build(entry, path, built))
                built[path] = children[-1]
        model = Sequential(*children)
    else:
        raise _BadRecord(f"unknown layer type {kind!r}")
    return model


def _parameter_count(record) -> int:
    """How many numbers the recorded model holds: checked against the file before anything is built, so
    that a record edited to say Linear(10**9, 10**9) cannot make ``load`` allocate it."""
    if not isinstance(record, dict):
        raise _BadRecord(f"expected an object, got {record!r}")
    kind = record.get("type")
    if kind == "MLP":
        sizes = record.get("sizes")
        if not isinstance(sizes, list) or any(type(n) is not int for n in sizes):
            raise _BadRecord(f"MLP needs 'sizes' a list of positive whole numbers, got {sizes!r}")
        widths = [_int(record, "nin"), *sizes]
        return sum((a + 1) * b for a, b in zip(widths, widths[1:]))
    if kind == "Linear":
        return _int(record, "nin") * _int(record, "nout") + (_int(record, "nout") if record.get("bias") else 0)
    if kind == "Sequential":
        if not isinstance(record.get("layers"), list):
            raise _BadRecord(f"Sequential needs a list of 'layers', got {record.get('layers')!r}")
        return sum(
            0 if isinstance(entry, dict) and "same_as" in entry else _parameter_count(entry)
            for entry in record["layers"]
        )
    if kind in (*_ACTIVATION_LAYERS, "Flatten", "Dropout"):
        return 0
    if kind == "Embedding":
        return _int(record, "num_embeddings") * _int(record, "embedding_dim")
    if kind == "BatchNorm1d":  # weight and bias (if affine), running mean and variance, and the batch count
        return (4 if record.get("affine") else 2) * _int(record, "num_features") + 1
    raise _BadRecord(f"unknown layer type {kind!r}")
