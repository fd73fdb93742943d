"""The system Chromium, launched the same way by every script that drives a browser.

``check_site.py`` and ``benchmark_playground_browser.py`` load pages in it through Playwright for
Python (the ``browser`` extra). It is never downloaded (no ``playwright install``): the course
uses the system's ``/usr/bin/chromium``.
"""

from __future__ import annotations

import os

CHROMIUM = "/usr/bin/chromium"
#: Headless (Playwright's default), no sandbox (root in a container), no GPU, and nothing that
#: reaches the network on its own (updates, sync, QUIC): a check sees only its pages' requests.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def chromium_missing(chromium: str = CHROMIUM) -> str | None:
    """Say what is missing to drive ``chromium`` with Playwright, or None when nothing is."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[browser]')"
    if not os.access(chromium, os.X_OK):
        return f"no Chromium at {chromium} (Debian/Ubuntu: apt install chromium)"
    return None


def launch_chromium(playwright, chromium: str = CHROMIUM):
    """Launch ``chromium`` headless with the course's arguments from a started Playwright."""
    return playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
