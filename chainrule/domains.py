"""Each operation's domain and the error for an input outside it, written once for both engines.

Some operations have no real (or no finite) result for some inputs:

=========  ===============================================  =================
operation  no result when                                   error
=========  ===============================================  =================
div        the divisor is 0                                 ZeroDivisionError
log        the input is not > 0 (0, negative or NaN)        ValueError
pow        the base is 0 and the exponent negative          ZeroDivisionError
pow        the base is negative, the exponent not whole     ValueError
pow        the result is too large for a float (Value)      OverflowError
exp        the input is above ln(largest float): 709.78     OverflowError
=========  ===============================================  =================

Each engine tests its inputs in its own forward code, as cheaply as it can (comparisons of floats in
``engine.py`` and ``scalar_rules.py``, NumPy masks in ``tensor_ops.py`` and ``array_checks.py``), and only
when a test fails asks this module for the error. So the same bad input gives the same exception type and
the same words in both engines (``Value(0.0).log()`` and ``Tensor([0.0]).log()`` both say ``log: input
must be > 0, got ...``); an engine supplies only how it shows the values at fault: a number (and its label)
for a Value, a few of the values and where they are for a Tensor.

The standard library only: the scalar engine imports this module and runs without NumPy.
"""

from __future__ import annotations

import math
import sys

EXP_LIMIT = math.log(sys.float_info.max)  # about 709.78: exp of anything larger overflows a float64


def div_by_zero(dividend: str, divisor: str) -> ZeroDivisionError:
    """``dividend / divisor`` where the divisor is 0: ``div: cannot divide 7.5 by zero (0.0)``."""
    return ZeroDivisionError(f"div: cannot divide {dividend} by zero ({divisor})")


def log_domain(got: str) -> ValueError:
    """``log`` of an input that is not > 0: ``log: input must be > 0, got -1.0``."""
    return ValueError(f"log: input must be > 0, got {got}")


# what can be wrong with base ** exponent: the error's type and what the message says of the power
POW_PROBLEMS = {
    "zero": (ZeroDivisionError, "divides by zero (negative power of zero)"),
    "root": (ValueError, "has no real value (negative base, non-integer exponent)"),
    "overflow": (OverflowError, "is too large for a float"),
}


def pow_domain(problem: str, base: str, exponent: str, where: str = "") -> ArithmeticError:
    """``base ** exponent`` with no real value; ``problem`` is a key of ``POW_PROBLEMS``.

    ``pow: -2.0 ** 0.5 has no real value (negative base, non-integer exponent)``; ``where`` (e.g.
    `` at index (1,)``) follows the two operands."""
    error, phrase = POW_PROBLEMS[problem]
    return error(f"pow: {base} ** {exponent}{where} {phrase}")


def exp_overflow(
    x: str,
    where: str = "",
    float_name: str = "a float",
    limit: float = EXP_LIMIT,
    detail: str = "",
    stable_form: str = "log-sum-exp",
) -> OverflowError:
    """``exp(x)`` above the largest float: ``exp: exp(1000.0) is too large for a float (inputs above
    about 709.78 overflow); scale the input down, or use a numerically stable form such as log-sum-exp``.
    ``detail`` adds to what is said in the parentheses; ``stable_form`` is the engine's own stable form."""
    return OverflowError(
        f"exp: exp({x}){where} is too large for {float_name} (inputs above about {limit:.2f} overflow{detail}); "
        f"scale the input down, or use a numerically stable form such as {stable_form}"
    )
