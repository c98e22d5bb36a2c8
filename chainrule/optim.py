"""Optimizers: turn gradients into parameter updates.

Each works only through ``p.data`` and ``p.grad``, with arithmetic that means the same for a float
and for a NumPy array, so the same classes train scalar ``Value`` models and ``Tensor`` models. The
update rules follow PyTorch's ``torch.optim`` so the two can be compared number for number.

Everything an optimizer is given is checked once, in ``__init__``: a parameter list that would make
``step()`` update something twice, or not at all, and a hyperparameter that would make every step
wrong (NaN, negative, a string) are refused there with an error that says what to pass instead.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from decimal import Decimal
from numbers import Real

from chainrule.autodiff import is_tensor, short_repr, zero_grad
from chainrule.engine import Value


def _check_parameters(params, where: str) -> list:
    """``params`` as a list of distinct leaf Values/Tensors, or an error saying what is wrong with it."""
    # A single parameter is a mistake to catch before iterating: a Tensor iterates over its rows,
    # which would quietly become "parameters" that step() updates and nothing ever reads.
    if isinstance(params, Value) or is_tensor(params):
        raise TypeError(
            f"{where}: params must be a list of parameters, got a single {type(params).__name__}; "
            f"pass a list, e.g. {where}([w], ...), or model.parameters()"
        )
    if callable(getattr(params, "parameters", None)):  # the model itself (a Sequential would iterate over layers)
        raise TypeError(
            f"{where}: got the model {type(params).__name__}, not its parameters; pass {where}(model.parameters(), ...)"
        )
    if callable(params) and not isinstance(params, Iterable):  # model.parameters, without the call
        raise TypeError(
            f"{where}: params must be a list of Values or Tensors, got the function {short_repr(params)}; "
            "call it: model.parameters()"
        )
    if isinstance(params, (str, bytes)) or not isinstance(params, Iterable):
        raise TypeError(
            f"{where}: params must be a list of Values or Tensors (e.g. model.parameters()), "
            f"got {type(params).__name__} {short_repr(params)}"
        )
    params = list(params)  # also takes a generator, read once
    if not params:
        raise ValueError(f"{where}: got an empty parameter list; pass model.parameters()")
    first_seen: dict[int, int] = {}
    for i, p in enumerate(params):
        if not (isinstance(p, Value) or is_tensor(p)):
            hint = (
                "; join lists of parameters with +, e.g. a.parameters() + b.parameters()"
                if isinstance(p, (list, tuple))
                else "; pass model.parameters()"
            )
            raise TypeError(
                f"{where}: parameter {i} is {type(p).__name__} {short_repr(p)}, not a Value or a Tensor{hint}"
            )
        if p._prev:
            # Its data is recomputed from its inputs the next time the graph is built, so an update
            # to it would be lost, and the leaves it came from would never move.
            raise ValueError(
                f"{where}: parameter {i} is not a leaf: it is the result of {p._op!r} on other values, so "
                "updating it changes nothing that is trained; pass the Values/Tensors you created "
                "(model.parameters())"
            )
        # By identity, never ==: an elementwise == (as in NumPy and PyTorch) would say nothing about sameness.
        j = first_seen.setdefault(id(p), i)
        if j != i:
            raise ValueError(
                f"{where}: parameter {i} is the same object as parameter {j}, so step() would update it "
                "twice; list each parameter once (model.parameters() does, even for shared layers)"
            )
    return params


def _as_real(value, what: str, where: str, example: str) -> float:
    """``value`` as a Python float if it is a real number, else a TypeError.

    Any real type is welcome (int, NumPy scalars, Fraction, Decimal), but it is converted here, once:
    a NumPy float32 learning rate would otherwise turn every scalar parameter into a float32.
    """
    # bool is an int to Python, but True as a learning rate is a slip, not a number.
    if isinstance(value, bool) or not isinstance(value, (Real, Decimal)):
        raise TypeError(
            f"{where}: {what} must be a real number, got {type(value).__name__} {short_repr(value)}; "
            f"pass one, {example}"
        )
    try:
        return float(value)
    except OverflowError:  # an int or Fraction beyond float's range
        return math.inf if value > 0 else -math.inf


def _check_hyperparameter(
    where: str,
    name: str,
    value,
    low: float,
    high: float = math.inf,
    *,
    include_low: bool = True,
    example: str,
    what: str | None = None,
    shown=None,
) -> float:
    """``value`` as a finite Python float in ``[low, high)`` (``(low, high)`` without ``include_low``),
    or an error that names the optimizer (``where``), the hyperparameter, the value and a good choice.

    ``what`` is how the message names it (``name`` by default); ``shown`` what it says was given
    (``value`` by default: the pair, for one of Adam's betas).
    """
    what = what or name
    example = f"e.g. {name}={example}"
    number = _as_real(value, what, where, example)
    if high == math.inf:
        rule = f"{'>=' if include_low else '>'} {low:g}"
    else:
        rule = f"in {'[' if include_low else '('}{low:g}, {high:g})"
    in_range = (low <= number if include_low else low < number) and number < high
    if not (in_range and math.isfinite(number)):
        raise ValueError(
            f"{where}: {what} must be {rule}, got {short_repr(value if shown is None else shown)}; "
            f"use a finite number {rule}, {example}"
        )
    return number


def _gradient_numbers(p):
    """A parameter's gradient as numbers. After backward(create_graph=True) a grad is itself a Value or
    a Tensor (a graph); the step uses its numbers, as PyTorch steps on the gradient's values."""
    g = p.grad
    return g.data if isinstance(g, Value) or is_tensor(g) else g


class Optimizer:
    def __init__(self, params: Iterable, lr: float):
        where = type(self).__name__
        self.params = _check_parameters(params, where)
        self.lr = lr
        self.state: list = [None] * len(self.params)

    @property
    def lr(self) -> float:
        """The learning rate, a Python float. Set it between steps for a schedule; it is checked then too."""
        return self._lr

    @lr.setter
    def lr(self, value) -> None:
        where = type(self).__name__
        self._lr = _check_hyperparameter(
            where, "lr", value, 0.0, include_low=False, what="learning rate", example="0.01"
        )

    def zero_grad(self) -> None:
        """Reset every parameter's gradient before the next ``backward()``."""
        zero_grad(self.params)

    def step(self) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Gradient descent, the notes' ``p.data += -lr * p.grad``, with optional momentum and L2 decay."""

    def __init__(self, params: Iterable, lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
        super().__init__(params, lr)
        self.momentum = _check_hyperparameter("SGD", "momentum", momentum, 0.0, 1.0, example="0.9")
        self.weight_decay = _check_hyperparameter("SGD", "weight_decay", weight_decay, 0.0, example="1e-4")

    def step(self) -> None:
        lr = self.lr
        for i, p in enumerate(self.params):
            g = _gradient_numbers(p)
            if g is None:  # a Tensor parameter that took no part in the last backward()
                continue
            if self.weight_decay:
                g = g + self.weight_decay * p.data
            if self.momentum:
                buf = self.state[i]
                # The first buffer is a copy: g may be the gradient array itself, which a later
                # backward() without zero_grad() would add into.
                buf = 1.0 * g if buf is None else self.momentum * buf + g
                self.state[i] = buf
                g = buf
            p.data -= lr * g


class Adam(Optimizer):
    """Adam (Kingma & Ba): steps scaled by running averages of the gradient and its square.

    ``weight_decay`` adds ``weight_decay * p`` to the gradient (L2 regularization, as in torch.optim.Adam).
    Each parameter counts its own steps, as in PyTorch: one that gets no gradient in a step (a Tensor
    whose ``grad`` is None) is left alone, and its bias correction starts when its first gradient comes.
    """

    decoupled = False

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        betas: Sequence[float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, lr)
        where = type(self).__name__
        wrong = f"{where}: betas must be a pair (beta1, beta2), e.g. betas=(0.9, 0.999), got {short_repr(betas)}"
        if isinstance(betas, (str, bytes)) or not isinstance(betas, Iterable):
            raise TypeError(wrong)
        pair = list(betas)
        if len(pair) != 2:
            raise ValueError(wrong)
        self.betas = tuple(
            _check_hyperparameter(where, "betas", b, 0.0, 1.0, shown=betas, example="(0.9, 0.999)") for b in pair
        )
        self.eps = _check_hyperparameter(where, "eps", eps, 0.0, include_low=False, example="1e-8")
        self.weight_decay = _check_hyperparameter(where, "weight_decay", weight_decay, 0.0, example="1e-2")
        self.t = 0  # how many times step() has run

    def step(self) -> None:
        self.t += 1
        lr = self.lr
        b1, b2 = self.betas
        corrections = {}  # step count -> (1 - b1**t, sqrt(1 - b2**t)): usually one entry for all parameters
        for i, p in enumerate(self.params):
            g = _gradient_numbers(p)
            if g is None:
                continue
            if self.weight_decay:
                if self.decoupled:
                    p.data *= 1.0 - lr * self.weight_decay  # AdamW: shrink the weight itself
                else:
                    g = g + self.weight_decay * p.data  # Adam: L2 term in the gradient
            if self.state[i] is None:
                self.state[i] = (0, 0.0 * g, 0.0 * g)
            t, m, v = self.state[i]
            t += 1
            m = b1 * m + (1.0 - b1) * g
            v = b2 * v + (1.0 - b2) * (g * g)
            self.state[i] = (t, m, v)
            if t not in corrections:
                corrections[t] = (1.0 - b1**t, (1.0 - b2**t) ** 0.5)
            bias_correction1, bias_correction2_sqrt = corrections[t]
            denom = v**0.5 / bias_correction2_sqrt + self.eps
            p.data -= (lr / bias_correction1) * (m / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): ``p -= lr * weight_decay * p`` each step."""

    decoupled = True

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        betas: Sequence[float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


# The learning-rate schedules live in chainrule/schedules.py; they are importable from here too, as
# torch.optim.lr_scheduler's are from torch.optim.
from chainrule.schedules import CosineAnnealingLR, LRScheduler, StepLR  # noqa: E402

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "LRScheduler", "StepLR", "CosineAnnealingLR"]
