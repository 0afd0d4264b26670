"""Skip reports of lenient reading: every skipped row is counted and shown, never silent."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import DataError, FthcError
from ..progress import agreeing, counted

__all__ = ["DataError", "FthcError", "Problem", "ReadReport"]


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
    warnings: list[str] = field(default_factory=list)  # kept, but suspicious (strict reading): shown to the user
    unmapped_categories: list[str] = field(default_factory=list)  # category values that map to no kind
    unmapped_rows: int = 0
    # column -> (the strftime format its text dates were read with, whether it was inferred rather than given):
    # inspect says which, since a dd/mm file read as mm/dd would be silently wrong
    date_formats: dict[str, tuple[str, bool]] = field(default_factory=dict)

    def unmapped_note(self) -> str | None:
        """The warning for category values that no [categories] entry maps (they count as 'other'), with the
        TOML to add them."""
        if not self.unmapped_rows:
            return None
        shown = self.unmapped_categories[:8]
        toml = "; ".join(f'"{v}" = "<kind>"' for v in shown)
        more = ", ..." if len(self.unmapped_categories) > 8 else ""
        return (f"{counted(self.unmapped_rows, 'transaction')} "
                + agreeing(self.unmapped_rows, "has a category that maps to no kind of transaction and counts",
                           "have categories that map to no kind of transaction and count")
                + f" as 'other' ({', '.join(map(repr, shown))}{more}): cash, card, salary and pension are not "
                f"recognised in them; map them in the mapping file's [categories] table ({toml}; kinds: "
                "incoming_transfer, cash_deposit, cash_withdrawal, card_payment, outgoing_transfer, interest_fees, "
                "pension, loan_payment)")

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
        lines = [f"{counted(len(self.problems), 'row')} skipped:"]
        for (file, column), n in sorted(self.counts().items(), key=lambda kv: -kv[1]):
            lines.append(f"  {file} column {column!r}: {n}")
        for p in self.problems[:limit]:
            lines.append(f"  e.g. {p.file} row {p.row}: {p.reason}")
        return "\n".join(lines)
