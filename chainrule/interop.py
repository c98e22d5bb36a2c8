"""The bridge to PyTorch: train in chainrule, then take the model to PyTorch and keep training there.

chainrule is where you see backpropagation happen; when a model outgrows it (bigger data, a GPU, layers
chainrule does not have), ``to_torch`` gives you the same network as a ``torch.nn.Module``, with the
weights you trained, computing the same outputs and the same gradients. ``from_torch`` goes the other
way, for a PyTorch network you want to take apart with chainrule's tools.

The graduation path, with ``import torch`` done, ``model`` a trained chainrule ``MLP`` or ``Sequential``, and
arrays ``X`` of shape ``(N, nin)`` and ``y`` of shape ``(N, nout)`` (torch keeps a one-output model's last
dimension, see ``to_torch``)::

    from chainrule.interop import to_torch
    net = to_torch(model)                                   # torch.nn.Sequential: same weights, float64
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01)  # from here on it is plain PyTorch
    loss = ((net(torch.tensor(X)) - torch.tensor(y)) ** 2).sum()
    optimizer.zero_grad(); loss.backward(); optimizer.step()  # one step; loop as usual

What converts, in each direction:

* chainrule ``Sequential`` (Tensor engine) of ``Linear``, ``ReLU``, ``Tanh``, ``Sigmoid``, ``Identity``
  (and nested ``Sequential``) <-> ``torch.nn.Sequential`` of the torch modules of the same names; a
  ``Linear`` alone <-> a ``torch.nn.Linear`` alone. The weight layouts differ: chainrule's ``Linear``
  computes ``x @ weight + bias`` with ``weight`` of shape ``(nin, nout)`` (column ``j`` is neuron ``j``),
  torch's computes ``x @ weight.T + bias`` with ``weight`` of shape ``(nout, nin)``; the bridge transposes.
* ``Embedding``, ``BatchNorm1d`` (with its running statistics) and ``Flatten`` <-> torch's of the same names
  (``chainrule/interop_layers.py``); ``Dropout`` is refused both ways, as its masks would differ.
* the notes' scalar ``MLP``, ``Layer`` and ``Neuron`` -> ``torch.nn.Sequential(Linear, activation, ...)``
  (one way: a torch network comes back as the Tensor engine's ``Sequential``).

Only the model crosses over, not an optimizer's state (SGD's momentum, Adam's running averages): the
torch optimizer starts fresh. Plain SGD has no state, so its next step in torch is the step chainrule
would have taken.

Sharing is kept: a layer used twice stays one layer used twice, so its gradient is still the sum of both
uses; a weight tensor shared by two layers stays one parameter. Everything else is copied: the new
model's parameters are fresh leaves (``requires_grad=True``), and changing one model never changes the
other. Anything the bridge cannot convert faithfully (a module of your own, ``Dropout``, ``Conv2d``, a
subclass that may have changed ``forward``) is refused with a TypeError, never approximated.

PyTorch (and NumPy, for the Tensor engine) is imported only when ``to_torch`` or ``from_torch`` runs, so
this module imports without them, like the scalar engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chainrule import interop_layers
from chainrule.nn.mlp import MLP, Layer, Neuron

if TYPE_CHECKING:  # for the annotations only: importing chainrule.interop needs neither torch nor NumPy
    import numpy as np
    import torch

    from chainrule.nn.layers import Linear, Sequential

__all__ = ["to_torch", "from_torch"]

_TO_TORCH_SUPPORTED = (
    "a Sequential or Linear of the Tensor engine, made of Linear, ReLU, Tanh, Sigmoid, Identity, Embedding, "
    "BatchNorm1d, Flatten and Sequential (chainrule.nn), or the scalar engine's MLP, Layer or Neuron"
)
_FROM_TORCH_SUPPORTED = (
    "torch.nn.Sequential and torch.nn.Linear, with torch.nn.ReLU, Tanh, Sigmoid, Identity, Embedding, "
    "BatchNorm1d and Flatten between them"
)
# Modules people often have in a torch network, with what to do about them.
_FROM_TORCH_HINTS = {
    "Dropout": interop_layers.DROPOUT_HINT.replace("Identity()", "torch.nn.Identity()"),
}


def _import_torch(where: str):
    try:
        import torch
    except ImportError:
        raise ImportError(f"{where}: needs PyTorch, which is not installed; pip install torch") from None
    return torch


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())  # a multi-line repr (a torch Sequential) on one line
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _chainrule_name(module) -> str:
    """``module`` 's repr on one line, after its class name if the repr does not start with it (a subclass)."""
    text, name = _short(repr(module)), type(module).__name__
    return text if text.startswith(name + "(") else f"{name} {text}"


def _subclass_hint(kind: type, supported: tuple) -> str:
    base = next((b for b in supported if issubclass(kind, b) and kind is not b), None)
    if base is None:
        return ""
    return f" ({kind.__name__} is a subclass of {base.__name__}, which may compute something else, so it is refused)"


def _torch_dtype(torch, dtype, where: str):
    if dtype is None:
        return None
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"{where}: dtype must be a torch floating type such as torch.float32, got {dtype!r}")
    return dtype


# -- chainrule -> torch -------------------------------------------------------------------------------
def to_torch(model: Any, dtype: torch.dtype | None = None) -> torch.nn.Module:
    """The chainrule ``model`` as a ``torch.nn.Module`` with the same weights, outputs and gradients.

    * A Tensor-engine ``Sequential`` becomes a ``torch.nn.Sequential`` of ``torch.nn.Linear``, ``ReLU``,
      ``Tanh``, ``Sigmoid``, ``Identity`` (nested ``Sequential`` s stay nested); a ``Linear`` alone becomes a
      ``torch.nn.Linear``. A ``Linear(bias=False)`` becomes ``torch.nn.Linear(bias=False)``.
    * A scalar ``MLP`` becomes ``torch.nn.Sequential(Linear, activation, Linear, activation, ...)``, with no
      module for a ``'linear'`` activation; a ``Layer`` is one ``Linear`` and its activation, a ``Neuron`` a
      ``Linear`` with one output. Neuron ``j`` of layer ``k`` is row ``j`` of the ``k``-th torch Linear:
      its ``w[i]`` is ``weight[j, i]`` and its ``b`` is ``bias[j]``.

      The torch model takes a batch ``(N, nin)`` or one example ``(nin,)`` and gives ``(N, nout)`` or
      ``(nout,)``. Where the chainrule model has one output (an MLP whose last layer has one neuron, a
      Neuron) chainrule gives a single ``Value`` per example, but torch keeps the last dimension: one
      example gives shape ``(1,)`` and a batch ``(N, 1)``. Use ``net(X).squeeze(-1)`` for ``(N,)``.

    ``dtype`` (a torch floating type) sets every parameter's type; by default a Tensor-engine layer keeps
    its own (float32 stays float32) and the scalar engine's Python floats become float64. The returned
    parameters are new leaves with ``requires_grad=True``; a layer used twice is one torch layer used twice.

    Raises TypeError for anything else (naming it and what is supported), ValueError for a scalar model
    torch cannot express (a Value shared between two neurons, a layer whose neurons differ in activation),
    and ImportError if PyTorch is not installed.
    """
    torch = _import_torch("to_torch")
    dtype = _torch_dtype(torch, dtype, "to_torch")
    if type(model) in (MLP, Layer, Neuron):
        from chainrule.interop_scalar import scalar_to_torch

        return scalar_to_torch(torch, model, dtype)
    if isinstance(model, torch.nn.Module):
        raise TypeError(
            f"to_torch: {_short(repr(model))} is already a torch module; from_torch converts torch to chainrule"
        )
    from chainrule.nn import layers

    return _tensor_to_torch(torch, layers, model, dtype, {}, "")


def _tensor_to_torch(torch, layers, module, dtype, memo: dict, where: str):
    """One Tensor-engine module as its torch twin. ``memo`` maps the id of every chainrule module and
    parameter converted so far to its torch counterpart, so that what is shared stays shared."""
    if id(module) in memo:
        return memo[id(module)]
    # Exact types, not isinstance: a subclass may compute something else in __call__, and a wrong
    # conversion that runs is worse than an error.
    kind = type(module)
    if kind is layers.Linear:
        converted = _linear_to_torch(torch, module, dtype, memo)
    elif kind is layers.Sequential:
        converted = torch.nn.Sequential(
            *(
                _tensor_to_torch(torch, layers, m, dtype, memo, f" (item {i} of a Sequential)")
                for i, m in enumerate(module)
            )
        )
    elif kind in (layers.ReLU, layers.Tanh, layers.Sigmoid, layers.Identity):
        # chainrule's activations have torch's names
        converted = getattr(torch.nn, kind.__name__)()
    elif (converted := interop_layers.layer_to_torch(torch, module, dtype, memo)) is not None:
        pass  # Embedding, BatchNorm1d, Flatten
    else:
        if kind in (MLP, Layer, Neuron):  # only reached inside a Sequential: the top level takes them
            hint = " (a scalar-engine model converts on its own, not inside a Tensor-engine Sequential)"
        else:
            hint = _subclass_hint(
                kind,
                (
                    layers.Linear,
                    layers.Sequential,
                    layers.ReLU,
                    layers.Tanh,
                    layers.Sigmoid,
                    layers.Identity,
                    MLP,
                    Layer,
                    Neuron,
                ),
            )
        hint = f" ({interop_layers.DROPOUT_HINT})" if kind.__name__ == "Dropout" else hint
        raise TypeError(
            f"to_torch: cannot convert {_chainrule_name(module)}{where}; supported: {_TO_TORCH_SUPPORTED}{hint}"
        )
    memo[id(module)] = converted
    return converted


def _linear_to_torch(torch, layer: Linear, dtype, memo: dict):
    dtype = dtype or _torch_dtype_of(torch, layer.weight.dtype)
    nin, nout = layer.weight.shape
    # skip_init: the weights are about to be replaced, so don't draw random ones (that would also move
    # torch's global random generator, which a user who seeded it would notice).
    out = torch.nn.utils.skip_init(torch.nn.Linear, nin, nout, bias=layer.bias is not None, dtype=dtype)
    out.weight = _parameter(torch, layer.weight, dtype, memo, layout=_transposed)
    if layer.bias is not None:
        out.bias = _parameter(torch, layer.bias, dtype, memo)
    return out


# -- what every conversion shares (interop_layers.py uses these too) -----------------------------------
def _as_is(a):
    return a


def _transposed(a):
    # A Linear's weight: chainrule's (nin, nout) is torch's (nout, nin), and back.
    return a.T


def _torch_dtype_of(torch, dtype: np.dtype):
    """torch's type for a chainrule parameter's NumPy float type (float16, float32, float64); any other is a
    TypeError, never a silent float64."""
    try:
        return {"float16": torch.float16, "float32": torch.float32, "float64": torch.float64}[dtype.name]
    except KeyError:
        raise TypeError(
            f"to_torch: torch has no {dtype} type; make the parameters float64 first "
            "(p.data = p.data.astype(np.float64))"
        ) from None


def _numpy_dtype_of(torch, dtype) -> type:
    """chainrule's float type for a torch parameter's: float32 stays float32, any other becomes float64
    (NumPy has no bfloat16, and float64 holds float16's numbers exactly)."""
    import numpy as np

    return np.float32 if dtype == torch.float32 else np.float64


def _tied_across_layouts(where: str, shape: tuple) -> TypeError:
    """The error for a weight shared by a Linear and a layer that keeps it untransposed (an Embedding's),
    as a language model ties its embedding to its output layer. Taken as it is, the second layer would get
    the first one's layout: wrong numbers when the weight is square, a matmul error otherwise."""
    return TypeError(
        f"{where}: one weight of shape {tuple(shape)} is shared by a Linear and a layer of another kind (tied "
        "weights, e.g. an Embedding and an output layer); chainrule's Linear keeps its weight as (nin, nout), "
        "the transpose of torch's (nout, nin), so the two layers cannot share one weight on the other side; "
        "give each its own copy before converting (they will then train apart)"
    )


def _parameter(torch, tensor, dtype, memo: dict, layout=_as_is):
    """A chainrule parameter as a torch Parameter (a copy, in torch's layout); the same one if it was
    converted already, so weights tied between two layers stay tied."""
    if id(tensor) not in memo:
        # torch.tensor copies, so the two models never share memory
        memo[id(tensor)] = (torch.nn.Parameter(torch.tensor(layout(tensor.data), dtype=dtype)), layout)
    parameter, first_layout = memo[id(tensor)]
    if first_layout is not layout:
        raise _tied_across_layouts("to_torch", tensor.shape)
    return parameter


# -- torch -> chainrule -------------------------------------------------------------------------------
def from_torch(module: torch.nn.Module, dtype: Any = None) -> Sequential | Linear:
    """The torch ``module`` as a chainrule Tensor-engine model with the same weights, outputs and gradients.

    A ``torch.nn.Sequential`` of ``Linear``, ``ReLU``, ``Tanh``, ``Sigmoid``, ``Identity`` (and nested
    ``Sequential`` s) becomes a chainrule ``Sequential`` of the same; a ``torch.nn.Linear`` alone becomes a
    chainrule ``Linear``. Weights are transposed into chainrule's ``(nin, nout)`` layout and copied, as NumPy
    arrays of float32 where torch's are float32 and float64 otherwise, or of ``dtype`` (a NumPy float type)
    if given. Parameters have ``requires_grad=True``; a torch module used twice (or a Parameter shared by two
    Linears) stays shared.

    Raises TypeError for any other module, naming it and what is supported, and ImportError if PyTorch is
    not installed.
    """
    torch = _import_torch("from_torch")
    import numpy as np

    from chainrule.nn import layers

    if dtype is not None:
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            dtype = None
        if dtype is None or dtype.kind != "f":
            raise TypeError("from_torch: dtype must be a NumPy floating type such as np.float32 or np.float64")
    if not isinstance(module, torch.nn.Module):
        if type(module) in (layers.Sequential, layers.Linear, MLP, Layer, Neuron):
            raise TypeError(f"from_torch: {_short(repr(module))} is a chainrule model; to_torch converts it to torch")
        raise TypeError(
            f"from_torch: expected a torch.nn.Module, got {type(module).__name__} {_short(repr(module))}; "
            f"supported: {_FROM_TORCH_SUPPORTED}"
        )
    return _from_torch(torch, layers, module, dtype, {}, "")


def _torch_name(module) -> str:
    # One line, from the module's own description: Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1))
    return _short(f"{type(module).__name__}({module.extra_repr()})")


def _from_torch(torch, layers, module, dtype, memo: dict, where: str):
    if id(module) in memo:
        return memo[id(module)]
    kind = type(module)  # exact types: a subclass may have its own forward()
    if module._forward_hooks or module._forward_pre_hooks:
        # A hook can change what forward() computes (old-style weight_norm is one); chainrule would not run it.
        raise TypeError(
            f"from_torch: cannot convert {_torch_name(module)}{where}: it has forward hooks, which chainrule "
            "cannot run; remove them (handle.remove()) first"
        )
    if kind is torch.nn.Linear:
        converted = _linear_from_torch(torch, layers, module, dtype, memo)
    elif kind is torch.nn.Sequential:
        converted = layers.Sequential(
            *(_from_torch(torch, layers, m, dtype, memo, f" (item {i} of a Sequential)") for i, m in enumerate(module))
        )
    elif kind in (torch.nn.ReLU, torch.nn.Tanh, torch.nn.Sigmoid, torch.nn.Identity):
        converted = getattr(layers, kind.__name__)()  # torch's activations have chainrule's names
    elif (converted := interop_layers.layer_from_torch(torch, module, dtype, memo)) is not None:
        pass  # Embedding, BatchNorm1d, Flatten
    else:
        hint = _FROM_TORCH_HINTS.get(kind.__name__)
        supported = (torch.nn.Linear, torch.nn.Sequential, torch.nn.ReLU, torch.nn.Tanh, torch.nn.Sigmoid)
        raise TypeError(
            f"from_torch: cannot convert {_torch_name(module)}{where}; supported: {_FROM_TORCH_SUPPORTED}"
            + (f" ({hint})" if hint else _subclass_hint(kind, supported))
        )
    memo[id(module)] = converted
    return converted


def _linear_from_torch(torch, layers, module, dtype, memo: dict) -> Linear:

    weight = module.weight
    dtype = dtype or _numpy_dtype_of(torch, weight.dtype)
    nout, nin = weight.shape
    # rng=0: the initial weights are replaced at once, and drawing them from NumPy's global generator
    # (rng=None) would move it under a user who seeded it.
    layer = layers.Linear(nin, nout, bias=module.bias is not None, rng=0, dtype=dtype)
    layer.weight = _tensor_from_torch(weight, dtype, layer.weight, memo, layout=_transposed)
    if module.bias is not None:
        layer.bias = _tensor_from_torch(module.bias, dtype, layer.bias, memo)
    return layer


def _tensor_from_torch(parameter, dtype, fresh, memo: dict, layout=_as_is):
    """The chainrule Tensor for a torch Parameter: ``fresh`` (the new layer's own) holding a copy of its
    numbers, or the Tensor already made for it if another Linear shares it."""
    if id(parameter) not in memo:
        # float64 first, exactly, since NumPy has no bfloat16. .numpy() may share torch's memory:
        # np.array(..., copy=True) makes the two models independent, and order="C" stores the transposed
        # weight the way chainrule's own weights are stored.
        import numpy as np

        numbers = parameter.detach().cpu().double().numpy()
        fresh.data = np.array(layout(numbers), dtype=dtype, order="C", copy=True)
        memo[id(parameter)] = (fresh, layout)
    tensor, first_layout = memo[id(parameter)]
    if first_layout is not layout:
        raise _tied_across_layouts("from_torch", parameter.shape)
    return tensor
