"""The one data-source entry point: a Berka folder or a transaction table -> canonical transactions, the
Berka tables when there are any (loans, districts, for profiles and risk), and what lenient reading skipped.
Used by inspect, segment, assign and the grid runner alike."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .berka import BerkaData, read_berka, to_transactions
from .errors import ReadReport
from .transactions import ColumnMapping, read_transactions


@dataclass
class Source:
    transactions: pd.DataFrame
    berka: BerkaData | None  # None for a plain transaction table
    report: ReadReport


def load_source(path: str | Path, mapping: ColumnMapping | None = None, *, lenient: bool = False) -> Source:
    """Read a Berka folder (the 8 tables) or a CSV/Parquet transaction table mapped by `mapping`."""
    path = Path(path)
    if path.is_dir():
        data = read_berka(path, lenient=lenient)
        return Source(to_transactions(data), data, data.report)
    report = ReadReport()
    return Source(read_transactions(path, mapping, lenient=lenient, report=report), None, report)


def load_transactions(path: str | Path, mapping: ColumnMapping | None = None, *,
                      lenient: bool = False) -> tuple[pd.DataFrame, ReadReport]:
    """Canonical transactions and what lenient reading skipped (the Berka tables left out)."""
    src = load_source(path, mapping, lenient=lenient)
    return src.transactions, src.report
