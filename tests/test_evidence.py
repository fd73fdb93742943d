"""One standard of evidence in the stored notebooks.

- Every claim that compares (better, worse, wins, helps, faster, no difference, ...) was decided
  by a test of helpers.stats: its record carries the test and the 95% interval.
- No sentence of the markdown, and no hand-written conclusion lead, states an outcome (which model
  won, whether it overfits, "every", "always", ...) next to a model or a number, unless it is listed
  under ``facts:`` in tests/lesson_text/<notebook>.yaml as true on any run, with why. Outcomes live
  in claims, which the run checks.
"""

import ast
import re
from pathlib import Path

import nbformat
import pytest

from tests.test_lesson_text import NOT_PROSE, NOTEBOOKS, claim_records, exceptions, helpers_record

#: Words that make a claim comparative: it needs a statistical test behind it.
COMPARATIVE = re.compile(
    r"\b(better|worse|wins?|won|beats?|outperforms?|ahead|behind|helps?|hurts?|faster|slower|"
    r"higher|lower|more accurate|less accurate|no detectable difference|costs?)\b", re.I)

#: Words that state an outcome of a run.
RESULT_WORD = re.compile(
    r"\b(better|worse|wins?|won|beats?|outperforms?|overfits?|overfitting|faster|slower|every|"
    r"always|never|more accurate|less accurate|helps|hurts|fails)\b", re.I)
#: What such a word must stand near to state a result: a model, a component, or a number.
SUBJECT = re.compile(
    r"\b(models?|MLPs?|CNNs?|network|linear|VGG|classifier|ensemble|dropout|batch norm|"
    r"augmentation|optimi[sz]ers?|SGD|Adam\w*|momentum|sigmoid|ReLU|recipe|variant)\b|\d", re.I)


def comparative_claims_without_test(path: Path) -> list[str]:
    notebook = nbformat.read(path, as_version=4)
    return [f"cell {index}: {record['claim']!r}"
            for index, cell in enumerate(notebook.cells) for record in claim_records(cell)
            if COMPARATIVE.search(record["claim"])
            and not (record.get("test") and len(record.get("interval", [])) == 2)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_comparative_claim_carries_its_test_and_interval(path):
    """A claim that compares was decided by helpers.stats (claims.compared or claims.verdict)."""
    found = comparative_claims_without_test(path)
    assert not found, (f"{path.name}: comparative claims not decided by a test of helpers.stats "
                       "(use claims.compared or claims.verdict):\n" + "\n".join(found))


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` (prose only: code, math and links blanked out)."""
    for pattern in NOT_PROSE:
        text = pattern.sub(lambda m: " " * len(m.group(0)), text)
    text = re.sub(r"\s+", " ", text)
    return [s.strip() for s in re.split(r"(?<=[.!?:;])\s+(?=[A-Z*(\"])|\s-\s|\s\*\s", text)
            if s.strip()]


def unbound_result_sentences(path: Path) -> list[str]:
    """Return the sentences that state an outcome and are not listed as facts of any run.

    Sentences of the markdown and hand-written leads that state an outcome next to a model or a
    number.
    """
    notebook = nbformat.read(path, as_version=4)
    facts = exceptions(path, "facts")
    texts = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown":
            texts.append((index, cell.source))
        for output in cell.get("outputs", []):
            lead = helpers_record(output).get("lead")
            if lead:
                texts.append((index, lead))
    found = []
    for index, text in texts:
        for sentence in sentences(text):
            if sentence.rstrip("*_ )").endswith("?"):
                continue   # a question states no outcome
            if (RESULT_WORD.search(sentence) and SUBJECT.search(sentence)
                    and not any(fact in sentence for fact in facts)):
                found.append(f"cell {index}: {sentence[:160]!r}")
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_result_sentence_is_unbound_to_its_run(path):
    found = unbound_result_sentences(path)
    assert not found, (f"{path.name}: sentences that state an outcome without the run checking "
                       "it (make it a claim, generate it from the results, rephrase it as a "
                       "question, or list the phrase under `facts:` in "
                       f"tests/lesson_text/{path.stem}.yaml with why it holds on any run):\n"
                       + "\n".join(found))


def test_the_evidence_checks_can_fail(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell(
                          "The CNN is better than the MLP. We train for `EPOCHS` epochs. "
                          "Which model is better?"),
                      nbformat.v4.new_code_cell("conclusion(...)")]
    notebook.cells[1].outputs = [nbformat.v4.new_output(
        "display_data", data={"text/markdown": "**Conclusion.** Dropout never helps."},
        metadata={"text/markdown": {"helpers": {
            "lead": "Dropout never helps.",
            "claims": [{"claim": "the CNN wins", "holds": True},
                       {"claim": "the CNN has a higher accuracy", "holds": True,
                        "test": "paired t over 3 seeds", "interval": [0.2, 1.4]}]}}})]
    path = tmp_path / "99_example.ipynb"
    nbformat.write(notebook, path)
    assert comparative_claims_without_test(path) == ["cell 1: 'the CNN wins'"]
    assert unbound_result_sentences(path) == ["cell 0: 'The CNN is better than the MLP.'",
                                              "cell 1: 'Dropout never helps.'"]


def code_cells(path: Path):
    """Yield (index, parsed module) for each code cell of ``path`` (IPython syntax made Python)."""
    from IPython.core.inputtransformer2 import TransformerManager

    for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
        if cell.cell_type == "code":
            yield index, ast.parse(TransformerManager().transform_cell(cell.source))


def called_name(node) -> str | None:
    """The name a call node calls (``claim`` for both ``claim(...)`` and ``claims.claim(...)``)."""
    func = getattr(node, "func", None)
    return getattr(func, "attr", None) or getattr(func, "id", None)


def constant_claims(path: Path) -> list[str]:
    """Return the ``claim(...)`` calls whose condition is a constant: a ✓ that checks nothing."""
    found = []
    for index, tree in code_cells(path):
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or called_name(node) != "claim":
                continue
            holds = (node.args[1] if len(node.args) > 1
                     else next((k.value for k in node.keywords if k.arg == "holds"), None))
            if isinstance(holds, ast.Constant):
                found.append(f"cell {index}: {ast.unparse(node)[:90]}")
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_claim_holds_by_construction(path):
    """A claim's condition is computed from the run: ``claim(text, True)`` would always print ✓."""
    found = constant_claims(path)
    assert not found, (f"{path.name}: claims whose condition is a constant (compute it from the "
                       "run, or print the statement without a ✓):\n" + "\n".join(found))


def test_the_constant_claim_check_can_fail(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(
        "%matplotlib inline\nclaim('digit 8 is hardest', True, str(rate))\n"
        "claims.claim('computed', errors < 10)\nclaim(holds=True, statement='kw')")]
    path = tmp_path / "99_example.ipynb"
    nbformat.write(notebook, path)
    assert constant_claims(path) == ["cell 0: claim('digit 8 is hardest', True, str(rate))",
                                     "cell 0: claim(holds=True, statement='kw')"]


def conclusions_not_shown(path: Path) -> list[str]:
    """Return the ``conclusion(...)`` statements a cell computes and throws away unshown.

    A bare expression shows its value only as the last statement of a cell; elsewhere it needs
    ``display(...)``.
    """
    return [f"cell {index}, line {statement.lineno}" for index, tree in code_cells(path)
            for statement in tree.body[:-1]
            if isinstance(statement, ast.Expr) and called_name(statement.value) == "conclusion"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_conclusion_is_shown(path):
    """A conclusion that is not a cell's last expression is wrapped in display(), else unseen."""
    found = conclusions_not_shown(path)
    assert not found, (f"{path.name}: conclusions computed but never shown (wrap them in "
                       "display(...)):\n" + "\n".join(found))


def test_the_unshown_conclusion_check_can_fail(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(
        "conclusion('a', claim('b', x > 1))\nprint('counted')\n"
        "display(conclusion('shown'))\nconclusion('last: shown')")]
    path = tmp_path / "99_example.ipynb"
    nbformat.write(notebook, path)
    assert conclusions_not_shown(path) == ["cell 0, line 1"]
