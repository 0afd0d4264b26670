"""The behaviour measures, each defined once: what the default model clusters on, what a segment's profile
reports and what the summary-feature baseline uses are read off one per-customer table.

How it is computed, in three steps:
1. SQL over the transactions: per customer, counts per kind, money out, sums of log amounts
   (`CUSTOMER_TRANSACTIONS`); per customer and calendar month, money in and out, the largest regular-looking
   credits and the last known balance (`customer_month_sql`). Each aggregate is written once (`AGGREGATES`).
2. SQL over those month rows only: every calendar month of each history (dormant ones included,
   `DENSE_MONTHS`), its balance, then one row per customer of sums, counts and quantiles (`CUSTOMER_MONTHS`),
   joined to the first: `SUMS`. Every aggregate is algebraic (a sum or a count) except the quantiles, which read
   one value per customer-month, never one per transaction: memory does not grow with the length of a history.
   Any number of windows (`fthc track`'s periods) read one table of wide month rows, every aggregate per month
   (`window_sql`), not the transactions again.
3. `measures` (numpy): those sums -> the named measures (`MEASURES`: per month, shares, regularity, balance).

The SQL is written once, in the dialect DuckDB and Spark share; the two constructs they spell differently (an
exact quantile and the last non-null value of a window) are macros that `render` fills in per dialect. The
pandas engine (`fthc.features.reference`) computes the same sums and is the reference both are tested against.

Definitions worth knowing:
- *months* are calendar months, from the customer's first transaction's month to the last's, inclusive: a salary
  on the 1st of each of 24 months is 24 months with income, and its income varies by 0;
- the *balance* of a month is the balance after its last transaction (ties in time keep the input order); a
  transaction without a balance carries the last known one forward; without any balance column nothing about
  balances is measured (the measures are missing, not invented);
- a month without transactions between two with them is a month of the history: no money in or out, its
  balance that of the month before (an account overdrawn from February to July with one transaction in each of
  February and July has 6 negative month-ends of 6);
- a *regular* credit is an incoming transfer (or pension) in at least 75% of the months, its monthly largest
  amount varying by less than 20% (coefficient of variation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from ..data.transactions import KINDS

EVENT_KINDS = KINDS[:-1]  # 'other' is what no kind names
REGULAR_MONTHS, REGULAR_CV = 0.75, 0.2

# -- SQL, written once ------------------------------------------------------------------------------------------
DIALECTS = {
    # exact quantile (linear interpolation, as numpy's default), last non-null value over a window, an ordering key
# of two columns (time, then input order), the numbers 0..x-1 as rows
    "duckdb": {"quantile": "quantile_cont({x}, {p})", "last_known": "last_value({x} IGNORE NULLS)",
               # one 128-bit key (microseconds, then the input order): faster than a struct at 100M rows
               "in_order": "CAST(epoch_us({x}) AS HUGEINT) * 18446744073709551616 + {p}",
               "spread": "unnest(range(0, {x}))"},
    "spark": {"quantile": "percentile({x}, {p})", "last_known": "last_value({x}, true)",
              "in_order": "struct({x}, {p})", "spread": "explode(sequence(0, {x} - 1))"},
}

# the month index: a calendar month as one integer, consecutive months 1 apart (year * 12 + month - 1), written once
# for SQL, as the macros `{month_index(x)}` and `{month_before(x)}` that `render` fills in (alike in every
# dialect), and once for Python (`month_index`, `month_before`)
_MONTH_INDEX = "(year({x}) * 12 + month({x}) - 1)"
MONTH_MACROS = {"month_index": _MONTH_INDEX, "month_before": f"({_MONTH_INDEX} - 1)"}


def month_index(t):
    """The month index (year * 12 + month - 1) of a time, or of each time of a datetime Series or index."""
    d = t.dt if isinstance(t, pd.Series) else t
    return d.year * 12 + d.month - 1


def month_before(t):
    """The month index of the month before `t`'s: the last month of a window whose cutoff is `t` (the first day
    of a month, exclusive)."""
    return month_index(t) - 1


# canonical transactions: customer_id, timestamp, amount (signed), balance (may be null), kind (text), seq (the
# input order: ties in time are broken by it; a month's balance is that of its last row by time, then seq). Every
# figure a transaction adds to, once: an aggregate over a customer's transactions, or over a customer-month's
AGGREGATES = {
    "transactions": "count(*)",
    "amount_sum": "sum(amount)",
    "amount_sq": "sum(amount * amount)",
    "credit": "sum(CASE WHEN amount > 0 THEN amount ELSE 0 END)",
    "debit": "sum(CASE WHEN amount < 0 THEN -amount ELSE 0 END)",
    "credits": "count(CASE WHEN amount > 0 THEN 1 END)",
    "debits": "count(CASE WHEN amount < 0 THEN 1 END)",
    "log_credit": "sum(CASE WHEN amount > 0 THEN ln(1 + amount) END)",
    "log_debit": "sum(CASE WHEN amount < 0 THEN ln(1 - amount) END)",
    **{f"n_{k}": f"count(CASE WHEN kind = '{k}' THEN 1 END)" for k in EVENT_KINDS},
    "n_interest_credited": "count(CASE WHEN kind = 'interest_fees' AND amount > 0 THEN 1 END)",
    "top_transfer_in": "max(CASE WHEN kind = 'incoming_transfer' AND amount > 0 THEN amount END)",
    "top_pension": "max(CASE WHEN kind = 'pension' AND amount > 0 THEN amount END)",
    "top_regular": "max(CASE WHEN kind IN ('incoming_transfer', 'pension') AND amount > 0 THEN amount END)",
    "last_balance": "max_by(balance, {in_order(timestamp, seq)}) FILTER (WHERE balance IS NOT NULL)",
    "commitment": "sum(CASE WHEN kind = 'loan_payment' AND amount < 0 THEN -amount ELSE 0 END)",
}
# what sums over a customer's transactions (`CUSTOMER_TRANSACTIONS`; or over its month rows, where they are wide)
TRANSACTION_SUMS = ["transactions", "amount_sum", "amount_sq", "debit", "credits", "debits", "log_credit",
                    "log_debit", *[f"n_{k}" for k in EVENT_KINDS], "n_interest_credited"]
# what a month needs for itself: a customer's month rows (`customer_month_sql`) hold these, or with `wide` every
# aggregate (so that any window of months can be summed without the transactions: `fthc track`'s periods)
MONTH_OWN = ["transactions", "credit", "debit", "top_transfer_in", "top_pension", "top_regular", "last_balance",
             "commitment"]
MONTH_NULL = {"log_credit", "log_debit", "top_transfer_in", "top_pension", "top_regular"}  # null when dormant


def month_columns(wide: bool) -> list[str]:
    return [c for c in AGGREGATES if wide or c in MONTH_OWN]


def _select(columns) -> str:
    return ",\n       ".join(f"{AGGREGATES[c]} AS {c}" for c in columns)


CUSTOMER_TRANSACTIONS = f"""
SELECT customer_id,
       {_select(TRANSACTION_SUMS)}
FROM {{source}}
GROUP BY customer_id
"""


def customer_month_sql(dialect: str, source: str, wide: bool = False) -> str:
    """Per customer and calendar month of `source`'s transactions, the `MONTH_OWN` aggregates (`wide`: all)."""
    return render(f"""
SELECT customer_id,
       {{month_index(timestamp)}} AS month,
       {_select(month_columns(wide))}
FROM {{source}}
GROUP BY customer_id, {{month_index(timestamp)}}
""", dialect, source)


# every calendar month from a customer's first to the end of its history, dormant ones included: a month without
# transactions repeats the month-end balance of the month before it (and has no money in or out), so that balance
# measures count the same calendar months as income measures do. Each active month is spread over itself and the
# dormant months after it (`gap` 0 is the month itself); the last one up to `end_month`: the customer's last
# month, or in a window the month before its cutoff (a customer gone quiet before its cutoff is dormant there).
# `typical_regular`: the customer's median monthly largest incoming transfer or pension (what a regular credit is).
# The windows over a customer's months are computed at one level (one partitioning of the month rows, not three)
DENSE_MONTHS = """
SELECT customer_id, month + gap AS month, gap = 0 AS active, last_month AS end_month, typical_regular,
       {carried},
       last_balance
FROM (SELECT *, {spread(span)} AS gap
      FROM (SELECT *, coalesce(next_month, last_month + 1) - month AS span
            FROM (SELECT *, lead(month) OVER (PARTITION BY customer_id ORDER BY month) AS next_month,
                         {end_month} AS last_month,
                         {quantile(top_regular, 0.5)} OVER (PARTITION BY customer_id) AS typical_regular
                  FROM {source}) AS ends) AS spans) AS spread
"""


def _carried(wide: bool) -> str:
    """A dormant month's figures: 0 (or null, for what only a transaction has) but its balance."""
    return ",\n       ".join(f"CASE WHEN gap = 0 THEN {c} END AS {c}" if c in MONTH_NULL else
                              f"CASE WHEN gap = 0 THEN {c} ELSE 0 END AS {c}"
                              for c in month_columns(wide) if c != "last_balance")


# the end of each customer's history: its last month (`WHOLE_END`, a window beside `DENSE_MONTHS`' own), or the month
# before its window's cutoff (`WINDOW_END`, joined from the registered cutoffs `as_of_cutoffs`)
WHOLE_END = "max(month) OVER (PARTITION BY customer_id)"
WINDOW_END = """
SELECT m.*, {month_before(c.cutoff)} AS end_month
FROM {source} JOIN as_of_cutoffs c ON m.customer_id = c.customer_id
"""

# each month's balance: its last known one, carried forward from earlier months where a month has none
MONTH_BALANCE = """
SELECT *, {last_known(last_balance)} OVER (PARTITION BY customer_id ORDER BY month
                                           ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS balance
FROM {source}
"""
MONTH_BALANCE_NO_GAPS = "SELECT *, last_balance AS balance FROM {source}"  # every month knows its balance

CUSTOMER_MONTHS = """
SELECT customer_id,{month_sums}
       min(month) AS first_month,
       max(month) - min(month) + 1 AS months,
       count(CASE WHEN active THEN 1 END) AS active_months,
       sum(credit) AS credit,
       sum(credit * credit) AS credit_sq,
       {quantile(credit, 0.5)} AS credit_median,
       {quantile(debit, 0.5)} AS debit_median,
       {quantile(credit, 0.1)} AS credit_p10,
       {quantile(credit - debit, 0.5)} AS net_median,
       {quantile(credit - debit, 0.1)} AS net_p10,
       count(CASE WHEN credit > 0 THEN 1 END) AS months_with_credit,
       count(top_transfer_in) AS transfer_in_months,
       sum(top_transfer_in) AS transfer_in_sum,
       sum(top_transfer_in * top_transfer_in) AS transfer_in_sq,
       count(top_pension) AS pension_months,
       sum(top_pension) AS pension_sum,
       sum(top_pension * top_pension) AS pension_sq,
       count(balance) AS balance_months,
       {quantile(balance, 0.5)} AS balance_median,
       {quantile(balance, 0.1)} AS balance_p10,
       avg(balance) AS balance_mean,
       stddev_pop(balance) AS balance_sd,
       count(CASE WHEN balance < 0 THEN 1 END) AS negative_months,
       regr_slope(balance, month) AS balance_slope,
       regr_slope(credit, month) AS credit_slope,
       max(end_month) - max(CASE WHEN top_regular >= 0.5 * typical_regular THEN month END) AS since_regular,
       {recent_sums}
FROM {source}
GROUP BY customer_id
"""

# the last RECENT_MONTHS months of each history against the months before them: per part, months, money in and out,
# transactions, month-end balances (their count and sum) and negative month-ends
RECENT_MONTHS = 3
RECENT_ROWS = 7  # customer-months kept of a window's end for the outcome model's last six months in order (and the
# balance carried into them)


def _recent_sums() -> str:
    parts = []
    for part, test in (("recent", f"month > end_month - {RECENT_MONTHS}"),
                       ("earlier", f"month <= end_month - {RECENT_MONTHS}")):
        parts += [f"count(CASE WHEN {test} THEN 1 END) AS {part}_months",
                  *[f"sum(CASE WHEN {test} THEN {c} ELSE 0 END) AS {part}_{c}"
                    for c in ("credit", "debit", "transactions", "commitment")],
                  f"count(CASE WHEN {test} THEN balance END) AS {part}_balance_months",
                  f"sum(CASE WHEN {test} THEN balance END) AS {part}_balance",
                  f"count(CASE WHEN {test} AND balance < 0 THEN 1 END) AS {part}_negative_months"]
    return ",\n       ".join(parts)


CUSTOMER_MONTHS = CUSTOMER_MONTHS.replace("{recent_sums}", _recent_sums())
RECENT_SUMS = [f"{part}_{c}" for part in ("recent", "earlier")
               for c in ("months", "credit", "debit", "transactions", "commitment", "balance_months", "balance",
                         "negative_months")]

SUMS = ["transactions", "first_month", "months", "active_months", "amount_sum", "amount_sq", "credit", "debit",
        "credit_sq", "credit_median", "debit_median", "credit_p10", "net_median", "net_p10", "months_with_credit",
        "credits", "debits", "log_credit",
        "log_debit", *[f"n_{k}" for k in EVENT_KINDS], "n_interest_credited", "transfer_in_months",
        "transfer_in_sum", "transfer_in_sq",
        "pension_months", "pension_sum", "pension_sq", "balance_months", "balance_median", "balance_p10",
        "balance_mean", "balance_sd", "negative_months", "balance_slope", "credit_slope", "since_regular",
        *RECENT_SUMS]


def month_sql(dialect: str, source: str, gaps: bool, windowed: bool = False) -> str:
    """Every calendar month of each customer's history with its balance (carried forward where `gaps`: some
    balances are missing; a dormant month keeps the balance of the month before), to its last month or, where
    `windowed` (`source` read inside the windows of `as_of_cutoffs`), to the month before its cutoff."""
    rows = f"({customer_month_sql(dialect, source)}) AS m"
    if windowed:
        return dense_sql(dialect, f"({render(WINDOW_END, dialect, rows)}) AS cm", gaps)
    return dense_sql(dialect, rows, gaps, end=WHOLE_END)


def dense_sql(dialect: str, rows: str, gaps: bool, wide: bool = False, end: str = "end_month") -> str:
    """`DENSE_MONTHS` and the balances of month rows (`customer_month_sql`'s), each history running to `end`
    (a column of `rows`, or `WHOLE_END`)."""
    months = render(DENSE_MONTHS.replace("{carried}", _carried(wide)).replace("{end_month}", end), dialect, rows)
    return render(MONTH_BALANCE if gaps else MONTH_BALANCE_NO_GAPS, dialect, f"({months}) AS dm")


def window_sql(dialect: str, month_rows: str, start: int | None, end: int, gaps: bool) -> str:
    """Every customer's months inside one window, read from a table of wide month rows (`customer_month_sql`
    with `wide`: one aggregation of the transactions for any number of windows): months `start` (None: no
    bound) to `end`, inclusive (`month_index`es), each history running to `end`. The same months as
    `month_sql` of the transactions inside the window, with every aggregate of `TRANSACTION_SUMS` besides."""
    lower = f" AND month >= {int(start)}" if start is not None else ""
    rows = f"(SELECT *, {int(end)} AS end_month FROM {month_rows} WHERE month <= {int(end)}{lower}) AS w"
    return dense_sql(dialect, rows, gaps, wide=True)


def customer_sql(dialect: str, months: str, source: str | None = None) -> str:
    """The `SUMS`, one row per customer: of the transactions `source` (`CUSTOMER_TRANSACTIONS`) and their
    customer-months `months` (`month_sql`) joined; without `source`, of wide customer-months alone
    (`window_sql`)."""
    if source is None:
        sums = "".join(f"\n       sum({c}) AS {c}," for c in TRANSACTION_SUMS)
        return render(CUSTOMER_MONTHS.replace("{month_sums}", sums), dialect, months)
    return (f"SELECT * FROM ({render(CUSTOMER_TRANSACTIONS, dialect, source)}) AS t "
            f"JOIN ({render(CUSTOMER_MONTHS.replace('{month_sums}', ''), dialect, months)}) AS m USING (customer_id)")


# a segment's typical months: per segment and month of history (0 = each customer's first), the quartiles of
# money in, money out and the month-end balance over its customers (the page's monthly chart)
MONTHLY = """
SELECT s.segment, m.month - f.first_month AS month_number, count(*) AS customers,
       {quantile(m.credit, 0.25)} AS income_q1, {quantile(m.credit, 0.5)} AS income_median,
       {quantile(m.credit, 0.75)} AS income_q3,
       {quantile(m.debit, 0.25)} AS spending_q1, {quantile(m.debit, 0.5)} AS spending_median,
       {quantile(m.debit, 0.75)} AS spending_q3,
       {quantile(m.balance, 0.25)} AS balance_q1, {quantile(m.balance, 0.5)} AS balance_median,
       {quantile(m.balance, 0.75)} AS balance_q3
FROM {months} AS m
JOIN {segments} AS s ON m.customer_id = s.customer_id
JOIN (SELECT customer_id, min(month) AS first_month FROM {months} GROUP BY customer_id) AS f
  ON m.customer_id = f.customer_id
WHERE m.month - f.first_month < {horizon}
GROUP BY s.segment, m.month - f.first_month
"""
MONTHLY_HORIZON = 36  # months of history charted


def monthly_sql(dialect: str, months: str, segments: str, horizon: int = MONTHLY_HORIZON) -> str:
    sql = render(MONTHLY, dialect, "")
    return sql.replace("{months}", months).replace("{segments}", segments).replace("{horizon}", str(horizon)) \
        + " ORDER BY 1, 2"


def render(sql: str, dialect: str, source: str) -> str:
    """The SQL for one engine: its macros filled in, reading from `source` (a table, view or subquery)."""
    import re

    macros = DIALECTS[dialect] | MONTH_MACROS

    def fill(match: re.Match) -> str:
        name, args = match.group(1), [a.strip() for a in match.group(2).split(",")]
        return macros[name].format(**dict(zip(("x", "p"), args)))

    return re.sub(rf"\{{({'|'.join(macros)})\(([^)]*)\)\}}", fill, sql) \
        .replace("{source}", source)


# -- the named measures ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Measure:
    name: str
    compute: Callable[[pd.DataFrame], pd.Series]
    doc: str
    unit: str = ""  # 'money', 'share', 'per month', 'months', 'change' (a log ratio, read as +x%), '' (a number)
    needs: str = ""  # 'balance' or 'kinds': missing where the data has none


def _per_month(col: str) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda s: s[col] / s["months"]


def _share_of_transactions(*kinds: str) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda s: sum(s[f"n_{k}"] for k in kinds) / s["transactions"]


def _variance(mean_sq: pd.Series, mean: pd.Series) -> pd.Series:
    """E[x^2] - E[x]^2, with what is float rounding of it taken as 0: the two terms cancel where every value is
    the same (a fixed salary), leaving noise of about 1e-16 of mean^2 whose size depends on the order the engine
    added in (a constant would otherwise differ from run to run, and from engine to engine)."""
    var = mean_sq - mean ** 2
    return var.where(var > 1e-10 * mean ** 2, 0.0)


def _cv(months: str, total: str, squares: str) -> Callable[[pd.DataFrame], pd.Series]:
    """Coefficient of variation (population) of the monthly largest credit, over the months that have one."""
    def f(s):
        n = s[months].where(s[months] > 0)
        mean = s[total] / n
        var = _variance(s[squares] / n, mean)
        return np.sqrt(var) / mean
    return f


def _regular(months: str, total: str, squares: str) -> Callable[[pd.DataFrame], pd.Series]:
    cv = _cv(months, total, squares)
    return lambda s: ((s[months] / s["months"] >= REGULAR_MONTHS) & (cv(s) < REGULAR_CV)).astype(float)


def _change(col: str) -> Callable[[pd.DataFrame], pd.Series]:
    """log((recent per month + 1) / (earlier per month + 1)) of a monthly sum (symmetric, and a scale a logistic
    regression can take; read as a change of exp(x) - 1); missing without earlier months."""
    def f(s):
        earlier = s["earlier_months"].where(s["earlier_months"] > 0)
        return np.log((s[f"recent_{col}"] / s["recent_months"] + 1) / (s[f"earlier_{col}"] / earlier + 1))
    return f


def _income_variation(s: pd.DataFrame) -> pd.Series:
    """Standard deviation of money in per calendar month (months without any counted as 0) over its mean + 1."""
    mean = s["credit"] / s["months"]
    var = _variance(s["credit_sq"] / s["months"], mean)
    return np.sqrt(var) / (mean + 1)


MEASURES: dict[str, Measure] = {m.name: m for m in [
    Measure("transactions_per_month", _per_month("transactions"), "transactions per calendar month", "per month"),
    *[Measure(f"{k}_per_month", _per_month(f"n_{k}"), f"{k.replace('_', ' ')} transactions per month",
              "per month", "kinds") for k in EVENT_KINDS],
    Measure("income_per_month", _per_month("credit"), "money in per calendar month", "money"),
    Measure("spending_per_month", _per_month("debit"), "money out per calendar month", "money"),
    Measure("typical_month_income", lambda s: s["credit_median"],
            "money in of a typical month (the median over calendar months): an opening deposit does not count as "
            "a month's income", "money"),
    Measure("typical_month_spending", lambda s: s["debit_median"],
            "money out of a typical month (the median over calendar months)", "money"),
    Measure("spending_to_income", lambda s: np.log((s["debit"] + 1) / (s["credit"] + 1)),
            "log of (money out + 1) / (money in + 1): above 0 spends more than comes in"),
    Measure("months_with_income", lambda s: s["months_with_credit"] / s["months"],
            "share of calendar months with any money in", "share"),
    Measure("income_variation", _income_variation, "how much money in varies from month to month"),
    Measure("typical_credit", lambda s: np.expm1(s["log_credit"] / s["credits"]),
            "typical credit (geometric mean of the amounts in)", "money"),
    Measure("typical_debit", lambda s: np.expm1(s["log_debit"] / s["debits"]),
            "typical debit (geometric mean of the amounts out)", "money"),
    Measure("mean_amount", lambda s: s["amount_sum"] / s["transactions"], "mean signed amount", "money"),
    Measure("amount_sd", lambda s: np.sqrt(_variance(s["amount_sq"] / s["transactions"],
                                                     s["amount_sum"] / s["transactions"])),
            "standard deviation of the signed amounts", "money"),
    Measure("balance_level", lambda s: s["balance_median"], "median month-end balance", "money", "balance"),
    Measure("balance_low", lambda s: s["balance_p10"], "10th percentile of month-end balances", "money", "balance"),
    Measure("balance_mean", lambda s: s["balance_mean"], "mean month-end balance", "money", "balance"),
    Measure("balance_volatility", lambda s: s["balance_sd"], "standard deviation of month-end balances", "money",
            "balance"),
    Measure("negative_month_share", lambda s: s["negative_months"] / s["balance_months"],
            "share of months ending with a negative balance", "share", "balance"),
    Measure("balance_trend", lambda s: s["balance_slope"].fillna(0) * 12 / (s["credit"] / s["months"] + 1),
            "yearly change of the month-end balance, in months of income", "", "balance"),
    Measure("cash_share", _share_of_transactions("cash_deposit", "cash_withdrawal"),
            "share of transactions in cash", "share", "kinds"),
    Measure("card_share", _share_of_transactions("card_payment"), "share of transactions by card", "share", "kinds"),
    Measure("transfer_share", _share_of_transactions("incoming_transfer", "outgoing_transfer"),
            "share of transactions that are transfers", "share", "kinds"),
    Measure("loan_payment_share", _share_of_transactions("loan_payment"), "share of transactions that pay a loan",
            "share", "kinds"),
    Measure("salary_like", _regular("transfer_in_months", "transfer_in_sum", "transfer_in_sq"),
            "a regular monthly incoming transfer (1) or not (0)", "", "kinds"),
    Measure("pension_like", _regular("pension_months", "pension_sum", "pension_sq"),
            "a regular monthly pension (1) or not (0)", "", "kinds"),
    Measure("months", lambda s: s["months"].astype(float), "calendar months of history", "months"),
    # recent change: the last RECENT_MONTHS months of the history against the months before them (missing where
    # the history has no months before them)
    Measure("income_change", _change("credit"),
            f"money in per month, the last {RECENT_MONTHS} months against the months before", "change"),
    Measure("spending_change", _change("debit"),
            f"money out per month, the last {RECENT_MONTHS} months against the months before", "change"),
    Measure("transaction_rate_change", _change("transactions"),
            f"transactions per month, the last {RECENT_MONTHS} months against the months before", "change"),
    Measure("balance_change", lambda s: s["recent_balance"] / s["recent_balance_months"]
            - s["earlier_balance"] / s["earlier_balance_months"],
            f"mean month-end balance, the last {RECENT_MONTHS} months minus the months before", "money",
            "balance"),
    Measure("negative_change", lambda s: s["recent_negative_months"] / s["recent_balance_months"]
            - s["earlier_negative_months"] / s["earlier_balance_months"],
            f"share of negative month-ends, the last {RECENT_MONTHS} months minus the months before",
            "share", "balance"),
    Measure("months_since_regular_credit", lambda s: s["since_regular"],
            "months since the last regular-size incoming transfer or pension (at least half the customer's median "
            "one)", "months", "kinds"),
    # affordability (`fthc.offer`): what a month leaves, in a typical and in a bad month, and what is committed
    Measure("free_cash_flow", lambda s: s["net_median"],
            "money in less money out of a typical month (the median over calendar months)", "money"),
    Measure("free_cash_flow_low", lambda s: s["net_p10"],
            "money in less money out of a bad month (the 10th percentile over calendar months)", "money"),
    Measure("income_low", lambda s: s["credit_p10"],
            "money in of a bad month (the 10th percentile over calendar months): 0 where income stops in some "
            "months", "money"),
    Measure("buffer_months", lambda s: s["balance_median"] / s["debit_median"].where(s["debit_median"] > 0),
            "the median month-end balance in months of typical spending", "months", "balance"),
    Measure("commitments_per_month", lambda s: s["recent_commitment"] / s["recent_months"],
            f"loan payments per month, the last {RECENT_MONTHS} months", "money", "kinds"),
    Measure("income_trend", lambda s: s["credit_slope"].fillna(0) * 12 / (s["credit"] / s["months"] + 1),
            "yearly change of money in per month, in months of income"),
]}
CHANGE_MEASURES = ["income_change", "spending_change", "transaction_rate_change", "balance_change",
                   "negative_change", "months_since_regular_credit", "income_trend", "balance_trend"]


@dataclass(frozen=True)
class Available:
    """What the data can tell: a balance column with values, transaction kinds other than 'other'."""

    balance: bool
    kinds: bool


def available(sums: pd.DataFrame) -> Available:
    kinds = sums[[f"n_{k}" for k in EVENT_KINDS]].to_numpy().sum() > 0 if len(sums) else False
    return Available(balance=bool(len(sums) and sums["balance_months"].sum() > 0), kinds=bool(kinds))


def measures(sums: pd.DataFrame, what: Available | None = None) -> pd.DataFrame:
    """The named measures of every customer (index: customer id) from the `CUSTOMER` sums; a measure the data
    cannot give (balances without a balance column, kinds without categories) is missing (NaN)."""
    what = what or available(sums)
    s = sums.astype("float64")
    out = {}
    with np.errstate(all="ignore"):
        for m in MEASURES.values():
            known = not m.needs or getattr(what, m.needs)
            out[m.name] = m.compute(s).astype("float64") if known else pd.Series(np.nan, index=s.index)
    return pd.DataFrame(out, index=sums.index)
