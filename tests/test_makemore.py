"""``chainrule train names``: the makemore lecture's language model on the names.

The oracle is a PyTorch float64 twin: the same network (Embedding, Flatten, Linear, BatchNorm1d, Tanh,
Linear), the same starting weights and the same batches give the same loss at every one of 200 SGD
steps, then the same running statistics and the same validation loss in evaluation mode.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from oracle import assert_close

from chainrule import cli, makemore
from chainrule.data import names, names_dataset, random_batch
from chainrule.losses import cross_entropy
from chainrule.optim import SGD
from chainrule.schedules import StepLR

TWIN_STEPS = 200
TWIN_RTOL = 1e-10


@pytest.fixture(scope="module")
def dataset():
    return names_dataset()


def _torch_twin(torch, model):
    """``model``'s network in PyTorch, with its weights copied (a chainrule Linear holds ``(nin, nout)``,
    a torch one ``(nout, nin)``)."""
    emb, _, hidden, norm, _, out = model
    twin = torch.nn.Sequential(
        torch.nn.Embedding(emb.num_embeddings, emb.embedding_dim),
        torch.nn.Flatten(),
        torch.nn.Linear(hidden.nin, hidden.nout, bias=False),
        torch.nn.BatchNorm1d(norm.num_features, momentum=norm.momentum, eps=norm.eps),
        torch.nn.Tanh(),
        torch.nn.Linear(out.nin, out.nout),
    )
    with torch.no_grad():
        twin[0].weight.copy_(torch.tensor(emb.weight.data))
        twin[2].weight.copy_(torch.tensor(hidden.weight.data.T))
        twin[5].weight.copy_(torch.tensor(out.weight.data.T))
        twin[5].bias.copy_(torch.tensor(out.bias.data))
    return twin


def test_the_same_network_and_batches_give_pytorchs_loss_at_each_of_200_steps(torch, dataset):
    model = makemore.names_model(seed=5)
    twin = _torch_twin(torch, model)
    optimizer, theirs_optimizer = SGD(model.parameters(), lr=0.1), torch.optim.SGD(twin.parameters(), lr=0.1)
    # the lecture's drop of the learning rate, brought inside the 200 steps
    schedule = StepLR(optimizer, step_size=TWIN_STEPS // 2, gamma=0.1)
    theirs_schedule = torch.optim.lr_scheduler.StepLR(theirs_optimizer, step_size=TWIN_STEPS // 2, gamma=0.1)
    X, Y = dataset.train
    rng = np.random.default_rng(0)
    ours_losses, theirs_losses = [], []
    for _ in range(TWIN_STEPS):
        rows = random_batch(len(X), 32, rng)
        loss = cross_entropy(model(X[rows]), Y[rows])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        theirs = torch.nn.functional.cross_entropy(twin(torch.tensor(X[rows])), torch.tensor(Y[rows]))
        theirs_optimizer.zero_grad()
        theirs.backward()
        theirs_optimizer.step()
        theirs_schedule.step()
        ours_losses.append(loss.item())
        theirs_losses.append(theirs.item())
    assert_close(np.array(ours_losses), np.array(theirs_losses), TWIN_RTOL, what="the loss at each step")
    assert ours_losses[-1] < ours_losses[0] - 0.5  # it learned: from about ln 27 = 3.30
    norm, theirs_norm = model[3], twin[3]
    assert_close(norm.running_mean.data, theirs_norm.running_mean, TWIN_RTOL, what="running mean")
    assert_close(norm.running_var.data, theirs_norm.running_var, TWIN_RTOL, what="running variance")
    twin.eval()
    with torch.no_grad():
        theirs_val = torch.nn.functional.cross_entropy(twin(torch.tensor(dataset.val.X)), torch.tensor(dataset.val.Y))
    assert_close(makemore.split_loss(model, dataset.val), theirs_val.item(), TWIN_RTOL, what="validation loss")
    assert model.training  # split_loss put it back


def test_names_model_starts_as_the_lecture_initialises_it(dataset):
    model = makemore.names_model(seed=0)
    emb, _, hidden, norm, _, out = model
    assert emb.weight.shape == (27, 10) and hidden.weight.shape == (30, 200) and hidden.bias is None
    assert out.weight.shape == (200, 27) and not out.bias.data.any()
    # N(0, (5/3)**2 / 30) and N(0, 0.01**2): the spread of 6,000 and 5,400 draws is within a few percent
    assert abs(hidden.weight.data.std() / ((5 / 3) / np.sqrt(30)) - 1) < 0.05
    assert abs(out.weight.data.std() / 0.01 - 1) < 0.05
    assert norm.momentum == 0.001
    # the near-zero output layer makes every first prediction about 1/27 (the lecture's first loss: 3.3147)
    assert abs(makemore.split_loss(model, dataset.val) - np.log(27)) < 0.03


def test_train_names_learns_logs_its_curves_and_makes_up_names(tmp_path):
    few = names_dataset(words=names()[:3000])  # the lecture's split of fewer names: a quicker test
    assert few.vocab_size == 27
    result = makemore.train_names(steps=400, seed=3, samples=8, out_dir=tmp_path, progress=False, dataset=few)
    assert set(result.final) == {"train loss", "val loss"}
    assert result.final["val loss"] < 2.8 < np.log(27)  # 400 steps already learn much of the way
    assert len(result.history["train loss"]) == 200 and len(result.history["val loss"]) == 20
    assert result.history["train loss"][-1] < result.history["train loss"][0]
    assert len(result.samples) == 8 and all(re.fullmatch(r"[a-z]*", name) for name in result.samples)
    assert result.task == {"dataset": "names", "block_size": 3, "split_seed": 42, "seed": 3}
    assert [path.name for path in result.files] == ["names_loss.png"]
    again = makemore.train_names(steps=400, seed=3, samples=8, progress=False, dataset=few)
    assert again.final == result.final and again.samples == result.samples  # the seed fixes everything


def test_sample_names_uses_running_statistics_and_restores_the_mode(dataset):
    model = makemore.names_model(seed=1)
    first = makemore.sample_names(model, dataset, count=5, seed=9)
    assert model.training and first == makemore.sample_names(model, dataset, count=5, seed=9)
    assert all(re.fullmatch(r"[a-z]*", name) for name in first)


def test_the_command_prints_the_losses_then_twenty_names_and_eval_measures_the_saved_model(tmp_path, capsys):
    path = tmp_path / "names.safetensors"
    status = cli.main(["train", "names", "--steps", "300", "--no-progress", "--no-plots", "--save", str(path)])
    out = capsys.readouterr().out.splitlines()
    assert status == 0
    assert re.fullmatch(r"train loss \d\.\d{4}", out[0]) and re.fullmatch(r"val loss \d\.\d{4}", out[1])
    assert out[2] == "20 names sampled from the model:"
    names = out[3:23]
    assert len(names) == 20 and all(re.fullmatch(r"[a-z]*", name) for name in names)
    assert out[23] == f"saved {path}"
    status = cli.main(["eval", str(path)])
    lines = capsys.readouterr().out.splitlines()
    assert status == 0
    assert lines[-1] == f"eval names val loss: {out[1].split()[-1]}"  # the number the run printed


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "names", "--steps", "0"], "expected a positive whole number"),
        (["train", "names", "--batch-size", "-3"], "expected a positive whole number"),
        (["train", "names", "--lr", "nan"], "expected a positive number"),
    ],
)
def test_the_command_refuses_bad_settings_in_one_line(argv, message, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_split_loss_goes_through_a_split_in_chunks_with_the_same_mean(dataset):
    model = makemore.names_model(seed=2)
    whole = makemore.split_loss(model, dataset.val, chunk=len(dataset.val.X))
    assert abs(makemore.split_loss(model, dataset.val, chunk=1000) - whole) < 1e-12
    with pytest.raises(ValueError, match="split_loss: the split holds no examples"):
        makemore.split_loss(model, dataset.val._replace(X=dataset.val.X[:0], Y=dataset.val.Y[:0]))


def test_a_bad_seed_is_named_by_the_function_that_took_it(dataset):
    for call, where in (
        (lambda: makemore.names_model(seed=-1), "names_model"),
        (lambda: makemore.sample_names(makemore.names_model(seed=0), dataset, seed=2.5), "sample_names"),
        (lambda: makemore.train_names(steps=1, seed=-3, progress=False, dataset=dataset), "train_names"),
    ):
        with pytest.raises(ValueError, match=rf"^{where}: seed must be None, a whole number >= 0 or a numpy Generator"):
            call()


def test_split_loss_and_sample_names_give_every_layer_its_own_mode_back(torch, dataset):
    # Batch norm put in eval() alone keeps its running statistics fixed while the rest trains. split_loss
    # and sample_names restored the whole model to the top's mode, so that batch norm silently went back
    # to training: the next step normalised with the batch's statistics, not the frozen ones.
    model = makemore.names_model(seed=4)
    twin = _torch_twin(torch, model)
    model[3].eval()
    twin[3].eval()
    makemore.split_loss(model, dataset.val._replace(X=dataset.val.X[:50], Y=dataset.val.Y[:50]))
    makemore.sample_names(model, dataset, count=2, seed=0)
    assert [m.training for m in model] == [m.training for m in twin] == [True, True, True, False, True, True]
    X, Y = dataset.train.X[:32], dataset.train.Y[:32]
    loss = cross_entropy(model(X), Y)
    expected = torch.nn.functional.cross_entropy(twin(torch.tensor(X)), torch.tensor(Y))
    assert_close(loss.item(), expected.item(), TWIN_RTOL, what="a step with batch norm still frozen")
    assert_close(model[3].running_mean.data, twin[3].running_mean, 0.0, what="running mean left alone")
