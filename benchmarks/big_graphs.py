"""Deep and wide graphs: backward through chains and sums of 10^4 to 10^6 nodes.

    python benchmarks/big_graphs.py            # 10^4, 10^5, 10^6 (the README table)
    python benchmarks/big_graphs.py --quick    # 10^3 and 10^4 only (CI)

* chain: ``x = x.tanh()`` repeated n times: a graph n operations deep;
* sum: ``sum(terms)`` with Python's built-in ``sum`` over n Values: a chain of n additions;
* wide sum: ``value_sum(terms)``: one node with n children.

Reports the seconds to build and to run ``backward()`` and the time per node, which should stay flat
as n grows. micrograd 0.1.0 (if installed) is tried at the smallest size: its recursive topological
sort stops at Python's recursion limit.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chainrule import Value  # noqa: E402
from chainrule.engine import value_sum  # noqa: E402


def chain(n: int, V=Value):
    x0 = V(0.5)
    x = x0
    for _ in range(n):
        x = x.tanh()
    return x0, x


def builtin_sum(n: int, V=Value):
    terms = [V(i * 1e-6) for i in range(n)]
    return terms, sum(terms)


def wide_sum(n: int, V=Value):
    terms = [V(i * 1e-6) for i in range(n)]
    return terms, value_sum(terms)


def run(kind: str, n: int):
    gc.collect()
    start = time.perf_counter()
    inputs, out = {"chain": chain, "sum": builtin_sum, "wide sum": wide_sum}[kind](n)
    built = time.perf_counter()
    out.backward()
    done = time.perf_counter()
    # check the answer, so a fast wrong backward can't pass
    if kind == "chain":
        assert 0.0 < inputs.grad < 1.0, inputs.grad
    else:
        assert inputs[0].grad == 1.0 and inputs[-1].grad == 1.0
    return built - start, done - built


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sizes 10^3 and 10^4 only")
    args = parser.parse_args(argv)
    sizes = [10**3, 10**4] if args.quick else [10**4, 10**5, 10**6]

    print(f"recursion limit: {sys.getrecursionlimit()}")
    print()
    print("| graph | nodes | build (s) | backward (s) | backward per node (µs) |")
    print("|---|---:|---:|---:|---:|")
    for kind in ("chain", "sum", "wide sum"):
        for n in sizes:
            build, backward = run(kind, n)
            print(f"| {kind} | {n:,} | {build:.3f} | {backward:.3f} | {backward / n * 1e6:.2f} |")
    print()
    try:
        from micrograd.engine import Value as MicrogradValue
    except ImportError:
        print("micrograd not installed: skipped its deep-chain check")
        return 0
    n = sizes[0]
    out = MicrogradValue(0.5)
    for _ in range(n):  # micrograd 0.1.0 has no tanh; a chain of products is as deep
        out = out * 1.0
    try:
        out.backward()
        print(f"micrograd 0.1.0, chain of {n:,}: backward completed")
    except RecursionError:
        print(f"micrograd 0.1.0, chain of {n:,}: RecursionError (its topological sort is recursive)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
