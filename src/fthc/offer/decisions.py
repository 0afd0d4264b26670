"""Each customer's offer: the repayment its budget affords, the amount that repayment supports, its probability
of default from its grade, the expected loss and margin at that amount, and a decision with its reason in words.

The probability of default (PD) of a customer is its grade's observed rate among the customers with an outcome,
each graded by its out-of-fold risk (`fthc.risk.grades`), made monotone in the grade (`grade_rates`), with its 95%
Wilson interval; where a grade (or its pool) rests on fewer than `MIN_OUTCOMES` outcomes, the customer's own
calibrated risk, with the grade's band as its interval.
Money figures are over the product's term: the expected loss is PD x loss given default x the amount (the whole
amount as the exposure: a loan that defaults early owes most of it); the margin is the interest the repayments
earn, if repaid, less the funding cost of the average outstanding balance, less the expected loss.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..risk.grades import MIN_OUTCOMES, Grades
from ..risk.intervals import wilson_interval
from .product import Product

DECISIONS = ("offer", "offer a smaller amount", "decline")
OFFER_COLUMNS = ["segment", "name", "risk_grade", "has_outcome", "credit_history", "typical_income",
                 "typical_free_cash_flow", "commitments", "affordable_repayment", "supported_amount", "amount",
                 "repayment", "pd", "pd_low", "pd_high", "pd_source", "expected_loss", "expected_margin", "decision",
                 "reason"]


def _pools(t: pd.DataFrame) -> list[list[int]]:
    """Grades with outcomes in pools whose rates rise with the grade: isotonic regression weighted by outcomes
    (adjacent grades whose rates run backwards pooled), then each pool of fewer than `MIN_OUTCOMES` outcomes
    merged with its nearer-rated neighbour (a merged rate lies between its two, so the rise is kept)."""
    from sklearn.isotonic import IsotonicRegression

    fitted = IsotonicRegression().fit(t.index, t["rate"], sample_weight=t["customers"]).predict(t.index)
    block = np.r_[0, np.cumsum(np.abs(np.diff(fitted)) > 1e-12)]
    pools = [list(t.index[block == b]) for b in np.unique(block)]

    def size(pool):
        return int(t.loc[pool, "customers"].sum())

    def rate(pool):
        return t.loc[pool, "positives"].sum() / size(pool)

    while len(pools) > 1 and min(size(p) for p in pools) < MIN_OUTCOMES:
        i = min(range(len(pools)), key=lambda j: (size(pools[j]), j))
        if i == 0 or (i < len(pools) - 1 and abs(rate(pools[i + 1]) - rate(pools[i]))
                      < abs(rate(pools[i]) - rate(pools[i - 1]))):
            pools[i:i + 2] = [pools[i] + pools[i + 1]]
        else:
            pools[i - 1:i + 1] = [pools[i - 1] + pools[i]]
    return pools


def grade_rates(grades: Grades) -> pd.DataFrame:
    """Per grade with outcomes: the default rate a lender's PD per grade takes, rising with the grade (`_pools`),
    its pool's 95% Wilson interval, whether it rests on `MIN_OUTCOMES` (short only where all outcomes together
    are fewer), and which grades were pooled."""
    t = grades.table[grades.table["customers"] > 0]
    if not len(t):
        return pd.DataFrame(columns=["rate", "rate_low", "rate_high", "enough", "pooled"])
    rows = {}
    for pool in _pools(t):
        k, n = int(t.loc[pool, "positives"].sum()), int(t.loc[pool, "customers"].sum())
        lo, hi = wilson_interval(k, n)
        for g in pool:
            rows[g] = {"rate": k / n, "rate_low": lo, "rate_high": hi, "enough": n >= MIN_OUTCOMES,
                       "pooled": f"{pool[0]}-{pool[-1]}" if len(pool) > 1 else ""}
    return pd.DataFrame.from_dict(rows, orient="index")


def grade_pd(assignments: pd.DataFrame, grades: Grades) -> pd.DataFrame:
    """PD, its interval and where it comes from, per customer (grade 0, no risk: missing). A grade without
    outcomes (customers scored into it, none learnt from) takes the customer's own estimate, kept between the
    rates of the grades with outcomes below and above it, with the grade's band as its range."""
    g = assignments["risk_grade"].to_numpy()
    rates = grade_rates(grades)
    full = rates.reindex(grades.table.index)
    below = full["rate"].ffill().fillna(0.0)  # the nearest rate of a grade with outcomes, at or below
    above = full["rate"].bfill().fillna(1.0)
    where = np.where(g > 0, g, 1)  # grade 0 (no risk) read as 1, then blanked
    t = full.join(grades.table[["risk_from", "risk_to"]]).reindex(where)
    learnt = t["rate"].notna().to_numpy() & (g > 0)
    enough = learnt & t["enough"].fillna(False).to_numpy(dtype=bool)
    pooled = t["pooled"].fillna("").astype(str).to_numpy()
    own = np.clip(assignments["risk"].to_numpy(dtype=np.float64), below.reindex(where).to_numpy(),
                  above.reindex(where).to_numpy())
    out = pd.DataFrame({
        "pd": np.where(learnt, t["rate"].to_numpy(dtype=np.float64), own),
        "pd_low": np.where(learnt, t["rate_low"].to_numpy(dtype=np.float64), t["risk_from"].to_numpy()),
        "pd_high": np.where(learnt, t["rate_high"].to_numpy(dtype=np.float64), t["risk_to"].to_numpy()),
        "pd_source": np.where(~learnt, "own estimate (no outcomes in the grade; its band as the range)",
                              np.where(~enough, f"grade's observed rate (fewer than {MIN_OUTCOMES} outcomes in all)",
                                       np.where(pooled != "", "grades " + pooled + " pooled",
                                                "grade's observed rate"))),
    }, index=assignments.index)
    out.loc[g == 0, ["pd", "pd_low", "pd_high"]] = np.nan
    out.loc[g == 0, "pd_source"] = ""
    return out


def money(amount: np.ndarray, pd_: np.ndarray, product: Product) -> dict[str, np.ndarray]:
    """Repayment, expected loss and expected margin of lending `amount` to a customer of default probability
    `pd_`, over the product's term: the interest earned if repaid ((1 - PD) x the repayments' interest), less
    funding of the annuity's outstanding balance month by month, less PD x LGD x the amount."""
    unit = product.unit_terms()
    return {"repayment": amount * unit.repayment, "expected_loss": pd_ * product.loss_given_default * amount,
            "expected_margin": amount * ((1 - pd_) * unit.interest - unit.funding
                                         - pd_ * product.loss_given_default)}


def affordable_repayment(assignments: pd.DataFrame, product: Product) -> np.ndarray:
    """The smaller of the income share less the loan payments already made and a typical month's free cash
    flow, never below 0 (missing without a window)."""
    income = assignments["typical_income"].to_numpy(dtype=np.float64)
    commitments = np.nan_to_num(assignments["commitments"].to_numpy(dtype=np.float64))
    free = assignments["typical_free_cash_flow"].to_numpy(dtype=np.float64)
    return np.maximum(np.minimum(product.repayment_share * income - commitments, free), 0.0)


def offers(assignments: pd.DataFrame, grades: Grades, product: Product) -> pd.DataFrame:
    """The `OFFER_COLUMNS` of every customer of `assignments` (its risk, grade and affordability columns)."""
    a = assignments
    pd_ = grade_pd(a, grades)
    p = pd_["pd"].to_numpy()
    afford = affordable_repayment(a, product)
    supported = afford * product.annuity_factor()
    if product.max_amount is not None:
        supported = np.minimum(supported, product.max_amount)
    asked = np.full(len(a), product.amount if product.amount is not None else np.inf)
    amount = np.minimum(supported, asked)
    unit = money(np.ones(len(a)), p, product)["expected_margin"]  # the margin of lending 1: its sign is the grade's
    grade = a["risk_grade"].to_numpy()
    no_risk = np.isnan(p)
    beyond = (grade > product.max_grade) if product.max_grade is not None else np.zeros(len(a), bool)
    unprofitable = ~no_risk & (unit <= 0)
    no_room = ~(afford > 0)
    too_small = ~product.lendable(supported)
    smaller = np.isfinite(asked) & (supported < asked)
    cases = [no_risk, beyond, unprofitable, no_room, too_small, smaller]
    decision = np.select(cases, ["decline"] * 5 + ["offer a smaller amount"], "offer")
    lent = np.where(decision == "decline", 0.0, amount)
    m = money(lent, np.nan_to_num(p), product)
    out = a.reindex(columns=["segment", "name", "risk_grade", "has_outcome", "typical_income", "typical_free_cash_flow",
                             "commitments"]).copy()
    out["credit_history"] = a["credit_history"] if "credit_history" in a else a["has_outcome"]
    out["affordable_repayment"], out["supported_amount"], out["amount"] = afford, supported, lent
    out["repayment"] = m["repayment"]
    out = out.join(pd_)
    out["expected_loss"], out["expected_margin"] = m["expected_loss"], m["expected_margin"]
    out["decision"] = decision
    out["reason"] = _reasons(a, cases, p, afford, supported, asked, m["repayment"], product)
    return out[OFFER_COLUMNS]


def _reasons(a, cases, p, afford, supported, asked, repayment, product: Product) -> list[str]:
    income, free = a["typical_income"].to_numpy(), a["typical_free_cash_flow"].to_numpy()
    commitments = np.nan_to_num(a["commitments"].to_numpy(dtype=np.float64))
    grade, why = a["risk_grade"].to_numpy(), a.get("risk_reasons", pd.Series("", index=a.index)).to_numpy()
    unit, break_even = product.unit_terms(), product.break_even_pd()  # the same for every customer
    out = []
    for i in range(len(a)):
        if cases[0][i]:
            out.append(f"no risk estimated ({why[i]})" if why[i] else "no risk estimated")
        elif cases[1][i]:
            out.append(f"grade {grade[i]} is beyond the cut-off (grade {product.max_grade})")
        elif cases[2][i]:
            out.append(unprofitable_reason(int(grade[i]), p[i], product, unit, break_even))
        elif cases[3][i]:
            out.append(f"no room for a repayment: a typical month's free cash flow is {free[i]:,.0f}; "
                       f"{product.repayment_share:.0%} of typical income {income[i]:,.0f} less loan payments "
                       f"{commitments[i]:,.0f}")
        elif cases[4][i]:
            out.append(f"the budget supports {afford[i]:,.0f} a month, {supported[i]:,.0f} in all: below the "
                       f"smallest amount, {product.min_amount:,.0f}")
        elif cases[5][i]:
            out.append(f"the budget supports {afford[i]:,.0f} a month: {supported[i]:,.0f} instead of "
                       f"{asked[i]:,.0f}")
        else:
            share = repayment[i] / income[i] if income[i] > 0 else np.nan
            out.append(f"grade {grade[i]} (default rate {p[i]:.1%}); repays {repayment[i]:,.0f} a month"
                       + (f", {share:.0%} of typical income" if np.isfinite(share) else "")
                       + f", of the {afford[i]:,.0f} its budget affords")
    return out


def unprofitable_reason(grade: int, pd_: float, product: Product, unit=None,
                        break_even: float | None = None) -> str:
    """Why lending at a grade loses money at the product's terms, in figures a credit team can check (`unit`,
    `break_even`: the product's `unit_terms()` and `break_even_pd()`, where the caller has them)."""
    unit = unit or product.unit_terms()
    if unit.interest <= unit.funding:
        return f"{product.funding_shortfall()}: no grade pays"
    break_even = product.break_even_pd() if break_even is None else break_even
    return (f"grade {grade}: a default rate of {pd_:.1%} is above the {break_even:.1%} these terms "
            f"break even at (an expected loss of {pd_ * product.loss_given_default:.1%} of the amount against "
            f"{(1 - pd_) * unit.interest - unit.funding:.1%} earned net of funding over {product.term_months} months)")
