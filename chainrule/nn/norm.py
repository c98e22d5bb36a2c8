"""Batch normalisation (Ioffe & Szegedy 2015), as ``torch.nn.BatchNorm1d`` computes it.

While training, each feature (channel) is normalised with the mean and the biased variance of the batch,
``(x - mean) / sqrt(var + eps)``, then scaled by ``weight`` and shifted by ``bias``; the running mean and
the running *unbiased* variance are updated with ``momentum``. In ``eval()`` mode the running ones are
used instead, so one example gives the same output whatever batch it comes in. The normalisation is
written with the Tensor's own operations (mean, ``**``, ``*``, ``+``), so its gradient is theirs: the
gradient through the batch statistics is included, as in PyTorch.
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np

from chainrule.nn.layers import _as_tensor, _parameter_dtype
from chainrule.nn.module import Module, check_size
from chainrule.tensor import Tensor


class BatchNorm1d(Module):
    """Normalise each of ``num_features`` features over the batch: inputs ``(N, C)`` or ``(N, C, L)``.

    ``weight`` (ones) and ``bias`` (zeros), of shape ``(C,)``, are parameters when ``affine``;
    ``running_mean`` (zeros), ``running_var`` (ones) and ``num_batches_tracked`` are buffers: in
    ``state_dict()`` under PyTorch's names, never trained. ``momentum=None`` makes the running statistics
    a cumulative average over every batch seen, as in PyTorch.
    """

    _weight_attributes = ("weight", "bias")  # in state_dict() even when frozen (requires_grad=False)

    def __init__(
        self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True, dtype=np.float64
    ):
        where = "BatchNorm1d"
        self.num_features = check_size(num_features, "num_features", where)
        if isinstance(eps, bool) or not isinstance(eps, Real) or not (eps > 0 and math.isfinite(eps)):
            raise ValueError(f"{where}: eps must be a finite number > 0, got {eps!r}")
        if momentum is not None and (
            isinstance(momentum, bool) or not isinstance(momentum, Real) or not 0 <= momentum <= 1
        ):
            raise ValueError(f"{where}: momentum must be a number in [0, 1] or None, got {momentum!r}")
        if not isinstance(affine, bool):
            raise TypeError(f"{where}: affine must be True or False, got {affine!r}")
        dtype = _parameter_dtype(dtype, where)
        self.eps = float(eps)
        self.momentum = None if momentum is None else float(momentum)
        self.weight = self.bias = None
        if affine:
            self.weight = Tensor(np.ones(self.num_features), requires_grad=True, dtype=dtype)
            self.bias = Tensor(np.zeros(self.num_features), requires_grad=True, dtype=dtype)
            self.weight.label, self.bias.label = "weight", "bias"
        self.register_buffer("running_mean", Tensor(np.zeros(self.num_features), dtype=dtype))
        self.register_buffer("running_var", Tensor(np.ones(self.num_features), dtype=dtype))
        # a count, as PyTorch keeps it (an int64 there; a float here, which a model file can hold). Always
        # float64, whatever the layer's dtype: float16 stops counting at 2048 (2048 + 1 rounds to 2048),
        # and with momentum=None the running statistics would then average with the wrong weight.
        self.register_buffer("num_batches_tracked", Tensor(np.zeros(()), dtype=np.float64))

    @property
    def affine(self) -> bool:
        return self.weight is not None

    def forward(self, x) -> Tensor:
        x = _as_tensor(x, self, self.running_mean.dtype)
        c = self.num_features
        if x.ndim not in (2, 3) or x.shape[1] != c:
            raise ValueError(f"{self!r}: expected inputs of shape (N, {c}) or (N, {c}, L), got shape {x.shape}")
        axes = (0,) if x.ndim == 2 else (0, 2)
        shape = (1, c) if x.ndim == 2 else (1, c, 1)  # per-feature numbers, broadcast over the batch
        if self.training:
            count = x.size // c
            if count < 2:
                raise ValueError(
                    f"{self!r}: training needs more than 1 value per feature to take a variance, got input shape "
                    f"{x.shape}; use a bigger batch, or eval() to use the running statistics"
                )
            mean = x.mean(axis=axes, keepdims=True)
            var = x.var(axis=axes, correction=0, keepdims=True)  # biased: divided by count, as PyTorch normalises
            self._update_running(mean.data.reshape(c), var.data.reshape(c) * (count / (count - 1)))
            out = (x - mean) * (var + self.eps) ** -0.5
        else:
            mean = self.running_mean.data.reshape(shape)
            scale = 1.0 / np.sqrt(self.running_var.data.reshape(shape) + self.eps)
            out = (x - Tensor(mean)) * Tensor(scale)
        if self.weight is not None:
            out = out * self.weight.reshape(shape) + self.bias.reshape(shape)
        return out

    __call__ = forward

    def _update_running(self, batch_mean: np.ndarray, unbiased_var: np.ndarray) -> None:
        tracked = self.num_batches_tracked.data + 1
        self.num_batches_tracked.data = tracked
        momentum = 1.0 / float(tracked) if self.momentum is None else self.momentum
        dtype = self.running_mean.dtype
        self.running_mean.data = ((1 - momentum) * self.running_mean.data + momentum * batch_mean).astype(dtype)
        self.running_var.data = ((1 - momentum) * self.running_var.data + momentum * unbiased_var).astype(dtype)

    def __repr__(self) -> str:
        extra = "" if self.affine else ", affine=False"
        return f"BatchNorm1d({self.num_features}, eps={self.eps:g}, momentum={self.momentum}{extra})"
