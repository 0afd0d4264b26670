"""The canonical transaction table, and a reader that maps any CSV/Parquet transaction table onto it.

Canonical form (one pandas DataFrame, sorted by customer_id, timestamp, then original order):
    customer_id  any hashable id (int or string)
    timestamp    datetime64[ns]
    amount       float64, signed: credits positive, debits negative
    balance      float64, balance after the transaction, NaN where the source has none
    kind         categorical, one of KINDS
plus optional extra columns that ride along for profiles (operation, k_symbol, category, ...).
Everything downstream of the readers sees only this form.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError
from .dates import EARLIEST, outside_bulk
from .errors import ReadReport
from .ids import customer_ids
from .tables import (LINE, RowChecker, check_columns, check_keys, parse_columns, read_parquet_table,
                     read_text_table, read_toml, sniff_separator, text_encoding, text_header)

KINDS = ["incoming_transfer", "cash_deposit", "cash_withdrawal", "card_payment", "outgoing_transfer",
         "interest_fees", "pension", "loan_payment", "other"]
CANONICAL = ["customer_id", "timestamp", "amount", "balance", "kind"]


def canonical_frame(*, customer_id, timestamp, amount, balance=None, kind=None,
                    extras: dict | None = None) -> pd.DataFrame:
    """Assemble and sort a canonical transaction table (stable: same-day rows keep their file order)."""
    n = len(amount)
    df = pd.DataFrame({
        "customer_id": np.asarray(customer_id),
        "timestamp": pd.to_datetime(np.asarray(timestamp)).astype("datetime64[ns]"),
        "amount": np.asarray(amount, dtype="float64"),
        "balance": np.full(n, np.nan) if balance is None else np.asarray(balance, dtype="float64"),
        "kind": pd.Categorical(["other"] * n, categories=KINDS) if kind is None
        else pd.Categorical(kind, categories=KINDS),
    })
    for name, values in (extras or {}).items():
        df[name] = values.array if isinstance(values, pd.Series) else values
    order = np.lexsort((np.arange(n), df["timestamp"].to_numpy(), pd.factorize(df["customer_id"], sort=True)[0]))
    return df.iloc[order].reset_index(drop=True)


def validate_canonical(df: pd.DataFrame) -> pd.DataFrame:
    """Check a table claimed to be canonical; raises DataError naming the first problem."""
    missing = [c for c in CANONICAL if c not in df.columns]
    if missing:
        raise DataError(f"not a canonical transaction table: missing columns {missing}",
                        expected=f"columns {CANONICAL}")
    if not pd.api.types.is_datetime64_any_dtype(df["timestamp"]):
        raise DataError("column 'timestamp' is not a datetime column", column="timestamp")
    for col in ("amount", "balance"):
        if not pd.api.types.is_float_dtype(df[col]):
            raise DataError(f"column {col!r} is not float", column=col)
    if not np.isfinite(df["amount"].to_numpy()).all():
        raise DataError("amount has missing or infinite values", column="amount")
    if df["customer_id"].isna().any():
        raise DataError("customer_id has missing values", column="customer_id")
    return df


@dataclass(frozen=True)
class ColumnMapping:
    """Which columns of a user's table hold what. Only customer_id, timestamp and amount are required.

    Either `amount` is signed, or `direction` names a column whose values are listed in `debit_values` /
    `credit_values` and `amount` holds unsigned (non-negative) amounts.

    Parameters
    ----------
    customer_id, timestamp, amount : str
        The columns of the customer id (kept exactly, as text or integers), the date or time, the amount.
    direction : str, optional
        A column saying debit or credit, for unsigned amounts.
    debit_values, credit_values : tuple of str
        The direction column's values for money out and money in.
    balance : str, optional
        The balance after each transaction (carried forward where missing).
    category : str, optional
        A category column, mapped to fthc's kinds by `category_kinds`.
    transaction_id : str, optional
        A unique transaction id (duplicates are an error).
    date_format : str, optional
        A strftime format; None: inferred from every value of the column.
    decimal : str
        '.' or ',': numbers written with a decimal comma (2220,59).
    encoding : str, optional
        A text file's encoding (a Python codec name, e.g. 'cp1250'); None: UTF-8, else detected and said.
    currency : str, optional
        The currency the outputs name (e.g. 'CZK').
    category_kinds : dict
        Category value -> kind (incoming_transfer, cash_withdrawal, ...).

    Examples
    --------
    >>> import fthc
    >>> fthc.ColumnMapping(customer_id="client", timestamp="date", amount="value", decimal=",").decimal
    ','
    """

    customer_id: str = "customer_id"
    timestamp: str = "timestamp"
    amount: str = "amount"
    direction: str | None = None
    debit_values: tuple[str, ...] = ("debit", "D", "DR", "out", "VYDAJ", "VYBER")
    credit_values: tuple[str, ...] = ("credit", "C", "CR", "in", "PRIJEM")
    balance: str | None = None
    category: str | None = None
    transaction_id: str | None = None
    date_format: str | None = None
    decimal: str = "."  # the decimal mark of amounts and balances: "," reads 2220,59 and 1.234,56
    encoding: str | None = None  # a text file's encoding; None: UTF-8, else detected from its bytes (and said)
    currency: str | None = None  # not a column: the currency amounts are in, shown beside money in outputs
    # category value -> canonical kind; unmapped categories become "other" and are counted
    category_kinds: dict[str, str] = field(default_factory=dict)

    OPTIONAL_BY_NAME = ("balance", "category", "direction")  # used where a table has a column of that name

    def resolve(self, columns) -> "ColumnMapping":
        """This mapping with its unset optional columns (balance, category, direction) set to the column of the
        same name, where the table has one: a table with the default names needs no mapping at all."""
        from dataclasses import replace

        found = {name: name for name in self.OPTIONAL_BY_NAME if getattr(self, name) is None and name in columns}
        return replace(self, **found) if found else self

    def describe(self) -> str:
        """'customer_id=client, timestamp=booked_at, ...': which column holds what."""
        return ", ".join(f"{k}={getattr(self, k)}" for k in ("customer_id", "timestamp", "amount", "direction",
                                                             "balance", "category") if getattr(self, k))

    def __post_init__(self) -> None:
        if self.decimal not in (".", ","):
            raise DataError(f"decimal = {self.decimal!r} is not a decimal mark", column="decimal",
                            expected="'.' or ','")
        bad = {k: v for k, v in self.category_kinds.items() if v not in KINDS}
        if bad:
            raise DataError(f"unknown transaction kinds in category mapping: {bad}", expected=f"one of {KINDS}")

    @classmethod
    def from_toml(cls, path: str | Path) -> "ColumnMapping":
        """Read a mapping from a small TOML file: a [columns] table and an optional [categories] table."""
        data = read_toml(path, "mapping")
        cols = dict(data.get("columns", {}))
        if not isinstance(cols, dict) or not isinstance(data.get("categories", {}), dict):
            raise DataError("[columns] and [categories] must be tables", file=path,
                            expected='[columns]\ncustomer_id = "cust"')
        check_keys(cols, {f.name for f in fields(cls)} - {"category_kinds", "currency"}, path, "[columns]")
        check_keys({k: v for k, v in data.items() if k not in ("columns", "categories")}, {"currency"}, path,
                   "the mapping file (besides [columns] and [categories])")
        if "currency" in data and not isinstance(data["currency"], str):
            raise DataError(f"currency = {data['currency']!r} is not a currency name", file=path,
                            expected='e.g. currency = "EUR"')
        for key, value in cols.items():
            if key in ("debit_values", "credit_values"):
                if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
                    raise DataError(f"[columns] {key} = {value!r} is not a list of values", file=path, column=key,
                                    expected=f'e.g. {key} = ["D", "debit"]')
                cols[key] = tuple(str(v) for v in value)
            elif not isinstance(value, str):
                raise DataError(f"[columns] {key} = {value!r} is not a column name", file=path, column=key,
                                expected=f'a name in quotes, e.g. {key} = "{getattr(cls, key, None) or key}"')
        categories = data.get("categories", {})
        bad = {k: v for k, v in categories.items() if not isinstance(v, str)}
        if bad:
            raise DataError(f"[categories] values must be transaction kinds in quotes, got {bad}", file=path)
        return cls(**cols, category_kinds=dict(categories), currency=data.get("currency"))

    def to_dict(self) -> dict:
        return asdict(self)

    FLAGS = {"customer_id": "--customer-col", "timestamp": "--timestamp-col", "amount": "--amount-col",
             "direction": "--direction-col", "balance": "--balance-col", "category": "--category-col"}

    def hints(self) -> dict[str, str]:
        """Column -> how a user names it ('{0}' where the name goes): the command's flag or the mapping file's key."""
        return {getattr(self, key): f"{flag} {{0}}, or {key} = \"{{0}}\" in the mapping's [columns]"
                for key, flag in self.FLAGS.items() if getattr(self, key)}

    def columns(self) -> list[str]:
        """The columns a table must have under this mapping."""
        return [self.customer_id, self.timestamp, self.amount] + [
            c for c in (self.direction, self.balance, self.category, self.transaction_id) if c]

    @classmethod
    def from_dict(cls, data: dict, where: str = "columns=") -> "ColumnMapping":
        """A mapping from a dict: the Python API's `columns=`, or what `to_dict` gave (JSON turns its tuples into
        lists), as stored with a model. An unknown key is refused, as in the TOML file, with the nearest name."""
        import difflib

        names = [f.name for f in fields(cls)]
        unknown = [k for k in data if k not in names]
        if unknown:
            near = difflib.get_close_matches(str(unknown[0]), names, n=1)
            raise DataError(f"unknown key {unknown[0]!r} in {where}"
                            + (f" (did you mean {near[0]!r}?)" if near else ""),
                            expected=f"keys among {sorted(n for n in names if n != 'category_kinds')}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


def read_transactions(path: str | Path, mapping: ColumnMapping | None = None, *, lenient: bool = False,
                      report: ReadReport | None = None) -> pd.DataFrame:
    """Read a CSV (any common separator) or Parquet transaction table into canonical form."""
    return read_mapped(path, mapping, lenient=lenient, report=report)[0]


def read_mapped(path: str | Path, mapping: ColumnMapping | None = None, *, lenient: bool = False,
                report: ReadReport | None = None) -> tuple[pd.DataFrame, ColumnMapping]:
    """The canonical transactions of a CSV or Parquet table, and the mapping they were read with (the given one,
    with optional columns found by their default names: `ColumnMapping.resolve`)."""
    path = Path(path)
    mapping = mapping or ColumnMapping()
    if path.suffix.lower() == ".parquet":
        raw = read_parquet_table(path)
        mapping = mapping.resolve(raw.columns)
        check_columns(raw.columns, mapping.columns(), path, ",", mapping.hints())
    else:
        encoding = text_encoding(path, mapping.encoding) if path.is_file() else None
        sep = sniff_separator(path, encoding) if path.exists() else ","
        mapping = mapping.resolve(text_header(path, sep, encoding)) if path.is_file() else mapping
        raw = read_text_table(path, sep, required=mapping.columns(), hints=mapping.hints(), encoding=encoding)
        if report is not None and mapping.encoding is None and encoding not in (None, "utf-8-sig"):
            report.warnings.append(f"{path.name} is not UTF-8: read as {encoding} (detected from its bytes; "
                                   "--encoding, or encoding in the mapping's [columns], to say otherwise)")
    checker = RowChecker(path, lenient=lenient, report=report)
    return canonical_transactions(raw, mapping, checker, typed=path.suffix.lower() == ".parquet"), mapping


def canonical_transactions(raw: pd.DataFrame, mapping: ColumnMapping, checker: RowChecker,
                           typed: bool = False) -> pd.DataFrame:
    """A raw table (text or typed columns, with its LINE numbers) in canonical form: the checks of every
    reader, whether the rows come from one file or from one record batch of a partitioned dataset. `typed`:
    the columns have types of their own (Parquet, a DataFrame), which the customer ids keep (`fthc.data.ids`)."""
    path, lenient = checker.path, checker.lenient
    spec = {mapping.customer_id: ("str", False), mapping.timestamp: ("datetime", False),
            mapping.amount: ("float", False)}
    if mapping.direction:
        spec[mapping.direction] = ("str", False)
    if mapping.balance:
        spec[mapping.balance] = ("float", True)
    if mapping.category:
        spec[mapping.category] = ("str", True)
    if mapping.transaction_id:
        spec[mapping.transaction_id] = ("str", False)
    df = parse_columns(raw, spec, checker, date_formats={mapping.timestamp: mapping.date_format}
                       if mapping.date_format else None,
                       decimal_comma={c for c in (mapping.amount, mapping.balance) if c} if mapping.decimal == ","
                       else frozenset())
    far = outside_bulk(df[mapping.timestamp])
    if far.any():
        d = df[mapping.timestamp][far]
        what = (f"{int(far.sum()):,} dates before {EARLIEST.year} or in the future (from {d.min():%Y-%m-%d} to "
                f"{d.max():%Y-%m-%d}, first at row {int(df[LINE][far].iloc[0])}); they stretch every calendar series")
        if lenient:
            df = checker.flag(df, far, mapping.timestamp, "date before 1950 or in the future",
                              "a date between 1950 and today")
        else:
            checker.report.warnings.append(f"{path} column {mapping.timestamp!r}: {what}; kept (--lenient "
                                           "leaves them out, counted)")

    # every check drops (lenient) or reports (strict) whole rows; the signed amount is derived afterwards
    if mapping.direction:
        d = df[mapping.direction].astype("string")
        known = d.isin(mapping.debit_values + mapping.credit_values).to_numpy(dtype=bool)
        df = checker.flag(df, ~known, mapping.direction, "unknown direction",
                          f"one of {list(mapping.debit_values + mapping.credit_values)}", df[mapping.direction])
        df = checker.flag(df, (df[mapping.amount] < 0).to_numpy(), mapping.amount,
                          "negative amount with a direction column",
                          "a non-negative amount (the sign comes from the direction column)", df[mapping.amount])
    if mapping.transaction_id:
        df = checker.flag(df, df[mapping.transaction_id].duplicated().to_numpy(), mapping.transaction_id,
                          "duplicate transaction id", "each transaction id once", df[mapping.transaction_id])
    amount = df[mapping.amount].to_numpy(dtype=float)
    if mapping.direction:
        debit = df[mapping.direction].astype("string").isin(mapping.debit_values).to_numpy(dtype=bool)
        amount = np.where(debit, -amount, amount)

    customer = customer_ids(raw.loc[df.index, mapping.customer_id] if typed else df[mapping.customer_id], typed)

    kind = None
    extras = {"source_row": df[LINE].to_numpy()}
    if mapping.category:
        cat = pd.Series(df[mapping.category].astype("string").to_numpy(dtype=object), dtype=object)
        extras["category"] = cat.to_numpy()
        # categories already named like fthc's kinds map to themselves; the mapping adds or overrides
        lookup = {k: k for k in KINDS} | mapping.category_kinds
        mapped = cat.map(lookup)
        unmapped = mapped.isna() & cat.notna()
        if unmapped.any():  # said, never silent: they become 'other'
            values = cat[unmapped].value_counts()
            report = checker.report
            report.unmapped_rows += int(unmapped.sum())
            known = set(report.unmapped_categories)
            report.unmapped_categories += [str(v) for v in values.index if str(v) not in known][:50]
        kind = mapped.fillna("other").to_numpy(dtype=object)
    if mapping.transaction_id:
        extras["transaction_id"] = df[mapping.transaction_id].to_numpy(dtype=object)
    return canonical_frame(
        customer_id=customer, timestamp=df[mapping.timestamp].to_numpy(), amount=amount,
        balance=df[mapping.balance].to_numpy(dtype=float) if mapping.balance else None,
        kind=kind, extras=extras,
    )
