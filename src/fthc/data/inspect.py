"""A summary of a data source: what a data team checks before trusting a file."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .berka import read_berka, to_transactions
from .series import SeriesSpec, build_series
from .transactions import ColumnMapping, read_transactions
from .errors import ReadReport


def inspect_source(path: str | Path, mapping: ColumnMapping | None = None, lenient: bool = False) -> dict:
    """Tables and row counts, date range, transactions per customer, and problems found."""
    path = Path(path)
    tables: dict[str, int] = {}
    if path.is_dir():
        data = read_berka(path, require_trans=False, lenient=lenient)
        tables = {name: len(df) for name, df in data.tables.items()}
        report = data.report
        tx = to_transactions(data) if "trans" in data.tables else None
        problems = [] if tx is not None else ["no transaction table (trans.asc / trans.csv): series cannot be built"]
    else:
        report = ReadReport()
        tx = read_transactions(path, mapping, lenient=lenient, report=report)
        tables = {path.name: len(tx)}
        problems = []
    out: dict = {"source": str(path), "tables": tables, "skipped_rows": len(report),
                 "skipped_summary": report.summary(), "problems": problems}
    if tx is None:
        return out
    per = tx.groupby("customer_id", sort=False).size().to_numpy()
    out.update({
        "transactions": int(len(tx)), "customers": int(len(per)),
        "date_min": str(tx["timestamp"].min().date()), "date_max": str(tx["timestamp"].max().date()),
        "per_customer": {q: float(np.percentile(per, p)) for q, p in
                         (("min", 0), ("p25", 25), ("median", 50), ("mean", None), ("p75", 75), ("max", 100))
                         if p is not None} | {"mean": float(per.mean())},
        "kinds": tx["kind"].value_counts().to_dict(),
        "balance_missing": int(tx["balance"].isna().sum()),
    })
    series = build_series(tx, SeriesSpec("amounts"))
    r = series.report
    if r["one_transaction"]:
        problems.append(f"{r['one_transaction']} customers with a single transaction (series of zeros)")
    if r["zero_variance"]:
        problems.append(f"{r['zero_variance']} customers whose amounts never vary (series of zeros)")
    if out["balance_missing"]:
        problems.append(f"{out['balance_missing']} transactions without balance (derived as running sum)")
    if len(report):
        problems.append(f"{len(report)} rows skipped by lenient reading")
    problems.extend(report.warnings)
    return out
