"""Where the parts of a course live: one object instead of paths hard-coded in every tool."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["CourseLayout", "REPOSITORY"]


@dataclass(frozen=True)
class CourseLayout:
    """The folders and files of a course checkout, relative to its ``root``.

    Parameters
    ----------
    root : path-like
        The course folder: the one holding ``solutions/``, ``notebooks/`` and ``README.md``.
    """

    root: Path

    def __post_init__(self) -> None:
        if not isinstance(self.root, (str, Path)):
            raise TypeError(
                f"root must be the course folder as a path, got {self.root!r} of type "
                f"{type(self.root).__name__}."
            )
        object.__setattr__(self, "root", Path(self.root).resolve())

    @property
    def solutions(self) -> Path:
        return self.root / "solutions"

    @property
    def notebooks(self) -> Path:
        return self.root / "notebooks"

    @property
    def readme(self) -> Path:
        return self.root / "README.md"

    @property
    def benchmarks(self) -> Path:
        return self.root / "benchmarks"

    def solution_notebooks(self) -> list[Path]:
        """The solution notebooks, in course order (their names start with the number)."""
        return sorted(self.solutions.glob("*.ipynb"))

    def select(self, names) -> list[Path]:
        """Solution notebooks chosen by number or stem (``"01"`` or ``"01_cnn_basics"``); all if empty.

        Raises
        ------
        ValueError
            If a name matches no notebook or more than one, listing the names to choose from.
        """
        available = self.solution_notebooks()
        if not names:
            return available
        chosen = []
        for name in names:
            matches = [p for p in available if p.stem == name or p.stem.startswith(f"{name}_")]
            if len(matches) != 1:
                listing = ", ".join(p.stem for p in available) or f"nothing (in {self.solutions})"
                raise ValueError(f"no single solution notebook matches {name!r}; choose from {listing}")
            chosen.extend(matches)
        return chosen


REPOSITORY = CourseLayout(Path(__file__).resolve().parent.parent)
"""The course this package was installed from (an editable install of the repository)."""
