from pathlib import Path

import pytest
import torch
from torch import nn

from helpers.models import MLP, LinearClassifier, count_parameters


def test_linear_classifier_shapes_and_parameters():
    model = LinearClassifier(2)
    assert model(torch.zeros(7, 2)).shape == (7, 1)
    assert count_parameters(model) == 3
    assert LinearClassifier(64, 10)(torch.zeros(5, 64)).shape == (5, 10)


def test_mlp_from_layer_sizes():
    model = MLP([2, 16, 16, 1])
    assert model(torch.zeros(4, 2)).shape == (4, 1)
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(2, 16), (16, 16), (16, 1)]
    assert count_parameters(model) == (2 * 16 + 16) + (16 * 16 + 16) + (16 + 1)
    assert sum(isinstance(m, nn.ReLU) for m in model.modules()) == 2


def test_mlp_options():
    model = MLP([784, 32, 10], activation=nn.Sigmoid, batch_norm=True, dropout=0.5, flatten=True)
    assert model(torch.zeros(3, 1, 28, 28)).shape == (3, 10)
    kinds = [type(m) for m in model.net]
    assert kinds == [nn.Flatten, nn.Linear, nn.BatchNorm1d, nn.Sigmoid, nn.Dropout, nn.Linear]


def test_mlp_needs_two_sizes():
    with pytest.raises(ValueError, match="at least"):
        MLP([5])


def test_count_parameters_skips_frozen():
    model = MLP([3, 4, 2])
    model.net[0].weight.requires_grad_(False)
    assert count_parameters(model) == count_parameters(model, trainable_only=False) - 12


def test_cnn_shapes_on_every_image_size():
    from helpers.models import CNN
    assert CNN([8, 16, 32])(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert CNN([8, 16, 32])(torch.zeros(2, 1, 8, 8)).shape == (2, 10)   # pooling stops at 1x1
    colour = CNN([16, 32], in_channels=3, batch_norm=True, dropout=0.3, hidden=64)
    assert colour(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


def test_cnn_parameter_count_matches_the_formula():
    from helpers.models import CNN
    model = CNN([8, 16, 32])
    convs = (9 * 1 * 8 + 8) + (9 * 8 * 16 + 16) + (9 * 16 * 32 + 32)
    assert count_parameters(model) == convs + 32 * 10 + 10
    bn = CNN([8], batch_norm=True, convs_per_block=2)
    assert count_parameters(bn) == (9 * 1 * 8 + 2 * 8) + (9 * 8 * 8 + 2 * 8) + (8 * 10 + 10)


def test_cnn_rejects_bad_settings():
    from helpers.models import CNN
    for kwargs in ({"channels": []}, {"channels": [4], "kernel_size": 4},
                   {"channels": [4], "global_pool": "sum"}):
        with pytest.raises(ValueError):
            CNN(**kwargs)


def test_print_layer_table_lists_every_layer_and_leaves_the_model_as_it_was(capsys):
    from helpers.models import CNN, print_layer_table
    model = CNN([4, 8], in_channels=3)
    model.train()
    print_layer_table(model, (1, 3, 32, 32))
    lines = capsys.readouterr().out.splitlines()
    leaves = [m for m in model.modules() if not list(m.children())]
    assert len(lines) == 1 + 1 + len(leaves) + 1          # header, input, one per layer, total
    assert "(1, 8, 8, 8)" in lines[-5] and lines[-1].split()[-1] == f"{count_parameters(model):,}"
    assert model.training and not any(m._forward_hooks for m in model.modules())


def test_shown_path_is_relative_inside_the_repository_only(tmp_path):
    from helpers.settings import REPO_DATA_DIR, shown_path
    assert shown_path(REPO_DATA_DIR / "MNIST" / "raw") == "data/MNIST/raw"
    beside = REPO_DATA_DIR.parent.parent / "shared" / "data"
    assert shown_path(beside) == ("../shared/data" if REPO_DATA_DIR.parent.parent != Path("/")
                                  else str(beside))
    if not tmp_path.is_relative_to(REPO_DATA_DIR.parent.parent):  # elsewhere: shown as it is
        assert shown_path(tmp_path) == str(tmp_path)


def test_cnn_prints_pytorch_layers_and_skips_pooling_a_one_pixel_map():
    """Every printed layer is one of PyTorch's (a student can look it up).

    A 2x2 max pool on a map already 1 pixel wide is skipped, so deep stacks still work on small
    images.
    """
    import torch

    from helpers.models import CNN

    model = CNN([4, 4, 4, 4, 4])   # 28 -> 14 -> 7 -> 3 -> 1 -> (no pooling)
    assert all(type(layer).__module__.startswith("torch.nn") for layer in model.children()
               for layer in layer.modules())
    assert "MaxPool2d(kernel_size=2" in str(model)
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert model(torch.zeros(2, 1, 8, 8)).shape == (2, 10)
