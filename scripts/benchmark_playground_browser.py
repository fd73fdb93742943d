"""Notebook 01's playground in a real browser: seconds from a control change to the new figure.

One measurement per control.

    .venv/bin/python scripts/benchmark_playground_browser.py [--changes 5]
                                                             [--screenshot playground.png]

Starts JupyterLab (no token, on 127.0.0.1 only, a free port, settings in a temporary folder) on a
temporary copy of notebooks/01_2d_classifier.ipynb, opens it in the system Chromium (headless, fresh
profile) driven by Playwright, runs all cells (HELPERS_SMOKE=1 cuts the lesson's trainings to two
epochs; the playground is the same as in a full run), then changes every control of the playground
`--changes` times, as a student does: the arrow keys on a slider's handle, a choice in the
drop-down, a click on a toggle button. In the page it measures the time from the input event (key,
pointer, change) to the new figure's image loaded. Prints the median and the maximum per control,
checks that no control label is cut off (ellipsis) and saves a screenshot of the controls. Exit
status 0 when every control's maximum is at most `--limit` seconds (default 1) and every label is
whole.

Needs Playwright for Python (`pip install -e '.[browser]'`) and Chromium at /usr/bin/chromium (or
--chromium); it never downloads a browser.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from helpers.settings import REPO_ROOT, SMOKE_ENV, WIDGETS_ENV

try:                          # run as a script: its folder, scripts/, is on sys.path
    from chromium import CHROMIUM, chromium_missing, launch_chromium
except ModuleNotFoundError:   # imported as scripts.benchmark_playground_browser (the tests)
    from scripts.chromium import CHROMIUM, chromium_missing, launch_chromium

NOTEBOOK = REPO_ROOT / "notebooks" / "01_2d_classifier.ipynb"
#: control (its description in the notebook) -> how it is changed: ("keys", arrow keys alternating)
#: on a slider, ("select", values) on a drop-down, ("click", button texts) on toggle buttons; cycled
#: through `--changes` times
CONTROLS = {
    "hidden layers": ("keys", None), "units/layer": ("keys", None),
    "activation": ("select", ["tanh", "sigmoid", "relu"]),
    "features": ("click", ["r, φ", "both", "x, y"]),
    "learning rate": ("keys", None), "epochs": ("keys", None), "noise": ("keys", None),
}
FIGURE = ".widget-interact .widget-output img"

#: In the page: the time of the first input event since the
#: last reset (capture phase: before any widget sees it).
RECORD_INPUT = """() => {
    window.__inputAt = null;
    for (const kind of ["keydown", "pointerdown", "mousedown", "change", "input"])
        document.addEventListener(kind, () => {
            if (window.__inputAt === null) window.__inputAt = performance.now();
        }, true);
}"""
#: In the page: performance.now() once the figure shows
#: an image other than the one before the change.
NEW_FIGURE_SHOWN = """(selector) => {
    const img = document.querySelector(selector);
    if (img && img.src !== window.__oldSrc && img.complete && img.naturalWidth > 0)
        return performance.now();
    return false;
}"""
REMEMBER_FIGURE = """(selector) => {
    window.__oldSrc = document.querySelector(selector).src; window.__inputAt = null;
}"""
#: In the page: every label of the playground's controls, and whether it is cut off.
LABELS = """() => [...document.querySelectorAll(".widget-interact .widget-label")]
    .filter(l => l.offsetParent)
    .map(l => ({text: l.textContent, cut: l.scrollWidth > l.clientWidth + 1}))"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def jupyterlab(folder: Path, port: int):
    """Run a JupyterLab server on 127.0.0.1:port serving ``folder``, without token.

    Its settings are kept under ``folder``.
    """
    env = {k: v for k, v in os.environ.items() if k != WIDGETS_ENV}
    env.update({SMOKE_ENV: "1"}, JUPYTER_CONFIG_DIR=str(folder / ".jupyter"),
               JUPYTERLAB_SETTINGS_DIR=str(folder / ".lab-settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(folder / ".lab-workspaces"),
               # the server's and kernel's connection files too: killed at the end, they would
               # otherwise be left behind in ~/.local/share/jupyter/runtime
               JUPYTER_RUNTIME_DIR=str(folder / ".runtime"))
    command = [str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser",
               "--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
               "--IdentityProvider.token=", "--ServerApp.password=",
               f"--ServerApp.root_dir={folder}", "--LabApp.news_url=",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    news = (folder / ".lab-settings" / "@jupyterlab" / "apputils-extension"
            / "notification.jupyterlab-settings")
    news.parent.mkdir(parents=True)
    # no "get notified about Jupyter news?" toast over the page
    news.write_text('{"fetchNews": "false"}')
    log = open(folder / "jupyterlab.log", "w")
    # its own process group: at the end the server and its kernel are killed together (a graceful
    # shutdown of the server and its kernel takes about 2 s, and nothing of theirs is kept)
    server = subprocess.Popen(command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("JupyterLab did not start:\n"
                                       + (folder / "jupyterlab.log").read_text())
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)   # the script runs on Linux (system Chromium)
        server.wait(20)
        log.close()


def run_all_cells(page, url: str, name: str, timeout_s: float):
    """Open notebook ``name``, run all its cells and wait for the playground's first figure."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    # JupyterLab loads slowly on a busy machine
    page.goto(f"{url}/lab/tree/{name}", timeout=180_000)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
    page.wait_for_selector(".jp-StatusBar-TextItem:has-text('| Idle')", state="attached",
                           timeout=120_000)
    for _ in range(10):
        # the menu's "Run All Cells" does nothing until the notebook and its kernel are ready
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-item:not(.lm-mod-disabled) .lm-Menu-itemLabel",
                     has_text=re.compile("^Run All Cells$")).click()
        with contextlib.suppress(PlaywrightTimeout):  # started: a code cell shows "[*]" or "[1]"
            page.wait_for_selector(".jp-InputPrompt:has-text('[*]'), "
                                   ".jp-InputPrompt:has-text('[1]')",
                                   state="attached", timeout=10_000)
            break
        page.keyboard.press("Escape")
    else:
        raise RuntimeError("JupyterLab did not run the notebook")
    page.wait_for_selector(FIGURE, state="attached", timeout=timeout_s * 1000)
    page.locator(".widget-interact").scroll_into_view_if_needed()


def control(page, description: str):
    """The widget box of the playground control whose label is ``description``."""
    return page.locator(".widget-interact > .lm-Widget").filter(
        has=page.locator(".widget-label", has_text=description)).first


def change(page, description: str, how, step: int):
    """Change one control once, as a student would."""
    kind, values = how
    box = control(page, description)
    if kind == "keys":
        handle = box.locator(".noUi-handle").first
        handle.focus()
        handle.press("ArrowRight" if step % 2 == 0 else "ArrowLeft")
    elif kind == "select":
        box.locator("select").select_option(values[step % len(values)])
    else:
        box.locator("button", has_text=values[step % len(values)]).click()


def measure(page, changes: int, timeout_s: float = 30) -> dict[str, list[float]]:
    """Seconds from input to new figure, ``changes`` times per control."""
    page.evaluate(RECORD_INPUT)
    seconds = {}
    for description, how in CONTROLS.items():
        seconds[description] = []
        for step in range(changes):
            page.evaluate(REMEMBER_FIGURE, FIGURE)
            started = time.perf_counter()
            change(page, description, how, step)
            shown_at = page.wait_for_function(NEW_FIGURE_SHOWN, arg=FIGURE, polling=10,
                                              timeout=timeout_s * 1000).json_value()
            input_at = page.evaluate("window.__inputAt")
            seconds[description].append((shown_at - input_at) / 1000 if input_at is not None
                                        else time.perf_counter() - started)
            page.wait_for_timeout(200)  # a student looks at the figure before the next change
    return seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=5, help="changes per control")
    parser.add_argument("--limit", type=float, default=1.0,
                        help="seconds allowed from a change to its figure")
    parser.add_argument("--screenshot", default="playground.png",
                        help="PNG of the controls and figure")
    parser.add_argument("--chromium", default=CHROMIUM)
    parser.add_argument("--notebook", default=str(NOTEBOOK))
    args = parser.parse_args(argv)
    missing = chromium_missing(args.chromium)
    if missing:
        print(f"cannot run: {missing}")
        return 2
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="playground-browser-"))
    try:
        shutil.copy(args.notebook, folder / Path(args.notebook).name)
        started = time.perf_counter()
        with jupyterlab(folder, free_port()) as url, sync_playwright() as playwright:
            browser = launch_chromium(playwright, args.chromium)
            # a fresh, empty profile
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()
            run_all_cells(page, url, Path(args.notebook).name, timeout_s=600)
            print("JupyterLab started and the notebook ran in "
                  f"{time.perf_counter() - started:.0f} s", flush=True)
            labels = page.evaluate(LABELS)
            page.locator(".widget-interact").screenshot(path=args.screenshot)
            seconds = measure(page, args.changes)
            browser.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    cut = [label["text"] for label in labels if label["cut"]]
    print(f"control labels: {', '.join(label['text'] for label in labels)}; "
          + (f"CUT OFF: {', '.join(cut)}" if cut else "all whole"))
    print(f"screenshot of the controls: {args.screenshot}")
    print(f"click to new figure, {args.changes} changes per control (seconds):")
    for description, values in seconds.items():
        print(f"  {description:<14} median {statistics.median(values):.2f}  max {max(values):.2f}  "
              f"({', '.join(f'{v:.2f}' for v in values)})")
    worst = max(max(values) for values in seconds.values())
    print(f"slowest change: {worst:.2f} s (limit {args.limit:.2f} s)")
    return 0 if worst <= args.limit and not cut and labels else 1


if __name__ == "__main__":
    sys.exit(main())
