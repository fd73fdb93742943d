"""Lecture slides (`make slides`): a reveal.js deck per notebook, from its stored outputs, offline.

Each notebook marks its key cells with the standard ``slideshow`` cell metadata (what JupyterLab's
property inspector and jupyterlab-rise use): ``slide`` (title, sections), ``subslide`` (subsections,
questions, figures), ``fragment`` (results and answers, shown on the next key press), ``skip``
(set-up, solutions, self-checks); unmarked cells continue the slide above. nbconvert's
SlidesExporter turns each into build/slides/NN_name.html with the template in
docs/slides/templates/course_reveal, which loads nothing from a CDN: reveal.js comes from the npm
registry (``npm pack reveal.js@VERSION``, its checksum checked; kept in build/vendor/ for later
builds) and MathJax 2 from the jupyter-server-mathjax package, both copied into build/slides/. The
Colab badge is a local image and links to the student copy.

    .venv/bin/python scripts/build_slides.py [--notebooks notebooks/01_x.ipynb ...] [--out DIR]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from helpers.settings import REPO_ROOT

import nbformat

try:                          # run as a script: its folder, scripts/, is on sys.path
    import check_site
    from build_site import BADGE_URL
except ModuleNotFoundError:   # imported as scripts.build_slides (the tests)
    from scripts import check_site
    from scripts.build_site import BADGE_URL

REVEAL_VERSION = "5.2.1"
# `npm view reveal.js@5.2.1 dist.integrity`
REVEAL_INTEGRITY = ("sha512-r7//6mIM5p34hFiDMvYfXgyjXqGRta+/psd9YtytsgRlrpRzFv4"
                    "RbH76TXd2qD+7ZPZEbpBDhdRhJaFgfQ7zNQ==")
VENDOR = REPO_ROOT / "build" / "vendor"
TEMPLATES = REPO_ROOT / "docs" / "slides" / "templates"
MATHJAX_URL = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
SLIDE_STARTS = ("slide", "subslide")


def slide_types(notebook) -> list[str]:
    """Each cell's ``slideshow.slide_type``; "-" (continue the slide above) where none is set."""
    return [(cell.metadata.get("slideshow") or {}).get("slide_type", "-")
            for cell in notebook.cells]


def slide_count(notebook) -> int:
    """Number of slides of the deck: cells that start a slide or a subslide."""
    return sum(kind in SLIDE_STARTS for kind in slide_types(notebook))


def reveal_tarball(vendor: Path = VENDOR) -> Path:
    """reveal.js' package from the npm registry, fetched once, checked against REVEAL_INTEGRITY."""
    tarball = vendor / f"reveal.js-{REVEAL_VERSION}.tgz"
    if not tarball.is_file():
        if shutil.which("npm") is None:
            raise SystemExit(f"npm is needed once to fetch reveal.js {REVEAL_VERSION} (Node.js: "
                             f"apt install npm), or put reveal.js-{REVEAL_VERSION}.tgz from "
                             f"`npm pack` into {vendor}")
        vendor.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "pack", f"reveal.js@{REVEAL_VERSION}", "--pack-destination",
                        str(vendor), "--loglevel=error"], check=True, stdout=subprocess.DEVNULL)
    digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    if digest != REVEAL_INTEGRITY:
        raise SystemExit(f"{tarball} does not have the registry's checksum of reveal.js "
                         f"{REVEAL_VERSION}: delete it and build again")
    return tarball


def copy_assets(out: Path) -> None:
    """reveal.js (dist/ and the notes plugin), MathJax 2 and the Colab badge into ``out``."""
    import jupyter_server_mathjax

    with tarfile.open(reveal_tarball()) as archive:
        members = [m for m in archive.getmembers() if m.isfile() and
                   m.name.startswith(("package/dist/", "package/plugin/notes/", "package/LICENSE"))]
        for member in members:
            member.name = member.name.removeprefix("package/")
        archive.extractall(out / "reveal.js", members=members, filter="data")
    mathjax = Path(jupyter_server_mathjax.__file__).parent / "static"
    shutil.copytree(mathjax, out / "mathjax", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("SVG", "a11y", "*.py"))   # as docs/site/conf.py
    shutil.copy(REPO_ROOT / "docs" / "site" / "colab-badge.svg", out / "colab-badge.svg")


def deck_copy(notebook, name: str):
    """The notebook as the deck shows it: the Colab badge local and its link to the student copy."""
    deck = nbformat.from_dict(nbformat.from_dict(notebook))  # deep copy
    for cell in deck.cells:
        if cell.cell_type == "markdown":
            cell.source = cell.source.replace(BADGE_URL, "colab-badge.svg")
            cell.source = cell.source.replace(f"/notebooks/{name}", f"/student/{name}")
    deck.metadata.pop("widgets", None)
    return deck


def exporter():
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    config = Config()
    config.SlidesExporter.extra_template_basedirs = [str(TEMPLATES)]
    config.SlidesExporter.template_name = "course_reveal"
    config.SlidesExporter.reveal_url_prefix = "reveal.js"
    config.SlidesExporter.reveal_theme = "white"
    config.SlidesExporter.reveal_number = "c/t"
    config.SlidesExporter.reveal_transition = "none"
    config.SlidesExporter.reveal_width = "1200"      # before reveal.js scales it to the screen
    config.SlidesExporter.reveal_height = "800"
    config.SlidesExporter.mathjax_url = MATHJAX_URL
    return SlidesExporter(config=config)


def deck_html(notebook, name: str) -> str:
    """The deck's HTML (one file; the figures are inlined as data: URLs)."""
    body, _ = exporter().from_notebook_node(deck_copy(notebook, name),
                                            resources={"metadata": {"name": name}})
    return body


def outside_resources(html: str) -> list[str]:
    """Every script, style sheet or image that a deck would load from another site."""
    return re.findall(r'<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)="(https?://[^"]+)"', html)


def build(notebooks: list[Path], out: Path) -> dict[str, int]:
    """Write one deck per notebook and the shared assets into ``out``; {deck file: slides}."""
    out.mkdir(parents=True, exist_ok=True)
    copy_assets(out)
    decks = {}
    for path in notebooks:
        notebook = nbformat.read(path, as_version=4)
        html = deck_html(notebook, path.stem)
        outside = outside_resources(html)
        if outside:
            raise SystemExit(f"{path.name}: the deck would load {outside[0]} from outside")
        (out / f"{path.stem}.html").write_text(html, encoding="utf-8")
        decks[f"{path.stem}.html"] = slide_count(notebook)
    return decks


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notebooks", nargs="+", type=Path,
                        default=sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")))
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "build" / "slides")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    decks = build(args.notebooks, args.out)
    for deck, slides in decks.items():
        print(f"  {args.out / deck}: {slides} slides")
    problems = check_site.offline_problems(args.out)
    print(f"slides: {len(decks)} decks in {args.out} ({time.perf_counter() - start:.1f} s); "
          f"offline check: {len(problems)} problems")
    for problem in problems:
        print("  PROBLEM", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
