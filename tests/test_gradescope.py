"""`make gradescope`.

The autograder zip of a notebook, and run_autograder against a temporary folder shaped like
Gradescope's /autograder (AUTOGRADER_ROOT). Every results.json written here is checked against the
committed schema of Gradescope's documented format.
"""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import nbformat
import pytest

from helpers.coursework import gradescope
from scripts import grading_samples

ROOT = Path(__file__).resolve().parent.parent
NAME = "01_2d_classifier"


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory):
    """The zip, and the zip unpacked (once: the tests link to it)."""
    archive = gradescope.build(NAME, tmp_path_factory.mktemp("gradescope"))
    source = archive.parent / "source"
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(source)
        for info in opened.infolist():   # as unzip does: the modes stored in the zip
            (source / info.filename).chmod((info.external_attr >> 16) & 0o777)
    return archive


def autograder_folder(tmp_path, autograder_zip, files: dict) -> Path:
    """A folder shaped like /autograder: source/ (the zip unpacked), submission/ (``files``)."""
    root = tmp_path / "autograder"
    root.mkdir()
    (root / "source").symlink_to(autograder_zip.parent / "source")
    (root / "submission").mkdir()
    for name, data in files.items():
        (root / "submission" / name).write_bytes(data)
    return root


def results_of(root: Path) -> dict:
    results = json.loads((root / "results" / "results.json").read_text())
    gradescope.validate(results)   # the documented format, every time
    return results


def test_the_zip_has_its_files_at_the_root_and_an_executable_run_autograder(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as archive:
        names = archive.namelist()
        assert {"setup.sh", "run_autograder", "config.json", "requirements.txt",
                f"notebooks/{NAME}.ipynb", "helpers/coursework/grade.py",
                "helpers/coursework/gradescope_results.schema.json"} <= set(names)
        for script in ("setup.sh", "run_autograder"):
            info = archive.getinfo(script)
            assert (info.external_attr >> 16) & 0o777 == 0o755, script
            text = archive.read(script)
            assert text.startswith(b"#!/usr/bin/env bash\n") and b"\r" not in text, script
        assert not [n for n in names if "__pycache__" in n or n.startswith("/")]
        requirements = archive.read("requirements.txt").decode().split()
        assert requirements and all("==" in line for line in requirements)
        assert "torch==" in archive.read("requirements.txt").decode()
        setup = archive.read("setup.sh").decode()
        assert "download.pytorch.org/whl/cpu" in setup and "-c constraints.txt" in setup
        assert "gradescope self-check" in setup
        assert json.loads(archive.read("config.json")) == {"notebook": NAME}


def test_the_schema_is_gradescopes_documented_format():
    schema = json.loads(gradescope.SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert gradescope.SPEC_URL in json.dumps(schema)
    gradescope.validate(gradescope.FALLBACK)
    for wrong in ({"tests": [{"score": 1, "visibility": "students"}]},
                  {"score": "9"}, {"score": 1, "tests": [{"name": "x", "execution_time": 3}]}):
        with pytest.raises(jsonschema.ValidationError):
            gradescope.validate(wrong)


def test_results_are_written_even_when_they_are_wrong(tmp_path):
    path = gradescope.write_results(tmp_path, {"score": "nine"})
    results = json.loads(path.read_text())
    gradescope.validate(results)
    assert results["score"] == 0 and results["tests"][0]["visibility"] == "visible"


def student_copy(name=NAME) -> bytes:
    return (ROOT / "student" / f"{name}.ipynb").read_bytes()


@pytest.mark.parametrize("files, expected", [
    ({}, "No notebook"),
    ({"notes.txt": b"my answers"}, "No notebook (`.ipynb` file) was submitted (found: notes.txt)"),
    ({"a.ipynb": b"{}", "b.ipynb": b"{}"}, "2 notebooks were submitted"),
    ({"lab.ipynb": b'{"cells": ['}, "not a valid notebook"),
    ({"lab.ipynb": b"x" * 10}, "not a valid notebook"),
    ({"lab.ipynb": nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "print('another course')")])).encode()}, "it is not this course's notebook"),
], ids=["nothing", "no-notebook", "several", "truncated", "not-json", "another-course"])
def test_a_submission_that_cannot_be_graded_scores_0_with_a_visible_reason(
        tmp_path, autograder_zip, files, expected):
    root = autograder_folder(tmp_path, autograder_zip, files)
    gradescope.run(root, sandbox="none")   # (nothing here starts a kernel)
    results = results_of(root)
    assert results["score"] == 0
    [test] = results["tests"]
    assert test["visibility"] == "visible" and expected in test["output"]
    assert f"{NAME}.ipynb" in test["output"], "it says what to upload"


def test_another_notebook_of_the_course_is_named(tmp_path, autograder_zip):
    root = autograder_folder(tmp_path, autograder_zip,
                             {"lab.ipynb": student_copy("02_digits_mlp_cnn")})
    gradescope.run(root, sandbox="none")   # (nothing here starts a kernel)
    [test] = results_of(root)["tests"]
    assert "02_digits_mlp_cnn" in test["output"] and NAME in test["output"]


@pytest.mark.slow   # run_autograder itself (bash, then Python), one kernel
def test_run_autograder_grades_a_submission_like_make_grade(tmp_path, autograder_zip):
    samples = tmp_path / "samples"
    grading_samples.write_samples(samples, only=["crashing.ipynb"])
    root = autograder_folder(tmp_path, autograder_zip,
                             {"Lab 1.ipynb": (samples / "crashing.ipynb").read_bytes()})
    environment = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable,
                   # as in Gradescope's container (no namespaces): the kernel as another user
                   "AUTOGRADER_SANDBOX": "user" if os.getuid() == 0 else "none"}
    run = subprocess.run([str(root / "source" / "run_autograder")], env=environment,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    results = results_of(root)
    # crashing.ipynb: ERROR, PASSED, ERROR, PASSED of 2, 3, 2, 2 points (tests/test_grade.py)
    assert results["score"] == 5 and results["stdout_visibility"] == "hidden"
    assert results["execution_time"] > 0
    tests = {t["name"]: t for t in results["tests"]}
    visible = [t for t in results["tests"] if t["name"].endswith("self-check")]
    hidden = [t for t in results["tests"] if t["name"].endswith("additional check")]
    assert [t["status"] for t in visible] == ["failed", "passed", "failed", "passed"]
    assert len(hidden) == 4 and all(t["visibility"] == "after_published" for t in hidden)
    assert all(t["output_format"] == "md" for t in results["tests"])
    assert "ValueError" in tests["01-dataset: self-check"]["output"], "the hint is the output"
    assert sum(t["score"] for t in results["tests"]) == 5
    assert sum(t["max_score"] for t in results["tests"]) == 9
    written = [t for t in results["tests"] if t["name"].endswith("written answer")]
    assert written and all(t["max_score"] == 0 and "by hand" in t["output"] for t in written)
    notebook = nbformat.read(root / "submission" / "Lab 1.ipynb", as_version=4)
    assert notebook.cells, "the submission is left as it was"


def test_the_budget_script_runs_without_a_cgroup_where_it_cannot_make_one(tmp_path, monkeypatch):
    from scripts import gradescope_budget
    monkeypatch.setattr(gradescope_budget, "CGROUP", tmp_path / "not-a-cgroup-fs")
    assert gradescope_budget.make_cgroup("x", 768 * 2**20) == ([], None)
