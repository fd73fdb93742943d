"""The notebooks as a student reads them: the text agrees with the run, and it is the lesson.

Every number in the text comes from the run shown beside it, no conclusion's claim failed, no
project talk (targets, tests, CI, machines, cache), short code cells.

Deliberate exceptions live in tests/lesson_text/<notebook>.yaml, each with the reason it may stay.
"""

import re
import statistics
from pathlib import Path

import nbformat
import pytest
import yaml

from helpers.settings import REPO_ROOT

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
STUDENT_COPIES = sorted((REPO_ROOT / "student").glob("[0-9][0-9]_*.ipynb"))
EXCEPTIONS_DIR = Path(__file__).resolve().parent / "lesson_text"


def exceptions(path: Path, kind: str) -> dict:
    """Return the ``kind`` section ({text: reason}) of the notebook's exceptions file.

    Student copies share their notebook's file.
    """
    file = EXCEPTIONS_DIR / f"{path.stem}.yaml"
    data = yaml.safe_load(file.read_text()) if file.is_file() else None
    return (data or {}).get(kind) or {}


def output_texts(cell):
    """Every text a stored output of ``cell`` shows: streams, text/* representations, tracebacks."""
    for output in cell.get("outputs", []):
        if "text" in output:
            yield output["text"]
        for mime, value in output.get("data", {}).items():
            if mime.startswith("text/"):
                yield value if isinstance(value, str) else "".join(value)
        if "traceback" in output:
            yield "\n".join(output["traceback"])


# --------------------------------------------------------------------------------------------------
# Numbers in the text

#: What is not prose: code spans and blocks, math, links' targets, HTML comments and tags, list
#: numbers, headings' section numbers.
NOT_PROSE = [re.compile(p, re.M | re.S) for p in (
    r"```.*?```", r"`[^`\n]*`", r"\$\$.*?\$\$", r"\$[^$\n]+\$", r"\]\([^)]*\)", r"<!--.*?-->",
    r"<[^>\n]+>", r"https?://\S+", r"^\s*\d+\.\s", r"^#+\s*[\d.]+\s",
)]
#: A number as written: 6,000 / 0.013 / 94.0% / ±0.20 / 12.2.
NUMBER = re.compile(r"(?<![\w.])(?:±\s?)?\d[\d,]*(?:\.\d+)?(?:\s?%)?(?![\w])")


def prose(markdown: str) -> str:
    """``markdown`` with everything that is not running text blanked out (positions kept)."""
    for pattern in NOT_PROSE:
        markdown = pattern.sub(lambda m: " " * len(m.group(0)), markdown)
    return markdown


def core(number: str) -> str:
    """The digits as an output would print them: no "±", no space before "%", no trailing comma."""
    return re.sub(r"\s+%", "%", number.replace("±", "").strip()).rstrip(",")


def typed_numbers(path: Path) -> list[str]:
    """Numbers in the markdown of ``path`` that no output prints and no listed phrase covers."""
    notebook = nbformat.read(path, as_version=4)
    printed = re.sub(r"\s+%", "%",
                     "\n".join(t for cell in notebook.cells for t in output_texts(cell)))
    phrases = exceptions(path, "numbers")
    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "markdown":
            continue
        text = prose(cell.source)
        covered = [(m.start(), m.end()) for phrase in phrases
                   for m in re.finditer(re.escape(phrase), text)]
        for match in NUMBER.finditer(text):
            if any(start <= match.start() and match.end() <= end for start, end in covered):
                continue
            number = core(match.group(0))
            if not re.search(r"(?<![\d.,])" + re.escape(number) + r"(?![\d])", printed):
                context = text[max(0, match.start() - 30):match.end() + 30].replace("\n", " ")
                found.append(f"cell {index}: {number!r} in ...{context.strip()}...")
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_number_in_the_text_is_printed_by_the_run(path):
    """Every number in the markdown is printed by an output of the same notebook.

    A count, an epoch, a loss, a ratio, a time or a percentage, so the text cannot disagree with
    the run; settings and facts that hold on any run are listed (as the phrase that holds them) in
    tests/lesson_text/<notebook>.yaml.
    """
    typed = typed_numbers(path)
    assert not typed, (f"{path.name}: numbers in the text that no output prints "
                       "(print them from the results, say it without the number, or list the "
                       f"phrase under `numbers:` in tests/lesson_text/{path.stem}.yaml with the "
                       "reason):\n" + "\n".join(typed))


def test_the_number_check_can_fail(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("The loss falls to 0.013 in epoch 14 "
                                                    "(table 3, `lr=0.5`)."),
                      nbformat.v4.new_code_cell("print(loss)")]
    notebook.cells[1].outputs = [nbformat.v4.new_output("stream",
                                                        text="loss 0.0134 after 14 epochs\n")]
    path = tmp_path / "99_example.ipynb"
    nbformat.write(notebook, path)
    found = [re.search(r"'([^']*)' in", line).group(1) for line in typed_numbers(path)]
    assert found == ["0.013", "3"]  # 14 is printed; `lr=0.5` is code, not prose


# --------------------------------------------------------------------------------------------------
# Claims


def helpers_record(output) -> dict:
    """Return the helpers.claims record of an output.

    IPython stores a ``_repr_markdown_``'s metadata under its MIME type.
    """
    metadata = output.get("metadata", {})
    return metadata.get("helpers") or metadata.get("text/markdown", {}).get("helpers") or {}


def claim_records(cell):
    for output in cell.get("outputs", []):
        record = helpers_record(output)
        yield from record.get("claims", [record] if "claim" in record else [])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_stored_claim_failed(path):
    """No stored output shows a failed claim: full runs stop at one, so it was a smoke run's.

    helpers.claims stops a full run at a false claim; a stored ✗ or ClaimFailed means a smoke run
    or a hand-edited output was stored.
    """
    notebook = nbformat.read(path, as_version=4)
    failed = [f"cell {i}: {record['claim']}" for i, cell in enumerate(notebook.cells)
              for record in claim_records(cell) if not record["holds"]]
    failed += [f"cell {i}: {output.get('evalue', '')}" for i, cell in enumerate(notebook.cells)
               for output in cell.get("outputs", []) if output.get("ename") == "ClaimFailed"]
    assert not failed, f"{path.name}: claims that its run does not support:\n" + "\n".join(failed)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_claim_shown_has_its_record(path):
    """A ✓ in a stored output comes from helpers.claims (its output carries the record)."""
    notebook = nbformat.read(path, as_version=4)
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            shown = "".join(output.get("data", {}).get("text/markdown", ""))
            marks = shown.count("✓")
            records = helpers_record(output)
            recorded = len(records.get("claims", [records] if "claim" in records else []))
            assert marks <= recorded, (f"{path.name} cell {index}: {marks} ✓ marks but {recorded} "
                                       "claim records")


# --------------------------------------------------------------------------------------------------
# What a student meets that is not the lesson

#: name -> (pattern, where it is looked for: markdown, code and/or outputs)
PROJECT_TALK = {
    "a project target judged": (r"\bMISSED\b|\bNOT met\b|\btarget for\b"
                                r"|\btargets?\b[^\n]{0,40}\b(met|missed)\b",
                                "markdown code outputs"),
    # "CI" alone, not a confidence interval ("95% CI")
    "the test suite or CI": (r"test suite|\bnbval\b|NBVAL|\bpytest\b|(?<!% )\bCI\b"
                             r"|GitHub Actions|tests/|nbconvert",
                             "markdown code outputs"),
    "smoke runs": (r"\bsmoke\b", "markdown outputs"),
    "the machine that ran it": (r"load average|this machine|\b\d+-core\b|\bcores\b",
                                "markdown code outputs"),
    "the run cache": (r"\bcach(e|ed|ing)\b", "markdown outputs"),
    "a benchmark or timing file": (r"benchmark|timing\.json|time budget", "markdown code outputs"),
    "the course's history": (r"reference solution", "markdown code outputs"),
    "maintainers' commands": (r"make notebooks|make test|make student", "markdown code outputs"),
}


def project_talk(path: Path) -> list[str]:
    notebook = nbformat.read(path, as_version=4)
    allowed = exceptions(path, "talk")
    found = []
    for index, cell in enumerate(notebook.cells):
        texts = {"markdown": [cell.source] if cell.cell_type == "markdown" else [],
                 "code": [cell.source] if cell.cell_type == "code" else [],
                 "outputs": list(output_texts(cell))}
        for what, (pattern, where) in PROJECT_TALK.items():
            for kind in where.split():
                for text in texts[kind]:
                    for match in re.finditer(pattern, text):
                        line = text[text.rfind("\n", 0, match.start()) + 1:].split("\n")[0]
                        if not any(phrase in line for phrase in allowed):
                            found.append(f"cell {index} ({kind}): {what}: {line.strip()[:120]!r}")
    return found


@pytest.mark.parametrize("path", NOTEBOOKS + STUDENT_COPIES,
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_student_meets_no_project_talk(path):
    found = project_talk(path)
    assert not found, (f"{path.parent.name}/{path.name}: what a student reads there is not the "
                       "lesson (move it to the README's maintainer section, docs/ or a script, or "
                       f"list the phrase under `talk:` in tests/lesson_text/{path.stem}.yaml with "
                       "the reason):\n" + "\n".join(found))


def test_the_talk_check_can_fail(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("The test suite runs this in smoke mode."),
                      nbformat.v4.new_code_cell("print(1)")]
    notebook.cells[1].outputs = [nbformat.v4.new_output(
        "stream", text="accuracy 97% (target for CNN: MISSED)\nrun 3 [from the cache]\n")]
    path = tmp_path / "99_example.ipynb"
    nbformat.write(notebook, path)
    kinds = {line.split(": ")[1] for line in project_talk(path)}
    assert kinds == {"the test suite or CI", "smoke runs", "a project target judged",
                     "the run cache"}


# --------------------------------------------------------------------------------------------------
# Code cells a student can read

MAX_LINES, MAX_MEDIAN = 40, 10


def code_cell_lengths(path: Path) -> list[int]:
    notebook = nbformat.read(path, as_version=4)
    return [len(cell.source.strip().splitlines()) for cell in notebook.cells
            if cell.cell_type == "code" and cell.source.strip()]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_cells_are_short(path):
    """Code cells are short: none over 40 lines, the median at most 10.

    What a student reads in a code cell is the lesson; plumbing belongs in helpers.
    """
    lengths = code_cell_lengths(path)
    assert max(lengths) <= MAX_LINES, (f"{path.name}: a code cell of {max(lengths)} lines "
                                       f"(at most {MAX_LINES})")
    assert statistics.median(lengths) <= MAX_MEDIAN, (f"{path.name}: median code cell "
                                                      f"{statistics.median(lengths)} lines "
                                                      f"(at most {MAX_MEDIAN})")
