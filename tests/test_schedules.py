"""Learning-rate schedules: the lr sequence of ``StepLR`` and ``CosineAnnealingLR`` on every chainrule
optimizer, against ``torch.optim.lr_scheduler`` on the matching torch optimizer."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from chainrule import Tensor, Value
from chainrule.optim import SGD, Adam, AdamW, CosineAnnealingLR, StepLR

OPTIMIZERS = [(SGD, "SGD", {"momentum": 0.9}), (Adam, "Adam", {}), (AdamW, "AdamW", {})]
SCHEDULES = [
    (StepLR, {"step_size": 3, "gamma": 0.5}),
    (StepLR, {"step_size": 1, "gamma": 0.9}),
    (CosineAnnealingLR, {"T_max": 10}),
    (CosineAnnealingLR, {"T_max": 7, "eta_min": 0.001}),
]


@pytest.mark.parametrize("ours, name, kwargs", OPTIMIZERS)
@pytest.mark.parametrize("schedule, settings", SCHEDULES)
def test_the_lr_sequence_is_torchs(torch, ours, name, kwargs, schedule, settings):
    w = Tensor(np.ones(3), requires_grad=True)
    optimizer = ours([w], lr=0.1, **kwargs)
    t = torch.ones(3, requires_grad=True)
    their_optimizer = getattr(torch.optim, name)([t], lr=0.1, **kwargs)
    scheduler = schedule(optimizer, **settings)
    theirs = getattr(torch.optim.lr_scheduler, schedule.__name__)(their_optimizer, **settings)
    for step in range(30):  # past T_max: the cosine goes back up, as torch's does
        assert optimizer.lr == pytest.approx(their_optimizer.param_groups[0]["lr"], rel=1e-12, abs=1e-15), step
        assert scheduler.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12, abs=1e-15)
        w.grad, t.grad = np.full(3, 0.5), torch.full((3,), 0.5)
        optimizer.step()
        their_optimizer.step()
        scheduler.step()
        theirs.step()
    assert w.data == pytest.approx(t.detach().numpy(), rel=1e-10)


def test_a_schedule_trains_a_scalar_model_and_may_end_at_zero():
    x = Value(2.0)
    optimizer = SGD([x], lr=0.1)
    scheduler = CosineAnnealingLR(optimizer, T_max=4)
    for _ in range(4):
        x.grad = 1.0
        optimizer.step()
        scheduler.step()
    assert optimizer.lr == 0.0 and scheduler.last_epoch == 4
    assert type(x.data) is float


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda o: StepLR(o, step_size=0), ValueError, r"^StepLR: step_size must be a positive integer"),
        (lambda o: StepLR(o, step_size=2, gamma=-1), ValueError, r"^StepLR: gamma must be > 0"),
        (lambda o: CosineAnnealingLR(o, T_max=2.5), ValueError, r"^CosineAnnealingLR: T_max must be a positive"),
        (lambda o: CosineAnnealingLR(o, T_max=5, eta_min=-1), ValueError, r"^CosineAnnealingLR: eta_min must be"),
        (lambda o: StepLR("sgd", step_size=2), TypeError, r"^StepLR: expected a chainrule optimizer"),
    ],
)
def test_schedules_refuse_bad_settings(make, error, match):
    with pytest.raises(error, match=match):
        make(SGD([Value(1.0)], lr=0.1))


def test_chainrule_schedules_imports_on_its_own_first():
    # optim.py imports schedules.py and schedules.py imports optim.py: either may come first.
    code = "import chainrule.schedules as s, chainrule.optim as o; assert o.StepLR is s.StepLR"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
