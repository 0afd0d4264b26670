"""The behaviour sums of `fthc.features.measures` computed with pandas: the reference implementation that the SQL
engines are tested against, and the `pandas` engine (in memory, or bucket by bucket for a partitioned dataset).

It follows the SQL step by step: customer-months (`customer_month`, every calendar month, dormant ones included),
their balance carried forward, then one row per customer (`customer_sums`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .measures import EVENT_KINDS, RECENT_MONTHS, SUMS, month_index


def customer_month(tx: pd.DataFrame, ends: pd.Series | None = None) -> pd.DataFrame:
    """One row per (customer, calendar month) of a canonical table (rows in canonical order: ties in time keep
    their input order, as `seq` does in SQL), to each customer's last month or its `ends` (customer id -> the
    month before its window's cutoff, as `month_index`)."""
    ts = tx["timestamp"]
    amount = tx["amount"].to_numpy(dtype=np.float64)
    kind = tx["kind"].astype(str).to_numpy()
    credit = amount > 0
    debit = amount < 0
    t = pd.DataFrame({
        "customer_id": tx["customer_id"].to_numpy(),
        "month": np.asarray(month_index(ts), dtype=np.int64),
        "transactions": 1, "amount_sum": amount, "amount_sq": amount * amount,
        "credit": np.where(credit, amount, 0.0), "debit": np.where(debit, -amount, 0.0),
        "credits": credit.astype(np.int64), "debits": debit.astype(np.int64),
        "log_credit": np.where(credit, np.log1p(np.where(credit, amount, 0)), np.nan),
        "log_debit": np.where(debit, np.log1p(np.where(debit, -amount, 0)), np.nan),
        **{f"n_{k}": (kind == k).astype(np.int64) for k in EVENT_KINDS},
        "n_interest_credited": ((kind == "interest_fees") & credit).astype(np.int64),
        "top_transfer_in": np.where((kind == "incoming_transfer") & credit, amount, np.nan),
        "top_pension": np.where((kind == "pension") & credit, amount, np.nan),
        "top_regular": np.where(np.isin(kind, ["incoming_transfer", "pension"]) & credit, amount, np.nan),
        "last_balance": tx["balance"].to_numpy(dtype=np.float64),
        "commitment": np.where((kind == "loan_payment") & debit, -amount, 0.0),
    })
    g = t.groupby(["customer_id", "month"], sort=True)
    # (the SQL counts the per-customer ones without months)
    sums = ["transactions", "amount_sum", "amount_sq", "credit", "debit", "credits", "debits",
            *[f"n_{k}" for k in EVENT_KINDS], "n_interest_credited", "commitment"]
    out = g[sums].sum()
    out["log_credit"] = g["log_credit"].sum(min_count=1)
    out["log_debit"] = g["log_debit"].sum(min_count=1)
    out["top_transfer_in"] = g["top_transfer_in"].max()
    out["top_pension"] = g["top_pension"].max()
    out["top_regular"] = g["top_regular"].max()
    out["last_balance"] = g["last_balance"].last()  # the last non-null value, rows in canonical order
    out = out.reset_index()
    by = out.groupby("customer_id", sort=False)
    out["end_month"] = by["month"].transform("max") if ends is None else \
        out["customer_id"].map(ends).to_numpy(np.int64)
    out["typical_regular"] = by["top_regular"].transform("median")
    out = _dense(out, sums)
    out["balance"] = out.groupby("customer_id", sort=False)["last_balance"].ffill()  # carried forward
    return out


def _dense(active: pd.DataFrame, sums: list[str]) -> pd.DataFrame:
    """Every calendar month from each customer's first to its `end_month` (`DENSE_MONTHS`): a dormant month
    repeats the row of the active month before it, with nothing in or out (its `sums` 0) and that month's last
    balance."""
    nxt = active.groupby("customer_id", sort=False)["month"].shift(-1).fillna(active["end_month"] + 1)
    span = (nxt - active["month"]).astype(np.int64).to_numpy()
    out = active.loc[active.index.repeat(span)].reset_index(drop=True)
    gap = np.arange(len(out)) - np.repeat(np.cumsum(span) - span, span)
    out["month"] = out["month"].to_numpy() + gap
    out["active"] = gap == 0
    dormant = ~out["active"].to_numpy()
    if dormant.any():
        out.loc[dormant, sums] = 0
        out.loc[dormant, ["log_credit", "log_debit", "top_transfer_in", "top_pension", "top_regular"]] = np.nan
    return out


def customer_sums(months: pd.DataFrame) -> pd.DataFrame:
    """One row per customer (index: customer_id, sorted) of the `CUSTOMER` sums."""
    m = months.assign(credit_sq=months["credit"] ** 2, net=months["credit"] - months["debit"], negative=(months["balance"] < 0).astype(np.int64),
                      has_credit=(months["credit"] > 0).astype(np.int64),
                      transfer_in_sq=months["top_transfer_in"] ** 2, pension_sq=months["top_pension"] ** 2)
    g = m.groupby("customer_id", sort=True)
    out = pd.DataFrame({
        "transactions": g["transactions"].sum(),
        "first_month": g["month"].min(),
        "months": g["month"].max() - g["month"].min() + 1,
        "active_months": g["active"].sum(),
        "amount_sum": g["amount_sum"].sum(), "amount_sq": g["amount_sq"].sum(),
        "credit": g["credit"].sum(), "debit": g["debit"].sum(), "credit_sq": g["credit_sq"].sum(),
        "credit_median": g["credit"].quantile(0.5), "debit_median": g["debit"].quantile(0.5),
        "credit_p10": g["credit"].quantile(0.1), "net_median": g["net"].quantile(0.5),
        "net_p10": g["net"].quantile(0.1),
        "months_with_credit": g["has_credit"].sum(),
        "credits": g["credits"].sum(), "debits": g["debits"].sum(),
        "log_credit": g["log_credit"].sum(min_count=1), "log_debit": g["log_debit"].sum(min_count=1),
        **{f"n_{k}": g[f"n_{k}"].sum() for k in EVENT_KINDS},
        "n_interest_credited": g["n_interest_credited"].sum(),
        "transfer_in_months": g["top_transfer_in"].count(), "transfer_in_sum": g["top_transfer_in"].sum(min_count=1),
        "transfer_in_sq": g["transfer_in_sq"].sum(min_count=1),
        "pension_months": g["top_pension"].count(), "pension_sum": g["top_pension"].sum(min_count=1),
        "pension_sq": g["pension_sq"].sum(min_count=1),
        "balance_months": g["balance"].count(),
        "balance_median": g["balance"].quantile(0.5), "balance_p10": g["balance"].quantile(0.1),
        "balance_mean": g["balance"].mean(), "balance_sd": g["balance"].std(ddof=0),
        "negative_months": m.loc[m["balance"].notna()].groupby("customer_id")["negative"].sum(),
        "balance_slope": _slopes(m, "balance"),
        "credit_slope": _slopes(m, "credit"),
        "since_regular": g["end_month"].max() - m.loc[m["top_regular"] >= 0.5 * m["typical_regular"]]
        .groupby("customer_id")["month"].max(),
        **_recent(m),
    })
    out["negative_months"] = out["negative_months"].fillna(0).astype(np.int64)
    out.index.name = "customer_id"
    return out[SUMS]


def _recent(m: pd.DataFrame) -> dict:
    """`RECENT_SUMS`: the sums of the last `RECENT_MONTHS` months of each history and of the months before."""
    out = {}
    for part, rows in (("recent", m["month"] > m["end_month"] - RECENT_MONTHS),
                       ("earlier", m["month"] <= m["end_month"] - RECENT_MONTHS)):
        d = m.assign(on=rows.astype(np.int64), neg=(rows & (m["balance"] < 0)).astype(np.int64),
                     b=m["balance"].where(rows), c=m["credit"].where(rows, 0.0), d=m["debit"].where(rows, 0.0),
                     t=m["transactions"].where(rows, 0), o=m["commitment"].where(rows, 0.0))
        g = d.groupby("customer_id", sort=True)
        out.update({f"{part}_months": g["on"].sum(), f"{part}_credit": g["c"].sum(), f"{part}_debit": g["d"].sum(),
                    f"{part}_transactions": g["t"].sum(), f"{part}_commitment": g["o"].sum(),
                    f"{part}_balance_months": g["b"].count(),
                    f"{part}_balance": g["b"].sum(min_count=1), f"{part}_negative_months": g["neg"].sum()})
    return out


def _slopes(m: pd.DataFrame, col: str) -> pd.Series:
    """Least-squares slope of `col` on month per customer (SQL's regr_slope: null without two distinct
    months that have a value); months are counted from each customer's first to keep the sums small."""
    d = m.loc[m[col].notna(), ["customer_id", "month", col]]
    x = (d["month"] - d.groupby("customer_id")["month"].transform("min")).astype(np.float64)
    y = d[col].astype(np.float64)
    g = pd.DataFrame({"customer_id": d["customer_id"], "x": x, "y": y, "xy": x * y, "xx": x * x}) \
        .groupby("customer_id", sort=True)
    n, sx, sy, sxy, sxx = g.size(), g["x"].sum(), g["y"].sum(), g["xy"].sum(), g["xx"].sum()
    var = sxx - sx * sx / n
    return ((sxy - sx * sy / n) / var).where(var > 1e-9)


def behaviour_sums(tx: pd.DataFrame) -> pd.DataFrame:
    """The `CUSTOMER` sums of a canonical transaction table."""
    return customer_sums(customer_month(tx))


def monthly(months: pd.DataFrame, segments: pd.Series, horizon: int) -> pd.DataFrame:
    """`fthc.features.measures.MONTHLY` in pandas: per segment and month of history, quartiles of money in, money
    out and the month-end balance."""
    m = months.merge(pd.DataFrame({"customer_id": segments.index, "segment": segments.to_numpy()}), on="customer_id")
    m["month_number"] = m["month"] - m.groupby("customer_id")["month"].transform("min")
    m = m[m["month_number"] < horizon]
    g = m.groupby(["segment", "month_number"], sort=True)
    out = {"customers": g.size()}
    for name, col in (("income", "credit"), ("spending", "debit"), ("balance", "balance")):
        for q, label in ((0.25, "q1"), (0.5, "median"), (0.75, "q3")):
            out[f"{name}_{label}"] = g[col].quantile(q)
    return pd.DataFrame(out).reset_index()
