"""Typed errors and skip reports for reading user files.

A bank's data team must be able to act on an error: every problem names the file, the row (1-based line
number in the file, header = line 1), the column and what was expected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class FthcError(Exception):
    """Base class of every error fthc raises on purpose."""


class DataError(FthcError, ValueError):
    """A user file (or table) does not have the expected content."""

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
        expected: str | None = None,
        value: object = None,
    ) -> None:
        self.file = str(file) if file is not None else None
        self.row = row
        self.column = column
        self.expected = expected
        self.value = value
        where = []
        if self.file:
            where.append(self.file)
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        text = (": ".join([", ".join(where), message]) if where else message)
        if value is not None:
            text += f" (found {value!r})"
        if expected:
            text += f"; expected {expected}"
        super().__init__(text)


@dataclass(frozen=True)
class Problem:
    """One row that lenient reading skipped, and why."""

    file: str
    row: int | None
    column: str | None
    reason: str


@dataclass
class ReadReport:
    """What a lenient read skipped: counted and shown, never silent."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, file: str, row: int | None, column: str | None, reason: str) -> None:
        self.problems.append(Problem(str(file), row, column, reason))

    def __len__(self) -> int:
        return len(self.problems)

    def counts(self) -> dict[tuple[str, str | None], int]:
        """Number of skipped rows per (file, column)."""
        out: dict[tuple[str, str | None], int] = {}
        for p in self.problems:
            key = (p.file, p.column)
            out[key] = out.get(key, 0) + 1
        return out

    def summary(self, limit: int = 10) -> str:
        if not self.problems:
            return "no rows skipped"
        lines = [f"{len(self.problems)} rows skipped:"]
        for (file, column), n in sorted(self.counts().items(), key=lambda kv: -kv[1]):
            lines.append(f"  {file} column {column!r}: {n}")
        for p in self.problems[:limit]:
            lines.append(f"  e.g. {p.file} row {p.row}: {p.reason}")
        return "\n".join(lines)
