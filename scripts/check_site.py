"""Check a built site or slide folder (build/site, build/slides): offline, and in headless Chromium.

Offline (always; `make test` runs it on a one-notebook site): every HTML file is parsed, and

- every internal ``href``/``src`` (links, images, scripts, style sheets) must name a file of the
  build, and a ``#fragment`` an ``id`` of the page it points to (not reveal.js' ``#/...`` routes);
- nothing may be *loaded* from outside (``src`` of script/img/iframe/source, ``href`` of link): an
  ``<a href="https://...">`` to another site is a link a reader may follow, so it is allowed.

``--browser`` then serves the folder on 127.0.0.1 and loads every page in headless Chromium (the
system ``/usr/bin/chromium``, driven by Playwright from the ``browser`` extra; never ``playwright
install``). A page fails on a console error or uncaught exception, a failed request or HTTP error,
any request that leaves 127.0.0.1 (it is blocked and reported), an ``<img>`` that did not load
(``naturalWidth == 0``), math left untypeset, and an internal link that resolves to no file.

    .venv/bin/python scripts/check_site.py [FOLDER] [--browser] [--screenshot PAGE PNG]
"""

from __future__ import annotations

import argparse
import functools
import http.server
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from helpers.settings import REPO_ROOT

try:                          # run as a script: its folder, scripts/, is on sys.path
    from chromium import chromium_missing, launch_chromium
except ModuleNotFoundError:   # imported as scripts.check_site (the tests)
    from scripts.chromium import chromium_missing, launch_chromium

LOADING = {("script", "src"), ("img", "src"), ("iframe", "src"), ("source", "src"),
           ("link", "href"), ("video", "src"), ("audio", "src"), ("embed", "src")}
SKIPPED_DIRS = ("_static", "_images", "_downloads", "_sources", "mathjax", "reveal.js")


class _References(HTMLParser):
    """Collects (tag, attribute, value) of every href/src, and every id and name."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.references: list[tuple[str, str, str]] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if key in ("href", "src") and value is not None:
                self.references.append((tag, key, value))
            elif key == "id" or (tag == "a" and key == "name"):
                self.ids.add(value or "")


def html_pages(folder: Path) -> list[Path]:
    """The pages of a build: its HTML files outside the asset folders."""
    return sorted(path for path in folder.rglob("*.html")
                  if not any(part in SKIPPED_DIRS for part in path.relative_to(folder).parts[:-1]))


@functools.lru_cache(maxsize=None)
def _parsed(path: Path) -> _References:
    parser = _References()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser


def _target(folder: Path, page: Path, url_path: str) -> Path:
    if url_path.startswith("/"):
        target = folder / unquote(url_path[1:])
    else:
        target = page.parent / unquote(url_path)
    return target / "index.html" if target.is_dir() else target


def offline_problems(folder: Path) -> list[str]:
    """Every broken internal reference and outside resource of the HTML files in ``folder``."""
    folder = folder.resolve()
    _parsed.cache_clear()
    problems = []
    for page in sorted(folder.rglob("*.html")):
        if any(part in ("mathjax", "reveal.js") for part in page.relative_to(folder).parts):
            continue   # the libraries' own demo and test pages
        name = page.relative_to(folder)
        for tag, key, value in _parsed(page).references:
            url = urlsplit(value.strip())
            if url.scheme in ("mailto", "javascript", "data", "tel"):
                continue
            if url.scheme or url.netloc:
                if (tag, key) in LOADING:
                    problems.append(f"{name}: <{tag} {key}={value!r}> loads from outside the site")
                continue
            target = _target(folder, page, url.path) if url.path else page
            if not target.resolve().is_relative_to(folder) or not target.is_file():
                problems.append(f"{name}: <{tag} {key}={value!r}>: no such file in the build")
            # a fragment names an id as written or percent-decoded, as browsers look it up
            elif (url.fragment and not url.fragment.startswith("/") and target.suffix == ".html"
                  and not {url.fragment, unquote(url.fragment)} & _parsed(target).ids):
                problems.append(f"{name}: <{tag} {key}={value!r}>: "
                                f"no id {url.fragment!r} in {target.name}")
    return problems


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(folder: Path):
    """An HTTP server for ``folder`` on a free port of 127.0.0.1, in a daemon thread."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# In the page, after load: images forced to load now, then every image, untypeset math and link.
_PAGE_REPORT = """async () => {
  for (const img of document.images) img.loading = "eager";
  await Promise.all([...document.images].map(img => img.complete ? null :
      new Promise(done => { img.onload = img.onerror = done; setTimeout(done, 10000); })));
  return {
    broken_images: [...document.images].filter(img => img.naturalWidth === 0)
        .map(img => img.getAttribute("src")),
    links: [...document.querySelectorAll("a[href]")].map(a => a.href),
  };
}"""
# MathJax 2 has typeset the page: its queue is empty and no raw \\( ... \\) is left in a math span.
_MATH_DONE = """() => !window.MathJax || (window.MathJax.Hub && window.MathJax.Hub.queue &&
    window.MathJax.Hub.queue.pending === 0 && !window.MathJax.Hub.queue.running &&
    [...document.querySelectorAll("span.math, div.math")]
        .every(el => !/\\\\[(\\[]/.test(el.textContent)))"""


def browser_problems(folder: Path, pages: list[Path] | None = None,
                     screenshots: tuple[tuple[str, Path], ...] = (),
                     timeout_ms: int = 60_000) -> list[str]:
    """Load each page (default: all) in headless Chromium; the problems found, one line each.

    ``screenshots``: (page, PNG path) pairs to take afterwards; a page may end in a reveal.js route
    (``#/2/1``).
    """
    from playwright.sync_api import sync_playwright

    folder = folder.resolve()
    pages = [page.resolve() for page in (pages if pages is not None else html_pages(folder))]
    server = serve(folder)
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    problems = []
    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            for page_path in pages:
                name = page_path.relative_to(folder).as_posix()
                problems += _check_page(context, origin, folder, name, timeout_ms)
            for shown, png in screenshots:
                page = context.new_page()
                page.goto(f"{origin}/{shown}", wait_until="networkidle", timeout=timeout_ms)
                page.wait_for_function(_MATH_DONE, timeout=timeout_ms)
                page.wait_for_timeout(1000)   # reveal.js' layout after the route
                page.screenshot(path=str(png))
                page.close()
            browser.close()
    finally:
        server.shutdown()
    return problems


def _check_page(context, origin: str, folder: Path, name: str, timeout_ms: int) -> list[str]:
    problems = []
    page = context.new_page()

    def outside(route):
        problems.append(f"{name}: request to {route.request.url} leaves the site (blocked)")
        route.abort()

    page.route(lambda url: not url.startswith(origin + "/"), outside)
    page.on("console", lambda msg: msg.type == "error" and problems.append(
        f"{name}: console error: {msg.text}"))
    page.on("pageerror", lambda error: problems.append(f"{name}: uncaught exception: {error}"))
    page.on("requestfailed", lambda request: request.url.startswith(origin) and problems.append(
        f"{name}: request failed: {request.url} ({request.failure})"))
    page.on("response", lambda response: response.status >= 400 and problems.append(
        f"{name}: HTTP {response.status} for {response.url}"))
    try:
        page.goto(f"{origin}/{name}", wait_until="networkidle", timeout=timeout_ms)
        page.wait_for_function(_MATH_DONE, timeout=timeout_ms)
        report = page.evaluate(_PAGE_REPORT)
    except Exception as error:   # a time-out names the page instead of stopping the whole check
        page.close()
        return problems + [f"{name}: did not finish loading: {error}"]
    problems += [f"{name}: image did not load: {src}" for src in report["broken_images"]]
    for link in report["links"]:
        url = urlsplit(link)
        internal = f"{url.scheme}://{url.netloc}" == origin
        if internal and not _target(folder, folder, url.path).is_file():
            problems.append(f"{name}: link to {link} resolves to no file of the build")
    page.close()
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path, nargs="?", default=REPO_ROOT / "build" / "site")
    parser.add_argument("--browser", action="store_true",
                        help="also load every page in headless Chromium")
    parser.add_argument("--screenshot", nargs=2, metavar=("PAGE", "PNG"), action="append",
                        default=[], help="with --browser: a screenshot of PAGE (a path in the "
                                         "folder, may end in #/2); may be repeated")
    args = parser.parse_args(argv)
    if not html_pages(args.folder):
        print(f"no HTML pages in {args.folder}: build it first (make site, make slides)")
        return 2
    pages = html_pages(args.folder)
    problems = offline_problems(args.folder)
    print(f"offline: {len(pages)} pages in {args.folder}, {len(problems)} problems")
    if args.browser:
        missing = chromium_missing()
        if missing:
            print(f"cannot run the browser check: {missing}")
            return 2
        screenshots = tuple((shown, Path(png)) for shown, png in args.screenshot)
        found = browser_problems(args.folder, pages, screenshots)
        print(f"Chromium: {len(pages)} pages loaded, {len(found)} problems")
        problems += found
    for problem in problems:
        print("  PROBLEM", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
