"""Tensor layers, the Tensor branches of the losses, and the optimizers on Tensor models, against PyTorch.

``assert_matches`` is the one torch comparison here: a chainrule result and its torch twin, then the
gradients of each (chainrule Tensor, torch tensor) pair after both have run backward().
"""

import numpy as np
import pytest

from chainrule import Tensor
from chainrule.losses import binary_cross_entropy, cross_entropy, hinge, l2_penalty, mse
from chainrule.nn import Identity, Linear, Module, ReLU, Sequential, Sigmoid, Tanh
from chainrule.optim import SGD, Adam, AdamW

TOL = 1e-10


def assert_matches(expected, result, pairs=()):
    """``result`` (a Tensor) has torch's value ``expected``; after backward() on both, every
    (Tensor, torch tensor) pair in ``pairs`` has the same gradient."""
    np.testing.assert_allclose(result.data, expected.detach().numpy(), rtol=TOL, atol=1e-14)
    result.backward()
    expected.backward()
    for mine, theirs in pairs:
        np.testing.assert_allclose(mine.grad, theirs.grad.numpy(), rtol=TOL, atol=1e-14)


def twin(torch, array):
    """The same numbers as a chainrule Tensor and a torch tensor, both requiring grad."""
    return Tensor(array, requires_grad=True), torch.tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


RNG = np.random.default_rng(2024)


# -- Linear ----------------------------------------------------------------------------------------
def test_linear_is_x_at_weight_plus_bias(torch):
    layer = Linear(3, 2, rng=0)
    x, tx = twin(torch, RNG.standard_normal((5, 3)))
    tw = torch.tensor(layer.weight.data, requires_grad=True)
    tb = torch.tensor(layer.bias.data, requires_grad=True)
    expected = (torch.nn.functional.linear(tx, tw.T, tb).tanh() ** 2).sum()
    assert_matches(expected, (layer(x).tanh() ** 2).sum(), [(x, tx), (layer.weight, tw), (layer.bias, tb)])


def test_linear_shapes_and_initialization_bounds():
    layer = Linear(4, 3, rng=1)
    assert layer.weight.shape == (4, 3) and layer.bias.shape == (3,)
    assert layer.weight.requires_grad and layer.bias.requires_grad
    assert layer.parameters() == [layer.weight, layer.bias]
    big = Linear(16, 200, rng=2)
    bound = 1 / 4
    assert np.abs(big.weight.data).max() <= bound and np.abs(big.weight.data).max() > 0.9 * bound
    assert np.abs(big.bias.data).max() <= bound
    assert layer(np.ones(4)).shape == (3,)
    assert layer(np.ones((2, 5, 4))).shape == (2, 5, 3)
    no_bias = Linear(4, 3, bias=False, rng=1)
    assert no_bias.bias is None and no_bias.parameters() == [no_bias.weight]
    np.testing.assert_array_equal(no_bias(np.eye(4)).data, no_bias.weight.data)
    assert repr(no_bias) == "Linear(4, 3, bias=False)"


def test_linear_initialization_is_reproducible():
    a, b = Linear(3, 4, rng=7), Linear(3, 4, rng=7)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    np.testing.assert_array_equal(a.bias.data, b.bias.data)
    assert not np.array_equal(a.weight.data, Linear(3, 4, rng=8).weight.data)
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    np.testing.assert_array_equal(Linear(3, 4, rng=g1).weight.data, Linear(3, 4, rng=g2).weight.data)
    # rng=None draws from NumPy's global generator, so np.random.seed makes it reproducible
    np.random.seed(11)
    first = Linear(3, 4).weight.data
    np.random.seed(11)
    np.testing.assert_array_equal(first, Linear(3, 4).weight.data)


def test_linear_float32():
    layer = Linear(3, 2, rng=0, dtype=np.float32)
    out = layer(np.ones((4, 3)))
    assert layer.weight.dtype == np.float32 and out.dtype == np.float32
    out.sum().backward()
    assert layer.weight.grad.dtype == np.float32
    np.testing.assert_allclose(layer.weight.grad, np.full((3, 2), 4.0))


def test_linear_errors():
    with pytest.raises(ValueError, match=r"Linear\(3, 2\): expected inputs whose last dimension is 3.*\(4, 5\)"):
        Linear(3, 2, rng=0)(np.ones((4, 5)))
    with pytest.raises(ValueError, match="nin"):
        Linear(0, 2)
    with pytest.raises(ValueError, match="nout"):
        Linear(2, 2.5)
    with pytest.raises(TypeError, match="rng must be None, an int seed or a numpy.random.Generator"):
        Linear(2, 2, rng="seed")


# -- activations and Sequential --------------------------------------------------------------------
@pytest.mark.parametrize(
    "module, torch_name", [(ReLU(), "relu"), (Tanh(), "tanh"), (Sigmoid(), "sigmoid")], ids=["relu", "tanh", "sigmoid"]
)
def test_activations_match_torch(torch, module, torch_name):
    x, tx = twin(torch, RNG.standard_normal((4, 3)))
    weights = RNG.standard_normal((4, 3))
    expected = (getattr(torch, torch_name)(tx) * torch.tensor(weights)).sum()
    assert_matches(expected, (module(x) * weights).sum(), [(x, tx)])
    assert isinstance(module, Module) and module.parameters() == []


def test_identity_returns_its_input():
    x = Tensor([1.0, 2.0])
    assert Identity()(x) is x


def test_sequential_matches_a_torch_twin(torch):
    model = Sequential(Linear(2, 8, rng=0), ReLU(), Linear(8, 8, rng=1), Tanh(), Linear(8, 1, rng=2), Sigmoid())
    twin_model = torch.nn.Sequential(
        torch.nn.Linear(2, 8),
        torch.nn.ReLU(),
        torch.nn.Linear(8, 8),
        torch.nn.Tanh(),
        torch.nn.Linear(8, 1),
        torch.nn.Sigmoid(),
    )
    load_into_torch(torch, model, twin_model)
    x = RNG.standard_normal((6, 2))
    expected = twin_model(torch.tensor(x)).sum()
    assert_matches(expected, model(Tensor(x)).sum())
    for mine, reference in zip(model.parameters(), in_our_layout(twin_model, "grad")):
        np.testing.assert_allclose(mine.grad, reference, rtol=TOL, atol=1e-14)


def test_sequential_is_iterable_indexable_and_collects_parameters():
    first, second = Linear(2, 3, rng=0), Linear(3, 1, rng=1)
    model = Sequential(first, ReLU(), second)
    assert len(model) == 3 and next(iter(model)) is first and model[2] is second and model[-1] is second
    assert isinstance(model[:2], Sequential) and len(model[:2]) == 2
    assert model.parameters() == [first.weight, first.bias, second.weight, second.bias]
    model(np.ones((4, 2))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    assert repr(model) == "Sequential(Linear(2, 3), ReLU(), Linear(3, 1))"
    with pytest.raises(TypeError, match="Sequential: item 1 is not a module"):
        Sequential(first, 3)


# -- losses ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_mse_matches_torch(torch, reduction):
    p, tp = twin(torch, RNG.standard_normal((5, 2)))
    targets = RNG.standard_normal((5, 2))
    expected = torch.nn.functional.mse_loss(tp, torch.tensor(targets), reduction=reduction)
    assert_matches(expected, mse(p, targets, reduction=reduction), [(p, tp)])


def test_mse_gradient_reaches_a_tensor_target(torch):
    p, tp = twin(torch, RNG.standard_normal(4))
    t, tt = twin(torch, RNG.standard_normal(4))
    assert_matches(torch.nn.functional.mse_loss(tp, tt, reduction="sum"), mse(p, t), [(p, tp), (t, tt)])


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_hinge_matches_torch(torch, reduction):
    s, ts = twin(torch, RNG.standard_normal((6, 1)) * 2)
    labels = np.array([[1.0], [-1.0], [1.0], [1.0], [-1.0], [-1.0]])
    terms = torch.relu(1 - torch.tensor(labels) * ts)
    expected = terms.mean() if reduction == "mean" else terms.sum()
    assert_matches(expected, hinge(s, labels, reduction=reduction), [(s, ts)])


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_binary_cross_entropy_matches_torch(torch, reduction):
    p, tp = twin(torch, RNG.uniform(0.05, 0.95, (4, 3)))
    targets = RNG.uniform(0, 1, (4, 3))
    expected = torch.nn.functional.binary_cross_entropy(tp, torch.tensor(targets), reduction=reduction)
    assert_matches(expected, binary_cross_entropy(p, targets, reduction=reduction), [(p, tp)])


def test_binary_cross_entropy_from_logits_matches_torch_even_for_large_logits(torch):
    x, tx = twin(torch, np.array([-800.0, -3.0, 0.0, 2.5, 800.0]))
    targets = np.array([0.0, 1.0, 0.5, 0.0, 1.0])
    expected = torch.nn.functional.binary_cross_entropy_with_logits(tx, torch.tensor(targets))
    assert_matches(expected, binary_cross_entropy(x, targets, from_logits=True), [(x, tx)])


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_matches_torch(torch, reduction):
    z, tz = twin(torch, RNG.standard_normal((5, 4)) * 3)
    targets = np.array([0, 3, 1, 1, 2])
    expected = torch.nn.functional.cross_entropy(tz, torch.tensor(targets), reduction=reduction)
    assert_matches(expected, cross_entropy(z, targets, reduction=reduction), [(z, tz)])


def test_cross_entropy_is_stable_for_huge_logits(torch):
    z, tz = twin(torch, np.array([[1000.0, 0.0, -1000.0], [5000.0, 5001.0, 4999.0]]))
    expected = torch.nn.functional.cross_entropy(tz, torch.tensor([1, 0]))
    assert_matches(expected, cross_entropy(z, [1, 0]), [(z, tz)])


def test_l2_penalty_matches_torch_and_is_one_node(torch):
    model = Sequential(Linear(3, 4, rng=0), ReLU(), Linear(4, 2, rng=1))
    twins = [torch.tensor(p.data, requires_grad=True) for p in model.parameters()]
    penalty = l2_penalty(model.parameters())
    assert penalty._op == "sumsq" and penalty._prev == tuple(model.parameters())
    assert_matches(sum((t * t).sum() for t in twins), penalty, zip(model.parameters(), twins))


def test_loss_errors_are_clear():
    with pytest.raises(ValueError, match=r"hinge: labels must be -1 or \+1, got 0\.0"):
        hinge(Tensor([1.0, 2.0]), [1, 0])
    with pytest.raises(ValueError, match=r"mse: predictions have shape \(3, 1\) but targets have shape \(3,\)"):
        mse(Tensor(np.ones((3, 1))), [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"binary_cross_entropy: targets must lie in \[0, 1\], got 2\.0"):
        binary_cross_entropy(Tensor([0.5]), [2.0])
    with pytest.raises(ValueError, match=r"binary_cross_entropy: predictions must be probabilities.*from_logits"):
        binary_cross_entropy(Tensor([1.5]), [1.0])
    with pytest.raises(TypeError, match=r"cross_entropy: targets must be integer class indices, got dtype float64"):
        cross_entropy(Tensor(np.ones((2, 3))), [0.0, 1.0])
    with pytest.raises(ValueError, match=r"cross_entropy: targets must lie in \[0, 2\]"):
        cross_entropy(Tensor(np.ones((2, 3))), [0, 3])
    with pytest.raises(ValueError, match=r"cross_entropy: logits must have shape \(N, C\), got \(3,\)"):
        cross_entropy(Tensor(np.ones(3)), [0])
    with pytest.raises(TypeError, match="mse: expected real numbers"):
        mse(Tensor([1.0]), ["a"])


# -- optimizers on Tensor models -------------------------------------------------------------------
def load_into_torch(torch, model, twin_model):
    """Copy a chainrule Sequential's weights into a torch Sequential (torch stores weight transposed)."""
    ours = [m for m in model if isinstance(m, Linear)]
    theirs = [m for m in twin_model if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        for mine, other in zip(ours, theirs):
            other.weight.copy_(torch.tensor(mine.weight.data.T))
            other.bias.copy_(torch.tensor(mine.bias.data))


def in_our_layout(twin_model, what: str):
    """The torch model's parameters (``what='data'``) or their gradients (``'grad'``) as arrays in chainrule's
    order and layout: each Linear's weight as (nin, nout) (torch stores (nout, nin)), then its bias."""
    arrays = []
    for m in twin_model:
        if hasattr(m, "weight"):
            arrays += [getattr(m.weight, what).detach().numpy().T, getattr(m.bias, what).detach().numpy()]
    return arrays


@pytest.mark.parametrize(
    "make, make_torch",
    [
        (lambda ps: SGD(ps, lr=0.1), lambda torch, ps: torch.optim.SGD(ps, lr=0.1)),
        (
            lambda ps: SGD(ps, lr=0.05, momentum=0.9, weight_decay=1e-2),
            lambda torch, ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=1e-2),
        ),
        (lambda ps: Adam(ps, lr=0.01), lambda torch, ps: torch.optim.Adam(ps, lr=0.01)),
        (
            lambda ps: Adam(ps, lr=0.01, weight_decay=1e-2),
            lambda torch, ps: torch.optim.Adam(ps, lr=0.01, weight_decay=1e-2),
        ),
        (lambda ps: AdamW(ps, lr=0.01), lambda torch, ps: torch.optim.AdamW(ps, lr=0.01)),
    ],
    ids=["sgd", "sgd-momentum-decay", "adam", "adam-l2", "adamw"],
)
def test_optimizers_train_tensor_models_like_torch_optim(torch, make, make_torch):
    model = Sequential(Linear(3, 5, rng=0), Tanh(), Linear(5, 2, rng=1))
    twin_model = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))
    load_into_torch(torch, model, twin_model)
    optimizer, torch_optimizer = make(model.parameters()), make_torch(torch, list(twin_model.parameters()))
    x = RNG.standard_normal((8, 3))
    targets = np.array([0, 1, 1, 0, 1, 0, 0, 1])
    losses = []
    for _ in range(5):
        optimizer.zero_grad()
        loss = cross_entropy(model(Tensor(x)), targets)
        loss.backward()
        optimizer.step()
        torch_optimizer.zero_grad()
        expected = torch.nn.functional.cross_entropy(twin_model(torch.tensor(x)), torch.tensor(targets))
        expected.backward()
        torch_optimizer.step()
        assert loss.item() == pytest.approx(expected.item(), rel=TOL)
        losses.append(loss.item())
    for mine, reference in zip(model.parameters(), in_our_layout(twin_model, "data")):
        np.testing.assert_allclose(mine.data, reference, rtol=TOL, atol=1e-13)
    assert losses[-1] < losses[0]


def two_moons(n: int, seed: int):
    """Two interleaved half circles with labels -1 and +1 (the shape of scikit-learn's make_moons)."""
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, np.pi, n)
    upper = rng.random(n) < 0.5
    x = np.where(upper, np.cos(angle), 1 - np.cos(angle))
    y = np.where(upper, np.sin(angle), 0.5 - np.sin(angle))
    points = np.stack([x, y], axis=1) + rng.normal(0, 0.1, (n, 2))
    return points, np.where(upper, 1.0, -1.0).reshape(-1, 1)


def test_moons_demo_step_trains():
    X, y = two_moons(100, seed=1)
    model = Sequential(Linear(2, 16, rng=0), ReLU(), Linear(16, 16, rng=1), ReLU(), Linear(16, 1, rng=2))
    optimizer = SGD(model.parameters(), lr=0.5)
    inputs = Tensor(X)
    first = None
    for _ in range(60):
        loss = hinge(model(inputs), y) + 1e-4 * l2_penalty(model.parameters())
        first = loss.item() if first is None else first
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    accuracy = ((model(inputs).data > 0) == (y > 0)).mean()
    assert loss.item() < 0.5 * first
    assert accuracy >= 0.85
