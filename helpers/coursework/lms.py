"""The gradebook in the import formats of Canvas, Moodle and Gradescope.

Its rows are matched to the class roster.

The roster is a CSV with a header: ``student_id``, ``name``, ``email`` and, optionally, ``file`` (a
glob pattern of that student's submission file name, e.g. ``*alice*`` or ``lab1_s1234.ipynb``; other
column names that LMS exports use -- "ID", "SIS User ID", "Student", "Email address" -- are
understood too). A submission without a ``file`` pattern is matched when its file name contains the
student's id, the local part of their e-mail address or their name (case, spaces and punctuation
ignored).

Written next to ``grades.csv``:

- ``canvas.csv``: Canvas' gradebook import: ``Student, ID, SIS User ID, SIS Login ID, Section`` and
  one column per notebook, then a ``Points Possible`` row (Canvas matches students by SIS User ID);
- ``moodle.csv``: Moodle's "Import grades from CSV": ``ID number, Email address, First name, Last
  name``, per notebook a grade item and its ``(Feedback)`` column (at import, map "Email address" to
  the e-mail);
- ``gradescope_<notebook>.csv``: Gradescope's score upload for one assignment:
  ``Name, SID, Email, Score``;
- ``roster_report.txt``: submissions that match no roster row, and roster rows without a submission.
"""

from __future__ import annotations

import csv
import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path

#: Roster column names as exports of the LMSs spell them -> ours
ALIASES = {"student_id": ("student_id", "id", "sis user id", "sid", "id number", "student id",
                          "number"),
           "name": ("name", "student", "full name", "student name"),
           "email": ("email", "e-mail", "email address", "sis login id"),
           "file": ("file", "submission", "file pattern")}
CANVAS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE = ["ID number", "Email address", "First name", "Last name"]
GRADESCOPE = ["Name", "SID", "Email", "Score"]


@dataclass(frozen=True)
class Student:
    student_id: str
    name: str
    email: str
    file: str = ""


def read_roster(path: Path) -> list[Student]:
    """The roster's students; a clear error naming the file when a needed column is missing."""
    with open(path, newline="", encoding="utf-8-sig") as file:  # utf-8-sig: Excel's byte-order mark
        rows = list(csv.DictReader(file))
    if not rows:
        raise ValueError(f"{path}: the roster is empty")
    columns = {name.strip().lower(): name for name in rows[0]}
    found = {ours: next((columns[a] for a in aliases if a in columns), None)
             for ours, aliases in ALIASES.items()}
    missing = [ours for ours in ("student_id", "name", "email") if found[ours] is None]
    if missing:
        raise ValueError(f"{path}: the roster needs the columns {', '.join(missing)} "
                         f"(it has {', '.join(rows[0])})")
    return [Student(*(str(row.get(found[c]) or "").strip() if found[c] else "" for c in ALIASES))
            for row in rows]


def _folded(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def matches(student: Student, file: str) -> bool:
    """Whether submission ``file`` (its path in the submissions folder) is this student's."""
    if student.file:
        return fnmatch.fnmatch(Path(file).name.lower(), student.file.lower())
    name = _folded(Path(file).name)
    keys = [student.student_id, student.email.split("@")[0], student.name]
    return any(len(_folded(key)) >= 3 and _folded(key) in name for key in keys)


def match_roster(students: list[Student],
                 files: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """({student id: their submission files}, files that match no student)."""
    by_student = {s.student_id: [f for f in files if matches(s, f)] for s in students}
    claimed = {f for found in by_student.values() for f in found}
    return by_student, [f for f in files if f not in claimed]


def write_lms_files(gradebook: list[dict], students: list[Student], out: Path) -> list[str]:
    """Write canvas.csv, moodle.csv, gradescope.csv and roster_report.txt into ``out``.

    ``gradebook``: the rows of grades.csv (``file``, ``notebook``, ``total``, ``max``, ``status``).
    One column per notebook graded (Gradescope: one file per notebook,
    ``gradescope_<notebook>.csv``). A student with several submissions of a notebook gets the best
    total (the report lists them); one without any gets a blank (an LMS then keeps what it has), not
    a zero. Returns the report's lines.
    """
    rows = {row["file"]: row for row in gradebook}
    by_student, unknown = match_roster(students, list(rows))
    notebooks = sorted({row["notebook"] for row in gradebook if row["notebook"]})
    maxima = {n: max(float(r["max"] or 0) for r in gradebook if r["notebook"] == n)
              for n in notebooks}
    best: dict[tuple[str, str], dict] = {}
    report = []
    for student in students:
        files = by_student[student.student_id]
        if not files:
            report.append(f"no submission: {student.name} ({student.student_id}, {student.email})")
        for notebook in notebooks + [""]:
            mine = [rows[f] for f in files if rows[f]["notebook"] == notebook]
            if len(mine) > 1:
                report.append(f"several submissions of {notebook or 'unknown notebooks'}, the best "
                              f"counts: {student.name}: {', '.join(r['file'] for r in mine)}")
            if mine and notebook:
                best[student.student_id, notebook] = max(mine, key=lambda r: float(r["total"] or 0))
    report += [f"matches no roster row: {file}" for file in unknown]

    def score(student, notebook):
        row = best.get((student.student_id, notebook))
        return "" if row is None else row["total"]

    def feedback(student, notebook):
        row = best.get((student.student_id, notebook))
        return "" if row is None else f"{row['file']}: {row['status']}"

    with open(out / "canvas.csv", "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(CANVAS + notebooks)
        writer.writerow(["Points Possible", "", "", "", ""] + [f"{maxima[n]:g}" for n in notebooks])
        for s in students:
            writer.writerow([s.name, "", s.student_id, s.email, ""]
                            + [score(s, n) for n in notebooks])
    with open(out / "moodle.csv", "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(MOODLE + [c for n in notebooks for c in (n, f"{n} (Feedback)")])
        for s in students:
            first, _, last = s.name.partition(" ")
            writer.writerow([s.student_id, s.email, first, last]
                            + [v for n in notebooks for v in (score(s, n), feedback(s, n))])
    for notebook in notebooks:
        with open(out / f"gradescope_{notebook}.csv", "w", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(GRADESCOPE)
            for s in students:
                writer.writerow([s.name, s.student_id, s.email, score(s, notebook)])
    (out / "roster_report.txt").write_text("\n".join(report) + "\n" if report
                                           else "everything matched\n")
    return report
