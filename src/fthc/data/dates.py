"""Dates read the way the file writes them: one format per column, inferred from every value or given.

A European bank's 03/01/2023 is the 3rd of January; an American one's is the 1st of March. Guessing per value
(pandas' "mixed") silently reads a dd/mm file partly as mm/dd, so a column's format is inferred from all of its
values: the formats that read every value are kept; none or several is an error that names the rows and the
formats, and `--date-format` settles it. Integer YYYYMMDD (CSV or Parquet) is a format like the others;
Parquet date and timestamp columns need none.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError

# the date parts users' files have; each may be followed by a time of day
DATE_PARTS = ["%Y-%m-%d", "%Y/%m/%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y", "%m-%d-%Y", "%Y%m%d",
              "%d/%m/%y", "%m/%d/%y", "%y%m%d"]
TIMES = ["", " %H:%M:%S", " %H:%M", "T%H:%M:%S", " %H:%M:%S.%f", "T%H:%M:%S.%f"]
READABLE = {"%Y": "YYYY", "%m": "mm", "%d": "dd", "%y": "YY", "%H": "HH", "%M": "MM", "%S": "SS", "%f": "ffffff"}
EARLIEST = pd.Timestamp("1950-01-01")


def readable(fmt: str) -> str:
    """'%d/%m/%Y' -> 'dd/mm/YYYY' (how a user writes it), with the strftime form beside it in errors."""
    for code, text in READABLE.items():
        fmt = fmt.replace(code, text)
    return fmt


# a time of day's zone: 'Z', 'UTC', '+02:00', '+0200', '+02', after a time (never a date's '-01')
ZONE = r"(?P<time>\d:\d\d(?::\d\d(?:[.,]\d+)?)?)\s?(?:Z|UTC|[+-]\d\d(?::?\d\d)?)$"


def wall_time(text: pd.Series, fmt: str) -> tuple[pd.Series, str]:
    """Times as the wall clock wrote them: an offset ('2023-01-01T00:30+02:00') is dropped, not converted, so
    that a salary paid just after midnight on the 1st belongs to that month in the customer's own calendar (in
    UTC it would be the last day of the month before). The format loses its zone directive too."""
    return text.astype("string").str.replace(ZONE, r"\g<time>", regex=True), _zoneless(fmt)


def _zoneless(fmt: str) -> str:
    return fmt.replace("%z", "").replace("%Z", "").rstrip()


def _parses(local: pd.Series, fmt: str) -> np.ndarray:
    """Which of the values (their zone already dropped: `wall_time`) the format reads."""
    return pd.to_datetime(local, format=_zoneless(fmt), errors="coerce").notna().to_numpy()


def infer_date_format(text: pd.Series, lines: np.ndarray, path: Path, column: str) -> str:
    """The one format that reads every value of a text column (missing values excluded). Candidates are tried
    on a sample of the distinct values first, then the survivors on all of them."""
    uniques = pd.Series(text.dropna().unique())
    if uniques.empty:
        return "ISO8601"
    local = wall_time(uniques, "")[0]  # each value's zone dropped once; the candidates are tried on these
    sample = uniques if len(uniques) <= 4000 else pd.concat([uniques[:2000], uniques.sample(2000, random_state=0)])
    candidates = [d + t for d in DATE_PARTS for t in TIMES] + ["ISO8601"]
    local_sample = local.loc[sample.index]
    reads = {fmt: _parses(local_sample, fmt) for fmt in candidates}
    full = [fmt for fmt, ok in reads.items() if ok.all()]
    if len(sample) < len(uniques):
        full = [fmt for fmt in full if _parses(local, fmt).all()]
    if "ISO8601" in full and len(full) > 1:
        full.remove("ISO8601")  # a named format reads the same dates; ISO8601 is for offsets and the like
    if len(full) == 1:
        return full[0]
    if len(full) > 1:
        shown = " and ".join(f"{readable(f)} ({f})" for f in full[:3])
        raise DataError(f"the dates fit {shown}: no value tells them apart (e.g. no day above 12)",
                        file=path, column=column, expected="--date-format (or date_format in the mapping file)",
                        value=uniques.iloc[0])
    first_line: dict = {}
    for value, line in zip(text.to_numpy(), lines):
        first_line.setdefault(value, int(line))
    best = max(candidates, key=lambda f: reads[f].sum())
    rest = ~reads[best]
    if not rest.any():  # the sample fitted one format that other values do not: find them in the whole column
        sample, reads = uniques, {f: _parses(local, f) for f in candidates}
        best = max(candidates, key=lambda f: reads[f].sum())
        rest = ~reads[best]
    other = max((f for f in candidates if f != best), key=lambda f: (reads[f] & rest).sum())
    first_rest = sample[rest].iloc[0]
    if reads[best].any() and (reads[other] & rest).any():
        first_other = sample[reads[other] & rest].iloc[0]
        first_best = sample[reads[best]].iloc[0]
        covered = (reads[best] | reads[other]).all()
        raise DataError(
            f"mixed date formats: {readable(best)} (e.g. {first_best!r} at row {first_line[first_best]}) and "
            f"{readable(other)} (e.g. {first_other!r} at row {first_line[first_other]})"
            + ("" if covered else f", and values in neither (e.g. {first_rest!r} at row {first_line[first_rest]})"),
            file=path, column=column, expected="one date format per column; give --date-format to read it with one "
            "and see the rows that do not fit")
    raise DataError("cannot read the value as a date in any known format", file=path, row=first_line[first_rest],
                    column=column, value=first_rest,
                    expected=f"one of {', '.join(readable(d) for d in DATE_PARTS)} (optionally with a time), "
                    "or --date-format")


def as_date_text(values: pd.Series) -> pd.Series | None:
    """Integer dates (20230123, as Parquet and spreadsheets store them) as text, so that YYYYMMDD reads them
    like any other format; None when the column is not numeric."""
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return None
    num = pd.to_numeric(values, errors="coerce")
    whole = num.dropna()
    if (whole % 1 != 0).any():
        return num.astype("string")  # fractional numbers are no date format: the inference names them
    return num.astype("Int64").astype("string")


def outside_bulk(dates: pd.Series, today: pd.Timestamp | None = None) -> np.ndarray:
    """Dates before 1950 or in the future: typos (1900, 2099) that would stretch every calendar series."""
    today = today or pd.Timestamp.now().normalize() + pd.Timedelta(days=1)
    d = dates.to_numpy(dtype="datetime64[ns]")
    return ~np.isnat(d) & ((d < EARLIEST.to_datetime64()) | (d >= today.to_datetime64()))
