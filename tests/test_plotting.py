import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from helpers.plotting import plot_decision_boundary, plot_history, plot_points  # noqa: E402

HISTORY = {"epoch": [1, 2, 3], "train_loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.6, 0.5],
           "train_acc": [0.5, 0.8, 0.9], "val_acc": [0.5, 0.7, 0.85], "best_epoch": 3}


def test_plot_history_draws_train_and_validation_curves():
    fig = plot_history(HISTORY, title="t")
    loss_ax, acc_ax = fig.axes
    assert [line.get_label() for line in loss_ax.lines][:2] == ["train", "validation"]
    assert list(acc_ax.lines[1].get_ydata()) == HISTORY["val_acc"]
    plt.close(fig)


def test_plot_points_colours_each_class():
    ax = plot_points(np.array([[0, 0], [1, 1], [2, 2]]), np.array([0, 1, 1]))
    assert [len(c.get_offsets()) for c in ax.collections] == [1, 2]
    plt.close(ax.figure)


def contour_levels(ax):
    return [list(c.levels) for c in ax.collections if hasattr(c, "levels")]


def test_plot_decision_boundary_draws_the_half_probability_line():
    points = np.array([[-1.0, 0.0], [1.0, 0.0]])
    ax = plot_decision_boundary(lambda p: torch.sigmoid(p[:, :1] * 3), points, [0, 1], grid_size=50)
    assert [0.5] in contour_levels(ax)
    plt.close(ax.figure)


def test_plot_decision_boundary_skips_the_line_when_there_is_none():
    ax = plot_decision_boundary(lambda p: torch.full((len(p),), 0.9), np.zeros((4, 2)),
                                [0, 1, 0, 1], grid_size=20)
    assert [0.5] not in contour_levels(ax)
    plt.close(ax.figure)
