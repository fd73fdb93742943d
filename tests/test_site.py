"""The course website (`make site`: scripts/build_site.py, checked by scripts/check_site.py), tiny.

A site of notebook 01 alone is built into tmp_path (Sphinx + myst-nb, nothing executed): its pages,
images, downloads and links resolve and nothing is loaded from outside; the offline check fails on
each kind of breakage; with Playwright and the system Chromium, every page loads cleanly in it.
"""

import html
import re

import nbformat
import pytest

from helpers.settings import REPO_ROOT
from scripts import build_site, check_site

NOTEBOOK = REPO_ROOT / "notebooks" / "01_2d_classifier.ipynb"


ALT = "TEST: disc and ring points, 1000 for training & 500 for validation"


@pytest.fixture(scope="module")
def tiny_site(tmp_path_factory):
    """Notebook 01's site; its first figure gets a description (the test's own) if it has none."""
    folder = tmp_path_factory.mktemp("site")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    first_figure = next(output for cell in notebook.cells for output in cell.get("outputs", [])
                        if "image/png" in output.get("data", {}))
    first_figure.setdefault("metadata", {}).setdefault("image/png", {}).setdefault("alt", ALT)
    nbformat.write(notebook, folder / NOTEBOOK.name)
    build_site.build([folder / NOTEBOOK.name], folder / "site", folder / "site-src", quiet=True)
    return folder / "site"


@pytest.mark.slow   # a Sphinx build
def test_every_stored_figure_description_is_its_images_alt_text(tiny_site):
    page = (tiny_site / "01_2d_classifier.html").read_text()
    notebook = nbformat.read(tiny_site.parent / NOTEBOOK.name, as_version=4)
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    alts = [output["metadata"]["image/png"]["alt"] for output in outputs
            if "alt" in output.get("metadata", {}).get("image/png", {})]
    shown = {html.unescape(alt) for alt in re.findall(r'<img [^>]*alt="([^"]*)"', page)}
    assert alts and set(alts) <= shown   # at least the one the fixture gives


@pytest.mark.slow   # a Sphinx build
def test_tiny_site_has_its_pages_and_no_broken_or_outside_reference(tiny_site):
    pages = [page.name for page in check_site.html_pages(tiny_site)]
    assert pages == ["01_2d_classifier.html", "genindex.html", "index.html", "search.html"]
    assert check_site.offline_problems(tiny_site) == []


@pytest.mark.slow   # a Sphinx build
def test_home_page_lists_the_notebook_with_its_title_and_summary(tiny_site):
    home = (tiny_site / "index.html").read_text()
    summary = build_site.readme_summaries()[NOTEBOOK.name]
    assert 'href="01_2d_classifier.html"' in home
    assert "A 2D classifier: when a straight line" in home
    assert summary.split("`")[0].strip() in home     # the README's one-line summary


@pytest.mark.slow   # a Sphinx build
def test_notebook_page_has_its_figures_downloads_and_colab_link_but_no_solution(tiny_site):
    page = (tiny_site / "01_2d_classifier.html").read_text()
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    figures = sum("image/png" in output.get("data", {}) for output in outputs)
    images = re.findall(r'<img [^>]*src="(_images/[^"]+\.png)"', page)
    assert len(images) == figures > 0 and all((tiny_site / src).is_file() for src in images)
    assert "_images/colab-badge.svg" in page
    assert "colab.research.google.com/github/" in page and "/student/01_2d_classifier.ipynb" in page
    download = re.search(r'href="(_downloads/[^"]+/01_2d_classifier\.ipynb)"', page)
    student = (REPO_ROOT / "student" / NOTEBOOK.name).read_bytes()
    assert download and (tiny_site / download.group(1)).read_bytes() == student
    assert "HIDDEN CHECK" not in page and "BEGIN SOLUTION" not in page
    assert (tiny_site / "_static" / "mathjax" / "MathJax.js").is_file()
    assert "\\(" in page   # the page has math for it


def test_site_copy_keeps_the_solutions_only_when_asked():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    hidden = build_site.site_copy(notebook, NOTEBOOK.name)
    shown = build_site.site_copy(notebook, NOTEBOOK.name, solutions=True)
    assert "# BEGIN SOLUTION" not in nbformat.writes(hidden)
    assert "# BEGIN SOLUTION" in nbformat.writes(shown)
    assert len(hidden.cells) == len(shown.cells) < len(notebook.cells)   # hidden checks: left out
    assert [c.outputs for c in hidden.cells if c.cell_type == "code"] == \
           [c.outputs for c in shown.cells if c.cell_type == "code"]      # the stored outputs


BROKEN_PAGE = """<html><head><script src="https://cdn.example.org/lib.js"></script>
<link rel="stylesheet" href="missing.css"></head><body>
<a href="other.html#there">fine</a> <a href="other.html#nowhere">no such id</a>
<a href="gone.html">gone</a> <img src="_images/missing.png">
<a href="https://example.org/">a link out is fine</a></body></html>"""


def test_offline_check_finds_every_kind_of_breakage(tmp_path):
    (tmp_path / "index.html").write_text(BROKEN_PAGE)
    (tmp_path / "other.html").write_text('<html><body><h1 id="there">x</h1></body></html>')
    problems = check_site.offline_problems(tmp_path)
    expected = ["lib.js'> loads from outside", "missing.css", "no id 'nowhere'", "gone.html",
                "missing.png"]
    assert len(problems) == len(expected), problems
    for text, problem in zip(expected, problems):
        assert text in problem


needs_chromium = pytest.mark.skipif(check_site.chromium_missing() is not None,
                                    reason=str(check_site.chromium_missing()))


@pytest.mark.slow
@needs_chromium
def test_every_page_of_the_tiny_site_loads_cleanly_in_chromium(tiny_site):
    assert check_site.browser_problems(tiny_site) == []


@pytest.mark.slow
@needs_chromium
def test_browser_check_reports_outside_requests_broken_images_and_errors(tmp_path):
    (tmp_path / "index.html").write_text(
        '<html><body><script src="https://cdn.example.org/lib.js"></script><img src="missing.png">'
        '<script>undefined_function()</script><a href="gone.html">gone</a></body></html>')
    problems = "\n".join(check_site.browser_problems(tmp_path, timeout_ms=20_000))
    for text in ("leaves the site", "image did not load: missing.png", "undefined_function",
                 "gone.html", "HTTP 404"):
        assert text in problems, problems
