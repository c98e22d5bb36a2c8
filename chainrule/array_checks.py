"""Checks and error messages for array operations: what makes bad input a clear error.

The Tensor engine's operations call these before they compute, so that a wrong shape, an axis out of
range or a value outside an operation's domain is reported with the operation's name and the values
or shapes at fault, never as a NumPy traceback from deep inside, and never as a silent NaN. A domain error
(division by zero, log, pow, exp overflow) is worded by ``chainrule/domains.py``, as the scalar engine's is:
this module supplies only how a Tensor shows the values at fault (one number as itself, more as a few and
how many) and where they are.
"""

from __future__ import annotations

import numpy as np

from chainrule.autodiff import is_tensor, short_repr
from chainrule.domains import div_by_zero, exp_overflow, log_domain, pow_domain


class AxisError(ValueError, IndexError):
    """An axis or dimension out of range for a tensor's shape: a ValueError, as chainrule's other bad values
    are, and an IndexError, as PyTorch reports a dimension out of range (NumPy's AxisError is both too)."""


def float_dtype(dtype, where: str) -> np.dtype:
    if dtype is None:
        return np.dtype(np.float64)
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{where}: dtype must be a floating type such as float32 or float64, got {dtype!r}") from None
    if dt.kind != "f":
        raise TypeError(f"{where}: dtype must be a floating type such as float32 or float64, got {dt}")
    return dt


def as_float_array(x, where: str, dtype=None) -> np.ndarray:
    """``x`` (a number, nested list, ndarray or Tensor) as a float ndarray of ``dtype`` (float64 if None).

    Raises TypeError, naming ``where``, for strings, objects (e.g. a list of ``Value`` s), complex numbers
    and other non-numeric data, and ValueError for ragged lists. Does not copy an array that already has
    the right dtype.
    """
    dt = float_dtype(dtype, where)
    if is_tensor(x):
        x = x._data
    try:
        arr = np.asarray(x)
    except ValueError as err:
        raise ValueError(f"{where}: cannot make an array from {short_repr(x)}: {err}") from None
    if arr.dtype.kind not in "biuf":
        hint = " (to use Values, build a scalar graph instead)" if arr.dtype.kind == "O" else ""
        raise TypeError(f"{where}: expected real numbers, got an array of dtype {arr.dtype} from {short_repr(x)}{hint}")
    return arr.astype(dt, copy=False)


def some_values(arr: np.ndarray, limit: int = 5) -> str:
    """A few entries of ``arr`` for an error message."""
    flat = arr.ravel()
    shown = ", ".join(repr(float(v)) for v in flat[:limit])
    return f"[{shown}{', ...' if flat.size > limit else ''}] ({flat.size} value{'s' if flat.size != 1 else ''})"


def normalize_axes(axis, ndim: int, where: str) -> tuple[int, ...] | None:
    """``axis`` (None, an int or a tuple of ints) as a tuple of non-negative axes, or an error."""
    if axis is None:
        return None
    if isinstance(axis, (int, np.integer)):
        axes = (axis,)
    elif isinstance(axis, (tuple, list)):
        axes = tuple(axis)
    else:
        raise TypeError(f"{where}: axis must be an int or a tuple of ints, got {short_repr(axis)}")
    if not axes:
        # NumPy reduces over no axis for axis=(), PyTorch over every axis for dim=(): whichever chainrule
        # gave, code written for the other library would get a wrong number without an error.
        raise ValueError(
            f"{where}: axis {axis!r} names no axis (NumPy would reduce over none, PyTorch over all); pass "
            "axis=None for every axis"
        )
    normalized = []
    for a in axes:
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"{where}: axis must be an int or a tuple of ints, got {axis!r}")
        if not -ndim <= a < ndim:
            raise AxisError(f"{where}: axis {a} is out of range for a tensor with {ndim} dimension(s)")
        normalized.append(int(a) % ndim)
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{where}: axis {axis!r} repeats an axis")
    return tuple(normalized)


def one_axis(axis, ndim: int, where: str, wanted: str = "an int") -> int:
    """``axis`` as a non-negative int: one axis, never a tuple (which ``normalize_axes`` would take, and a
    caller that wants one axis would read as its first entry). ``wanted`` says what is accepted."""
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{where}: axis must be {wanted}, got {short_repr(axis)}")
    return normalize_axes(axis, ndim, where)[0]


def broadcasting(ufunc, a: np.ndarray, b: np.ndarray, where: str) -> np.ndarray:
    """``ufunc(a, b)`` with NumPy broadcasting, or an error that names the operation and both shapes."""
    try:
        return ufunc(a, b)
    except ValueError:
        raise broadcast_error(a, b, where) from None


def broadcast_error(a: np.ndarray, b: np.ndarray, where: str) -> ValueError:
    return ValueError(
        f"{where}: shapes {a.shape} and {b.shape} cannot be broadcast together "
        "(each trailing dimension must match or be 1)"
    )


def where_false(mask: np.ndarray, limit: int = 5) -> str:
    positions = np.argwhere(~np.asarray(mask, dtype=bool))[:limit]
    shown = ", ".join(str(tuple(int(i) for i in p)) for p in positions)
    return f"index {shown}" if mask.ndim else "the only entry"


def at_fault(bad: np.ndarray) -> str:
    """Where ``bad`` is true, for an error message: `` at index (1,), (2, 0)``; nothing for one number."""
    return f" at {where_false(~bad)}" if bad.ndim else ""


def _values(entries: np.ndarray) -> str:
    # one number as the scalar engine shows it, more as a few of them and how many
    return repr(float(entries.ravel()[0])) if entries.size == 1 else some_values(entries)


def _operand_values(operand: np.ndarray, broadcast: np.ndarray, bad: np.ndarray) -> str:
    # one number (a constant exponent, a divisor of 0) as itself, else its entries where it went wrong
    return _values(operand if operand.size == 1 else broadcast[bad])


def check_pow_domain(base: np.ndarray, exponent: np.ndarray) -> None:
    """Raise, as the scalar engine does (``domains.pow_domain``), where ``base ** exponent`` has no real value."""
    with np.errstate(invalid="ignore"):
        negative_root = (base < 0) & (exponent != np.floor(exponent))
        zero_to_negative = (base == 0) & (exponent < 0)
    if not (negative_root.any() or zero_to_negative.any()):
        return
    bases, exponents = np.broadcast_arrays(base, exponent)
    problem, bad = ("root", negative_root) if negative_root.any() else ("zero", zero_to_negative)
    raise pow_domain(
        problem, _operand_values(base, bases, bad), _operand_values(exponent, exponents, bad), at_fault(bad)
    )


def div_by_zero_error(dividend: np.ndarray, divisor: np.ndarray) -> Exception:
    """The error of ``dividend / divisor`` where the divisor has zeros (``domains.div_by_zero``): the
    dividends there, and where they are. Shapes that do not broadcast are the error to report first."""
    zero = divisor == 0
    try:
        dividends, zeros = np.broadcast_arrays(dividend, zero)
    except ValueError:
        return broadcast_error(dividend, divisor, "div")
    where = repr(float(divisor)) if divisor.ndim == 0 else f"the divisor of shape {divisor.shape} is 0{at_fault(zero)}"
    return div_by_zero(_operand_values(dividend, dividends, zeros), where)


def log_domain_error(x: np.ndarray, positive: np.ndarray) -> ValueError:
    """The error of ``log(x)`` where some entries are not > 0 (``domains.log_domain``): them, and where."""
    return log_domain(f"{_values(x[~positive])}{at_fault(~positive)}")


def exp_overflow_error(x: np.ndarray, limit: float) -> OverflowError:
    """The error of ``exp(x)`` where some entries are above ``limit`` (``domains.exp_overflow``)."""
    big = x > limit
    largest = f"; the largest input is {float(x.max())!r}" if big.sum() > 1 else ""
    return exp_overflow(
        _values(x[big]), at_fault(big), float_name=str(x.dtype), limit=limit, detail=largest, stable_form="log_softmax"
    )


def matmul_error(a_shape, b_shape) -> str:
    if not a_shape or not b_shape:
        return f"matmul: shapes {a_shape} and {b_shape}: both operands need at least one dimension (use * for scalars)"
    inner_a = a_shape[-1]
    inner_b = b_shape[0] if len(b_shape) == 1 else b_shape[-2]
    if inner_a != inner_b:
        which = "its only" if len(b_shape) == 1 else "its second-to-last"
        return (
            f"matmul: shapes {a_shape} and {b_shape} are not aligned: the first has {inner_a} columns (its last "
            f"dimension) but the second has {inner_b} rows ({which} dimension)"
        )
    return f"matmul: the batch dimensions of shapes {a_shape} and {b_shape} cannot be broadcast together"
