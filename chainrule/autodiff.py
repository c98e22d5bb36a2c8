"""The one backpropagation core that both engines share.

A node of either engine (a scalar ``Value`` or an array ``Tensor``) offers the notes' protocol:

* ``_prev``: the nodes it was computed from, in operand order;
* ``_backward()``: its local chain-rule step, which adds its own gradient, times the local
  derivative, into the ``grad`` of each node in ``_prev``.

``backpropagate`` orders the graph so that every node comes after the nodes it was made from (the
notes' topological sort), then runs each node's ``_backward`` from the output back to the inputs.
The sort here is iterative, so a graph a million nodes deep does not hit Python's recursion limit the
way the notes' recursive ``build_topo`` does; the order it produces is the same.
"""

from __future__ import annotations

from typing import Any, Callable


class Node:
    """What makes a ``Value`` or a ``Tensor`` a node: the notes' ``_backward``, shared by both engines.

    ``node._backward`` is the node's chain-rule step. An operation records its local derivatives on
    the node and ``_backward`` hands back ``node._chain_rule``, which applies them; or, the notes'
    way, you assign a closure of your own with ``out._backward = _backward`` and that one runs.
    Subclasses define ``_chain_rule`` and a ``_custom_backward`` slot.
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


def backpropagate(root: Any) -> None:
    """Run every node's ``_backward`` from ``root`` back to the leaves (the caller seeds ``root.grad``)."""
    for node in reversed(topological_order(root)):
        node._backward()


def zero_grad(parameters) -> None:
    """Forget accumulated gradients: 0.0 for a scalar ``Value``, ``None`` for a ``Tensor``.

    Gradients accumulate with ``+=`` (so a node used twice gets both contributions), which is why they
    must be reset before every new ``backward()``, as the notes' training loop does with ``p.grad = 0.0``.
    """
    for p in parameters:
        p.grad = 0.0 if isinstance(p.grad, (int, float)) else None
