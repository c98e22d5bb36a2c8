"""The makemore lecture's layers: Embedding, BatchNorm1d, Dropout, Flatten, Linear's Kaiming option, and the
buffers (``register_buffer``) that carry batch norm's running statistics. PyTorch float64 is the oracle
(``torch.nn.Embedding``, ``BatchNorm1d``, ``Flatten``); ``chainrule.gradcheck`` checks every gradient."""

from __future__ import annotations

import math

import numpy as np
import pytest
from oracle import assert_close

import chainrule
from chainrule import Tensor, gradcheck
from chainrule.losses import cross_entropy
from chainrule.nn import BatchNorm1d, Dropout, Embedding, Flatten, Linear, Module, Sequential, Tanh
from chainrule.optim import SGD

TOL = 1e-10
RNG = np.random.default_rng(11)


# -- Embedding -------------------------------------------------------------------------------------
def test_embedding_looks_up_rows_and_adds_gradients_of_repeated_indices(torch):
    emb = Embedding(7, 3, rng=0)
    theirs = torch.nn.Embedding(7, 3)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(emb.weight.data))
    X = np.array([[0, 1, 1], [6, 1, 0], [2, 2, 2], [1, 1, 1]])  # index 1 six times, 2 three times, 3 to 5 never
    upstream = RNG.standard_normal((4, 3, 3))
    out = emb(X)
    out.backward(upstream)
    expected = theirs(torch.tensor(X))
    expected.backward(torch.tensor(upstream))
    assert out.shape == (4, 3, 3)
    assert_close(out.data, expected, TOL, what="Embedding output")
    assert_close(emb.weight.grad, theirs.weight.grad, TOL, what="Embedding weight gradient")
    assert not emb.weight.grad[3:6].any()


def test_embedding_takes_any_index_shape_lists_and_integer_valued_tensors():
    emb = Embedding(5, 2, rng=1)
    assert emb(3).shape == (2,)
    assert emb([4, 0]).shape == (2, 2)
    assert emb(np.zeros((2, 3, 4), dtype=np.int32)).shape == (2, 3, 4, 2)
    assert_close(emb(Tensor([[1.0, 4.0]])).data, emb.weight.data[[[1, 4]]], 0.0)


def test_embedding_gradcheck():
    emb = Embedding(4, 3, rng=2)
    X = np.array([[0, 3], [3, 3], [1, 0]])
    coefficients = RNG.standard_normal((3, 2, 3))
    assert gradcheck(lambda w: (emb(X).tanh() * coefficients).sum(), [emb.weight])


def test_embedding_initialisation_is_standard_normal_and_seeded():
    weight = Embedding(1000, 50, rng=3).weight
    assert weight.shape == (1000, 50) and weight.requires_grad
    assert abs(weight.data.mean()) < 0.01 and abs(weight.data.std() - 1.0) < 0.01
    assert np.array_equal(weight.data, Embedding(1000, 50, rng=3).weight.data)
    assert Embedding(3, 2, dtype=np.float32).weight.dtype == np.float32


@pytest.mark.parametrize(
    "indices, error, match",
    [
        (np.array([5]), IndexError, r"indices must lie in \[0, 4\], got values from 5 to 5"),
        (np.array([-1]), IndexError, r"indices must lie in \[0, 4\]"),
        (Tensor([1.5]), TypeError, r"indices must hold whole numbers \(integer class indices\), got 1\.5 in a Tensor"),
        (np.array([True]), TypeError, r"indices must be integer class indices, got dtype bool"),
        (np.array([1.0]), TypeError, r"indices must be integer class indices, got dtype float64"),
        (None, TypeError, r"indices are None"),
    ],
)
def test_embedding_refuses_what_is_not_an_index(indices, error, match):
    with pytest.raises(error, match=r"^Embedding\(5, 2\): " + match):
        Embedding(5, 2, rng=0)(indices)


# -- BatchNorm1d -----------------------------------------------------------------------------------
def _batchnorm_twins(torch, shape_c: int, **kwargs):
    ours = BatchNorm1d(shape_c, **kwargs)
    theirs = torch.nn.BatchNorm1d(shape_c, **kwargs)
    if ours.affine:
        ours.weight.data = RNG.standard_normal(shape_c)
        ours.bias.data = RNG.standard_normal(shape_c)
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(ours.weight.data))
            theirs.bias.copy_(torch.tensor(ours.bias.data))
    return ours, theirs


@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
@pytest.mark.parametrize("shape", [(8, 4), (5, 4, 3)])
@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm_matches_torch_in_training_and_in_eval(torch, shape, momentum, affine):
    ours, theirs = _batchnorm_twins(torch, 4, momentum=momentum, affine=affine)
    for step in range(4):
        x = RNG.standard_normal(shape) * 3.0 + 1.0 + step  # far from the initial running statistics
        upstream = RNG.standard_normal(shape)
        X = Tensor(x, requires_grad=True)
        out = ours(X)
        out.backward(upstream)
        XT = torch.tensor(x, requires_grad=True)
        expected = theirs(XT)
        expected.backward(torch.tensor(upstream))
        assert_close(out.data, expected, TOL, 1e-13, what=f"output, step {step}")
        assert_close(X.grad, XT.grad, 1e-9, 1e-12, what=f"input gradient, step {step}")
        if affine:
            assert_close(ours.weight.grad, theirs.weight.grad, TOL, 1e-12, what=f"weight gradient, step {step}")
            assert_close(ours.bias.grad, theirs.bias.grad, TOL, 1e-12, what=f"bias gradient, step {step}")
            ours.zero_grad()
            theirs.zero_grad()
        assert_close(ours.running_mean.data, theirs.running_mean, TOL, 1e-14, what=f"running mean, step {step}")
        assert_close(ours.running_var.data, theirs.running_var, TOL, 1e-14, what=f"running var, step {step}")
        assert ours.num_batches_tracked.data == theirs.num_batches_tracked.item() == step + 1
    ours.eval()
    theirs.eval()
    x = RNG.standard_normal(shape)
    X, XT = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = ours(X), theirs(XT)
    assert_close(out.data, expected, TOL, 1e-13, what="eval output")
    out.backward(np.ones(shape))
    expected.backward(torch.ones(shape))
    assert_close(X.grad, XT.grad, TOL, 1e-13, what="eval input gradient")
    assert ours.num_batches_tracked.data == 4  # eval leaves the running statistics alone
    assert_close(ours(x[:1]).data, theirs(torch.tensor(x[:1])), TOL, 1e-13, what="one example in eval")


def test_batchnorm_gradcheck_in_training_and_eval():
    bn = BatchNorm1d(3)
    bn.weight.data = RNG.standard_normal(3)
    bn.bias.data = RNG.standard_normal(3)
    x = Tensor(RNG.standard_normal((6, 3)), requires_grad=True)
    coefficients = RNG.standard_normal((6, 3))
    assert gradcheck(lambda x, w, b: (bn(x).tanh() * coefficients).sum(), [x, bn.weight, bn.bias])
    bn.eval()
    assert gradcheck(lambda x, w, b: (bn(x).tanh() * coefficients).sum(), [x, bn.weight, bn.bias])


def test_batchnorm_running_statistics_are_buffers_named_as_in_torch(torch):
    ours, theirs = _batchnorm_twins(torch, 5)
    assert ours.parameters() == [ours.weight, ours.bias]
    assert [name for name, _ in ours.named_buffers()] == ["running_mean", "running_var", "num_batches_tracked"]
    assert not ours.running_mean.requires_grad
    assert list(ours.state_dict()) == list(theirs.state_dict())
    model = Sequential(Linear(3, 5, rng=0), BatchNorm1d(5), Tanh(), Linear(5, 2, rng=1))
    torch_model = torch.nn.Sequential(
        torch.nn.Linear(3, 5), torch.nn.BatchNorm1d(5), torch.nn.Tanh(), torch.nn.Linear(5, 2)
    )
    assert list(model.state_dict()) == list(torch_model.state_dict())
    # torch's statistics load into ours (strict), the int64 count included
    theirs(torch.tensor(RNG.standard_normal((10, 5))))
    ours.load_state_dict(theirs.state_dict())
    assert_close(ours.running_var.data, theirs.running_var, 0.0)
    assert ours.num_batches_tracked.data == 1
    # an optimizer never moves a buffer
    optimizer = SGD(model.parameters(), lr=0.1)
    before = model[1].running_mean.data.copy()
    model.eval()
    cross_entropy(model(RNG.standard_normal((4, 3))), [0, 1, 1, 0]).backward()
    optimizer.step()
    assert np.array_equal(model[1].running_mean.data, before)


def test_a_model_in_training_with_batchnorm_follows_torch(torch):
    model = Sequential(
        Embedding(27, 4, rng=0),
        Flatten(),
        Linear(12, 16, bias=False, rng=1),
        BatchNorm1d(16),
        Tanh(),
        Linear(16, 27, rng=2),
    )
    twin = torch.nn.Sequential(
        torch.nn.Embedding(27, 4),
        torch.nn.Flatten(),
        torch.nn.Linear(12, 16, bias=False),
        torch.nn.BatchNorm1d(16),
        torch.nn.Tanh(),
        torch.nn.Linear(16, 27),
    )
    twin.load_state_dict(
        {k: torch.tensor(v.T if k in ("2.weight", "5.weight") else v) for k, v in model.state_dict().items()}
    )
    ours_opt, their_opt = SGD(model.parameters(), lr=0.1), torch.optim.SGD(twin.parameters(), lr=0.1)
    for step in range(5):
        X, y = RNG.integers(0, 27, (32, 3)), RNG.integers(0, 27, 32)
        loss = cross_entropy(model(X), y)
        expected = torch.nn.functional.cross_entropy(twin(torch.tensor(X)), torch.tensor(y))
        assert_close(loss.data, expected, TOL, what=f"loss at step {step}")
        model.zero_grad()
        their_opt.zero_grad()
        loss.backward()
        expected.backward()
        ours_opt.step()
        their_opt.step()
    model.eval()
    twin.eval()
    X = RNG.integers(0, 27, (10, 3))
    assert_close(model(X).data, twin(torch.tensor(X)), 1e-9, 1e-12, what="eval logits after training")


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: BatchNorm1d(0), ValueError, r"^BatchNorm1d: num_features must be a positive integer"),
        (lambda: BatchNorm1d(3, eps=0), ValueError, r"^BatchNorm1d: eps must be a finite number > 0"),
        (lambda: BatchNorm1d(3, momentum=1.5), ValueError, r"^BatchNorm1d: momentum must be a number in \[0, 1\]"),
        (lambda: BatchNorm1d(3, affine="yes"), TypeError, r"^BatchNorm1d: affine must be True or False"),
        (lambda: BatchNorm1d(3)(np.zeros((4, 2))), ValueError, r"expected inputs of shape \(N, 3\) or \(N, 3, L\)"),
        (lambda: BatchNorm1d(3)(np.zeros((1, 3))), ValueError, r"training needs more than 1 value per feature"),
    ],
)
def test_batchnorm_refuses_bad_settings_and_inputs(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_register_buffer_reads_assigns_and_loads():
    class Counter(Module):
        def __init__(self):
            self.scale = Tensor([2.0], requires_grad=True)
            self.register_buffer("seen", np.zeros(2))

    c = Counter()
    assert isinstance(c.seen, Tensor) and not c.seen.requires_grad
    c.seen = np.array([1.0, 2.0])  # assigning replaces the buffer's numbers, it stays a buffer
    assert list(c.state_dict()) == ["scale", "seen"] and c.parameters() == [c.scale]
    assert_close(c.state_dict()["seen"], [1.0, 2.0], 0.0)
    with pytest.raises(ValueError, match=r"'seen' has shape \(3,\), the model's has shape \(2,\)"):
        c.load_state_dict({"scale": np.ones(1), "seen": np.ones(3)})
    with pytest.raises(ValueError, match=r"missing 'seen'"):
        c.load_state_dict({"scale": np.ones(1)})
    c.load_state_dict({"scale": np.ones(1), "seen": np.full(2, 7.0)})
    assert_close(c.seen.data, [7.0, 7.0], 0.0)
    with pytest.raises(ValueError, match=r"already has an attribute 'scale'"):
        c.register_buffer("scale", np.zeros(1))
    with pytest.raises(AttributeError, match=r"has no attribute 'missing'"):
        c.missing  # noqa: B018


def test_assigning_a_buffer_keeps_its_shape(torch):
    # The lecture calibrates batch norm by hand with bnmean = hpreact.mean(0, keepdim=True), shape (1, C).
    # Taken as it was, a (1, C) running mean went through eval() unnoticed and only failed at save (or in
    # torch, after to_torch); a scalar spread over every feature. A buffer keeps its shape, as a load does.
    bn = BatchNorm1d(3)
    h = RNG.standard_normal((10, 3))
    for wrong in (h.mean(axis=0, keepdims=True), np.zeros(5), 7.0):
        with pytest.raises(ValueError, match=r"BatchNorm1d: buffer 'running_mean' has shape \(3,\), got shape"):
            bn.running_mean = wrong
    assert_close(bn.running_mean.data, np.zeros(3), 0.0, what="a refused assignment changes nothing")
    bn.running_mean = h.mean(axis=0)
    bn.running_var = Tensor(h.var(axis=0, ddof=1))
    twin = torch.nn.BatchNorm1d(3).double()
    twin.running_mean, twin.running_var = torch.tensor(h.mean(axis=0)), torch.tensor(h.var(axis=0, ddof=1))
    x = RNG.standard_normal((4, 3))
    assert_close(bn.eval()(x).data, twin.eval()(torch.tensor(x)), 1e-12, what="eval with assigned statistics")


def test_a_parameter_assigned_over_a_buffer_becomes_a_parameter_as_in_torch(torch):
    # Assigning a Tensor that requires grad to a buffer's name kept only its numbers, in the buffer: the
    # model then used a constant that no optimizer saw, so training silently left it where it was.
    class Scale(Module):
        def __init__(self):
            self.register_buffer("scale", np.ones(2))
            self.scale = Tensor([2.0, -1.0], requires_grad=True)  # now learned

        def forward(self, x):
            return x * self.scale

    class TorchScale(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("scale", torch.ones(2))
            self.scale = torch.nn.Parameter(torch.tensor([2.0, -1.0], dtype=torch.float64))

        def forward(self, x):
            return x * self.scale

    mine, twin = Scale(), TorchScale()
    assert [n for n, _ in mine.named_parameters()] == [n for n, _ in twin.named_parameters()] == ["scale"]
    assert list(mine.state_dict()) == list(twin.state_dict()) == ["scale"] and list(mine.named_buffers()) == []
    x = RNG.standard_normal((3, 2))
    optimizer, torch_optimizer = SGD(mine.parameters(), lr=0.1), torch.optim.SGD(twin.parameters(), lr=0.1)
    for model, opt, inputs in ((mine, optimizer, Tensor(x)), (twin, torch_optimizer, torch.tensor(x))):
        (model(inputs) ** 2).sum().backward()
        opt.step()
    assert_close(mine.scale.data, twin.scale, 1e-15, what="the parameter trained")


def test_register_buffer_refuses_a_name_the_class_already_uses():
    # A buffer named "training" was shadowed by the class's flag: eval() then wrote False into the buffer
    # and the module stayed in training mode. PyTorch refuses such a name.
    class Flagged(Module):
        def __init__(self):
            self.register_buffer("training", np.zeros(1))

    with pytest.raises(ValueError, match=r"register_buffer: Flagged already has an attribute 'training'"):
        Flagged()
    with pytest.raises(ValueError, match=r"register_buffer: Linear already has an attribute 'parameters'"):
        Linear(2, 2, rng=0).register_buffer("parameters", np.zeros(1))


# -- Dropout ---------------------------------------------------------------------------------------
def test_dropout_masks_and_scales_with_a_seeded_generator():
    x = Tensor(RNG.standard_normal((50, 40)) + 5.0, requires_grad=True)
    out = Dropout(0.25, rng=7)(x)
    keep = np.random.default_rng(7).random((50, 40)) >= 0.25  # the mask the seed gives
    assert_close(out.data, x.data * keep / 0.75, 1e-15)
    out.backward(np.ones((50, 40)))
    assert_close(x.grad, keep / 0.75, 1e-15, what="gradient = mask * scale")
    assert np.array_equal(Dropout(0.25, rng=7)(x).data, out.data)  # reproducible
    d = Dropout(0.25, rng=7)
    assert not np.array_equal(d(x).data, d(x).data)  # a new mask each call


def test_dropout_keeps_the_mean_and_is_the_identity_in_eval():
    x = Tensor(np.ones(200_000))
    out = Dropout(0.3, rng=0)(x).data
    assert abs(out.mean() - 1.0) < 0.01
    assert abs((out == 0).mean() - 0.3) < 0.005
    d = Dropout(0.3, rng=0).eval()
    assert d(x) is x
    assert Dropout(0.0)(x) is x
    assert not Dropout(1.0)(x).data.any()


@pytest.mark.parametrize("p", [-0.1, 1.5, "0.5", True, math.nan])
def test_dropout_validates_p(p):
    with pytest.raises(ValueError, match=r"^Dropout: p \(the probability of zeroing an entry\) must be in \[0, 1\]"):
        Dropout(p)


# -- Flatten ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dims", [(1, -1), (0, -1), (1, 2), (-2, -1), (2, 2), (0, 0)])
def test_flatten_matches_torch(torch, dims):
    x = RNG.standard_normal((2, 3, 4, 5))
    ours, theirs = Flatten(*dims)(Tensor(x, requires_grad=True)), torch.nn.Flatten(*dims)(torch.tensor(x))
    assert ours.shape == tuple(theirs.shape)
    assert_close(ours.data, theirs, 0.0)
    small = Tensor(x[:1, :2, :2, :2], requires_grad=True)
    coefficients = RNG.standard_normal(Flatten(*dims)(small).shape)
    assert gradcheck(lambda t: (Flatten(*dims)(t).tanh() * coefficients).sum(), [small])


def test_flatten_refuses_dimensions_out_of_range():
    with pytest.raises(IndexError, match=r"^flatten: start_dim=3 is out of range for shape \(2, 3\)"):
        Flatten(3)(np.zeros((2, 3)))  # PyTorch's IndexError; a ValueError too, as chainrule reports axes
    with pytest.raises(ValueError, match=r"start_dim=2 comes after end_dim=1"):
        Flatten(2, 1)(np.zeros((2, 3, 4)))


# -- Linear's Kaiming initialisation -----------------------------------------------------------------
def test_linear_kaiming_init_is_scaled_normal_and_leaves_the_default_alone():
    layer = Linear(200, 300, rng=0, init="kaiming", gain="tanh")
    assert abs(layer.weight.data.std() - (5 / 3) / math.sqrt(200)) < 0.01 * (5 / 3) / math.sqrt(200) * 3
    assert not layer.bias.data.any()
    assert Linear(200, 300, rng=0, init="kaiming", gain="relu").weight.data.std() == pytest.approx(
        math.sqrt(2 / 200), rel=0.02
    )
    assert_close(
        Linear(4, 3, rng=5, init="kaiming", gain=2.0).weight.data,
        np.random.default_rng(5).standard_normal((4, 3)) * 2.0 / 2.0,
        1e-15,
    )
    # the default draws exactly what it drew before
    gen = np.random.default_rng(9)
    default = Linear(4, 3, rng=9)
    assert np.array_equal(default.weight.data, gen.uniform(-0.5, 0.5, size=(4, 3)))
    assert np.array_equal(default.bias.data, gen.uniform(-0.5, 0.5, size=(3,)))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"init": "xavier"}, "init must be 'uniform' or 'kaiming'"),
        ({"init": "kaiming", "gain": "elu"}, "gain must be a positive number"),
        ({"init": "kaiming", "gain": -1.0}, "gain must be a positive number"),
    ],
)
def test_linear_refuses_an_unknown_init_or_gain(kwargs, match):
    with pytest.raises(ValueError, match=r"^Linear: " + match):
        Linear(3, 2, **kwargs)


# -- saving and loading ------------------------------------------------------------------------------
def test_the_new_layers_save_and_load(tmp_path):
    model = Sequential(
        Embedding(27, 10, rng=0),
        Flatten(),
        Linear(30, 20, bias=False, init="kaiming", rng=1),
        BatchNorm1d(20, momentum=0.2),
        Tanh(),
        Dropout(0.2, rng=1),
        Linear(20, 27, rng=2),
    )
    X = RNG.integers(0, 27, (16, 3))
    model(X)  # one training step's statistics
    path = chainrule.save(model, tmp_path / "m.safetensors")
    loaded = chainrule.load(path)
    assert repr(loaded) == repr(model)
    assert loaded[3].momentum == 0.2
    for name, array in model.state_dict().items():
        assert np.array_equal(loaded.state_dict()[name], array), name
    model.eval()
    loaded.eval()
    assert np.array_equal(loaded(X).data, model(X).data)


def test_batchnorm_counts_its_batches_past_what_float16_can_count():
    # 2048 + 1 rounds to 2048 in float16: the count is kept in float64 whatever the layer's dtype, so a
    # cumulative average (momentum=None) keeps weighting each batch by 1 / count.
    bn = BatchNorm1d(2, momentum=None, dtype=np.float16)
    x = Tensor(np.array([[1.0, 2.0], [3.0, 6.0]]), dtype=np.float16)
    for _ in range(2100):
        bn(x)
    assert bn.num_batches_tracked.data == 2100.0
    assert bn.running_mean.dtype == np.float16
    np.testing.assert_array_equal(bn.running_mean.data, np.array([2.0, 4.0], dtype=np.float16))
