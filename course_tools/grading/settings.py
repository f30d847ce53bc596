"""The grader's limits, in one object instead of long positional argument lists."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

__all__ = ["GradingSettings", "DEFAULT_TIME_LIMIT", "DEFAULT_MEMORY_GB", "DEFAULT_TREE_MEMORY_GB",
           "FILE_SIZE_LIMIT"]  # fmt: skip

DEFAULT_TIME_LIMIT = 300.0  # seconds per notebook; the design budget is 60 s
DEFAULT_MEMORY_GB = 8.0  # address space per process; TensorFlow alone reserves about 3 GB of it
DEFAULT_TREE_MEMORY_GB = 4.0  # memory in use by all the notebook's processes; the course peaks at 1.7
FILE_SIZE_LIMIT = 512 * 2**20  # the sandbox's /tmp, its only writable place, and any one file


def _default_processes() -> int:
    # TensorFlow starts about two threads per core, and threads count as processes here
    return 256 + 8 * (os.cpu_count() or 2)


@dataclass(frozen=True)
class GradingSettings:
    """Limits for grading one submission.

    Parameters
    ----------
    time_limit : float
        Seconds for the whole notebook, start of its process included.
    memory_gb : float
        Address space of each process, in GiB.
    tree_memory_gb : float
        Memory in use by all the notebook's processes together, in GiB.
    file_bytes : int
        Size of the sandbox's writable ``/tmp``, and of any one file.
    max_processes : int
        Processes and threads the notebook may have at once.
    """

    time_limit: float = DEFAULT_TIME_LIMIT
    memory_gb: float = DEFAULT_MEMORY_GB
    tree_memory_gb: float = DEFAULT_TREE_MEMORY_GB
    file_bytes: int = FILE_SIZE_LIMIT
    max_processes: int = field(default_factory=_default_processes)

    def __post_init__(self) -> None:
        for name in ("file_bytes", "max_processes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name} must be a whole number, got {value!r}; e.g. "
                                 f"GradingSettings({name}={512 * 2**20 if name == 'file_bytes' else 512}).")  # fmt: skip
        for name in ("time_limit", "memory_gb", "tree_memory_gb", "file_bytes", "max_processes"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not (math.isfinite(value) and value > 0)
            ):
                example = 120 if name == "time_limit" else 4
                raise ValueError(
                    f"{name} must be a positive number, got {value!r}; e.g. "
                    f"GradingSettings({name}={example!r})."
                )

    @property
    def memory_bytes(self) -> int:
        return int(self.memory_gb * 2**30)

    @property
    def tree_memory_bytes(self) -> int:
        return int(self.tree_memory_gb * 2**30)
