"""PyTorch (float64) as the oracle: the helpers every test uses to compare chainrule with torch.

* ``assert_close``: one comparison of numbers, arrays or torch tensors, with a message naming what differs.
* ``check_against_torch``: the one comparison of an operation with torch: run it on chainrule leaves
  (scalar Values or Tensors; or plain floats) and on torch leaves holding the same numbers, then compare
  the results, every leaf's gradient and, if asked, every second derivative (``hessian``).
* ``TorchTwin``: the same network in torch, given a chainrule network's weights.
* ``notes_training_in_torch``: the notes' training loop, run on a ``TorchTwin``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Callable

import numpy as np

from chainrule import Tensor, Value, grad

Number = (int, float, np.number)


def as_array(x: Any) -> np.ndarray:
    """``x`` (a number, a nested list of numbers, an ndarray, a chainrule Tensor or a torch tensor) as floats."""
    if hasattr(x, "detach"):  # a torch tensor
        x = x.detach().numpy()
    array = np.asarray(x)
    if array.dtype == object:
        raise TypeError(f"assert_close compares numbers and arrays, got {type(x).__name__}: {x!r}")
    return array.astype(np.float64)


def assert_close(ours: Any, expected: Any, rtol: float, atol: float = 0.0, what: str = "value") -> None:
    """Every entry of ``ours`` is within ``max(rtol * |expected|, atol)`` of ``expected``'s (as pytest.approx
    measures it); NaN matches only NaN and an infinity only itself; the shapes must be the same."""
    got, want = as_array(ours), as_array(expected)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, expected shape {want.shape}"
    with np.errstate(invalid="ignore", over="ignore"):
        same = (got == want) | (np.isnan(got) & np.isnan(want))
        error = np.abs(got - want)
        close = same | (error <= np.maximum(rtol * np.abs(want), atol))
    if not close.all():
        worst = np.unravel_index(np.argmax(np.where(close, -1.0, np.nan_to_num(error, nan=np.inf))), got.shape)
        raise AssertionError(
            f"{what}: {int((~close).sum())} of {close.size} entries differ beyond rtol={rtol}, atol={atol}; "
            f"at index {tuple(int(i) for i in worst)}: chainrule {float(got[worst])!r}, expected {float(want[worst])!r}"
        )


# -- one operation, on chainrule and on torch ----------------------------------------------------------
def chainrule_leaf(x: Any) -> Any:
    """Numbers become Values, lists of them lists of Values, arrays Tensors; existing Values/Tensors stay."""
    if isinstance(x, (Value, Tensor)):
        return x
    if isinstance(x, (list, tuple)):
        return [chainrule_leaf(e) for e in x]
    if isinstance(x, np.ndarray):
        return Tensor(x, requires_grad=True)
    return Value(x)


def numbers_of(leaf: Any) -> Any:
    """The numbers a chainrule leaf (or a list of them) holds."""
    if isinstance(leaf, (Value, Tensor)):
        return leaf.data
    if isinstance(leaf, list):
        return [numbers_of(e) for e in leaf]
    return leaf


def gradient_of(leaf: Any, what: str) -> Any:
    """A leaf's gradient: a Python float for a Value (checked), an array for a Tensor (checked present)."""
    if isinstance(leaf, list):
        return [gradient_of(e, what) for e in leaf]
    if isinstance(leaf, Value):
        assert type(leaf.grad) is float, f"{what}: a Value's grad must be a Python float, got {type(leaf.grad)}"
        return leaf.grad
    assert leaf.grad is not None, f"{what}: got no gradient"
    assert leaf.grad.shape == leaf.shape, f"{what}: gradient shape {leaf.grad.shape}, tensor shape {leaf.shape}"
    return leaf.grad


def describe(inputs: Sequence) -> str:
    """The inputs as a failure message shows them: every digit of every number, cut short if very long."""
    parts = []
    for x in inputs:
        if isinstance(x, np.ndarray):
            text = np.array2string(x, separator=", ", floatmode="unique", threshold=40)
        elif isinstance(x, (Value, Tensor)):
            text = f"{type(x).__name__}({np.array2string(np.asarray(x.data), separator=', ', threshold=40)})"
        else:
            text = repr(x)
        parts.append(text if len(text) <= 400 else f"{text[:300]}...{text[-60:]}")
    return "(" + ", ".join(parts) + ")"


def nodes_of(leaves: Sequence) -> list:
    """The Values and Tensors among ``leaves`` (lists of Values flattened, in order)."""
    nodes = []
    for leaf in leaves:
        nodes += nodes_of(leaf) if isinstance(leaf, list) else [leaf]
    return nodes


def flat(arrays: Sequence) -> np.ndarray:
    """Numbers, arrays and chainrule nodes' data, one after the other in one flat array."""
    return np.concatenate([np.ravel(as_array(a.data if isinstance(a, (Value, Tensor)) else a)) for a in arrays])


def hessian(out, nodes: Sequence, upstream: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """chainrule's first derivatives (taken with ``create_graph=True``) and second derivatives of ``out``
    with respect to every entry of ``nodes``, as a flat array and a square matrix; a Tensor ``out`` is
    weighted by ``upstream`` and summed first. Each row differentiates one first derivative again
    (a Tensor's entry by entry, picked out by ``grad_outputs``)."""
    total = out if upstream is None else (out * Tensor(upstream)).sum()
    first = grad(total, list(nodes), create_graph=True)
    rows = []
    for g in first:
        shape = np.shape(g.data)
        for index in np.ndindex(shape):
            pick = None
            if shape:
                pick = [np.zeros(shape)]
                pick[0][index] = 1.0
            second = grad(g, list(nodes), grad_outputs=pick, allow_unused=True)
            rows.append(flat([np.zeros(np.shape(n.data)) if s is None else s for n, s in zip(nodes, second)]))
    return flat(first), np.array(rows)


def torch_hessian(torch, theirs: Callable, torch_leaves: Sequence, constants: Sequence[int], upstream) -> np.ndarray:
    """torch's second derivatives of ``theirs`` (weighted by ``upstream`` when given) with respect to every
    entry of the leaves not in ``constants``, as one square matrix (``torch.autograd.functional.hessian``)."""
    variables = tuple(t.detach() for i, t in enumerate(torch_leaves) if i not in constants)

    def f(*tensors):
        given = iter(tensors)
        out = theirs(*(x if i in constants else next(given) for i, x in enumerate(torch_leaves)))
        return out if upstream is None else (out * torch.tensor(upstream)).sum()

    blocks = torch.autograd.functional.hessian(f, variables)
    sizes = [v.numel() for v in variables]
    return np.block(
        [
            [blocks[i][j].detach().numpy().reshape(sizes[i], sizes[j]) for j in range(len(sizes))]
            for i in range(len(sizes))
        ]
    )


def check_against_torch(
    torch,
    ours: Callable,
    theirs: Callable,
    inputs: Sequence,
    *,
    rtol: float = 1e-10,
    atol: float = 1e-14,
    grad_rtol: float | None = None,
    grad_atol: float | None = None,
    constants: Sequence[int] = (),
    plain: bool = False,
    second_order: bool = False,
    hessian_rtol: float = 1e-8,
    hessian_atol: float = 1e-12,
    seed: int = 1,
    what: str = "operation",
):
    """The one comparison with torch: run ``ours`` on chainrule leaves made from ``inputs`` and ``theirs`` on
    torch float64 leaves holding the same numbers; the results must agree to (rtol, atol) and, after
    backward(), every leaf's gradient to (grad_rtol, grad_atol) (the same tolerances unless given).
    A failure names ``what``, the inputs, and the entry that differs.

    Each input is a number (a Value), a list of numbers (a list of Values; torch gets one tensor), an
    ndarray (a Tensor), or a chainrule Value/Tensor already made (a model's parameter, used as it is).
    Inputs whose positions are in ``constants`` are passed unchanged to both and get no gradient.
    A Tensor result is given a random upstream gradient (from ``seed``), so each entry's path counts and
    a rule that ignores ``out.grad`` fails.

    ``plain=True`` gives ``ours`` the plain numbers instead of leaves (the float engine): only the value is
    compared. ``second_order=True`` also takes the first derivatives again with ``create_graph=True`` and
    differentiates each once more: they must match torch's gradient and ``torch.autograd.functional.hessian``
    (to hessian_rtol, hessian_atol). Returns chainrule's result.
    """
    leaves = [x if i in constants or plain else chainrule_leaf(x) for i, x in enumerate(inputs)]
    torch_leaves = [
        x if i in constants else torch.tensor(np.asarray(numbers_of(leaf), dtype=np.float64), requires_grad=True)
        for i, (x, leaf) in enumerate(zip(inputs, leaves))
    ]
    differentiated = [i for i in range(len(inputs)) if i not in constants]
    grad_rtol = rtol if grad_rtol is None else grad_rtol
    grad_atol = atol if grad_atol is None else grad_atol
    out = ours(*leaves)
    expected = theirs(*torch_leaves)
    try:
        if plain:
            assert type(out) is float, f"plain numbers must give a float, got {type(out).__name__}"
            assert_close(out, expected, rtol, atol, "value")
            return out
        upstream = None
        if isinstance(out, Value):
            assert type(out.data) is float, f"a Value's data must be a Python float, got {type(out.data)}"
            assert_close(out.data, expected, rtol, atol, "value")
            out.backward()
            expected.backward()
        else:
            assert isinstance(out, Tensor), f"expected a Value or a Tensor, got {type(out).__name__}"
            assert out.shape == tuple(expected.shape), f"shape {out.shape}, torch {tuple(expected.shape)}"
            assert_close(out.data, expected, rtol, atol, "value")
            upstream = np.random.default_rng(seed).standard_normal(out.shape)
            out.backward(upstream)
            expected.backward(torch.tensor(upstream))
        for i in differentiated:
            name = f"gradient wrt input {i}"
            assert_close(gradient_of(leaves[i], name), torch_leaves[i].grad, grad_rtol, grad_atol, name)
        if second_order:
            first, second = hessian(out, nodes_of([leaves[i] for i in differentiated]), upstream)
            expected_first = flat([torch_leaves[i].grad for i in differentiated])
            first_atol = flat([np.broadcast_to(grad_atol, np.shape(numbers_of(leaves[i]))) for i in differentiated])
            assert_close(first, expected_first, grad_rtol, first_atol, "gradient taken with create_graph=True")
            expected_second = torch_hessian(torch, theirs, torch_leaves, constants, upstream)
            assert_close(second, expected_second, hessian_rtol, hessian_atol, "second derivatives")
    except AssertionError as error:  # the inputs are written out only for a failure
        raise AssertionError(f"{what} at {describe(inputs)}: {error}") from None
    return out


# -- a network's twin ---------------------------------------------------------------------------------
def layer_weights(model) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each layer's (weight (nin, nout), bias (nout,)) of a scalar MLP (``layers`` of ``neurons`` with ``w``
    and ``b``, chainrule's or the notes' own) or of a Tensor Sequential (its ``Linear`` modules)."""
    if hasattr(getattr(model, "layers", [None])[0], "neurons"):
        return [
            (
                np.array([[w.data for w in n.w] for n in layer.neurons]).T,
                np.array([n.b.data for n in layer.neurons]),
            )
            for layer in model.layers
        ]
    return [(m.weight.data, m.bias.data) for m in model if hasattr(m, "weight")]


class TorchTwin:
    """The same network in torch (float64), from a chainrule network's current weights.

    ``activations`` names each layer's activation ("tanh", "relu", "sigmoid" or "linear"), so the twin does
    not take chainrule's word for it. ``params`` are the torch leaves in a Tensor model's order and layout:
    each layer's weight (nin, nout), then its bias; ``mlp_order`` lists them in a scalar MLP's order.
    """

    def __init__(self, torch, model, activations: Sequence[str]):
        self.torch = torch
        functions = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid, "linear": lambda t: t}
        weights = layer_weights(model)
        assert len(activations) == len(weights), f"{len(weights)} layers but activations {list(activations)}"
        self.activations = [functions[name] for name in activations]
        self.params = []
        for weight, bias in weights:
            self.params += [torch.tensor(weight, requires_grad=True), torch.tensor(bias, requires_grad=True)]

    def __call__(self, x):
        """The network's output for one input (a list or a 1-D tensor) or a batch (rows)."""
        torch = self.torch
        t = x if isinstance(x, torch.Tensor) else torch.tensor(np.asarray(x, dtype=np.float64))
        for (weight, bias), activation in zip(zip(self.params[::2], self.params[1::2]), self.activations):
            t = activation(t @ weight + bias)
        return t

    def mlp_order(self, what: str = "data") -> list[float]:
        """The parameters (``what='data'``) or their gradients (``'grad'``) as floats in a scalar MLP's
        ``parameters()`` order: layer by layer, neuron by neuron, its weights then its bias."""
        numbers = []
        for weight, bias in zip(self.params[::2], self.params[1::2]):
            w, b = getattr(weight, what).detach().numpy(), getattr(bias, what).detach().numpy()
            for j in range(w.shape[1]):
                numbers += w[:, j].tolist() + [float(b[j])]
        return numbers


def notes_training_in_torch(torch, twin: TorchTwin, xs, ys, steps: int = 20, lr: float = 0.05) -> list[float]:
    """The notes' training loop on ``twin``: the sum of squared errors over ``xs``, then ``p -= lr * p.grad``
    for every parameter, ``steps`` times. Returns each step's loss."""
    losses = []
    for _ in range(steps):
        loss = sum((twin(x)[0] - y) ** 2 for x, y in zip(xs, ys))
        for p in twin.params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in twin.params:
                p -= lr * p.grad
        losses.append(loss.item())
    return losses
