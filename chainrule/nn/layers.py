"""Layers over ``Tensor`` graphs: the notes' ``Layer`` of neurons, computed as one matrix product.

``Linear(nin, nout)`` holds the ``nout`` neurons of a notes ``Layer`` side by side: column ``j`` of
``weight`` is neuron ``j``'s ``w`` and ``bias[j]`` its ``b``, so ``x @ weight + bias`` computes every
neuron's ``w . x + b`` for every row of ``x`` at once. Activations are separate modules, and
``Sequential`` chains modules the way ``MLP`` chains layers.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from numbers import Integral, Real

import numpy as np

from chainrule.array_checks import broadcasting, matmul_error
from chainrule.nn.module import Module, check_size, is_plain, unique_parameters
from chainrule.tensor import Tensor, as_float_array
from chainrule.tensor_record import Rule, record
from chainrule.tensor_shapes import MATMUL

# What a Linear and a Sequential hold (see is_plain): their quick parameters() lists cover exactly these.
_LINEAR_ATTRIBUTES = frozenset({"nin", "nout", "weight", "bias", "training"})
_SEQUENTIAL_ATTRIBUTES = frozenset({"layers", "training"})


def _generator(rng, where: str):
    """Where the initial weights come from: a seed, a NumPy generator, or NumPy's global one."""
    if rng is None:
        # NumPy's global generator, so np.random.seed(n) makes models reproducible, as random.seed(n)
        # does for the notes' MLP.
        return np.random
    if isinstance(rng, (np.random.Generator, np.random.RandomState)):
        return rng
    if isinstance(rng, Integral) and not isinstance(rng, bool):
        if rng < 0:  # NumPy's own error would not say which layer, or what to pass
            raise ValueError(f"{where}: an int seed for rng must be >= 0, got {rng!r}")
        return np.random.default_rng(int(rng))
    raise TypeError(f"{where}: rng must be None, an int seed or a numpy.random.Generator, got {rng!r}")


def _as_tensor(x, module: Module, dtype=None) -> Tensor:
    """``x`` (a Tensor, number, nested list or array) as a Tensor; a conversion error names the module."""
    if isinstance(x, Tensor):
        return x
    return Tensor(as_float_array(x, repr(module), dtype), dtype=dtype)


def _parameter_dtype(dtype, where: str) -> np.dtype:
    # Checked before any weights are drawn, so a bad dtype neither names Tensor nor uses up random numbers.
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.kind != "f":
        given = dtype if dt is None else dt  # int32 rather than <class 'numpy.int32'>
        raise TypeError(f"{where}: dtype must be a floating type such as np.float32 or np.float64, got {given!r}")
    return dt


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight + bias`` as one node: every neuron's ``w . x + b`` for every row of ``x``, fused.

    The Tensor counterpart of the scalar engine's ``weighted_sum``: the same numbers as the two nodes
    ``x @ weight`` and ``+ bias``, with one node's bookkeeping. ``x`` is ``(..., nin)``, ``weight``
    ``(nin, nout)``, ``bias`` ``(nout,)``. The local rules: d/dx = g @ weight.T, d/dweight = x.T @ g,
    d/dbias = g summed over the rows (``unbroadcast`` does the summing).
    """
    a, w = x._data, weight._data
    if a.ndim != 2 or w.ndim != 2:
        out = x @ weight  # vectors and batches of matrices: the general matmul
        return out if bias is None else out + bias
    try:
        out = a @ w
    except ValueError:
        raise ValueError(matmul_error(a.shape, w.shape)) from None
    if bias is None:
        return record(out, "linear", (x, weight), MATMUL, (a, w))
    b = bias._data
    if b.shape == out.shape[-1:] and b.dtype == out.dtype:
        out += b  # in place: the product is a fresh array
    else:
        out = broadcasting(np.add, out, b, "linear (bias)")
    return record(out, "linear", (x, weight, bias), LINEAR, (a, w))


GAINS = {"linear": 1.0, "identity": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3.0, "relu": math.sqrt(2.0)}


def kaiming_std(fan_in: int, gain, where: str) -> float:
    """``gain / sqrt(fan_in)``, the standard deviation that keeps activations' scale through a layer;
    ``gain`` a positive number or a nonlinearity's name (see ``GAINS``, torch's ``calculate_gain``)."""
    if isinstance(gain, str):
        if gain not in GAINS:
            raise ValueError(f"{where}: gain must be a positive number or one of {', '.join(GAINS)}, got {gain!r}")
        gain = GAINS[gain]
    if isinstance(gain, bool) or not isinstance(gain, Real) or not (0 < gain < math.inf):
        raise ValueError(f"{where}: gain must be a positive number or one of {', '.join(GAINS)}, got {gain!r}")
    return float(gain) / math.sqrt(fan_in)


# d/dx = g @ weight.T, d/dweight = x.T @ g (matmul's rule); d/dbias = g, which Tensor._accumulate sums
# over the rows
LINEAR = Rule("a b", *MATMUL.vjps, lambda g, a, b: g)


class Linear(Module):
    """``x @ weight + bias``, with ``weight`` of shape ``(nin, nout)`` and ``bias`` of shape ``(nout,)``.

    Both start uniform in ``(-1/sqrt(nin), 1/sqrt(nin))``, as in PyTorch. ``init="kaiming"`` draws the
    weight from N(0, (gain / sqrt(nin))**2) instead (Kaiming He's scaling, as the makemore lecture does
    by hand, and ``torch.nn.init.kaiming_normal_`` with ``mode="fan_in"``) and starts the bias at 0;
    ``gain`` is a number or a nonlinearity's name (``"tanh"`` gives 5/3, ``"relu"`` sqrt(2), as
    ``torch.nn.init.calculate_gain``). ``rng`` makes them
    reproducible: an int seed, a ``numpy.random.Generator``, or None for NumPy's global generator
    (seeded by ``np.random.seed``). ``dtype`` is the parameters' float type (float64 by default).
    Inputs are ``(nin,)`` or ``(batch, nin)`` (any leading dimensions work).
    """

    _weight_attributes = ("weight", "bias")  # in state_dict() even when frozen (requires_grad=False)
    _transposed_in_torch = ("weight",)  # torch's Linear keeps (nout, nin)

    def __init__(
        self, nin: int, nout: int, bias: bool = True, rng=None, dtype=np.float64, *, init: str = "uniform", gain=1.0
    ):
        self.nin = check_size(nin, "nin (number of inputs)", "Linear")
        self.nout = check_size(nout, "nout (number of outputs)", "Linear")
        dtype = _parameter_dtype(dtype, "Linear")
        if init not in ("uniform", "kaiming"):
            raise ValueError(f"Linear: init must be 'uniform' or 'kaiming', got {init!r}")
        std = kaiming_std(self.nin, gain, "Linear") if init == "kaiming" else None
        gen = _generator(rng, "Linear")
        bound = 1.0 / math.sqrt(self.nin)
        if std is None:
            weight = gen.uniform(-bound, bound, size=(self.nin, self.nout))
        else:
            weight = gen.standard_normal(size=(self.nin, self.nout)) * std
        self.weight = Tensor(weight, requires_grad=True, dtype=dtype)
        self.weight.label = "weight"
        self.bias = None
        if bias:
            numbers = gen.uniform(-bound, bound, size=(self.nout,)) if std is None else np.zeros(self.nout)
            self.bias = Tensor(numbers, requires_grad=True, dtype=dtype)
            self.bias.label = "bias"

    def __call__(self, x) -> Tensor:
        x = _as_tensor(x, self, self.weight._data.dtype)
        shape = x._data.shape
        if not shape or shape[-1] != self.nin:
            raise ValueError(
                f"{self!r}: expected inputs whose last dimension is {self.nin} (features), got shape {x.shape}"
            )
        # x @ weight + bias, as one graph node (see linear below)
        return linear(x, self.weight, self.bias)

    def parameters(self) -> list:
        if not is_plain(self, Linear, _LINEAR_ATTRIBUTES):
            return super().parameters()
        weight, bias = self.weight, self.bias
        if bias is not None and weight._requires_grad and bias._requires_grad:
            return [weight, bias]  # the usual case, asked every step
        return [p for p in (weight, bias) if p is not None and p._requires_grad]

    forward = __call__  # the PyTorch name for the same computation

    def __repr__(self) -> str:
        return f"Linear({self.nin}, {self.nout}{'' if self.bias is not None else ', bias=False'})"


class Flatten(Module):
    """Join dimensions ``start_dim`` to ``end_dim`` (inclusive) into one, as ``torch.nn.Flatten``:
    ``(N, 3, 10)`` becomes ``(N, 30)`` with the defaults (every dimension after the batch one)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        for name, value in (("start_dim", start_dim), ("end_dim", end_dim)):
            if not isinstance(value, Integral) or isinstance(value, bool):
                raise TypeError(f"Flatten: {name} must be an integer, got {value!r}")
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)

    def __call__(self, x) -> Tensor:
        return _as_tensor(x, self).flatten(self.start_dim, self.end_dim)

    forward = __call__  # the PyTorch name for the same computation

    def __repr__(self) -> str:
        return f"Flatten(start_dim={self.start_dim}, end_dim={self.end_dim})"


class ReLU(Module):
    """``max(x, 0)`` entrywise."""

    def __call__(self, x) -> Tensor:
        return _as_tensor(x, self).relu()

    forward = __call__  # the PyTorch name for the same computation

    def __repr__(self) -> str:
        return "ReLU()"


class Tanh(Module):
    """``tanh(x)`` entrywise, the notes' activation."""

    def __call__(self, x) -> Tensor:
        return _as_tensor(x, self).tanh()

    forward = __call__  # the PyTorch name for the same computation

    def __repr__(self) -> str:
        return "Tanh()"


class Sigmoid(Module):
    """``1 / (1 + exp(-x))`` entrywise."""

    def __call__(self, x) -> Tensor:
        return _as_tensor(x, self).sigmoid()

    forward = __call__  # the PyTorch name for the same computation

    def __repr__(self) -> str:
        return "Sigmoid()"


class Identity(Module):
    """Returns its input unchanged (a linear output layer, or a placeholder)."""

    def __call__(self, x):
        return x

    forward = __call__  # the PyTorch name for the same computation

    def __repr__(self) -> str:
        return "Identity()"


class Sequential(Module):
    """Modules applied one after another: ``Sequential(Linear(2, 16), ReLU(), Linear(16, 1))``.

    Iterate over it, index it (``model[0]``), or slice it (``model[:2]`` is a Sequential too).
    """

    def __init__(self, *modules: Module):
        for i, m in enumerate(modules):
            if isinstance(m, type):
                # The class itself (Sequential(Linear, ReLU)) is callable and has a parameters attribute,
                # so it would pass the check below and fail only later, with a confusing error.
                raise TypeError(
                    f"Sequential: item {i} is the class {m.__name__}, not a layer; make one, e.g. {m.__name__}(...)"
                )
            if not callable(m) or not hasattr(m, "parameters"):
                hint = (
                    "; to pass a list of layers, unpack it: Sequential(*layers)" if isinstance(m, (list, tuple)) else ""
                )
                raise TypeError(
                    f"Sequential: item {i} is not a module (got {type(m).__name__}); pass layers such as Linear(2, 16)"
                    + hint
                )
        self.layers = list(modules)
        # Each parameter still labelled with its name in its own layer ("weight") is labelled with its name
        # here, as state_dict() names it ("0.weight", "2.bias"), so a drawing tells the layers apart. Once,
        # while the model is built; a label you gave is kept.
        for i, module in enumerate(self.layers):
            if isinstance(module, Module):
                for name, p in module.named_parameters():
                    if getattr(p, "label", None) == name:
                        p.label = f"{i}.{name}"

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)  # the output of one layer is the input of the next: the forward pass
        return x

    def _named_members(self):
        # Named by position, as PyTorch's Sequential names them: "0.weight", "2.bias"; then anything else
        # assigned to it, by name.
        yield from ((str(i), layer) for i, layer in enumerate(self.layers))
        yield from ((name, item) for name, item in vars(self).items() if name != "layers")

    def parameters(self) -> list:
        if not is_plain(self, Sequential, _SEQUENTIAL_ATTRIBUTES):
            return super().parameters()
        # A layer used twice (Sequential(lin, Tanh(), lin)) shares its weights: listed, and trained, once.
        params = []
        for layer in self.layers:
            params += layer.parameters()
        return unique_parameters(params)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(*self.layers[index])
        return self.layers[index]

    forward = __call__  # the PyTorch name for the same computation

    def __repr__(self) -> str:
        return "Sequential(" + ", ".join(repr(m) for m in self.layers) + ")"
