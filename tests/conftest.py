"""Shared test fixtures: PyTorch (float64) is the oracle for values and gradients (see ``oracle.py``).

Where torch is not installed the tests that need it are skipped, except when the ``CI`` environment
variable is set: there a missing torch fails the run, so a skipped oracle can never pass for green
(see ``dependencies.py``).
"""

import os

import pytest
from dependencies import require, require_program
from hypothesis import settings

# Under CI, Hypothesis draws the same examples on every run, so a green run stays green; locally it
# keeps exploring new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


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
