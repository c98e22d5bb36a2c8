"""Random computation graphs, run on the scalar ``Value`` engine, the ``Tensor`` engine and PyTorch (float64).

Hypothesis draws a small program: a few leaves, then a chain of operations from the table of operations
(``op_table.py``) whose operands are picked among *all* earlier nodes, so nodes are shared (one node
feeding several later ones, the same node on both sides of ``x * x``). The same program is interpreted on
each engine. Then 2-3 of its nodes become roots, one after the other, and ``backward()`` runs on each in
turn through the shared subgraphs (torch: ``retain_graph=True``). After every pass:

* every leaf's ``grad`` must be torch's: leaves accumulate across passes (or, in the ``zero_grad``
  variant, hold this pass's after being reset);
* every interior node the pass went through must hold d(latest root)/d(node), as
  ``torch.autograd.grad`` computes it: an interior node's ``grad`` is this pass's, never the sum over
  passes (the micrograd behaviour, which ``test_the_check_catches_micrograd_style_accumulation`` shows
  these checks reject).

Every operation is safe by construction: an operand is brought into its domain by one of the domain's
``into`` maps (a divisor is ``1 + y*y`` or ``exp(tanh y)``, a logarithm takes ``1 + x*x``, ``exp(tanh x)``
or ``sigmoid x``, ``exp`` may take ``tanh x``), and the strategy evaluates the program as it draws it:
an operation that does not fit its operands' shapes, whose result would exceed ``LIMIT``, or whose
input is within rounding of a kink (relu's, abs's) is replaced by ``tanh`` of its first operand, so no
value overflows and the tolerances stay meaningful.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from op_table import OPS, TENSOR, op_named
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

# The table's single operations: on one number each (run on Values and on 0-d Tensors), and on Tensors.
SCALAR_OPS = [op.name for op in OPS if op.in_programs and op.scalar and TENSOR in op.engines]
TENSOR_OPS = [op.name for op in OPS if op.in_programs and TENSOR in op.engines]


# -- steps: an operation of the table on earlier nodes, each brought into its domain --------------------
def operands_of(step: tuple, nodes: list) -> list:
    name, operands, into = step
    domains = op_named(name).domains
    return [domains[p].into[t].fn(nodes[i]) for p, (i, t) in enumerate(zip(operands, into))]


def apply(step: tuple, nodes: list, torch=None):
    """The step's result on chainrule nodes, or (given the torch module) on torch tensors."""
    op = op_named(step[0])
    return (op.ours if torch is None else op.theirs_in(torch))(*operands_of(step, nodes))


def tanh_of(i: int) -> tuple:
    return ("tanh", (i,), (0,))


def near_a_kink(step: tuple, nodes: list) -> bool:
    """Whether an operand lies within rounding of 0 where the entry's smooth domain keeps a gap around 0:
    at relu's and abs's kink the engines, rounding differently, may land on either side."""
    smooth = op_named(step[0]).smooth_domains
    return any(
        d.gap and ((x.data != 0.0) & (np.abs(x.data) < 1e-9)).any() for d, x in zip(smooth, operands_of(step, nodes))
    )


def result(step: tuple, values: list):
    """The step's result on the strategy's Tensors, or None where the operands' shapes do not fit it."""
    try:
        return apply(step, values)
    except (ValueError, IndexError):
        return None


# -- programs ------------------------------------------------------------------------------------------
class Program(NamedTuple):
    leaves: list  # ndarrays (shape () in scalar programs)
    steps: list  # (table entry's name, operand node indices, index of each operand's domain's `into` map)
    roots: list  # node indices, back-propagated in this order
    depends_on: list  # for each node, the indices of the nodes it is computed from (itself included)

    def __repr__(self) -> str:
        lines = [f"n{k} = leaf({x.tolist()!r})" for k, x in enumerate(self.leaves)]
        for k, (name, operands, into) in enumerate(self.steps, start=len(self.leaves)):
            domains = op_named(name).domains
            args = [domains[p].into[t].template.format(f"n{i}") for p, (i, t) in enumerate(zip(operands, into))]
            lines.append(f"n{k} = [{name}]({', '.join(args)})")
        lines.append("backward on, in order: " + ", ".join(f"n{r}" for r in self.roots))
        return "Program(\n    " + "\n    ".join(lines) + "\n)"


def program_of(leaves: list, steps: list, roots: list) -> Program:
    """The Program of these leaves, steps and roots, with ``depends_on`` worked out from the steps. A step
    given as (name, operands) takes each domain's first ``into`` map."""
    steps = [step if len(step) == 3 else (*step, (0,) * len(step[1])) for step in steps]
    depends_on = [frozenset([k]) for k in range(len(leaves))]
    for k, (_, operands, _) in enumerate(steps, start=len(leaves)):
        depends_on.append(frozenset().union(*(depends_on[i] for i in operands)) | {k})
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
        op = op_named(draw(st.sampled_from(TENSOR_OPS if tensor else SCALAR_OPS)))
        into = tuple(draw(st.integers(0, len(d.into) - 1)) for d in op.domains)
        i = draw(st.integers(0, len(values) - 1))
        operands = (i,)
        for position in range(1, op.arity):  # each further operand among the nodes that fit (the rest: n_i)
            rest = (i,) * (op.arity - position - 1)
            fit = [k for k in range(len(values)) if result((op.name, (*operands, k, *rest), into), values) is not None]
            operands += (draw(st.sampled_from(fit)) if fit else i,)
        step = (op.name, operands, into)
        out = result(step, values)
        if out is None or near_a_kink(step, values) or not (np.abs(out.data) <= LIMIT).all():
            step = tanh_of(i)
            out = apply(step, values)
        steps.append(step)
        values.append(out)
    n = len(values)
    roots = draw(st.lists(st.integers(len(leaves), n - 1) | st.integers(0, n - 1), min_size=2, max_size=3))
    return program_of(leaves, steps, roots)


# -- running a program on chainrule and on torch, pass by pass --------------------------------------
def build(program: Program, make_leaf: Callable, torch=None) -> list:
    nodes = [make_leaf(x) for x in program.leaves]
    for step in program.steps:
        nodes.append(apply(step, nodes, torch))
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
    torch_nodes = build(program, lambda x: torch.tensor(x, requires_grad=True), torch)
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
SHARED = program_of([0.5, -1.25], [("a * b", (0, 1)), ("tanh", (2,)), ("a + b", (3, 0))], [3, 4, 0])
# The same on arrays: (3, 1) * (1, 4) broadcasts to (3, 4), then a mean over axis 0 and a matmul.
SHARED_TENSORS = program_of(
    [[[0.5], [-1.0], [2.0]], [[1.5, -0.25, 0.0, 1.0]]],
    [("a * b", (0, 1)), ("tanh", (2,)), ("a + b", (3, 0)), ("mean(axis=0)", (4,)), ("a @ b", (4, 5))],
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
