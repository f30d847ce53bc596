"""The synthetic source task the course's pretrained backbone learned: 50 kinds of pattern.

No ImageNet weights can be downloaded where the course runs, so ``data_scripts/pretrain_backbone.py``
pretrains a small backbone on this task instead, and notebook 06 transfers it to real handwritten
digits. What makes features transfer is variety: the classes are filled shapes, outlines, strokes,
corners, curves, textures and made-up stroke characters, several of them at more than one orientation, each drawn with a
small random tilt and a random scale, position and stroke width, sharp or blurred, in a random
colour on a random background with a brightness gradient and pixel noise. To tell the classes
apart the backbone has to detect edges, line ends, corners, curvature, orientation and periodic
patterns regardless of colour, which is what recognising a digit needs too.

>>> patterns = make_source_task(40, seed=0)
>>> patterns.images.shape, patterns.images.dtype, len(patterns.class_names)
((40, 32, 32, 3), dtype('float32'), 50)

Only NumPy is used: importing this module does not start TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_utils._drawing import contrasting_colours, upsample_bilinear
from course_utils._validation import check_int, check_number

__all__ = ["PATTERN_NAMES", "PatternSet", "make_source_task"]

# Each class is a figure drawn at a base orientation, then turned by a small random angle. Many
# figures appear at several orientations as separate classes (a corner opening to the right is
# not one opening to the left), so the features keep the orientation information that, for
# example, tells a 6 from a 9. Only figures that look the same at every angle turn freely.
_PATTERNS = (
    # (class name, figure, base angle in degrees counter-clockwise; None = any angle)
    ("disc", "disc", None),
    ("ring", "ring", None),
    ("square", "square", 0),
    ("square outline", "square outline", 0),
    ("triangle up", "triangle", 0),
    ("triangle down", "triangle", 180),
    ("triangle outline", "triangle outline", 0),
    ("ellipse across", "ellipse", 0),
    ("ellipse upright", "ellipse", 90),
    ("plus", "plus", 0),
    ("cross", "plus", 45),
    ("bar across", "bar", 0),
    ("bar upright", "bar", 90),
    ("bar rising", "bar", 45),
    ("bar falling", "bar", 135),
    ("two bars", "two bars", 0),
    ("corner bottom left", "corner", 0),
    ("corner top left", "corner", 270),
    ("corner top right", "corner", 180),
    ("corner bottom right", "corner", 90),
    ("tee", "tee", 0),
    ("tee upside down", "tee", 180),
    ("cup", "half ring", 0),
    ("cap", "half ring", 180),
    ("open left", "half ring", 90),
    ("open right", "half ring", 270),
    ("crescent left", "crescent", 0),
    ("crescent right", "crescent", 180),
    ("star", "star", None),
    ("wave", "wave", 0),
    ("stripes across", "stripes", 90),
    ("stripes upright", "stripes", 0),
    ("checkerboard", "checkerboard", None),
    ("dot grid", "dot grid", None),
    ("target", "target", None),
)

# Glyphs: made-up characters, each a fixed set of 3 to 5 strokes between neighbouring points of a
# 3 x 3 grid, like the strokes of handwriting. The sets are drawn once from a fixed seed.
_GRID = (-0.75, 0.0, 0.75)
_STROKES = tuple(
    ((x0, y0), (x1, y1))
    for x0 in range(3)
    for y0 in range(3)
    for x1, y1 in ((x0 + 1, y0), (x0, y0 + 1), (x0 + 1, y0 + 1), (x0 + 1, y0 - 1))
    if 0 <= x1 < 3 and 0 <= y1 < 3
)
_GLYPH_COUNT = 15


def _glyph_strokes() -> tuple[tuple[int, ...], ...]:
    rng = np.random.default_rng(2024)
    glyphs: list[tuple[int, ...]] = []
    while len(glyphs) < _GLYPH_COUNT:
        strokes = tuple(sorted(rng.choice(len(_STROKES), size=rng.integers(3, 6), replace=False)))
        if strokes not in glyphs:
            glyphs.append(strokes)
    return tuple(glyphs)


_GLYPHS = _glyph_strokes()
_PATTERNS += tuple((f"glyph {k + 1}", f"glyph {k}", 0) for k in range(_GLYPH_COUNT))

#: The classes of :func:`make_source_task`, in label order.
PATTERN_NAMES = tuple(name for name, _, _ in _PATTERNS)

#: Largest random turn (degrees) of figures that have a base orientation.
MAX_TILT = 20.0

#: Share of images drawn at low resolution (a third to half the image side) and blown up to the full size, so
#: the backbone also learns soft, blurred edges such as those of scanned or upsampled images.
LOW_RESOLUTION_SHARE = 0.5


@dataclass(frozen=True)
class PatternSet:
    """Images of the source task and their labels.

    Attributes
    ----------
    images : ndarray of shape (N, S, S, 3), float32
        RGB pixel values in [0, 1].
    labels : ndarray of shape (N,), int64
        Class index into ``class_names``.
    class_names : tuple of str
        :data:`PATTERN_NAMES`.
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple = PATTERN_NAMES

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def _triangle(u, v, r_out):
    """Upright equilateral triangle with circumradius ``r_out``, centred at the origin."""
    # Inside all three half-planes whose inward normals point at 90, 210 and 330 degrees.
    inradius = r_out / 2
    inside = np.ones_like(u, dtype=bool)
    for angle in (np.pi / 2, np.pi * 7 / 6, np.pi * 11 / 6):
        inside &= -(u * np.cos(angle) + v * np.sin(angle)) <= inradius
    return inside


def _figure_mask(name: str, u, v, width, frequency):
    """Which pixels pattern ``name`` covers, given each pixel's coordinates in the figure's frame.

    Figures have radius 1 in that frame; textures ("stripes", "checkerboard", "dot grid") are
    unbounded and fill the whole image.

    ``u``, ``v`` : arrays (n, S, S) of rotated, scaled coordinates (the figure has radius 1).
    ``width`` : array (n, 1, 1), the stroke half-width in the same units.
    ``frequency`` : array (n, 1, 1), periods per unit length for textures.
    """
    r = np.hypot(u, v)
    w = width
    if name == "disc":
        return r <= 1
    if name == "ring":
        return np.abs(r - 0.8) <= w
    if name == "square":
        return np.maximum(np.abs(u), np.abs(v)) <= 0.75
    if name == "square outline":
        return np.abs(np.maximum(np.abs(u), np.abs(v)) - 0.7) <= w
    if name == "triangle":
        return _triangle(u, v, 1.0)
    if name == "triangle outline":
        return _triangle(u, v, 1.0) & ~_triangle(u, v, 1.0 - 4 * w)
    if name == "ellipse":
        return u**2 + (v / 0.55) ** 2 <= 1
    if name == "plus":
        return ((np.abs(u) <= w) & (np.abs(v) <= 1)) | ((np.abs(v) <= w) & (np.abs(u) <= 1))
    if name == "bar":
        return (np.abs(v) <= w) & (np.abs(u) <= 1)
    if name == "two bars":
        return (np.abs(np.abs(v) - 0.5) <= w) & (np.abs(u) <= 1)
    if name == "corner":
        return ((np.abs(u + 0.7) <= w) & (v >= -0.7 - w) & (v <= 1)) | (
            (np.abs(v + 0.7) <= w) & (u >= -0.7 - w) & (u <= 1)
        )
    if name == "tee":
        return ((np.abs(v - 0.8) <= w) & (np.abs(u) <= 1)) | ((np.abs(u) <= w) & (v <= 0.8) & (v >= -1))
    if name == "half ring":
        return (np.abs(r - 0.8) <= w) & (v <= 0)
    if name == "crescent":
        return (r <= 1) & (np.hypot(u - 0.55, v) > 0.8)
    if name == "star":
        theta = np.arctan2(v, u)
        return r <= 0.5 + 0.45 * np.cos(5 * theta)
    if name == "wave":
        return (np.abs(v - 0.45 * np.sin(np.pi * 1.5 * u)) <= w) & (np.abs(u) <= 1)
    if name == "stripes":
        return np.sin(2 * np.pi * frequency * u) > 0
    if name == "checkerboard":
        return np.sin(2 * np.pi * frequency * u) * np.sin(2 * np.pi * frequency * v) > 0
    if name == "dot grid":
        return np.cos(2 * np.pi * frequency * u) + np.cos(2 * np.pi * frequency * v) > 1.2
    if name.startswith("glyph "):
        covered = np.zeros_like(u, dtype=bool)
        for stroke in _GLYPHS[int(name.split()[1])]:
            (x0, y0), (x1, y1) = _STROKES[stroke]
            covered |= _near_segment(u, v, (_GRID[x0], _GRID[y0]), (_GRID[x1], _GRID[y1]), w)
        return covered
    if name == "target":
        return (np.sin(2 * np.pi * 1.5 * r) > 0) & (r <= 1)
    raise AssertionError(f"no drawing for pattern {name!r}")  # PATTERN_NAMES and this agree


def _near_segment(u, v, start, end, width):
    """Pixels within ``width`` of the segment from ``start`` to ``end`` (a stroke)."""
    (x0, y0), (x1, y1) = start, end
    dx, dy = x1 - x0, y1 - y0
    t = np.clip(((u - x0) * dx + (v - y0) * dy) / (dx * dx + dy * dy), 0, 1)
    return np.hypot(u - (x0 + t * dx), v - (y0 + t * dy)) <= width


def make_source_task(n: int, image_size: int = 32, seed: int = 0, noise: float = 0.06) -> PatternSet:
    """Make ``n`` images of the 50 patterns in :data:`PATTERN_NAMES`, balanced by class.

    Each image draws one pattern at its class's orientation turned by up to :data:`MAX_TILT`
    degrees either way (or at any angle, for figures that look alike at every angle), with a
    random radius (30% to 48% of the image side), centre, stroke width and texture frequency. Half
    of the images are drawn at a third to half the image side and enlarged, which blurs them. Colours are random
    (grey in a third of the images), and the figure and background differ in brightness by at
    least 0.25; a linear brightness gradient and Gaussian pixel noise are added. The same
    arguments always give the same images.

    Parameters
    ----------
    n : int
        Number of images, 1 to 200,000.
    image_size : int, default=32
        Side of the square images in pixels, 16 to 128.
    seed : int, default=0
        Seed of the random generator. Use different seeds for training and test sets.
    noise : float, default=0.06
        Standard deviation of the Gaussian pixel noise, 0 to 0.5. Pixels are clipped to [0, 1].

    Returns
    -------
    PatternSet
        The images and labels.

    Raises
    ------
    ValueError, TypeError
        If an argument is out of range or of the wrong type; the message names it.
    """
    n = check_int(n, "n", minimum=1, maximum=200_000, hint="It is the number of images.")
    image_size = check_int(
        image_size, "image_size", minimum=16, maximum=128, hint="The backbone expects 32."
    )
    seed = check_int(seed, "seed", minimum=0, hint="Use e.g. seed=0 for training, 1 for test.")
    noise = check_number(noise, "noise", minimum=0.0, maximum=0.5, hint="0.06 is mild noise.")

    rng = np.random.default_rng(seed)
    n_classes = len(PATTERN_NAMES)
    # Balanced: each class n // 50 or one more times, in random order.
    labels = rng.permutation(np.arange(n) % n_classes).astype(np.int64)
    base_angles = np.array([np.nan if a is None else a for _, _, a in _PATTERNS], dtype=float)
    free = np.isnan(base_angles[labels])
    tilts = rng.uniform(-MAX_TILT, MAX_TILT, size=n)
    # Negated: with rows growing downwards, a positive angle in the maths below turns clockwise.
    angles = -np.radians(np.where(free, rng.uniform(0, 360, size=n), base_angles[labels] + tilts))
    radii = rng.uniform(0.30, 0.48, size=n)
    centres = 0.5 + rng.uniform(-0.12, 0.12, size=(n, 2))  # as fractions of the image side
    widths = rng.uniform(0.10, 0.22, size=n)
    frequencies = rng.uniform(1.0, 2.2, size=n)
    low_resolution = rng.random(n) < LOW_RESOLUTION_SHARE
    draw_sizes = np.where(
        low_resolution, rng.integers(image_size // 3, image_size // 2 + 1, size=n), image_size
    )
    foreground, background = contrasting_colours(rng, n)
    grey = rng.random(n) < 1 / 3
    foreground[grey] = foreground[grey].mean(axis=1, keepdims=True)
    background[grey] = background[grey].mean(axis=1, keepdims=True)
    gradient_direction = rng.uniform(0, 2 * np.pi, size=n)
    gradient_strength = rng.uniform(0.0, 0.25, size=n)

    # How much of each pixel the figure covers: 0 or 1 when drawn at full size, soft in between
    # when drawn small and enlarged.
    cover = np.zeros((n, image_size, image_size), dtype=np.float64)
    for size in np.unique(draw_sizes):
        # Small drawings are sampled at twice their size and averaged 2 x 2 (anti-aliasing), so
        # thin strokes stay continuous instead of breaking up between pixel centres.
        samples = size if size == image_size else 2 * size
        pixel = (np.arange(samples) + 0.5) / samples
        rows, cols = np.meshgrid(pixel, pixel, indexing="ij")
        for label, (_, figure, _) in enumerate(_PATTERNS):
            idx = np.flatnonzero((labels == label) & (draw_sizes == size))
            if idx.size == 0:
                continue
            dy = (rows[None] - centres[idx, 0, None, None]) / radii[idx, None, None]
            dx = (cols[None] - centres[idx, 1, None, None]) / radii[idx, None, None]
            cos, sin = np.cos(angles[idx])[:, None, None], np.sin(angles[idx])[:, None, None]
            # Rows grow downwards, so -dy points up: v is "up" in the figure's own frame.
            u = cos * dx + sin * dy
            v = sin * dx - cos * dy
            mask = _figure_mask(
                figure, u, v, widths[idx, None, None], frequencies[idx, None, None]
            ).astype(np.float64)
            if size != image_size:
                mask = mask.reshape(idx.size, size, 2, size, 2).mean(axis=(2, 4))
                mask = upsample_bilinear(mask, image_size)
            cover[idx] = mask

    # A brightness gradient across the image: lighting a real photograph would have too.
    pixel = (np.arange(image_size) + 0.5) / image_size - 0.5
    rows, cols = np.meshgrid(pixel, pixel, indexing="ij")
    ramp = (
        np.cos(gradient_direction)[:, None, None] * cols[None]
        + np.sin(gradient_direction)[:, None, None] * rows[None]
    ) * gradient_strength[:, None, None]
    cover = cover[..., None]
    images = cover * foreground[:, None, None, :] + (1 - cover) * background[:, None, None, :]
    images = images + ramp[..., None]
    if noise > 0:
        images = images + rng.normal(0.0, noise, size=images.shape)
    images = np.clip(images, 0.0, 1.0).astype(np.float32)
    return PatternSet(images=images, labels=labels)
