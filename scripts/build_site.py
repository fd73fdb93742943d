"""The course as a static website (`make site`): Sphinx + myst-nb over the stored notebooks.

Nothing is executed: the stored outputs are the content. This script stages a Sphinx source folder
(default build/site-src):

- for each notebook its *site copy*: the instructor's hidden checks left out; the solutions replaced
  by a note (unless ``--solutions``, for an instructor-only site) and then the "Open in Colab" link
  pointing at the student copy, as in ``make student``; the Colab badge drawn from a local image
  (nothing is loaded from another site); a download link for the student copy under the title;
- the student copies (student/NN_*.ipynb, which Sphinx copies into the site as downloads);
- index.md: a table of the notebooks (title and the one-line summary from the README's table).

Then it runs ``sphinx-build`` with docs/site/conf.py (theme, local MathJax, alt texts) into
build/site, and checks the built HTML offline (scripts/check_site.py: every internal link and image
resolves, nothing is loaded from outside). ``scripts/check_site.py --browser`` loads every page in
headless Chromium.

    .venv/bin/python scripts/build_site.py [--notebooks notebooks/01_x.ipynb ...] [--out DIR]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

from helpers.settings import REPO_ROOT
from helpers.coursework import CODE_BEGIN, CODE_END, MARKDOWN_BEGIN, MARKDOWN_END, is_hidden_check
from helpers.coursework.student import strip_solutions

try:                          # run as a script: its folder, scripts/, is on sys.path
    import check_site
except ModuleNotFoundError:   # imported as scripts.build_site (the tests)
    from scripts import check_site

SITE_CONF_DIR = REPO_ROOT / "docs" / "site"
BADGE_URL = "https://colab.research.google.com/assets/colab-badge.svg"
LOCAL_BADGE = "images/colab-badge.svg"   # beside the staged notebooks; Sphinx copies it to _images/
CODE_NOTE = ["# Exercise: your code goes here (the student copy has this cell to complete)."]
MARKDOWN_NOTE = ["**Your answer:** _written in the student copy._"]


def notebook_title(notebook) -> str:
    """The notebook's first markdown heading, without the ``#``."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+)$", cell.source, flags=re.MULTILINE)
            if match:
                return match.group(1).strip()
    raise ValueError("the notebook has no markdown heading to use as its title")


def readme_summaries(readme: Path = REPO_ROOT / "README.md") -> dict[str, str]:
    """``{"01_2d_classifier.ipynb": "a linear model fails ..."}``: the README's notebook table."""
    row = re.compile(r"^\| `(\d\d_[\w-]+\.ipynb)` \| (.+?) \|\s*$", flags=re.MULTILINE)
    return dict(row.findall(readme.read_text()))


def first_sentence(notebook) -> str:
    """The first sentence of the title cell's first paragraph (after the title and the badge)."""
    paragraphs = [p.strip() for p in notebook.cells[0].source.split("\n\n")]
    text = next((p for p in paragraphs if p and not p.startswith(("#", "[!["))), "")
    return re.split(r"(?<=[.!?])\s", " ".join(text.split()), maxsplit=1)[0]


def site_copy(notebook, name: str, solutions: bool = False):
    """The page version of an instructor notebook (a new object; the input is unchanged).

    Outputs stay as stored. Hidden checks are left out; without ``solutions`` every solution region
    is replaced by a note and the Colab link opens the student copy. The badge image is the local
    copy, and the title cell gets a download link for ``student/<name>``.
    """
    page = nbformat.from_dict(nbformat.from_dict(notebook))  # deep copy
    page.cells = [cell for cell in page.cells if not is_hidden_check(cell)]
    for cell in page.cells:
        if not solutions and cell.cell_type == "code":
            cell.source = strip_solutions(cell.source, CODE_BEGIN, CODE_END, CODE_NOTE)
        elif not solutions and cell.cell_type == "markdown":
            cell.source = strip_solutions(cell.source, MARKDOWN_BEGIN, MARKDOWN_END, MARKDOWN_NOTE)
        if not solutions:
            cell.source = cell.source.replace(f"/notebooks/{name}", f"/student/{name}")
        if cell.cell_type == "markdown":
            cell.source = cell.source.replace(BADGE_URL, LOCAL_BADGE)
    title_cell = next(cell for cell in page.cells if cell.cell_type == "markdown")
    title_cell.source += (f"\n\n{{download}}`Download the student copy ({name}) <student/{name}>` "
                          "to run it in Jupyter, or open it in Colab with the badge above.")
    page.metadata.pop("widgets", None)
    return page


def index_markdown(entries: list[tuple[str, str, str]]) -> str:
    """The home page: a table of (page name, title, summary), a hidden toctree for navigation."""
    lines = ["# Deep learning, one notebook at a time", "",
             "Each notebook is shown as it was last run: its text, code, figures and results. "
             "To run one yourself, download its student copy from its page or open it in Colab.",
             "",
             "| notebook | what it teaches |", "|---|---|"]
    lines += [f"| [{title}]({page}.ipynb) | {summary} |" for page, title, summary in entries]
    pages = [page for page, _, _ in entries]
    lines += ["", "```{toctree}", ":hidden:", ":maxdepth: 1", "", *pages, "```", ""]
    return "\n".join(lines)


def stage(notebooks: list[Path], source: Path, solutions: bool = False) -> list[str]:
    """Write the Sphinx source folder; returns the page names in order."""
    if source.exists():
        shutil.rmtree(source)
    (source / "student").mkdir(parents=True)
    (source / "images").mkdir()
    shutil.copy(SITE_CONF_DIR / "colab-badge.svg", source / LOCAL_BADGE)
    summaries = readme_summaries()
    entries = []
    for path in notebooks:
        notebook = nbformat.read(path, as_version=4)
        nbformat.write(site_copy(notebook, path.name, solutions), source / path.name)
        student = REPO_ROOT / "student" / path.name
        if not student.is_file():
            raise FileNotFoundError(f"{student} is missing: run `make student` first")
        shutil.copy(student, source / "student" / path.name)
        summary = summaries.get(path.name) or first_sentence(notebook)
        entries.append((path.stem, notebook_title(notebook), summary))
    (source / "index.md").write_text(index_markdown(entries))
    return [page for page, _, _ in entries]


def build(notebooks: list[Path], out: Path, source: Path, solutions: bool = False,
          quiet: bool = False) -> float:
    """Stage and run sphinx-build (warnings are errors); returns the seconds it took."""
    start = time.perf_counter()
    stage(notebooks, source, solutions)
    for old in (out, out.parent / "jupyter_execute"):   # myst-nb writes its images beside OUT
        if old.exists():
            shutil.rmtree(old)
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-E",
               "-c", str(SITE_CONF_DIR), "-d", str(source / ".doctrees"), str(source), str(out)]
    subprocess.run(command + (["-q"] if quiet else []), check=True)
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notebooks", nargs="+", type=Path,
                        default=sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")))
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "build" / "site")
    parser.add_argument("--source", type=Path, help="the staging folder (default: OUT + '-src')")
    parser.add_argument("--solutions", action="store_true",
                        help="keep the solutions (an instructor's site)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    source = args.source or args.out.with_name(args.out.name + "-src")
    seconds = build(args.notebooks, args.out, source, args.solutions, args.quiet)
    problems = check_site.offline_problems(args.out)
    pages = len(check_site.html_pages(args.out))
    print(f"site: {pages} pages in {args.out} ({seconds:.1f} s)")
    for problem in problems:
        print("  PROBLEM", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
