"""Transforms of the data, all in one place: features, normalisation, augmentation.

- features: :func:`polar_features` (notebook 01);
- normalisation: :func:`normalize_pixels` (MNIST: a fixed [-1, 1] scale), :func:`channel_stats` and
  :func:`normalize_images` (SVHN: per-channel statistics of the training split);
- augmentation of training batches: :func:`random_affine` (8x8 digits), :class:`RandomShift` (image
  batches).
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F


def polar_features(points: torch.Tensor) -> torch.Tensor:
    """Turn Cartesian (x, y) into polar (r, φ): (N, 2) points -> (N, 2).

    r = sqrt(x² + y²), φ = atan2(y, x) in (-π, π].
    """
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError("polar_features expects an (N, 2) tensor of points, got shape "
                         f"{tuple(points.shape)}")
    x, y = points[:, 0], points[:, 1]
    return torch.stack([torch.sqrt(x**2 + y**2), torch.atan2(y, x)], dim=1)


# --- normalisation --------------------------------------------------------------------------------


def normalize_pixels(images: torch.Tensor) -> torch.Tensor:
    """uint8 pixels p in 0..255, (N, 28, 28) -> float32 x = 2·p/255 - 1 in [-1, 1], (N, 1, 28, 28).

    The same as torchvision's ``ToTensor()`` (p/255) followed by ``Normalize(mean=0.5, std=0.5)``.
    """
    return (images.float() * (2 / 255) - 1).unsqueeze(1)


def channel_stats(images: torch.Tensor,
                  chunk_size: int = 8192) -> tuple[torch.Tensor, torch.Tensor]:
    """Return the per-channel mean and std, (C,) float32 each, of (N, C, H, W) pixels.

    The pixels are uint8 (scaled to [0, 1]) or float.

    Computed in chunks (sums of x and x² in float64), so the 73,257 uint8 training images are never
    converted to float all at once.
    """
    total = torch.zeros(images.shape[1], dtype=torch.float64)
    total_sq = torch.zeros_like(total)
    for start in range(0, len(images), chunk_size):
        chunk = images[start:start + chunk_size].double()
        if images.dtype == torch.uint8:
            chunk = chunk / 255
        total += chunk.sum(dim=(0, 2, 3))
        total_sq += (chunk ** 2).sum(dim=(0, 2, 3))
    count = images.shape[0] * images.shape[2] * images.shape[3]
    mean = total / count
    std = (total_sq / count - mean ** 2).clamp_min(0).sqrt()
    return mean.float(), std.float()


def normalize_images(images: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """Turn uint8 pixels (N, C, H, W) into float32 (p/255 - mean[c]) / std[c], as Normalize does."""
    return (images.float() / 255 - mean[:, None, None]) / std[:, None, None]


# --- augmentation ---------------------------------------------------------------------------------


def random_affine(pixels: torch.Tensor, degrees: float = 20.0, scale: float = 0.2,
                  shear: float = 0.3, shift: float = 1.0, ink: float = 0.3) -> torch.Tensor:
    """Randomly rotate, scale, shear, shift and lighten/darken each 8x8 digit of a batch on its own.

    Written out and explained in notebook 02; this copy is for scripts and later notebooks.
    ``pixels``: (N, 64) in [0, 1], 8x8 images read row by row -> (N, 64) in [0, 1]. Each amount is
    drawn uniformly in [-max, max] per image: rotation ``degrees``, relative zoom ``scale``,
    ``shear`` factor, ``shift`` in pixels, relative change of ``ink``. Draws from PyTorch's global
    generator (seed it for repeatable runs).
    """
    if pixels.ndim != 2 or pixels.shape[1] != 64:
        raise ValueError("random_affine expects (N, 64) batches of 8x8 images, got shape "
                         f"{tuple(pixels.shape)}")
    n = pixels.shape[0]
    images = pixels.reshape(n, 1, 8, 8)

    def uniform(limit, *size):
        return (torch.rand(n, *size) * 2 - 1) * limit

    angle, zoom, skew = uniform(math.radians(degrees)), 1 + uniform(scale), uniform(shear)
    cos, sin = torch.cos(angle), torch.sin(angle)
    # theta maps each output position to where it is read
    # from, in coordinates -1..1 (8 pixels = 2 units)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1] = cos / zoom, (skew * cos - sin) / zoom
    theta[:, 1, 0], theta[:, 1, 1] = sin / zoom, (skew * sin + cos) / zoom
    theta[:, :, 2] = uniform(shift * 2 / 8, 2)
    grid = F.affine_grid(theta, images.shape, align_corners=False)
    moved = F.grid_sample(images, grid, align_corners=False).reshape(n, 64)
    return (moved * (1 + uniform(ink, 1))).clamp(0, 1)


class RandomShift:
    """Shift every image of a batch by its own random offset of up to ``max_shift`` pixels.

    (N, C, H, W) -> the same shape, dtype and device; the offset is drawn in each direction.

    The same as torchvision's ``RandomCrop(32, padding=max_shift)``, but for a whole batch of
    tensors at once (one gather, no per-image Python), so it costs next to nothing on a CPU. Digits
    are never flipped: a mirrored 2 or 5 is not a digit. Pixels shifted in are ``fill`` (0 = the
    mean colour, once the images are normalised). ``generator``: for the offsets (default: torch's
    global one, seeded by ``seed_everything``). Use it as
    ``fit(..., batch_transform=RandomShift(2))``: it is applied to training batches only.
    """

    def __init__(self, max_shift: int = 2, fill: float = 0.0,
                 generator: torch.Generator | None = None):
        if max_shift < 0:
            raise ValueError(f"max_shift must be >= 0, got {max_shift}")
        self.max_shift, self.fill, self.generator = max_shift, fill, generator

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        if self.max_shift == 0:
            return images
        (n, _, height, width), s = images.shape, self.max_shift
        padded = torch.nn.functional.pad(images, (s, s, s, s), value=self.fill)
        offsets = torch.randint(0, 2 * s + 1, (2, n), generator=self.generator).to(images.device)
        # (N,1,H,1)
        rows = (torch.arange(height, device=images.device) + offsets[0][:, None])[:, None, :, None]
        # (N,1,1,W)
        cols = (torch.arange(width, device=images.device) + offsets[1][:, None])[:, None, None, :]
        batch = torch.arange(n, device=images.device)[:, None, None, None]
        channels = torch.arange(images.shape[1], device=images.device)[None, :, None, None]
        return padded[batch, channels, rows, cols]

    def __repr__(self) -> str:
        return f"RandomShift(max_shift={self.max_shift}, fill={self.fill})"
