"""Optimizers: turn gradients into parameter updates.

Each works only through ``p.data`` and ``p.grad``, with arithmetic that means the same for a float
and for a NumPy array, so the same classes train scalar ``Value`` models and ``Tensor`` models. The
update rules follow PyTorch's ``torch.optim`` so the two can be compared number for number.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from chainrule.autodiff import zero_grad


class Optimizer:
    def __init__(self, params: Iterable, lr: float):
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list; pass model.parameters()")
        if not lr > 0:
            raise ValueError(f"{type(self).__name__}: learning rate must be > 0, got {lr!r}")
        self.lr = lr
        self.state: list = [None] * len(self.params)

    def zero_grad(self) -> None:
        """Reset every parameter's gradient before the next ``backward()``."""
        zero_grad(self.params)

    def step(self) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Gradient descent, the notes' ``p.data += -lr * p.grad``, with optional momentum and L2 decay."""

    def __init__(self, params: Iterable, lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
        super().__init__(params, lr)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"SGD: momentum must be in [0, 1), got {momentum!r}")
        self.momentum = momentum
        self.weight_decay = weight_decay

    def step(self) -> None:
        for i, p in enumerate(self.params):
            g = p.grad
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
            p.data -= self.lr * g


class Adam(Optimizer):
    """Adam (Kingma & Ba): steps scaled by running averages of the gradient and its square.

    ``weight_decay`` adds ``weight_decay * p`` to the gradient (L2 regularization, as in torch.optim.Adam).
    """

    decoupled = False

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, lr)
        b1, b2 = betas
        if not (0.0 <= b1 < 1.0 and 0.0 <= b2 < 1.0):
            raise ValueError(f"{type(self).__name__}: betas must be in [0, 1), got {betas!r}")
        self.betas = (b1, b2)
        self.eps = eps
        self.weight_decay = weight_decay
        self.t = 0

    def step(self) -> None:
        self.t += 1
        b1, b2 = self.betas
        bias_correction1 = 1.0 - b1**self.t
        bias_correction2_sqrt = (1.0 - b2**self.t) ** 0.5
        for i, p in enumerate(self.params):
            g = p.grad
            if g is None:
                continue
            if self.weight_decay:
                if self.decoupled:
                    p.data *= 1.0 - self.lr * self.weight_decay  # AdamW: shrink the weight itself
                else:
                    g = g + self.weight_decay * p.data  # Adam: L2 term in the gradient
            if self.state[i] is None:
                self.state[i] = (0.0 * g, 0.0 * g)
            m, v = self.state[i]
            m = b1 * m + (1.0 - b1) * g
            v = b2 * v + (1.0 - b2) * (g * g)
            self.state[i] = (m, v)
            denom = v**0.5 / bias_correction2_sqrt + self.eps
            p.data -= (self.lr / bias_correction1) * (m / denom)


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
        super().__init__(params, lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)
