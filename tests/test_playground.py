"""Notebook 01's playground, headless: the data, the training and the figure behind the widgets."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from helpers.data import make_rings  # noqa: E402
from helpers.playground import (FEATURES, Playground, noisy_rings, set_loss_scale,  # noqa: E402
                                train_2d_classifier)


def training_accuracy(probability, samples, labels):
    with torch.no_grad():
        return ((probability(samples) > 0.5).float() == labels).float().mean().item()


def test_noisy_rings_are_notebook_01s_rings_plus_seeded_noise():
    samples, labels = noisy_rings(600, noise=0.0, seed=3)
    clean, clean_labels = make_rings(600, 3)
    assert samples.shape == (600, 2) and labels.shape == (600,) and labels.dtype == torch.float32
    assert (torch.equal(samples, torch.from_numpy(clean))
            and labels.tolist() == clean_labels.tolist())
    noisy, _ = noisy_rings(600, noise=0.2, seed=3)
    assert torch.equal(noisy, noisy_rings(600, noise=0.2, seed=3)[0])
    assert 0.15 < (noisy - samples).std().item() < 0.25


def test_every_feature_set_maps_points_to_rows():
    points = torch.randn(5, 2)
    assert ([FEATURES[name](points).shape for name in ("x, y", "r, φ", "both")]
            == [(5, 2), (5, 2), (5, 4)])


def test_the_playground_shows_notebook_01s_lesson():
    samples, labels = noisy_rings(600, noise=0.1, seed=0)
    linear_xy, losses = train_2d_classifier(samples, labels, "x, y", hidden=(), epochs=200)
    linear_polar, _ = train_2d_classifier(samples, labels, "r, φ", hidden=(), lr=0.1, epochs=200)
    mlp, mlp_losses = train_2d_classifier(samples, labels, "x, y", hidden=(8, 8), epochs=200)
    assert len(losses) == 200 and mlp_losses[-1] < 0.2 * mlp_losses[0]
    assert training_accuracy(linear_xy, samples, labels) < 0.7      # a line cannot enclose a disc
    assert training_accuracy(linear_polar, samples, labels) > 0.95  # r = const can
    assert training_accuracy(mlp, samples, labels) > 0.95
    assert mlp(torch.zeros(7, 2)).shape == (7,)


def test_training_is_reproducible_for_a_seed():
    samples, labels = noisy_rings(200)
    runs = [train_2d_classifier(samples, labels, "both", (4,), "tanh", epochs=20, seed=1)[1]
            for _ in range(2)]
    assert runs[0] == runs[1]


def test_playground_figure_draws_boundary_and_loss_curve():
    fig = Playground(seed=0).figure(hidden_layers=1, units=4, activation="sigmoid", features="both",
                                    epochs=10)
    plane, loss = fig.axes[:2]
    assert "training accuracy" in plane.get_title()
    assert len(loss.lines[0].get_ydata()) == 10
    plt.close(fig)


@pytest.mark.slow   # a benchmark script, in its tiny mode
def test_benchmark_playground_runs(capsys):
    from scripts import benchmark_playground

    assert benchmark_playground.main(["--interactions", "2"]) == 0
    assert "2 interactions (retrain + redraw): median" in capsys.readouterr().out


@pytest.mark.parametrize("losses", [[0.70, 0.695, 0.69], [0.7, 0.1, 0.012]],
                         ids=["narrow", "two decades"])
def test_loss_axis_labels_are_plain_and_distinct(losses):
    """No "7e-01" on every tick of a narrow range; no minor-tick labels."""
    fig, ax = plt.subplots()
    ax.plot(range(len(losses)), losses)
    set_loss_scale(ax, losses)
    fig.canvas.draw()
    low, high = ax.get_ylim()
    labels = [ax.yaxis.get_major_formatter()(v) for v in ax.yaxis.get_majorticklocs()
              if low <= v <= high]
    assert (len(labels) >= 2 and len(set(labels)) == len(labels)
            and not any("e" in label for label in labels))
    assert not any(ax.yaxis.get_minor_formatter()(v) for v in ax.yaxis.get_minorticklocs())
    plt.close(fig)


def test_the_playground_redraws_one_figure():
    playground = Playground()
    first = playground.figure(hidden_layers=0, epochs=10)
    again = playground.figure(hidden_layers=1, units=3, features="r, φ", epochs=20, noise=0.3)
    assert again is first and playground.ax_plane.get_title().startswith("1×3 relu on (r, φ)")
    assert len(playground.loss_line.get_ydata()) == 20
    assert playground.png(epochs=10).startswith(b"\x89PNG")


def playground_cells_of_notebook_01(folder):
    """Write notebook 01's parameter and playground cells, as they are, into a notebook alone.

    That is what the browser test needs, without running the whole lesson in JupyterLab (6 s less).
    """
    import nbformat

    from scripts.benchmark_playground_browser import NOTEBOOK

    lesson = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in lesson.cells if cell.cell_type == "code"]
    cells = [next(c for c in code if "\nSEED = " in c.source),
             next(c for c in code if "Playground(seed=SEED)" in c.source)]
    for cell in cells:
        cell.outputs, cell.execution_count = [], None
    path = folder / NOTEBOOK.name
    nbformat.write(nbformat.v4.new_notebook(cells=cells, metadata=lesson.metadata), path)
    return path


@pytest.mark.slow   # JupyterLab and Chromium
def test_benchmark_playground_browser_runs(tmp_path, capsys):
    """The browser benchmark runs: JupyterLab and headless Chromium, one change per control.

    On notebook 01's playground cell; skipped where Playwright or Chromium is missing (the
    `browser` extra and /usr/bin/chromium).
    """
    from scripts import benchmark_playground_browser as browser

    missing = browser.chromium_missing()
    if missing:
        pytest.skip(missing)
    status = browser.main(["--changes", "1", "--screenshot", str(tmp_path / "controls.png"),
                           "--notebook", str(playground_cells_of_notebook_01(tmp_path))])
    out = capsys.readouterr().out
    assert "all whole" in out and (tmp_path / "controls.png").stat().st_size > 0
    assert all(f"  {name} " in out for name in browser.CONTROLS)
    # 1: slower than 1 s here (a busy machine); the README states a quiet machine's numbers
    assert status in (0, 1)
