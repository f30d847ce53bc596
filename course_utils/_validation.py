"""Argument checks shared by the helpers, in scikit-learn's style.

Each check raises ``TypeError`` or ``ValueError`` with a message that names the argument,
the bad value, and how to fix it. They run before any work, so a bad call loses nothing.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Iterable

import numpy as np


def _with_hint(message: str, hint: str | None) -> str:
    return f"{message} {hint}" if hint else message


def check_int(
    value,
    name: str,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    hint: str | None = None,
) -> int:
    """Return ``value`` as ``int`` if it is a whole number within the bounds, else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            _with_hint(
                f"{name} must be a whole number, got {value!r} of type {type(value).__name__}.",
                hint,
            )
        )
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(_with_hint(f"{name} must be at least {minimum}, got {value}.", hint))
    if maximum is not None and value > maximum:
        raise ValueError(_with_hint(f"{name} must be at most {maximum}, got {value}.", hint))
    return value


def check_number(
    value,
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    hint: str | None = None,
) -> float:
    """Return ``value`` as ``float`` if it is a finite real number within the bounds."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            _with_hint(
                f"{name} must be a number, got {value!r} of type {type(value).__name__}.", hint
            )
        )
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(_with_hint(f"{name} must be finite, got {value}.", hint))
    if minimum is not None and value < minimum:
        raise ValueError(_with_hint(f"{name} must be at least {minimum}, got {value}.", hint))
    if maximum is not None and value > maximum:
        raise ValueError(_with_hint(f"{name} must be at most {maximum}, got {value}.", hint))
    return value


def check_choice(value, name: str, choices: Iterable, *, hint: str | None = None):
    """Return ``value`` if it is one of ``choices``; ``choices`` are listed in the error."""
    choices = tuple(choices)
    if value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(_with_hint(f"{name} must be one of {options}; got {value!r}.", hint))
    return value


def check_array(
    value,
    name: str,
    *,
    ndim: int | tuple[int, ...] | None = None,
    numeric: bool = True,
    allow_empty: bool = False,
    finite: bool = False,
    hint: str | None = None,
) -> np.ndarray:
    """Convert ``value`` to a NumPy array and check its rank, dtype and contents.

    Parameters
    ----------
    ndim : int or tuple of int, optional
        Allowed number of dimensions, e.g. ``(3, 4)`` for one image or a batch.
    numeric : bool
        Require an integer, unsigned, float or bool dtype (strings and objects are refused).
    finite : bool
        Refuse NaN and infinite values.
    """
    if numeric and (value is None or isinstance(value, (str, bytes, os.PathLike))):
        loaded = " If it names a file, load the file into an array first." if value else ""
        raise TypeError(
            _with_hint(
                f"{name} must be an array of numbers, got {value!r} of type "
                f"{type(value).__name__}.{loaded}",
                hint,
            )
        )
    try:
        array = np.asarray(value)
    except Exception as err:  # ragged nested lists and similar
        raise TypeError(
            _with_hint(f"{name} could not be turned into an array: {err}.", hint)
        ) from err
    if numeric and array.dtype.kind not in "biuf":
        raise TypeError(
            _with_hint(
                f"{name} must hold numbers, got dtype {array.dtype}.",
                hint or "Convert it with np.asarray(..., dtype='float32').",
            )
        )
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if array.ndim not in allowed:
            wanted = " or ".join(str(n) for n in allowed)
            raise ValueError(
                _with_hint(
                    f"{name} must have {wanted} dimensions, got an array of shape {array.shape} "
                    f"({array.ndim} dimensions).",
                    hint,
                )
            )
    if not allow_empty and array.size == 0:
        raise ValueError(_with_hint(f"{name} is empty (shape {array.shape}).", hint))
    if finite and array.dtype.kind == "f" and not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(
            _with_hint(f"{name} contains {bad} NaN or infinite value(s).", hint)
        )
    return array
