"""Gradebooks an LMS imports (Canvas, Moodle, Gradescope), and written answers merged back.

From a class roster; the written answers graded by a person. On a generated class, without running
kernels.
"""

import csv
from pathlib import Path

import nbformat
import pytest

from helpers.coursework import lms, written
from helpers.coursework.student import student_version

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = "01_2d_classifier"

#: The columns each LMS documents for a gradebook import (the header of the file we write).
DOCUMENTED = {
    # then one column per assignment
    "canvas.csv": ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"],
    # then item, "item (Feedback)"
    "moodle.csv": ["ID number", "Email address", "First name", "Last name"],
    f"gradescope_{NOTEBOOK}.csv": ["Name", "SID", "Email", "Score"],
}


def generated_class(folder: Path):
    """A roster of 30; 28 of them submitted (one twice), plus one file that is nobody's."""
    roster = folder / "roster.csv"
    with open(roster, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["SIS User ID", "Student", "Email address"])  # an LMS export's spelling
        for i in range(30):
            writer.writerow([f"s{1000 + i}", f"Student{i:02d} Example",
                             f"student{i:02d}@uni.example"])
    gradebook = [{"file": f"lab1_s{1000 + i}.ipynb", "notebook": NOTEBOOK, "total": str(i % 10),
                  "max": "9", "status": "graded"} for i in range(28)]
    gradebook.append({"file": "lab1_s1003_late.ipynb", "notebook": NOTEBOOK, "total": "9",
                      "max": "9", "status": "graded"})
    gradebook.append({"file": "untitled.ipynb", "notebook": NOTEBOOK, "total": "5", "max": "9",
                      "status": "graded"})
    return roster, gradebook


def read(path):
    with open(path, newline="") as file:
        return list(csv.reader(file))


def test_lms_files_of_a_generated_class_have_the_documented_columns(tmp_path):
    roster, gradebook = generated_class(tmp_path)
    students = lms.read_roster(roster)
    report = lms.write_lms_files(gradebook, students, tmp_path)

    for name, columns in DOCUMENTED.items():
        rows = read(tmp_path / name)
        assert rows[0][:len(columns)] == columns, name
    canvas = read(tmp_path / "canvas.csv")
    assert canvas[0][5:] == [NOTEBOOK] and canvas[1][0] == "Points Possible" and canvas[1][5] == "9"
    scores = {row[2]: row[5] for row in canvas[2:]}
    assert len(scores) == 30 and scores["s1000"] == "0" and scores["s1007"] == "7"
    assert scores["s1003"] == "9", "of two submissions the better counts"
    assert scores["s1028"] == scores["s1029"] == "", "no submission: blank, not zero"
    moodle = read(tmp_path / "moodle.csv")
    assert moodle[0][4:] == [NOTEBOOK, f"{NOTEBOOK} (Feedback)"]
    assert moodle[1][:5] == ["s1000", "student00@uni.example", "Student00", "Example", "0"]
    gradescope = read(tmp_path / f"gradescope_{NOTEBOOK}.csv")
    assert gradescope[8] == ["Student07 Example", "s1007", "student07@uni.example", "7"]

    assert "matches no roster row: untitled.ipynb" in report
    assert [line for line in report if line.startswith("no submission")] == [
        "no submission: Student28 Example (s1028, student28@uni.example)",
        "no submission: Student29 Example (s1029, student29@uni.example)"]
    assert any("several submissions" in line and "lab1_s1003_late.ipynb" in line for line in report)
    assert (tmp_path / "roster_report.txt").read_text().splitlines() == report


def test_a_roster_without_the_needed_columns_is_named(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("name,email\nAda,ada@uni.example\n")
    with pytest.raises(ValueError, match=r"roster.csv: the roster needs the columns student_id"):
        lms.read_roster(path)


def test_a_file_pattern_in_the_roster_decides(tmp_path):
    student = lms.Student("17", "Ada Lovelace", "ada@uni.example", file="*lovelace*")
    assert lms.matches(student, "Lab 1 - LOVELACE, Ada.ipynb")
    # the pattern, not the id, says which files are hers
    assert not lms.matches(student, "17.ipynb")
    assert lms.matches(lms.Student("17", "Ada Lovelace", "ada@uni.example"), "ada_lovelace.ipynb")


def test_written_answers_are_collected_side_by_side_and_merged_back(tmp_path):
    instructor = nbformat.read(ROOT / "notebooks" / f"{NOTEBOOK}.ipynb", as_version=4)
    # notebook 01 asks several written questions (explain, predict, explain): this grades the first
    question = written.questions_of(instructor, NOTEBOOK)[0]
    student = student_version(instructor, f"{NOTEBOOK}.ipynb")
    answers = {"ada.ipynb": "A line cannot enclose the disc.", "bob.ipynb": None}
    graded = []
    for file, text in answers.items():
        submission = nbformat.from_dict(student)
        if text:
            next(c for c in submission.cells if c.get("id") == question.cell_id).source = text
        graded.append((file, NOTEBOOK, submission))
    (tmp_path / "feedback").mkdir()
    for file in answers:
        feedback = tmp_path / "feedback" / file.replace(".ipynb", ".md")
        feedback.write_text(f"# Feedback on `{file}`\n")
    paths = written.collect(graded, ROOT / "notebooks", tmp_path, {"ada.ipynb": "Ada Lovelace"})
    [path] = [path for path in paths if path.stem == question.exercise]
    for other in set(paths) - {path}:   # the other questions: not graded in this test
        other.unlink()
    rows = read(path)
    assert rows[0] == written.COLUMNS and rows[1][0] == written.MODEL_ANSWER
    assert rows[2][:4] == ["ada.ipynb", "Ada Lovelace", "A line cannot enclose the disc.", ""]
    assert rows[3][2] == "", "an answer left as the prompt is an empty answer"

    with open(tmp_path / "grades.csv", "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["file", "notebook", "01-dataset", "total", "max", "status"])
        writer.writerows([["ada.ipynb", NOTEBOOK, "2", "2", "9", "graded"],
                          ["bob.ipynb", NOTEBOOK, "1", "1", "9",
                                                                             "graded"]])
    rows[2][3], rows[2][5] = "1", "right idea; say why no line works"
    with open(path, "w", newline="") as file:
        csv.writer(file).writerows(rows)
    for _ in range(2):  # merging twice adds nothing twice
        assert written.merge(tmp_path) == [f"{question.exercise}: bob.ipynb"]
    merged = {row["file"]: row for row in csv.DictReader(open(tmp_path / "grades.csv"))}
    assert merged["ada.ipynb"][question.exercise] == "1" and merged["ada.ipynb"]["total"] == "3"
    assert merged["ada.ipynb"]["max"] == str(9 + round(question.points))
    assert merged["bob.ipynb"]["total"] == "1"
    feedback = (tmp_path / "feedback" / "ada.md").read_text()
    assert feedback.count("## Written answers") == 1
    assert f"1 / {question.points:g} points -- right idea" in feedback

    rows[2][3] = "7"
    with open(path, "w", newline="") as file:
        csv.writer(file).writerows(rows)
    with pytest.raises(ValueError, match=f"7 points is not within 0..{question.points:g}"):
        written.merge(tmp_path)
