"""Writing the gradebook (otter-grader's "export" step).

``grades.csv`` (one row per submission), ``results.csv`` (one row per exercise) and each student's
feedback in Markdown.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from helpers.coursework.judge import Result


@dataclass
class Graded:
    """One submission's row of the gradebook."""
    file: str
    notebook: str = ""
    status: str = "graded"
    results: list[Result] = field(default_factory=list)
    seconds: float = 0.0
    first_error: str = ""   # the kernel's first error, of any cell (for the self-check's message)

    @property
    def total(self) -> float:
        return sum(r.points for r in self.results)

    @property
    def max_points(self) -> float:
        return sum(r.max_points for r in self.results)


#: Exercise kinds whose feedback lists every verdict line of their checks (the score reached, the
#: budget kept or not), also when they pass: the student sees how well their design did.
MEASURED_KINDS = ("design", "debugging")


def format_points(value: float) -> str:
    return f"{value:g}"


_format_points = format_points


def write_gradebook(graded: list[Graded], course: dict, out: Path) -> None:
    """``grades.csv`` (one row per submission) and ``results.csv`` (one row per exercise)."""
    present = [name for name in course if any(g.notebook == name for g in graded)]
    columns = [e.id for name in present for e in course[name]]
    with open(out / "grades.csv", "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["file", "notebook", *columns, "total", "max", "status"])
        for g in graded:
            points = {r.exercise: format_points(r.points) for r in g.results}
            writer.writerow([g.file, g.notebook, *(points.get(c, "") for c in columns),
                             format_points(g.total),
                             format_points(g.max_points) if g.results else "", g.status])
    with open(out / "results.csv", "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["file", "notebook", "exercise", "result", "points", "max", "detail"])
        for g in graded:
            for r in g.results:
                writer.writerow([g.file, g.notebook, r.exercise, r.status, format_points(r.points),
                                 format_points(r.max_points), r.detail])


def feedback_markdown(graded: Graded) -> str:
    """What the student reads: the total, then each exercise's result and hint."""
    lines = [f"# Feedback on `{graded.file}`", ""]
    if not graded.results:
        lines += [f"**Not graded** -- {graded.status}.", "",
                  "Submit the notebook you worked in (File > Download > .ipynb), unchanged apart "
                  "from your answers."]
        return "\n".join(lines) + "\n"
    lines += [f"Notebook `{graded.notebook}`: **{format_points(graded.total)} / "
              f"{format_points(graded.max_points)} points**.", ""]
    if graded.status != "graded":
        lines += [f"Note: {graded.status}.", ""]
    lines += ["| exercise | result | points |", "|---|---|---|"]
    lines += [f"| {r.exercise} | {r.status} | "
              f"{format_points(r.points)} / {format_points(r.max_points)} |"
              for r in graded.results]
    lines.append("")
    for r in graded.results:
        if r.kind in MEASURED_KINDS and (r.lines or r.hidden_lines):
            # a design or debugging exercise: what was measured (score, budget), passed or not
            lines += [f"**{r.exercise}** ({r.kind}, {r.status}): "
                      + "; ".join(r.lines + r.hidden_lines)
                      + (f". {r.detail}" if r.detail and r.status == "PASSED" else ""), ""]
        elif r.detail:
            lines += [f"**{r.exercise}** ({r.status}): {r.detail}", ""]
    return "\n".join(lines)
