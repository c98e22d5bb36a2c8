"""The notes' first lesson made into a tool: a derivative is the slope ``(f(x + h) - f(x)) / h`` for a
tiny ``h``, so any gradient ``backward()`` computes can be checked by nudging an input and watching
the output move.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Callable

from chainrule.autodiff import zero_grad


class GradcheckError(AssertionError):
    """``backward()`` and the numerical slope disagree for some input."""


def _as_number(y) -> float:
    # f may return a plain number, a Value, or a one-element Tensor.
    data = getattr(y, "data", y)
    return float(data.item() if hasattr(data, "item") else data)


def numerical_derivative(f: Callable, x: float, h: float = 1e-6, method: str = "central") -> float:
    """The slope of ``f`` at ``x``, measured by nudging ``x`` by ``h``.

    ``method='central'`` (the default) uses ``(f(x + h) - f(x - h)) / 2h``, whose error shrinks like
    h**2; ``'forward'`` is the notes' ``(f(x + h) - f(x)) / h``, whose error shrinks like h.
    ``numerical_derivative(lambda x: 3*x**2 - 4*x + 5, 3.0)`` is about 14.
    """
    if h <= 0:
        raise ValueError(f"numerical_derivative: step h must be > 0, got {h!r}")
    if method == "central":
        return (_as_number(f(x + h)) - _as_number(f(x - h))) / (2 * h)
    if method == "forward":
        return (_as_number(f(x + h)) - _as_number(f(x))) / h
    raise ValueError(f"numerical_derivative: method must be 'central' or 'forward', got {method!r}")


def gradcheck(f: Callable, inputs: Sequence, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3) -> bool:
    """Check the gradients ``backward()`` gives for ``f(*inputs)`` against central differences.

    ``inputs`` are Values (or Tensors); ``f`` returns a single Value (or a one-element Tensor).
    Returns True when, for every input (every element of a Tensor input),
    ``|analytic - numeric| <= atol + rtol * |numeric|``; otherwise raises ``GradcheckError`` naming
    the input and both numbers. The inputs' ``data`` is restored and their ``grad`` is left holding
    the analytic gradient.
    """
    zero_grad(inputs)
    out = f(*inputs)
    out.backward()

    for index, inp in enumerate(inputs):
        name = f"input {index}" + (f" ({inp.label!r})" if getattr(inp, "label", "") else "")
        if isinstance(inp.data, float):
            original = inp.data
            inp.data = original + eps
            up = _as_number(f(*inputs))
            inp.data = original - eps
            down = _as_number(f(*inputs))
            inp.data = original
            _compare(name, float(inp.grad), (up - down) / (2 * eps), atol, rtol)
            continue
        # A Tensor: nudge one element at a time, through a flat view of a C-ordered copy.
        inp.data = inp.data.copy()
        flat = inp.data.reshape(-1)
        analytic = inp.grad.reshape(-1) if inp.grad is not None else None
        for i in range(flat.size):
            original = flat[i]
            flat[i] = original + eps
            up = _as_number(f(*inputs))
            flat[i] = original - eps
            down = _as_number(f(*inputs))
            flat[i] = original
            got = 0.0 if analytic is None else float(analytic[i])
            _compare(f"{name}, element {i}", got, (up - down) / (2 * eps), atol, rtol)
    return True


def _compare(name: str, analytic: float, numeric: float, atol: float, rtol: float) -> None:
    if not abs(analytic - numeric) <= atol + rtol * abs(numeric):
        raise GradcheckError(
            f"gradcheck: gradient of {name} is {analytic!r} from backward() but {numeric!r} from central differences"
        )
