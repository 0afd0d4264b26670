"""A summary of a data source: what a data team checks before trusting a file. The same rule as every command
decides what a path holds (`fthc.data.dataset.source_kind`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..progress import agreeing, counted
from .errors import ReadReport
from .transactions import ColumnMapping

KEY = ["customer_id", "timestamp", "amount", "balance", "kind"]


def duplicate_rows(tx: pd.DataFrame) -> int:
    """Rows identical to an earlier row in every column read (customer, time, amount, balance, kind and the
    source's own columns such as category or transaction id)."""
    cols = [c for c in tx.columns if c != "source_row"]
    return int(tx.duplicated(subset=cols).sum())


def berka_problems(data, tx: pd.DataFrame | None) -> list[str]:
    """What a Berka folder holds that the segments will not show on their own."""
    problems = []
    accounts = data["account"]["account_id"]
    if tx is not None:
        without = int((~accounts.isin(tx["customer_id"].unique())).sum())
        if without:
            problems.append(f"{without:,} of the {counted(len(accounts), 'account')} "
                            + agreeing(without, "has no transaction: it is", "have no transaction: they are")
                            + " not segmented (no behaviour to read)")
    loans = data["loan"]["account_id"]
    several = int(loans.duplicated().sum())
    if several:
        n = loans[loans.duplicated()].nunique()
        problems.append(f"{counted(n, 'account')} {agreeing(n, 'has', 'have')} more than one loan: an account is in "
                        "default when any of its loans is (B or D), dated by its earliest loan")
    owners = data["disp"][data["disp"]["type"] == "OWNER"]["account_id"]
    if owners.duplicated().any():
        n = owners[owners.duplicated()].nunique()
        problems.append(f"{counted(n, 'account')} {agreeing(n, 'has', 'have')} more than one owner: the owner "
                        "with the smallest disposition id describes the account (age, gender)")
    return problems


def dates_read(report: ReadReport, column: str, last: pd.Timestamp | None = None) -> str:
    """How the date column was read, in words and with an example a reader checks at a glance (is 03/01 the 3rd
    of January or the 1st of March?): 'dates in 'booked' read as dd.mm.YYYY (%d.%m.%Y, inferred from every
    value): 31.12.1998 is 31 December 1998'."""
    from .dates import readable

    if column not in report.date_formats:
        return f"dates in {column!r} are stored as dates or timestamps (no format to read)"
    fmt, inferred = report.date_formats[column]
    how = "inferred from every value" if inferred else "as given"
    if fmt == "ISO8601":
        return f"dates in {column!r} read as ISO 8601 ({how}): e.g. 1998-12-31 or 1998-12-31T08:30:00+01:00"
    day = pd.Timestamp(year=(last or pd.Timestamp("1998-12-31")).year, month=12, day=31)
    return f"dates in {column!r} read as {readable(fmt)} ({fmt}, {how}): {day.strftime(fmt)} is {day.day} {day:%B %Y}"


def inspect_source(path: str | Path, mapping: ColumnMapping | None = None, lenient: bool = False) -> dict:
    """Tables and row counts, the columns read, date range, transactions per customer, and problems found."""
    from .berka import read_berka, to_transactions
    from .dataset import source_kind
    from .source import load_source

    path = Path(path)
    kind = source_kind(path)
    problems: list[str] = []
    columns = None
    if kind == "berka":
        data = read_berka(path, require_trans=False, lenient=lenient)
        tables = {name: len(df) for name, df in data.tables.items()}
        report = data.report
        tx = to_transactions(data) if "trans" in data.tables else None
        if tx is None:
            problems.append("no transaction table (trans.asc / trans.csv): nothing to segment")
        problems += berka_problems(data, tx)
    else:
        src = load_source(path, mapping, lenient=lenient)
        tx, report = src.transactions, src.report
        tables = {path.name: len(tx)}
        columns = src.mapping.describe() if src.mapping is not None else None
        if src.mapping is not None and len(tx):  # the CLI prints this line: how the dates were read belongs in it
            columns += "; " + dates_read(report, src.mapping.timestamp, tx["timestamp"].max())
    out: dict = {"source": str(path), "tables": tables, "skipped_rows": len(report),
                 "skipped_summary": report.summary(), "problems": problems, "columns": columns}
    if tx is None:
        return out
    per = tx.groupby("customer_id", sort=False).size().to_numpy()
    out.update({
        "transactions": int(len(tx)), "customers": int(len(per)),
        "date_min": str(tx["timestamp"].min().date()), "date_max": str(tx["timestamp"].max().date()),
        "per_customer": {q: float(np.percentile(per, p)) for q, p in
                         (("min", 0), ("p25", 25), ("median", 50), ("p75", 75), ("max", 100))} |
                        {"mean": float(per.mean())},
        "kinds": tx["kind"].value_counts().to_dict(),
        "balance_missing": int(tx["balance"].isna().sum()),
        "duplicates": duplicate_rows(tx),
    })
    one = int((per == 1).sum())
    if one:
        problems.append(f"{counted(one, 'customer')} with a single transaction (segmented from very little evidence)")
    if out["duplicates"]:
        problems.append(f"{counted(out['duplicates'], 'row')} "
                        + agreeing(out["duplicates"], "is an exact duplicate", "are exact duplicates")
                        + " of an earlier row (kept; --drop-duplicates leaves them out)")
    missing = out["balance_missing"]
    if missing == len(tx):
        problems.append("no balances: nothing about balances is measured (series of network methods use the "
                        "running sum of amounts from zero, flagged as derived)")
    elif missing:
        without = int(tx.groupby("customer_id")["balance"].count().eq(0).sum())
        problems.append(f"{counted(missing, 'transaction')} without a balance: each carries the customer's last "
                        "known one forward" + (f"; {counted(without, 'customer')} "
                                               f"{agreeing(without, 'has', 'have')} none at all" if without else ""))
    if (tx["kind"].astype(str) == "other").all():
        problems.append("no transaction kinds (no category column, or none mapped): cash, card, salary and pension "
                        "are not recognised")
    if report.unmapped_note():
        problems.append(report.unmapped_note())
    if len(report):
        problems.append(f"{counted(len(report), 'row')} skipped by lenient reading")
    problems.extend(report.warnings)
    return out
