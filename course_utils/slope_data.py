"""The slope data set of notebook 05: a bar through the centre at an angle, plus noise dots.

The images reproduce the geometry of the Stack Exchange question the notebook starts from
(seed 001): a plot window of -10..10 units, a bar 18 units long and 1 unit thick through the
centre, rotated counter-clockwise by an angle drawn uniformly from [0, 180) degrees, and 50
round noise dots. One deliberate difference: the question anchored its two ``Rectangle``
patches at a corner, so its bar lay beside the centre line, one bar width off; here the bar is
centred on the line, so the image depends only on the line and 0 and 180 degrees give the same
image, which is what the angle of a line means. The question drew each image with a matplotlib figure; here NumPy draws
them directly (anti-aliased by pixel coverage), which is many times faster, so notebooks can
generate thousands of images in memory in about a second.

The ways in:

* :func:`draw_slope_image` draws one image for a given angle;
* :func:`make_slope_images` makes a whole in-memory data set, deterministically per seed;
* :func:`load_slope_folder` reads a folder written by ``data_scripts/make_slope_dataset.py``
  (PNG files named ``sample0001_angle_10088.png`` for 100.88 degrees, and ``manifest.csv``),
  or a folder of the question's own files, where the test images share the folder under a
  prefix (``test_sample0000_angle_02156.png``): ``prefix=`` chooses the set;
* :func:`write_question_png` writes one file the way the question did: a matplotlib figure of
  5 x 5 inches saved at 20 dpi (100 x 100 RGBA pixels, axes frame included).

Angles are multiples of 0.01 degree, so a file name carries the exact label of its image.
"""

from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path

import numpy as np

from course_utils._validation import check_int, check_number

__all__ = [
    "DEFAULT_IMAGE_SIZE",
    "DEFAULT_DOTS",
    "MIN_IMAGE_SIZE",
    "MANIFEST_NAME",
    "INCOMPLETE_MARKER",
    "BUILD_COMMAND",
    "SlopeDataError",
    "draw_slope_image",
    "sample_angle",
    "sample_rng",
    "make_slope_images",
    "file_name_for",
    "angle_from_file_name",
    "sha256_of",
    "read_manifest",
    "file_prefix",
    "load_slope_folder",
    "slope_dataset",
    "write_question_png",
]

#: Image side in pixels of the question's code: figsize=(5, 5) at dpi=20.
DEFAULT_IMAGE_SIZE = 100
#: Noise dots per image, as in the question.
DEFAULT_DOTS = 50
#: Below this the bar is only a few pixels long and the angle is not recoverable.
MIN_IMAGE_SIZE = 16
#: Written last by the data script: every file with its angle and SHA-256 checksum.
MANIFEST_NAME = "manifest.csv"
MANIFEST_FIELDS = ("file", "angle", "sha256")
#: Written first and removed last by the data script: while it exists, a run has not finished
#: (it may have been interrupted), whatever PNG files the folder already holds.
INCOMPLETE_MARKER = "INCOMPLETE"
#: The command that builds the default folder, named in errors.
BUILD_COMMAND = "python data_scripts/make_slope_dataset.py --out data/slope"

# Geometry in the question's plot units: the window spans -LIM..LIM on both axes.
_LIM = 10.0
_HALF_LENGTH = _LIM - 1.0  # Rectangle((0, 0), lim - 1, 1) and its mirror (-(lim - 1))
_THICKNESS = 1.0
# scatter(s=100): a marker 10 points across; at dpi 20 that is 2.78 px on an axes of ~77 px
# showing 20 units, i.e. about 0.72 units.
_DOT_RADIUS = 0.36

_NAME_PATTERN = re.compile(r"^(?P<prefix>.*?)sample(?P<index>\d+)_angle_(?P<centi>\d+)\.png$")


class SlopeDataError(ValueError):
    """A slope data folder is missing, incomplete or holds a file that cannot be used."""


def _check_size(image_size) -> int:
    return check_int(
        image_size,
        "image_size",
        minimum=MIN_IMAGE_SIZE,
        maximum=1024,
        hint=f"Use a side length in pixels between {MIN_IMAGE_SIZE} and 1024, e.g. 32 or 100.",
    )


def _check_dots(dots) -> int:
    return check_int(dots, "dots", minimum=0, hint="It is the number of noise dots, e.g. 50.")


def _check_dot_xy(dot_xy) -> np.ndarray:
    """``dot_xy`` as a float array of shape (n, 2), finite; None means no dots."""
    if dot_xy is None:
        return np.zeros((0, 2))
    fix = "one (x, y) row per dot; from two arrays of coordinates, pass np.column_stack([xs, ys])"
    try:
        array = np.asarray(dot_xy, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"dot_xy must be an array of numbers of shape (n, 2), {fix}; got {dot_xy!r} "
            f"of type {type(dot_xy).__name__} ({error})."
        ) from None
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(f"dot_xy must have shape (n, 2), {fix}; got shape {array.shape}.")
    bad = ~np.isfinite(array).all(axis=1)
    if bad.any():
        row = int(np.argmax(bad))
        raise ValueError(
            f"dot_xy must hold finite coordinates; row {row} is {tuple(array[row].tolist())} "
            f"({int(bad.sum())} of {len(array)} rows have NaN or infinity)."
        )
    return array


def _coverage(signed_distance: np.ndarray) -> np.ndarray:
    """Fraction of a pixel inside a shape, from the signed distance (in pixels) of its centre."""
    return np.minimum(np.maximum(0.5 - signed_distance, 0.0), 1.0)


def _bar_distance(x, y, cos: float, sin: float) -> np.ndarray:
    """Signed distance (plot units) of points to the bar: |along| <= 9, |across| <= 1/2."""
    dx = np.abs(x * cos + y * sin) - _HALF_LENGTH
    dy = np.abs(y * cos - x * sin) - _THICKNESS / 2
    inside = np.minimum(np.maximum(dx, dy), 0.0)
    return np.hypot(np.maximum(dx, 0.0), np.maximum(dy, 0.0)) + inside


def _draw_bar(ink: np.ndarray, angle: float, pixel: float) -> None:
    """Add the bar to ``ink`` in place.

    Only a narrow band of pixels around the bar's centre line is evaluated: one short run of
    pixels per column (a flat bar) or per row (a steep bar). That is the generator's hot loop.
    """
    size = ink.shape[0]
    theta = np.deg2rad(angle)
    cos, sin = np.cos(theta), np.sin(theta)
    steep = abs(sin) > abs(cos)
    major = np.arange(size)
    major_centre = (major + 0.5) * pixel - _LIM  # x of each column, or -y of each row
    # Where the bar's centre line (across = 0) meets each column (or row), in pixel units.
    if steep:  # x = y cos / sin for each row's y
        minor_centre = (-major_centre) * cos / sin
        minor_pixel = (minor_centre + _LIM) / pixel - 0.5
        slope = abs(sin)
    else:  # y = x sin / cos for each column's x
        minor_centre = major_centre * sin / cos
        minor_pixel = (_LIM - minor_centre) / pixel - 0.5
        slope = abs(cos)
    half_band = int(np.ceil(_THICKNESS / (2 * slope * pixel) + 2))
    band = np.arange(-half_band, half_band + 1)
    minor = np.round(minor_pixel).astype(int)[:, None] + band[None, :]  # (size, band)
    major = np.broadcast_to(major[:, None], minor.shape)
    if steep:
        rows, cols = major, minor
    else:
        rows, cols = minor, major
    x = (cols + 0.5) * pixel - _LIM
    y = _LIM - (rows + 0.5) * pixel
    cover = _coverage(_bar_distance(x, y, cos, sin) / pixel)
    keep = (minor >= 0) & (minor < size) & (cover > 0)
    # each (row, col) occurs once in the band, so plain assignment is safe
    ink[rows[keep], cols[keep]] = np.maximum(ink[rows[keep], cols[keep]], cover[keep])


def _stamp_dots(ink: np.ndarray, dot_xy: np.ndarray, pixel: float) -> None:
    """Add round dots to ``ink`` in place, touching only a small window around each dot."""
    size = ink.shape[0]
    reach = int(np.ceil(_DOT_RADIUS / pixel + 1.0))  # pixels a dot can touch from its centre
    offsets = np.arange(-reach, reach + 1)
    col0 = np.floor((dot_xy[:, 0] + _LIM) / pixel).astype(int)  # pixel holding each centre
    row0 = np.floor((_LIM - dot_xy[:, 1]) / pixel).astype(int)
    rows = row0[:, None, None] + offsets[None, :, None]  # (dots, window, 1)
    cols = col0[:, None, None] + offsets[None, None, :]  # (dots, 1, window)
    dx = (cols + 0.5) * pixel - _LIM - dot_xy[:, 0, None, None]
    dy = _LIM - (rows + 0.5) * pixel - dot_xy[:, 1, None, None]
    cover = _coverage((np.hypot(dx, dy) - _DOT_RADIUS) / pixel)
    keep = (cover > 0) & (rows >= 0) & (rows < size) & (cols >= 0) & (cols < size)
    rows, cols, cover = (np.broadcast_to(a, keep.shape)[keep] for a in (rows, cols, cover))
    # Overlapping dots hit a pixel more than once. With the indices sorted by coverage, the
    # last (largest) write wins, which is np.maximum.at's result at a fraction of its cost.
    order = np.argsort(cover, kind="stable")
    rows, cols, cover = rows[order], cols[order], cover[order]
    ink[rows, cols] = np.maximum(ink[rows, cols], cover)


def draw_slope_image(
    angle: float,
    dot_xy=None,
    image_size: int = DEFAULT_IMAGE_SIZE,
) -> np.ndarray:
    """Draw one image: a black bar at ``angle`` degrees and black dots on white.

    Parameters
    ----------
    angle : float
        Counter-clockwise angle of the bar in degrees (as matplotlib's ``Rectangle(angle=)``).
    dot_xy : array-like of shape (n, 2), optional
        Centres of the noise dots in plot units (-10..10, y pointing up). None draws no dots.
    image_size : int, default=100
        Side of the square image in pixels.

    Returns
    -------
    numpy.ndarray of shape (image_size, image_size), dtype uint8
        255 is white background, 0 is ink.
    """
    angle = check_number(angle, "angle", hint="It is in degrees, e.g. 100.88.")
    image_size = _check_size(image_size)
    dot_xy = _check_dot_xy(dot_xy)

    pixel = 2 * _LIM / image_size  # plot units per pixel
    ink = np.zeros((image_size, image_size), dtype=np.float32)
    _draw_bar(ink, angle, pixel)
    if len(dot_xy):
        _stamp_dots(ink, dot_xy, pixel)
    return np.round(255.0 * (1.0 - ink)).astype(np.uint8)


def sample_rng(seed: int, index: int) -> np.random.Generator:
    """The random generator of sample ``index`` of data set ``seed``.

    Each sample has its own stream, so any subset of a data set can be (re)made alone and
    comes out identical: an interrupted run resumes without changing what it already wrote.
    """
    return np.random.default_rng([seed, index])


def sample_angle(rng: np.random.Generator) -> float:
    """An angle uniform in [0, 180) degrees, truncated to 0.01 degree like the file names."""
    return int(rng.uniform(0.0, 180.0) * 100) / 100


def _sample(seed: int, index: int, image_size: int, dots: int) -> tuple[np.ndarray, float]:
    rng = sample_rng(seed, index)
    angle = sample_angle(rng)
    dot_xy = rng.uniform(-_LIM, _LIM, size=(dots, 2))
    return draw_slope_image(angle, dot_xy, image_size), angle


def make_slope_images(
    count: int,
    image_size: int = DEFAULT_IMAGE_SIZE,
    dots: int = DEFAULT_DOTS,
    seed: int = 0,
    start: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Generate ``count`` slope images in memory.

    Parameters
    ----------
    count : int
        Number of images.
    image_size : int, default=100
        Side length in pixels.
    dots : int, default=50
        Noise dots per image.
    seed : int, default=0
        Data-set seed. Image ``i`` depends only on ``(seed, start + i)``.
    start : int, default=0
        Index of the first sample, so ``make_slope_images(10, start=5)`` equals samples 5-14.

    Returns
    -------
    images : numpy.ndarray of shape (count, image_size, image_size, 1), dtype uint8
        0-255 grey values, one channel.
    angles : numpy.ndarray of shape (count,), dtype float32
        The bar's angle in degrees, in [0, 180).
    """
    count = check_int(count, "count", minimum=1, hint="Ask for at least one image.")
    image_size = _check_size(image_size)
    dots = _check_dots(dots)
    seed = check_int(seed, "seed", minimum=0)
    start = check_int(start, "start", minimum=0)
    images = np.empty((count, image_size, image_size, 1), dtype=np.uint8)
    angles = np.empty(count, dtype=np.float32)
    for i in range(count):
        images[i, ..., 0], angles[i] = _sample(seed, start + i, image_size, dots)
    return images, angles


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def file_name_for(index: int, angle: float, prefix: str = "") -> str:
    """File name of sample ``index``, as in the question: ``sample0001_angle_10088.png``."""
    index = check_int(index, "index", minimum=0)
    angle = check_number(angle, "angle", minimum=0.0, maximum=180.0)
    return f"{prefix}sample{index:04}_angle_{round(angle * 100):05}.png"


def angle_from_file_name(name) -> float:
    """Angle in degrees encoded in a file name such as ``sample0001_angle_10088.png``.

    Raises
    ------
    SlopeDataError
        If the name does not follow the pattern; the message names the file.
    """
    base = Path(name).name
    match = _NAME_PATTERN.match(base)
    if not match:
        raise SlopeDataError(
            f"cannot read an angle from the file name {base!r}: expected names like "
            "'sample0001_angle_10088.png' (the angle times 100 after '_angle_'). Move other "
            "files out of the folder, or rebuild it with "
            f"`{BUILD_COMMAND}`."
        )
    return int(match.group("centi")) / 100


def file_prefix(name) -> str:
    """What comes before ``sample`` in a file name: ``""`` for ``sample0001_angle_10088.png``,
    ``"test_"`` for ``test_sample0042_angle_00005.png``.

    Raises
    ------
    SlopeDataError
        If the name does not follow the pattern; the message names the file.
    """
    angle_from_file_name(name)  # the same pattern, and its error for a name that does not fit
    return _NAME_PATTERN.match(Path(name).name).group("prefix")


def sha256_of(path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_manifest(folder) -> list[dict]:
    """Rows of ``folder/manifest.csv`` as dicts with ``file`` (str), ``angle`` (float), ``sha256``.

    Raises
    ------
    SlopeDataError
        If the manifest lacks a column or holds a row that cannot be read.
    """
    path = Path(folder) / MANIFEST_NAME
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = set(MANIFEST_FIELDS) - set(reader.fieldnames or ())
        if missing:
            raise SlopeDataError(
                f"{path} lacks the column(s) {sorted(missing)}; delete it and rebuild the "
                f"folder with `{BUILD_COMMAND}`."
            )
        rows = []
        for line, row in enumerate(reader, start=2):
            try:
                rows.append({"file": row["file"], "angle": float(row["angle"]),
                             "sha256": row["sha256"]})  # fmt: skip
            except (TypeError, ValueError) as err:
                raise SlopeDataError(f"{path}, line {line}: unreadable row {row!r} ({err}).") from err
    return rows


def _read_png(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.load()
            if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
                # A transparent pixel shows the white page behind it (matplotlib's
                # savefig(transparent=True) leaves the background transparent).
                rgba = image.convert("RGBA")
                image = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
            return np.asarray(image.convert("L"))
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as err:
        raise SlopeDataError(
            f"cannot read the image {path.name} in {path.parent} ({type(err).__name__}: {err}). "
            "The file is corrupt or truncated: delete it and run the data script again "
            f"(`{BUILD_COMMAND}` with the same options); it redraws missing files."
        ) from err


def load_slope_folder(
    folder, *, prefix: str | None = None, verify: bool = True
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read a slope data folder into arrays.

    With a manifest, the files and angles come from it (and with ``verify`` each file's
    SHA-256 is compared); without one, every ``*.png`` is read and its angle parsed from its
    name, sorted by file name. Colour and RGBA files (such as matplotlib's) are read as grey
    values, transparent pixels as white.

    A folder may hold several sets told apart by what comes before ``sample`` in the names,
    as the question's folder did: ``sample0000_angle_11465.png`` for training and
    ``test_sample0000_angle_02156.png`` for testing. Such a folder is refused unless
    ``prefix`` says which set to read, so test images never slip into a training set unseen.

    Parameters
    ----------
    folder : str or path
        A folder written by ``data_scripts/make_slope_dataset.py``, or any folder of PNG files
        named like ``sample0001_angle_10088.png`` (with an optional prefix).
    prefix : str, optional
        Read only the files whose names start with ``prefix`` followed by ``sample``: ``""`` for
        ``sample...`` files, ``"test_"`` for ``test_sample...`` files. None (the default)
        reads every file, and refuses a folder that holds more than one prefix.
    verify : bool, default=True
        Compare each file's checksum with the manifest's.

    Returns
    -------
    images : numpy.ndarray of shape (N, H, W, 1), dtype uint8
    angles : numpy.ndarray of shape (N,), dtype float32
    files : list of str
        The file names, in the order of the arrays.

    Raises
    ------
    FileNotFoundError
        If the folder does not exist (the message names the command that builds it).
    SlopeDataError
        If a file is missing, corrupt, of another size, fails its checksum, or has a name
        without an angle; the message names the file. Also if the data script's run that writes
        the folder has not finished (an ``INCOMPLETE`` marker file is present), if the folder
        mixes prefixes and ``prefix`` is None, or if no file has the given ``prefix`` (the
        messages list the prefixes found and how many files each has).
    """
    if not isinstance(folder, (str, Path)):
        raise TypeError(f"folder must be a path, got {folder!r} of type {type(folder).__name__}.")
    if prefix is not None and not isinstance(prefix, str):
        raise TypeError(
            f"prefix must be a string or None, got {prefix!r} of type {type(prefix).__name__}. "
            'Use prefix="" for files named sample...png, prefix="test_" for test_sample...png.'
        )
    if not isinstance(verify, bool):
        raise TypeError(f"verify must be True or False, got {verify!r}.")
    folder = Path(folder)
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        raise FileNotFoundError(
            f"the slope data folder {str(folder)!r} {what}. Build it with "
            f"`python data_scripts/make_slope_dataset.py --out {folder}` "
            "(add --count, --image-size and --seed as needed)."
        )
    if (folder / INCOMPLETE_MARKER).exists():
        raise SlopeDataError(
            f"the slope data folder {str(folder)!r} is incomplete: the data script that writes it "
            f"did not finish (its {INCOMPLETE_MARKER} file is still there). Run "
            f"`python data_scripts/make_slope_dataset.py --out {folder}` again with the same "
            "options; it keeps the finished images and writes the rest."
        )
    if (folder / MANIFEST_NAME).exists():
        rows = read_manifest(folder)
        for row in rows:
            name_angle = angle_from_file_name(row["file"])
            if abs(name_angle - row["angle"]) > 0.005:
                raise SlopeDataError(
                    f"{row['file']}: the manifest says {row['angle']} degrees but the file name "
                    f"says {name_angle}. Rebuild the folder with `{BUILD_COMMAND}`."
                )
    else:
        files = sorted(p.name for p in folder.glob("*.png"))
        rows = [{"file": name, "angle": angle_from_file_name(name), "sha256": None} for name in files]
    if not rows:
        raise SlopeDataError(
            f"the folder {str(folder)!r} holds no slope images. Build it with "
            f"`python data_scripts/make_slope_dataset.py --out {folder}`."
        )
    rows = _rows_with_prefix(rows, prefix, folder)

    images = []
    for row in rows:
        path = folder / row["file"]
        if not path.is_file():
            raise SlopeDataError(
                f"{row['file']} is listed in {MANIFEST_NAME} but missing from {folder}. Run "
                f"the data script again with --out {folder} to redraw it."
            )
        if verify and row["sha256"] is not None and sha256_of(path) != row["sha256"]:
            raise SlopeDataError(
                f"{row['file']} in {folder} does not match its checksum in {MANIFEST_NAME}: the "
                "file changed or is truncated. Delete it and run the data script again."
            )
        image = _read_png(path)
        if images and image.shape != images[0].shape:
            raise SlopeDataError(
                f"{row['file']} is {image.shape[1]}x{image.shape[0]} pixels but "
                f"{rows[0]['file']} is {images[0].shape[1]}x{images[0].shape[0]}; a folder must "
                "hold one image size."
            )
        images.append(image)
    return (
        np.stack(images)[..., np.newaxis],
        np.array([row["angle"] for row in rows], dtype=np.float32),
        [row["file"] for row in rows],
    )


def _describe_prefixes(counts: dict) -> str:
    return ", ".join(
        f"{count} file{'s' if count != 1 else ''} named {name!r}"
        for name, count in ((f"{p}sample...png", c) for p, c in sorted(counts.items()))
    )


def _rows_with_prefix(rows: list[dict], prefix, folder: Path) -> list[dict]:
    """The rows of one prefix; all rows if ``prefix`` is None and the folder has one prefix."""
    counts: dict[str, int] = {}
    for row in rows:
        key = file_prefix(row["file"])
        counts[key] = counts.get(key, 0) + 1
    choices = " or ".join(f"load_slope_folder(folder, prefix={p!r})" for p in sorted(counts))
    if prefix is None:
        if len(counts) > 1:
            raise SlopeDataError(
                f"the folder {str(folder)!r} mixes {len(counts)} sets of images: "
                f"{_describe_prefixes(counts)}. Read one set at a time, {choices}, so that "
                "test images do not end up among the training images."
            )
        return rows
    if prefix not in counts:
        raise SlopeDataError(
            f"no file in {str(folder)!r} has the prefix {prefix!r} (a name like "
            f"{prefix + 'sample0000_angle_10088.png'!r}); the folder holds "
            f"{_describe_prefixes(counts)}. Use {choices}."
        )
    return [row for row in rows if file_prefix(row["file"]) == prefix]


def write_question_png(path, angle: float, dot_xy=None) -> Path:
    """Write one image as the question did: a matplotlib figure saved as a 100 x 100 RGBA PNG.

    The figure is 5 x 5 inches, saved at 20 dpi, with the plot window -10..10 on both axes, the
    axes frame drawn and the ticks hidden; the bar (18 x 1 units, centred, as in
    :func:`draw_slope_image`) and the dots (``scatter`` markers of size 100) are black. Use it
    to try the loader on files like the question's; the course's own data come from
    :func:`make_slope_images` and the data script, which are much faster.

    Parameters
    ----------
    path : str or path
        The PNG file to write; its folder must exist. Name it with :func:`file_name_for` so the
        loader can read the angle back.
    angle : float
        Counter-clockwise angle of the bar in degrees.
    dot_xy : array-like of shape (n, 2), optional
        Centres of the noise dots in plot units, one finite ``(x, y)`` row per dot (from two
        arrays of coordinates: ``np.column_stack([xs, ys])``). None draws no dots.

    Raises
    ------
    TypeError
        If ``path`` is not a path, ``angle`` not a number, or ``dot_xy`` not numbers.
    ValueError
        If ``dot_xy`` is not of shape (n, 2) or holds NaN or infinity.
    FileNotFoundError
        If the folder of ``path`` does not exist.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a file path, got {path!r} of type {type(path).__name__}.")
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"the folder {str(path.parent)!r} does not exist; create it first.")
    angle = check_number(angle, "angle", hint="It is in degrees, e.g. 100.88.")
    dot_xy = _check_dot_xy(dot_xy)

    figure = Figure(figsize=(5, 5))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.set_xlim(-_LIM, _LIM)
    axes.set_ylim(-_LIM, _LIM)
    axes.add_patch(Rectangle((-_HALF_LENGTH, -_THICKNESS / 2), 2 * _HALF_LENGTH, _THICKNESS,
                             angle=angle, rotation_point="center", facecolor="k"))  # fmt: skip
    if len(dot_xy):
        axes.scatter(dot_xy[:, 0], dot_xy[:, 1], s=100, c="k")
    axes.set_aspect("equal")
    axes.get_xaxis().set_visible(False)
    axes.get_yaxis().set_visible(False)
    figure.savefig(path, dpi=20)
    return path


def slope_dataset(images, angles, batch_size: int = 32, shuffle: bool = True, seed: int = 0):
    """A ``tf.data.Dataset`` of ``(float32 image batch, float32 angle batch)`` pairs.

    Pixels stay on the 0-255 scale (scaling is part of the lesson, so it belongs to the model).

    Parameters
    ----------
    images : array-like of shape (N, H, W, 1)
    angles : array-like of shape (N,)
    batch_size : int, default=32
    shuffle : bool, default=True
        Reshuffle every epoch, reproducibly from ``seed``.
    seed : int, default=0
    """
    import tensorflow as tf

    from course_utils._validation import check_array

    images = check_array(images, "images", ndim=4, hint="Pass the images load_slope_folder returns.")
    angles = check_array(angles, "angles", ndim=1, finite=True)
    if len(images) != len(angles):
        raise ValueError(
            f"images holds {len(images)} images but angles holds {len(angles)} values; pass one "
            "angle per image."
        )
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    if not isinstance(shuffle, bool):
        raise TypeError(f"shuffle must be True or False, got {shuffle!r}.")
    seed = check_int(seed, "seed", minimum=0)
    dataset = tf.data.Dataset.from_tensor_slices(
        (images.astype(np.float32), angles.astype(np.float32))
    )
    if shuffle:
        dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)
