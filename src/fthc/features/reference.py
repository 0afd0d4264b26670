"""The behaviour sums of `fthc.features.measures` computed with pandas: the reference implementation that the SQL
engines are tested against, and the `pandas` engine (in memory, or bucket by bucket for a partitioned dataset).

It follows the SQL step by step: customer-months (`customer_month`, every calendar month, dormant ones included),
their balance carried forward, then one row per customer (`customer_sums`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .measures import EVENT_KINDS, SUMS


def customer_month(tx: pd.DataFrame) -> pd.DataFrame:
    """One row per (customer, calendar month) of a canonical table (rows in canonical order: ties in time keep
    their input order, as `seq` does in SQL)."""
    ts = tx["timestamp"]
    amount = tx["amount"].to_numpy(dtype=np.float64)
    kind = tx["kind"].astype(str).to_numpy()
    credit = amount > 0
    debit = amount < 0
    t = pd.DataFrame({
        "customer_id": tx["customer_id"].to_numpy(),
        "month": (ts.dt.year * 12 + ts.dt.month - 1).to_numpy(np.int64),
        "transactions": 1, "amount_sum": amount, "amount_sq": amount * amount,
        "credit": np.where(credit, amount, 0.0), "debit": np.where(debit, -amount, 0.0),
        "credits": credit.astype(np.int64), "debits": debit.astype(np.int64),
        "log_credit": np.where(credit, np.log1p(np.where(credit, amount, 0)), np.nan),
        "log_debit": np.where(debit, np.log1p(np.where(debit, -amount, 0)), np.nan),
        **{f"n_{k}": (kind == k).astype(np.int64) for k in EVENT_KINDS},
        "n_interest_credited": ((kind == "interest_fees") & credit).astype(np.int64),
        "top_transfer_in": np.where((kind == "incoming_transfer") & credit, amount, np.nan),
        "top_pension": np.where((kind == "pension") & credit, amount, np.nan),
        "last_balance": tx["balance"].to_numpy(dtype=np.float64),
    })
    g = t.groupby(["customer_id", "month"], sort=True)
    # (the SQL counts the per-customer ones without months)
    sums = ["transactions", "amount_sum", "amount_sq", "credit", "debit", "credits", "debits",
            *[f"n_{k}" for k in EVENT_KINDS], "n_interest_credited"]
    out = g[sums].sum()
    out["log_credit"] = g["log_credit"].sum(min_count=1)
    out["log_debit"] = g["log_debit"].sum(min_count=1)
    out["top_transfer_in"] = g["top_transfer_in"].max()
    out["top_pension"] = g["top_pension"].max()
    out["last_balance"] = g["last_balance"].last()  # the last non-null value, rows in canonical order
    out = _dense(out.reset_index(), sums)
    out["balance"] = out.groupby("customer_id", sort=False)["last_balance"].ffill()  # carried forward
    return out


def _dense(active: pd.DataFrame, sums: list[str]) -> pd.DataFrame:
    """Every calendar month from each customer's first to its last (`DENSE_MONTHS`): a dormant month repeats the
    row of the active month before it, with nothing in or out (its `sums` 0) and that month's last balance."""
    nxt = active.groupby("customer_id", sort=False)["month"].shift(-1)
    span = (nxt - active["month"]).fillna(1).astype(np.int64).to_numpy()
    out = active.loc[active.index.repeat(span)].reset_index(drop=True)
    gap = np.arange(len(out)) - np.repeat(np.cumsum(span) - span, span)
    out["month"] = out["month"].to_numpy() + gap
    out["active"] = gap == 0
    dormant = ~out["active"].to_numpy()
    if dormant.any():
        out.loc[dormant, sums] = 0
        out.loc[dormant, ["log_credit", "log_debit", "top_transfer_in", "top_pension"]] = np.nan
    return out


def customer_sums(months: pd.DataFrame) -> pd.DataFrame:
    """One row per customer (index: customer_id, sorted) of the `CUSTOMER` sums."""
    m = months.assign(credit_sq=months["credit"] ** 2, negative=(months["balance"] < 0).astype(np.int64),
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
        "balance_slope": _slopes(m),
    })
    out["negative_months"] = out["negative_months"].fillna(0).astype(np.int64)
    out.index.name = "customer_id"
    return out[SUMS]


def _slopes(m: pd.DataFrame) -> pd.Series:
    """Least-squares slope of balance on month per customer (SQL's regr_slope: null without two distinct
    months that have a balance); months are counted from each customer's first to keep the sums small."""
    d = m.loc[m["balance"].notna(), ["customer_id", "month", "balance"]]
    x = (d["month"] - d.groupby("customer_id")["month"].transform("min")).astype(np.float64)
    y = d["balance"].astype(np.float64)
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
