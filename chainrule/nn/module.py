"""What every model has in common: a list of parameters and a way to reset their gradients."""

from __future__ import annotations

from numbers import Integral

from chainrule.autodiff import zero_grad


def check_size(n, what: str, where: str) -> int:
    """``n`` as an int if it is a positive whole number, else a ValueError naming ``where`` and ``what``."""
    if not isinstance(n, Integral) or isinstance(n, bool) or n < 1:
        raise ValueError(f"{where}: {what} must be a positive integer, got {n!r}")
    return int(n)


class Module:
    """Base class of Neuron, Layer, MLP and the Tensor layers."""

    def parameters(self) -> list:
        """Every trainable Value (or Tensor) of this module, in a fixed order."""
        return []

    def zero_grad(self) -> None:
        """Reset the gradients of all parameters (they accumulate across ``backward()`` calls)."""
        zero_grad(self.parameters())
