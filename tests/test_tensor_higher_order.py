"""The gradient is a graph too, on Tensors: Hessian-vector products of a whole network, third
derivatives, gradient penalties, checked against ``torch.autograd.grad`` taken two or three times
(float64). Every single operation's second derivatives are checked in ``test_ops.py``, from the one
table of operations.

A Hessian-vector product ``H v`` is the gradient of ``grad(f) . v``.
"""

from __future__ import annotations

import numpy as np
import pytest
from oracle import assert_close

from chainrule import Tensor, grad
from chainrule.losses import cross_entropy


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


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True:UserWarning")  # torch's own note
def test_gradients_that_are_graphs_step_optimizers_and_copy_as_their_numbers(torch):
    import copy
    import pickle

    from chainrule.optim import SGD, Adam

    a = np.array([[0.5, -1.0], [2.0, 0.3]])
    for ours, theirs in ((SGD, torch.optim.SGD), (Adam, torch.optim.Adam)):
        w = Tensor(a, requires_grad=True)
        (w @ w).tanh().sum().backward(create_graph=True)
        assert isinstance(w.grad, Tensor)
        numbers = w.grad.data.copy()
        assert_close(copy.deepcopy(w).grad, numbers, rtol=0.0, what="deepcopy of a graph gradient")
        assert_close(pickle.loads(pickle.dumps(w)).grad, numbers, rtol=0.0, what="pickle of a graph gradient")
        ours([w], lr=0.1).step()
        tw = torch.tensor(a, requires_grad=True)
        (tw @ tw).tanh().sum().backward(create_graph=True)
        theirs([tw], lr=0.1).step()
        assert_close(w.data, tw, rtol=1e-12, what=f"{ours.__name__} step on a create_graph gradient")


def test_a_tensor_times_itself_gets_both_shares_at_every_order(torch):
    # x * x is recorded as one share of 2x (not two shares of x); first and second derivatives must still
    # be torch's, and so must the shares when x also appears elsewhere in the graph.
    rng = np.random.default_rng(7)
    x0, w0 = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    x = Tensor(x0, requires_grad=True)
    f = (x * x * Tensor(w0) + (x * x).exp() * x).sum()
    (g,) = grad(f, [x], create_graph=True)
    (h,) = grad((g * g).sum(), [x])
    xt = torch.tensor(x0, requires_grad=True)
    ft = (xt * xt * torch.tensor(w0) + (xt * xt).exp() * xt).sum()
    (gt,) = torch.autograd.grad(ft, [xt], create_graph=True)
    (ht,) = torch.autograd.grad((gt * gt).sum(), [xt])
    assert_close(f.data, ft.detach().numpy(), rtol=1e-12)
    assert_close(g.data, gt.detach().numpy(), rtol=1e-12)
    assert_close(h.data, ht.numpy(), rtol=1e-10)
    square = f._prev[0]._prev[0]._prev[0]  # sum <- add <- (x * x) * w <- x * x
    assert square._op == "*" and square._prev == (x, x)  # the graph still shows both operands, as the notes draw it
