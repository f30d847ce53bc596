"""What the grader finds: a :class:`NotebookGrade` per submission, an :class:`ExerciseGrade` per exercise."""

from __future__ import annotations

from dataclasses import dataclass, field

PASSED, FAILED, NOT_ATTEMPTED, NOT_RUN, MISSING = (
    "passed", "failed", "not attempted", "not run", "missing",
)  # fmt: skip
STATUS_OF_CHECK = {"correct": PASSED, "incorrect": FAILED, "not attempted": NOT_ATTEMPTED}


@dataclass
class ExerciseGrade:
    number: int
    title: str
    status: str = NOT_RUN
    message: str = ""
    flags: list[str] = field(default_factory=list)

    @property
    def points(self) -> int:
        return int(self.status == PASSED)


@dataclass
class NotebookGrade:
    student: str
    submission: str
    release: str
    exercises: list[ExerciseGrade] = field(default_factory=list)
    run: str = "not run"  # completed, timeout, memory limit, process ended, protocol error, ...
    run_detail: str = ""
    cell_errors: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)  # changes outside exercise cells
    seconds: float = 0.0
    peak_memory_mb: float | None = None  # all the notebook's processes together, where measured
    sandbox: str = ""

    @property
    def score(self) -> int:
        return sum(e.points for e in self.exercises)
