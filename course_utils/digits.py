"""scikit-learn's handwritten digits as small RGB images, and few-shot training subsets.

The 1,797 digits (8 x 8 pixels, 0-16 grey levels, from the UCI optical recognition data set)
ship inside scikit-learn, so loading them needs no network. Notebook 06 upsamples them to the
32 x 32 RGB input of the course's pretrained backbone.

>>> digits = load_digit_images()
>>> digits.images.shape, digits.images.dtype, int(digits.images.max())
((1797, 32, 32, 3), dtype('float32'), 1)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_utils._drawing import contrasting_colours, upsample_bilinear
from course_utils._validation import check_array, check_int

__all__ = ["DigitImages", "few_shot_indices", "load_digit_images"]


@dataclass(frozen=True)
class DigitImages:
    """The digits as images.

    Attributes
    ----------
    images : ndarray of shape (1797, S, S, 3), float32
        Ink is bright, paper is dark, values in [0, 1]; the three channels are equal.
    labels : ndarray of shape (1797,), int64
        The digit, 0 to 9.
    """

    images: np.ndarray
    labels: np.ndarray


def load_digit_images(image_size: int = 32, varied: bool = False, seed: int = 0) -> DigitImages:
    """scikit-learn's 1,797 handwritten digits as ``(N, image_size, image_size, 3)`` images.

    Parameters
    ----------
    image_size : int, default=32
        Side of the returned images, 8 (the original) to 128. Larger sizes are interpolated
        bilinearly.
    varied : bool, default=False
        ``False``: each digit fills the image, bright ink on black, as scanned. ``True``: as a
        camera might see it: each digit enlarged to a random 40% to 90% of the image side, at a
        random position, in a random ink colour on a random paper colour (their brightness
        differs by at least 0.25), with a brightness gradient and pixel noise. Same digits and
        labels, in the same order.
    seed : int, default=0
        Seed of the variations (ignored when ``varied`` is False).

    Returns
    -------
    DigitImages
    """
    image_size = check_int(
        image_size, "image_size", minimum=8, maximum=128, hint="The backbone expects 32."
    )
    if not isinstance(varied, bool):
        raise TypeError(f"varied must be True or False, got {varied!r}.")
    seed = check_int(seed, "seed", minimum=0)
    from sklearn.datasets import load_digits

    digits = load_digits()
    grey = digits.images.astype(np.float64) / 16.0  # 0-16 grey levels -> [0, 1]
    labels = digits.target.astype(np.int64)
    if varied:
        return DigitImages(images=_vary(grey, image_size, seed), labels=labels)
    if image_size != grey.shape[1]:
        grey = upsample_bilinear(grey, image_size)
    rgb = np.repeat(np.clip(grey, 0, 1)[..., None], 3, axis=-1).astype(np.float32)
    return DigitImages(images=rgb, labels=labels)


def _vary(grey: np.ndarray, image_size: int, seed: int) -> np.ndarray:
    """Place each 8 x 8 digit at a random size and position, with random colours and noise."""
    rng = np.random.default_rng(seed)
    n = grey.shape[0]
    sizes = rng.integers(round(0.4 * image_size), round(0.9 * image_size) + 1, size=n)
    ink_share = np.zeros((n, image_size, image_size))
    for size in np.unique(sizes):
        idx = np.flatnonzero(sizes == size)
        enlarged = upsample_bilinear(grey[idx], int(size))
        tops = rng.integers(0, image_size - size + 1, size=idx.size)
        lefts = rng.integers(0, image_size - size + 1, size=idx.size)
        for i, top, left, digit in zip(idx, tops, lefts, enlarged, strict=True):
            ink_share[i, top : top + size, left : left + size] = digit
    ink, paper = contrasting_colours(rng, n)
    ink_share = np.clip(ink_share, 0, 1)[..., None]
    images = ink_share * ink[:, None, None, :] + (1 - ink_share) * paper[:, None, None, :]
    pixel = (np.arange(image_size) + 0.5) / image_size - 0.5
    direction = rng.uniform(0, 2 * np.pi, size=n)[:, None, None]
    ramp = np.cos(direction) * pixel[None, None, :] + np.sin(direction) * pixel[None, :, None]
    images = images + (ramp * rng.uniform(0, 0.25, size=n)[:, None, None])[..., None]
    images = images + rng.normal(0, 0.05, size=images.shape)
    return np.clip(images, 0, 1).astype(np.float32)


def few_shot_indices(labels, per_class: int, seed: int = 0) -> np.ndarray:
    """Indices of a training subset with exactly ``per_class`` examples of every class.

    Subsets are nested: for the same labels and seed, the subset for 10 per class contains the
    one for 5 per class, so a larger budget only ever adds examples.

    Parameters
    ----------
    labels : array-like of int, shape (N,)
        The labels of the pool to draw from.
    per_class : int
        Examples to take of each class; at most the size of the smallest class.
    seed : int, default=0
        Seed of the draw.

    Returns
    -------
    ndarray of int, shape (per_class * number_of_classes,)
        Sorted indices into ``labels``.
    """
    labels = check_array(labels, "labels", ndim=1, finite=True)
    if labels.size == 0 or not np.all(labels == np.round(labels)):
        raise ValueError(
            "labels must be a non-empty 1-D array of whole-number class labels, "
            f"got {labels[:5]!r}{'...' if labels.size > 5 else ''}."
        )
    per_class = check_int(per_class, "per_class", minimum=1, hint="e.g. 5, 10, 20 or 50.")
    seed = check_int(seed, "seed", minimum=0)
    classes, counts = np.unique(labels, return_counts=True)
    if per_class > counts.min():
        scarcest = classes[np.argmin(counts)]
        raise ValueError(
            f"per_class={per_class} is more than class {scarcest:g} has ({counts.min()} examples). "
            "Ask for fewer per class or draw from a larger pool."
        )
    rng = np.random.default_rng(seed)
    chosen = [rng.permutation(np.flatnonzero(labels == c))[:per_class] for c in classes]
    return np.sort(np.concatenate(chosen))
