"""The self-checks of notebook 03 pass on the solutions and fail on typical wrong answers.

They re-raise on stubs."""

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


# --- the design exercise (section 10): a model under a parameter budget, graded on the test file --


def design_model():
    """The course's solution: conv 8-16-20 with batch norm, a global max pool, 4,402 parameters."""
    def block(c_in, c_out):
        return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]
    return nn.Sequential(*block(1, 8), nn.MaxPool2d(2), *block(8, 16), nn.MaxPool2d(2),
                         *block(16, 20), nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(20, 10))


def design_training(model, images, labels, epochs=10, batch_size=64, max_lr=1e-2):
    """The course's solution: its own loop, Adam with a one-cycle learning rate."""
    import torch

    optimizer = torch.optim.Adam(model.parameters(), lr=max_lr)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=max_lr, total_steps=epochs * -(-len(images) // batch_size))
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(images))
        for start in range(0, len(images), batch_size):
            batch = order[start:start + batch_size]
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(images[batch]), labels[batch]).backward()
            optimizer.step()
            scheduler.step()
    return model


def untrained(model, images, labels):
    return model


def test_the_design_check_passes_the_solution_on_validation_and_on_the_test_file(capsys):
    """A right submission passes, and its score and budget are in the feedback.

    Within the budget, and accurate on the validation images (self-check) and on the test file
    (the hidden check)."""
    from helpers.checks import nb03

    assert nb03.check_mnist_design(design_model, design_training)
    out = capsys.readouterr().out
    assert "PASSED: the model has at most 5,000 parameters (4,402 parameters)" in out
    assert "validation images" in out and "(budget 5,000)" in out
    assert nb03.check_mnist_design(design_model, design_training, split="test")
    assert "held-out test images" in capsys.readouterr().out


def test_the_design_check_fails_a_model_over_budget_or_untrained(capsys):
    """Wrong submissions fail: over the budget, or not trained.

    Over the budget: stopped before training, saying by how much; not trained: its error in the
    feedback."""
    from helpers.checks import nb03

    def linear():   # 7,850 parameters: the linear classifier of section 2
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))

    assert not nb03.check_mnist_design(linear, design_training)
    out = capsys.readouterr().out
    assert "7,850 parameters, 2,850 over" in out and "error on" not in out
    seen = {}

    def recorded(model, images, labels):
        seen.update(images=tuple(images.shape), labels=tuple(labels.shape))
        return model

    assert not nb03.check_mnist_design(design_model, recorded, split="test")
    assert seen["images"][1:] == (1, 28, 28) and seen["labels"] == seen["images"][:1]
    assert seen["images"][0] <= nb03.DESIGN_TRAIN_IMAGES
    out = capsys.readouterr().out
    assert "NOT YET: your recipe makes at most 5% errors" in out and "error on" in out


def test_the_design_check_reraises_on_the_stub():
    from helpers.checks import nb03

    with pytest.raises(NotImplementedError):
        nb03.check_mnist_design(stub, design_training)


def test_the_design_check_keeps_its_solution_and_grading_split_to_itself():
    from helpers.checks import nb03
    import inspect

    assert "test" not in (nb03.check_mnist_design.__doc__ or "")
    source = inspect.getsource(nb03)
    assert "4,402" not in source and "8-16-20" not in source and "784-6-10" not in source
