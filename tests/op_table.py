"""The one table of operations: every public operation of both engines, written once, checked against
PyTorch (float64) on plain floats, on scalar ``Value`` s and on ``Tensor`` s (minitorch's idea).

An entry (``Op``) holds:

* ``name``, unique: tests are named after it and ``op_named`` finds it;
* ``ours``: the chainrule expression, a function of its operands, written once with the operators and
  methods both engines have (``lambda a, b: a * b``, ``lambda x: x.tanh()``), or chainrule's fused
  functions and losses;
* ``theirs``: the torch equivalent as ``theirs(torch, *tensors)``, or None where ``ours`` itself runs on
  torch tensors (the same operators and methods);
* ``domains``: where each operand is drawn from (``Domain``); the arity is their number;
* ``engines``: FLOAT (plain Python numbers, where the expression is plain arithmetic: the value only),
  VALUE and TENSOR;
* ``value_shapes`` and ``shapes``: each operand's shape on the Value engine (() is a Value, (n,) a list
  of them, (n, m) a list of lists) and on the Tensor engine, one tuple per case; by default every
  operand is one Value, and a (3, 4) Tensor;
* ``constants``: operands passed unchanged to both libraries (a number, a list, an array), not
  differentiated;
* ``smooth``: the domains where central differences and second derivatives are meaningful (gradcheck,
  the Hessian); None: ``domains``; ``NOT_SMOOTH``: nowhere (e.g. ``a ** b`` at a negative base);
* ``grad_atol`` (a function of the inputs) and ``tol``: where an operation needs other tolerances;
* ``programs``: whether the random programs of ``test_random_graphs.py`` may use it as a step (single
  operations on operands that ``Domain.into`` can reach: not the compositions, fused layers and losses).

``Case`` is one entry on one engine with one set of shapes: it draws inputs and checks them with
``oracle.check_against_torch``, the one comparison with torch.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field
from typing import Callable, NamedTuple

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from oracle import check_against_torch, numbers_of

from chainrule import Tensor, Value, cat, gradcheck, stack
from chainrule.engine import Inputs, value_sum, weighted_sum
from chainrule.engine import sum_of_squares as value_sum_of_squares
from chainrule.losses import binary_cross_entropy, cross_entropy, hinge, l2_penalty, mse
from chainrule.nn import BatchNorm1d, Dropout, Embedding, Flatten
from chainrule.tensor import hinge_loss, linear
from chainrule.tensor import sum_of_squares as tensor_sum_of_squares

FLOAT, VALUE, TENSOR = "float", "Value", "Tensor"
ENGINES = (FLOAT, VALUE, TENSOR)

# Each engine's tolerances (an entry's ``tol`` overrides them). A Value's arithmetic is Python's, so its
# values and gradients agree with torch to a few ulps; a Tensor's sums and products are NumPy's, which
# may add in another order than torch.
TOLERANCES = {
    FLOAT: {"rtol": 1e-12, "atol": 1e-300},
    VALUE: {"rtol": 1e-12, "atol": 1e-300},
    TENSOR: {"rtol": 1e-10, "atol": 1e-12},
}
# Sums of several operations (the compositions) round differently in each library, and their terms
# can cancel: there the absolute tolerance is a few ulps of the terms.
COMPOSITE = {"rtol": 1e-10, "atol": 1e-12}
LOSS = {"rtol": 1e-12, "atol": 1e-15, "grad_rtol": 1e-10, "grad_atol": 1e-15}
HESSIAN = {"hessian_rtol": 1e-8, "hessian_atol": 1e-12}


# -- where operands come from -----------------------------------------------------------------------
class Into(NamedTuple):
    """A way to bring any node of a random program into a domain (``template`` shows it in a program)."""

    template: str
    fn: Callable


ANYWHERE = (Into("{}", lambda x: x),)
TANH = Into("tanh({})", lambda x: x.tanh())
ONE_PLUS_SQUARE = Into("(1 + {0}*{0})", lambda x: 1 + x * x)
EXP_TANH = Into("exp(tanh({}))", lambda x: x.tanh().exp())
SIGMOID = Into("sigmoid({})", lambda x: x.sigmoid())
POSITIVE_INTO = (ONE_PLUS_SQUARE, EXP_TANH, SIGMOID)


@dataclass(frozen=True)
class Domain:
    """Where one operand is drawn from: floats in [lo, hi] (optionally whole numbers, or at least ``gap``
    away from zero), always including the ``edges``. ``into``: how a random program brings any node into
    the domain (empty: programs do not use the operations that need it)."""

    lo: float
    hi: float
    edges: tuple
    gap: float = 0.0  # |x| >= gap
    whole: bool = False  # integer-valued floats (an exponent of a negative base)
    as_int: bool = False  # Python ints (a constant operand such as a class index)
    into: tuple[Into, ...] = ()

    def strategy(self) -> st.SearchStrategy:
        """Hypothesis's numbers from this domain, the edges among them."""
        if self.whole or self.as_int:
            numbers = st.integers(int(self.lo), int(self.hi)).filter(lambda n: abs(n) >= self.gap)
            if not self.as_int:
                numbers = numbers.map(float)
        else:
            numbers = st.floats(self.lo, self.hi, allow_nan=False, allow_subnormal=False)
            if self.gap:
                numbers = numbers.filter(lambda x: abs(x) >= self.gap)
        return st.one_of(st.sampled_from(self.edges), numbers)

    @property
    def dtype(self):
        return np.int64 if self.as_int else np.float64

    def arrays(self, shape: tuple) -> st.SearchStrategy:
        """Arrays of ``shape`` (one number: a 0-d array) of numbers from this domain."""
        return operand_strategy(self, shape)

    def sample(self, rng: np.random.Generator, shape: tuple) -> np.ndarray:
        """Numbers spread evenly over the domain: ties and kinks have probability zero (for gradcheck)."""
        if self.whole or self.as_int:
            choices = [n for n in range(int(self.lo), int(self.hi) + 1) if abs(n) >= self.gap]
            return rng.choice(choices, shape).astype(self.dtype)
        x = rng.uniform(self.lo, self.hi, shape)
        while self.gap and (np.abs(x) < self.gap).any():
            x = np.where(np.abs(x) < self.gap, rng.uniform(self.lo, self.hi, shape), x)
        return np.asarray(x)


@functools.cache  # made once per domain and shape: Hypothesis spends its time building strategies otherwise
def operand_strategy(domain: Domain, shape: tuple) -> st.SearchStrategy:
    if shape == ():
        return domain.strategy().map(lambda x: np.asarray(x, dtype=domain.dtype))
    return arrays(domain.dtype, shape, elements=domain.strategy())


# Wide domains: the first-order checks reach the ends of the float range.
REAL = Domain(-1e6, 1e6, (0.0, 1.0, -1.0, 0.5, -2.5, 1e-8, -1e-8, 1e6, -1e6), into=ANYWHERE)
HUGE = Domain(-1e150, 1e150, (0.0, 1.0, -3.0, 1e150, -1e150, 1e-150, -7.5e100), into=ANYWHERE)
NONZERO = Domain(-1e6, 1e6, (1.0, -1.0, 1e-6, -1e-6, 3.0, -0.25, 1e6, -1e6), gap=1e-6, into=POSITIVE_INTO[:2])
POSITIVE = Domain(1e-300, 1e300, (1e-300, 1e-8, 0.5, 1.0, 2.0, np.e, 1e300), into=POSITIVE_INTO)
NON_NEGATIVE = Domain(0.0, 1e300, (0.0, 1e-300, 0.25, 1.0, 4.0, 1e300), into=(ONE_PLUS_SQUARE,))
MODERATE_POSITIVE = Domain(1e-50, 1e50, (1e-50, 1e-3, 0.5, 1.0, 9.0, 1e50), into=(ONE_PLUS_SQUARE,))
SQUARABLE = Domain(-1e100, 1e100, (0.0, 1.0, -1.0, 3.0, -0.5, 1e100, -1e100), into=ANYWHERE)
CUBABLE = Domain(-1e60, 1e60, (0.0, 1.0, -1.0, 2.0, -0.5, 1e60, -1e60), into=ANYWHERE)
EXP_INPUT = Domain(-700.0, 709.0, (0.0, 1.0, -1.0, 709.0, -700.0, 1e-8), into=(*ANYWHERE, TANH))
SATURATING = Domain(-1e3, 1e3, (0.0, 1.0, -1.0, 20.0, -20.0, 1e3, -1e3, 1e-8), into=ANYWHERE)
POWER_OF_TWO = Domain(-1000.0, 1000.0, (0.0, 1.0, -1.0, 0.5, 1000.0, -1000.0), into=ANYWHERE)
POWER_OF_2_5 = Domain(-700.0, 700.0, (0.0, 1.0, -3.0, 700.0), into=ANYWHERE)
BASE = Domain(1e-3, 1e3, (1e-3, 0.5, 1.0, 2.0, 1e3), into=POSITIVE_INTO)
EXPONENT = Domain(-10.0, 10.0, (0.0, 1.0, -1.0, 0.5, 2.0, 10.0, -10.0), into=(*ANYWHERE, TANH))
NEGATIVE_BASE = Domain(-1e3, -1e-3, (-1e-3, -0.5, -1.0, -2.0, -1e3))
WHOLE_EXPONENT = Domain(-6, 6, (0.0, 1.0, 2.0, 3.0, -1.0, -2.0, 6.0), whole=True)
ZERO = Domain(0.0, 0.0, (0.0,))
NON_NEGATIVE_EXPONENT = Domain(0.0, 10.0, (0.0, 0.5, 1.0, 2.0, 10.0))
CONSTANT = Domain(-1e3, 1e3, (0.0, 1.0, -1.0, 2.0, -0.5, 1e3))
NONZERO_CONSTANT = Domain(-1e3, 1e3, (1.0, -1.0, 2.0, -0.5, 1e3, 1e-3), gap=1e-3)
INT_CONSTANT = Domain(-50, 50, (0, 1, -1, 2, 50), as_int=True)
# Small domains: where central differences and second derivatives are reliable, and where operations
# that combine many entries (matmul, softmax, compositions) keep their terms comparable.
SMALL = Domain(-5.0, 5.0, (0.3, -0.7, 2.0), into=ANYWHERE)
SMALL_NONZERO = Domain(-5.0, 5.0, (0.3, -0.7, 2.0), gap=0.2, into=POSITIVE_INTO[:2])
SMALL_POSITIVE = Domain(0.2, 5.0, (0.3, 1.0, 2.5), into=POSITIVE_INTO)
AWAY_FROM_KINK = Domain(-5.0, 5.0, (0.3, -0.7, 2.0), gap=1e-3, into=ANYWHERE)
# the compositions: around the point the second-derivative tests were first written at
POINT = Domain(-2.0, 2.0, (0.7, -1.3, 0.4, 1.0, -1.0), into=ANYWHERE)
POINT_NONZERO = Domain(-2.0, 2.0, (0.7, -1.3, 0.4, 1.0, -1.0), gap=0.1, into=ANYWHERE)
# the losses' operands
SCORES = Domain(-3.0, 3.0, (1.0, -1.0, 0.5, 2.0, 0.0))  # 1 and -1 put hinge's margin on its kink
SIGNS = Domain(-1, 1, (-1.0, 1.0), gap=1, whole=True)  # hinge's labels
PROBABILITY = Domain(0.01, 0.99, (0.01, 0.25, 0.5, 0.99))
UNIT = Domain(0.0, 1.0, (0.0, 1.0, 0.3))  # a binary cross-entropy target
LOGITS = Domain(-8.0, 8.0, (0.0, 1e-12, -1e-12, 2.5, -3.0, 8.0))  # 0 and +-1e-12: the stable formula's seam
CLASSES = Domain(0, 3, (0, 3), as_int=True)  # a class index among 4 (or more)
TWO_CLASSES = Domain(0, 1, (0, 1), as_int=True)

NOT_SMOOTH = ()


# -- the entries --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Op:
    """One operation; see the module's docstring."""

    name: str
    ours: Callable
    theirs: Callable | None
    domains: tuple[Domain, ...]
    engines: tuple[str, ...]
    shapes: tuple[tuple[tuple, ...], ...] = ()  # Tensor cases; () means each operand (3, 4), a constant ()
    value_shapes: tuple[tuple[tuple, ...], ...] = ()  # Value cases; () means every operand one number
    constants: tuple[int, ...] = ()
    smooth: tuple[Domain, ...] | None = None
    grad_atol: Callable[..., float] | None = None
    tol: dict = field(default_factory=dict)
    programs: bool = True
    broadcasts: bool = False  # an elementwise binary operation: test_tensor draws broadcasting shapes for it

    @property
    def arity(self) -> int:
        return len(self.domains)

    @property
    def smooth_domains(self) -> tuple[Domain, ...]:
        return self.domains if self.smooth is None else self.smooth

    def theirs_in(self, torch) -> Callable:
        """The torch equivalent as a function of torch tensors alone."""
        if self.theirs is None:
            return self.ours
        return lambda *tensors: self.theirs(torch, *tensors)

    def shape_cases(self, engine: str) -> tuple[tuple[tuple, ...], ...]:
        """The operands' shapes on ``engine``, one tuple per case."""
        if engine == TENSOR:
            return self.shapes or (tuple(() if i in self.constants else (3, 4) for i in range(self.arity)),)
        if engine == VALUE and self.value_shapes:
            return self.value_shapes
        return (((),) * self.arity,)

    @property
    def scalar(self) -> bool:
        """Whether every operand is one number on the Value engine (so the edge values can be combined)."""
        return VALUE in self.engines and not self.value_shapes

    @property
    def in_programs(self) -> bool:
        return self.programs and not self.constants and all(d.into for d in self.domains)


def same(fn: Callable) -> tuple[Callable, None]:
    """``ours`` and ``theirs`` of an expression written identically for chainrule and torch."""
    return fn, None


ALL = (FLOAT, VALUE, TENSOR)  # plain arithmetic: floats too
NODES = (VALUE, TENSOR)
TENSORS = (TENSOR,)
VALUES = (VALUE,)
SATURATION = {"grad_atol": lambda *inputs: 1e-15}


def elementwise_binary(name: str, fn: Callable, domains, *shapes, smooth) -> Op:
    """``a op b`` on two operands of any broadcastable shapes (``shapes``: the Tensor cases besides (3, 4) twice)."""
    return Op(name, *same(fn), domains, ALL, shapes=(((3, 4), (3, 4)), *shapes), smooth=smooth, broadcasts=True)


def with_a_number(name: str, fn: Callable, domains: tuple, smooth: tuple, number: int) -> Op:
    """An operand and a plain number (operand ``number``, passed as it is to both libraries)."""
    return Op(name, *same(fn), domains, ALL, constants=(number,), smooth=smooth)


def relu_hinge(torch, scores, labels, reduction="mean"):
    """hinge's definition, relu(1 - y * score), in torch (margin_ranking_loss differs at the kink)."""
    terms = (1 - torch.as_tensor(labels) * scores).relu()
    return terms.mean() if reduction == "mean" else terms.sum()


def added_left_to_right(total, terms):
    """``total + terms[0] + terms[1] + ...`` in that order (weighted_sum and value_sum add so)."""
    for term in terms:
        total = total + term
    return total


def on_tensors(name: str, ours: Callable, theirs: Callable | None = None, *shapes: tuple, programs=True) -> Op:
    """An operation of one Tensor drawn from SMALL, of shape (3, 4) unless ``shapes`` are given."""
    return Op(name, ours, theirs, (SMALL,), TENSORS, shapes=tuple((shape,) for shape in shapes), programs=programs)


def reversed_axes(torch, a):
    return a.permute(tuple(reversed(range(a.dim()))))


def F(torch):
    return torch.nn.functional


INDEX_ROWS = np.array([0, 2, 0, 0])


def ramp(shape) -> np.ndarray:
    """0, 0.1, 0.2, ... in ``shape``: added to the operand of std and batch norm, so that the fixed point
    (every entry equal) is not where the spread is 0. There std has no derivative (torch's second one is
    NaN), and batch norm's second derivatives are rounding errors divided by eps ** 1.5."""
    return np.arange(float(np.prod(shape))).reshape(tuple(shape)) / 10


MATRIX = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])  # a constant left operand of `@`

OPS = [
    # -- two operands ---------------------------------------------------------------------------------
    elementwise_binary("a + b", lambda a, b: a + b, (HUGE, HUGE), ((3, 1), (1, 4)), smooth=(SMALL, SMALL)),
    elementwise_binary("a - b", lambda a, b: a - b, (HUGE, HUGE), ((5, 4), (4,)), smooth=(SMALL, SMALL)),
    elementwise_binary("a * b", lambda a, b: a * b, (HUGE, HUGE), ((5, 4), (4,)), ((), (2, 3)), smooth=(SMALL, SMALL)),
    elementwise_binary(
        "a / b", lambda a, b: a / b, (REAL, NONZERO), ((2, 3, 4), (3, 1)), smooth=(SMALL, SMALL_NONZERO)
    ),
    # b is not 0 in the smooth domain: there torch's second derivative d/db (b * a**(b-1)) drops a**-1
    # (see test_higher_order.py); chainrule keeps it
    elementwise_binary(
        "a ** b (a > 0)", lambda a, b: a**b, (BASE, EXPONENT), ((3, 4), (4,)), smooth=(SMALL_POSITIVE, SMALL_NONZERO)
    ),
    # Not smooth at a <= 0: there the gradient wrt b is NaN or one-sided, and torch's second derivatives
    # go through log(a).
    elementwise_binary(
        "a ** b (a < 0, whole b)", lambda a, b: a**b, (NEGATIVE_BASE, WHOLE_EXPONENT), smooth=NOT_SMOOTH
    ),
    elementwise_binary("a ** b (a = 0, b >= 0)", lambda a, b: a**b, (ZERO, NON_NEGATIVE_EXPONENT), smooth=NOT_SMOOTH),
    Op(
        "a @ b",
        *same(lambda a, b: a @ b),
        (SMALL, SMALL),
        TENSORS,
        shapes=(
            ((3, 4), (4, 5)),
            ((4,), (4, 5)),
            ((3, 4), (4,)),
            ((4,), (4,)),
            ((2, 3, 4), (2, 4, 5)),
            ((2, 3, 4), (4, 5)),
            ((4,), (2, 4, 5)),
        ),
    ),
    # -- an operand and a number, on either side ---------------------------------------------------
    with_a_number("a + c", lambda a, c: a + c, (HUGE, CONSTANT), (SMALL, CONSTANT), 1),
    with_a_number("c + a", lambda c, a: c + a, (CONSTANT, HUGE), (CONSTANT, SMALL), 0),
    with_a_number("a - c", lambda a, c: a - c, (HUGE, CONSTANT), (SMALL, CONSTANT), 1),
    with_a_number("c - a", lambda c, a: c - a, (CONSTANT, HUGE), (CONSTANT, SMALL), 0),
    with_a_number("a * c", lambda a, c: a * c, (HUGE, CONSTANT), (SMALL, CONSTANT), 1),
    with_a_number("c * a", lambda c, a: c * a, (CONSTANT, HUGE), (CONSTANT, SMALL), 0),
    with_a_number("a / c", lambda a, c: a / c, (HUGE, NONZERO_CONSTANT), (SMALL, NONZERO_CONSTANT), 1),
    with_a_number("c / a", lambda c, a: c / a, (CONSTANT, NONZERO), (CONSTANT, SMALL_NONZERO), 0),
    with_a_number("a ** c", lambda a, c: a**c, (BASE, EXPONENT), (SMALL_POSITIVE, SMALL), 1),
    with_a_number("a + n (int)", lambda a, n: a + n, (HUGE, INT_CONSTANT), (SMALL, INT_CONSTANT), 1),
    with_a_number("n * a (int)", lambda n, a: n * a, (INT_CONSTANT, HUGE), (INT_CONSTANT, SMALL), 0),
    Op("2 + a", *same(lambda a: 2 + a), (HUGE,), ALL, smooth=(SMALL,)),
    Op("2 - a", *same(lambda a: 2 - a), (HUGE,), ALL, smooth=(SMALL,)),
    Op("2 * a", *same(lambda a: 2 * a), (HUGE,), ALL, smooth=(SMALL,)),
    Op("2.5 * a", *same(lambda a: 2.5 * a), (HUGE,), ALL, smooth=(SMALL,)),
    Op("a - 1.5", *same(lambda a: a - 1.5), (HUGE,), ALL, smooth=(SMALL,)),
    Op("a / 4", *same(lambda a: a / 4), (HUGE,), ALL, smooth=(SMALL,)),
    Op("2 / a", *same(lambda a: 2 / a), (NONZERO,), ALL, smooth=(SMALL_NONZERO,)),
    Op("2 ** a", *same(lambda a: 2**a), (POWER_OF_TWO,), ALL, smooth=(SMALL,)),
    Op("2.5 ** a", *same(lambda a: 2.5**a), (POWER_OF_2_5,), ALL, smooth=(SMALL,)),
    Op(
        "c @ a",
        lambda a: MATRIX @ a,
        lambda torch, a: torch.tensor(MATRIX) @ a,
        (SMALL,),
        TENSORS,
        shapes=(
            ((3, 4),),
            ((3,),),
        ),
    ),
    # -- powers ------------------------------------------------------------------------------------
    Op("a ** 2", *same(lambda a: a**2), (SQUARABLE,), ALL, smooth=(SMALL,)),
    Op("a ** 3", *same(lambda a: a**3), (CUBABLE,), ALL, smooth=(SMALL,)),
    Op("a ** 0", *same(lambda a: a**0), (REAL,), ALL, smooth=(SMALL,)),
    Op("a ** 1", *same(lambda a: a**1), (REAL,), ALL, smooth=(SMALL,)),
    Op("a ** -1", *same(lambda a: a**-1), (NONZERO,), ALL, smooth=(SMALL_NONZERO,)),
    Op("a ** -2", *same(lambda a: a**-2), (NONZERO,), ALL, smooth=(SMALL_NONZERO,)),
    Op("a ** -1.5", *same(lambda a: a**-1.5), (MODERATE_POSITIVE,), ALL, smooth=(SMALL_POSITIVE,)),
    Op("a ** 0.5", *same(lambda a: a**0.5), (NON_NEGATIVE,), ALL, smooth=(SMALL_POSITIVE,)),
    # -- one operand -------------------------------------------------------------------------------
    Op("-a", *same(lambda a: -a), (HUGE,), ALL, smooth=(SMALL,)),
    Op("exp", *same(lambda a: a.exp()), (EXP_INPUT,), NODES, smooth=(SMALL,)),
    Op("log", *same(lambda a: a.log()), (POSITIVE,), NODES, smooth=(SMALL_POSITIVE,)),
    Op("tanh", *same(lambda a: a.tanh()), (SATURATING,), NODES, smooth=(SMALL,), **SATURATION),
    Op("relu", *same(lambda a: a.relu()), (REAL,), NODES, smooth=(AWAY_FROM_KINK,)),
    Op("sigmoid", *same(lambda a: a.sigmoid()), (SATURATING,), NODES, smooth=(SMALL,), **SATURATION),
    Op("abs", *same(lambda a: a.abs()), (REAL,), TENSORS, smooth=(AWAY_FROM_KINK,)),
    # -- one operand used more than once: every use must contribute to its gradient -----------------
    Op("a + a", *same(lambda a: a + a), (HUGE,), ALL, smooth=(SMALL,)),
    Op("b * b", *same(lambda b: b * b), (SQUARABLE,), ALL, smooth=(SMALL,)),
    Op("a * a * a", *same(lambda a: a * a * a), (CUBABLE,), ALL, smooth=(SMALL,)),
    Op("a - a", *same(lambda a: a - a), (HUGE,), ALL, smooth=(SMALL,)),
    Op("a / a", *same(lambda a: a / a), (NONZERO,), ALL, smooth=(SMALL_NONZERO,), grad_atol=lambda a: 1e-15 / abs(a)),
    # -- reductions (Tensors) ------------------------------------------------------------------------
    on_tensors("sum", lambda a: a.sum()),
    on_tensors("sum(axis=1)", lambda a: a.sum(axis=1), lambda torch, a: a.sum(dim=1)),
    on_tensors("sum(axis=0, keepdims)", lambda a: a.sum(axis=0, keepdims=True), lambda t, a: a.sum(0, True)),
    on_tensors(
        "sum(axis=(0, 2), keepdims)",
        lambda a: a.sum(axis=(0, 2), keepdims=True),
        lambda torch, a: a.sum(dim=(0, 2), keepdim=True),
        (2, 3, 4),
    ),
    on_tensors("sum(axis=-1)", lambda a: a.sum(axis=-1), lambda torch, a: a.sum(dim=-1), (2, 3, 4)),
    on_tensors("mean", lambda a: a.mean()),
    on_tensors("mean(axis=0)", lambda a: a.mean(axis=0), lambda torch, a: a.mean(dim=0)),
    on_tensors("mean(axis=-1, keepdims)", lambda a: a.mean(-1, True)),
    on_tensors(
        "mean(axis=(1, 2), keepdims)",
        lambda a: a.mean(axis=(1, 2), keepdims=True),
        lambda torch, a: a.mean(dim=(1, 2), keepdim=True),
        (2, 3, 4),
    ),
    # max: drawn numbers often tie; the gradient is split evenly among ties, as torch.amax does
    on_tensors("max", lambda a: a.max(), lambda torch, a: a.amax()),
    on_tensors("max(axis=1)", lambda a: a.max(axis=1), lambda torch, a: a.amax(dim=1)),
    on_tensors(
        "max(axis=(0, 2), keepdims)",
        lambda a: a.max(axis=(0, 2), keepdims=True),
        lambda torch, a: a.amax(dim=(0, 2), keepdim=True),
        (2, 3, 4),
    ),
    on_tensors("softmax", lambda a: a.softmax(), lambda torch, a: a.softmax(-1)),
    on_tensors("log_softmax", lambda a: a.log_softmax(), lambda torch, a: a.log_softmax(-1)),
    # Not in random programs: on a 0-d Tensor chainrule's softmax and log_softmax take any axis (5 too),
    # torch's only 0 and -1 (and chainrule's sum, mean and max none)
    on_tensors("softmax(axis=0)", lambda a: a.softmax(axis=0), lambda torch, a: a.softmax(0), programs=False),
    on_tensors(
        "log_softmax(axis=1)", lambda a: a.log_softmax(axis=1), lambda t, a: a.log_softmax(1), (2, 3, 4), programs=False
    ),
    # -- shapes and indexing (Tensors) ---------------------------------------------------------------
    on_tensors("reshape", lambda a: a.reshape(4, 3) * a.reshape((4, 3)), lambda t, a: a.reshape(4, 3) ** 2),
    on_tensors("reshape(-1)", lambda a: a.reshape(-1), None, (2, 3, 2)),
    on_tensors("transpose", lambda a: a.transpose(), reversed_axes, (2, 3, 4)),
    on_tensors("transpose(1, 0, 2)", lambda a: a.transpose(1, 0, 2), lambda t, a: a.permute(1, 0, 2), (2, 3, 4)),
    on_tensors("T", lambda a: a.T, reversed_axes),
    on_tensors("a[1]", lambda a: a[1]),
    on_tensors("a[1:, ::2]", lambda a: a[1:, ::2]),
    on_tensors("a[repeated rows]", lambda a: a[INDEX_ROWS], lambda torch, a: a[INDEX_ROWS.tolist()]),
    on_tensors("a[index pairs]", lambda a: a[np.arange(3), np.array([1, 3, 1])], lambda t, a: a[[0, 1, 2], [1, 3, 1]]),
    on_tensors("a[rows, 1:3]", lambda a: a[np.array([1, 1]), 1:3], lambda torch, a: a[[1, 1], 1:3]),
    on_tensors("a[mask]", lambda a: a[np.array([True, False, True])], lambda torch, a: a[[True, False, True]]),
    # Not in random programs: torch's view refuses an operand whose entries are not laid out in order
    # (after a transpose), where chainrule's copies them, as reshape does
    on_tensors(
        "view",
        lambda a: a.view(4, 3) * a.view((2, 6)).reshape(4, 3),
        lambda t, a: a.view(4, 3) ** 2,
        programs=False,
    ),
    # NumPy copies the transposed entries where torch's view would refuse them: reshape's numbers
    on_tensors("view(-1) of a transpose", lambda a: a.T.view(-1), lambda torch, a: reversed_axes(torch, a).reshape(-1)),
    # Not in random programs: where nothing changes (a 1-D input) torch's flatten returns the input itself,
    # so a program's "interior" node would be the leaf in torch and get that leaf's gradient; chainrule's
    # flatten always makes a node of its own
    on_tensors("flatten", lambda a: a.flatten(), None, (2, 3, 4), programs=False),
    on_tensors("flatten(1)", lambda a: a.flatten(1), None, (2, 3, 4), programs=False),
    on_tensors("flatten(0, 1)", lambda a: a.flatten(0, 1), None, (2, 3, 4), programs=False),
    on_tensors("flatten(-2, -1)", lambda a: a.flatten(-2, -1), None, (2, 3, 4), programs=False),
    # -- more elementwise functions and reductions (Tensors) ------------------------------------------
    Op("sqrt", *same(lambda a: a.sqrt()), (NON_NEGATIVE,), TENSORS, smooth=(SMALL_POSITIVE,)),
    # Not in random programs: an operand within rounding of a bound may land on either side of it.
    # The edge values put entries on the bounds, where the gradient passes (as in torch).
    Op("clamp(-1, 2)", *same(lambda a: a.clamp(-1, 2.0)), (REAL,), TENSORS, smooth=(SMALL,), programs=False),
    Op("clamp(min=0)", *same(lambda a: a.clamp(min=0.0)), (REAL,), TENSORS, smooth=(AWAY_FROM_KINK,), programs=False),
    Op("clamp(max=0.5)", *same(lambda a: a.clamp(max=0.5)), (REAL,), TENSORS, smooth=(SMALL,), programs=False),
    on_tensors("min", lambda a: a.min(), lambda torch, a: a.amin()),
    on_tensors("min(axis=1)", lambda a: a.min(axis=1), lambda torch, a: a.amin(dim=1)),
    on_tensors(
        "min(axis=(0, 2), keepdims)",
        lambda a: a.min(axis=(0, 2), keepdims=True),
        lambda torch, a: a.amin(dim=(0, 2), keepdim=True),
        (2, 3, 4),
    ),
    on_tensors("var", lambda a: a.var()),
    on_tensors("var(axis=1)", lambda a: a.var(axis=1), lambda torch, a: a.var(dim=1)),
    on_tensors(
        "var(axis=0, correction=0, keepdims)",
        lambda a: a.var(axis=0, correction=0, keepdims=True),
        lambda torch, a: a.var(dim=0, correction=0, keepdim=True),
    ),
    on_tensors(
        "var(axis=(0, 2), correction=2)",
        lambda a: a.var(axis=(0, 2), correction=2),
        lambda torch, a: a.var(dim=(0, 2), correction=2),
        (2, 3, 4),
    ),
    on_tensors(
        "std",
        lambda a: (a + ramp(a.shape)).std(),
        lambda torch, a: (a + torch.tensor(ramp(a.shape))).std(),
        programs=False,
    ),
    on_tensors(
        "std(axis=0)",
        lambda a: (a + ramp(a.shape)).std(axis=0),
        lambda torch, a: (a + torch.tensor(ramp(a.shape))).std(dim=0),
        programs=False,
    ),
    on_tensors(
        "std(axis=(1, 2), correction=0, keepdims)",
        lambda a: (a + ramp(a.shape)).std(axis=(1, 2), correction=0, keepdims=True),
        lambda torch, a: (a + torch.tensor(ramp(a.shape))).std(dim=(1, 2), correction=0, keepdim=True),
        (2, 3, 4),
        programs=False,
    ),
    # std where every entry is equal: 0, and a gradient of 0 (as in torch), not 0 / 0; no second derivative
    Op(
        "std of equal entries",
        lambda a: (a * 0.0 + 1.5).std(axis=1),
        lambda torch, a: (a * 0.0 + 1.5).std(1),
        (SMALL,),
        TENSORS,
        smooth=NOT_SMOOTH,
        programs=False,
    ),
]


# -- compositions: several operations, some nodes used more than once ---------------------------------
def composition(name: str, fn: Callable, domains: tuple, engines: tuple, **tol) -> Op:
    return Op(name, *same(fn), domains, engines, tol=tol or COMPOSITE, programs=False)


OPS += [
    composition("a * b + b ** 3 - a / b", lambda a, b: a * b + b**3 - a / b, (SMALL, SMALL_NONZERO), ALL, rtol=1e-12),
    composition(
        "tanh(a * b) * a + exp(b)",
        lambda a, b: (a * b).tanh() * a + b.exp(),
        (SMALL, SMALL),
        NODES,
        rtol=1e-12,
        grad_atol=1e-14,
    ),
    composition(
        "relu(a) * sigmoid(a) + log(a * a)",
        lambda a: a.relu() * a.sigmoid() + (a * a).log(),
        (SMALL_NONZERO,),
        NODES,
        rtol=1e-12,
    ),
    composition("a * a + a / (a * a + 1)", lambda a: a * a + a / (a * a + 1), (SMALL,), NODES),
    composition("add sub neg", lambda a, b, c: (a + b) * (a - c) - (-b) * c, (POINT,) * 3, ALL),
    composition("mul reuse", lambda a, b, c: a * a * b + b * b * c * a, (POINT,) * 3, ALL),
    composition("div", lambda a, b, c: a / (1.5 + b * b) + (2 - c) / (a * a + 1), (POINT,) * 3, ALL),
    composition("pow const", lambda a, b, c: (a * a + 1) ** 1.5 + b**3 - (c + 2.5) ** -0.5, (POINT,) * 3, ALL),
    # an exponent b * c of 0 is where torch's second derivatives of a power are wrong (see "a ** b (a > 0)")
    composition("pow value", lambda a, b, c: (a * a + 0.5) ** (b * c), (POINT, POINT_NONZERO, POINT_NONZERO), ALL),
    composition("exp log", lambda a, b, c: (a * b).exp() + (1 + c * c).log() * a, (POINT,) * 3, NODES),
    composition("tanh mix", lambda a, b, c: (a * b + c).tanh() * a, (POINT,) * 3, NODES),
    composition("sigmoid mix", lambda a, b, c: (a - b * c).sigmoid() * b, (POINT,) * 3, NODES),
    composition("relu mix", lambda a, b, c: (a * b + 1).relu() * c + (a * a - b).relu(), (POINT,) * 3, NODES),
    composition("the notes' neuron", lambda a, b, c: (a * b + c * 0.5 + 0.2).tanh(), (POINT,) * 3, NODES),
]
OPS += [
    Op(
        "matmul, tanh, sum, relu, mean",
        lambda a, b: ((a @ b).tanh() * 3 - a.sum(axis=1, keepdims=True)).relu().mean(),
        lambda torch, a, b: ((a @ b).tanh() * 3 - a.sum(dim=1, keepdim=True)).relu().mean(),
        (SMALL, SMALL),
        TENSORS,
        shapes=(((3, 4), (4, 2)),),
        tol=COMPOSITE,
        programs=False,
    ),
]


# -- fused operations: one node for what would be several ---------------------------------------------
def on_values(name: str, ours: Callable, theirs: Callable, domains: tuple, *value_shapes) -> Op:
    """An operation of the Value engine alone: its operands Values, or lists of them of ``value_shapes``."""
    return Op(name, ours, theirs, domains, VALUES, value_shapes=value_shapes, tol=COMPOSITE, programs=False)


ACTIVATION = {
    "linear": lambda t: t,
    "tanh": lambda t: t.tanh(),
    "relu": lambda t: t.relu(),
    "sigmoid": lambda t: t.sigmoid(),
}
W3_X3_B = ((3,), (3,), ())  # three weights, three inputs, a bias
OPS += [
    on_values(
        f"weighted_sum ({activation})",
        lambda w, x, b, activation=activation: weighted_sum(w, x, b, activation),
        lambda torch, w, x, b, activation=activation: ACTIVATION[activation](added_left_to_right(b, w * x)),
        (SMALL, SMALL, SMALL),
        W3_X3_B,
    )
    for activation in ACTIVATION
]
OPS += [
    on_values(
        "weighted_sum (numbers among the inputs)",
        lambda w, x, b: weighted_sum(w, [x[0], 2.0, x[1]], b, "tanh"),
        lambda torch, w, x, b: added_left_to_right(b, [w[0] * x[0], w[1] * 2.0, w[2] * x[1]]).tanh(),
        (SMALL, SMALL, SMALL),
        ((3,), (2,), ()),
    ),
    on_values(
        "weighted_sum (Inputs)",
        lambda w, x, b: weighted_sum(w, Inputs(x), b, "sigmoid"),
        lambda torch, w, x, b: added_left_to_right(b, w * x).sigmoid(),
        (SMALL, SMALL, SMALL),
        W3_X3_B,
    ),
    on_values("value_sum", value_sum, lambda torch, xs: added_left_to_right(0.0, xs), (SMALL,), ((4,),), ((1,),)),
    on_values(
        "value_sum (numbers among the terms)",
        lambda xs: value_sum([xs[0], 1.5, xs[1], -2]),
        lambda torch, xs: added_left_to_right(0.0, [xs[0], 1.5, xs[1], -2]),
        (SMALL,),
        ((2,),),
    ),
    on_values(
        "sum_of_squares (Values)",
        lambda xs: value_sum_of_squares(xs, 0.3),
        lambda torch, xs: 0.3 * (xs * xs).sum(),
        (SMALL,),
        ((4,),),
        ((1,),),
    ),
    on_values(
        "weighted_sum tanh of a, b and c",
        lambda a, b, c: weighted_sum([a, b], [c, 0.5], Value(0.1), "tanh"),
        lambda torch, a, b, c: torch.tanh(0.1 + a * c + b * 0.5),
        (POINT,) * 3,
    ),
    on_values(
        "weighted_sum sigmoid, times b",
        lambda a, b, c: weighted_sum([a, c], [b, b], Value(-0.2), "sigmoid") * b,
        lambda torch, a, b, c: torch.sigmoid(-0.2 + a * b + c * b) * b,
        (POINT,) * 3,
    ),
    on_values(
        "weighted_sum relu times weighted_sum linear",
        lambda a, b, c: weighted_sum([a], [b], c, "relu") * weighted_sum([b, c], [a, 2.0], a, "linear"),
        lambda torch, a, b, c: torch.relu(c + a * b) * (a + b * a + c * 2.0),
        (POINT,) * 3,
    ),
    on_values(
        "sum_of_squares times value_sum",
        lambda a, b, c: value_sum_of_squares([a, b, a * c], 0.3) * value_sum([a, 2.0, b * c]),
        lambda torch, a, b, c: 0.3 * (a * a + b * b + (a * c) ** 2) * (a + 2.0 + b * c),
        (POINT,) * 3,
    ),
    Op(
        "linear(x, w, b)",
        lambda x, w, b: linear(x, w, b),
        lambda torch, x, w, b: x @ w + b,
        (SMALL, SMALL, SMALL),
        TENSORS,
        shapes=(((5, 3), (3, 2), (2,)), ((2, 5, 3), (3, 2), (2,)), ((3,), (3, 2), (2,))),
        programs=False,
    ),
    Op(
        "linear(x, w)",
        lambda x, w: linear(x, w),
        lambda torch, x, w: x @ w,
        (SMALL, SMALL),
        TENSORS,
        shapes=(((5, 3), (3, 2)),),
        programs=False,
    ),
    Op(
        "sum_of_squares (Tensors)",
        lambda a, b: tensor_sum_of_squares([a, b]),
        lambda torch, a, b: (a * a).sum() + (b * b).sum(),
        (SMALL, SMALL),
        TENSORS,
        shapes=(((3, 4), (4,)),),
        programs=False,
    ),
    Op(
        "sum_of_squares (Tensors, weighted)",
        lambda a: tensor_sum_of_squares([a], weight=0.25),
        lambda torch, a: 0.25 * (a * a).sum(),
        (SMALL,),
        TENSORS,
        programs=False,
    ),
]


# -- joining Tensors: each operand's share is cut back out of the gradient --------------------------
def joined(name: str, ours: Callable, theirs: Callable, shapes: tuple, arity: int = 2) -> Op:
    return Op(name, ours, theirs, (SMALL,) * arity, TENSORS, shapes=shapes, programs=False)


OPS += [
    joined("cat", lambda a, b: cat([a, b]), lambda torch, a, b: torch.cat([a, b]), (((3, 4), (2, 4)), ((3,), (5,)))),
    joined(
        "cat(axis=1) of a, b, a",
        lambda a, b: cat((a, b, a), axis=1),
        lambda torch, a, b: torch.cat((a, b, a), dim=1),
        (((3, 4), (3, 2)),),
    ),
    joined(
        "cat(axis=-1) with an array",
        lambda a: cat([np.ones((3, 1)), a], axis=-1),
        lambda torch, a: torch.cat([torch.ones(3, 1), a], dim=-1),
        (((3, 4),),),
        arity=1,
    ),
    joined("stack", lambda a, b: stack([a, b]), lambda torch, a, b: torch.stack([a, b]), (((3, 4), (3, 4)), ((), ()))),
    joined(
        "stack(axis=-1) of a, b, a",
        lambda a, b: stack([a, b, a], axis=-1),
        lambda torch, a, b: torch.stack([a, b, a], dim=-1),
        (((3, 4), (3, 4)),),
    ),
    joined(
        "stack(axis=1)",
        lambda a, b: stack([a, b], axis=1),
        lambda torch, a, b: torch.stack([a, b], dim=1),
        (((2, 3, 4), (2, 3, 4)),),
    ),
]


# -- layers as functions of their parameters: the layer made, its parameters replaced by the operands ----
def embedding_lookup(weight: Tensor, indices) -> Tensor:
    layer = Embedding(*weight.shape)
    layer.weight = weight
    return layer(indices)


def batch_norm_training(x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    layer = BatchNorm1d(weight.shape[0])
    layer.weight, layer.bias = weight, bias
    return layer(x)


RUNNING_MEAN, RUNNING_VAR = np.array([0.5, -1.0, 0.25, 2.0]), np.array([1.5, 0.2, 4.0, 1.0])


def batch_norm_evaluation(x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    layer = BatchNorm1d(weight.shape[0])
    layer.weight, layer.bias = weight, bias
    layer.running_mean.data, layer.running_var.data = RUNNING_MEAN.copy(), RUNNING_VAR.copy()
    return layer.eval()(x)


DROPOUT_SEED = 7


def dropout_training(x: Tensor) -> Tensor:
    return Dropout(0.5, rng=DROPOUT_SEED)(x)


def dropout_as_pytorch_defines_it(torch, x):
    """torch.nn.Dropout's definition, with the mask chainrule's seeded generator draws (torch's own
    generator draws other masks): each entry kept with probability 1 - p, and scaled by 1 / (1 - p)."""
    keep = np.random.default_rng(DROPOUT_SEED).random(size=tuple(x.shape)) >= 0.5
    return x * torch.tensor(keep.astype(float)) / (1 - 0.5)


ROWS = Domain(0, 4, (0, 4), as_int=True)  # indices of the rows of a (5, 3) embedding table
OPS += [
    # the makemore lookup C[X]: rows picked many times each get every pick's share of the gradient
    Op(
        "C[X] (rows picked repeatedly)",
        lambda C, X: C[X],
        lambda torch, C, X: C[torch.as_tensor(X)],
        (SMALL, ROWS),
        TENSORS,
        shapes=(((5, 3), (8, 3)),),
        constants=(1,),
        programs=False,
    ),
    Op(
        "nn.Embedding",
        embedding_lookup,
        lambda torch, w, X: F(torch).embedding(torch.as_tensor(X), w),
        (SMALL, ROWS),
        TENSORS,
        shapes=(((5, 3), (6, 2)), ((5, 3), (4,))),
        constants=(1,),
        programs=False,
    ),
    Op(
        "nn.BatchNorm1d (training)",
        lambda x, w, b: batch_norm_training(x + ramp(x.shape), w, b),
        lambda torch, x, w, b: F(torch).batch_norm(x + torch.tensor(ramp(x.shape)), None, None, w, b, training=True),
        (SMALL, SMALL, SMALL),
        TENSORS,
        shapes=(((6, 4), (4,), (4,)), ((4, 3, 2), (3,), (3,))),
        programs=False,
    ),
    Op(
        "nn.BatchNorm1d (eval)",
        batch_norm_evaluation,
        lambda torch, x, w, b: F(torch).batch_norm(
            x, torch.tensor(RUNNING_MEAN), torch.tensor(RUNNING_VAR), w, b, training=False
        ),
        (SMALL, SMALL, SMALL),
        TENSORS,
        shapes=(((6, 4), (4,), (4,)), ((3, 4, 2), (4,), (4,))),
        programs=False,
    ),
    on_tensors("nn.Flatten", lambda a: Flatten()(a), lambda torch, a: torch.nn.Flatten()(a), (2, 3, 4), programs=False),
    on_tensors("nn.Dropout (training)", dropout_training, dropout_as_pytorch_defines_it, (4, 5), programs=False),
    on_tensors(
        "nn.Dropout (eval)",
        lambda a: Dropout(0.5, rng=DROPOUT_SEED).eval()(a),
        lambda torch, a: torch.nn.Dropout(0.5).eval()(a),
        (4, 5),
        programs=False,
    ),
]
OPS += [
    Op(
        f"hinge_loss ({reduction})",
        (lambda s, y: hinge_loss(s, y)) if reduction == "mean" else (lambda s, y: hinge_loss(s, y, mean=False)),
        lambda torch, s, y, reduction=reduction: relu_hinge(torch, s, y, reduction),
        (SCORES, SIGNS),
        TENSORS,
        shapes=(((6, 1), (6, 1)), ((4,), (4,))),
        constants=(1,),
        programs=False,
    )
    for reduction in ("mean", "sum")
]


# -- losses, on both engines: lists of Values, or Tensors ---------------------------------------------
def loss(name, ours, theirs, domains, value_shapes, shapes, constants=(), engines=NODES) -> Op:
    return Op(
        name,
        ours,
        theirs,
        domains,
        engines,
        shapes=shapes,
        value_shapes=value_shapes,
        constants=constants,
        tol=LOSS,
        programs=False,
    )


def reduced(name, ours, theirs, default, domains, value_shapes, shapes, constants=(1,)) -> list[Op]:
    """A loss of predictions and targets (constants unless told), averaged and summed:
    ``ours(*operands, reduction=...)`` (called without it for its ``default``) and
    ``theirs(torch, *tensors, reduction=...)``."""
    return [
        loss(
            f"{name} ({reduction})",
            lambda *xs, r=reduction: ours(*xs) if r == default else ours(*xs, reduction=r),
            lambda torch, *ts, r=reduction: theirs(torch, *ts, reduction=r),
            domains,
            value_shapes,
            shapes,
            constants,
        )
        for reduction in ("mean", "sum")
    ]


def torch_loss(name: str) -> Callable:
    """torch.nn.functional's loss ``name`` of predictions and targets (a constant list or array)."""
    return lambda torch, x, y, reduction: getattr(F(torch), name)(x, torch.as_tensor(y), reduction=reduction)


PAIRS = (((4,), (4,)), ((1,), (1,)))  # a list of predictions and its targets (Values)
OPS += [
    # the notes' loss: the sum of squared errors by default
    *reduced("mse", mse, torch_loss("mse_loss"), "sum", (SMALL, SMALL), PAIRS, (((5, 2), (5, 2)), ((4,), (4,)))),
    *reduced("hinge", hinge, relu_hinge, "mean", (SCORES, SIGNS), PAIRS, (((6, 1), (6, 1)),)),
    *reduced(
        "binary_cross_entropy",
        binary_cross_entropy,
        torch_loss("binary_cross_entropy"),
        "mean",
        (PROBABILITY, UNIT),
        PAIRS,
        (((4, 3), (4, 3)),),
    ),
    *reduced(
        "binary_cross_entropy from logits",
        lambda x, y, **reduction: binary_cross_entropy(x, y, from_logits=True, **reduction),
        torch_loss("binary_cross_entropy_with_logits"),
        "mean",
        (LOGITS, UNIT),
        PAIRS,
        (((4, 3), (4, 3)),),
    ),
    *reduced(
        "cross_entropy",
        cross_entropy,
        torch_loss("cross_entropy"),
        "mean",
        (SMALL, CLASSES),
        (((5, 4), (5,)), ((1, 4), (1,)), ((3, 5), (3,))),
        (((5, 4), (5,)), ((1, 4), (1,))),
    ),
    loss(
        "cross_entropy (two classes)",
        lambda z, targets: cross_entropy(z, targets),
        lambda torch, z, targets: F(torch).cross_entropy(z, torch.as_tensor(targets)),
        (SMALL, TWO_CLASSES),
        (((3, 2), (3,)),),
        (((3, 2), (3,)),),
        constants=(1,),
    ),
    loss(
        "cross_entropy (one example)",
        lambda z, target: cross_entropy(z, target),
        lambda torch, z, target: F(torch).cross_entropy(z, torch.as_tensor(target)),
        (SMALL, CLASSES),
        (((4,), ()), ((6,), ())),
        (((4,), ()),),
        constants=(1,),
    ),
    *reduced(
        "mse with targets that are leaves",
        mse,
        torch_loss("mse_loss"),
        "sum",
        (SMALL, SMALL),
        PAIRS,
        (((4,), (4,)),),
        constants=(),
    ),
    loss(
        "mse (one prediction, a number)",
        lambda p: mse(p, 2.0),
        lambda torch, p: F(torch).mse_loss(p, torch.tensor(2.0), reduction="sum"),
        (SMALL,),
        (((),),),
        (((),),),
    ),
    loss(
        "binary_cross_entropy from logits (targets that are leaves)",
        lambda x, y: binary_cross_entropy(x, y, from_logits=True),
        lambda torch, x, y: F(torch).binary_cross_entropy_with_logits(x, y),
        (LOGITS, UNIT),
        PAIRS,
        (((4, 3), (4, 3)),),
    ),
    # one logit and one target, each a Value: the edge values give every pair of seam logit and target
    loss(
        "binary_cross_entropy from one logit",
        lambda x, y: binary_cross_entropy([x], [y], from_logits=True),
        lambda torch, x, y: F(torch).binary_cross_entropy_with_logits(x.reshape(1), y.reshape(1)),
        (LOGITS, UNIT),
        (),
        (),
        engines=VALUES,
    ),
    loss(
        "l2_penalty",
        lambda p: l2_penalty(p),
        lambda torch, p: (p * p).sum(),
        (SMALL,),
        (((5,),), ((1,),)),
        (((3, 4),),),
    ),
    loss(
        "l2_penalty of two",
        lambda a, b: l2_penalty([a, b], weight=0.25),
        lambda torch, a, b: 0.25 * ((a * a).sum() + (b * b).sum()),
        (SMALL, SMALL),
        (),
        (((3, 4), (4,)),),
    ),
    # several losses of a, b and c, one graph
    loss(
        "cross_entropy of a, b and c",
        lambda a, b, c: cross_entropy([a * b, c, 0.3], 1),
        lambda torch, a, b, c: F(torch).cross_entropy(torch.stack([a * b, c, torch.tensor(0.3)]), torch.tensor(1)),
        (POINT,) * 3,
        (),
        (),
        engines=VALUES,
    ),
    loss(
        "binary_cross_entropy from logits a * c and b",
        lambda a, b, c: binary_cross_entropy([a * c, b], [0.25, 1.0], from_logits=True),
        lambda torch, a, b, c: F(torch).binary_cross_entropy_with_logits(
            torch.stack([a * c, b]), torch.tensor([0.25, 1.0])
        ),
        (POINT,) * 3,
        (),
        (),
        engines=VALUES,
    ),
    loss(
        "mse and hinge of a, b and c",
        lambda a, b, c: mse([a * b, c], [0.5, -1.0]) + hinge([a + b, c * a], [1.0, -1.0]),
        lambda torch, a, b, c: ((a * b - 0.5) ** 2 + (c + 1.0) ** 2) + ((1 - (a + b)).relu() + (1 + c * a).relu()) / 2,
        (POINT,) * 3,
        (),
        (),
        engines=VALUES,
    ),
]

OPS_BY_NAME = {op.name: op for op in OPS}
assert len(OPS_BY_NAME) == len(OPS), "two entries of the table have the same name"


def op_named(name: str) -> Op:
    return OPS_BY_NAME[name]


# -- one entry on one engine ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """``op`` on ``engine``, its operands of ``shapes``."""

    op: Op
    engine: str
    shapes: tuple[tuple, ...]

    @property
    def id(self) -> str:
        several = len(self.op.shape_cases(self.engine)) > 1
        return f"{self.engine}: {self.op.name}" + (" " + " ".join(map(str, self.shapes)) if several else "")

    def draw(self, data, smooth: bool = False) -> list[np.ndarray]:
        """Hypothesis's operands, from the domains (or the smooth domains)."""
        return list(data.draw(operands_strategy(self.op.smooth_domains if smooth else self.op.domains, self.shapes)))

    def sample(self, rng: np.random.Generator) -> list[np.ndarray]:
        """Operands spread evenly over the smooth domains."""
        return [d.sample(rng, shape) for d, shape in zip(self.op.smooth_domains, self.shapes)]

    def point(self) -> list[np.ndarray]:
        """One fixed point: operand k holds its smooth domain's k-th edge value (so the compositions are
        checked at 0.7, -1.3, 0.4, where their second derivatives were first compared with torch)."""
        return [
            np.full(shape, d.edges[k % len(d.edges)], d.dtype)
            for k, (d, shape) in enumerate(zip(self.op.smooth_domains, self.shapes))
        ]

    def edges(self) -> list[list[np.ndarray]]:
        """Every combination of the domains' edge values (operands of one number)."""
        return [[np.asarray(x) for x in combo] for combo in itertools.product(*(d.edges for d in self.op.domains))]

    def operands(self, raw: list[np.ndarray]) -> list:
        """The operands as this engine takes them: numbers and lists (floats, Values and every constant),
        arrays (Tensors); ``check_against_torch`` turns numbers into Values and arrays into Tensors."""
        raw = [np.asarray(x) for x in raw]
        return [
            x.tolist() if self.engine != TENSOR or i in self.op.constants and x.ndim == 0 else x
            for i, x in enumerate(raw)
        ]

    def tolerances(self, operands: list) -> dict:
        tol = {**TOLERANCES[self.engine], **self.op.tol}
        if self.op.grad_atol:
            tol["grad_atol"] = self.op.grad_atol(*(np.asarray(numbers_of(x)) for x in operands))
        return tol

    def check(self, torch, raw: list[np.ndarray], second_order: bool = False):
        """The value, every gradient (and with ``second_order`` every second derivative) against torch."""
        operands = self.operands(raw)
        return check_against_torch(
            torch,
            self.op.ours,
            self.op.theirs_in(torch),
            operands,
            **self.tolerances(operands),
            **(HESSIAN if second_order else {}),
            constants=self.op.constants,
            plain=self.engine == FLOAT,
            second_order=second_order,
            what=f"{self.op.name} on {self.engine}",
        )

    def gradcheck(self, raw: list[np.ndarray]) -> bool:
        """``chainrule.gradcheck`` (central differences) of every operand that is not a constant; a Tensor
        result is weighted by fixed random numbers and summed, so each entry's derivative counts."""
        operands = []
        for i, x in enumerate(self.operands(raw)):
            if i in self.op.constants:
                operands.append(x)
            elif self.engine == TENSOR:
                operands.append(Tensor(x, requires_grad=True))
            else:
                operands.append(np.vectorize(Value, otypes=[object])(np.asarray(x)).tolist())
        leaves = [
            leaf
            for i, x in enumerate(operands)
            if i not in self.op.constants
            for leaf in ([x] if isinstance(x, Tensor) else np.ravel(np.asarray(x, dtype=object)))
        ]
        out = self.op.ours(*operands)
        weights = None if isinstance(out, Value) else np.random.default_rng(7).standard_normal(out.shape)

        def f(*_):  # gradcheck nudges the leaves' data in place; the operands hold the same leaves
            out = self.op.ours(*operands)
            return out if weights is None else (out * weights).sum()

        return gradcheck(f, leaves, eps=1e-6, atol=1e-6, rtol=1e-5)


@functools.cache
def operands_strategy(domains: tuple[Domain, ...], shapes: tuple[tuple, ...]) -> st.SearchStrategy:
    return st.tuples(*(d.arrays(shape) for d, shape in zip(domains, shapes)))


def cases(engines=ENGINES, where: Callable[[Op], bool] = lambda op: True) -> list[Case]:
    """Every entry on each of ``engines`` it supports, one case per set of shapes."""
    return [
        Case(op, engine, shapes)
        for op in OPS
        if where(op)
        for engine in engines
        if engine in op.engines
        for shapes in op.shape_cases(engine)
    ]


def case_id(case: Case) -> str:
    return case.id


def check_op(torch, name: str, engine: str, inputs, second_order: bool = False):
    """Entry ``name`` on ``engine`` at ``inputs`` (numbers, lists or arrays, one per operand), against torch."""
    raw = [np.asarray(x) for x in inputs]
    return Case(op_named(name), engine, tuple(x.shape for x in raw)).check(torch, raw, second_order)
