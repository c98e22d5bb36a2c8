"""What every model has in common: a list of parameters and a way to reset their gradients."""

from __future__ import annotations

from collections.abc import Iterable
from numbers import Integral

from chainrule.autodiff import zero_grad


def check_size(n, what: str, where: str) -> int:
    """``n`` as an int if it is a positive whole number, else a ValueError naming ``where`` and ``what``."""
    if not isinstance(n, Integral) or isinstance(n, bool) or n < 1:
        raise ValueError(f"{where}: {what} must be a positive integer, got {n!r}")
    return int(n)


def unique_parameters(params: Iterable) -> list:
    """``params`` with each parameter listed once, where it first appears.

    A layer used twice (``Sequential(lin, Tanh(), lin)``) or a Value shared by two neurons is one
    parameter: listed twice, an optimizer would step it twice and an L2 penalty would count it twice.
    Duplicates are found by identity, never by ``==`` (which an array type may define elementwise, as
    NumPy and PyTorch do): two weights that merely hold equal numbers are still two weights.
    """
    params = params if type(params) is list else list(params)
    if len(set(map(id, params))) == len(params):
        return params  # the usual case, found at C speed: nothing repeats
    # A dict keeps each key where it was first inserted; a repeated id maps to the same object again.
    return list({id(p): p for p in params}.values())


class Module:
    """Base class of Neuron, Layer, MLP and the Tensor layers.

    A module made of other modules lists its parameters with ``unique_parameters``, so that a part
    used in two places is trained once.
    """

    def parameters(self) -> list:
        """Every trainable Value (or Tensor) of this module, each once, in a fixed order."""
        return []

    def zero_grad(self) -> None:
        """Reset the gradients of all parameters (they accumulate across ``backward()`` calls)."""
        zero_grad(self.parameters())
