"""Optional test dependencies (a Python package, a program on PATH): each test that needs one asks for it
here. Where it is missing the test is skipped locally, but fails when the ``CI`` environment variable is
set, so that a skipped check can never pass for green.
"""

from __future__ import annotations

import importlib
import os
import shutil
from types import ModuleType

import pytest


def missing(message: str) -> None:
    """Skip the running test because ``message`` names something missing; under ``CI``, fail it instead."""
    if os.environ.get("CI"):
        pytest.fail(message + "; CI requires it", pytrace=False)
    pytest.skip(message)


def require(module_name: str, install_hint: str) -> ModuleType:
    """Import an optional Python package, or skip (fail under CI) saying how to install it."""
    try:
        return importlib.import_module(module_name)
    except ImportError:
        missing(f"{module_name} is not installed ({install_hint})")


def require_program(name: str, install_hint: str) -> str:
    """The path of program ``name`` on PATH, or skip (fail under CI) saying how to install it."""
    path = shutil.which(name)
    if path is None:
        missing(f"the program {name!r} is not on PATH ({install_hint})")
    return path
