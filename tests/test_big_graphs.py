"""Backpropagation through graphs far deeper than Python's recursion limit (the notes' recursive
``build_topo`` would stop at about a thousand nodes), checked against closed-form gradients.
"""

from __future__ import annotations

import math

import pytest

from chainrule import Value
from chainrule.autodiff import topological_order
from chainrule.engine import value_sum

N = 200_000


def test_long_chain_of_multiplications():
    steps = N // 4
    x0 = Value(1.0)
    x = x0
    for _ in range(steps):
        x = x * 1.0000001 + 0.0
    # 4 nodes a step (the product, the constant factor, the sum, the constant 0.0), 2 of them deep
    assert len(topological_order(x)) == 4 * steps + 1 >= N
    x.backward()
    # x = 1.0000001 ** steps and dx/dx0 = 1.0000001 ** steps. Each step rounds once: allow that many ulps.
    closed_form = math.exp(steps * math.log1p(1e-7))
    assert x.data == pytest.approx(closed_form, rel=steps * 2.3e-16)
    assert x0.grad == pytest.approx(closed_form, rel=steps * 2.3e-16)


def test_long_tanh_chain():
    x0 = Value(0.9)
    x = x0
    for _ in range(N):
        x = x.tanh()
    x.backward()
    # d/dx0 of tanh(tanh(...)) is the product of (1 - tanh(x_k)**2) along the chain, computed here with floats
    t, slope = 0.9, 1.0
    for _ in range(N):
        t = math.tanh(t)
        slope *= 1.0 - t * t
    assert x.data == t
    assert x0.grad == pytest.approx(slope, rel=1e-9)
    # and the chain's end is near 0, where x_k behaves like sqrt(3 / (2k)) for large k
    assert x.data == pytest.approx(math.sqrt(3 / (2 * N)), rel=0.01)


def test_sum_of_many_terms_built_one_addition_at_a_time():
    xs = [Value(float(i)) for i in range(N)]
    total = sum(xs)  # a chain of N additions, N deep
    (total * 0.5).backward()
    assert total.data == N * (N - 1) / 2
    assert all(x.grad == 0.5 for x in xs)


def test_one_value_used_in_many_terms_gets_every_contribution():
    n = N // 4
    x = Value(0.5)
    total = sum(x * x for _ in range(n))  # n * x**2
    total.backward()
    assert total.data == n * 0.25
    assert x.grad == 2 * n * 0.5


def test_wide_sum_node():
    xs = [Value(float(i)) for i in range(N)]
    total = value_sum(xs)
    assert total.data == N * (N - 1) / 2
    (total * total).backward()
    assert all(x.grad == 2 * total.data for x in xs)
