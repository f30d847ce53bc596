"""The mistakes of standardising with training statistics, shared by notebooks 04 and 07.

Both notebooks ask for ``(target - mean of train) / standard deviation of train``; they name the
arguments differently and take them in a different order, so each builds the list with its own
names: :func:`standardise_mistakes`.
"""

from __future__ import annotations

import numpy as np


def standardise_mistakes(target: str, train: str, *, train_first: bool, ddof_users: str) -> list:
    """(wrong function, explanation) pairs for an exercise that standardises ``target``.

    Parameters
    ----------
    target, train : str
        The names of the learner's arguments: the values to scale and the training values.
    train_first : bool
        Whether the learner's function takes the training values first.
    ddof_users : str
        Who uses the population standard deviation, for the ddof=1 message.
    """

    def spelled(mistake):  # mistake(train_values, target_values) with the learner's order
        return (lambda a, b: mistake(np.asarray(a), np.asarray(b))) if train_first else (
            lambda a, b: mistake(np.asarray(b), np.asarray(a)))  # fmt: skip

    both = "both statistics come from the training values"
    pairs = [
        (lambda t, y: (y - y.mean()) / y.std(),
         f"you used the mean and standard deviation of `{target}` itself. Take them from "
         f"`{train}` only: the values to scale must not shape the scaling (that is leakage), or "
         "the same value would map to different numbers in different sets."),
        (lambda t, y: (y - t.mean()) / t.std(ddof=1),
         f"you divided by the sample standard deviation (ddof=1). Use np.std's default (ddof=0), "
         f"as {ddof_users} do."),
        (lambda t, y: y - t.mean(), "you only subtracted the mean; also divide by the standard deviation."),
        (lambda t, y: (y - t.mean()) / t.var(),
         "you divided by the variance; divide by the standard deviation, its square root."),
        (lambda t, y: (y - t.min()) / (t.max() - t.min()),
         "that is min-max scaling to [0, 1]; standardising subtracts the mean and divides by the "
         "standard deviation."),
        (lambda t, y: y / t.std(), "subtract the training mean before dividing."),
        (lambda t, y: (y - np.median(t)) / t.std(), f"subtract the mean of {train}, not its median."),
        (lambda t, y: (y - t.mean()) / np.sqrt(np.mean(t**2)),
         f"the standard deviation is measured around the mean: np.std({train}), not the root "
         f"mean square of {train}."),
        (lambda t, y: (y - t.mean()) / (t.max() - t.min()),
         f"divide by the standard deviation of {train}, not by its range."),
        (lambda t, y: (y - t.mean()) / y.std(),
         f"take the standard deviation from {train} too, not from {target}: {both}."),
        (lambda t, y: (y - y.mean()) / t.std(), f"take the mean from {train} too, not from {target}: {both}."),
        (lambda t, y: (t - t.mean()) / t.std(),
         f"you standardised {train}; return {target} standardised (with {train}'s statistics)."),
        (lambda t, y: (t - y.mean()) / y.std(),
         f"the arguments are the other way round: standardise `{target}` with the statistics of `{train}`."),
    ]  # fmt: skip
    return [(spelled(mistake), explanation) for mistake, explanation in pairs]
