"""Coursework.

Student copies, grading in a sandbox, gradebooks for an LMS, written answers graded by hand.

One metadata schema serves every part (like nbgrader's
``nbgrader`` key and otter-grader's ``otter``):

- a cell's ``"grade"`` metadata: ``{"exercise": ID, "role": ROLE, "points": P, "depends_on": [ID,
  ...]}`` with ROLE one of :data:`ROLES`: ``solution`` (the code cell a student completes),
  ``check`` (the self-check cell after it), ``hidden-check`` (a *raw* cell that only grading runs,
  with its share of the points), ``written`` (a markdown cell holding a written answer, graded by a
  person);
- a notebook's ``"grade"`` metadata: ``{"notebook": NAME}``, written into each student copy, so that
  a renamed submission is still recognised;
- the solution markers, in code cells :data:`CODE_BEGIN` .. :data:`CODE_END`, in markdown cells
  :data:`MARKDOWN_BEGIN` .. :data:`MARKDOWN_END`.

``helpers.coursework.student`` writes student copies (``make student``);
``helpers.coursework.grade`` grades a folder of submissions (``make grade``), in steps of one
module each: ``course`` (the exercises), ``assemble`` (the notebook the kernel runs), ``execute``
(running it in ``sandbox``), ``judge`` (the checks, in the grader's own process, reaching the
student's objects through ``channel``: plain data, never pickle), ``gradebook`` (grades.csv,
feedback); ``helpers.coursework.gradescope`` builds a Gradescope autograder per notebook (``make
gradescope``); ``helpers.coursework.lms`` writes the gradebook in Canvas', Moodle's and Gradescope's
import formats;
``helpers.coursework.written`` collects written answers for a person to grade and merges the points
back. One command line: ``python -m helpers.coursework {student,grade,written,gradescope}``.
"""

import re

KEY = "grade"
SOLUTION, CHECK, HIDDEN_CHECK, WRITTEN = "solution", "check", "hidden-check", "written"
ROLES = (SOLUTION, CHECK, HIDDEN_CHECK, WRITTEN)

CODE_BEGIN, CODE_END = "# BEGIN SOLUTION", "# END SOLUTION"
MARKDOWN_BEGIN, MARKDOWN_END = "<!-- BEGIN SOLUTION -->", "<!-- END SOLUTION -->"
CODE_STUB = ['# YOUR CODE HERE',
             'raise NotImplementedError("Exercise: replace these two lines with your code")']
MARKDOWN_PROMPT = ["**Your answer:** _write your answer here._"]


def role_of(cell) -> tuple[str | None, str | None]:
    """Return (exercise id, role) of a cell from its ``grade`` metadata; (None, None) if none."""
    meta = cell.get("metadata", {}).get(KEY) or {}
    return meta.get("exercise"), meta.get("role")


def is_hidden_check(cell) -> bool:
    """An instructor-only check that grading runs and students never see."""
    return role_of(cell)[1] == HIDDEN_CHECK


def feedback_name(relative: str) -> str:
    """Name the feedback file ``feedback/<this>`` of a submission (its path in the folder)."""
    return re.sub(r"[^\w.-]", "_", relative.replace("/", "__")).removesuffix(".ipynb") + ".md"
