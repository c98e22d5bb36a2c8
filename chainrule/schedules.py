"""Learning-rate schedules, as ``torch.optim.lr_scheduler`` computes them: ``StepLR`` and ``CosineAnnealingLR``.

Each works with every optimizer in ``chainrule.optim`` (they all keep one learning rate, ``lr``)::

    optimizer = SGD(model.parameters(), lr=0.1)
    schedule = StepLR(optimizer, step_size=100, gamma=0.1)
    for step in range(300):
        ...; optimizer.step(); schedule.step()  # once per step (or per epoch), after optimizer.step()

The learning rates follow PyTorch's recursive ("chainable") formulas, so the sequence matches
``torch.optim.lr_scheduler`` number for number. A schedule may bring the rate down to 0
(``CosineAnnealingLR`` with ``eta_min=0`` at ``T_max``), as PyTorch's do, though an ``lr`` you set yourself
must be above 0. Standard library only.
"""

from __future__ import annotations

import math

from chainrule.nn.module import check_size


class LRScheduler:
    """What every schedule shares: the optimizer, its starting rate ``base_lr`` and the step count
    ``last_epoch`` (0 when made). ``step()`` advances it and sets ``optimizer.lr``; ``get_last_lr()``
    gives the rate it set last, in a list, as PyTorch's does."""

    def __init__(self, optimizer: Optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__}: expected a chainrule optimizer (chainrule.optim), "
                f"got {type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.last_epoch = 0
        self._last_lr = optimizer.lr

    def _next_lr(self, lr: float) -> float:
        raise NotImplementedError

    def step(self) -> None:
        """Advance the schedule by one step and give the optimizer its new learning rate."""
        self.last_epoch += 1
        lr = self._next_lr(self.optimizer.lr)
        if not (lr >= 0 and math.isfinite(lr)):  # never expected: the formulas keep it in [eta_min, base_lr]
            raise ValueError(f"{type(self).__name__}: the schedule reached an invalid learning rate {lr!r}")
        # Set past the optimizer's own check, which refuses 0: a schedule may end at 0, as in PyTorch.
        self.optimizer._lr = float(lr)
        self._last_lr = float(lr)

    def get_last_lr(self) -> list[float]:
        return [self._last_lr]


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` steps: ``base_lr * gamma**(n // step_size)``."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1):
        self.step_size = check_size(step_size, "step_size", "StepLR")
        self.gamma = _check_hyperparameter("StepLR", "gamma", gamma, 0.0, include_low=False, example="0.1")
        super().__init__(optimizer)

    def _next_lr(self, lr: float) -> float:
        return lr * self.gamma if self.last_epoch % self.step_size == 0 else lr


class CosineAnnealingLR(LRScheduler):
    """From ``base_lr`` down to ``eta_min`` along half a cosine over ``T_max`` steps (then back up, and so on,
    as PyTorch's does): ``eta_min + (base_lr - eta_min) * (1 + cos(pi * n / T_max)) / 2``."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0):  # noqa: N803 (PyTorch's name)
        self.T_max = check_size(T_max, "T_max", "CosineAnnealingLR")
        self.eta_min = _check_hyperparameter("CosineAnnealingLR", "eta_min", eta_min, 0.0, example="0.0")
        super().__init__(optimizer)

    def _next_lr(self, lr: float) -> float:
        n, t_max, eta_min = self.last_epoch, self.T_max, self.eta_min
        if (n - 1 - t_max) % (2 * t_max) == 0:
            return lr + (self.base_lr - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
        return (1 + math.cos(math.pi * n / t_max)) / (1 + math.cos(math.pi * (n - 1) / t_max)) * (
            lr - eta_min
        ) + eta_min


# Imported last, as optim.py imports this module last: whichever of the two is imported first, the other
# finds what it needs already defined (the names above are used only when a schedule is made).
from chainrule.optim import Optimizer, _check_hyperparameter  # noqa: E402
