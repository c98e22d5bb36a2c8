"""The scalar engine is plain Python: it imports and trains with the standard library alone. The Pythons
the project says it supports are the ones CI runs the suite on."""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = textwrap.dedent(
    """
    import sys

    class NoThirdParty:
        # Refuse every package that is not part of the standard library (or chainrule itself).
        blocked = ("numpy", "tqdm", "sklearn", "matplotlib", "graphviz", "torch", "selenium")

        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in self.blocked:
                raise ImportError(f"{name} is blocked in this test")
            return None

    sys.meta_path.insert(0, NoThirdParty())

    import random
    import chainrule, chainrule.nn, chainrule.losses, chainrule.optim
    from chainrule import Value, gradcheck, numerical_derivative
    from chainrule.nn import MLP
    from chainrule.losses import mse
    from chainrule.optim import SGD

    random.seed(0)
    model = MLP(3, [4, 4, 1])
    optimizer = SGD(model.parameters(), lr=0.05)
    xs = [[2, 3, -1], [3, -1, 0.5], [0.5, 1, 1], [1, 1, -1]]
    ys = [1, -1, -1, 1]
    first = None
    for _ in range(20):
        loss = mse([model(x) for x in xs], ys)
        first = first if first is not None else loss.data
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.data < first / 5, (first, loss.data)
    assert gradcheck(lambda a, b: (a * b).tanh(), [Value(0.3), Value(-1.2)])
    assert abs(numerical_derivative(lambda x: 3 * x**2 - 4 * x + 5, 3.0) - 14.0) < 1e-6
    leaked = sorted(name for name in sys.modules if name.split(".")[0] in NoThirdParty.blocked)
    assert not leaked, leaked
    print("ok", first, loss.data)
    """
)


def test_scalar_engine_needs_only_the_standard_library():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok ")


def test_numpy_is_loaded_only_when_a_tensor_is_asked_for():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    code = (
        "import sys, chainrule; assert 'numpy' not in sys.modules; "
        "chainrule.Tensor; assert 'numpy' in sys.modules; print('ok')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def supported_pythons() -> list:
    """The "Programming Language :: Python :: 3.x" classifiers of pyproject.toml, oldest first."""
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    versions = re.findall(r'"Programming Language :: Python :: (3\.\d+)"', pyproject)
    return sorted(versions, key=lambda v: tuple(map(int, v.split("."))))


def test_supported_pythons_are_stated_alike_everywhere():
    """requires-python starts at the oldest classifier, which is the one `.ci/run` runs the suite on
    besides the machine's python3, and both READMEs name exactly the classifiers' versions."""
    versions = supported_pythons()
    assert len(versions) >= 2, versions
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^requires-python = ">=(3\.\d+)"$', pyproject, re.M).group(1) == versions[0]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^oldest=(3\.\d+)$", ci, re.M).group(1) == versions[0]
    listed = ", ".join(versions[:-1])
    readme = (ROOT / "README.md").read_text(encoding="utf-8").split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert f"Python {listed} and {versions[-1]}, the two versions CI runs the suite on" in " ".join(readme.split())
    turkish = (ROOT / "docs" / "tr" / "README.md").read_text(encoding="utf-8")
    stated = f"Python sürümleri {listed} ve {versions[-1]}'dir: CI test takımını bu iki sürümde"
    assert stated in " ".join(turkish.split())


def test_this_python_is_a_supported_one():
    """CI runs the suite on each Python it supports, so under CI the Python running this is one that
    pyproject.toml lists: a machine whose python3 changed makes CI fail until the list is updated."""
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    if running not in supported_pythons():
        message = f"Python {running} is not one the project states it supports ({supported_pythons()})"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message + ": CI does not test it")


def _chainrule_modules() -> list:
    package = ROOT / "chainrule"
    names = []
    for path in sorted(package.rglob("*.py")):
        if path.name == "__main__.py":
            continue  # `python -m chainrule`: importing it runs the command line
        parts = path.relative_to(ROOT).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


# Each module, imported first in a fresh interpreter, then a Tensor operation and its backward: modules
# that import each other (the Tensor class and its operations) must load in either order, and the
# operators the class gets from them must be in place once any of them is imported.
@pytest.mark.parametrize("name", _chainrule_modules())
def test_every_module_can_be_imported_first(name):
    code = (
        f"import {name}\n"
        "import numpy as np\n"
        "from chainrule import Tensor\n"
        "t = Tensor([[1.0, 2.0]], requires_grad=True)\n"
        "((t @ t.T).sum() * 3 - t.relu().mean()).backward()\n"
        "assert np.allclose(t.grad, [[5.5, 11.5]]), t.grad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
