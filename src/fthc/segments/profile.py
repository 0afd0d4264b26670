"""Segment profiles: the financial behaviour of each segment in numbers a product manager can read, and a short
factual description generated from them (no claim that the numbers do not show)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.transactions import validate_canonical

CASH = ["cash_deposit", "cash_withdrawal"]
CARD = ["card_payment"]
TRANSFER = ["incoming_transfer", "outgoing_transfer"]


def customer_behaviour(tx: pd.DataFrame) -> pd.DataFrame:
    """One row per customer: monthly income and spending, balance level and volatility, share of months ending
    negative, transactions per month, cash/card/transfer mix, salary-like and pension-like regular credits."""
    validate_canonical(tx)
    t = tx.assign(month=tx["timestamp"].dt.to_period("M"), credit=tx["amount"].clip(lower=0),
                  debit=(-tx["amount"]).clip(lower=0))
    monthly = t.groupby(["customer_id", "month"], sort=True).agg(
        credit=("credit", "sum"), debit=("debit", "sum"), n=("amount", "size"), balance=("balance", "last"))
    g = monthly.groupby(level=0)
    out = pd.DataFrame({
        "monthly_income": g["credit"].median(), "monthly_spending": g["debit"].median(),
        "transactions_per_month": g["n"].mean(),
        "balance_level": g["balance"].median(), "balance_volatility": g["balance"].std().fillna(0),
        "negative_month_share": g["balance"].apply(lambda b: float((b < 0).mean())),
        "active_months": g.size(),
    })
    if tx["balance"].isna().all():  # no balance column: nothing can be said about balances
        out[["balance_level", "balance_volatility", "negative_month_share"]] = np.nan
    kind = tx["kind"].astype(str)
    n = tx.groupby("customer_id").size()
    for name, kinds in (("cash_share", CASH), ("card_share", CARD), ("transfer_share", TRANSFER)):
        out[name] = kind.isin(kinds).groupby(tx["customer_id"]).sum() / n
    known_kinds = bool((kind != "other").any())  # without categories every transaction is 'other'
    if not known_kinds:
        out[["cash_share", "card_share", "transfer_share"]] = np.nan
    # a regular credit: an incoming transfer (or pension) in >= 75% of active months, amounts varying < 20%
    for name, kinds in (("salary_like", ["incoming_transfer"]), ("pension_like", ["pension"])):
        rows = t[kind.isin(kinds).to_numpy() & (t["amount"] > 0).to_numpy()]
        per = rows.groupby(["customer_id", "month"])["amount"].max().groupby(level=0)
        months_with = per.size()
        cv = per.std().fillna(0) / per.mean()
        regular = (months_with / out["active_months"].reindex(months_with.index) >= 0.75) & (cv < 0.2)
        out[name] = regular.reindex(out.index, fill_value=False).astype(float) if known_kinds else np.nan
    return out


def berka_context(data, customer_ids) -> pd.DataFrame:
    """Per Berka account: loan default (status B or D), card type, owner's age and gender, district figures."""
    acc = data["account"].set_index("account_id")
    disp = data["disp"]
    owners = disp[disp["type"] == "OWNER"].merge(data["client"], on="client_id", suffixes=("", "_client"))
    owners = owners.set_index("account_id")
    ref = pd.Timestamp("1999-01-01")
    out = pd.DataFrame(index=pd.Index(customer_ids, name="customer_id"))
    out["age"] = ((ref - owners["birth_date"]).dt.days / 365.25).reindex(out.index)
    out["female"] = (owners["gender"] == "F").reindex(out.index)
    cards = data["card"].merge(disp[["disp_id", "account_id"]], on="disp_id")
    best = cards.sort_values("type").groupby("account_id")["type"].last()
    out["card"] = best.astype(str).reindex(out.index).fillna("none")
    loans = data["loan"].set_index("account_id")
    out["has_loan"] = out.index.isin(loans.index)
    out["loan_default"] = loans["status"].isin(["B", "D"]).reindex(out.index)
    district = data["district"].set_index("district_id")
    d = acc["district_id"].reindex(out.index)
    out["district_salary"] = district["avg_salary"].reindex(d).to_numpy()
    out["district_unemployment_96"] = district["unemployment_96"].reindex(d).to_numpy()
    return out


def profile_segments(behaviour: pd.DataFrame, labels: pd.Series, context: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per segment: size and the medians / shares of the behaviour (and Berka context where given)."""
    b = behaviour.join(labels.rename("segment"), how="inner")
    g = b.groupby("segment")
    prof = pd.DataFrame({
        "customers": g.size(), "share": g.size() / len(b),
        "median_monthly_income": g["monthly_income"].median(),
        "median_monthly_spending": g["monthly_spending"].median(),
        "median_balance": g["balance_level"].median(),
        "median_balance_volatility": g["balance_volatility"].median(),
        "negative_month_share": g["negative_month_share"].mean(),
        "transactions_per_month": g["transactions_per_month"].median(),
        "cash_share": g["cash_share"].mean(), "card_share": g["card_share"].mean(),
        "transfer_share": g["transfer_share"].mean(),
        "salary_like_share": g["salary_like"].mean(), "pension_like_share": g["pension_like"].mean(),
    })
    if context is not None:
        c = context.join(labels.rename("segment"), how="inner").groupby("segment")
        prof["loans"] = c["has_loan"].sum()
        prof["loan_default_rate"] = c["loan_default"].apply(lambda s: s.dropna().astype(float).mean())
        prof["median_age"] = c["age"].median()
        prof["female_share"] = c["female"].apply(lambda s: s.dropna().astype(float).mean())
        for card in ("junior", "classic", "gold"):
            prof[f"card_{card}_share"] = c["card"].apply(lambda s, card=card: float((s == card).mean()))
        prof["median_district_salary"] = c["district_salary"].median()
        prof["median_district_unemployment_96"] = c["district_unemployment_96"].median()
    return prof


def describe(profile: pd.DataFrame) -> dict:
    """A short factual description of each segment, from its profile relative to all customers."""
    overall_income = np.average(profile["median_monthly_income"], weights=profile["customers"])
    overall_tx = np.average(profile["transactions_per_month"], weights=profile["customers"])
    out = {}
    for seg, p in profile.iterrows():
        parts = []
        regular = p["salary_like_share"] + p["pension_like_share"]
        if pd.isna(regular):
            pass  # no transaction kinds: salary and pension cannot be told from other credits
        elif p["pension_like_share"] >= 0.5:
            parts.append(f"regular pension-like credit ({p['pension_like_share']:.0%})")
        elif p["salary_like_share"] >= 0.5:
            parts.append(f"regular monthly credit ({p['salary_like_share']:.0%} salary-like)")
        elif regular >= 0.5:
            parts.append(f"regular credit for {regular:.0%} "
                         f"({p['salary_like_share']:.0%} salary-like, {p['pension_like_share']:.0%} pension-like)")
        else:
            parts.append(f"mostly irregular income (regular credit for {regular:.0%})")
        income = p["median_monthly_income"]
        district = p.get("median_district_salary", np.nan)
        if pd.notna(district) and district > 0 and income / district >= 0.05:
            parts.append(f"income ~{income / district:.1f}x district salary ({income:,.0f}/month)")
        elif overall_income > 0 and income / overall_income >= 0.05:
            parts.append(f"income {income / overall_income:.1f}x the median customer's ({income:,.0f}/month)")
        else:
            parts.append(f"income {income:,.0f}/month")
        cash = p["cash_share"]
        if pd.notna(cash):
            parts.append(f"{'high' if cash > 0.3 else 'low' if cash < 0.15 else 'moderate'} "
                         f"cash use ({cash:.0%} of transactions)")
        if pd.notna(p["card_share"]) and p["card_share"] >= 0.1:
            parts.append(f"card payments {p['card_share']:.0%}")
        neg = p["negative_month_share"]
        if pd.notna(neg):  # only where the data has balances
            parts.append("rarely negative" if neg < 0.05 else f"negative at {neg:.0%} of month ends")
        tpm = p["transactions_per_month"]
        parts.append(f"{'very active' if tpm > 1.5 * overall_tx else 'quiet' if tpm < 0.6 * overall_tx else 'typical activity'}"
                     f" ({tpm:.1f} transactions/month)")
        if "loan_default_rate" in p and p["loans"] > 0:
            parts.append(f"{int(p['loans'])} loans, {p['loan_default_rate']:.0%} in default (B/D)")
        out[seg] = ", ".join(parts)
    return out
