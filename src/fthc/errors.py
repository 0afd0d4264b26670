"""Every error fthc raises on purpose, at the package root so that no layer imports another for it.

A bank's data team must be able to act on an error: a `DataError` names the file, the row (1-based line
number in the file, header = line 1), the column and what was expected. The CLI prints any `FthcError` as
one line and exits with code 2.
"""

from __future__ import annotations

from pathlib import Path

import sklearn.exceptions


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


class TooFewOutcomes(DataError):
    """Fewer outcomes of either kind than a model can learn from (a caller may go on without risk)."""


class UnknownComponentError(FthcError, KeyError):
    """A component name that no registry holds."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


class IncompatibleConfigError(FthcError, ValueError):
    """A combination of components that cannot work together, rejected before any training."""


class NotFittedError(FthcError, sklearn.exceptions.NotFittedError):
    """predict/transform/save called before fit (also scikit-learn's NotFittedError)."""


class TrainingError(FthcError, RuntimeError):
    """Training diverged (non-finite loss)."""


class ArtefactError(FthcError, ValueError):
    """A saved model folder that is missing, corrupted, or written by an incompatible version."""


class FthcWarning(UserWarning):
    """What a fit must tell its caller (also kept in the fitted `notes_`, which the commands print)."""
