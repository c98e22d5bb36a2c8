"""The matplotlib Figure that chainrule's plot functions return (imports matplotlib: load it lazily).

chainrule draws on a ``Figure`` made directly, not through ``pyplot``, so that no window opens and the
session's backend is left alone. Such a figure is not one Jupyter knows how to show (its inline
support only registers itself once ``pyplot`` is in use), so ``PlotFigure`` says how to draw itself as
PNG, and remembers where it was saved.
"""

from __future__ import annotations

import io
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


class PlotFigure(Figure):
    """A matplotlib ``Figure`` drawn by Agg; shown inline by Jupyter as a PNG.

    ``saved_path`` is the PNG file the plot function wrote (``None`` when it was given no path).
    Not registered with ``pyplot``: nothing needs closing, and the figure is freed with its last reference.
    """

    saved_path: Path | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        FigureCanvasAgg(self)  # attaches itself: savefig renders with Agg, whatever the session's backend

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png")
        return buffer.getvalue()
