"""Every Python block of the README's tour runs as written, in order, in one namespace; so does every block
of its Turkish translation (``docs/tr/README.md``), whose code is the English code with only the comments
translated."""

import io
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
TURKISH = ROOT / "docs" / "tr" / "README.md"
READMES = pytest.mark.parametrize("readme", [README, TURKISH], ids=["en", "tr"])


def python_blocks(readme: Path = README) -> list:
    return re.findall(r"```python\n(.*?)```", readme.read_text(encoding="utf-8"), re.S)


@READMES
def test_readme_has_a_tour(readme):
    assert len(python_blocks(readme)) >= 8


@READMES
def test_readme_tour_runs(readme, torch, tmp_path, monkeypatch):  # section 8 carries a model to PyTorch
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for number, block in enumerate(python_blocks(readme), start=1):
        code = compile(block, f"{readme.relative_to(ROOT)} python block {number}", "exec")
        exec(code, namespace)


def code_without_comments(block: str) -> list:
    """The block's tokens, less its comments and the line breaks of blank or comment-only lines."""
    return [
        (token.type, token.string)
        for token in tokenize.generate_tokens(io.StringIO(block).readline)
        if token.type not in (tokenize.COMMENT, tokenize.NL)
    ]


def test_turkish_tour_is_the_english_code_with_translated_comments():
    english, turkish = python_blocks(README), python_blocks(TURKISH)
    assert len(turkish) == len(english), "docs/tr/README.md must hold the same Python blocks as README.md"
    for number, (en, tr) in enumerate(zip(english, turkish), start=1):
        assert code_without_comments(tr) == code_without_comments(en), f"python block {number} differs"
        assert tr.count("\n") == en.count("\n"), f"python block {number}: lines added or removed"
    assert turkish != english, "the Turkish blocks' comments are to be in Turkish"


def quick_start_block(readme: Path = README) -> str:
    heading = "## Quick start" if readme == README else "## Hızlı başlangıç"
    section = readme.read_text(encoding="utf-8").split(heading, 1)[1]
    return re.search(r"```[a-z]*\n(.*?)```", section, re.S).group(1)


def test_turkish_quick_start_is_the_english_one():
    assert quick_start_block(TURKISH) == quick_start_block(README)


@READMES
def test_relative_links_resolve(readme):
    """Links and images that point into the repository reach a file from where the README lies."""
    text = readme.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    local = [t for t in targets if not re.match(r"[a-z]+:|#", t)]
    assert local, "expected at least the pictures"
    for target in local:
        assert (readme.parent / target.split("#")[0]).is_file(), target


def test_readme_links_to_the_turkish_tour():
    top = README.read_text(encoding="utf-8").split("## ", 1)[0]
    assert "[docs/tr/README.md](docs/tr/README.md)" in top
    assert "(../../README.md)" in TURKISH.read_text(encoding="utf-8").split("## ", 1)[0]


def test_quick_start_is_a_virtualenv_then_two_commands():
    """A paste of the block installs into a fresh virtualenv, never into the system's Python; `.ci/run`
    runs the two commands after it (``.ci/quickstart.py``)."""
    lines = [line for line in quick_start_block().splitlines() if line.strip()]
    assert lines == [
        "python3 -m venv .venv && . .venv/bin/activate",
        "pip install -e '.[demo]' && chainrule demo",
        "pip install -e '.[test]' && pytest",
    ]


def gradient_graph_block(readme: Path = README) -> str:
    """The block of "The gradient is a graph too" that draws the lecture neuron's gradient do/dn."""
    (block,) = [block for block in python_blocks(readme) if "draw_dot(do_dn)" in block]
    return block


@READMES
def test_gradient_graph_numbers_equal_torchs(readme, torch, capsys):
    """The block's printed numbers, and every grad in its picture, are PyTorch's (float64, rtol 1e-10)."""
    block = gradient_graph_block(readme)
    namespace: dict = {}
    exec(compile(block, f"{readme.relative_to(ROOT)} gradient graph block", "exec"), namespace)
    printed = capsys.readouterr().out
    assert "# " + printed.strip() in block  # the output shown in the README is what it prints

    def close(ours, theirs):
        theirs = theirs.item()
        return abs(ours - theirs) <= 1e-10 * abs(theirs) + 1e-15

    f64 = torch.float64
    leaves = {
        name: torch.tensor(value, dtype=f64, requires_grad=True)
        for name, value in [("x1", 2.0), ("x2", 0.0), ("w1", -3.0), ("w2", 1.0), ("b", 6.8813735870195432)]
    }
    n = leaves["x1"] * leaves["w1"] + leaves["x2"] * leaves["w2"] + leaves["b"]
    o = torch.tanh(n)
    (do_dn,) = torch.autograd.grad(o, n, create_graph=True)
    d2o_dn2, *d_leaves = torch.autograd.grad(do_dn, [n, *leaves.values()])
    assert close(namespace["do_dn"].data, do_dn)
    assert close(namespace["n"].grad, d2o_dn2)
    for name, expected in zip(leaves, d_leaves):
        assert close(namespace[name].grad, expected), name  # the grads the picture shows

    def o_of(x1_w1):
        return torch.tanh(x1_w1[0] * x1_w1[1] + leaves["x2"].detach() * leaves["w2"].detach() + leaves["b"].detach())

    hessian = torch.autograd.functional.hessian(o_of, torch.tensor([2.0, -3.0], dtype=f64))
    for i in range(2):
        for j in range(2):
            assert close(namespace["hessian"][i][j], hessian[i, j]), (i, j)


def test_gradient_graph_picture_is_the_readmes():
    """docs/neuron_grad.svg is what `python docs/neuron_grad.py` draws from the README's block today."""
    namespace: dict = {}
    exec(compile(gradient_graph_block(), "README.md gradient graph block", "exec"), namespace)
    docs = README.parent / "docs"
    assert (docs / "neuron_grad.dot").read_text(encoding="utf-8") == namespace["picture"].source, (
        "the README's gradient graph changed: run `python docs/neuron_grad.py` to redraw docs/neuron_grad.svg"
    )
    svg = (docs / "neuron_grad.svg").read_text(encoding="utf-8")
    assert "do/dn" in svg and "(docs/neuron_grad.svg)" in README.read_text()
    assert "(../neuron_grad.svg)" in TURKISH.read_text(encoding="utf-8")
    assert "python docs/neuron_grad.py" in README.read_text().split("## Pictures", 1)[1]
