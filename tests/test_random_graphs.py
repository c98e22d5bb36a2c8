"""Random computation graphs, run on the scalar ``Value`` engine, the ``Tensor`` engine and PyTorch (float64).

Hypothesis draws a small program: a few leaves, then a chain of operations whose operands are picked among
*all* earlier nodes, so nodes are shared (one node feeding several later ones, the same node on both sides
of ``x * x``). The same program is interpreted on each engine. Then 2-3 of its nodes become roots, one
after the other, and ``backward()`` runs on each in turn through the shared subgraphs (torch:
``retain_graph=True``). After every pass:

* every leaf's ``grad`` must be torch's: leaves accumulate across passes (or, in the ``zero_grad``
  variant, hold this pass's after being reset);
* every interior node the pass went through must hold d(latest root)/d(node), as
  ``torch.autograd.grad`` computes it: an interior node's ``grad`` is this pass's, never the sum over
  passes (the micrograd behaviour, which ``test_the_check_catches_micrograd_style_accumulation`` shows
  these checks reject).

Every operation is safe by construction (divisors are ``1 + y*y`` or ``exp(...)``, logarithms and
fractional powers take ``1 + x*x``, ``exp(tanh x)`` or ``sigmoid x``, ``exp`` takes ``tanh x``), and the
strategy evaluates the program as it draws it: an operation whose result would exceed ``LIMIT`` (or a relu
whose input is within rounding of its kink) is replaced by ``tanh`` of its first operand, so no value
overflows and the tolerances stay meaningful.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from oracle import assert_close, gradient_of

import chainrule.autodiff
import chainrule.engine
import chainrule.tensor
from chainrule import Tensor, Value

RTOL, ATOL = 1e-9, 1e-12
LIMIT = 8.0  # the largest |value| a node may hold
ELEMENTS = st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False, allow_subnormal=False)
# Leaf shapes of Tensor programs. The first two leaves take one of PAIRS, which meet in broadcasting
# ((3, 1) with (1, 4) makes (3, 4)) or in matmul; the others take any of SHAPES.
PAIRS = [((3, 1), (1, 4)), ((3, 4), (4,)), ((4, 3), (3, 4)), ((), (3, 4)), ((3,), (4, 3))]
SHAPES = [(3, 1), (1, 4), (3, 4), (4,), (), (3,), (4, 3)]


# -- the operations: each a template written once, run on Values, Tensors and torch tensors alike -------
class Op(NamedTuple):
    arity: int
    fn: Callable  # fn(a, b, extra, on_torch) -> the result node


def _reduce(kind: str) -> Callable:
    def fn(a, b, extra, on_torch):
        axis, keepdims = extra
        if on_torch:
            dims = tuple(range(a.dim())) if axis is None else axis
            return getattr(a, kind)(dim=dims, keepdim=keepdims)
        return getattr(a, kind)(axis=axis, keepdims=keepdims)

    return fn


def _unary(f: Callable) -> Op:
    return Op(1, lambda a, b, extra, on_torch: f(a))


def _binary(f: Callable) -> Op:
    return Op(2, lambda a, b, extra, on_torch: f(a, b))


OPS = {
    # two operands (often the same node: operands are drawn independently among all earlier nodes)
    "mul": _binary(lambda a, b: a * b),
    "add": _binary(lambda a, b: a + b),
    "sub": _binary(lambda a, b: a - b),
    "div": _binary(lambda a, b: a / (1 + b * b)),
    "div_exp": _binary(lambda a, b: a / b.tanh().exp()),
    "pow_node": _binary(lambda a, b: (1 + a * a) ** b.tanh()),
    # one operand
    "tanh": _unary(lambda a: a.tanh()),
    "relu": _unary(lambda a: a.relu()),
    "sigmoid": _unary(lambda a: a.sigmoid()),
    "exp_tanh": _unary(lambda a: a.tanh().exp()),
    "log_1p_sq": _unary(lambda a: (1 + a * a).log()),
    "log_exp": _unary(lambda a: a.tanh().exp().log()),
    "log_sigmoid": _unary(lambda a: a.sigmoid().log()),
    "self_mul": _unary(lambda a: a * a),
    "self_add": _unary(lambda a: a + a),
    "self_sub": _unary(lambda a: a - a),
    "self_div": _unary(lambda a: a / (1 + a * a)),
    "square": _unary(lambda a: a**2),
    "cube": _unary(lambda a: a**3),
    "sqrt_pos": _unary(lambda a: (1 + a * a) ** 0.5),
    "pow_neg_pos": _unary(lambda a: (1 + a * a) ** -1.5),
    "neg": _unary(lambda a: -a),
    "rsub": _unary(lambda a: 2 - a),
    "radd": _unary(lambda a: 0.5 + a),
    "rmul": _unary(lambda a: -1.5 * a),
    "rdiv": _unary(lambda a: 3 / (1 + a * a)),
    "sub_num": _unary(lambda a: a - 1),
    "div_num": _unary(lambda a: a / 4),
    # Tensor programs only
    "matmul": _binary(lambda a, b: a @ b),
    "sum": Op(1, _reduce("sum")),
    "mean": Op(1, _reduce("mean")),
}
SCALAR_OPS = [name for name in OPS if name not in ("sum", "mean", "matmul")]
TENSOR_OPS = list(OPS)


def _fits(name: str, a_shape: tuple, b_shape: tuple) -> bool:
    """Whether ``name`` can take operands of these shapes (NumPy's rules, which torch follows here)."""
    try:
        if name == "matmul":
            np.matmul(np.zeros(a_shape), np.zeros(b_shape))
        else:
            np.broadcast_shapes(a_shape, b_shape)
    except ValueError:
        return False
    return True


def apply(step: tuple, nodes: list, on_torch: bool = False):
    name, i, j, extra = step
    return OPS[name].fn(nodes[i], None if j is None else nodes[j], extra, on_torch)


# -- programs ------------------------------------------------------------------------------------------
class Program(NamedTuple):
    leaves: list  # ndarrays (shape () in scalar programs)
    steps: list  # (op name, operand index, second operand index or None, extra (axis, keepdims) or None)
    roots: list  # node indices, back-propagated in this order
    depends_on: list  # for each node, the indices of the nodes it is computed from (itself included)

    def __repr__(self) -> str:
        lines = [f"n{k} = leaf({x.tolist()!r})" for k, x in enumerate(self.leaves)]
        for k, (name, i, j, extra) in enumerate(self.steps, start=len(self.leaves)):
            args = [f"n{i}"] + ([f"n{j}"] if j is not None else []) + ([f"extra={extra}"] if extra else [])
            lines.append(f"n{k} = {name}({', '.join(args)})")
        lines.append("backward on, in order: " + ", ".join(f"n{r}" for r in self.roots))
        return "Program(\n    " + "\n    ".join(lines) + "\n)"


def program_of(leaves: list, steps: list, roots: list) -> Program:
    """The Program of these leaves, steps and roots, with ``depends_on`` worked out from the steps."""
    depends_on = [frozenset([k]) for k in range(len(leaves))]
    for k, (_, i, j, _) in enumerate(steps, start=len(leaves)):
        depends_on.append(depends_on[i] | (depends_on[j] if j is not None else frozenset()) | {k})
    return Program([np.asarray(x, dtype=np.float64) for x in leaves], steps, roots, depends_on)


@st.composite
def programs(draw, tensor: bool = False) -> Program:
    """2-4 leaves, 3-12 operations on earlier nodes, then 2-3 roots among the nodes (mostly interior)."""
    n_leaves = draw(st.integers(2, 4))
    if tensor:
        shapes = [*draw(st.sampled_from(PAIRS)), *(draw(st.sampled_from(SHAPES)) for _ in range(n_leaves - 2))]
    else:
        shapes = [()] * n_leaves
    leaves = [draw(arrays(np.float64, shape, elements=ELEMENTS)) for shape in shapes]
    # The strategy's own forward pass (no gradients), to keep every value within LIMIT.
    values = [Tensor(x) for x in leaves]
    steps = []
    for _ in range(draw(st.integers(3, 12))):
        name = draw(st.sampled_from(TENSOR_OPS if tensor else SCALAR_OPS))
        i = draw(st.integers(0, len(values) - 1))
        j, extra = None, None
        if OPS[name].arity == 2:
            partners = [k for k, v in enumerate(values) if _fits(name, values[i].shape, v.shape)]
            if partners:
                j = draw(st.sampled_from(partners))
            else:
                name = "tanh"
        if name in ("sum", "mean"):
            extra = (draw(st.sampled_from([None, *range(values[i].ndim)])), draw(st.booleans()))
        step = (name, i, j, extra)
        out = apply(step, values)
        # relu's kink: an input within rounding of 0 (log(exp(t)) - t) may fall on either side in each engine
        x = values[i].data
        near_kink = name == "relu" and ((x != 0.0) & (np.abs(x) < 1e-9)).any()
        if near_kink or not (np.isfinite(out.data).all() and np.abs(out.data).max() <= LIMIT):
            step = ("tanh", i, None, None)
            out = apply(step, values)
        steps.append(step)
        values.append(out)
    n = len(values)
    roots = draw(st.lists(st.integers(len(leaves), n - 1) | st.integers(0, n - 1), min_size=2, max_size=3))
    return program_of(leaves, steps, roots)


# -- running a program on chainrule and on torch, pass by pass --------------------------------------
def build(program: Program, make_leaf: Callable, on_torch: bool = False) -> list:
    nodes = [make_leaf(x) for x in program.leaves]
    for step in program.steps:
        nodes.append(apply(step, nodes, on_torch))
    return nodes


def scalar_root(node):
    """The node itself if it holds one number, else its sum (a Tensor or torch tensor)."""
    return node if isinstance(node, Value) or node.ndim == 0 else node.sum()


def reset(leaf) -> None:
    # model.zero_grad(), the notes' way: p.grad = 0.0 for a Value, None for a Tensor or torch tensor
    leaf.grad = 0.0 if isinstance(leaf, Value) else None


def check_program(torch, program: Program, engines: dict, zero_grad: bool = False) -> None:
    """Run ``program`` on each chainrule engine in ``engines`` (name -> leaf maker) and on torch; after
    every backward pass compare every leaf's grad, and every interior grad of the latest pass, with torch."""
    torch_nodes = build(program, lambda x: torch.tensor(x, requires_grad=True), on_torch=True)
    graphs = {name: build(program, make_leaf) for name, make_leaf in engines.items()}
    for name, nodes in graphs.items():
        for k, (node, expected) in enumerate(zip(nodes, torch_nodes)):
            assert_close(node.data, expected, RTOL, ATOL, f"{name}: value of n{k}")
    n_leaves = len(program.leaves)
    for p, r in enumerate(program.roots):
        if zero_grad and p > 0:
            for nodes in [torch_nodes, *graphs.values()]:
                for leaf in nodes[:n_leaves]:
                    reset(leaf)
        torch_root = scalar_root(torch_nodes[r])
        torch_root.backward(retain_graph=True)
        interior = sorted(k for k in program.depends_on[r] if k >= n_leaves)
        expected_interior = (
            torch.autograd.grad(torch_root, [torch_nodes[k] for k in interior], retain_graph=True) if interior else ()
        )
        for name, nodes in graphs.items():
            scalar_root(nodes[r]).backward()
            where = f"{name}, pass {p + 1} (backward on n{r})"
            for k, (leaf, torch_leaf) in enumerate(zip(nodes[:n_leaves], torch_nodes[:n_leaves])):
                what = f"{where}: grad of leaf n{k}"
                if torch_leaf.grad is None:  # no pass has reached this leaf (since it was reset)
                    assert leaf.grad == 0.0 if isinstance(leaf, Value) else leaf.grad is None, f"{what}: {leaf.grad}"
                else:
                    assert_close(gradient_of(leaf, what), torch_leaf.grad, RTOL, ATOL, what)
            for k, expected in zip(interior, expected_interior):
                what = f"{where}: grad of interior n{k} (must be d n{r}/d n{k} of this pass alone)"
                assert_close(gradient_of(nodes[k], what), expected, RTOL, ATOL, what)


SCALAR_ENGINES = {"Value": lambda x: Value(float(x)), "Tensor": lambda x: Tensor(x, requires_grad=True)}
TENSOR_ENGINES = {"Tensor": SCALAR_ENGINES["Tensor"]}


# n2 = n0 * n1 is shared by both roots: a second pass that reused its first-pass grad would count it twice;
# the last root is the leaf n0 itself, which adds 1 to what n0 has gathered.
SHARED = program_of([0.5, -1.25], [("mul", 0, 1, None), ("tanh", 2, None, None), ("add", 3, 0, None)], [3, 4, 0])
# The same on arrays: (3, 1) * (1, 4) broadcasts to (3, 4), then a mean over axis 0 and a matmul.
SHARED_TENSORS = program_of(
    [[[0.5], [-1.0], [2.0]], [[1.5, -0.25, 0.0, 1.0]]],
    [("mul", 0, 1, None), ("tanh", 2, None, None), ("add", 3, 0, None), ("mean", 4, None, (0, False))]
    + [("matmul", 4, 5, None)],
    [5, 6, 3],
)


# -- the properties --------------------------------------------------------------------------------------
@pytest.mark.parametrize("zero_grad", [False, True], ids=["accumulate", "zero_grad"])
@settings(max_examples=60, deadline=None)
@given(program=programs())
@example(program=SHARED)
def test_scalar_programs_match_torch_on_both_engines(torch, zero_grad, program):
    check_program(torch, program, SCALAR_ENGINES, zero_grad)


@pytest.mark.parametrize("zero_grad", [False, True], ids=["accumulate", "zero_grad"])
@settings(max_examples=60, deadline=None)
@given(program=programs(tensor=True))
@example(program=SHARED_TENSORS)
def test_tensor_programs_match_torch(torch, zero_grad, program):
    check_program(torch, program, TENSOR_ENGINES, zero_grad)


# -- the checks are not vacuous: micrograd's rule (interior grads accumulate) fails them ------------------
def micrograd_backpropagate(root, seed: Any = None) -> None:
    """micrograd's backward(): ``root.grad = seed``, then every node's rule in reverse topological order,
    with no clearing: interior nodes keep adding onto what earlier passes left."""
    order = chainrule.autodiff.topological_order(root)
    root.grad = seed
    for node in reversed(order):
        node._backward()


@pytest.mark.parametrize("zero_grad", [False, True], ids=["accumulate", "zero_grad"])
@pytest.mark.parametrize("engine", ["Value", "Tensor"])
def test_the_check_catches_micrograd_style_accumulation(torch, monkeypatch, engine, zero_grad):
    # Both engines' backward() call the backpropagate they import from chainrule.autodiff: swap it for
    # micrograd's. (Should that wiring change, this test fails with "DID NOT RAISE": patch the new place.)
    for module in (chainrule.autodiff, chainrule.engine, chainrule.tensor):
        monkeypatch.setattr(module, "backpropagate", micrograd_backpropagate, raising=False)
    with pytest.raises(AssertionError, match=r"pass 2 \(backward on n4\): grad of"):
        check_program(torch, SHARED, {engine: SCALAR_ENGINES[engine]}, zero_grad)
    monkeypatch.undo()
    check_program(torch, SHARED, {engine: SCALAR_ENGINES[engine]}, zero_grad)  # the real rule passes
