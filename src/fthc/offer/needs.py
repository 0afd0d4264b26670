"""Savings and protection needs per segment, from each customer's affordability columns: who could save a steady
amount each month, and who lives so close to the edge that a month without income leaves them unable to pay.

- *steady surplus*: money in exceeds money out even in a bad month (the 10th percentile of its months: in 9 months
  of 10); the amount it could save is that bad month's surplus, so the saving holds at that confidence;
- *thin buffer*: the median month-end balance covers less than one month of typical spending (an emergency-buffer
  product's customers);
- *income gaps*: in a bad month money in stops or falls below half of a typical month's (income protection);
- *protection candidates*: both, a thin buffer and income gaps.
Customers without a window (no affordability figures) are counted and left out of the shares.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CONFIDENCE = 0.9  # the share of months a steady saving holds in (the 10th percentile month)
INCOME_GAP = 0.5  # a bad month's money in below this share of a typical month's


def _row(a: pd.DataFrame) -> dict:
    known = a[a["typical_income"].notna()]
    n = len(known)
    steady = known["bad_month_free_cash_flow"] > 0
    buffer = known["buffer"].mask(known["typical_spending"] == 0, np.inf)  # nothing spent: no month to cover
    known_buffer = buffer.notna()
    thin = (buffer < 1) & known_buffer
    of_buffer = (lambda x: float(x.sum()) / int(known_buffer.sum())) if known_buffer.any() else (lambda x: np.nan)
    gaps = known["bad_month_income"] < INCOME_GAP * known["typical_income"]
    share = (lambda x: float(x.sum()) / n) if n else (lambda x: np.nan)
    return {"customers": len(a), "with_window": n, "steady_surplus_share": share(steady),
            "could_save_per_month": float(known.loc[steady, "bad_month_free_cash_flow"].median()) if steady.any()
            else np.nan,
            "buffer_known": int(known_buffer.sum()), "thin_buffer_share": of_buffer(thin),
            "income_gap_share": share(gaps),
            "protection_share": of_buffer(thin & gaps),
            "median_free_cash_flow": float(known["typical_free_cash_flow"].median()) if n else np.nan}


def needs(assignments: pd.DataFrame) -> pd.DataFrame:
    """Per segment (and 'all'): customers, the share with a steady surplus and the median monthly amount they
    could save in 9 months of 10, the shares with a thin buffer, with income gaps and with both."""
    rows = {int(s): {"name": part["name"].iloc[0], **_row(part)}
            for s, part in assignments.groupby("segment", sort=True)}
    rows["all"] = {"name": "all customers", **_row(assignments)}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "segment"
    return out
