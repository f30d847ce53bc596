"""Image files in one folder per class, the layout most real data sets come in, and reading them.

A learner's own data is usually a folder per class (``flowers/daisy/*.jpg``,
``flowers/tulip/*.jpg``), which ``keras.utils.image_dataset_from_directory`` turns into a labelled
``tf.data.Dataset``. The course makes its images in memory; :func:`write_class_folders` writes
them in that layout, as PNG files, so a notebook can show the loading step on files it made
itself, offline. :func:`epoch_throughput` measures how many images per second a dataset
delivers, one epoch after another, to compare input pipelines.

>>> counts = write_class_folders(images, labels, ("circle", "square"), folder)   # doctest: +SKIP
>>> counts
{'circle': 52, 'square': 48}

Writing uses Pillow only; TensorFlow is imported inside :func:`epoch_throughput`, so importing
this module does not start it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from course_utils._validation import check_array, check_int

__all__ = ["epoch_throughput", "write_class_folders"]

_CHANNELS_TO_MODE = {1: "L", 3: "RGB", 4: "RGBA"}


def _check_images(images) -> np.ndarray:
    """``images`` as uint8 (N, H, W, C) with C in 1, 3, 4; floats must lie in [0, 1]."""
    hint = (
        "Pass a batch of images of shape (N, height, width) or (N, height, width, channels) with "
        "1, 3 or 4 channels: floats in [0, 1] or whole numbers 0-255."
    )
    images = check_array(images, "images", ndim=(3, 4), finite=True, hint=hint)
    if images.ndim == 3:
        images = images[..., np.newaxis]
    if images.shape[-1] not in _CHANNELS_TO_MODE:
        raise ValueError(
            f"images have {images.shape[-1]} channels (shape {images.shape}); PNG files hold 1 "
            "(grey), 3 (RGB) or 4 (RGBA). Is the channel axis last?"
        )
    if images.shape[1] < 1 or images.shape[2] < 1:
        raise ValueError(f"images have no pixels (shape {images.shape}). {hint}")
    low, high = float(images.min()), float(images.max())
    if images.dtype.kind == "f":
        if low < 0 or high > 1:
            raise ValueError(
                f"float images must hold values in [0, 1], got values from {low:g} to {high:g}. "
                "Divide 0-255 pixels by 255, or pass them as uint8."
            )
        return np.round(images * 255).astype(np.uint8)
    if images.dtype.kind == "b" or low < 0 or high > 255:
        raise ValueError(
            f"whole-number images must hold values from 0 to 255, got dtype {images.dtype} with "
            f"values from {low:g} to {high:g}. {hint}"
        )
    return images.astype(np.uint8)


def _check_class_names(class_names) -> tuple[str, ...]:
    hint = "Pass one folder name per class, e.g. class_names=('circle', 'square', 'triangle')."
    if isinstance(class_names, str) or not hasattr(class_names, "__iter__"):
        raise TypeError(f"class_names must be a list of names, got {class_names!r}. {hint}")
    names = tuple(class_names)
    if not names:
        raise ValueError(f"class_names is empty. {hint}")
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise TypeError(f"each class name must be a non-empty string, got {name!r}. {hint}")
        if name in (".", "..") or "/" in name or "\\" in name or name.startswith("."):
            raise ValueError(
                f"class name {name!r} cannot be a folder name inside the directory (no '/', "
                f"'\\', and no leading '.'). {hint}"
            )
    if len(set(names)) != len(names):
        repeated = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"class_names must be unique, got {repeated} more than once. {hint}")
    return names


def _check_labels(labels, count: int, num_classes: int) -> np.ndarray:
    hint = f"Pass one whole-number label per image, from 0 to {num_classes - 1} (an index into class_names)."
    labels = check_array(labels, "labels", ndim=1, allow_empty=True, hint=hint)
    if labels.dtype.kind == "f":
        if not np.all(np.isfinite(labels)) or not np.all(labels == np.round(labels)):
            raise ValueError(f"labels must be whole numbers, got {labels[:5]}... {hint}")
    elif labels.dtype.kind not in "iu":
        raise TypeError(f"labels must be whole numbers, got dtype {labels.dtype}. {hint}")
    if labels.shape[0] != count:
        raise ValueError(f"there are {count} images but {labels.shape[0]} labels. {hint}")
    labels = labels.astype(np.int64)
    bad = labels[(labels < 0) | (labels >= num_classes)]
    if bad.size:
        raise ValueError(
            f"labels must lie between 0 and {num_classes - 1} ({num_classes} class names), got "
            f"{int(bad[0])}. {hint}"
        )
    return labels


def _check_directory(directory) -> Path:
    if not isinstance(directory, str | os.PathLike) or not str(directory):
        raise TypeError(
            f"directory must be a folder path (str or pathlib.Path), got {directory!r}; e.g. "
            "pathlib.Path(tempfile.mkdtemp()) / 'shapes'."
        )
    folder = Path(directory)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"directory {folder.name!r} exists and is a file, not a folder.")
    if folder.is_dir():
        entries = sorted(entry.name for entry in folder.iterdir())
        if entries:
            shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
            raise FileExistsError(
                f"directory {folder.name!r} is not empty (it holds {len(entries)} entries: {shown}). "
                "Files already there would be read as images of the data set too: write into a "
                "new or empty folder (e.g. one made by tempfile.mkdtemp()), or delete this one first."
            )
    return folder


def write_class_folders(images, labels, class_names, directory, *, prefix: str = "image") -> dict[str, int]:
    """Write images as PNG files into one sub-folder per class, the layout Keras loads.

    Image ``i`` goes to ``directory / class_names[labels[i]] / f"{prefix}_{i:05d}.png"``. Every
    class gets its folder, even one without images, so the folder names are exactly
    ``class_names``. Nothing is written unless every argument is valid.

    Parameters
    ----------
    images : array-like of shape (N, H, W) or (N, H, W, C), C in {1, 3, 4}
        Floats in [0, 1] (as the course's generators make them; rounded to 0-255) or whole
        numbers 0-255.
    labels : array-like of int, shape (N,)
        Class index of each image, 0 to ``len(class_names) - 1``.
    class_names : sequence of str
        Unique folder names, in label order.
    directory : str or os.PathLike
        A folder that does not exist yet or is empty; it is created (with its parents). A folder
        that holds anything is refused rather than mixed with or written over.
    prefix : str, default="image"
        Start of every file name.

    Returns
    -------
    dict
        ``{class name: number of files written}``, in the order of ``class_names``.

    Raises
    ------
    TypeError, ValueError
        If an argument is of the wrong type or out of range; the message names it.
    FileExistsError
        If ``directory`` exists and is not empty.
    NotADirectoryError
        If ``directory`` is a file.
    """
    from PIL import Image

    names = _check_class_names(class_names)
    pixels = _check_images(images)
    labels = _check_labels(labels, pixels.shape[0], len(names))
    if not isinstance(prefix, str):
        raise TypeError(f"prefix must be a string (the start of every file name), got {prefix!r}.")
    if not prefix or "/" in prefix or "\\" in prefix:
        raise ValueError(f"prefix must be a non-empty file-name start without '/' or '\\', got {prefix!r}.")
    folder = _check_directory(directory)

    counts = dict.fromkeys(names, 0)
    for name in names:
        (folder / name).mkdir(parents=True, exist_ok=True)
    for index, (image, label) in enumerate(zip(pixels, labels, strict=True)):
        name = names[label]
        data = image[..., 0] if image.shape[-1] == 1 else image  # Pillow infers L, RGB or RGBA
        Image.fromarray(data).save(folder / name / f"{prefix}_{index:05d}.png")
        counts[name] += 1
    return counts


_EXPECTED_ELEMENTS = (
    "epoch_throughput reads datasets of images, or of (images, labels) pairs, with images of shape "
    "(height, width, channels) one at a time or (batch, height, width, channels) in batches"
)


def _images_rank(spec) -> int:
    """4 for batched images, 3 for single ones; refuses any other ``element_spec``."""
    import tensorflow as tf

    images = spec[0] if isinstance(spec, tuple | list) and spec else spec
    if not isinstance(images, tf.TensorSpec):
        raise TypeError(
            f"{_EXPECTED_ELEMENTS}; this dataset's elements are {spec!r}. For a dataset of dicts, "
            "map it to a tuple first: dataset.map(lambda d: (d['image'], d['label']))."
        )
    rank = images.shape.rank
    channels = images.shape[-1] if rank else None
    if rank not in (3, 4) or (rank == 3 and channels is not None and channels not in (1, 3, 4)):
        raise ValueError(
            f"{_EXPECTED_ELEMENTS} (channels 1, 3 or 4); this dataset's images have shape "
            f"{tuple(images.shape) if rank is not None else 'of unknown rank'}. Grey images need a channel axis: map images to "
            "images[..., tf.newaxis]."
        )
    return rank


def _count_images(element, rank: int) -> int:
    """Images in one dataset element: the batch's length, or 1 for a single image."""
    images = element[0] if isinstance(element, tuple | list) else element
    return int(images.shape[0]) if rank == 4 else 1


def epoch_throughput(dataset, epochs: int = 3) -> np.ndarray:
    """Images per second that ``dataset`` delivers in each of ``epochs`` full passes.

    Every element is read (nothing is trained), so the numbers measure the input pipeline alone:
    reading and decoding files, resizing, caching, prefetching. A pipeline with ``cache()``
    fills its cache during the first pass, so compare the passes after it.

    Parameters
    ----------
    dataset : tf.data.Dataset
        Elements ``(images, labels)``, or images alone, with images batched, of shape
        (batch, height, width, channels), or single, of shape (height, width, channels), with 1, 3
        or 4 channels (checked on ``dataset.element_spec`` before anything is read). It must be
        finite (no ``repeat()`` without a count).
    epochs : int, default=3
        Number of passes, 1 to 100.

    Returns
    -------
    ndarray of shape (epochs,)
        Images per second of each pass, in order.

    Raises
    ------
    TypeError, ValueError
        If ``dataset`` is not a finite ``tf.data.Dataset`` of images shaped as above, or
        ``epochs`` is not a whole number from 1 to 100.
    """
    import tensorflow as tf

    if not isinstance(dataset, tf.data.Dataset):
        raise TypeError(
            f"dataset must be a tf.data.Dataset, got {type(dataset).__name__}; e.g. what "
            "keras.utils.image_dataset_from_directory returns."
        )
    epochs = check_int(epochs, "epochs", minimum=1, maximum=100, hint="Use e.g. epochs=3.")
    if dataset.cardinality() == tf.data.INFINITE_CARDINALITY:
        raise ValueError("dataset repeats forever (repeat() without a count), so an epoch never ends.")
    rank = _images_rank(dataset.element_spec)
    rates = []
    for _ in range(epochs):
        started, count = time.perf_counter(), 0
        for element in dataset:
            count += _count_images(element, rank)
        rates.append(count / max(time.perf_counter() - started, 1e-9))
    return np.asarray(rates)
