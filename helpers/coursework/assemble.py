"""Assembling the notebook a submission's kernel runs (otter-grader's "assemble" step).

A set-up cell, the student's cells without their own check cells, and after each exercise's solution
the instructor's check cell *for what else it does* (the names it defines, what it prints): its
checks do nothing there. The checks themselves run in the grader's own process (helpers/coursework/
judge.py), right after the solution cell has run, through helpers/coursework/channel.py.
"""

from __future__ import annotations

import nbformat

from helpers.coursework.course import Exercise, find_solution_cell, is_check_cell

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def grading_notebook(submission, exercises: list[Exercise], limits,
                     modules: list[str] = ()):
    """The notebook that is run, and ``{exercise id: {"solution": cell index, "check": index}}``.

    Stops after the last graded cell (what comes later cannot change a result).
    """
    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": KERNELSPEC})
    notebook.cells.append(nbformat.v4.new_code_cell(setup_source(limits, list(modules))))
    cells = [c for c in submission.cells if not is_check_cell(c, exercises)]
    after = {}
    for exercise in exercises:
        index = find_solution_cell(cells, exercise)
        if index is not None:
            after.setdefault(index, []).append(exercise)
    where: dict[str, dict[str, int]] = {}
    last_graded = 0
    for index, cell in enumerate(cells):
        notebook.cells.append(nbformat.v4.new_code_cell(cell.source) if cell.cell_type == "code"
                              # keep the numbering; nothing to run
                              else nbformat.v4.new_markdown_cell(""))
        for exercise in after.get(index, []):
            roles = where.setdefault(exercise.id, {"solution": len(notebook.cells) - 1})
            notebook.cells.append(nbformat.v4.new_code_cell(side_effects_source(
                exercise.check_source)))
            roles["check"] = len(notebook.cells) - 1
            last_graded = len(notebook.cells)
    del notebook.cells[last_graded:]
    return notebook, where


def side_effects_source(check_source: str) -> str:
    return ("__import__('helpers.coursework.channel', fromlist=['run_side_effects'])"
            f".run_side_effects({check_source!r})")


def setup_source(limits, modules: list[str]) -> str:
    """The first cell run.

    Resource limits for the kernel (cheap, not a sandbox), and the instructor's imports loaded ahead
    (no names are bound), under the set-up's own time limit: a slow first ``import torch`` on a busy
    machine must not count against the student's per-cell time.
    """
    cpu = int(limits.total_timeout * max(1, limits.threads) + 60)
    modules = [*modules, "helpers.coursework.channel"]
    return (
        "# Set by the grader, not part of the submission: "
        "limits for this kernel, modules loaded ahead.\n"
        "import importlib as _importlib, resource as _resource\n"
        f"_resource.setrlimit(_resource.RLIMIT_FSIZE, ({limits.file_bytes}, {limits.file_bytes}))\n"
        f"_resource.setrlimit(_resource.RLIMIT_CPU, ({cpu}, {cpu}))\n"
        "_resource.setrlimit(_resource.RLIMIT_CORE, (0, 0))\n"
        f"for _module in {modules!r}:\n"
        "    try:\n"
        "        _importlib.import_module(_module)\n"
        "    except Exception:\n"
        "        pass\n"
        "try:\n"
        "    _importlib.import_module('helpers.coursework.channel').warm_up()\n"
        "except Exception:\n"
        "    pass\n"
        "del _importlib, _resource, _module")
