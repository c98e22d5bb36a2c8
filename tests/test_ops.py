"""Every operation of the one table (``op_table.py``) on every engine that has it, against PyTorch (float64):

* the value and every first derivative, on random inputs from the entry's domains and on every
  combination of their edge values (plain floats: the value);
* central differences (``chainrule.gradcheck``) where the operation is smooth;
* second derivatives, on the engines whose gradients are graphs (``create_graph=True``);
* and that the table leaves out no public operation of either engine.

``oracle.check_against_torch`` makes every comparison with torch.
"""

from __future__ import annotations

import inspect
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from op_table import FLOAT, OPS, TENSOR, VALUE, Case, case_id, cases

import chainrule.engine
import chainrule.losses
import chainrule.tensor
from chainrule import Tensor, Value

# The engines whose gradients can be differentiated again (chainrule.grad(..., create_graph=True)): both,
# so every entry is differentiated twice on each engine it runs on.
CREATE_GRAPH_ENGINES = (VALUE, TENSOR)


@pytest.mark.parametrize("case", cases((FLOAT, VALUE)), ids=case_id)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_operation_on_numbers_matches_torch_on_random_inputs(torch, case, data):
    case.check(torch, case.draw(data))


# Hypothesis takes longer to draw arrays, and each example checks a dozen numbers at once.
@pytest.mark.parametrize("case", cases((TENSOR,)), ids=case_id)
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_operation_on_tensors_matches_torch_on_random_inputs(torch, case, data):
    case.check(torch, case.draw(data))


EDGE_CASES = [Case(op, engine, ((),) * op.arity) for op in OPS if op.scalar for engine in op.engines]


@pytest.mark.parametrize("case", EDGE_CASES, ids=case_id)
def test_operation_matches_torch_on_every_edge_value(torch, case):
    for inputs in case.edges():
        case.check(torch, inputs)


# Not a ** b at a <= 0: there the gradient wrt b is NaN or one-sided, and central differences cannot see it.
SMOOTH = [case for case in cases((VALUE, TENSOR)) if case.op.smooth_domains]


@pytest.mark.parametrize("case", SMOOTH, ids=case_id)
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_operation_passes_gradcheck(case, seed):
    assert case.gradcheck(case.sample(np.random.default_rng(seed))) is True


SECOND_ORDER = [case for case in SMOOTH if case.engine in CREATE_GRAPH_ENGINES]


@pytest.mark.parametrize("case", SECOND_ORDER, ids=case_id)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_second_derivatives_match_torch(torch, case, data):
    case.check(torch, case.draw(data, smooth=True), second_order=True)


@pytest.mark.parametrize("case", SECOND_ORDER, ids=case_id)
def test_second_derivatives_match_torch_at_a_fixed_point(torch, case):
    case.check(torch, case.point(), second_order=True)


# -- the table covers every public operation ----------------------------------------------------------
OPERATORS = {
    "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__",
    "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__pow__", "__rpow__", "__matmul__", "__rmatmul__",
    "__neg__", "__pos__", "__abs__", "__getitem__",
}  # fmt: skip
# public names that are not operations: the graph's bookkeeping, conversions, and a metric
NOT_OPERATIONS = {
    "backward", "zero_grad", "item", "numpy", "detach", "data", "grad", "requires_grad", "label", "shape", "ndim",
    "size", "dtype", "unbroadcast", "as_float_array", "no_grad", "accuracy_from_scores", "accuracy",
}  # fmt: skip


def public_operations() -> dict:
    """Every public method and operator of Value and Tensor, and every public function (or class) that the
    engines' modules and the losses offer (their ``__all__`` where they have one; the graph's machinery
    from ``chainrule.autodiff`` aside): name -> the code object that runs when it is called."""
    found = {}
    for cls in (Value, Tensor):
        for name, attr in vars(cls).items():
            if name in OPERATORS or not (name.startswith("_") or name in NOT_OPERATIONS):
                fn = attr.fget if isinstance(attr, property) else attr
                if hasattr(fn, "__code__"):
                    found[f"{cls.__name__}.{name}"] = fn.__code__
    for module in (chainrule.engine, chainrule.tensor, chainrule.losses):
        public = getattr(module, "__all__", [name for name in vars(module) if not name.startswith("_")])
        for name in public:
            obj = getattr(module, name)
            home = getattr(obj, "__module__", None) or ""
            if name in NOT_OPERATIONS or not home.startswith("chainrule.") or home == "chainrule.autodiff":
                continue
            if inspect.isfunction(obj):
                code = obj.__code__
            elif inspect.isclass(obj) and obj not in (Value, Tensor):
                code = obj.__init__.__code__
            else:
                continue
            if code not in found.values():  # the same function offered by two modules counts once
                found[f"{module.__name__}.{name}"] = code
    return found


def test_the_table_covers_every_public_operation(torch):
    operations = public_operations()
    assert {"Value.__rpow__", "Tensor.__rmatmul__", "Tensor.T", "chainrule.engine.Inputs"} <= set(operations)
    called = set()
    rng = np.random.default_rng(0)
    sys.setprofile(lambda frame, event, arg: called.add(frame.f_code) if event == "call" else None)
    try:
        for case in cases():
            case.check(torch, [d.sample(rng, shape) for d, shape in zip(case.op.domains, case.shapes)])
    finally:
        sys.setprofile(None)
    missing = sorted(name for name, code in operations.items() if code not in called)
    assert not missing, f"no entry of op_table.OPS calls {missing}: add them to the table"
