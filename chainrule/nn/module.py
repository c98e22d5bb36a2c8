"""What every model has in common: a list of parameters and a way to reset their gradients."""

from __future__ import annotations

from chainrule.autodiff import zero_grad


class Module:
    """Base class of Neuron, Layer, MLP and the Tensor layers."""

    def parameters(self) -> list:
        """Every trainable Value (or Tensor) of this module, in a fixed order."""
        return []

    def zero_grad(self) -> None:
        """Reset the gradients of all parameters (they accumulate across ``backward()`` calls)."""
        zero_grad(self.parameters())
