"""The notes' first lesson made into a tool: a derivative is the slope ``(f(x + h) - f(x)) / h`` for a
tiny ``h``, so any gradient ``backward()`` computes can be checked by nudging an input and watching
the output move.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from numbers import Real
from typing import Callable

from chainrule.autodiff import is_tensor, short_repr, zero_grad
from chainrule.engine import Value


class GradcheckError(AssertionError):
    """``backward()`` and the numerical slope disagree for some input."""


def _as_number(y, where: str) -> float:
    # f may return a plain number, a Value, or a one-element Tensor (or NumPy array; whose own .data
    # is a memoryview, so only a Value's or a Tensor's is taken).
    data = y.data if isinstance(y, Value) or is_tensor(y) else y
    size = getattr(data, "size", 1)
    if size != 1:
        raise ValueError(
            f"{where}: f must return a single number, got an array of shape {data.shape}; reduce it, e.g. .sum()"
        )
    return float(data.item() if hasattr(data, "item") else data)


def _check_step(name: str, value, where: str) -> None:
    if isinstance(value, bool) or not isinstance(value, Real) or not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{where}: step {name} must be > 0, got {value!r}; use a small finite number such as 1e-6")


def numerical_derivative(f: Callable, x: float, h: float = 1e-6, method: str = "central") -> float:
    """The slope of ``f`` at ``x``, measured by nudging ``x`` by ``h``.

    ``method='central'`` (the default) uses ``(f(x + h) - f(x - h)) / 2h``, whose error shrinks like
    h**2; ``'forward'`` is the notes' ``(f(x + h) - f(x)) / h``, whose error shrinks like h.
    ``numerical_derivative(lambda x: 3*x**2 - 4*x + 5, 3.0)`` is about 14.
    """
    _check_step("h", h, "numerical_derivative")
    if isinstance(x, Real):
        # A NumPy float32 x would make x + h a float32, whose spacing (about 2e-7 near 1) swallows
        # most of a 1e-6 step: the slope would be wrong with no error. Work in float64.
        x = float(x)
    h = float(h)
    if method == "central":
        return (_as_number(f(x + h), "numerical_derivative") - _as_number(f(x - h), "numerical_derivative")) / (2 * h)
    if method == "forward":
        return (_as_number(f(x + h), "numerical_derivative") - _as_number(f(x), "numerical_derivative")) / h
    raise ValueError(f"numerical_derivative: method must be 'central' or 'forward', got {method!r}")


def _check_inputs(inputs) -> list:
    """``inputs`` as a non-empty list of Values and float64 Tensors that backward() will reach."""
    if isinstance(inputs, Value) or is_tensor(inputs):
        raise TypeError(f"gradcheck: inputs must be a list, got a single {type(inputs).__name__}; pass [x]")
    if isinstance(inputs, (str, bytes)) or not isinstance(inputs, Iterable):
        raise TypeError(f"gradcheck: inputs must be a list of Values or Tensors, got {type(inputs).__name__}")
    inputs = list(inputs)
    if not inputs:
        raise ValueError("gradcheck: got no inputs; pass the Values or Tensors to check, e.g. gradcheck(f, [x, y])")
    for i, inp in enumerate(inputs):
        if isinstance(inp, Value):
            continue
        if not is_tensor(inp):
            raise TypeError(
                f"gradcheck: input {i} is {type(inp).__name__} {short_repr(inp)}; inputs must be Values or Tensors, "
                "whose gradients backward() fills in (wrap a number: Value(0.5))"
            )
        if inp.dtype.name != "float64":
            # float32 rounding (about 1e-7 relative) is bigger than the nudge itself: the numerical
            # slope would be noise, and a correct gradient would be reported wrong.
            raise TypeError(
                f"gradcheck: input {i} is a {inp.dtype} Tensor; gradcheck needs float64 to measure slopes, "
                "e.g. Tensor(x, requires_grad=True, dtype=np.float64)"
            )
        if not inp.requires_grad:
            raise ValueError(
                f"gradcheck: input {i} is a Tensor with requires_grad=False, so backward() gives it no gradient "
                "to check; make it with requires_grad=True (or leave it out of inputs and use it inside f)"
            )
    return inputs


def _output(out, what: str):
    """``out`` if it is a single-number result that backward() can start from, else a clear error."""
    if isinstance(out, Value):
        return out
    if is_tensor(out):
        if out.size != 1:
            raise ValueError(
                f"gradcheck: f must return a single number, but {what} is a Tensor of shape {out.shape}; "
                "reduce it, e.g. return f(...).sum()"
            )
        if not out.requires_grad:
            raise ValueError(
                f"gradcheck: {what} does not depend on any input through the graph (requires_grad=False); "
                "compute it from the inputs passed to f"
            )
        return out
    raise TypeError(
        f"gradcheck: f must return a Value or a one-element Tensor computed from its inputs, but {what} is "
        f"{type(out).__name__} {short_repr(out)}"
    )


def gradcheck(f: Callable, inputs: Sequence, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3) -> bool:
    """Check the gradients ``backward()`` gives for ``f(*inputs)`` against central differences.

    ``inputs`` are Values (or float64 Tensors with ``requires_grad=True``); ``f`` returns a single
    Value (or a one-element Tensor). Returns True when, for every input (every element of a Tensor
    input), ``|analytic - numeric| <= atol + rtol * |numeric|``; otherwise raises ``GradcheckError``
    naming the input and both numbers. The inputs' ``data`` is restored however the check ends (an
    error in ``f`` included), and their ``grad`` is left holding the analytic gradient.
    """
    inputs = _check_inputs(inputs)
    _check_step("eps", eps, "gradcheck")
    for name, tol in (("atol", atol), ("rtol", rtol)):
        if isinstance(tol, bool) or not isinstance(tol, Real) or not (tol >= 0 and math.isfinite(tol)):
            raise ValueError(f"gradcheck: {name} must be a finite number >= 0, got {tol!r}")
    eps = float(eps)

    originals = [inp.data for inp in inputs]
    try:
        zero_grad(inputs)
        _output(f(*inputs), "f(*inputs)").backward()
        for index, inp in enumerate(inputs):
            name = f"input {index}" + (f" ({inp.label!r})" if getattr(inp, "label", "") else "")
            original = originals[index]
            if isinstance(inp, Value):
                inp.data = original + eps
                up = _as_number(f(*inputs), "gradcheck")
                inp.data = original - eps
                down = _as_number(f(*inputs), "gradcheck")
                inp.data = original
                _compare(name, float(inp.grad), (up - down) / (2 * eps), atol, rtol)
                continue
            # A Tensor: nudge one element at a time. Each nudge is a whole new array assigned to
            # inp.data, never a write into the array inp holds, which a graph built earlier may share.
            analytic = inp.grad.reshape(-1) if inp.grad is not None else None
            for i in range(original.size):
                nudged = original.copy()
                nudged.flat[i] += eps
                inp.data = nudged
                up = _as_number(f(*inputs), "gradcheck")
                nudged = original.copy()
                nudged.flat[i] -= eps
                inp.data = nudged
                down = _as_number(f(*inputs), "gradcheck")
                inp.data = original
                got = 0.0 if analytic is None else float(analytic[i])
                _compare(f"{name}, element {i}", got, (up - down) / (2 * eps), atol, rtol)
    finally:
        # However the check ends (a mismatch, or f raising at a nudged point such as log(-5e-4)),
        # every input gets back the very data it came with.
        for inp, original in zip(inputs, originals):
            inp.data = original
    return True


def _compare(name: str, analytic: float, numeric: float, atol: float, rtol: float) -> None:
    if not abs(analytic - numeric) <= atol + rtol * abs(numeric):
        raise GradcheckError(
            f"gradcheck: gradient of {name} is {analytic!r} from backward() but {numeric!r} from central differences"
        )
