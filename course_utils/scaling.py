"""A label scaler for regression targets: standardise for training, invert for reporting.

>>> scaler = LabelScaler().fit(y_train)            # doctest: +SKIP
>>> model.fit(x_train, scaler.transform(y_train))  # doctest: +SKIP
>>> prices = scaler.inverse_transform(model.predict(x_test))  # doctest: +SKIP

Fit it on the training labels only: the test labels stand for data that does not exist yet
when the model is trained, so nothing about them may shape the training (notebook 04 shows
why).
"""

from __future__ import annotations

import numpy as np

from course_utils._validation import check_array

__all__ = ["LabelScaler", "NotFittedError"]


class NotFittedError(RuntimeError):
    """A scaler was asked to transform before :meth:`LabelScaler.fit` was called."""


class LabelScaler:
    """Standardise regression labels: ``(y - mean) / std``, and back.

    Attributes (after :meth:`fit`)
    -------------------------------
    mean_ : float
        Mean of the training labels.
    scale_ : float
        Their standard deviation (population, ``ddof=0``), or 1.0 for a constant target, so
        a constant target maps to 0 and back instead of dividing by zero (scikit-learn's
        ``StandardScaler`` does the same).
    """

    def __init__(self) -> None:
        self.mean_: float | None = None
        self.scale_: float | None = None

    def __repr__(self) -> str:
        if self.mean_ is None:
            return "LabelScaler(not fitted)"
        return f"LabelScaler(mean_={self.mean_:.6g}, scale_={self.scale_:.6g})"

    @staticmethod
    def _labels(y, name: str) -> tuple[np.ndarray, tuple]:
        """Check labels; return them flat as float64, and the shape to give results back in."""
        y = check_array(
            y,
            name,
            ndim=(1, 2),
            finite=True,
            hint="Pass one finite number per sample, shaped (N,) or (N, 1); drop or fix "
            "samples whose label is missing before scaling.",
        )
        if y.ndim == 2 and y.shape[1] != 1:
            raise ValueError(
                f"{name} has shape {y.shape}; LabelScaler scales one target, shaped (N,) or "
                "(N, 1). Use one scaler per target column."
            )
        return y.astype(np.float64).reshape(-1), y.shape

    def fit(self, y) -> LabelScaler:
        """Learn the mean and standard deviation of the training labels ``y``; return self.

        Raises
        ------
        ValueError
            If ``y`` is empty, has NaN or infinite values, or more than one column.
        """
        values, _ = self._labels(y, "y")
        std = float(values.std())
        self.mean_ = float(values.mean())
        self.scale_ = std if std > 0 else 1.0
        return self

    def _check_fitted(self, method: str) -> None:
        if self.mean_ is None:
            raise NotFittedError(
                f"This LabelScaler is not fitted yet, so it cannot {method}. Call "
                "scaler.fit(y_train) first, with the training labels only."
            )

    def transform(self, y) -> np.ndarray:
        """Return ``(y - mean_) / scale_`` as float32, in the shape ``y`` came in."""
        self._check_fitted("transform")
        values, shape = self._labels(y, "y")
        return ((values - self.mean_) / self.scale_).astype(np.float32).reshape(shape)

    def fit_transform(self, y) -> np.ndarray:
        """Fit on ``y`` and return it transformed."""
        return self.fit(y).transform(y)

    def inverse_transform(self, y_scaled) -> np.ndarray:
        """Return ``y_scaled * scale_ + mean_`` (original units) as float64, same shape."""
        self._check_fitted("inverse_transform")
        values, shape = self._labels(y_scaled, "y_scaled")
        return (values * self.scale_ + self.mean_).reshape(shape)
