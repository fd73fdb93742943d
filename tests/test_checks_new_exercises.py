"""The two exercises that ask for more than one function, and their checks.

They are the confusion matrix (notebook 03) and the open design exercise on the 8x8 digits
(notebook 02). Each check passes the reference answer and fails the classic wrong ones with a
message that says what is wrong.
"""

import torch
from torch import nn

from helpers import checks
from helpers.checks.nb02 import DESIGN_PARAMETER_BUDGET


def confusion_matrix(predictions, labels, num_classes):
    matrix = torch.zeros(num_classes, num_classes, dtype=torch.int64)
    matrix.index_put_((labels, predictions), torch.ones_like(labels), accumulate=True)
    return matrix


def per_class_recall(matrix):
    return matrix.diagonal() / matrix.sum(dim=1)


def most_confused(matrix):
    off = matrix - torch.diag(matrix.diagonal())
    return divmod(int(off.argmax()), matrix.shape[0])


def test_the_confusion_matrix_check_passes_the_reference_and_names_a_transposed_matrix(capsys):
    assert checks.check_confusion_matrix(confusion_matrix, per_class_recall, most_confused,
                                         strict=True)
    assert capsys.readouterr().out.count("PASSED") == 3

    def transposed(predictions, labels, num_classes):
        return confusion_matrix(labels, predictions, num_classes)
    assert not checks.check_confusion_matrix(transposed, per_class_recall, most_confused)
    assert "yours is transposed" in capsys.readouterr().out


def test_the_confusion_matrix_check_fails_a_recall_over_columns(capsys):
    assert not checks.check_confusion_matrix(confusion_matrix,
                                             lambda m: m.diagonal() / m.sum(dim=0),
                                             most_confused)
    assert "NOT YET: per_class_recall" in capsys.readouterr().out


def small_cnn():
    return nn.Sequential(nn.Unflatten(1, (1, 8, 8)), nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64, 10))


def train(model, images, labels, epochs=40):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-4)
    for _ in range(epochs):
        order = torch.randperm(len(images))
        for start in range(0, len(images), 32):
            batch = order[start:start + 32]
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(images[batch]), labels[batch]).backward()
            optimizer.step()
    return model


def small_mlp():
    return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))


# (The design check passing the instructor's recipe on validation and on test digits: notebook 02's
# judgement sample in tests/test_judgement.py, through the grader.)


def test_the_design_check_fails_a_model_over_budget_or_untrained(capsys):
    def wide():
        return nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 10))
    assert not checks.check_digits_design(wide, train)
    out = capsys.readouterr().out
    assert (f"at most {DESIGN_PARAMETER_BUDGET:,} parameters (19,210 parameters, "
            f"{19_210 - DESIGN_PARAMETER_BUDGET:,} over)") in out
    assert "validation error" not in out, "over the budget: not trained at all"
    assert not checks.check_digits_design(small_mlp, lambda model, images, labels: model)
    assert "NOT YET: your recipe reaches at most 6% validation error" in capsys.readouterr().out
