"""Student copies, solution markers and Colab settings (issue: coursework).

The self-checks: test_checks_*.py.
"""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from helpers.coursework import student as coursework

ROOT = Path(__file__).resolve().parent.parent
INSTRUCTOR = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
STUDENT = sorted((ROOT / "student").glob("[0-9][0-9]_*.ipynb"))


# --- markers and student copies -------------------------------------------------------------------


def test_stub_replaces_region_at_its_indentation_and_raises():
    source = "def f(x):\n    # BEGIN SOLUTION\n    return x + 1\n    # END SOLUTION\n"
    stripped = coursework.strip_solutions(source, coursework.CODE_BEGIN, coursework.CODE_END,
                                          coursework.CODE_STUB)
    assert "return x + 1" not in stripped and "    # YOUR CODE HERE" in stripped
    namespace = {}
    exec(stripped, namespace)
    with pytest.raises(NotImplementedError):
        namespace["f"](1)


@pytest.mark.parametrize("source, problem", [
    ("# BEGIN SOLUTION\nx = 1\n", "never closed"),
    ("x = 1\n# END SOLUTION\n", "without"),
    ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION\n# END SOLUTION\n", "inside another"),
    ("def f():\n    # BEGIN SOLUTION\n    pass\n# END SOLUTION\n", "indented"),
])
def test_malformed_regions_are_rejected(source, problem):
    with pytest.raises(coursework.SolutionMarkerError, match=problem):
        coursework.solution_regions(source.split("\n"), coursework.CODE_BEGIN, coursework.CODE_END)


@pytest.mark.parametrize("path", INSTRUCTOR, ids=lambda p: p.name)
def test_every_notebook_has_well_formed_exercises(path):
    notebook = nbformat.read(path, as_version=4)
    code_regions = sum(len(coursework.solution_regions(c.source.split("\n"), coursework.CODE_BEGIN,
                                                       coursework.CODE_END))
                       for c in notebook.cells if c.cell_type == "code")
    assert code_regions >= 3, (
        f"{path.name} has {code_regions} code exercises; at least 3 are needed")
    # markdown regions are valid too
    assert coursework.count_solution_regions(notebook) >= code_regions


def test_student_copies_are_up_to_date():
    assert coursework.make_student_copies(check=True) == [], (
        "run `make student` and commit student/")
    assert [p.name for p in STUDENT] == [p.name for p in INSTRUCTOR]


@pytest.mark.parametrize("path", STUDENT, ids=lambda p: p.name)
def test_student_copy_has_no_solutions_and_no_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    text = "\n".join(c.source for c in notebook.cells)
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    assert "# YOUR CODE HERE" in text
    assert all(not c.outputs and c.execution_count is None
               for c in notebook.cells if c.cell_type == "code")
    instructor = nbformat.read(ROOT / "notebooks" / path.name, as_version=4)
    # hidden checks (make grade) and cells tagged instructor-only are left out of the copy
    left_out = [c for c in instructor.cells if coursework.is_hidden_check(c)
                or coursework.INSTRUCTOR_ONLY in c.metadata.get("tags", [])]
    assert len(notebook.cells) == len(instructor.cells) - len(left_out)


#: run before each student copy in the shared kernel: a fresh folder, no figures, no names left
FRESH_START = """import os
import matplotlib.pyplot
matplotlib.pyplot.close("all")
os.chdir({folder!r})
%reset -f
"""


@pytest.fixture(scope="module")
def kernel():
    """One kernel for the five student copies.

    Each new one costs about 4 CPU seconds (ipykernel, PyTorch, torchvision, matplotlib), and the
    copies import the same modules. Before each copy, ``%reset -f`` deletes every name the previous
    one defined, so a copy that no longer imports or defines a name it uses still fails with a
    NameError, as in a kernel of its own.
    """
    from jupyter_client.manager import KernelManager

    manager = KernelManager(kernel_name="python3")
    manager.start_kernel()
    yield manager
    manager.shutdown_kernel(now=True)


@pytest.mark.slow
@pytest.mark.parametrize("path", STUDENT, ids=lambda p: p.name)
def test_student_copy_runs_up_to_the_first_stub_and_fails_there(path, tmp_path, kernel):
    notebook = nbformat.read(path, as_version=4)
    stub_cells = [i for i, c in enumerate(notebook.cells) if "# YOUR CODE HERE" in c.source]
    if not kernel.is_alive():  # an earlier copy killed it
        kernel.restart_kernel(now=True)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(FRESH_START.format(folder=str(tmp_path))))
    client = NotebookClient(notebook, km=kernel, timeout=300)
    try:
        with pytest.raises(CellExecutionError) as caught:
            client.execute()
    finally:
        if client.kc is not None:  # the kernel stays for the next copy; its client goes
            client.kc.stop_channels()
    fresh_start = notebook.cells.pop(0)
    assert not any(o.output_type == "error" for o in fresh_start.outputs), fresh_start.outputs
    assert caught.value.ename == "NotImplementedError"
    failed = [i for i, c in enumerate(notebook.cells)
              if c.cell_type == "code" and any(o.output_type == "error" for o in c.outputs)]
    assert len(failed) == 1
    assert stub_cells[0] <= failed[0] < stub_cells[1], "it should stop at the first exercise"
    ran = [c for c in notebook.cells[: failed[0]] if c.cell_type == "code" and c.source.strip()]
    assert all(c.execution_count is not None for c in ran)


# --- Colab and JupyterLab -------------------------------------------------------------------------


@pytest.mark.parametrize("path", INSTRUCTOR + STUDENT, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_colab_badge_and_install_cell_use_the_course_repository(path):
    settings = coursework.course_settings()
    slug = coursework.github_slug(settings["repository"])
    notebook = nbformat.read(path, as_version=4)
    badge = (f"https://colab.research.google.com/github/{slug}/blob/{settings['branch']}/"
             f"{path.parent.name}/{path.name}")
    assert badge in notebook.cells[0].source
    install = next(c for c in notebook.cells if c.cell_type == "code")
    assert 'if "google.colab" in sys.modules:' in install.source
    assert f"git+{settings['repository']}" in install.source
    text = "\n".join(c.source for c in notebook.cells)
    assert "drive.mount" not in text and "%matplotlib" not in text
    assert notebook.metadata.kernelspec.name == "python3"


def test_readme_has_the_colab_badge():
    slug = coursework.github_slug(coursework.course_settings()["repository"])
    assert f"colab.research.google.com/github/{slug}/" in (ROOT / "README.md").read_text()


def test_set_repository_rewrites_every_link(tmp_path, monkeypatch):
    for folder in ("notebooks", "student"):
        (tmp_path / folder).mkdir()
        for path in (ROOT / folder).glob("*.ipynb"):
            (tmp_path / folder / path.name).write_text(path.read_text())
    for name in ("README.md", "pyproject.toml"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    monkeypatch.setattr(coursework, "ROOT", tmp_path)
    monkeypatch.setattr(coursework, "INSTRUCTOR_DIR", tmp_path / "notebooks")
    monkeypatch.setattr(coursework, "STUDENT_DIR", tmp_path / "student")
    old = coursework.github_slug(coursework.course_settings()["repository"])
    coursework.set_repository("https://github.com/my-uni/dl-course", branch="2026")
    assert coursework.course_settings() == {"repository": "https://github.com/my-uni/dl-course",
                                            "branch": "2026"}
    for path in [tmp_path / "README.md", *tmp_path.glob("*/*.ipynb")]:
        text = path.read_text()
        assert old not in text, path
    notebook = (tmp_path / "notebooks" / INSTRUCTOR[0].name).read_text()
    assert "github/my-uni/dl-course/blob/2026/notebooks/" in notebook
    assert "git+https://github.com/my-uni/dl-course" in notebook
