"""Embedding, BatchNorm1d and Flatten across the bridge to PyTorch (``to_torch``, ``from_torch``): the same
outputs, gradients and running statistics on both sides; Dropout refused both ways."""

from __future__ import annotations

import numpy as np
import pytest
from oracle import assert_close

from chainrule import Tensor
from chainrule.interop import from_torch, to_torch
from chainrule.losses import cross_entropy
from chainrule.nn import BatchNorm1d, Dropout, Embedding, Flatten, Linear, Sequential, Tanh

RNG = np.random.default_rng(3)


def lecture_model():
    model = Sequential(
        Embedding(27, 4, rng=0),
        Flatten(),
        Linear(12, 16, bias=False, rng=1),
        BatchNorm1d(16, momentum=0.2),
        Tanh(),
        Linear(16, 27, rng=2),
    )
    model[3].weight.data = RNG.standard_normal(16)
    model(RNG.integers(0, 27, (20, 3)))  # running statistics away from their start
    return model


@pytest.mark.parametrize("training", [True, False])
def test_to_torch_gives_the_same_network(torch, training):
    model = lecture_model().train(training)
    net = to_torch(model)
    assert [type(m).__name__ for m in net] == ["Embedding", "Flatten", "Linear", "BatchNorm1d", "Tanh", "Linear"]
    assert net[3].training is training and net[3].momentum == 0.2
    assert_close(net[3].running_var, model[3].running_var.data, 0.0)
    assert net[3].num_batches_tracked.item() == 1
    X, y = RNG.integers(0, 27, (32, 3)), RNG.integers(0, 27, 32)
    loss = cross_entropy(model(X), y)
    expected = torch.nn.functional.cross_entropy(net(torch.tensor(X)), torch.tensor(y))
    assert_close(loss.data, expected, 1e-12)
    loss.backward()
    expected.backward()
    for (name, p), (their_name, q) in zip(model.named_parameters(), net.named_parameters()):
        assert name == their_name
        assert_close(p.grad, q.grad.T if name.endswith("2.weight") or name == "5.weight" else q.grad, 1e-10, 1e-13)
    assert_close(net[3].running_mean, model[3].running_mean.data, 1e-12, 1e-15)


def test_from_torch_gives_the_same_network_and_a_round_trip_keeps_everything(torch):
    net = torch.nn.Sequential(
        torch.nn.Embedding(10, 3),
        torch.nn.Flatten(),
        torch.nn.Linear(6, 5),
        torch.nn.BatchNorm1d(5, eps=1e-3, momentum=None),
        torch.nn.Tanh(),
    )
    net(torch.randint(0, 10, (8, 2)))
    net.eval()
    model = from_torch(net)
    assert repr(model[3]) == "BatchNorm1d(5, eps=0.001, momentum=None)" and not model[3].training
    for name, array in net.state_dict().items():
        assert_close(model.state_dict()[name], array.numpy().T if name == "2.weight" else array.numpy(), 0.0)
    X = np.array([[1, 2], [9, 0], [3, 3]])
    assert_close(model(X).data, net(torch.tensor(X)), 1e-12, 1e-15)
    back = to_torch(model)
    for name, array in net.state_dict().items():
        assert torch.equal(back.state_dict()[name], array), name


def test_dropout_is_refused_both_ways(torch):
    with pytest.raises(TypeError, match=r"^to_torch: cannot convert Dropout\(p=0.5\).*different generators"):
        to_torch(Sequential(Linear(2, 2, rng=0), Dropout(0.5)))
    with pytest.raises(TypeError, match=r"^from_torch: cannot convert Dropout.*replace it with torch.nn.Identity"):
        from_torch(torch.nn.Dropout(0.5))
    with pytest.raises(TypeError, match=r"^from_torch: cannot convert an Embedding with padding_idx"):
        from_torch(torch.nn.Embedding(4, 2, padding_idx=0))


def test_float32_layers_stay_float32(torch):
    net = to_torch(Sequential(Embedding(5, 2, rng=0, dtype=np.float32), BatchNorm1d(2, dtype=np.float32)))
    assert net[0].weight.dtype == net[1].running_var.dtype == torch.float32
    back = from_torch(net)
    assert back[0].weight.dtype == back[1].running_mean.dtype == np.float32
    assert isinstance(back[1].running_mean, Tensor)


def _with_dtype(module, dtype):
    for t in [*module.parameters(), *(buffer for _, buffer in module.named_buffers())]:
        if t is not getattr(module, "num_batches_tracked", None):
            t.data = t.data.astype(dtype)
    return module


@pytest.mark.parametrize("make", [lambda: Linear(2, 3, rng=0), lambda: Embedding(3, 2, rng=0), lambda: BatchNorm1d(3)])
def test_a_parameter_type_torch_lacks_is_refused_by_every_layer_in_the_same_words(torch, make):
    # Embedding and BatchNorm1d fell back to float64 without a word; Linear already refused.
    module = _with_dtype(make(), np.longdouble)
    with pytest.raises(TypeError, match=rf"^to_torch: torch has no {np.dtype(np.longdouble)} type; make the"):
        to_torch(module)
    net = to_torch(_with_dtype(module, np.float64))  # as the message says
    assert {p.dtype for p in net.parameters()} == {torch.float64}


@pytest.mark.parametrize("make", [lambda: Linear(2, 3, rng=0), lambda: Embedding(3, 2, rng=0), lambda: BatchNorm1d(3)])
def test_every_layer_maps_float_types_the_same_way(torch, make):
    # to_torch keeps float16, float32 and float64; from_torch keeps float32 and makes the others float64.
    for ours, theirs, back in [
        (np.float16, torch.float16, np.float64),
        (np.float32, torch.float32, np.float32),
        (np.float64, torch.float64, np.float64),
    ]:
        net = to_torch(_with_dtype(make(), ours))
        assert {p.dtype for p in net.parameters()} == {theirs}
        assert {p.dtype for p in from_torch(net).parameters()} == {np.dtype(back)}


def test_from_torch_keeps_the_batch_count_in_float64_whatever_the_dtype(torch):
    theirs = torch.nn.BatchNorm1d(3)
    theirs.num_batches_tracked += 5001  # not a float16 number: float16 holds whole numbers exactly only to 2048
    ours = from_torch(torch.nn.Sequential(theirs), dtype=np.float16)[0]
    assert ours.running_mean.dtype == np.float16
    assert ours.num_batches_tracked.dtype == np.float64 and ours.num_batches_tracked.data == 5001


@pytest.mark.parametrize("vocab, dim", [(4, 4), (5, 3)])
def test_an_embedding_tied_to_a_linear_is_refused_both_ways(torch, vocab, dim):
    # Tying a language model's embedding to its output layer shares one (vocab, dim) Parameter in torch,
    # but chainrule's Linear keeps its weight transposed. Converted as it was, the Linear took the
    # Embedding's layout: for a square weight a model that answered differently (by up to 8.5 here, with
    # no error), otherwise a matmul error naming neither layer.
    x = np.array([0, 3, 1])
    embedding, head = torch.nn.Embedding(vocab, dim).double(), torch.nn.Linear(dim, vocab, bias=False).double()
    head.weight = embedding.weight
    with pytest.raises(TypeError, match=rf"from_torch: one weight of shape \({vocab}, {dim}\) is shared by a Linear"):
        from_torch(torch.nn.Sequential(embedding, head))
    untied = torch.nn.Sequential(embedding, torch.nn.Linear(dim, vocab, bias=False).double())
    with torch.no_grad():
        untied[1].weight.copy_(embedding.weight)
    assert_close(from_torch(untied)(x).data, untied(torch.tensor(x)), 1e-12, what="the untied copy converts")
    if vocab == dim:  # chainrule can only tie a square one
        mine, out = Embedding(4, 4, rng=0), Linear(4, 4, bias=False, rng=1)
        out.weight = mine.weight
        with pytest.raises(TypeError, match=r"to_torch: one weight of shape \(4, 4\) is shared by a Linear"):
            to_torch(Sequential(mine, out))
    # Two Linears sharing a weight keep one layout: still converted, still tied.
    first, second = torch.nn.Linear(3, 3).double(), torch.nn.Linear(3, 3).double()
    second.weight = first.weight
    back = from_torch(torch.nn.Sequential(first, torch.nn.Tanh(), second))
    assert back[0].weight is back[2].weight
    net = to_torch(back)
    assert net[0].weight is net[2].weight
