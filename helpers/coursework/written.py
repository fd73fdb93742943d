"""Written answers, graded by a person without a server.

Collect them side by side, merge the points back.

    python -m helpers.coursework.written merge GRADES     # after filling in the points columns

A written answer is a markdown cell whose instructor version is a solution region
(``<!-- BEGIN SOLUTION -->``); its ``grade`` metadata may name it and give its points
(``{"exercise": "01-why-linear-fails", "role": "written", "points": 2}``; default:
``<notebook>-written-<n>``, 1 point). Grading (``helpers.coursework.grade``) writes
``written/<exercise>.csv`` into the grades folder: one row per submission -- file, student (from the
roster, if one was given), the answer, an empty ``points`` column, the maximum, an empty ``comment``
-- with the instructor's model answer as the first row, for reference. Fill in ``points`` (and
``comment``), then ``merge``: the points join ``grades.csv`` (one column per question, the total
updated), each student's feedback file gets a "Written answers" section, and the LMS files are
written again when grading had a roster. A blank ``points`` cell stays ungraded and is listed.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import nbformat

from helpers.coursework import (KEY, MARKDOWN_BEGIN, MARKDOWN_END, MARKDOWN_PROMPT, feedback_name,
                                 lms)

COLUMNS = ["file", "student", "answer", "points", "max", "comment"]
MODEL_ANSWER = "(model answer)"


@dataclass(frozen=True)
class Question:
    """One written question.

    Its id (the name of its CSV and of its gradebook column), its points, where its answer is, and
    the instructor's model answer.
    """
    exercise: str
    points: float
    cell_id: str
    question: str  # the markdown cell before the answer: to find the answer when the id is lost
    model_answer: str
    #: what it asks for (``prediction``, ``explanation``...: the cell's ``kind`` metadata), or ""
    kind: str = ""


def questions_of(notebook, name: str) -> list[Question]:
    """The written questions of an instructor notebook, in order, each with an id of its own.

    Two answer cells of one exercise (a prediction before an experiment and its explanation after
    it, ``{"exercise": "04-ablation", "kind": "prediction"}`` and ``... "kind": "explanation"``) are
    two questions, ``04-ablation-prediction`` and ``04-ablation-explanation``: one CSV each, one
    gradebook column each.
    """
    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "markdown" or MARKDOWN_BEGIN not in cell.source:
            continue
        meta = cell.metadata.get(KEY) or {}
        before = notebook.cells[index - 1].source if index else ""
        answer = cell.source.split(MARKDOWN_BEGIN, 1)[1].split(MARKDOWN_END, 1)[0].strip()
        found.append(Question(meta.get("exercise") or f"{name[:2]}-written-{len(found) + 1}",
                              float(meta.get("points", 1)), cell.get("id", ""), before, answer,
                              str(meta.get("kind", ""))))
    counts = Counter(q.exercise for q in found)
    unique, seen = [], Counter()
    for q in found:
        if counts[q.exercise] > 1:
            seen[q.exercise] += 1
            suffix = q.kind or str(seen[q.exercise])
            q = replace(q, exercise=f"{q.exercise}-{suffix}")
        unique.append(q)
    ids = Counter(q.exercise for q in unique)
    return [replace(q, exercise=f"{q.exercise}-{i}") if ids[q.exercise] > 1 else q
            for i, q in enumerate(unique, 1)]


def answer_in(submission, question: Question) -> str:
    """The student's answer.

    The cell with the question's id, else the markdown cell after the question.
    """
    cells = submission.cells
    for index, cell in enumerate(cells):
        if question.cell_id and cell.get("id") == question.cell_id:
            return _answer_text(cell.source)
        if question.question and cell.get("source") == question.question and index + 1 < len(cells):
            return _answer_text(cells[index + 1].source)
    return ""


def _answer_text(source: str) -> str:
    text = source.strip()
    return "" if text == "\n".join(MARKDOWN_PROMPT) else text


def collect(graded: list[tuple[str, str, object]], instructor_dir: Path, out: Path,
            students: dict[str, str] | None = None) -> list[Path]:
    """Write ``out/written/<exercise>.csv`` for every written question of the graded notebooks.

    ``graded``: (file, notebook name, submission notebook) per graded submission; ``students``: file
    -> student name from the roster."""
    written = []
    for name in sorted({notebook for _, notebook, _ in graded}):
        instructor = nbformat.read(Path(instructor_dir) / f"{name}.ipynb", as_version=4)
        for question in questions_of(instructor, name):
            path = out / "written" / f"{question.exercise}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "w", newline="") as file:
                writer = csv.writer(file)
                writer.writerow(COLUMNS)
                writer.writerow([MODEL_ANSWER, "", question.model_answer, "",
                                 f"{question.points:g}", ""])
                for relative, notebook, submission in graded:
                    if notebook == name:
                        writer.writerow([relative, (students or {}).get(relative, ""),
                                         answer_in(submission, question), "",
                                         f"{question.points:g}", ""])
            written.append(path)
    return written


def read_points(grades: Path) -> tuple[dict[str, dict[str, tuple[str, str, str]]], list[str]]:
    """Read the points of the written answers.

    Returns ``({question: {file: (points, max, comment)}}, ["question: file" of every answer
    without points])``.
    """
    points, ungraded = {}, []
    for path in sorted((grades / "written").glob("*.csv")):
        with open(path, newline="") as file:
            for row in csv.DictReader(file):
                if row["file"] == MODEL_ANSWER:
                    continue
                value = row["points"].strip()
                if value:
                    if float(value) < 0 or float(value) > float(row["max"]):
                        raise ValueError(f"{path}: {row['file']}: {value} points is not within "
                                         f"0..{row['max']}")
                else:
                    ungraded.append(f"{path.stem}: {row['file']}")
                points.setdefault(path.stem, {})[row["file"]] = (value, row["max"],
                                                                 row["comment"].strip())
    return points, ungraded


def merge(grades: Path) -> list[str]:
    """Merge the written points into grades.csv and the feedback files.

    Returns the ungraded answers.
    """
    grades = Path(grades)
    points, ungraded = read_points(grades)
    with open(grades / "grades.csv", newline="") as file:
        reader = csv.DictReader(file)
        columns, rows = list(reader.fieldnames), list(reader)
    auto = [c for c in columns
            if c not in ("file", "notebook", "total", "max", "status", "auto_max")
            and c not in points]
    for question in points:
        if question not in columns:
            columns.insert(columns.index("total"), question)
    for row in rows:
        earned = [float(row[c]) for c in auto if row.get(c)]
        maximum = float(row.get("auto_max") or row["max"] or 0)
        # the automatic part's maximum, kept so a second merge adds nothing twice
        row["auto_max"] = f"{maximum:g}"
        for question, by_file in points.items():
            value, most, _ = by_file.get(row["file"], ("", "", ""))
            row[question] = value
            if value:
                earned.append(float(value))
            if row["file"] in by_file:
                maximum += float(most)
        row["total"], row["max"] = f"{sum(earned):g}", f"{maximum:g}"
    if "auto_max" not in columns:
        columns.append("auto_max")
    with open(grades / "grades.csv", "w", newline="") as file:
        writer = csv.DictWriter(file, columns)
        writer.writeheader()
        writer.writerows(rows)
    for row in rows:
        _add_to_feedback(grades, row["file"],
                         {q: by_file[row["file"]] for q, by_file in points.items()
                                               if row["file"] in by_file})
    roster = grades / "roster.csv"
    if roster.is_file():
        lms.write_lms_files(rows, lms.read_roster(roster), grades)
    return ungraded


def _add_to_feedback(grades: Path, file: str, answers: dict[str, tuple[str, str, str]]) -> None:
    path = grades / "feedback" / feedback_name(file)
    if not answers or not path.is_file():
        return
    text = re.split(r"\n## Written answers\n", path.read_text())[0].rstrip("\n")
    lines = ["", "## Written answers", ""]
    for question, (value, most, comment) in answers.items():
        shown = f"{value} / {most} points" if value else "not graded yet"
        lines.append(f"- **{question}**: {shown}" + (f" -- {comment}" if comment else ""))
    path.write_text(text + "\n" + "\n".join(lines) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.coursework.written",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    merging = commands.add_parser("merge",
                                  help="merge written/*.csv points into grades.csv and feedback/")
    merging.add_argument("grades", type=Path, help="the grades folder that `make grade` wrote")
    args = parser.parse_args(argv)
    try:
        ungraded = merge(args.grades)
    except (OSError, ValueError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"merged the written points into {args.grades / 'grades.csv'} and "
          f"{args.grades / 'feedback'}/"
          + (f"; {len(ungraded)} answers have no points yet:\n  " + "\n  ".join(ungraded)
             if ungraded else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
