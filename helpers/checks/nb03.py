"""Notebook 03 (MNIST, MLPs and CNNs): the MLP builder, convolution output sizes, parameter formulas."""

from collections.abc import Callable

import torch
from torch import nn

from helpers.checks.core import (Verdict, all_of, check_loss_decreases, check_nonlinear, check_output_shape,
                                 check_parameter_count, returned, run)
from helpers.models import count_parameters


def check_mnist_mlp(make_mlp: Callable) -> Verdict:
    """``make_mlp(layer_sizes, batch_norm)`` builds Flatten -> [Linear -> (BN) -> ReLU]... -> Linear."""
    def build(layer_sizes, batch_norm=False):
        def make():  # fixed initial weights (the same printed losses in every run); run() keeps the stream as it was
            torch.manual_seed(0)
            return make_mlp(layer_sizes, batch_norm=batch_norm)
        return make

    def logits_can_be_negative():
        model = returned(build([784, 32, 10])(), nn.Module, call="make_mlp([784, 32, 10])").eval()
        with torch.no_grad():
            outputs = model(torch.randn(64, 1, 28, 28, generator=torch.Generator().manual_seed(0)))
        return bool((outputs < 0).any()), "" if (outputs < 0).any() else "all outputs are >= 0"

    small, name = build([784, 32, 10]), "make_mlp([784, 32, 10])"
    inputs = torch.randn(32, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    return all_of(
        lambda: check_output_shape(small, (5, 1, 28, 28), (5, 10), name=name,
                                   hint="flatten the (N, 1, 28, 28) images to (N, 784) first (nn.Flatten())"),
        lambda: check_parameter_count(small, 784 * 32 + 32 + 32 * 10 + 10, "(784·32 + 32) + (32·10 + 10)", name=name),
        lambda: check_parameter_count(build([784, 512, 512, 10], batch_norm=True),
                                      (784 * 512 + 512) + 2 * 512 + (512 * 512 + 512) + 2 * 512 + (512 * 10 + 10),
                                      "(784·512 + 512) + 2·512 + (512·512 + 512) + 2·512 + (512·10 + 10)",
                                      name="make_mlp([784, 512, 512, 10], batch_norm=True)"),
        lambda: check_nonlinear(small, 784, name=name),
        lambda: run("the last layer gives logits", "no activation after the last nn.Linear: logits can be negative, "
                    "and CrossEntropyLoss applies the softmax itself", logits_can_be_negative),
        lambda: check_loss_decreases(small, nn.CrossEntropyLoss(), inputs, torch.arange(32) % 10, name=name),
    )


def check_conv_output_size(conv_output_size: Callable) -> Verdict:
    """``conv_output_size(size, kernel_size, stride, padding)`` = floor((size + 2p - k) / s) + 1."""
    cases = [((28, 8, 2, 0), 11), ((28, 3, 1, 1), 28), ((28, 5, 1, 0), 24), ((28, 3, 2, 0), 13),
             ((14, 2, 2, 0), 7), ((7, 3, 2, 1), 4), ((28, 5, 2, 2), 14), ((5, 5, 1, 0), 1)]

    def test():
        for (size, kernel, stride, padding), expected in cases:
            got = conv_output_size(size, kernel, stride, padding)
            if not isinstance(got, int) or got != expected:
                return False, (f"conv_output_size({size}, {kernel}, {stride}, {padding}) returned {got!r}, "
                               f"expected {expected}")
        return True, f"on {len(cases)} known layers"
    return run("conv_output_size gives the right sizes", "floor((size + 2·padding - kernel_size) / stride) + 1, "
               "as an int: use // for the division", test)


def check_layer_parameters(expected_parameters: Callable) -> Verdict:
    """``expected_parameters(layer)`` gives the formula count of Linear, Conv2d and BatchNorm layers."""
    def test():  # (the layers are made in here: run() keeps their random initialisation out of the notebook's stream)
        layers = [nn.Linear(784, 32), nn.Linear(512, 10, bias=False), nn.Conv2d(1, 10, 8, stride=2),
                  nn.Conv2d(16, 32, 3, padding=1, bias=False), nn.Conv2d(3, 8, (3, 5)), nn.BatchNorm1d(512),
                  nn.BatchNorm2d(16)]
        for layer in layers:
            got = expected_parameters(layer)
            if got != count_parameters(layer):
                return False, f"for {layer} it returned {got!r}; the layer has {count_parameters(layer)}"
        return True, f"on {len(layers)} layers, with and without biases"
    return run("expected_parameters matches the layers", "Linear: in·out + out; Conv2d: k_h·k_w·C_in·C_out + "
               "C_out; BatchNorm: 2·C (a scale and a shift per channel); no bias term when layer.bias is None", test)
