"""Figures everyone can read: every stored figure carries a description computed from its data.

The description is the image's alt text. Also helpers.plotting's description builders and show(),
and a colour-blind-safe palette.
"""

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402
from IPython.utils.capture import capture_output  # noqa: E402

import helpers.settings  # noqa: E402
from helpers import plotting  # noqa: E402
from helpers.playground import Playground  # noqa: E402
from helpers.settings import REPO_ROOT  # noqa: E402

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MIN_CHARACTERS, MAX_CHARACTERS = 40, 1500  # a complex figure may need several sentences

# --------------------------------------------------------------------------------------------------
# Stored figures


def undescribed_figures(path: Path) -> list[str]:
    """Return every stored image/png output of ``path`` without a usable description.

    Unusable: none, too short or too long, no number in it (so not computed from the data),
    matplotlib's "<Figure size ...>", a plain-text form other than the description, or the same
    text as another figure.
    """
    notebook = nbformat.read(path, as_version=4)
    problems, seen = [], {}
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if "image/png" not in output.get("data", {}):
                continue
            alt = output.get("metadata", {}).get("image/png", {}).get("alt")
            where = f"cell {index}"
            if not isinstance(alt, str) or not alt.strip():
                problems.append(f"{where}: no description (metadata image/png alt)")
                continue
            if not MIN_CHARACTERS <= len(alt) <= MAX_CHARACTERS:
                problems.append(
                    f"{where}: a description of {len(alt)} characters "
                    f"({MIN_CHARACTERS} to {MAX_CHARACTERS}): {alt!r}"
                )
            if not re.search(r"\d", alt) or alt.startswith("<Figure"):
                problems.append(f"{where}: a description without a number from the data: {alt!r}")
            text = output["data"].get("text/plain", "")
            if (text if isinstance(text, str) else "".join(text)) != alt:
                problems.append(f"{where}: the plain-text form is not the description")
            if alt in seen:
                problems.append(f"{where}: the same description as cell {seen[alt]}: {alt!r}")
            seen.setdefault(alt, index)
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_stored_figure_has_a_description_from_its_data(path):
    problems = undescribed_figures(path)
    assert not problems, (
        f"{path.name}: figures a screen reader cannot describe (show them with "
        "helpers.plotting.show(fig, description), then re-execute the notebook):\n"
        + "\n".join(problems)
    )


def image_output(alt=None, text="<Figure size 640x480 with 1 Axes>"):
    metadata = {"image/png": {"alt": alt}} if alt is not None else {}
    return nbformat.v4.new_output(
        "display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": text}, metadata=metadata
    )


def test_the_stored_figure_check_can_fail(tmp_path):
    notebook = nbformat.v4.new_notebook()
    good = "Validation accuracy rises from 62.0% to 98.0% over 10 epochs, best at epoch 8."
    vague = "A plot of the learning curves, which look good."
    cell = nbformat.v4.new_code_cell("show(fig, describe_history(history))")
    cell.outputs = [
        image_output(),
        image_output("3 epochs", text="3 epochs"),
        image_output(vague, text=vague),
        image_output(good, text=good),
        image_output(good, text=good),
        image_output(good + " "),
    ]
    notebook.cells = [cell]
    path = tmp_path / "99_example.ipynb"
    nbformat.write(notebook, path)
    reasons = [
        re.sub(r"^cell 0: ([^:(]*).*", r"\1", line).strip() for line in undescribed_figures(path)
    ]
    assert reasons == [
        "no description",
        "a description of 8 characters",
        "a description without a number from the data",
        "the same description as cell 0",
        "the plain-text form is not the description",
    ]


# --------------------------------------------------------------------------------------------------
# show() and the live curves in an IPython shell


@pytest.fixture
def shell(monkeypatch):
    """Give the test an IPython shell, taken for a notebook kernel; display() publishes to it.

    It is removed afterwards, so that the other tests run headless again.
    """
    monkeypatch.setattr(helpers.settings, "_kernel_running", lambda: True)
    instance = InteractiveShell.instance()
    yield instance
    InteractiveShell.clear_instance()


def test_show_displays_a_described_png_and_closes_the_figure(shell):
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([1, 2, 3], [0.5, 0.7, 0.9])
    with capture_output() as captured:
        plotting.show(fig, "accuracy rises from 50% to 90% over 3 epochs")
    (output,) = captured.outputs
    assert output.data["image/png"]  # base64 text of a PNG
    assert output.data["text/plain"] == "accuracy rises from 50% to 90% over 3 epochs"
    assert output.metadata == {"image/png": {"alt": "accuracy rises from 50% to 90% over 3 epochs"}}
    assert not plt.fignum_exists(fig.number)  # the inline backend will not show it again


@pytest.mark.parametrize("description", ["", "   ", None])
def test_show_refuses_a_figure_without_a_description(description):
    fig = plt.figure()
    with pytest.raises(ValueError, match="description"):
        plotting.show(fig, description)
    plt.close(fig)


def test_show_outside_ipython_leaves_the_figure_open():
    fig = plt.figure()
    plotting.show(fig, "nothing to see: 0 axes")
    assert plt.fignum_exists(fig.number)
    plt.close(fig)


HISTORY = {
    "epoch": [1, 2, 3],
    "train_loss": [1.0, 0.5, 0.3],
    "val_loss": [1.1, 0.4, 0.5],
    "train_acc": [0.5, 0.8, 0.9],
    "val_acc": [0.62, 0.98, 0.9],
    "best_epoch": 2,
}


def test_live_curves_store_the_final_figure_with_its_description(shell):
    live = plotting.LiveCurves(title="run: learning curves")
    with capture_output() as captured:
        for epochs in (1, 2, 3):
            live(
                {
                    key: value[:epochs] if isinstance(value, list) else value
                    for key, value in HISTORY.items()
                }
            )
    assert live.description == plotting.describe_history(HISTORY, "run: learning curves")
    first, *updates = captured.outputs
    assert first.metadata["image/png"]["alt"].startswith("run: learning curves, 1 epoch:")
    assert [output.update for output in updates] == [
        True,
        True,
    ]  # the same output, redrawn in place
    assert updates[-1].metadata["image/png"]["alt"] == live.description
    assert updates[-1].data["text/plain"] == live.description


def test_the_playground_displays_a_described_figure(shell):
    playground = Playground(grid_size=20)
    with capture_output() as captured:
        playground.show(hidden_layers=1, units=4, epochs=20)
    (output,) = captured.outputs
    alt = output.metadata["image/png"]["alt"]
    assert alt == playground.description and alt.startswith(
        "1×4 relu on (x, y): training accuracy "
    )
    assert "after 20 full-batch steps" in alt


# --------------------------------------------------------------------------------------------------
# Description builders


def test_describe_history_names_trends_and_best_epochs():
    text = plotting.describe_history(HISTORY, "MLP")
    assert text == (
        "MLP, 3 epochs: training loss falls from 1 to 0.3, validation loss falls from 1.1 to 0.5 "
        "(lowest 0.4 at epoch 2); validation accuracy rises from 62.0% to 90.0% (highest 98.0% at "
        "epoch 2), training accuracy rises from 50.0% to 90.0%. The dotted line marks the best "
        "epoch (lowest validation loss), 2."
    )


def test_describe_history_of_one_epoch_and_of_none():
    one = {
        "epoch": [1],
        "train_loss": [0.7],
        "val_loss": [0.6],
        "train_acc": [0.5],
        "val_acc": [0.55],
    }
    assert plotting.describe_history(one) == (
        "Learning curves, 1 epoch: training loss 0.7 at epoch 1, validation "
        "loss 0.6 at epoch 1; validation accuracy 55.0% at epoch 1, "
        "training accuracy 50.0% at epoch 1."
    )
    empty = {key: [] for key in one}
    assert plotting.describe_history(empty) == "Learning curves, 0 epochs: no epoch finished."


def test_describe_curve_words():
    assert plotting.describe_curve([0.3, 0.3]) == "stays at 0.3"
    assert (
        plotting.describe_curve([3, 1, 2], best="min") == "falls from 3 to 2 (lowest 1 at epoch 2)"
    )
    assert (
        plotting.describe_curve([1, 2], x=[10, 25], at="{:g} s", best="max")
        == "rises from 1 to 2 by 25 s"
    )
    assert (
        plotting.describe_curve([0.1, 0.5, 0.2], True, [3, 6, 9], "{:g} s", "max")
        == "rises from 10.0% to 20.0% by 9 s (highest 50.0% at 6 s)"
    )


def test_describe_series_uses_percentages_for_rates():
    text = plotting.describe_series({"MLP": [0.9, 0.95], "CNN": [0.1, 0.05]}, "validation error")
    assert text == "Validation error: MLP rises from 90.0% to 95.0%; CNN falls from 10.0% to 5.0%."


def test_describe_points_counts_and_places_each_class():
    samples = np.array([[0.0, 0.0], [0.1, -0.1], [2.0, 0.0], [-2.0, 0.0]])
    text = plotting.describe_points(samples, [0, 0, 1, 1], ("disc", "ring"), "training set")
    assert text.startswith(
        "training set: 4 points, 2 disc and 2 ring. disc: x from 0 to 0.1, y from -0.1 to 0"
    )
    assert "ring: x from -2 to 2, y from 0 to 0, median distance from the centre 2." in text


def test_describe_decision_boundary_from_the_probabilities():
    points = np.array([[-1.0, 0.0], [1.0, 0.0], [1.0, 1.0]])
    text = plotting.describe_decision_boundary(
        lambda p: torch.sigmoid(10 * p[:, 0]),
        points,
        [0, 1, 0],
        ("left", "right"),
        "a vertical boundary",
    )
    assert text.startswith(
        "a vertical boundary: P(right) from 0.00 to 1.00 over the plotted plane (a 0.5 "
        "boundary, drawn in black); right is predicted on 50% of it (mostly on the right);"
    )
    assert text.endswith("66.7% of the 3 points shown lie on their class's side.")
    disc = plotting.describe_decision_boundary(  # around the centre: no side to name
        lambda p: torch.sigmoid(10 * (p.norm(dim=1) - 0.6)), points, [0, 1, 0])
    assert "of it; P(class 1)" in disc
    upper_left = plotting.describe_decision_boundary(
        lambda p: torch.sigmoid(10 * (p[:, 1] - p[:, 0])), points, [0, 1, 0])
    assert "(mostly in the upper left)" in upper_left
    flat = plotting.describe_decision_boundary(
        lambda p: torch.full((len(p),), 0.2), points, [0, 1, 0]
    )
    assert "no 0.5 boundary anywhere in view" in flat and "class 1 is predicted on 0% of it" in flat


def test_describe_images_and_predictions():
    assert (
        plotting.describe_images(torch.tensor([5, 0, 4]), "the first 3 images")
        == "The first 3 images, labelled 5, 0, 4."
    )
    assert plotting.describe_images(list(range(25)))[-18:] == "18, 19 and 5 more."
    text = plotting.describe_predictions(
        torch.tensor([1, 2, 3]),
        torch.tensor([1, 7, 3]),
        "three test images",
        confidence=torch.tensor([0.9, 0.61, 0.8]),
    )
    assert text == "Three test images: 2 of 3 predicted correctly; wrong: 2 taken for 7 (p = 0.61)."
    assert plotting.describe_predictions([4], [4]) == "Images: 1 of 1 predicted correctly."


def test_describe_confusion_matrix_names_the_commonest_confusions():
    matrix = np.array([[50, 2, 0], [1, 40, 5], [0, 0, 30]])
    text = plotting.describe_confusion_matrix(matrix, top=2)
    assert text == (
        "Confusion matrix of 128 test images (rows: true class, columns: predicted): 120 (93.8%) "
        "predicted correctly; most frequent confusions: 1 taken for 2 (5 times), 0 taken for 1 "
        "(2 times)."
    )
    assert plotting.describe_confusion_matrix(np.eye(2, dtype=int) * 3).endswith(
        ": 6 (100.0%) predicted correctly."
    )


def run_result(val_acc, train_loss, test_acc=0.9):
    epochs = list(range(1, len(val_acc) + 1))
    return {
        "history": {"epoch": epochs, "val_acc": val_acc, "train_loss": train_loss},
        "test_acc": test_acc,
    }


def test_experiment_descriptions():
    runs = {
        "2 layers": [
            run_result([0.8, 0.9], [1, 0.5], 0.91),
            run_result([0.7, 0.95], [1, 0.4], 0.93),
        ]
    }
    assert plotting.describe_seed_bands(runs, "val_acc") == (
        "Validation accuracy, mean over 2 seeds: 2 layers rises from 75.0% to 92.5%. "
        "The widest spread between seeds is 10.0% (2 layers)."
    )
    assert plotting.describe_test_accuracies(runs) == (
        "Test accuracy over 2 seeds, mean (lowest to highest): 2 layers 92.00% (91.00% to 93.00%)."
    )
    text = plotting.describe_loss_and_accuracy({"relu": runs["2 layers"][0]}, "two activations")
    assert text == (
        "two activations. Training loss per epoch: relu falls from 1 to 0.5. "
        "Validation accuracy per epoch: relu rises from 80.0% to 90.0%."
    )
    losses = [2.0] * 30 + [20.0] + [1.0] * 29
    text = plotting.describe_batch_losses(
        {"SGD": {"batch_losses": losses, "batches_per_epoch": 20}}
    )
    assert text == (
        "Training loss per batch (log scale): SGD: 60 batches (3 epochs), moving average from 2 to "
        "1, highest batch loss 20 in epoch 2, 1 spike."
    )


# --------------------------------------------------------------------------------------------------
# Colours


def test_the_palette_is_petroffs_colour_blind_safe_sequence():
    sequences = matplotlib.color_sequences
    if "petroff10" not in sequences:  # matplotlib < 3.10 does not ship it
        pytest.skip("this matplotlib has no petroff10 sequence to compare with")
    assert [matplotlib.colors.to_hex(c) for c in sequences["petroff10"]] == list(plotting.PALETTE)
    assert plotting.CLASS_COLORS == plotting.PALETTE[:2]


def test_use_course_style_makes_the_palette_the_colour_cycle_and_importing_does_not():
    """The style is an explicit call (each notebook's import cell), not an import's effect."""
    import ast

    tree = ast.parse((REPO_ROOT / "helpers" / "plotting.py").read_text())
    assert not [node for node in tree.body if isinstance(node, ast.Expr)
                and isinstance(node.value, ast.Call)], "a call at the top level of helpers.plotting"
    with matplotlib.rc_context():
        plotting.use_course_style()
        cycle = [matplotlib.colors.to_hex(c)
                 for c in plt.rcParams["axes.prop_cycle"].by_key()["color"]]
        assert cycle == list(plotting.PALETTE)
        fig, ax = plt.subplots()
        (line,) = ax.plot([0, 1])
        assert matplotlib.colors.to_hex(line.get_color()) == plotting.PALETTE[0]
        plt.close(fig)


def test_every_notebook_applies_the_course_style():
    for path in sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        assert "use_course_style()" in path.read_text(), path.name


#: tab10's colours by name (not colour-blind safe) and the plain red/green names of a red-green pair
NOT_CVD_SAFE = re.compile(
    r"""["'](tab:(blue|orange|green|red|purple|brown|pink|olive|cyan)|red|green)["']"""
)


def test_no_colour_outside_the_palette_is_hard_coded():
    """Classes, runs and mistakes take their colours from helpers.plotting (grey, black allowed)."""
    found = [
        f"helpers/{path.relative_to(REPO_ROOT / 'helpers')}: {match.group(0)}"
        for path in sorted((REPO_ROOT / "helpers").rglob("*.py"))
        for match in NOT_CVD_SAFE.finditer(path.read_text())
    ]
    for path in NOTEBOOKS:
        for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
            if cell.cell_type == "code":
                found += [
                    f"{path.name} cell {index}: {m.group(0)}"
                    for m in NOT_CVD_SAFE.finditer(cell.source)
                ]
    assert not found, "colours not from helpers.plotting.PALETTE:\n" + "\n".join(found)
