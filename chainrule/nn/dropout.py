"""``Dropout``: while training, zero each entry with probability ``p`` and scale the rest by ``1/(1-p)``.

The scaling ("inverted dropout", as PyTorch does it) keeps every entry's expected value unchanged, so in
``eval()`` mode the layer simply passes its input through. The mask is a constant: the gradient of
``x * mask * scale`` with respect to ``x`` is ``mask * scale``.
"""

from __future__ import annotations

from numbers import Real

import numpy as np

from chainrule.nn.layers import _as_tensor, _generator
from chainrule.nn.module import Module
from chainrule.tensor import Tensor


class Dropout(Module):
    """Zero entries with probability ``p`` (in ``[0, 1]``) while training; the identity in ``eval()``.

    ``rng`` says where the masks come from: an int seed (the same masks on every run), a
    ``numpy.random.Generator``, or None for NumPy's global generator (seeded by ``np.random.seed``).
    """

    def __init__(self, p: float = 0.5, rng=None):
        if isinstance(p, bool) or not isinstance(p, Real) or not 0 <= p <= 1:
            raise ValueError(f"Dropout: p (the probability of zeroing an entry) must be in [0, 1], got {p!r}")
        self.p = float(p)
        self.rng = _generator(rng, "Dropout")

    def forward(self, x) -> Tensor:
        x = _as_tensor(x, self)
        if not self.training or self.p == 0.0:
            return x
        if self.p == 1.0:  # everything dropped, as in PyTorch (and no division by zero)
            return x * Tensor(np.zeros(x.shape, dtype=x.dtype))
        keep = self.rng.random(size=x.shape) >= self.p
        return x * Tensor((keep / (1.0 - self.p)).astype(x.dtype))

    __call__ = forward

    def __repr__(self) -> str:
        return f"Dropout(p={self.p:g})"
