"""Segment profiles: the financial behaviour of each segment in numbers a product manager can read, read off the
same per-customer measures the default model clusters on (`fthc.features.measures`), and the Berka context
(loans, cards, age, district) where the data has it.

Every figure is a statistic of customers: the median customer of a segment (`median_*`) or the share of its
customers with a trait (`share_*`). The population row is computed the same way over all customers, never as a
weighted mean of segment figures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Figure:
    column: str  # in the profile
    measure: str  # per-customer measure (fthc.features.measures) or context column
    statistic: str  # median | share (of customers where the measure is true / > 0) | mean
    label: str  # short, for tables and charts
    unit: str = ""  # money | share | per month | months | ''


FIGURES = [
    Figure("median_income", "typical_month_income", "median", "income / month", "money"),
    Figure("median_spending", "typical_month_spending", "median", "spending / month", "money"),
    Figure("median_balance", "balance_level", "median", "month-end balance", "money"),
    Figure("median_low_balance", "balance_low", "median", "low balance (10th pct)", "money"),
    Figure("share_ever_negative", "negative_month_share", "share", "ever negative at month end", "share"),
    Figure("median_negative_months", "negative_month_share", "median", "months ending negative", "share"),
    Figure("median_transactions", "transactions_per_month", "median", "transactions / month", "per month"),
    Figure("median_cash_share", "cash_share", "median", "cash share", "share"),
    Figure("median_card_share", "card_share", "median", "card share", "share"),
    Figure("median_transfer_share", "transfer_share", "median", "transfer share", "share"),
    Figure("share_loan_payers", "loan_payment_share", "share", "pay a loan", "share"),
    Figure("median_loan_payment_share", "loan_payment_share", "median", "loan payments share", "share"),
    Figure("share_salary_like", "salary_like", "share", "regular salary-like credit", "share"),
    Figure("share_pension_like", "pension_like", "share", "regular pension", "share"),
    Figure("median_months_with_income", "months_with_income", "median", "months with income", "share"),
    Figure("median_income_variation", "income_variation", "median", "income variation", ""),
    Figure("median_spending_to_income", "spending_to_income", "median", "spending vs income (log)", ""),
    Figure("median_balance_trend", "balance_trend", "median", "balance trend (months of income / year)", ""),
    Figure("median_months", "months", "median", "months of history", "months"),
]
KEY_COLUMNS = ["customers", "share", "median_income", "median_balance", "share_ever_negative",
               "median_transactions", "share_salary_like", "share_pension_like"]


def _statistic(values: pd.Series, statistic: str) -> float:
    v = values.dropna()
    if v.empty:
        return np.nan
    if statistic == "median":
        return float(v.median())
    if statistic == "share":
        return float((v > 0).mean())
    return float(v.mean())


def figures_of(measures: pd.DataFrame) -> dict[str, float]:
    """The profile figures of one group of customers."""
    return {f.column: _statistic(measures[f.measure], f.statistic) for f in FIGURES if f.measure in measures}


def profile_segments(measures: pd.DataFrame, labels: pd.Series, context: pd.DataFrame | None = None,
                     with_population: bool = False) -> pd.DataFrame:
    """One row per segment (and, `with_population`, a last row 'all'): size, share and the figures."""
    b = measures.join(labels.rename("segment"), how="inner")
    groups = [(seg, g) for seg, g in b.groupby("segment", sort=True)]
    if with_population:
        groups.append(("all", b))
    rows = {}
    for seg, g in groups:
        row = {"customers": len(g), "share": len(g) / len(b)} | figures_of(g)
        if context is not None:
            row |= context_figures(context.reindex(g.index))
        rows[seg] = row
    prof = pd.DataFrame.from_dict(rows, orient="index")
    prof.index.name = "segment"
    return prof


def context_figures(c: pd.DataFrame) -> dict[str, float]:
    """Berka context of a group: loans and their default rate, median age, women's share, cards, district."""
    out = {"loans": float(c["has_loan"].sum()),
           "loan_default_rate": float(c["loan_default"].dropna().astype(float).mean())
           if c["loan_default"].notna().any() else np.nan,
           "median_age": float(c["age"].median()), "female_share": float(c["female"].dropna().astype(float).mean())}
    for card in ("junior", "classic", "gold"):
        out[f"card_{card}_share"] = float((c["card"] == card).mean())
    out["median_district_salary"] = float(c["district_salary"].median())
    out["median_district_unemployment_96"] = float(c["district_unemployment_96"].median())
    return out


def berka_context(data, customer_ids) -> pd.DataFrame:
    """Per Berka account: loan default (status B or D), loan date, card type, owner's age and gender, district.

    Rules for accounts the tables link to several rows: an account with several loans has a loan, is in default
    when any of its loans is (B or D), and its loan date is the earliest; an account with several owners takes the
    owner with the smallest disposition id; with several cards, the best card (gold > classic > junior)."""
    acc = data["account"].set_index("account_id")
    disp = data["disp"]
    owners = disp[disp["type"] == "OWNER"].sort_values("disp_id").drop_duplicates("account_id")
    owners = owners.merge(data["client"], on="client_id", suffixes=("", "_client")).set_index("account_id")
    ref = pd.Timestamp("1999-01-01")
    out = pd.DataFrame(index=pd.Index(customer_ids, name="customer_id"))
    out["age"] = ((ref - owners["birth_date"]).dt.days / 365.25).reindex(out.index)
    out["female"] = (owners["gender"] == "F").reindex(out.index)
    out["district_id"] = acc["district_id"].reindex(out.index)
    cards = data["card"].merge(disp[["disp_id", "account_id"]], on="disp_id")
    rank = {"junior": 0, "classic": 1, "gold": 2}
    best = cards.assign(r=cards["type"].astype(str).map(rank)).sort_values("r").groupby("account_id")["type"].last()
    out["card"] = best.astype(str).reindex(out.index).fillna("none")
    loans = data["loan"].assign(bad=data["loan"]["status"].isin(["B", "D"]))
    per_account = loans.groupby("account_id").agg(bad=("bad", "any"), date=("date", "min"), loans=("loan_id", "size"))
    out["has_loan"] = out.index.isin(per_account.index)
    out["loan_default"] = per_account["bad"].reindex(out.index)
    out["loan_date"] = per_account["date"].reindex(out.index)
    out["loans"] = per_account["loans"].reindex(out.index).fillna(0).astype(int)
    district = data["district"].set_index("district_id")
    d = acc["district_id"].reindex(out.index)
    out["district_salary"] = district["avg_salary"].reindex(d).to_numpy()
    out["district_unemployment_96"] = district["unemployment_96"].reindex(d).to_numpy()
    out["region"] = district["region"].reindex(d).astype(str).to_numpy()
    return out
