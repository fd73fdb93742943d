"""`make grade`.

Exercises, points and hidden checks in the instructor notebooks; grading a folder of submissions.
"""

import csv
import hashlib
from pathlib import Path

import nbformat
import pytest

from helpers.coursework import grade
from helpers.coursework import student as coursework
from scripts import grading_samples
from test_judgement import roster, snapshot, written_round_trip

ROOT = Path(__file__).resolve().parent.parent
INSTRUCTOR = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
STUDENT = sorted((ROOT / "student").glob("[0-9][0-9]_*.ipynb"))


# --- exercises, points and hidden checks in the notebooks -----------------------------------------


@pytest.mark.parametrize("path", INSTRUCTOR, ids=lambda p: p.name)
def test_every_code_exercise_has_points_and_a_check(path):
    notebook = nbformat.read(path, as_version=4)
    exercises = {e.id: e for e in grade.exercises_of(notebook)}
    for cell in notebook.cells:
        if cell.cell_type == "code" and coursework.CODE_BEGIN in cell.source:
            meta = cell.metadata.get("grade") or {}
            assert meta.get("role") == "solution" and meta.get("points", 0) > 0, cell.source[:80]
            exercise = exercises[meta["exercise"]]
            assert exercise.check_calls, (
                f"{exercise.id}: its check cell calls no helpers.checks function")
            assert exercise.defines, (
                f"{exercise.id}: its solution cell defines nothing to recognise it by")
            assert 0 <= exercise.hidden_points < exercise.points
            assert all(d in exercises for d in exercise.depends_on)
    assert len(exercises) >= 3


def test_exercise_ids_are_unique_across_the_course():
    ids = [e.id for exercises in grade.load_course().values() for e in exercises]
    assert len(ids) == len(set(ids)) and len(ids) >= 15


def test_notebook_01_has_a_hidden_check_for_every_exercise():
    exercises = grade.load_course()["01_2d_classifier"]
    assert len(exercises) == 4
    assert all(e.hidden_source and e.hidden_points > 0 for e in exercises)
    notebook = nbformat.read(ROOT / "notebooks" / "01_2d_classifier.ipynb", as_version=4)
    hidden = [c for c in notebook.cells if coursework.is_hidden_check(c)]
    assert hidden and all(c.cell_type == "raw" for c in hidden), (
        "raw cells: Jupyter and nbval never run them")


@pytest.mark.parametrize("path", STUDENT, ids=lambda p: p.name)
def test_students_never_see_a_hidden_check(path):
    text = path.read_text()
    instructor = nbformat.read(ROOT / "notebooks" / path.name, as_version=4)
    for cell in filter(coursework.is_hidden_check, instructor.cells):
        assert cell.source.strip() not in text
        assert cell.id not in text
    assert "hidden-check" not in text and "HIDDEN CHECK" not in text
    notebook = nbformat.read(path, as_version=4)
    assert notebook.metadata["grade"] == {"notebook": path.stem}, (
        "make student writes the notebook's id")


def test_student_copy_leaves_out_hidden_checks_and_keeps_the_exercise_labels():
    instructor = nbformat.read(ROOT / "notebooks" / "01_2d_classifier.ipynb", as_version=4)
    student = coursework.student_version(instructor, "01_2d_classifier.ipynb")
    hidden = [c for c in instructor.cells if coursework.is_hidden_check(c)]
    assert len(student.cells) == len(instructor.cells) - len(hidden)
    labels = [c.metadata["grade"] for c in student.cells if "grade" in c.metadata]
    assert {"solution", "check"} <= {m["role"] for m in labels} <= {"solution", "check", "written"}


# --- recognising a submission and its exercises ---------------------------------------------------


def test_a_submission_is_recognised_by_its_metadata_or_by_the_checks_it_calls():
    course = grade.load_course()
    student = nbformat.read(ROOT / "student" / "02_digits_mlp_cnn.ipynb", as_version=4)
    assert grade.identify(student, course) == "02_digits_mlp_cnn"
    student.metadata.pop("grade")
    assert grade.identify(student, course) == "02_digits_mlp_cnn"
    other = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('hello')")])
    assert grade.identify(other, course) is None


def test_solution_cells_are_found_by_label_or_by_what_they_define():
    exercise = grade.load_course()["01_2d_classifier"][3]  # to_polar
    cells = [nbformat.v4.new_code_cell("import torch"),
             nbformat.v4.new_code_cell("def to_polar(p):\n    return p")]
    assert grade.find_solution_cell(cells, exercise) == 1
    cells[0].metadata["grade"] = {"exercise": exercise.id, "role": "solution"}
    assert grade.find_solution_cell(cells, exercise) == 0
    assert grade.find_solution_cell(cells[:0], exercise) is None
    # a syntax error still finds names
    assert grade.defined_names("def f(:\nclass G:\n  pass") == {"f", "G"}


def test_a_failed_exercise_says_when_it_builds_on_an_earlier_failed_one():
    first = grade.Exercise("a", 1, "", set(), set())
    second = grade.Exercise("b", 1, "", set(), set(), depends_on=["a"])
    results = [grade.Result("a", grade.NOT_YET, 0, 1),
               grade.Result("b", grade.ERROR, 0, 1, "NameError")]
    grade.note_dependencies(results, [first, second])
    assert "uses your answer to a" in results[1].detail


def test_the_gradebook_is_never_written_into_the_submissions_folder(tmp_path):
    with pytest.raises(ValueError, match="must not be inside"):
        grade.grade_folder(tmp_path, tmp_path / "grades")


# --- grading a folder of submissions --------------------------------------------------------------


def hashes(folder: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.mark.slow   # kernels in a process pool
def test_grading_a_folder_of_submissions(tmp_path):
    """Every sample gets its expected result, and the submissions folder is left as it was.

    Right, partly wrong, crashing, hanging, not attempted, deleted cells, renamed, hostile, a
    kernel crash, the course's own code, not a notebook.
    """
    submissions, out = tmp_path / "submissions", tmp_path / "grades"
    tampering = list(grading_samples.TAMPERING)
    instructor = snapshot(tmp_path)   # (the same notebooks throughout, whatever is edited now)
    grading_samples.write_samples(submissions, instructor_dir=instructor,
                                  only=grading_samples.SMALL_SET + tampering)
    before = hashes(submissions)
    log = []
    class_list = roster(tmp_path / "class.csv", {"Alice Smith": "", "Pat Wrong": "partly_wrong*"})
    graded = grade.grade_folder(submissions, out, instructor, jobs=2,
                                limits=grade.Limits(cell_timeout=5),
                                log=lambda line, **_: log.append(line), roster=class_list)
    assert hashes(submissions) == before, "submissions are read-only inputs"
    assert any(line.startswith("self-check:") and "9/9" in line for line in log), (
        "the instructor's solutions went through the grader first, with full marks")

    by_file = {g.file: g for g in graded}
    # a wrong answer plus a trick in the student's kernel (output streams, print, the checks,
    # allclose, tensor operators, import hooks, a late thread, fake result files, signals, the
    # channel itself): 0 points for every exercise
    for name in tampering:
        assert [r.points for r in by_file.pop(name).results] == [0] * 4, name
    assert sorted(by_file) == sorted(grading_samples.SMALL_SET)
    for name in grading_samples.SMALL_SET:
        expected, g = grading_samples.EXPECTED[name], by_file[name]
        if isinstance(expected, str):
            assert g.status.startswith(expected) and not g.results, (name, g.status)
        else:
            assert [r.status for r in g.results] == expected, (name, [(r.status, r.detail)
                                                                      for r in g.results])
            assert g.notebook == "01_2d_classifier" and g.max_points == 9
    partly_wrong = by_file["partly_wrong.ipynb"]
    assert ([r.points for r in partly_wrong.results]
            == grading_samples.PARTIAL_POINTS["partly_wrong.ipynb"])
    assert by_file["Alice Smith - lab 1 (2).ipynb"].total == 9
    assert "kernel crashed" in by_file["hostile_then_kernel_crash.ipynb"].status

    rows = {row["file"]: row for row in csv.DictReader(open(out / "grades.csv"))}
    assert set(rows) == set(grading_samples.SMALL_SET + tampering)
    assert (rows["partly_wrong.ipynb"]["01-train-one-epoch"] == "0"
            and rows["partly_wrong.ipynb"]["total"] == "2")
    assert rows["empty.ipynb"]["total"] == "0" and "unreadable" in rows["empty.ipynb"]["status"]
    feedback = (out / "feedback" / "partly_wrong.md").read_text()
    # the hidden check's verdict, with its hint
    assert "NOT YET" in feedback and "additional check did not: NOT YET: " in feedback
    assert len(list((out / "feedback").iterdir())) == len(grading_samples.SMALL_SET + tampering)
    # the course's own code under the exercise's name (an import, a thin wrapper): refused
    course_code = {r.exercise: r for r in by_file["course_code.ipynb"].results}
    for exercise in grading_samples.COURSE_CODE:
        assert course_code[exercise].points == 0, exercise
        assert "the course's own" in course_code[exercise].detail, course_code[exercise].detail
    assert "helpers.training" in course_code["01-train-one-epoch"].detail
    assert "polar_features" in course_code["01-polar"].detail
    # notebook 01's written answers (predictions, explanations): right in one sample, wrong in
    # another, collected beside the model answer, marked, merged into grades.csv and the LMS files
    written_round_trip(out, grading_samples.judgement_plan(instructor), set(by_file), instructor)


@pytest.mark.slow   # one kernel
def test_the_grader_refuses_to_grade_when_its_environment_is_broken(tmp_path):
    """A grader whose kernels cannot import the course package grades nothing, and says why.

    As when the sandbox could not see the checkout: the instructor's solutions lose their points,
    so nothing is graded, and the message names the cause.
    """
    broken = tmp_path / "broken" / "helpers"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError('the course package is broken here')\n")
    submissions, out = tmp_path / "submissions", tmp_path / "grades"
    grading_samples.write_samples(submissions, only=["correct.ipynb"])
    with pytest.raises(grade.SelfCheckFailed, match="helpers. is not importable") as failure:
        grade.grade_folder(submissions, out, jobs=1, limits=grade.Limits(cell_timeout=20),
                           sandbox="none", log=lambda *_, **__: None,
                           kernel_env={"PYTHONPATH": str(broken.parent)})
    assert "0 / 9 points" in str(failure.value) and "01-dataset" in str(failure.value)
    assert not out.exists(), "no student row is written"
