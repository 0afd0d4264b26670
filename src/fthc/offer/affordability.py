"""Affordability per customer, read off the behaviour measures of its window (the one its risk reads): the
figures a responsible-lending check asks for, each defined once in `fthc.features.measures` (one SQL definition
on every engine, the pandas reference beside it)."""

from __future__ import annotations

import pandas as pd

# assignment column -> the measure it is
# (named apart from the measures: an assignment may carry a customer's whole-history measures beside them)
AFFORDABILITY = {
    "typical_income": "typical_month_income",  # money in of a typical month (median over calendar months)
    "typical_spending": "typical_month_spending",
    "typical_free_cash_flow": "free_cash_flow",  # money in less money out, a typical month
    "bad_month_free_cash_flow": "free_cash_flow_low",  # ... a bad month (10th percentile)
    "bad_month_income": "income_low",  # money in of a bad month
    "buffer": "buffer_months",  # median month-end balance, in months of typical spending
    "commitments": "commitments_per_month",  # loan payments per month, the last 3 months
    "income_month_share": "months_with_income",
}


def affordability(window_measures: pd.DataFrame) -> pd.DataFrame:
    """The `AFFORDABILITY` columns of each customer (index kept); a measure the data cannot give (balances
    without a balance column, loan payments without transaction kinds) is missing."""
    return pd.DataFrame({col: window_measures[m] if m in window_measures else float("nan")
                         for col, m in AFFORDABILITY.items()}, index=window_measures.index)
