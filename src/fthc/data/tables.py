"""Reading delimited or Parquet tables into typed columns, with errors that name file, row and column.

Both the Berka reader and the generic transaction reader use these helpers, so that every user file is
checked the same way: existence, binary content, separator, header, and each value's type.
"""

from __future__ import annotations

import csv
import difflib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..errors import DataError
from .dates import as_date_text, infer_date_format, readable, wall_time
from .errors import ReadReport

ColumnKind = Literal["int", "float", "str", "yymmdd", "yymmdd_time", "datetime"]
LINE = "__line__"  # the 1-based line number of each row in its file (header = line 1)


def check_readable(path: Path) -> None:
    """Missing, empty, or binary files are rejected before any parser sees them."""
    if not path.exists():
        raise DataError("file not found", file=path)
    if path.is_dir():
        raise DataError("is a folder, not a file", file=path)
    if path.stat().st_size == 0:
        raise DataError("file is empty", file=path, expected="a header line and data rows")
    if path.suffix.lower() == ".parquet":
        return
    with path.open("rb") as fh:
        head = fh.read(8192)
    if b"\x00" in head or head.startswith(b"PAR1"):
        raise DataError("looks like a binary file", file=path, expected="a text table (CSV/.asc)")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # a cut multi-byte character at the block end is fine; anything earlier is not text
        if exc.start < len(head) - 4:
            try:
                head.decode("latin-1")
            except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
                raise DataError("not a text file", file=path) from exc


# what a bank's export that is not UTF-8 is in: Windows and ISO code pages of Western, Central and Northern Europe
LEGACY_ENCODINGS = ["cp1252", "cp1250", "iso8859_2", "latin_1", "iso8859_15", "cp1257", "cp1251"]


def text_encoding(path: Path, asked: str | None = None) -> str:
    """The encoding to read a text table with: `asked` (checked to be one), else UTF-8 (with or without Excel's
    BOM) when every byte of the file decodes as UTF-8, else the legacy code page charset-normalizer finds most
    plausible for its non-ASCII lines (a German or Czech bank's export), cp1252 when it finds none."""
    import codecs

    if asked:
        try:
            return codecs.lookup(asked).name
        except LookupError:
            raise DataError(f"unknown encoding {asked!r}", file=path,
                            expected="a Python codec name, e.g. utf-8, cp1250, latin-1") from None
    decoder, sample = codecs.getincrementaldecoder("utf-8")(), []
    utf8 = True
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            if utf8:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    utf8 = False
            if sum(map(len, sample)) < 1 << 18:
                sample += [line for line in block.split(b"\n") if any(b > 127 for b in line)][:2000]
    if utf8:
        return "utf-8-sig"
    from charset_normalizer import from_bytes

    best = from_bytes(b"\n".join(sample), cp_isolation=LEGACY_ENCODINGS).best()
    return codecs.lookup(best.encoding).name if best is not None else "cp1252"


def sniff_separator(path: Path, encoding: str | None = None) -> str:
    """The separator of a text table, from its header line."""
    with path.open("r", encoding=encoding or "utf-8-sig", errors="replace", newline="") as fh:  # -sig: Excel's BOM
        header = fh.readline()
    try:
        return csv.Sniffer().sniff(header, delimiters=";,\t|").delimiter
    except csv.Error:
        return ","


def text_header(path: Path, sep: str, encoding: str | None = None) -> list[str]:
    """The column names of a text table's header line (empty for an empty or unreadable file)."""
    try:
        with path.open("r", encoding=encoding or "utf-8-sig", errors="replace", newline="") as fh:
            line = fh.readline()
    except OSError:
        return []
    return [c.strip().strip('"') for c in next(csv.reader([line.strip("\r\n")], delimiter=sep), [])]


def read_text_table(path: Path, sep: str, required: list[str] | None = None,
                    hints: dict[str, str] | None = None, allow_empty: bool = False,
                    encoding: str | None = None) -> pd.DataFrame:
    """All columns as strings (missing as empty string), plus the line number of each row (`allow_empty`: a
    header without rows is a table of none, as a bank without loans has).

    Keeping everything as text first lets us report the exact row and value that fails to parse. Arrow's
    CSV reader does the splitting (multi-threaded, about 10x faster than pandas' at a million rows).
    """
    check_readable(path)
    encoding = encoding or text_encoding(path)
    with path.open("r", encoding=encoding, errors="replace", newline="") as fh:  # utf-8-sig: Excel's BOM
        header_line = fh.readline()
    if not header_line.strip():
        raise DataError("file has no header line", file=path)
    names = [c.strip().strip('"') for c in next(csv.reader([header_line.strip("\r\n")], delimiter=sep))]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise DataError(f"the header names {', '.join(map(repr, twice))} more than once", file=path, row=1,
                        expected="each column name once")
    if required is not None:
        check_columns(names, required, path, sep, hints)
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(use_threads=True, column_names=names, skip_rows=1,
                                           encoding="utf8" if encoding.startswith("utf-8") else encoding),
            parse_options=pacsv.ParseOptions(delimiter=sep, quote_char='"', newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        row = _ragged_row(path, sep, len(names), encoding)
        raise DataError(f"cannot parse as a {sep!r}-separated table: {str(exc).splitlines()[0]}",
                        file=path, row=row, expected=f"{len(names)} fields per row like the header") from exc
    if table.num_rows == 0 and not allow_empty:
        raise DataError("table has a header but no rows", file=path, expected="at least one data row")
    df = table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get)
    df[LINE] = np.arange(2, len(df) + 2)
    return df


def _ragged_row(path: Path, sep: str, n_fields: int, encoding: str = "utf-8") -> int | None:
    """The line number of the first row whose field count differs from the header's (for the error)."""
    with path.open("r", encoding=encoding, errors="replace", newline="") as fh:
        for line_no, row in enumerate(csv.reader(fh, delimiter=sep), start=1):
            if row and len(row) != n_fields:
                return line_no
    return None


def read_parquet_table(path: Path) -> pd.DataFrame:
    check_readable(path)
    try:
        df = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise DataError(f"cannot read as Parquet: {exc}", file=path) from exc
    if len(df) == 0:
        raise DataError("table has no rows", file=path, expected="at least one data row")
    df[LINE] = np.arange(1, len(df) + 1)  # Parquet has no header line: rows count from 1
    return df


def read_keyed_file(path, what: str, required: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """A small per-customer file (outcomes, attributes): CSV or Parquet, its text columns as objects, and each
    row's line in the file (for errors). `what` names the file in errors ("outcomes file"); CSV files must hold
    the `required` columns (a Parquet file's columns are for the caller to check)."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{what} not found", file=path)
    if path.is_dir():
        raise DataError(f"is a folder, not an {what}" if what[0] in "aeiou" else f"is a folder, not a {what}",
                        file=path, expected="a CSV or Parquet file")
    try:
        if path.suffix.lower() == ".parquet":
            raw = pd.read_parquet(path)
            return raw, np.arange(1, len(raw) + 1)
        encoding = text_encoding(path)
        raw = read_text_table(path, sniff_separator(path, encoding), required=required, encoding=encoding)
        raw = raw.astype({c: object for c in raw.columns if c != LINE})
        return raw, raw.pop(LINE).to_numpy()
    except DataError:
        raise
    except Exception as exc:  # pyarrow / pandas on a file that is not a table
        raise DataError(f"cannot read the {what.split()[0]}: {str(exc).splitlines()[0]}", file=path) from exc


def check_columns(columns, required: list[str], path: Path, sep: str, hints: dict[str, str] | None = None) -> None:
    """Every required column present (else one error: a wrong separator, or the nearest name and, with `hints`
    (column -> how it was named: a flag, a mapping key), how to name it)."""
    present = [c for c in columns if c != LINE]
    missing = [c for c in required if c not in present]
    if not missing:
        return
    if len(present) == 1 and len(required) > 1:
        other = [s for s in (";", ",", "\t", "|") if s != sep and s in present[0]]
        if other:
            raise DataError(
                f"wrong separator: the header is one column {present[0][:60]!r}",
                file=path, row=1, expected=f"columns separated by {sep!r}, found {other[0]!r}",
            )
    col = missing[0]
    close = difflib.get_close_matches(col, present, n=1)
    named = (hints or {}).get(col)
    hint = (f"; did you mean {close[0]!r}?" + (f" ({named.format(close[0])})" if named else "")) if close else \
        (f" (name yours with {named.format('NAME')})" if named else "")
    raise DataError(
        f"missing column {col!r}{hint}", file=path, row=1, column=col,
        expected=f"columns {required}, found {present}",
    )


MISSING_TEXT = ("", "?", "nan", "none", "null", "na")  # missing in every column, in any case (docs/guide.md)


def parse_values(values: pd.Series, kind: ColumnKind, date_format: str | None = None) -> tuple[pd.Series, np.ndarray]:
    """Parse a text column; returns the typed values and a mask of values that could not be parsed.

    Empty strings (and '?', Berka's missing marker) become missing and are not flagged here; whether a
    column may be missing is the caller's decision.
    """
    if kind == "str":
        text = values.astype("string").str.strip()
        return text.mask(text.str.lower().isin(MISSING_TEXT)), np.zeros(len(values), dtype=bool)
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        text = values.astype(str).str.strip()
        missing = text.str.lower().isin(MISSING_TEXT)
    else:
        text = values
        missing = values.isna().to_numpy()
    missing = np.asarray(missing, dtype=bool)
    if kind in ("int", "float"):
        fast = _arrow_cast(text, missing, pa.int64() if kind == "int" else pa.float64())
        if fast is not None:
            return fast, np.zeros(len(values), dtype=bool)
        num = pd.to_numeric(text.where(~missing), errors="coerce")
        bad = num.isna().to_numpy() & ~missing
        if kind == "int":
            finite = num.notna()
            nonint = finite & (num.fillna(0) % 1 != 0)
            bad |= nonint.to_numpy()
            num = num.where(~nonint).astype("Int64")
        else:
            num = num.astype("float64")
            bad |= np.isinf(num.to_numpy(dtype=float, na_value=np.nan))
        return num, bad
    if kind in ("yymmdd", "yymmdd_time"):
        s = text.where(~missing).astype("string")
        if kind == "yymmdd_time":
            s = s.str.split(" ", n=1).str[0]
        n = _arrow_cast(s, missing, pa.int64())
        if n is None or (s.str.len().fillna(6) != 6).any():
            digits = s.str.fullmatch(r"\d{6}").fillna(False).to_numpy(dtype=bool)
            n = pd.to_numeric(s.where(digits), errors="coerce")
        parts = pd.DataFrame({
            "year": 1900 + n // 10000, "month": (n // 100) % 100, "day": n % 100,
        })
        dates = pd.to_datetime(parts, errors="coerce")
        bad = ~missing & dates.isna().to_numpy()
        return dates, bad
    if kind == "datetime":  # the format comes from the caller (given, or inferred by parse_columns)
        if pd.api.types.is_datetime64_any_dtype(values):
            # one rule for every reader: a time with a zone is the wall time of its zone (as text with an offset
            # is: months are the customer's calendar), a naive time as it is
            dt = values.dt.tz_localize(None) if getattr(values.dt, "tz", None) is not None else values
            return dt.astype("datetime64[ns]"), np.zeros(len(values), dtype=bool)
        local, fmt = wall_time(text.where(~missing), date_format or "ISO8601")
        dates = pd.to_datetime(local, errors="coerce", format=fmt)
        in_range = (dates >= pd.Timestamp.min) & (dates <= pd.Timestamp.max)  # year 0 or 9999: not a date here
        dates = dates.where(in_range.to_numpy(dtype=bool))
        bad = ~missing & dates.isna().to_numpy()
        return dates.astype("datetime64[ns]"), bad
    raise ValueError(f"unknown column kind {kind!r}")  # pragma: no cover - programming error


def _arrow_cast(text: pd.Series, missing: np.ndarray, to: pa.DataType) -> pd.Series | None:
    """Fast path: Arrow casts a clean column at once; None when any value fails (the slow path then finds it)."""
    try:
        arr = pa.array(text.to_numpy(dtype=object, na_value=None), type=pa.string()) \
            if not isinstance(text.dtype, pd.StringDtype) or text.dtype.storage != "pyarrow" \
            else pa.array(text.array)
        arr = pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), arr)
        out = pc.cast(arr, to)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    if to == pa.int64():
        return pd.Series(out.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get), index=text.index)
    result = pd.Series(out.to_numpy(zero_copy_only=False), index=text.index, dtype="float64")
    return None if np.isinf(result.to_numpy()).any() else result


@dataclass
class RowChecker:
    """Raises on the first bad row (strict) or records every bad row and drops it (lenient)."""

    path: Path
    lenient: bool = False
    report: ReadReport | None = None

    def __post_init__(self) -> None:
        if self.report is None:
            self.report = ReadReport()

    def flag(self, df: pd.DataFrame, bad: np.ndarray, column: str | None, reason: str,
             expected: str, values: pd.Series | None = None) -> pd.DataFrame:
        """Handle rows where `bad` is true; returns the frame without them (lenient) or raises (strict)."""
        bad = np.asarray(bad, dtype=bool)
        if not bad.any():
            return df
        idx = np.flatnonzero(bad)
        if not self.lenient:
            i = idx[0]
            value = None if values is None else values.iloc[i]
            raise DataError(
                f"{reason} ({bad.sum()} such row{'s' if bad.sum() > 1 else ''})",
                file=self.path, row=int(df[LINE].iloc[i]), column=column, expected=expected, value=value,
            )
        lines = df[LINE].to_numpy()[idx]
        for line in lines:
            self.report.add(str(self.path), int(line), column, f"{reason}; expected {expected}")
        return df.loc[~bad]


COMMA_NUMBER = r"[-+]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?"  # 2220,59 or 1.234,56 (dots group thousands)


def _decimal_comma(raw: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Numbers written with a decimal comma, as text the float parser reads; and the values that are not such a
    number (1.5 is not: with a decimal comma a dot groups thousands), flagged rather than read as something else."""
    text = raw.astype("string").str.strip()
    missing = text.str.lower().isin(MISSING_TEXT).fillna(True)
    ok = text.str.fullmatch(COMMA_NUMBER).fillna(False)
    converted = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    return converted.where(ok | missing, "not a number"), (~ok & ~missing).to_numpy(dtype=bool)


def parse_columns(df: pd.DataFrame, spec: dict[str, tuple[ColumnKind, bool]], checker: RowChecker,
                  date_formats: dict[str, str] | None = None, decimal_comma: set[str] = frozenset()) -> pd.DataFrame:
    """Parse text columns by a spec {column: (kind, nullable)}; bad values raise or are reported. Columns in
    `decimal_comma` write numbers with a decimal comma (`--decimal ,`).

    Parsed values replace the text in the frame itself, so rows dropped by lenient reading take every column
    with them."""
    df = df.copy()
    for col, (kind, nullable) in spec.items():
        raw = original = df[col]
        comma_bad = None
        if kind == "float" and col in decimal_comma and not pd.api.types.is_numeric_dtype(raw):
            raw, comma_bad = _decimal_comma(raw)
        if kind in ("int", "float") and pd.api.types.is_bool_dtype(raw):
            raise DataError("true/false values, not numbers", file=checker.path, column=col,
                            expected="a numeric column" + (" of amounts" if kind == "float" else ""))
        fmt = (date_formats or {}).get(col)
        if kind == "datetime" and not pd.api.types.is_datetime64_any_dtype(raw):
            raw = _date_text(raw)
            given = fmt is not None
            fmt = fmt or _infer_format(raw, df[LINE], checker.path, col)
            checker.report.date_formats.setdefault(col, (fmt, not given))
        df[col], bad = parse_values(raw, kind, fmt)
        if comma_bad is not None:
            bad = bad | comma_bad
        expected = {
            "int": "a whole number", "float": "a number", "str": "text",
            "yymmdd": "a date as YYMMDD", "yymmdd_time": "a date as 'YYMMDD 00:00:00'",
            "datetime": "a date/time" + (f" as {readable(fmt)} ({fmt})" if fmt and fmt != "ISO8601" else ""),
        }[kind]
        if kind == "float" and bad.any() and col not in decimal_comma and \
                original[bad].astype("string").str.strip().str.fullmatch(COMMA_NUMBER).fillna(False).all():
            expected += " (these are written with a decimal comma, e.g. '2220,59': read them with --decimal , or " \
                        "decimal = \",\" in the mapping's [columns])"
        elif comma_bad is not None:
            expected += " written with a decimal comma (--decimal ,), e.g. 2220,59 or 1.234,56"
        df = checker.flag(df, bad, col, f"cannot parse value as {kind}", expected, original)
        if not nullable:
            df = checker.flag(df, df[col].isna().to_numpy(), col, "missing value", expected)
    return df[[*spec, LINE]]


def column_date_format(df: pd.DataFrame, column: str, path: Path) -> str:
    """The one date format of a text (or YYYYMMDD number) column, inferred from all its values."""
    return _infer_format(_date_text(df[column]), df[LINE], path, column)


def _date_text(raw: pd.Series) -> pd.Series:
    """Dates as text; 20230123 stored as a number becomes its text."""
    text = as_date_text(raw)
    return raw if text is None else text


def _infer_format(raw: pd.Series, lines: pd.Series, path: Path, column: str) -> str:
    text = raw.astype("string").str.strip()
    text = text.mask(text.str.lower().isin(MISSING_TEXT))
    return infer_date_format(text, lines.to_numpy(), path, column)


def read_toml(path: Path, what: str) -> dict:
    """A small TOML settings file; a missing file or bad TOML is a DataError naming the file."""
    path = Path(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DataError(f"{what} file not found", file=path) from exc
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"invalid TOML: {exc}", file=path) from exc


def check_keys(values: dict, known: set[str], path: Path, where: str) -> None:
    unknown = set(values) - known
    if unknown:
        raise DataError(f"unknown keys in {where}: {sorted(unknown)}", file=path,
                        expected=f"keys among {sorted(known)}")
