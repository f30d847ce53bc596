"""The course's pretrained convolutional backbone: its architecture, its card, and safe loading.

``data_scripts/pretrain_backbone.py`` trains :func:`build_backbone` on the synthetic patterns of
:mod:`course_utils.source_task` and saves it in ``course_utils/pretrained/`` with a card (a JSON
file) that records what it was trained on, for how long, how well it did, the command that
reproduces it, and the file's SHA-256 checksum. :func:`load_pretrained_backbone` refuses a file
whose checksum differs from its card's, and loads with Keras's safe mode, which refuses to run
code stored in a model file (``Lambda`` layers).

TensorFlow and Keras are imported inside the functions that need them, so importing this module
is cheap.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from course_utils._validation import check_int

__all__ = [
    "BACKBONE_FILENAME",
    "BackboneIntegrityError",
    "PRETRAINED_DIR",
    "build_backbone",
    "card_path",
    "file_sha256",
    "load_backbone_card",
    "load_pretrained_backbone",
]

#: Where the shipped backbone and its card live (installed with the package).
PRETRAINED_DIR = Path(__file__).resolve().parent / "pretrained"
#: File name of the shipped backbone inside :data:`PRETRAINED_DIR`.
BACKBONE_FILENAME = "patterns_backbone.keras"

#: Filters of the Conv-BN-ReLU blocks; each block ends with 2x2 max pooling.
BLOCK_FILTERS = (16, 32, 64)

_REBUILD = "python3.11 course.py setup && .venv/bin/python data_scripts/pretrain_backbone.py"


class BackboneIntegrityError(ValueError):
    """A backbone file does not match the checksum on its card (changed, damaged or replaced)."""


def build_backbone(image_size: int = 32, name: str = "patterns_backbone"):
    """The backbone's architecture, untrained: three Conv-BN-ReLU blocks and global pooling.

    Block ``b`` (1 to 3) has two 3x3 convolutions with :data:`BLOCK_FILTERS` ``[b - 1]`` filters,
    each followed by batch normalisation (momentum 0.9) and ReLU, then 2x2 max pooling. The layers are named
    ``block{b}_conv{i}``, ``block{b}_bn{i}``, ``block{b}_relu{i}`` and ``block{b}_pool``, so a
    fine-tuning loop can unfreeze the top block by name.

    Parameters
    ----------
    image_size : int, default=32
        Side of the square RGB input images (pixel values in [0, 1]), 16 to 128.
    name : str, default="patterns_backbone"
        Name of the Keras model.

    Returns
    -------
    keras.Model
        Maps images ``(batch, image_size, image_size, 3)`` to features ``(batch, 64)``.
    """
    image_size = check_int(image_size, "image_size", minimum=16, maximum=128, hint="Use 32.")
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty string, got {name!r}.")
    import keras

    inputs = keras.Input(shape=(image_size, image_size, 3), name="images")
    x = inputs
    for block, filters in enumerate(BLOCK_FILTERS, start=1):
        for i in (1, 2):
            # No bias: batch normalisation's shift (beta) does its job.
            x = keras.layers.Conv2D(
                filters, 3, padding="same", use_bias=False, name=f"block{block}_conv{i}"
            )(x)
            # Momentum 0.9, not Keras's 0.99: the moving statistics then settle within a few
            # dozen steps, which a short training on a few labelled images needs.
            x = keras.layers.BatchNormalization(momentum=0.9, name=f"block{block}_bn{i}")(x)
            x = keras.layers.ReLU(name=f"block{block}_relu{i}")(x)
        x = keras.layers.MaxPooling2D(2, name=f"block{block}_pool")(x)
    features = keras.layers.GlobalAveragePooling2D(name="features")(x)
    return keras.Model(inputs, features, name=name)


def file_sha256(path) -> str:
    """Hex SHA-256 checksum of the file at ``path``."""
    path = _existing_file(path, "path")
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def card_path(backbone_path) -> Path:
    """The card that belongs to a backbone file: the same name with ``.json`` instead of ``.keras``."""
    backbone_path = Path(backbone_path)
    if backbone_path.suffix != ".keras":
        raise ValueError(
            f"A backbone file ends in .keras, got {str(backbone_path)!r}. Pass the path of the "
            "saved model, e.g. course_utils/pretrained/patterns_backbone.keras."
        )
    return backbone_path.with_suffix(".json")


def load_backbone_card(path=None) -> dict:
    """Read the card of a backbone file (by default the shipped one).

    Returns
    -------
    dict
        At least ``sha256``, ``trained_on``, ``source_test_accuracy``, ``training_seconds`` and
        ``command``.
    """
    path = _backbone_path(path)
    card_file = _existing_file(card_path(path), "the backbone's card")
    try:
        card = json.loads(card_file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BackboneIntegrityError(
            f"The card {card_file} is not valid JSON ({error}). Restore it with "
            f"`git checkout -- {card_file.name}` in its folder, or rebuild both files with `{_REBUILD}`."
        ) from None
    if not isinstance(card, dict) or not isinstance(card.get("sha256"), str):
        raise BackboneIntegrityError(
            f"The card {card_file} has no 'sha256' entry, so {path.name} cannot be verified. "
            f"Rebuild both files with `{_REBUILD}`."
        )
    return card


def load_pretrained_backbone(path=None, *, trainable: bool = False):
    """Load a backbone saved by ``data_scripts/pretrain_backbone.py``, after verifying it.

    The file's SHA-256 checksum must equal the one on its card, and the model is loaded with
    ``keras.saving.load_model(..., safe_mode=True)``, which refuses to deserialise code.

    Parameters
    ----------
    path : str or Path, optional
        A ``.keras`` file with its ``.json`` card beside it. Default: the backbone shipped in
        ``course_utils/pretrained/``.
    trainable : bool, default=False
        Whether the loaded layers are trainable. Frozen (``False``) is what feature extraction
        and the first phase of fine-tuning need.

    Returns
    -------
    keras.Model

    Raises
    ------
    FileNotFoundError
        If the file or its card is missing.
    BackboneIntegrityError
        If the checksum does not match the card: the file was changed, damaged or replaced.
    """
    if not isinstance(trainable, bool):
        raise TypeError(f"trainable must be True or False, got {trainable!r}.")
    path = _backbone_path(path)
    card = load_backbone_card(path)
    actual = file_sha256(path)
    if actual != card["sha256"]:
        raise BackboneIntegrityError(
            f"{path} has SHA-256 {actual}, but its card says {card['sha256']}: the file was "
            "changed or damaged since it was made, so it is not loaded. Restore the shipped file "
            f"with `git checkout -- {path.name}` in its folder, or rebuild it and its card with "
            f"`{_REBUILD}`."
        )
    import keras

    model = keras.saving.load_model(path, compile=False, safe_mode=True)
    model.trainable = trainable
    return model


def _backbone_path(path) -> Path:
    if path is None:
        return PRETRAINED_DIR / BACKBONE_FILENAME
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a file path (str or Path), got {type(path).__name__}.")
    path = Path(path)
    card_path(path)  # validates the suffix
    return _existing_file(path, "the backbone file")


def _existing_file(path, what: str) -> Path:
    if not isinstance(path, (str, Path)):
        raise TypeError(f"{what} must be a file path (str or Path), got {type(path).__name__}.")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"{what} {str(path)!r} does not exist. The shipped backbone lives in "
            f"course_utils/pretrained/; rebuild it with `{_REBUILD}`."
        )
    return path
