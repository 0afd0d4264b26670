"""What a path holds, decided once for every command, and Parquet datasets read where they lie.

`source_kind` is the one rule: a glob or a folder of Parquet files is a dataset; a folder of Berka tables is Berka
(a folder with both is ambiguous and refused, naming both); a file is a table (Parquet by its suffix, else text).

A `Dataset` (Parquet files: one file, a folder with hive partitions, or a glob) is not loaded into pandas for the
behaviour measures: an engine reads the files and checks them in SQL (`fthc.data.parquet_sql`), so a table
larger than memory is segmented in one pass. Where its columns need fthc's own parsing (dates or amounts stored
as text) or `--lenient` is asked for, the files are streamed through the row checks of every other reader into a
canonical spill first (`fthc.data.partitioned`).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import DataError
from .errors import ReadReport
from .relation import OnEngine
from .transactions import ColumnMapping


def source_kind(path: str | Path) -> str:
    """'dataset' (Parquet files), 'berka' (a folder of Berka tables), 'parquet' (one file) or 'table' (text)."""
    from .berka import berka_files
    from .partitioned import is_glob

    if is_glob(path):
        return "dataset"
    path = Path(path)
    if path.is_dir():
        parquet = sorted(path.rglob("*.parquet"))
        tables = berka_files(path)
        if parquet and tables:
            raise DataError(f"the folder holds both Berka tables ({', '.join(p.name for p in tables[:3])}) and "
                            f"Parquet files ({', '.join(str(p.relative_to(path)) for p in parquet[:3])}): which is "
                            "the data is ambiguous", file=path,
                            expected="a folder of Berka tables, or a folder of Parquet files (move the others out)")
        if parquet:
            return "dataset"
        return "berka"
    return "parquet" if path.suffix.lower() == ".parquet" else "table"


@dataclass
class Dataset(OnEngine):
    """Parquet files read where they lie."""

    path: str | Path
    files: list[Path]
    mapping: ColumnMapping
    lenient: bool = False
    report: ReadReport = field(default_factory=ReadReport)
    berka: None = None
    until: pd.Timestamp | None = None  # point in time (`--as-of`): transactions at or after it are left out
    _transactions: pd.DataFrame | None = field(default=None, repr=False)
    _spill: tempfile.TemporaryDirectory | None = field(default=None, repr=False)
    _spill_buckets: bool = field(default=False, repr=False)

    @property
    def name(self) -> str:
        return str(self.path)

    @property
    def currency(self) -> str | None:
        return self.mapping.currency

    def describe(self) -> str:
        return f"{self.name} ({len(self.files):,} Parquet file{'s' if len(self.files) > 1 else ''})"

    def _make_relation(self, engine):
        relation = self.engine_source(engine)
        return relation if self.until is None else engine.until(relation, self.until)

    def engine_source(self, engine):
        """The dataset as the engine's canonical relation: checked in SQL where its types allow, else spilled."""
        from .parquet_sql import sql_readable

        if not self.lenient and sql_readable(self.files, self.mapping):
            return engine.dataset_source(self)
        return engine.files_source(self.spill(buckets=not engine.reads_files))

    def spill(self, buckets: bool = False) -> list[Path]:
        """The dataset in canonical form, streamed through the row checks into Parquet files (kept until the
        dataset is closed): one file for an engine that reads files itself, or customer buckets of about two
        million rows, each of which fits in memory."""
        from .partitioned import bucket_transactions

        if self._spill is None or self._spill_buckets != buckets:
            self.close()
            self._spill = tempfile.TemporaryDirectory(prefix="fthc-spill-")
            self._spill_buckets = buckets
            self._buckets = bucket_transactions(self.path, self._spill.name, self.mapping, lenient=self.lenient,
                                                report=self.report, rows_per_bucket=2_000_000 if buckets else 2**62)
        return self._buckets.files

    def transactions_in_memory(self) -> pd.DataFrame:
        """Every transaction as one canonical frame (for methods that read whole series)."""
        if self._transactions is None:
            from .partitioned import read_dataset

            tx, _, _ = read_dataset(self.path, self.mapping, lenient=self.lenient, report=self.report)
            if self.until is not None:
                tx = tx[(tx["timestamp"] < self.until).to_numpy()].reset_index(drop=True)
            self._transactions = tx
        return self._transactions

    def close(self) -> None:
        if self._spill is not None:
            self._spill.cleanup()
            self._spill = None


def open_dataset(path: str | Path, mapping: ColumnMapping | None = None, *, lenient: bool = False):
    """A `Dataset` when `path` is Parquet (a file, a folder or a glob), else None (Berka, text tables)."""
    from .partitioned import check_dataset, parquet_files

    kind = source_kind(path)
    if kind not in ("dataset", "parquet"):
        return None
    files = parquet_files(path)
    mapping = check_dataset(files, mapping or ColumnMapping(), Path(path) if Path(path).is_dir() else None)
    return Dataset(path, files, mapping, lenient)
