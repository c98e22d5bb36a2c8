"""Small graphs from the lecture, used by the command line, the pictures and the tests."""

from __future__ import annotations

from chainrule.engine import Value


def lecture_neuron() -> Value:
    """The lecture's hand-worked neuron: ``o = tanh(x1*w1 + x2*w2 + b)``, with ``o.backward()`` done.

    x1 = 2, x2 = 0, w1 = -3, w2 = 1 and b = 6.8813735870195432 (chosen so that o is about 0.7071);
    the lecture finds x1.grad = -1.5, w1.grad = 1.0, x2.grad = 0.5, w2.grad = 0.0 by hand.
    Built from single operations (not the fused neuron of ``chainrule.nn``) so every step shows.
    """
    x1 = Value(2.0, label="x1")
    x2 = Value(0.0, label="x2")
    w1 = Value(-3.0, label="w1")
    w2 = Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    x1w1x2w2 = x1w1 + x2w2
    x1w1x2w2.label = "x1*w1 + x2*w2"
    n = x1w1x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    return o


def moons_point_loss(seed: int = 1337) -> Value:
    """The demo's network (two hidden ReLU layers, a linear output, hinge loss) on one moons point, two
    neurons wide so that a page shows every box readably, with ``loss.backward()`` done. Its parameters
    come labelled by place (``L1.n2.w1``), and the inputs show as ``x1``, ``x2``."""
    import random

    from chainrule.losses import hinge
    from chainrule.nn import MLP

    net = MLP(2, [2, 2, 1], activation="relu", output_activation="linear", rng=random.Random(seed))
    loss = hinge(net([0.5, -0.25]), 1.0)
    loss.label = "loss"
    loss.backward()
    return loss


def backward_walk_example(model: str, seed: int = 1337) -> Value:
    """The graph ``chainrule graph --model MODEL`` draws: ``"neuron"`` (the lecture's) or ``"demo"``."""
    return lecture_neuron() if model == "neuron" else moons_point_loss(seed)
