"""Drawing helpers shared by the image generators, in NumPy (no TensorFlow needed)."""

from __future__ import annotations

import numpy as np


def upsample_bilinear(images: np.ndarray, size: int) -> np.ndarray:
    """Resize (N, h, w) images to (N, size, size) by bilinear interpolation at pixel centres."""
    n, height, width = images.shape

    def weights(old: int) -> np.ndarray:
        # Output pixel centres mapped into input pixel coordinates, clamped at the borders.
        position = np.clip((np.arange(size) + 0.5) * old / size - 0.5, 0, old - 1)
        low = np.floor(position).astype(int)
        high = np.minimum(low + 1, old - 1)
        matrix = np.zeros((size, old))
        matrix[np.arange(size), low] += 1 - (position - low)
        matrix[np.arange(size), high] += position - low
        return matrix

    rows, cols = weights(height), weights(width)
    return np.einsum("ih,nhw,jw->nij", rows, images, cols)


def contrasting_colours(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Random foreground and background colours whose mean brightness differs by >= 0.25."""
    foreground = rng.uniform(0, 1, size=(n, 3))
    background = rng.uniform(0, 1, size=(n, 3))
    # Redraw the pairs that are too alike; after a few rounds hardly any are left, and those
    # get a black or white background, whichever is further from their foreground.
    for _ in range(20):
        too_close = np.abs(foreground.mean(1) - background.mean(1)) < 0.25
        if not too_close.any():
            break
        background[too_close] = rng.uniform(0, 1, size=(int(too_close.sum()), 3))
    too_close = np.abs(foreground.mean(1) - background.mean(1)) < 0.25
    background[too_close] = np.where(foreground[too_close].mean(1, keepdims=True) >= 0.5, 0.0, 1.0)
    return foreground, background
