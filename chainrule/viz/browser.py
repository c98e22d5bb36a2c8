"""Headless Chromium, the one place chainrule starts a browser: a PNG of a backward-pass page (for a
README) through ``screenshot_html``, and the WebDriver the browser tests drive through
``headless_chromium``.

Kept apart from ``chainrule.viz.html`` (which builds the page) because nothing here is needed to
write or show a page; the names stay importable from ``chainrule.viz.html`` and ``chainrule.viz``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHROMIUM_PATH = "/usr/bin/chromium"
CHROMEDRIVER_PATH = "/usr/bin/chromedriver"
CHROMIUM_INSTALL_HINT = "apt-get install chromium chromium-driver (Debian/Ubuntu), then pip install selenium"
# Headless, and quiet: no GPU, no sandbox (containers), and none of the background traffic Chromium
# makes by itself (updates, sync, QUIC probes), so that a page's only request is the page itself.
CHROMIUM_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)


def require_screenshot_tools(where: str) -> tuple[str, str]:
    """The paths of Chromium and ChromeDriver (``find_chromium``), once selenium, which drives them, is
    known to import; ImportError or FileNotFoundError, each saying once what to install, otherwise."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        raise ImportError(
            f"{where} drives headless Chromium through selenium, which is not installed: "
            "pip install selenium (chainrule[test] includes it)"
        ) from None
    return find_chromium()


def find_chromium() -> tuple[str, str]:
    """Paths of Chromium and its ChromeDriver: ``$CHAINRULE_CHROMIUM`` / ``$CHAINRULE_CHROMEDRIVER``,
    else Debian's ``/usr/bin/chromium`` and ``/usr/bin/chromedriver``, else whatever is on PATH.

    Only a program counts: a path that is not an executable file (a leftover, or one hidden behind
    ``/dev/null``) is passed over. Raises FileNotFoundError, saying how to install them, when either
    is missing.
    """
    found = []
    for env, default, names in (
        ("CHAINRULE_CHROMIUM", CHROMIUM_PATH, ("chromium", "chromium-browser", "google-chrome")),
        ("CHAINRULE_CHROMEDRIVER", CHROMEDRIVER_PATH, ("chromedriver",)),
    ):
        candidates = [os.environ.get(env), default, *(shutil.which(n) for n in names)]
        path = next((c for c in candidates if c and os.path.isfile(c) and os.access(c, os.X_OK)), None)
        if path is None:
            raise FileNotFoundError(
                f"{os.path.basename(default)} was not found ({default} or on PATH): {CHROMIUM_INSTALL_HINT}"
            )
        found.append(path)
    return found[0], found[1]


@contextlib.contextmanager
def headless_chromium(width: int = 1200, height: int = 700, performance_log: bool = False) -> Iterator[Any]:
    """A Selenium WebDriver for headless Chromium, quit (and its profile deleted) when the block ends.

    The browser and driver are named explicitly (see ``find_chromium``), so Selenium Manager never
    tries to download either; a fresh temporary profile keeps runs independent. ``performance_log``
    records the DevTools network events (read them with ``driver.get_log('performance')``).

    Raises ImportError when selenium is missing and FileNotFoundError when Chromium or ChromeDriver is.
    """
    chromium, chromedriver = require_screenshot_tools("headless_chromium")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chainrule-chromium-")
    options = Options()
    options.binary_location = chromium
    for arg in CHROMIUM_ARGS:
        options.add_argument(arg)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={width},{height}")
    if performance_log:
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    try:
        driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    except BaseException:
        shutil.rmtree(profile, ignore_errors=True)
        raise
    try:
        # The viewport itself (not the window around it) gets the requested size, at 1 pixel per px.
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def screenshot_html(
    html_path: str | Path, png_path: str | Path, width: int = 1200, height: int = 700, step: int | None = None
) -> Path:
    """Save a PNG of a page written by ``save_html``, as headless Chromium shows it (for a README).

    ``step`` is how far the backward walk has gone (0: only the root's seed; default: to the end,
    every gradient filled in). Returns the PNG's path.

    Raises FileNotFoundError when the page, Chromium or ChromeDriver is missing, ImportError when
    selenium is, and RuntimeError when the page is not one of ``save_html``'s.
    """
    html_path = Path(html_path).resolve()
    if not html_path.is_file():
        raise FileNotFoundError(f"screenshot_html: no page at {html_path}; write one with save_html first")
    png_path = Path(png_path)
    png_path.parent.mkdir(parents=True, exist_ok=True)
    with headless_chromium(width, height) as driver:
        driver.get(html_path.as_uri())
        total = driver.execute_script("return window.chainrule ? window.chainrule.state().total : null")
        if total is None:
            raise RuntimeError(f"screenshot_html: {html_path} is not a page written by chainrule's save_html")
        driver.execute_script("window.chainrule.go(arguments[0])", total if step is None else step)
        if not driver.save_screenshot(str(png_path)):
            raise RuntimeError(f"screenshot_html: Chromium could not save a screenshot to {png_path}")
    return png_path
