"""Seeded, in-memory synthetic image sets: fast to make, exactly reproducible, no files.

The main generator, :func:`make_shapes`, draws one filled shape (circle, square or triangle)
per image, with its colour, size, position, the background and the pixel noise varying from
image to image. It returns the images together with everything that is known about them, so
one set serves a classification task (which shape?) and several regression tasks (how much
of the image does the shape cover? how bright is the image? what is it "worth"?).

>>> shapes = make_shapes(8, seed=0)
>>> shapes.images.shape, shapes.images.dtype
((8, 32, 32, 3), dtype('float32'))
>>> shapes.class_names
('circle', 'square', 'triangle')

Only NumPy is used: importing this module does not start TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_utils._validation import check_array, check_int, check_number

__all__ = ["SHAPE_NAMES", "ShapeSet", "make_shapes", "shape_prices", "to_uint8"]

#: The classes of :func:`make_shapes`, in label order: label 0 is a circle, and so on.
SHAPE_NAMES = ("circle", "square", "triangle")

#: Smallest and largest half-width of a shape, as fractions of the image side.
_SIZE_RANGE = (0.12, 0.32)


@dataclass(frozen=True)
class ShapeSet:
    """Images of shapes and what is known about each of them.

    Attributes
    ----------
    images : ndarray of shape (N, S, S, 3), float32
        RGB pixel values in [0, 1].
    labels : ndarray of shape (N,), int64
        Class index into ``class_names`` (0 circle, 1 square, 2 triangle).
    areas : ndarray of shape (N,), float32
        Pixels the shape covers (before noise), between about 2% and 40% of the image.
    coverage : ndarray of shape (N,), float32
        ``areas`` as a percentage of the image's pixels.
    brightness : ndarray of shape (N,), float32
        Mean of all pixel values of the final image, in [0, 1].
    centres : ndarray of shape (N, 2), float32
        (row, column) of each shape's centre, in pixels.
    half_widths : ndarray of shape (N,), float32
        Half the side of the shape's bounding square, in pixels.
    colours : ndarray of shape (N, 3), float32
        RGB colour of each shape.
    masks : ndarray of shape (N, S, S), bool
        Which pixels each image's shape covers (before noise): ``masks[i].sum() == areas[i]``.
        Attribution maps (Grad-CAM, saliency) are measured against it.
    class_names : tuple of str
        The names of the classes, in label order.
    """

    images: np.ndarray
    labels: np.ndarray
    areas: np.ndarray
    coverage: np.ndarray
    brightness: np.ndarray
    centres: np.ndarray
    half_widths: np.ndarray
    colours: np.ndarray
    masks: np.ndarray
    class_names: tuple = SHAPE_NAMES

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def _check_class_weights(class_weights) -> np.ndarray:
    """Return class sampling probabilities (summing to 1) from ``class_weights``."""
    hint = (
        f"Pass one non-negative number per class ({', '.join(SHAPE_NAMES)}), e.g. "
        "class_weights=(0.9, 0.05, 0.05) for a skewed set, or None for balanced classes."
    )
    if class_weights is None:
        return np.full(len(SHAPE_NAMES), 1 / len(SHAPE_NAMES))
    if isinstance(class_weights, str):
        raise TypeError(f"class_weights must hold numbers, got the string {class_weights!r}. {hint}")
    weights = check_array(class_weights, "class_weights", ndim=1, finite=True, hint=hint)
    weights = weights.astype(np.float64)
    if weights.shape[0] != len(SHAPE_NAMES):
        raise ValueError(
            f"class_weights has {weights.shape[0]} entries, but there are "
            f"{len(SHAPE_NAMES)} classes. {hint}"
        )
    if np.any(weights < 0) or weights.sum() <= 0:
        raise ValueError(f"class_weights must be non-negative and not all 0, got {weights}. {hint}")
    return weights / weights.sum()


def _shape_masks(labels, centres, half_widths, size: int) -> np.ndarray:
    """Boolean masks (N, size, size): which pixels each image's shape covers."""
    rows, cols = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    rows, cols = rows[None] + 0.5, cols[None] + 0.5  # pixel centres
    dy = rows - centres[:, 0, None, None]
    dx = cols - centres[:, 1, None, None]
    r = half_widths[:, None, None]
    circle = dx**2 + dy**2 <= r**2
    square = (np.abs(dx) <= r) & (np.abs(dy) <= r)
    # Upright isosceles triangle in the bounding square: apex at the top, base at the bottom.
    from_top = (dy + r) / (2 * r)  # 0 at the apex row, 1 at the base row
    triangle = (from_top >= 0) & (from_top <= 1) & (np.abs(dx) <= r * from_top)
    kind = labels[:, None, None]
    return np.where(kind == 0, circle, np.where(kind == 1, square, triangle))


def make_shapes(
    n: int,
    image_size: int = 32,
    seed: int = 0,
    class_weights=None,
    noise: float = 0.05,
) -> ShapeSet:
    """Make ``n`` images with one filled circle, square or triangle each.

    Every image gets a random class (see ``class_weights``), a random half-width between 12%
    and 32% of the image side, a random centre that keeps the shape inside the image, a
    random bright colour, a random dark grey background, and Gaussian pixel noise. The same
    arguments always give the same images.

    Parameters
    ----------
    n : int
        Number of images, 1 to 100,000.
    image_size : int, default=32
        Side of the square images in pixels, 16 to 128.
    seed : int, default=0
        Seed of the random generator. Use different seeds for training and test sets.
    class_weights : sequence of 3 float, optional
        Relative frequency of circles, squares and triangles, e.g. ``(0.9, 0.05, 0.05)``
        for an imbalanced set. Default: equally likely.
    noise : float, default=0.05
        Standard deviation of the Gaussian pixel noise, 0 to 0.5. Pixels are clipped to [0, 1].

    Returns
    -------
    ShapeSet
        The images, labels and per-image properties (area, coverage, brightness, ...), and
        the mask of the pixels each shape covers.

    Raises
    ------
    ValueError, TypeError
        If an argument is out of range or of the wrong type; the message names it.
    """
    n = check_int(n, "n", minimum=1, maximum=100_000, hint="It is the number of images.")
    image_size = check_int(
        image_size, "image_size", minimum=16, maximum=128, hint="Small images (32) train fast."
    )
    seed = check_int(seed, "seed", minimum=0, hint="Use e.g. seed=0 for training, 1 for test.")
    noise = check_number(noise, "noise", minimum=0.0, maximum=0.5, hint="0.05 is mild noise.")
    probabilities = _check_class_weights(class_weights)

    rng = np.random.default_rng(seed)
    labels = rng.choice(len(SHAPE_NAMES), size=n, p=probabilities).astype(np.int64)
    low, high = _SIZE_RANGE
    half_widths = rng.uniform(low, high, size=n) * image_size
    # Keep the whole bounding square inside the image, with one pixel to spare.
    margin = half_widths + 1
    centres = rng.uniform(margin[:, None], image_size - margin[:, None], size=(n, 2))
    colours = rng.uniform(0.45, 1.0, size=(n, 3))
    backgrounds = rng.uniform(0.0, 0.3, size=n)

    masks = _shape_masks(labels, centres, half_widths, image_size)
    images = np.where(masks[..., None], colours[:, None, None, :], backgrounds[:, None, None, None])
    if noise > 0:
        images = images + rng.normal(0.0, noise, size=images.shape)
    images = np.clip(images, 0.0, 1.0).astype(np.float32)

    areas = masks.sum(axis=(1, 2)).astype(np.float32)
    return ShapeSet(
        images=images,
        labels=labels,
        areas=areas,
        coverage=(100.0 * areas / image_size**2).astype(np.float32),
        brightness=images.mean(axis=(1, 2, 3)).astype(np.float32),
        centres=centres.astype(np.float32),
        half_widths=half_widths.astype(np.float32),
        colours=colours.astype(np.float32),
        masks=masks,
    )


#: Parameters of :func:`shape_prices`: a base price, a price per percent of coverage, and a
#: premium per shape (circle, square, triangle).
PRICE_BASE = 120_000.0
PRICE_PER_PERCENT = 12_000.0
PRICE_SHAPE_PREMIUM = (0.0, 60_000.0, 120_000.0)


def shape_prices(shapes: ShapeSet) -> np.ndarray:
    """A made-up "price" in the hundreds of thousands, computed from what the image shows.

    ``price = 120,000 + 12,000 * coverage + premium``, where ``coverage`` is the percentage of
    the image the shape covers and the premium is 0 for a circle, 60,000 for a square and
    120,000 for a triangle. Every image's price is visible in the image, so a CNN can learn it
    exactly; its large scale is the point (notebook 04).

    Parameters
    ----------
    shapes : ShapeSet
        What :func:`make_shapes` returned.

    Returns
    -------
    ndarray of shape (N,), float32
        Prices, roughly 140,000 to 720,000.
    """
    if not isinstance(shapes, ShapeSet):
        raise TypeError(
            f"shapes must be the ShapeSet that make_shapes returns, got {type(shapes).__name__}."
        )
    premium = np.asarray(PRICE_SHAPE_PREMIUM)[shapes.labels]
    prices = PRICE_BASE + PRICE_PER_PERCENT * shapes.coverage.astype(np.float64) + premium
    return prices.astype(np.float32)


def to_uint8(images) -> np.ndarray:
    """Turn float images in [0, 1] into the 0-255 ``uint8`` pixels a camera or PNG file gives.

    Parameters
    ----------
    images : array-like of float, values in [0, 1]

    Returns
    -------
    ndarray of uint8, same shape

    Raises
    ------
    ValueError
        If a value lies outside [0, 1] (the images are probably already on the 0-255 scale).
    """
    images = check_array(images, "images", finite=True)
    low, high = float(images.min()), float(images.max())
    if low < 0 or high > 1:
        raise ValueError(
            f"images must hold values in [0, 1], got values from {low:g} to {high:g}. "
            "Images already on the 0-255 scale need no conversion."
        )
    return np.round(images * 255).astype(np.uint8)
