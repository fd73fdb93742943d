"""fit's live learning curves and summary line, headless (no notebook front end)."""

import matplotlib

matplotlib.use("Agg")
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from helpers.plotting import LiveCurves  # noqa: E402
from helpers.training import fit, run_summary  # noqa: E402

pytestmark = pytest.mark.usefixtures("full_epoch_counts")



def tiny_run(**options):
    points = torch.randn(64, 2)
    labels = (points[:, 0] > 0).long()
    loader = DataLoader(TensorDataset(points, labels), batch_size=16)
    model = nn.Linear(2, 2)
    return fit(model, loader, loader, nn.CrossEntropyLoss(),
               torch.optim.SGD(model.parameters(), lr=0.1), 3, **options)


def test_fit_calls_on_epoch_end_with_the_history_so_far():
    seen = []
    history = tiny_run(on_epoch_end=lambda h: seen.append(list(h["epoch"])))
    assert seen == [[1], [1, 2], [1, 2, 3]] and history["epoch"] == [1, 2, 3]


def test_live_curves_redraw_one_figure_in_place():
    live = LiveCurves(title="run")
    tiny_run(on_epoch_end=live)
    loss_ax, acc_ax = live.axes
    assert live.handle is None                 # no notebook here: drawn, not displayed
    assert len(loss_ax.lines) == 3             # train, validation, best epoch: not 3 copies of each
    assert list(acc_ax.lines[0].get_xdata()) == [1, 2, 3]


def test_fit_live_prints_one_summary_line(capsys):
    history = tiny_run(live=True)
    printed = capsys.readouterr().out.splitlines()
    assert printed[-1] == run_summary(history)
    assert printed[-1].startswith("3 epochs in ") and "best epoch" in printed[-1]


def test_fit_live_without_summary_leaves_the_line_to_the_caller(capsys):
    # notebook 02 prints its own line (the kept epoch's NLL and error)
    tiny_run(live=True, summary=False)
    assert capsys.readouterr().out == ""


def test_run_summary_names_the_best_epoch():
    # the best epoch is the one whose weights are kept: the lowest validation loss, even where
    # another epoch has a higher validation accuracy
    history = {"epoch": [1, 2, 3], "val_acc": [0.5, 0.9891, 0.99], "val_loss": [1.2, 0.0412, 0.05],
               "epoch_seconds": [10, 12, 12.4], "stopped_early": True}
    assert run_summary(history) == ("3 epochs in 34 s; best epoch 2 (lowest validation loss "
                                    "0.0412), validation accuracy 98.9%; stopped early")


@pytest.mark.slow   # a benchmark script, in its tiny mode
def test_benchmark_live_curves_runs(capsys):
    """On the suite's synthetic MNIST (smoke mode): the script's code path, not its numbers."""
    from scripts import benchmark_live_curves

    assert benchmark_live_curves.main(["--epochs", "1", "--redraws", "2"]) == 0
    assert "of an epoch" in capsys.readouterr().out
