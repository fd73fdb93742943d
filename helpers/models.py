"""Model classes used by more than one notebook.

A notebook writes a model out in full where the idea is taught; afterwards it (and the later
notebooks) build the same thing from here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn


class LinearClassifier(nn.Module):
    """One affine layer: logits = x W^T + b, (N, in_features) -> (N, n_outputs).

    ``n_outputs``: 1
    for a binary classifier (one logit, use ``BCEWithLogitsLoss``), C for C classes (use
    ``CrossEntropyLoss``)."""

    def __init__(self, in_features: int, n_outputs: int = 1):
        super().__init__()
        self.linear = nn.Linear(in_features, n_outputs)

    def forward(self, x):
        return self.linear(x)


class MLP(nn.Module):
    """A multi-layer perceptron built from ``layer_sizes``: [input, hidden sizes..., output].

    ``MLP([784, 128, 10])`` is Linear(784,128) -> ReLU -> Linear(128,10): every hidden layer is
    ``Linear -> [BatchNorm1d if batch_norm] -> activation -> [Dropout if dropout > 0]``, the last a
    plain ``Linear`` that outputs logits. Input (N, layer_sizes[0]) -> output (N, layer_sizes[-1]);
    with ``flatten``, any (N, ...) input is flattened first (images (N, C, H, W) go in directly).
    """

    def __init__(self, layer_sizes: Sequence[int], activation: type[nn.Module] = nn.ReLU,
                 batch_norm: bool = False, dropout: float = 0.0, flatten: bool = False):
        super().__init__()
        if len(layer_sizes) < 2:
            raise ValueError("layer_sizes needs at least an input and an output size, got "
                             f"{list(layer_sizes)}")
        layers: list[nn.Module] = [nn.Flatten()] if flatten else []
        for n_in, n_out in zip(layer_sizes[:-2], layer_sizes[1:-1]):
            layers.append(nn.Linear(n_in, n_out))
            if batch_norm:
                layers.append(nn.BatchNorm1d(n_out))
            layers.append(activation())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(layer_sizes[-2], layer_sizes[-1]))
        self.layer_sizes, self.flatten = list(layer_sizes), flatten
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        n_in = self.layer_sizes[0]
        if x.ndim < 2 or (x.ndim > 2 and not self.flatten) or math.prod(x.shape[1:]) != n_in:
            _wrong_shape(self, x, f"(N, {n_in})"
                         + (f" or (N, ...) with {n_in} values per sample" if self.flatten
                            else "; images need flatten=True or a reshape first"))
        return self.net(x)


def _wrong_shape(model: nn.Module, x: torch.Tensor, expected: str) -> None:
    raise ValueError(f"{type(model).__name__} expects inputs of shape {expected}, got "
                     f"{tuple(x.shape)}. Print the shape of the batch you give it "
                     "(images: channels, height and width; vectors: length).")


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) scalar parameters in ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def print_layer_table(model: nn.Module, input_shape: Sequence[int]) -> None:
    """Print every layer of ``model`` (modules without sub-modules), its output shape, parameters.

    Notebook 03 writes the idea out (``trace_shapes``: a forward hook on every layer). One zero
    tensor of ``input_shape``, e.g. ``(1, 3, 32, 32)``, runs through the model in eval mode; the
    hooks are always removed.
    """
    rows, hooks = [], []
    for name, module in model.named_modules():
        if not list(module.children()):
            hooks.append(module.register_forward_hook(
                lambda module, inputs, output, name=name: rows.append(
                    (name, type(module).__name__, tuple(output.shape), count_parameters(module)))))
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(*input_shape))
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    print(f"{'layer':<16}{'type':<20}{'output shape':<20}{'parameters':>10}")
    print(f"{'(input)':<16}{'':<20}{str(tuple(input_shape)):<20}{0:>10}")
    for name, kind, shape, n_params in rows:
        print(f"{name:<16}{kind:<20}{str(shape):<20}{n_params:>10,}")
    print(f"{'total':<56}{count_parameters(model):>10,}")


class CNN(nn.Module):
    """A plain convolutional classifier: conv blocks, a global pool, one linear layer.

    ``CNN([8, 16, 32])`` on (N, 1, 28, 28) images is::

        Conv(1->8, 3x3, pad 1) -> ReLU -> MaxPool 2   # (N, 8, 14, 14)
        Conv(8->16, 3x3, pad 1) -> ReLU -> MaxPool 2  # (N, 16, 7, 7)
        Conv(16->32, 3x3, pad 1) -> ReLU -> MaxPool 2 # (N, 32, 3, 3)
        AdaptiveMaxPool 1x1 -> Flatten                # (N, 32)
        Linear(32 -> 10)                              # (N, 10) logits

    Each block (``channels``: the output channels of each) is ``convs_per_block`` times ``Conv ->
    [BatchNorm2d if batch_norm] -> activation`` (2 gives VGG-style blocks), then max pooling,
    skipped once the feature map is down to 1x1 -- so the same model works on 8x8 digits, 28x28
    MNIST and 32x32 SVHN. Kernels are square, odd, padded to keep the size. ``global_pool``
    (``"max"`` or ``"avg"``) reduces the last map to one vector; then an optional ``hidden`` dense
    layer, dropout (if ``dropout`` > 0) and the output layer. Input (N, in_channels, H, W) -> output
    (N, n_classes).
    """

    def __init__(self, channels: Sequence[int], in_channels: int = 1, n_classes: int = 10,
                 kernel_size: int = 3, convs_per_block: int = 1, batch_norm: bool = False,
                 activation: type[nn.Module] = nn.ReLU, global_pool: str = "max",
                 dropout: float = 0.0, hidden: int | None = None):
        super().__init__()
        if not channels:
            raise ValueError("channels needs at least one block, e.g. [8, 16, 32]")
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size must be odd (padding keeps the size), got {kernel_size}")
        if global_pool not in ("max", "avg"):
            raise ValueError(f"global_pool must be 'max' or 'avg', got {global_pool!r}")
        self.channels, self.in_channels = list(channels), in_channels
        blocks, n_in = [], in_channels
        for n_out in channels:
            layers: list[nn.Module] = []
            for _ in range(convs_per_block):
                # with batch norm the conv bias is redundant (BN subtracts the mean): leave it out
                layers.append(nn.Conv2d(n_in, n_out, kernel_size, padding=kernel_size // 2,
                                        bias=not batch_norm))
                if batch_norm:
                    layers.append(nn.BatchNorm2d(n_out))
                layers.append(activation())
                n_in = n_out
            layers.append(nn.MaxPool2d(2))   # skipped on a 1-pixel map (see forward)
            blocks.append(nn.Sequential(*layers))
        self.features = nn.Sequential(*blocks)
        pool = nn.AdaptiveMaxPool2d(1) if global_pool == "max" else nn.AdaptiveAvgPool2d(1)
        head: list[nn.Module] = [pool, nn.Flatten()]
        if hidden:
            head += [nn.Linear(n_in, hidden), activation()]
            n_in = hidden
        if dropout > 0:
            head.append(nn.Dropout(dropout))
        head.append(nn.Linear(n_in, n_classes))
        self.classifier = nn.Sequential(*head)

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            _wrong_shape(self, x, f"(N, {self.in_channels}, H, W)")
        for block in self.features:
            for layer in block:
                # a map already 1 pixel high or wide is not pooled again (8x8 digits, deep stacks)
                if not (isinstance(layer, nn.MaxPool2d) and min(x.shape[-2:]) < 2):
                    x = layer(x)
        return self.classifier(x)


# --- notebook 03: the best MNIST models found there (notebook 05 rebuilds them) -------------------


def mnist_best_mlp() -> MLP:
    """Return notebook 03's best MLP: 784-512-512-10 with BatchNorm after each hidden layer.

    671,754 parameters. Recipe used there: Adam with a one-cycle learning rate (max 3e-3, stepped
    every batch), batch size 128, 6 epochs on 55,000 training images. Input (N, 1, 28, 28) -> output
    (N, 10) logits."""
    return MLP([784, 512, 512, 10], batch_norm=True, flatten=True)


def mnist_best_cnn(channels_last: bool = True) -> nn.Sequential:
    """Return notebook 03's fast CNN (212,986 parameters), a small network that pools early.

    Its layers::

        Conv 5x5 (1->16, no padding)  -> MaxPool 2 -> BatchNorm -> ReLU   # (N, 16, 12, 12)
        Conv 3x3 (16->32, no padding) -> MaxPool 2 -> BatchNorm -> ReLU   # (N, 32, 5, 5)
        Flatten -> Linear(800 -> 256) -> BatchNorm -> ReLU -> Linear(256 -> 10)

    The network of the public speed recipe tuomaso/train_mnist_fast (kernels of 5x5 and 3x3,
    pooling straight after each convolution, 800->256->10) with 16 first-layer kernels instead of
    its 24 (a third less convolution and pooling work per image), and batch norm after every
    layer but the last (the biases before it are left out: BN subtracts the mean). Pooling before
    batch norm makes BN and ReLU work on a quarter of the pixels; it is a different model from
    ``Conv -> BN -> ReLU -> MaxPool`` (BN's statistics are those of the pooled maps). Its recipe
    is ``helpers.recipes.MNIST_FAST_RECIPE`` (``mnist_fast_optimizer``). ``channels_last``
    stores the conv weights in NHWC order, several times faster for CPU pooling
    (``scripts/benchmark_speed.py`` measures it against the speed recipe). Input (N, 1, 28, 28)
    -> output (N, 10) logits.
    """
    model = nn.Sequential(
        nn.Conv2d(1, 16, 5, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(16), nn.ReLU(),
        nn.Conv2d(16, 32, 3, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(32), nn.ReLU(),
        nn.Flatten(), nn.Linear(800, 256, bias=False), nn.BatchNorm1d(256), nn.ReLU(),
        nn.Linear(256, 10))
    return model.to(memory_format=torch.channels_last) if channels_last else model

