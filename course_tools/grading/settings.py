"""The grader's limits, in one object instead of long positional argument lists."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["GradingSettings", "DEFAULT_TIME_LIMIT", "DEFAULT_MEMORY_GB", "FILE_SIZE_LIMIT"]

DEFAULT_TIME_LIMIT = 300.0  # seconds per notebook; the design budget is 60 s
DEFAULT_MEMORY_GB = 8.0  # address space; TensorFlow alone reserves about 3 GB of it
FILE_SIZE_LIMIT = 512 * 2**20  # largest file a submission may write


@dataclass(frozen=True)
class GradingSettings:
    """Limits for grading one submission.

    Parameters
    ----------
    time_limit : float
        Seconds for the whole notebook, kernel start included.
    memory_gb : float
        Address space of the kernel, in GiB.
    file_bytes : int
        Largest file the submission may write.
    """

    time_limit: float = DEFAULT_TIME_LIMIT
    memory_gb: float = DEFAULT_MEMORY_GB
    file_bytes: int = FILE_SIZE_LIMIT

    def __post_init__(self) -> None:
        for name in ("time_limit", "memory_gb", "file_bytes"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not (math.isfinite(value) and value > 0)
            ):
                raise ValueError(
                    f"{name} must be a positive number, got {value!r}; e.g. "
                    f"GradingSettings({name}={getattr(GradingSettings, name)!r})."
                )

    @property
    def memory_bytes(self) -> int:
        return int(self.memory_gb * 2**30)
