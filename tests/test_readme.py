"""Every Python block of the README's tour runs as written, in order, in one namespace."""

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list:
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_readme_has_a_tour():
    assert len(python_blocks()) >= 8


def test_readme_tour_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for number, block in enumerate(python_blocks(), start=1):
        code = compile(block, f"README.md python block {number}", "exec")
        exec(code, namespace)


def test_quick_start_is_two_commands():
    section = README.read_text().split("## Quick start", 1)[1]
    block = re.search(r"```[a-z]*\n(.*?)```", section, re.S).group(1)
    lines = [line for line in block.splitlines() if line.strip()]
    assert lines == [
        "pip install -e '.[demo]' && chainrule demo",
        "pip install -e '.[test]' && pytest",
    ]


def gradient_graph_block() -> str:
    """The block of "The gradient is a graph too" that draws the lecture neuron's gradient do/dn."""
    (block,) = [block for block in python_blocks() if "draw_dot(do_dn)" in block]
    return block


def test_gradient_graph_numbers_equal_torchs(torch, capsys):
    """The block's printed numbers, and every grad in its picture, are PyTorch's (float64, rtol 1e-10)."""
    block = gradient_graph_block()
    namespace: dict = {}
    exec(compile(block, "README.md gradient graph block", "exec"), namespace)
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
    assert "python docs/neuron_grad.py" in README.read_text().split("## Pictures", 1)[1]
