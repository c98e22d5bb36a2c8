"""Pictures of chainrule's graphs and training runs.

* ``draw_dot`` / ``save_graph`` (``chainrule.viz.graph``): the computation graph as the lecture
  draws it, through Graphviz.
* ``save_html`` (``chainrule.viz.html``): one self-contained HTML page that walks the backward pass
  step by step; ``screenshot_html`` (``chainrule.viz.browser``): a PNG of it in headless Chromium.
* ``plot_history``, ``plot_decision_boundary``, ``plot_confusion_matrix`` (``chainrule.viz.plots``):
  training curves and results as PNG files, through matplotlib.

Nothing heavy is imported until you use it: graphviz, matplotlib and selenium load on first call.
"""

from chainrule.viz.graph import GraphvizNotFoundError, draw_dot, save_graph

_LAZY = {
    "save_html": "chainrule.viz.html",
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
