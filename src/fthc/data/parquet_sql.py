"""A user's Parquet dataset as canonical transactions, in SQL: what the row checks of `fthc.data.transactions` do,
for files whose columns are already typed (integer or text ids, date or timestamp times, numeric amounts), so that
an engine reads and checks a table larger than memory in one scan.

The checks are those of every other reader, each a count with its first offending row (file and row number,
as a Parquet row counts from 1): a missing id, time or amount, an amount that is NaN or infinite, a direction that
is neither debit nor credit, a negative amount beside a direction column, a duplicate transaction id, an infinite
balance; dates before 1950 or in the future are a warning. Time zones: a timestamp with a zone is read as the
wall time of its zone, a naive one as it is (the rule of every reader: months are the customer's calendar). Ids
keep their column's type (`fthc.data.ids`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ..data.dates import EARLIEST
from ..data.transactions import KINDS, ColumnMapping
from ..errors import DataError


def _field(files: list[Path], name: str) -> pa.DataType | None:
    schema = pq.read_schema(files[0])
    return schema.field(name).type if name in schema.names else None


def sql_readable(files: list[Path], mapping: ColumnMapping) -> bool:
    """Whether the mapped columns have types SQL can check as they are (else fthc's text parsing is needed)."""
    t = pa.types
    checks = {mapping.customer_id: lambda x: t.is_integer(x) or t.is_string(x) or t.is_large_string(x),
              mapping.timestamp: lambda x: t.is_timestamp(x) or t.is_date(x),
              mapping.amount: lambda x: t.is_integer(x) or t.is_floating(x) or t.is_decimal(x) or t.is_boolean(x)}
    if mapping.balance:
        checks[mapping.balance] = lambda x: t.is_integer(x) or t.is_floating(x) or t.is_decimal(x)
    for name in (mapping.direction, mapping.category, mapping.transaction_id):
        if name:
            checks[name] = lambda x: t.is_string(x) or t.is_large_string(x) or t.is_integer(x)
    for name, ok in checks.items():
        kind = _field(files, name)
        if kind is None or not ok(kind) or mapping.date_format:  # a partition key, or text to parse
            return False
    return True


SPELLING = {  # what the two engines' SQL spells differently
    "duckdb": {"text": "VARCHAR", "inf": "isinf({x})", "utc": "CAST(timezone('UTC', {x}) AS TIMESTAMP)",
               "zone": "timezone({zone}, {x})", "naive": "CAST({x} AS TIMESTAMP)"},
    "spark": {"text": "STRING", "inf": "(abs({x}) = double('Infinity'))", "utc": "CAST({x} AS TIMESTAMP_NTZ)",
              "zone": "CAST(from_utc_timestamp({x}, {zone}) AS TIMESTAMP_NTZ)", "naive": "CAST({x} AS TIMESTAMP_NTZ)"},
}


def local_time(dialect: str, x: str, zone: str) -> str:
    """A zoned instant as the wall time of its column's zone (the customer's calendar, as `fthc.data.dates`
    reads an offset in text): a named zone through the engine's zone rules, a fixed offset ('+02:00') added
    (DuckDB's zone rules know no fixed offsets)."""
    if zone.upper() in ("UTC", "Z", "ETC/UTC", "GMT", "+00:00"):
        return _sp(dialect, "utc", x)
    offset = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", zone)
    if offset and dialect == "duckdb":
        minutes = (1 if offset.group(1) == "+" else -1) * (int(offset.group(2)) * 60 + int(offset.group(3)))
        return f"({_sp(dialect, 'utc', x)} + INTERVAL {minutes} MINUTE)"
    return SPELLING[dialect]["zone"].format(x=x, zone=_quote(zone))


def _sp(dialect: str, what: str, x: str = "") -> str:
    return SPELLING[dialect][what].format(x=x)


def _quote(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _ident(name: str, dialect: str = "duckdb") -> str:
    if dialect == "spark":
        return "`" + name.replace("`", "``") + "`"
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Check:
    column: str
    reason: str
    expected: str
    where: str  # SQL condition on the raw row
    value: str | None = None  # SQL of the value to show


def checks(files: list[Path], mapping: ColumnMapping, dialect: str = "duckdb") -> list[Check]:
    """The row checks, in the order an error is reported."""
    m, text = mapping, _sp(dialect, "text")
    cid, ts, amt = _ident(m.customer_id, dialect), _ident(m.timestamp, dialect), _ident(m.amount, dialect)
    if pa.types.is_boolean(_field(files, m.amount)):
        raise DataError("true/false values, not amounts", file=files[0], column=m.amount,
                        expected="a numeric column of amounts")
    text_id = not pa.types.is_integer(_field(files, m.customer_id))
    out = [Check(m.customer_id, "missing value", "text",
                 f"{cid} IS NULL" + (f" OR trim({cid}) = ''" if text_id else "")),
           Check(m.timestamp, "missing value", "a date/time", f"{ts} IS NULL"),
           Check(m.amount, "missing value", "a number", f"{amt} IS NULL"),
           Check(m.amount, "cannot parse value as float", "a number",
                 f"isnan(CAST({amt} AS DOUBLE)) OR {_sp(dialect, 'inf', f'CAST({amt} AS DOUBLE)')}",
                 f"CAST({amt} AS {text})")]
    if m.direction:
        d = _ident(m.direction, dialect)
        known = ", ".join(_quote(v) for v in m.debit_values + m.credit_values)
        out += [Check(m.direction, "unknown direction", f"one of {list(m.debit_values + m.credit_values)}",
                      f"{d} IS NULL OR CAST({d} AS {text}) NOT IN ({known})", f"CAST({d} AS {text})"),
                Check(m.amount, "negative amount with a direction column",
                      "a non-negative amount (the sign comes from the direction column)", f"{amt} < 0",
                      f"CAST({amt} AS {text})")]
    if m.balance:
        b = _ident(m.balance, dialect)
        out.append(Check(m.balance, "cannot parse value as float", "a number",
                         _sp(dialect, "inf", f"CAST({b} AS DOUBLE)"), f"CAST({b} AS {text})"))
    return out


def canonical_select(files: list[Path], mapping: ColumnMapping, raw: str, seq: str, dialect: str = "duckdb") -> str:
    """SELECT of the canonical columns (customer_id, timestamp, amount, balance, kind, seq) from `raw`."""
    m, text = mapping, _sp(dialect, "text")
    cid, ts, amt = _ident(m.customer_id, dialect), _ident(m.timestamp, dialect), _ident(m.amount, dialect)
    kind_ts = _field(files, m.timestamp)
    if pa.types.is_timestamp(kind_ts) and kind_ts.tz is not None:
        time = local_time(dialect, ts, str(kind_ts.tz))  # an instant with a zone: the wall time there
    else:
        time = _sp(dialect, "naive", ts)
    ident = cid if pa.types.is_integer(_field(files, m.customer_id)) else f"trim({cid})"
    amount = f"CAST({amt} AS DOUBLE)"
    if m.direction:
        debit = ", ".join(_quote(v) for v in m.debit_values)
        amount = f"CASE WHEN CAST({_ident(m.direction, dialect)} AS {text}) IN ({debit}) THEN -{amount} ELSE {amount} END"
    balance = "CAST(NULL AS DOUBLE)"
    if m.balance:
        b = f"CAST({_ident(m.balance, dialect)} AS DOUBLE)"
        balance = f"CASE WHEN isnan({b}) THEN NULL ELSE {b} END"
    kind = "'other'"
    if m.category:
        c = category_text(m, dialect)
        lookup = {k: k for k in KINDS} | m.category_kinds
        cases = " ".join(f"WHEN {_quote(v)} THEN {_quote(k)}" for v, k in lookup.items())
        kind = f"CASE {c} {cases} ELSE 'other' END"
    return (f"SELECT {ident} AS customer_id, {time} AS timestamp, {amount} AS amount, {balance} AS balance, "
            f"{kind} AS kind, {seq} AS seq FROM {raw}")


def far_dates(mapping: ColumnMapping, dialect: str = "duckdb") -> str:
    """Dates before 1950 or in the future (the bounds as literals: no time zone per row)."""
    from datetime import datetime

    ts = _ident(mapping.timestamp, dialect)
    now = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    return (f"{ts} < {_sp(dialect, 'naive', repr(f'{EARLIEST:%Y-%m-%d}'))} OR "
            f"{ts} > {_sp(dialect, 'naive', repr(now))}")


def category_text(mapping: ColumnMapping, dialect: str = "duckdb") -> str:
    """SQL: the category column's value as trimmed text (what `category_kinds` looks up)."""
    return f"trim(CAST({_ident(mapping.category, dialect)} AS {_sp(dialect, 'text')}))"


def missing_balance(mapping: ColumnMapping, dialect: str = "duckdb") -> str:
    """SQL condition: a row of a dataset with a balance column that has no balance (null or NaN)."""
    b = _ident(mapping.balance, dialect)
    return f"{b} IS NULL OR isnan(CAST({b} AS DOUBLE))"


def unmapped_categories(mapping: ColumnMapping, dialect: str = "duckdb") -> str | None:
    """SQL condition: a category value that maps to no kind (what becomes 'other')."""
    if not mapping.category:
        return None
    c = category_text(mapping, dialect)
    known = ", ".join(_quote(v) for v in {k: k for k in KINDS} | mapping.category_kinds if v != "other")
    return f"{c} IS NOT NULL AND {c} NOT IN ({known})"
