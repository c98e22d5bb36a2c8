"""``chainrule.optim`` on scalar Values against ``torch.optim`` (float64): the same objective, the same
starting point, several steps; the parameters must agree to 1e-10.
"""

from __future__ import annotations

import random

import pytest
from oracle import TorchTwin, assert_close

from chainrule import Value
from chainrule.nn import MLP
from chainrule.optim import SGD, Adam, AdamW

STEPS = 12


def objective(params):
    """A small non-quadratic objective whose gradient changes every step; works on Values and on tensors."""
    x, y, z = params
    return (x - 1.5) ** 2 + 3 * (y + 0.5) ** 2 + (x * y).tanh() + (z * z + 1).log() + 0.1 * z**4


def train_side_by_side(params, optimizer, t_params, t_optimizer) -> None:
    """``STEPS`` steps on ``objective`` with both optimizers; after each, the parameters agree to 1e-10."""
    for _ in range(STEPS):
        optimizer.zero_grad()
        objective(params).backward()
        optimizer.step()

        t_optimizer.zero_grad()
        objective(t_params).backward()
        t_optimizer.step()

        assert_close([p.data for p in params], [t.item() for t in t_params], rtol=0.0, atol=1e-10, what="parameters")


CONFIGS = [
    (SGD, "SGD", {"lr": 0.05}),
    (SGD, "SGD", {"lr": 0.05, "momentum": 0.9}),
    (SGD, "SGD", {"lr": 0.05, "weight_decay": 0.1}),
    (SGD, "SGD", {"lr": 0.02, "momentum": 0.5, "weight_decay": 0.01}),
    (Adam, "Adam", {"lr": 0.1}),
    (Adam, "Adam", {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6}),
    (Adam, "Adam", {"lr": 0.1, "weight_decay": 0.1}),
    (AdamW, "AdamW", {"lr": 0.1}),
    (AdamW, "AdamW", {"lr": 0.05, "weight_decay": 0.3, "betas": (0.85, 0.95)}),
]


@pytest.mark.parametrize("ours, theirs, options", CONFIGS, ids=lambda c: str(c) if isinstance(c, dict) else None)
def test_optimizer_follows_torch(torch, ours, theirs, options):
    start = [0.3, -1.2, 2.0]
    params = [Value(x) for x in start]
    t_params = [torch.tensor(x, requires_grad=True) for x in start]
    train_side_by_side(params, ours(params, **options), t_params, getattr(torch.optim, theirs)(t_params, **options))
    # the parameters moved, and downhill
    assert [p.data for p in params] != start
    assert objective(params).data < objective([Value(x) for x in start]).data


def test_adamw_default_weight_decay_is_torchs(torch):
    start = [0.7, -0.4, 1.1]
    params = [Value(x) for x in start]
    t_params = [torch.tensor(x, requires_grad=True) for x in start]
    train_side_by_side(params, AdamW(params, lr=0.1), t_params, torch.optim.AdamW(t_params, lr=0.1))


def test_training_an_mlp_with_adam_follows_torch(torch):
    model = MLP(2, [4, 1], rng=random.Random(0))
    twin = TorchTwin(torch, model, ["tanh", "tanh"])
    xs, ys = [[0.5, -1.0], [1.0, 2.0], [-1.5, 0.3]], [1.0, -1.0, 1.0]
    optimizer = Adam(model.parameters(), lr=0.05)
    t_optimizer = torch.optim.Adam(twin.params, lr=0.05)
    for _ in range(10):
        optimizer.zero_grad()
        sum((model(x) - y) ** 2 for x, y in zip(xs, ys)).backward()
        optimizer.step()
        t_optimizer.zero_grad()
        sum((twin(x)[0] - y) ** 2 for x, y in zip(xs, ys)).backward()
        t_optimizer.step()
    assert_close([p.data for p in model.parameters()], twin.mlp_order("data"), rtol=0.0, atol=1e-10, what="weights")


def test_sgd_step_is_the_notes_update():
    params = [Value(1.0), Value(-2.0)]
    params[0].grad, params[1].grad = 0.5, -4.0
    SGD(params, lr=0.05).step()
    # p.data += -0.05 * p.grad
    assert [p.data for p in params] == [1.0 + -0.05 * 0.5, -2.0 + -0.05 * -4.0]


def test_zero_grad_resets_gradients():
    params = [Value(1.0), Value(2.0)]
    optimizer = Adam(params, lr=0.1)
    (params[0] * params[1]).backward()
    assert [p.grad for p in params] == [2.0, 1.0]
    optimizer.zero_grad()
    assert [p.grad for p in params] == [0.0, 0.0]
    assert all(type(p.grad) is float for p in params)
    # after zero_grad, a new backward gives a fresh gradient, not an accumulated one
    (params[0] * params[1]).backward()
    assert [p.grad for p in params] == [2.0, 1.0]


def test_without_zero_grad_gradients_accumulate():
    params = [Value(3.0)]
    (params[0] * params[0]).backward()
    (params[0] * params[0]).backward()
    assert params[0].grad == 12.0
