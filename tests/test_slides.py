"""Lecture slides (`make slides`): every notebook marks a deck of sensible length, loaded locally.

scripts/build_slides.py makes them; a deck's HTML loads nothing from outside.

The decks are counted from the cells' standard ``slideshow`` metadata (a ``slide`` or ``subslide``
starts a slide); notebook 01's deck is rendered with the course's template (without reveal.js
itself, which `make slides` fetches from the npm registry once) and checked: as many slides as its
metadata says, only local scripts, style sheets and images.
"""

import re

import nbformat
import pytest

from helpers.settings import REPO_ROOT
from helpers.coursework import role_of
from scripts import build_slides

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SLIDE_TYPES = {"slide", "subslide", "fragment", "skip", "notes", "-"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_marks_a_deck_of_sensible_length(path):
    notebook = nbformat.read(path, as_version=4)
    types = build_slides.slide_types(notebook)
    assert set(types) <= SLIDE_TYPES, set(types) - SLIDE_TYPES
    assert types[0] == "slide"                              # the title opens the deck
    assert 8 <= build_slides.slide_count(notebook) <= 60
    for cell, kind in zip(notebook.cells, types):     # solutions and checks stay off the slides
        if role_of(cell)[1] in ("solution", "check", "hidden-check"):
            assert kind == "skip", cell.source[:80]
        if cell.cell_type == "markdown" and cell.source.startswith("## "):
            assert kind == "slide", cell.source[:80]       # every section starts a slide


@pytest.mark.slow   # nbconvert renders the deck
def test_deck_of_notebook_01_has_its_slides_and_loads_nothing_from_outside():
    path = REPO_ROOT / "notebooks" / "01_2d_classifier.ipynb"
    notebook = nbformat.read(path, as_version=4)
    html = build_slides.deck_html(notebook, path.stem)
    # nbconvert opens a <section> for every slide, and one inside it for each of its subslides (the
    # first included)
    sections = len(re.findall(r"<section\b", html))
    slides = build_slides.slide_types(notebook).count("slide")
    assert sections == slides + build_slides.slide_count(notebook)
    assert build_slides.outside_resources(html) == []
    assert not re.search(r'<(script|link|img)\b[^>]*\b(src|href)="(https?:)?//', html)
    assert 'src="reveal.js/dist/reveal.js"' in html and f'src="{build_slides.MATHJAX_URL}"' in html
    assert 'src="colab-badge.svg"' in html and "/student/01_2d_classifier.ipynb" in html
    assert "# BEGIN SOLUTION" not in html and "HIDDEN CHECK" not in html   # skipped: left out


def test_outside_resources_finds_cdn_scripts_styles_and_images():
    html = ('<script src="https://unpkg.com/reveal.js@4.0.2/dist/reveal.js"></script>'
            '<link rel="stylesheet" href="http://cdn.example.org/x.css"><img src="local.png">'
            '<a href="https://colab.research.google.com/">a link is fine</a>')
    assert build_slides.outside_resources(html) == [
        "https://unpkg.com/reveal.js@4.0.2/dist/reveal.js", "http://cdn.example.org/x.css"]


def test_a_reveal_tarball_with_the_wrong_checksum_is_refused(tmp_path):
    tarball = tmp_path / f"reveal.js-{build_slides.REVEAL_VERSION}.tgz"
    tarball.write_bytes(b"not the registry's file")
    with pytest.raises(SystemExit, match="checksum"):
        build_slides.reveal_tarball(tmp_path)
