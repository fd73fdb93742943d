"""Model classes used by more than one notebook.

A notebook writes a model out in full where the idea is taught; afterwards it (and the later
notebooks) build the same thing from here.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn


class LinearClassifier(nn.Module):
    """One affine layer: logits = x W^T + b.

    Args:
        in_features: size D of each input vector.
        n_outputs: 1 for a binary classifier (one logit, use ``BCEWithLogitsLoss``),
            C for C classes (use ``CrossEntropyLoss``).
    Shapes:
        input (N, D) -> output (N, n_outputs)
    """

    def __init__(self, in_features: int, n_outputs: int = 1):
        super().__init__()
        self.linear = nn.Linear(in_features, n_outputs)

    def forward(self, x):
        return self.linear(x)


class MLP(nn.Module):
    """A multi-layer perceptron built from a list of layer sizes.

    ``MLP([2, 16, 16, 1])`` is Linear(2,16) -> ReLU -> Linear(16,16) -> ReLU -> Linear(16,1).
    Every hidden layer is ``Linear -> [BatchNorm1d] -> activation -> [Dropout]``; the last
    layer is a plain ``Linear`` that outputs logits.

    Args:
        layer_sizes: [input size, hidden sizes..., output size]; at least two entries.
        activation: module class used after each hidden layer (default ``nn.ReLU``).
        batch_norm: insert ``BatchNorm1d`` after each hidden ``Linear``.
        dropout: dropout probability after each hidden activation (0 = none).
        flatten: flatten each input to a vector first (lets images (N, C, H, W) go in directly).
    Shapes:
        input (N, layer_sizes[0]) (or (N, ...) with ``flatten``) -> output (N, layer_sizes[-1])
    """

    def __init__(self, layer_sizes: Sequence[int], activation: type[nn.Module] = nn.ReLU,
                 batch_norm: bool = False, dropout: float = 0.0, flatten: bool = False):
        super().__init__()
        if len(layer_sizes) < 2:
            raise ValueError(f"layer_sizes needs at least an input and an output size, got {list(layer_sizes)}")
        layers: list[nn.Module] = [nn.Flatten()] if flatten else []
        for n_in, n_out in zip(layer_sizes[:-2], layer_sizes[1:-1]):
            layers.append(nn.Linear(n_in, n_out))
            if batch_norm:
                layers.append(nn.BatchNorm1d(n_out))
            layers.append(activation())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(layer_sizes[-2], layer_sizes[-1]))
        self.layer_sizes = list(layer_sizes)
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) scalar parameters in ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
