"""The gradient is a graph too, on Tensors: second and third derivatives through every Tensor operation,
checked against ``torch.autograd.grad`` taken twice (float64).

Each operation's vector-Jacobian products are written once; the first-order pass runs them on arrays,
``create_graph=True`` on Tensors. A Hessian-vector product ``H v`` is the gradient of ``grad(f) . v``,
so each case below checks ``f``, ``grad f`` and ``H v`` for every input at once.
"""

from __future__ import annotations

import numpy as np
import pytest
from oracle import assert_close

from chainrule import Tensor, grad
from chainrule.losses import binary_cross_entropy, cross_entropy, hinge, mse
from chainrule.tensor import hinge_loss, linear, sum_of_squares

RNG = np.random.default_rng(7)
A34 = RNG.normal(size=(3, 4))
B34 = RNG.normal(size=(3, 4))
W42 = RNG.normal(size=(4, 2))
V4 = RNG.normal(size=4)
POSITIVE34 = RNG.uniform(0.5, 2.0, size=(3, 4))
LABELS = np.array([[1.0], [-1.0], [1.0]])
TARGETS = np.array([2, 0, 1])
INDEX = (np.array([0, 2, 2, 1]), np.array([1, 3, 3, 0]))  # entry (2, 3) picked twice


# Each case: the inputs (arrays made into leaves of both systems), chainrule's function, torch's function.
CASES = {
    "add sub neg broadcast": ((A34, V4), lambda a, v: (a * a + v) * (a - 2.0 * v) - (-a) * v * v, None),
    "mul div": ((A34, POSITIVE34), lambda a, p: a * a * p / (p + a * a), None),
    "pow number": ((POSITIVE34,), lambda p: p**3 + p**-0.5 + p**2 * 0.25 + p**0, None),
    "pow tensor": ((POSITIVE34, A34), lambda p, b: p ** (0.5 * b) + 2.0**b, None),
    "exp log": ((A34, POSITIVE34), lambda a, p: (0.5 * a).exp() * (p * p).log(), None),
    "tanh sigmoid": ((A34,), lambda a: (a * a).tanh() + (a * 1.5).sigmoid() * a, None),
    "relu abs": ((A34,), lambda a: (a * a - 0.5).relu() * a + a.abs() * a * a, None),
    "matmul": ((A34, W42), lambda a, w: ((a @ w) * (a @ w)).tanh(), None),
    "matmul vectors": ((A34, V4), lambda a, v: (a @ v) ** 2 + (v @ v) * (v @ a.T), None),
    "sum mean axes": (
        (A34,),
        lambda a: (a * a).sum(axis=1, keepdims=True) * a.mean(axis=0) + (a * a * a).sum(),
        lambda a: (a * a).sum(dim=1, keepdim=True) * a.mean(dim=0) + (a * a * a).sum(),
    ),
    "max": ((A34,), lambda a: (a * a).max(axis=1) * a.max(), lambda a: (a * a).amax(dim=1) * a.amax()),
    "reshape transpose": ((A34,), lambda a: (a.reshape(4, 3) * a.T).tanh() * a.reshape(-1)[None, :3], None),
    "index": (
        (A34,),
        lambda a: a[INDEX] * a[INDEX] * a[1:, ::2].sum(),
        lambda a: a[tuple(map(torch_of, INDEX))] * a[tuple(map(torch_of, INDEX))] * a[1:, ::2].sum(),
    ),
    "softmax log_softmax": ((A34,), lambda a: (a * a).softmax(-1) * a + (a * 2.0).log_softmax(0) * a, None),
    "linear": (
        (A34, W42, RNG.normal(size=2)),
        lambda a, w, b: linear(a, w, b).tanh(),
        lambda a, w, b: (a @ w + b).tanh(),
    ),
    "sum_of_squares": (
        (A34, W42),
        lambda a, w: sum_of_squares([a * a, w], weight=0.3),
        lambda a, w: 0.3 * ((a * a) ** 2).sum() + 0.3 * (w**2).sum(),
    ),
    # the losses, each after a nonlinearity so that their second derivatives are not all zero
    "hinge": (
        (A34, W42[:, :1]),
        lambda a, w: hinge((a @ w).tanh() * 2.0, LABELS),
        lambda a, w: (1 - torch_of(LABELS) * (a @ w).tanh() * 2.0).relu().mean(),
    ),
    "hinge_loss fused": (
        (A34, W42[:, :1]),
        lambda a, w: hinge_loss((a @ w).tanh() * 2.0, LABELS, mean=False),
        lambda a, w: (1 - torch_of(LABELS) * (a @ w).tanh() * 2.0).relu().sum(),
    ),
    "mse": ((A34, B34), lambda a, b: mse(a.tanh(), b), lambda a, b: ((a.tanh() - b) ** 2).sum()),
    "cross_entropy": (
        (A34, W42),
        lambda a, w: cross_entropy((a @ w) * (a @ w), TARGETS % 2),
        lambda a, w: torch_nn().functional.cross_entropy((a @ w) * (a @ w), torch_of(TARGETS % 2)),
    ),
    "binary_cross_entropy": (
        (A34, B34),
        lambda a, b: binary_cross_entropy((a * b).sigmoid(), (B34 > 0) * 1.0),
        lambda a, b: torch_nn().functional.binary_cross_entropy((a * b).sigmoid(), torch_of((B34 > 0) * 1.0)),
    ),
    "binary_cross_entropy from logits": (
        (A34, B34),
        lambda a, b: binary_cross_entropy(a * b, (B34 > 0) * 1.0, from_logits=True),
        lambda a, b: torch_nn().functional.binary_cross_entropy_with_logits(a * b, torch_of((B34 > 0) * 1.0)),
    ),
}


def torch_of(array):
    import torch

    return torch.as_tensor(array)


def torch_nn():
    import torch

    return torch.nn


def hessian_vector_products(f, arrays, vectors, weights, allow_unused=True):
    """chainrule: f's value, its gradient and H v for each input, by grad(..., create_graph=True) then grad."""
    xs = [Tensor(a, requires_grad=True) for a in arrays]
    out = f(*xs)
    total = (out * Tensor(weights)).sum() if out.shape else out
    first = grad(total, xs, create_graph=True)
    along = sum((g * Tensor(v)).sum() for g, v in zip(first, vectors))
    second = grad(along, xs, allow_unused=allow_unused)
    return out, first, second, xs


def torch_hessian_vector_products(torch, f, arrays, vectors, weights):
    xs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = f(*xs)
    total = (out * torch.tensor(weights)).sum() if out.dim() else out
    first = torch.autograd.grad(total, xs, create_graph=True)
    along = sum((g * torch.tensor(v)).sum() for g, v in zip(first, vectors))
    second = torch.autograd.grad(along, xs, allow_unused=True)
    return out, first, second


@pytest.mark.parametrize("name", list(CASES))
def test_hessian_vector_products_of_every_operation_equal_torchs(torch, name):
    arrays, ours, theirs = CASES[name]
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    vectors = [rng.normal(size=a.shape) for a in arrays]
    probe = ours(*[Tensor(a) for a in arrays])
    weights = rng.normal(size=probe.shape)
    out, first, second, xs = hessian_vector_products(ours, arrays, vectors, weights)
    t_out, t_first, t_second = torch_hessian_vector_products(torch, theirs or ours, arrays, vectors, weights)
    assert_close(out.data, t_out, rtol=1e-12, what=f"{name}: value")
    for i, (g, t_g) in enumerate(zip(first, t_first)):
        assert_close(g.data, t_g, rtol=1e-10, atol=1e-13, what=f"{name}: d f/d input {i}")
    for i, (h, t_h) in enumerate(zip(second, t_second)):
        expected = np.zeros(arrays[i].shape) if t_h is None else t_h
        assert_close(
            np.zeros(arrays[i].shape) if h is None else h.data,
            expected,
            rtol=1e-9,
            atol=1e-12,
            what=f"{name}: (H v) for input {i}",
        )
    assert all(x.grad is None for x in xs), "grad() must leave every .grad as it was"


def test_hessian_vector_products_of_an_mlp_with_cross_entropy_equal_torchs(torch):
    from chainrule.nn import Linear, Sequential, Tanh

    rng = np.random.default_rng(3)
    model = Sequential(Linear(4, 8, rng=1), Tanh(), Linear(8, 3, rng=2))
    x, targets = rng.normal(size=(10, 4)), rng.integers(0, 3, size=10)
    params = model.parameters()
    vectors = [rng.normal(size=p.shape) for p in params]
    loss = cross_entropy(model(Tensor(x)), targets)
    first = grad(loss, params, create_graph=True)
    hv = grad(sum((g * Tensor(v)).sum() for g, v in zip(first, vectors)), params)

    t_params = [torch.tensor(p.data, requires_grad=True) for p in params]
    w1, b1, w2, b2 = t_params
    t_loss = torch.nn.functional.cross_entropy((torch.tensor(x) @ w1 + b1).tanh() @ w2 + b2, torch.as_tensor(targets))
    t_first = torch.autograd.grad(t_loss, t_params, create_graph=True)
    t_hv = torch.autograd.grad(sum((g * torch.tensor(v)).sum() for g, v in zip(t_first, vectors)), t_params)
    assert_close(loss.data, t_loss, rtol=1e-12, what="loss")
    for p, g, t_g, h, t_h in zip(params, first, t_first, hv, t_hv):
        assert_close(g.data, t_g, rtol=1e-10, atol=1e-14, what=f"gradient of {p.shape}")
        assert_close(h.data, t_h, rtol=1e-9, atol=1e-13, what=f"H v of {p.shape}")
        assert p.grad is None


def test_third_derivatives_equal_torchs(torch):
    a = np.array([0.3, -1.2, 0.8])
    x = Tensor(a, requires_grad=True)
    f = ((x * x).tanh() * x.exp()).sum() + (x**3).sum() * x.sigmoid().sum()
    (g1,) = grad(f, [x], create_graph=True)
    (g2,) = grad(g1.sum(), [x], create_graph=True)
    (g3,) = grad((g2 * g2).sum(), [x])
    tx = torch.tensor(a, requires_grad=True)
    tf = ((tx * tx).tanh() * tx.exp()).sum() + (tx**3).sum() * tx.sigmoid().sum()
    (t1,) = torch.autograd.grad(tf, [tx], create_graph=True)
    (t2,) = torch.autograd.grad(t1.sum(), [tx], create_graph=True)
    (t3,) = torch.autograd.grad((t2 * t2).sum(), [tx])
    for ours, theirs, order in ((g1, t1, 1), (g2, t2, 2), (g3, t3, 3)):
        assert_close(ours.data, theirs, rtol=1e-9, atol=1e-12, what=f"derivative of order {order}")


def test_backward_with_create_graph_leaves_gradients_that_are_graphs(torch):
    a = np.array([[0.5, -1.0], [2.0, 0.3]])
    w = Tensor(a, requires_grad=True)
    loss = (w @ w).tanh().sum()
    loss.backward(create_graph=True)
    assert isinstance(w.grad, Tensor) and w.grad.requires_grad
    penalty = (w.grad * w.grad).sum()  # a gradient penalty, differentiated again
    w.zero_grad()
    penalty.backward()
    tw = torch.tensor(a, requires_grad=True)
    (t_g,) = torch.autograd.grad((tw @ tw).tanh().sum(), [tw], create_graph=True)
    (t_penalty_grad,) = torch.autograd.grad((t_g * t_g).sum(), [tw])
    assert_close(w.grad, t_penalty_grad, rtol=1e-10, what="d (|grad|^2) / d w")


def test_a_changed_input_is_differentiated_at_the_numbers_the_forward_pass_saw(torch):
    a = np.array([0.4, -0.7, 1.1])
    x = Tensor(a, requires_grad=True)
    y = (x * x * x).sum()
    x.data[0] = 50.0  # copy on write: the graph keeps the numbers it was built from
    (g,) = grad(y, [x], create_graph=True)
    (h,) = grad(g.sum(), [x])
    assert_close(g.data, 3 * a**2, rtol=1e-14, what="first derivative at the saved numbers")
    assert_close(h.data, 6 * a, rtol=1e-14, what="second derivative at the saved numbers")


def test_a_custom_backward_cannot_be_differentiated_again_and_says_so():
    x = Tensor([1.0, 2.0], requires_grad=True)
    out = Tensor(x.data * 3.0, _children=(x,), _op="triple")

    def _backward():
        x._accumulate(out.grad * 3.0)

    out._backward = _backward
    (g,) = grad(out.sum(), [x])  # first derivatives use the closure
    assert_close(g.data, [3.0, 3.0], rtol=0.0, what="first derivative through a custom closure")
    with pytest.raises(RuntimeError, match=r"create_graph: the node 'triple' has no derivative rule"):
        grad(out.sum(), [x], create_graph=True)
