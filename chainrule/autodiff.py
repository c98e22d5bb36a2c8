"""The one backpropagation core that both engines share.

A node of either engine (a scalar ``Value`` or an array ``Tensor``) offers the notes' protocol:

* ``_prev``: the nodes it was computed from, in operand order;
* ``_backward()``: its local chain-rule step, which adds its own gradient, times the local
  derivative, into the ``grad`` of each node in ``_prev``.

``backpropagate`` orders the graph so that every node comes after the nodes it was made from (the
notes' topological sort), then runs each node's ``_backward`` from the output back to the inputs.
The sort here is iterative, so a graph a million nodes deep does not hit Python's recursion limit the
way the notes' recursive ``build_topo`` does; the order it produces is the same.

The gradient rule, the same for both engines:

* a **leaf** (a node made by you, with no ``_prev``: a weight, an input) *accumulates*: each
  ``backward()`` adds into its ``grad`` until you reset it (``zero_grad()``, or the notes'
  ``p.grad = 0.0``);
* an **interior** node's ``grad`` is *this pass's*: ``backpropagate`` clears it before the pass, so
  calling ``backward()`` twice through a shared subgraph never counts the first pass again.

Leaves get exactly PyTorch's numbers. PyTorch keeps no interior gradient at all (unless asked with
``retain_grad()``); chainrule keeps the latest pass's, which is what ``torch.autograd.grad`` of the
latest output gives, so you can look at it, as the notes do, without it ever feeding a later pass.

The state that changes how operations behave (whether they record the graph: ``no_grad``) is kept
per thread, and backward passes run one at a time, so threads that share parameters add their
gradients without losing any.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import ContextDecorator, contextmanager
from typing import Any, Callable


class Node:
    """What makes a ``Value`` or a ``Tensor`` a node: the notes' ``_backward``, shared by both engines.

    ``node._backward`` is the node's chain-rule step. An operation records its local derivatives on
    the node and ``_backward`` hands back ``node._chain_rule``, which applies them; or, the notes'
    way, you assign a closure of your own with ``out._backward = _backward`` and that one runs.
    Subclasses define ``_chain_rule``, ``_accumulate`` (add into ``grad``), a ``_custom_backward``
    slot, and ``_GRAD_BEFORE_BACKWARD``, what ``grad`` holds before anything reaches it.
    """

    __slots__ = ()

    @property
    def _backward(self) -> Callable[[], None]:
        """This node's chain-rule step: push ``self.grad`` into the ``grad`` of each node in ``_prev``."""
        custom = self._custom_backward
        return custom if custom is not None else self._chain_rule

    @_backward.setter
    def _backward(self, fn: Callable[[], None]) -> None:
        # The notes' way of defining an operation: `out._backward = _backward`.
        self._custom_backward = fn


def is_tensor(x) -> bool:
    """Whether ``x`` is a ``Tensor``, without importing NumPy: before chainrule.tensor is imported, no
    Tensor can exist, so scalar-only programs never load it."""
    tensor_module = sys.modules.get("chainrule.tensor")
    return tensor_module is not None and isinstance(x, tensor_module.Tensor)


def short_repr(x, limit: int = 60) -> str:
    """``repr(x)`` cut to ``limit`` characters, for error messages."""
    text = repr(x)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def topological_order(root: Any) -> list:
    """Every node ``root`` depends on, each listed after all of its ``_prev``, ``root`` last.

    This is the notes' ``build_topo`` (depth first, children in operand order, a node appended once
    all its children are in) written with an explicit stack instead of recursion.
    """
    order = []
    visited = set()
    # Each entry is a node and an iterator over the children still to visit: the stack holds exactly
    # what the recursive version keeps in its call frames.
    visited.add(root)
    stack = [(root, iter(root._prev))]
    while stack:
        node, children = stack[-1]
        for child in children:
            if child not in visited:
                visited.add(child)
                if child._prev:
                    stack.append((child, iter(child._prev)))
                    break
                order.append(child)  # a leaf has no children to wait for
        else:
            # All children are in the order; now the node itself may go in (the notes' topo.append(v)).
            stack.pop()
            order.append(node)
    return order


# One backward pass at a time in the whole process: two threads whose graphs share a parameter would
# otherwise both read its grad, add, and write back, and one contribution would be lost. Re-entrant,
# so a custom _backward may itself call backward().
_backward_lock = threading.RLock()

_SEEDED = object()


def backpropagate(
    root: Any, seed: Any = _SEEDED, create_graph: bool = False, before_step: Callable[[Any], None] | None = None
) -> None:
    """Run every node's ``_backward`` from ``root`` back to the leaves.

    ``seed`` is d root / d root (1.0, or an array of ones). Interior nodes start the pass with no
    gradient; a leaf root accumulates the seed like any leaf. Without ``seed`` the caller has already
    put it into ``root.grad`` (the notes' ``o.grad = 1.0``). With ``create_graph`` each node applies
    its rule to the nodes themselves instead of to their numbers, so every gradient is a graph too.
    ``before_step(node)``, if given, is called just before each node's ``_backward`` runs (leaves
    included), so a viewer can tell which step made which change (``save_html`` does).
    """
    with _backward_lock:
        order = topological_order(root)
        # An interior node's grad is this pass's alone: clear what an earlier pass left there, so a
        # node that receives nothing now (a custom rule that skips it) pushes nothing stale onward.
        before = root._GRAD_BEFORE_BACKWARD  # one engine per graph
        for node in order:
            if node._prev and node is not root:
                node.grad = before
        if seed is not _SEEDED:
            if root._prev:
                root.grad = seed
            else:
                root._accumulate(seed)
        if create_graph:
            for node in reversed(order):
                if node._prev:
                    node._graph_chain_rule()
        elif before_step is None:
            for node in reversed(order):
                # A leaf has no step to take. The rest is Node._backward inlined: this loop is the
                # innermost of every training step, and the property call would cost as much as it does.
                if node._prev:
                    custom = node._custom_backward
                    if custom is None:
                        node._chain_rule()
                    else:
                        custom()
        else:
            for node in reversed(order):
                before_step(node)
                node._backward()


def grad(outputs, inputs, grad_outputs=None, create_graph: bool = False, allow_unused: bool = False) -> tuple:
    """The gradients of ``outputs`` with respect to ``inputs``, one per input, as ``torch.autograd.grad``.

    ``outputs`` is a Value or Tensor (or a list of them, whose gradients add up, each weighted by its
    entry of ``grad_outputs``); ``inputs`` a list of the nodes to differentiate by. Nothing's ``grad``
    changes; the result is a tuple, one gradient per input. With ``create_graph=True`` the gradients
    are graphs themselves, so they can be differentiated again:
    ``grad(grad(f, [x], create_graph=True)[0], [x])`` is the second derivative.
    An input the outputs do not depend on raises, or gives None with ``allow_unused=True``.
    """
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    if not outputs or not inputs:
        raise ValueError("grad: needs at least one output and one input")
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    grad_outputs = list(grad_outputs) if isinstance(grad_outputs, (list, tuple)) else [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: {len(outputs)} outputs but {len(grad_outputs)} grad_outputs")
    for i, node in enumerate([*outputs, *inputs]):
        if not isinstance(node, Node):
            kind = "output" if i < len(outputs) else "input"
            raise TypeError(f"grad: every {kind} must be a Value or a Tensor, got {type(node).__name__}")
    for i, x in enumerate(inputs):
        if getattr(x, "requires_grad", True) is False:
            raise ValueError(
                f"grad: input {i} is a Tensor that does not require grad, so no gradient flows to it; make it with "
                "requires_grad=True"
            )
    root = outputs[0]._weighted_total(outputs, grad_outputs)
    order = topological_order(root)
    reached = {id(node) for node in order}
    # Run an ordinary pass, then put every grad back: the graph is left exactly as it was.
    with grads_restored(order):
        backpropagate(root, root._seed(create_graph), create_graph)
        results = []
        for i, x in enumerate(inputs):
            if id(x) not in reached:
                if not allow_unused:
                    raise ValueError(
                        f"grad: input {i} is not used to compute the outputs; pass allow_unused=True to get None for it"
                    )
                results.append(None)
            else:
                results.append(x._as_gradient(x.grad, create_graph))
    return tuple(results)


@contextmanager
def grads_restored(order: list) -> Iterator[None]:
    """A block in which a backward pass over ``order`` (a ``topological_order``) starts from zeroed
    gradients and leaves no trace: every ``grad`` is put back when the block ends, however it ends.

    Inside, each leaf starts from no gradient (as after ``zero_grad()``; ``backpropagate`` clears the
    interior nodes itself) and no other backward pass can run. ``grad`` and ``save_html`` use it.
    """
    with _backward_lock:
        saved = [(node, node.grad) for node in order]
        try:
            for node in order:
                if not node._prev:  # backpropagate clears the interior nodes; leaves would accumulate
                    node.grad = node._GRAD_BEFORE_BACKWARD
            yield
        finally:
            for node, before in saved:
                node.grad = before


def zero_grad(parameters) -> None:
    """Forget accumulated gradients: 0.0 for a scalar ``Value``, ``None`` for a ``Tensor``.

    Gradients of leaves accumulate with ``+=`` (so a node used twice gets both contributions, and two
    ``backward()`` calls add up), which is why they must be reset before every new ``backward()``, as
    the notes' training loop does with ``p.grad = 0.0``.
    """
    for p in parameters:
        p.grad = p._GRAD_BEFORE_BACKWARD


# -- grad mode: whether operations record the graph, kept per thread ----------------------------------
class _GradMode(threading.local):
    # Class attributes are each new thread's starting values: recording on, nothing saved.
    enabled = True

    def __init__(self):
        self.saved = []  # the modes to restore, one per no_grad block this thread is inside


_grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    """Whether operations in this thread record the graph (False inside ``no_grad``)."""
    return _grad_mode.enabled


class no_grad(ContextDecorator):
    """``with no_grad():`` computes without recording the graph: every Tensor result has
    ``requires_grad=False`` and empty ``_prev``. Use it for evaluation and for updates made by hand.

    Works as ``@no_grad`` or ``@no_grad()`` on a function (recursive ones too), may be nested and
    re-entered, and affects only the thread that runs it, as in PyTorch. (Scalar ``Value`` s always
    record: the notes' engine has no switch.)
    """

    def __new__(cls, func: Callable | None = None):
        self = super().__new__(cls)
        # `@no_grad` without parentheses hands us the function itself: decorate it straight away.
        return self(func) if func is not None else self

    def __init__(self, func: Callable | None = None):
        pass

    def __enter__(self) -> None:
        # The previous mode goes on this thread's own stack (never on self), so one no_grad object can
        # be entered again while it is active, or from several threads at once.
        _grad_mode.saved.append(_grad_mode.enabled)
        _grad_mode.enabled = False

    def __exit__(self, *exc) -> None:
        _grad_mode.enabled = _grad_mode.saved.pop()
