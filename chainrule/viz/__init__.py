"""Pictures of chainrule's graphs and training runs.

* ``draw_dot`` / ``save_graph`` (``chainrule.viz.graph``): the computation graph as the lecture
  draws it, through Graphviz.
* ``save_html`` (``chainrule.viz.html``): one self-contained HTML page that walks the backward pass
  step by step; ``backward_walk`` (same module): that page shown inline in Jupyter;
  ``screenshot_html`` (``chainrule.viz.browser``): a PNG of it in headless Chromium.
* ``plot_history``, ``plot_decision_boundary``, ``plot_confusion_matrix`` (``chainrule.viz.plots``):
  training curves and results, through matplotlib: each returns its figure (shown inline in Jupyter)
  and saves it as a PNG when given a path.

Nothing heavy is imported until you use it: graphviz, matplotlib and selenium load on first call.
"""

from chainrule.viz.graph import GraphvizNotFoundError, draw_dot, save_graph

_LAZY = {
    "save_html": "chainrule.viz.html",
    "backward_walk": "chainrule.viz.html",
    "backward_steps": "chainrule.viz.html",
    "screenshot_html": "chainrule.viz.browser",
    "headless_chromium": "chainrule.viz.browser",
    "plot_history": "chainrule.viz.plots",
    "plot_decision_boundary": "chainrule.viz.plots",
    "plot_confusion_matrix": "chainrule.viz.plots",
    "confusion_counts": "chainrule.viz.plots",
}

__all__ = [
    "GraphvizNotFoundError",
    "backward_steps",
    "backward_walk",
    "confusion_counts",
    "draw_dot",
    "headless_chromium",
    "plot_confusion_matrix",
    "plot_decision_boundary",
    "plot_history",
    "save_graph",
    "save_html",
    "screenshot_html",
]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'chainrule.viz' has no attribute {name!r}")


def __dir__():
    # dir() and Jupyter's tab completion list the names __getattr__ resolves, not only the loaded ones.
    return sorted(set(globals()) | set(_LAZY))
