"""Tensor layers, the Tensor branches of the losses at their edges, and the optimizers on Tensor models,
against PyTorch (each loss on random inputs is in the table of operations, ``op_table.py``).

The torch comparisons are ``oracle.py``'s: ``check_against_torch`` for a function of Tensors (to its default
1e-10), ``TorchTwin`` for a whole network.
"""

import numpy as np
import pytest
from oracle import TorchTwin, assert_close, check_against_torch

from chainrule import Tensor, Value
from chainrule.losses import binary_cross_entropy, cross_entropy, hinge, l2_penalty, mse
from chainrule.nn import Identity, Linear, Module, ReLU, Sequential, Sigmoid, Tanh
from chainrule.optim import SGD, Adam, AdamW

TOL = 1e-10


RNG = np.random.default_rng(2024)


# -- Linear ----------------------------------------------------------------------------------------
def test_linear_is_x_at_weight_plus_bias(torch):
    layer = Linear(3, 2, rng=0)
    check_against_torch(
        torch,
        lambda x, weight, bias: (layer(x).tanh() ** 2).sum(),
        lambda x, weight, bias: (torch.nn.functional.linear(x, weight.T, bias).tanh() ** 2).sum(),
        [RNG.standard_normal((5, 3)), layer.weight, layer.bias],
        what="Linear",
    )


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
    x = RNG.standard_normal((4, 3))
    weights = RNG.standard_normal((4, 3))
    check_against_torch(
        torch,
        lambda x: (module(x) * weights).sum(),
        lambda tx: (getattr(torch, torch_name)(tx) * torch.tensor(weights)).sum(),
        [x],
        what=torch_name,
    )
    assert isinstance(module, Module) and module.parameters() == []


def test_identity_returns_its_input():
    x = Tensor([1.0, 2.0])
    assert Identity()(x) is x


def test_sequential_matches_a_torch_twin(torch):
    model = Sequential(Linear(2, 8, rng=0), ReLU(), Linear(8, 8, rng=1), Tanh(), Linear(8, 1, rng=2), Sigmoid())
    twin = TorchTwin(torch, model, ["relu", "tanh", "sigmoid"])
    x = RNG.standard_normal((6, 2))
    out, expected = model(Tensor(x)).sum(), twin(x).sum()
    assert_close(out.data, expected, rtol=TOL, atol=1e-14, what="output")
    out.backward()
    expected.backward()
    for i, (mine, reference) in enumerate(zip(model.parameters(), twin.params)):
        assert_close(mine.grad, reference.grad, rtol=TOL, atol=1e-14, what=f"gradient of parameter {i}")


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
def test_binary_cross_entropy_from_logits_matches_torch_even_for_large_and_zero_logits(torch):
    # 0 and +-1e-12: where the stable formula's two branches meet, the slope must still be sigmoid(x) - y
    logits = np.array([-800.0, -3.0, 0.0, 2.5, 800.0, 1e-12, -1e-12, 0.0, 0.0])
    targets = np.array([0.0, 1.0, 0.5, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0])
    check_against_torch(
        torch,
        lambda x: binary_cross_entropy(x, targets, from_logits=True),
        lambda tx: torch.nn.functional.binary_cross_entropy_with_logits(tx, torch.tensor(targets)),
        [logits],
        what="binary_cross_entropy from logits",
    )


def test_cross_entropy_is_stable_for_huge_logits(torch):
    check_against_torch(
        torch,
        lambda z: cross_entropy(z, [1, 0]),
        lambda tz: torch.nn.functional.cross_entropy(tz, torch.tensor([1, 0])),
        [np.array([[1000.0, 0.0, -1000.0], [5000.0, 5001.0, 4999.0]])],
        what="cross_entropy of huge logits",
    )


def test_l2_penalty_matches_torch_and_is_one_node(torch):
    model = Sequential(Linear(3, 4, rng=0), ReLU(), Linear(4, 2, rng=1))
    penalty = check_against_torch(
        torch,
        lambda *params: l2_penalty(list(params)),
        lambda *params: sum((t * t).sum() for t in params),
        model.parameters(),
        what="l2_penalty",
    )
    assert penalty._op == "sumsq" and penalty._prev == tuple(model.parameters())


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
    twin = TorchTwin(torch, model, ["tanh", "linear"])
    optimizer, torch_optimizer = make(model.parameters()), make_torch(torch, twin.params)
    x = RNG.standard_normal((8, 3))
    targets = np.array([0, 1, 1, 0, 1, 0, 0, 1])
    losses = []
    for _ in range(5):
        optimizer.zero_grad()
        loss = cross_entropy(model(Tensor(x)), targets)
        loss.backward()
        optimizer.step()
        torch_optimizer.zero_grad()
        expected = torch.nn.functional.cross_entropy(twin(x), torch.tensor(targets))
        expected.backward()
        torch_optimizer.step()
        assert_close(loss.item(), expected, rtol=TOL, what="loss")
        losses.append(loss.item())
    for i, (mine, reference) in enumerate(zip(model.parameters(), twin.params)):
        assert_close(mine.data, reference, rtol=TOL, atol=1e-13, what=f"parameter {i}")
    assert losses[-1] < losses[0]


def test_sgd_momentum_with_gradients_accumulating_like_torch(torch):
    # No zero_grad between steps: each backward() adds into .grad, in both libraries. The momentum
    # buffer must be a copy of the first gradient, not the gradient array that backward() then adds into.
    model = Sequential(Linear(3, 5, rng=3), Tanh(), Linear(5, 2, rng=4))
    twin = TorchTwin(torch, model, ["tanh", "linear"])
    optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)
    torch_optimizer = torch.optim.SGD(twin.params, lr=0.1, momentum=0.9)
    x = RNG.standard_normal((6, 3))
    targets = np.array([0, 1, 1, 0, 1, 0])
    for step in range(3):
        cross_entropy(model(Tensor(x)), targets).backward()
        optimizer.step()
        torch.nn.functional.cross_entropy(twin(x), torch.tensor(targets)).backward()
        torch_optimizer.step()
        for i, (mine, reference) in enumerate(zip(model.parameters(), twin.params)):
            assert_close(mine.grad, reference.grad, rtol=0.0, atol=1e-10, what=f"step {step}: grad {i}")
            assert_close(mine.data, reference, rtol=0.0, atol=1e-10, what=f"step {step}: parameter {i}")


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


# -- a layer used twice is one set of parameters -------------------------------------------------
def shared_linear_models(torch):
    """``Sequential(lin, Tanh(), lin)`` and its torch twin, ``nn.Sequential(l, nn.Tanh(), l)`` with the same weights."""
    lin = Linear(2, 2, rng=5)
    model = Sequential(lin, Tanh(), lin)
    t_lin = torch.nn.Linear(2, 2)
    with torch.no_grad():
        t_lin.weight.copy_(torch.tensor(lin.weight.data.T))  # torch's weight is (out, in); ours is (in, out)
        t_lin.bias.copy_(torch.tensor(lin.bias.data))
    return lin, model, t_lin, torch.nn.Sequential(t_lin, torch.nn.Tanh(), t_lin)


def test_a_shared_layer_is_listed_once_like_torch(torch):
    lin, model, t_lin, t_model = shared_linear_models(torch)
    assert model.parameters() == [lin.weight, lin.bias]
    assert len(list(t_model.parameters())) == 2
    assert Sequential(lin, Sequential(Tanh(), lin), lin).parameters() == [lin.weight, lin.bias]
    # the L2 penalty counts each weight once
    penalty = l2_penalty(model.parameters())
    expected = sum((p * p).sum() for p in t_model.parameters())
    assert_close(penalty.item(), expected, rtol=TOL, what="l2_penalty of a shared layer")


@pytest.mark.parametrize(
    "ours, theirs, options",
    [
        (SGD, "SGD", {"lr": 0.1}),
        (SGD, "SGD", {"lr": 0.05, "momentum": 0.9, "weight_decay": 1e-2}),
        (Adam, "Adam", {"lr": 0.05}),
        (AdamW, "AdamW", {"lr": 0.05, "weight_decay": 0.1}),
    ],
    ids=["sgd", "sgd-momentum-decay", "adam", "adamw"],
)
def test_a_shared_layer_trains_like_torch(torch, ours, theirs, options):
    lin, model, t_lin, t_model = shared_linear_models(torch)
    optimizer = ours(model.parameters(), **options)
    t_optimizer = getattr(torch.optim, theirs)(t_model.parameters(), **options)
    x, targets = RNG.standard_normal((6, 2)), RNG.standard_normal((6, 2))
    for step in range(5):
        optimizer.zero_grad()
        loss = mse(model(Tensor(x)), targets, reduction="mean")
        loss.backward()
        optimizer.step()
        t_optimizer.zero_grad()
        expected = torch.nn.functional.mse_loss(t_model(torch.tensor(x)), torch.tensor(targets))
        expected.backward()
        t_optimizer.step()
        assert_close(loss.item(), expected, rtol=TOL, what=f"step {step}: loss")
        assert_close(lin.weight.data, t_lin.weight.T, rtol=0.0, atol=1e-10, what=f"step {step}: weight")
        assert_close(lin.bias.data, t_lin.bias, rtol=0.0, atol=1e-10, what=f"step {step}: bias")


def test_sequential_of_a_class_instead_of_a_layer_is_a_clear_error():
    with pytest.raises(
        TypeError, match=r"^Sequential: item 1 is the class ReLU, not a layer; make one, e.g. ReLU\(...\)"
    ):
        Sequential(Linear(2, 3, rng=0), ReLU, Linear(3, 1, rng=1))


def test_linear_seed_must_not_be_negative():
    with pytest.raises(ValueError, match=r"^Linear: an int seed for rng must be >= 0, got -1"):
        Linear(2, 2, rng=-1)
    np.testing.assert_array_equal(Linear(2, 2, rng=np.int64(3)).weight.data, Linear(2, 2, rng=3).weight.data)


def test_layer_input_and_dtype_errors_name_the_layer():
    with pytest.raises(
        TypeError,
        match=r"^Linear: dtype must be a floating type such as np\.float32 or np\.float64, got dtype\('int32'\)",
    ):
        Linear(3, 2, dtype=np.int32)
    with pytest.raises(TypeError, match=r"^Linear: dtype must be a floating type .*got 'banana'"):
        Linear(3, 2, dtype="banana")
    with pytest.raises(TypeError, match=r"^Linear\(3, 2\): expected real numbers, got an array of dtype object"):
        Linear(3, 2, rng=0)([Value(1.0), Value(2.0), Value(3.0)])
    with pytest.raises(TypeError, match=r"^ReLU\(\): expected real numbers, got an array of dtype <U1"):
        ReLU()(["a"])
    with pytest.raises(TypeError, match=r"^Sequential: item 0 is not a module \(got list\).*Sequential\(\*layers\)"):
        Sequential([Linear(2, 3, rng=0), ReLU()])


def test_layers_take_lists_and_arrays_as_constants(torch):
    layer = Linear(3, 2, rng=0, dtype="float32")
    assert layer.weight.dtype == np.float32
    x = [[0.5, -1.0, 2.0]]
    out = layer(x)
    assert out.dtype == np.float32 and out.shape == (1, 2)
    expected = torch.tensor(x, dtype=torch.float32) @ torch.tensor(layer.weight.data) + torch.tensor(layer.bias.data)
    assert_close(out.data, expected, rtol=1e-6, what="float32 Linear of a list")
    assert_close(Tanh()([0.5, -2.0]).data, torch.tanh(torch.tensor([0.5, -2.0])), rtol=1e-15, what="Tanh of a list")
