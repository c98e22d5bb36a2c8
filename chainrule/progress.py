"""The command line's progress bars: tqdm on a terminal or in Jupyter, a few lines in a log."""

from __future__ import annotations

import sys

# Where stderr is a file or a pipe (a log, CI), the bar is redrawn at most this often (seconds).
PIPED_PROGRESS_INTERVAL = 60.0


def progress_bar(iterable, desc: str, enabled: bool):
    """A tqdm bar over ``iterable``; off when not ``enabled``.

    On a terminal (or in Jupyter) it redraws as tqdm does. Written to a file or a pipe, each redraw
    would be one more carriage-return update in it (one per step, hundreds per run), so there it
    shows the start, at most one update a minute, and the final numbers.
    Callers update the shown loss with ``set_postfix(..., refresh=False)``: a refreshing postfix
    would redraw on every step, whatever the interval.
    """
    from tqdm.auto import tqdm

    options = {}
    if enabled and not tqdm.__module__.startswith("tqdm.notebook") and not _is_terminal(sys.stderr):
        options["mininterval"] = PIPED_PROGRESS_INTERVAL
    return tqdm(iterable, desc=desc, disable=not enabled, leave=True, dynamic_ncols=True, **options)


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
