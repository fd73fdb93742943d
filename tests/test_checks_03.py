"""The self-checks of notebook 03 pass on the solutions,
fail on typical wrong answers, re-raise on stubs."""

import pytest
from torch import nn

from helpers import checks


def stub(*args, **kwargs):
    raise NotImplementedError


def verdicts(capsys):
    return [line.split(":")[0] for line in capsys.readouterr().out.splitlines()
            if not line.startswith("  ")]


def make_mlp(layer_sizes, batch_norm=False, activation_last=False, activation=True, flatten=True):
    layers = [nn.Flatten()] if flatten else []
    for n_in, n_out in zip(layer_sizes[:-2], layer_sizes[1:-1]):
        layers.append(nn.Linear(n_in, n_out))
        if batch_norm:
            layers.append(nn.BatchNorm1d(n_out))
        if activation:
            layers.append(nn.ReLU())
    layers.append(nn.Linear(layer_sizes[-2], layer_sizes[-1]))
    if activation_last:
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def test_check_mnist_mlp(capsys):
    assert checks.check_mnist_mlp(make_mlp)
    # batch_norm ignored
    assert not checks.check_mnist_mlp(lambda sizes, batch_norm=False: make_mlp(sizes))
    assert not checks.check_mnist_mlp(
        lambda sizes, batch_norm=False: make_mlp(sizes, batch_norm, activation_last=True))
    assert not checks.check_mnist_mlp(
        lambda sizes, batch_norm=False: make_mlp(sizes, batch_norm, activation=False))
    assert not checks.check_mnist_mlp(
        lambda sizes, batch_norm=False: make_mlp(sizes, batch_norm, flatten=False))
    with pytest.raises(NotImplementedError):
        checks.check_mnist_mlp(stub)
    capsys.readouterr()


def right_size(size, kernel_size, stride=1, padding=0):
    return (size + 2 * padding - kernel_size) // stride + 1


def test_check_conv_output_size(capsys):
    assert checks.check_conv_output_size(right_size)
    # no floor
    assert not checks.check_conv_output_size(lambda s, k, st=1, p=0: (s + 2 * p - k) / st + 1)
    # padding forgotten
    assert not checks.check_conv_output_size(lambda s, k, st=1, p=0: (s - k) // st + 1)
    # off by one
    assert not checks.check_conv_output_size(lambda s, k, st=1, p=0: (s + 2 * p - k) // st)
    with pytest.raises(NotImplementedError):
        checks.check_conv_output_size(stub)
    assert verdicts(capsys) == ["PASSED", "NOT YET", "NOT YET", "NOT YET", "NOT YET"]


def right_parameters(layer):
    bias = 0 if getattr(layer, "bias", None) is None else layer.bias.numel()
    if isinstance(layer, nn.Linear):
        return layer.in_features * layer.out_features + bias
    if isinstance(layer, nn.Conv2d):
        k_h, k_w = layer.kernel_size
        return k_h * k_w * layer.in_channels * layer.out_channels + bias
    return 2 * layer.num_features


def test_check_layer_parameters(capsys):
    assert checks.check_layer_parameters(right_parameters)

    def always_with_bias(layer):
        if isinstance(layer, nn.Linear):
            return layer.in_features * layer.out_features + layer.out_features
        return right_parameters(layer)

    def kernel_not_squared(layer):
        if isinstance(layer, nn.Conv2d):
            return (layer.kernel_size[0] * layer.in_channels * layer.out_channels
                    + layer.out_channels)
        return right_parameters(layer)

    assert not checks.check_layer_parameters(always_with_bias)
    assert not checks.check_layer_parameters(kernel_not_squared)
    assert not checks.check_layer_parameters(lambda layer: layer.weight.numel())  # biases forgotten
    with pytest.raises(NotImplementedError):
        checks.check_layer_parameters(stub)
    assert verdicts(capsys) == ["PASSED", "NOT YET", "NOT YET", "NOT YET", "NOT YET"]


# --- the models notebook 03 puts in helpers.models for notebook 05 --------------------------------


def test_notebook_03_best_models():
    import torch

    from helpers.models import count_parameters, mnist_best_cnn, mnist_best_mlp

    images = torch.zeros(3, 1, 28, 28)
    mlp, cnn = mnist_best_mlp(), mnist_best_cnn()
    assert mlp(images).shape == (3, 10) and cnn(images).shape == (3, 10)
    assert (count_parameters(mlp) == (784 * 512 + 512) + 2 * 512 + (512 * 512 + 512) + 2 * 512
            + (512 * 10 + 10))
    assert count_parameters(cnn) == ((25 * 16 + 2 * 16) + (9 * 16 * 32 + 2 * 32)
                                     + (800 * 256 + 2 * 256) + (256 * 10 + 10))
    assert cnn[0].weight.is_contiguous(memory_format=torch.channels_last)
    # printed as PyTorch's own layers: a student looks each one up in its documentation
    assert all(type(layer).__module__.startswith("torch.nn") for layer in cnn.modules())
    weight = mnist_best_cnn(channels_last=False)[4].weight
    assert not weight.is_contiguous(memory_format=torch.channels_last)


def test_notebook_03_checks_print_the_same_and_leave_the_random_stream_alone(capsys):
    import torch

    outputs = []
    for seed in (1, 2):  # a different random state before each call: the same printed lines
        torch.manual_seed(seed)
        expected = torch.rand(3)
        torch.manual_seed(seed)
        checks.check_mnist_mlp(make_mlp)
        checks.check_layer_parameters(right_parameters)
        assert torch.equal(torch.rand(3), expected)
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]
