"""The exercises that need judgement (issue 30), graded end to end in every notebook.

A design or debugging exercise goes through the real grader (assemble, execute, judge, gradebook),
its score and budget in the feedback; a written prediction or explanation is collected beside its
model answer, marked by a (simulated) lecturer and merged back into the gradebook, the feedback and
the LMS exports. Each is right in one sample and wrong in another (scripts/grading_samples.py). The
exercises are found from the notebooks' ``grade`` metadata, so a new one is graded here without a
change; a kind nobody grades fails here.
"""

import csv
from pathlib import Path

import nbformat
import pytest

from helpers.coursework import grade, written
from helpers.coursework.course import JUDGEMENT_KINDS
from helpers.settings import REPO_ROOT as ROOT
from scripts import grading_samples

INSTRUCTOR = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
#: every exercise that needs judgement, and its samples (read once: it reads every notebook)
PLAN = grading_samples.judgement_plan()
#: the samples the slow tests grade: notebook 01's in tests/test_grade.py, the others here
GRADED = set(grading_samples.SMALL_SET) | set(grading_samples.judgement_samples(plan=PLAN))


def judgement_cells(path):
    """(exercise, kind, role) of every graded cell of a notebook that needs judgement."""
    notebook = nbformat.read(path, as_version=4)
    found = []
    for cell in notebook.cells:
        meta = cell.metadata.get("grade") or {}
        if meta.get("kind") or meta.get("role") == "written":
            found.append((meta.get("exercise"), meta.get("kind", ""), meta.get("role")))
    return found


@pytest.mark.parametrize("path", INSTRUCTOR, ids=lambda p: p.name)
def test_every_exercise_that_needs_judgement_is_graded_right_and_wrong(path):
    """Every cell whose metadata asks for judgement is in the end-to-end tests' plan.

    Each has a right and a wrong sample that a slow test grades; a kind nobody grades fails here.
    """
    plan = [item for item in PLAN if item["notebook"] == path.stem]
    items = {item["item"]: item for item in plan}
    for exercise, kind, role in judgement_cells(path):
        assert kind in JUDGEMENT_KINDS + ("",), (
            f"{path.name}: {exercise} has the kind {kind!r}, which no end-to-end test grades "
            f"(known: {', '.join(JUDGEMENT_KINDS)})")
        assert role in ("solution", "written", "check", "hidden-check"), (exercise, role)
        if role == "solution":
            assert exercise in items and not items[exercise]["written"], exercise
    questions = written.questions_of(nbformat.read(path, as_version=4), path.stem)
    assert {q.exercise for q in questions} <= set(items), "every written answer is in the plan"
    assert len({q.exercise for q in questions}) == len(questions), "one id per written question"
    for item in plan:
        assert item["right"] != item["wrong"]
        assert {item["right"], item["wrong"]} <= GRADED, (
            f"{item['item']}: its samples are not graded by any test")


@pytest.mark.slow   # writes every judgement sample: seconds, too long for make test-fast
def test_the_samples_hold_only_what_the_judgement_exercises_need(tmp_path):
    """A judgement sample keeps every written answer and only the code its exercises need.

    The wrong one differs from the right one in every judgement exercise.
    """
    grading_samples.write_judgement_samples(tmp_path)
    for item in PLAN:
        if item["right"] in grading_samples.EXPECTED:
            continue
        right, wrong = (nbformat.read(tmp_path / item[w], as_version=4) for w in ("right", "wrong"))
        instructor = nbformat.read(ROOT / "notebooks" / f"{item['notebook']}.ipynb", as_version=4)
        assert len([c for c in right.cells if c.cell_type == "code"]) < len(
            [c for c in instructor.cells if c.cell_type == "code"]) / 2
        if not item["written"]:
            sources = [grading_samples.cell_of(n, item["item"]).source for n in (right, wrong)]
            assert sources[0] == grading_samples.cell_of(instructor, item["item"]).source
            assert sources[1] != sources[0]


def snapshot(tmp_path: Path) -> Path:
    """Copy the instructor notebooks, so that samples, grading and collection read the same ones.

    Even while someone edits ``notebooks/`` during the test.
    """
    import shutil

    copy = tmp_path / "instructor"
    copy.mkdir()
    for path in INSTRUCTOR:
        shutil.copyfile(path, copy / path.name)
    return copy


def written_round_trip(out: Path, plan: list[dict], graded_files: set[str],
                       instructor: Path = ROOT / "notebooks") -> None:
    """Check the written answers of ``plan`` in a grades folder, from collection to the LMS files.

    Each is collected beside the model answer, marked (grading_samples.mark_written) and merged into
    grades.csv, the feedback and the LMS files.
    """
    items = [item for item in plan if item["written"] and item["right"] in graded_files]
    assert items
    before = {row["file"]: row for row in csv.DictReader(open(out / "grades.csv"))}
    canvas_before = list(csv.reader(open(out / "canvas.csv")))
    for item in items:
        rows = list(csv.DictReader(open(out / "written" / f"{item['item']}.csv")))
        assert rows[0]["file"] == written.MODEL_ANSWER and rows[0]["answer"], item["item"]
        answers = {row["file"]: row["answer"] for row in rows[1:]}
        assert answers[item["right"]] == rows[0]["answer"], "the model answer, handed in"
        assert answers[item["wrong"]] == grading_samples.WRONG_WRITTEN
    assert grading_samples.mark_written(out) >= 2 * len(items)
    assert written.merge(out) == [], "every answer has its points"
    after = {row["file"]: row for row in csv.DictReader(open(out / "grades.csv"))}
    for file in {item["right"] for item in items} | {item["wrong"] for item in items}:
        mine = [item for item in items if file in (item["right"], item["wrong"])]
        points = {item["item"]: float(after[file][item["item"]]) for item in mine}
        for item in mine:
            maximum = next(q.points for q in written.questions_of(nbformat.read(
                instructor / f"{item['notebook']}.ipynb", as_version=4), item["notebook"])
                           if q.exercise == item["item"])
            assert points[item["item"]] == (maximum if file == item["right"] else 0), (file, item)
        assert float(after[file]["total"]) == float(before[file]["total"]) + sum(points.values())
        assert float(after[file]["max"]) == float(before[file]["max"]) + sum(
            float(row["max"]) for item in mine
            for row in csv.DictReader(open(out / "written" / f"{item['item']}.csv"))
            if row["file"] == file)
        feedback = (out / "feedback" / grade.feedback_name(file)).read_text()
        assert feedback.count("## Written answers") == 1
        for item in mine:
            shown = f"{points[item['item']]:g} / "
            assert f"**{item['item']}**: {shown}" in feedback, (file, item["item"])
    canvas = list(csv.reader(open(out / "canvas.csv")))
    assert canvas != canvas_before, "the LMS files were written again with the written points"
    assert canvas[0] == canvas_before[0]
    for name in ("moodle.csv", *(f"gradescope_{n}.csv" for n in {i["notebook"] for i in items})):
        assert (out / name).is_file(), name


def roster(path: Path, students: dict[str, str]) -> Path:
    """A class roster: ``{name: file pattern}``."""
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["student_id", "name", "email", "file"])
        for i, (name, pattern) in enumerate(students.items()):
            writer.writerow([f"s{100 + i}", name, f"student{i}@uni.example", pattern])
    return path


@pytest.mark.slow   # a kernel per sample (two per notebook)
def test_judgement_exercises_are_graded_end_to_end(tmp_path):
    """Per notebook, the judgement exercises right and wrong, from the grader to the LMS exports.

    The design and debugging exercises right (full points, the score and the budget in the
    feedback) and wrong (0 points, the budget or the score that failed in the feedback); the
    written answers through collection, marking, merge and the LMS exports. Graded with
    ``--sandbox none``: also the test that unconfined grading works.
    """
    submissions, out = tmp_path / "submissions", tmp_path / "grades"
    instructor = snapshot(tmp_path)
    plan = grading_samples.judgement_plan(instructor)
    samples = grading_samples.judgement_samples(plan=plan)
    grading_samples.write_samples(submissions, instructor_dir=instructor, only=samples)
    assert sorted(p.name for p in submissions.iterdir()) == samples
    class_list = roster(tmp_path / "class.csv", {"Ada Right": "*_judgement_right.ipynb",
                                                 "Bob Wrong": "*_judgement_wrong.ipynb"})
    # (self_check=False: the right samples are the instructor's answers; test_grade.py runs the
    # self-check. One thread per kernel, as everywhere in the suite.)
    graded = grade.grade_folder(submissions, out, instructor, jobs=1, sandbox="none",
                                roster=class_list,
                                self_check=False, log=lambda *_, **__: None,
                                kernel_env={"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
    by_file = {g.file: g for g in graded}
    code = [item for item in plan if not item["written"] and item["right"] in by_file]
    assert {item["notebook"] for item in code} >= {"02_digits_mlp_cnn", "04_svhn_cnn",
                                                   "05_comparisons_and_mistakes"}
    for item in code:
        right, wrong = (next(r for r in by_file[item[w]].results if r.exercise == item["item"])
                        for w in ("right", "wrong"))
        assert by_file[item["right"]].status == "graded", by_file[item["right"]].status
        assert right.status == "PASSED" and right.points == right.max_points, (
            item["item"], right.status, right.detail)
        assert right.kind == item["kind"] and right.hidden_lines, "the hidden check ran"
        assert wrong.status == "NOT YET" and wrong.points == 0, (item["item"], wrong.status)
        for result, file in ((right, item["right"]), (wrong, item["wrong"])):
            feedback = (out / "feedback" / grade.feedback_name(file)).read_text()
            section = next(line for line in feedback.splitlines()
                           if line.startswith(f"**{item['item']}** ({item['kind']}, "))
            assert all(line in section for line in result.lines + result.hidden_lines)
            if item["kind"] == "design":   # the budget, and for the right one the score
                assert "parameters" in section and "at most" in section, section
            if result is right:
                assert "%" in section, section
    rows = {row["file"]: row for row in csv.DictReader(open(out / "results.csv"))}
    assert rows, "results.csv written"
    written_round_trip(out, plan, set(by_file), instructor)
    canvas = {row[0]: row for row in csv.reader(open(out / "canvas.csv"))}
    grades = {row["file"]: row for row in csv.DictReader(open(out / "grades.csv"))}
    header = next(csv.reader(open(out / "canvas.csv")))
    for notebook in {item["notebook"] for item in code}:
        column = header.index(notebook)
        right = f"{notebook[:2]}_judgement_right.ipynb"
        assert canvas["Ada Right"][column] == grades[right]["total"], notebook
