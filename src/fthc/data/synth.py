"""Synthetic Berka: all 8 tables in the original file format, with planted behaviour segments.

Real Berka's transaction table could not be obtained here, and a user's own data has no ground truth, so
this generator is the embedded default data of fthc and its tests. Each account gets one of six behaviour
segments a bank would recognise; parameters are drawn per account with noise, and a quarter of accounts
blend in part of a second segment's habits, so clustering is not trivial. The segment of each account is
written to `ground_truth.csv` beside the tables (which the Berka reader ignores). Everything is vectorised over
accounts x months: Berka scale takes seconds.

Risk depends on the segment and on behaviour within it. Every account has three traits, drawn apart from
everything else (so the tables are those of the first release where the traits do not act): how much it spends
against its income (`overspend`), how irregular its income is (`volatility`), and whether its spending grows
over the years (`drift`). The chance that its credit goes bad is a logistic function of the segment's base rate,
the three traits and noise (`RISK`): a supervised model on behaviour features separates it far better than the
segments do, as on real data. A bad loan (status B or D) also has consequences after its date, as the real
tables do: monthly sanction interest charged from a few months after the loan (what an as-of rule must not read).
With `affordability=True` a loan is also likelier to go bad the larger its monthly payment against what the
account is expected to have left each month: its log-odds add AFFORDABILITY_WEIGHT x log(payment / expected
surplus / BURDEN_REFERENCE), the surplus (`expected_surplus`) being expected money in less expected money out
computed from the generator's own parameters for that account, never from the transactions drawn. The plant is on
that latent surplus, so benchmarks/bench_offer.py checks whether fthc's measure from the transactions (the payment
against the free cash flow of the window before the loan) recovers it, not a measure made to match it. Without it
the tables are those of before, draw for draw (the same uniform draws decide, against another probability).
Besides the loan table, `outcomes.csv` gives an outcome for the accounts with a loan (its status, at its date)
and for a random 30% of the others (the outcome of other credit, at a date in the later part of their history):
the outcomes a bank has for part of its customers.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

SEGMENTS = ["salaried", "pensioner", "cash_economy", "stressed", "high_activity", "dormant_saver"]
SHARE = np.array([0.30, 0.17, 0.17, 0.12, 0.14, 0.10])
START, END = np.datetime64("1993-01", "M"), np.datetime64("1998-12", "M")
MAX_TRANSACTIONS = 675

# Monthly rates of discretionary transactions per segment (Poisson means), and other per-segment habits.
#                        salaried pension cash  stress  high  dormant
RATES = {
    "cash_withdrawal":   [0.7,    0.8,    1.6,  1.4,    1.4,  0.15],
    "card_payment":      [0.7,    0.2,    0.1,  0.4,    1.8,  0.03],
    "outgoing_transfer": [0.2,    0.05,   0.1,  0.3,    1.1,  0.02],
    "incoming_transfer": [0.05,   0.02,   0.2,  0.1,    0.6,  0.02],
    "cash_deposit":      [0.05,   0.05,   1.7,  0.3,    0.3,  0.10],
}
SALARY_PROB = [0.97, 0.0, 0.0, 0.75, 0.97, 0.0]  # chance of the monthly salary credit each month
SALARY_LEVEL = [1.0, 0.0, 0.0, 0.75, 1.9, 0.0]  # x district average salary
PENSION_PROB = [0.0, 0.99, 0.0, 0.0, 0.0, 0.0]
SPEND = [0.80, 0.85, 0.92, 1.10, 0.85, 0.6]  # monthly spending as a share of income
LOAN_PROB = [0.15, 0.07, 0.13, 0.40, 0.22, 0.02]
LOAN_BAD = [0.06, 0.05, 0.25, 0.55, 0.08, 0.02]  # chance a loan ends unpaid / client in debt
CARD_PROB = [0.25, 0.06, 0.04, 0.15, 0.65, 0.05]
ORDER_RATE = [0.8, 0.7, 0.25, 1.0, 1.2, 0.1]  # standing orders per account (Poisson)
ORDER_SHARE = (0.03, 0.3)  # a standing order's monthly amount: a uniform share of income in this range
RATE_SPREAD = 0.2  # each account's rate of each discretionary kind: the segment's x lognormal(0, RATE_SPREAD)
# a discretionary amount: income (x spending share for money out) / divisor x lognormal(mu, sigma x amount_sigma);
# cash deposits: income x CASH_DEPOSIT_SCALE (the cash economy's, others') x lognormal(mu, ...)
AMOUNT = {"cash_withdrawal": (2.2, -0.2, 0.5), "card_payment": (8, -0.3, 0.6), "outgoing_transfer": (4, -0.3, 0.6),
          "incoming_transfer": (3, -0.3, 0.7), "cash_deposit": (1, -0.1, 0.6)}
CASH_DEPOSIT_SCALE = (1.0 / 1.7, 0.3)
STATEMENT_FEE, FEE_SHARE = 14.60, 0.8  # charged in FEE_SHARE of months
# how the traits act: spending x exp(OVERSPEND * overspend) x (1 + DRIFT * drift * years since creation), salary
# noise and missed salaries grow with volatility; the log-odds of bad credit add RISK's weights of the traits
OVERSPEND, DRIFT, VOLATILITY = 0.18, 0.12, 0.9
RISK = {"overspend": 1.3, "volatility": 1.0, "drift": 1.2, "noise": 0.5}
# risk "recent": log-odds effects by threshold and interaction instead of RISK's weights, and income that stops or
# falls 1-lead_months months before the outcome's month for a share of bad (and of good) outcomes: for `cut_share`
# of them it falls to `cut` (a range) of its own level instead of stopping, which only a comparison with the
# customer's own months before can see (the level may still be that of other customers)
RECENT_RISK = {"both": 2.2, "overspend_above": 0.5, "volatile_above": 0.3, "drift": 1.4, "drift_above": 1.0,
               "steady": 0.8, "distress_bad": 0.55, "distress_good": 0.05, "lead_months": 4, "cut_share": 0.5,
               "cut": (0.3, 0.6)}
# affordability (generate(affordability=True)): a loan's log-odds of going bad add
# AFFORDABILITY_WEIGHT x log(burden / BURDEN_REFERENCE), burden = its monthly payment / the account's expected
# monthly surplus (`expected_surplus`: from the generator's parameters, not from its transactions), the surplus
# floored at SURPLUS_FLOOR of income (an account expected to spend all it earns, or more, carries a large burden).
# The median loan's burden is about 0.9 (1.0 on hard data); BURDEN_REFERENCE keeps the loans' overall bad rate what
# it is without the plant (about 29%: the same on standard data, 2 points higher on hard, risk linear or recent,
# seeds 0-3 of 4,500 accounts): a loan of burden 2 keeps its probability, one of twice that has 4 times the odds.
# The weight was 1.0 at first; at 1.0 even a perfect risk model gains only 0.023 AUC from knowing each loan's true
# burden (on 4,500 accounts, seeds 0-5), below what a benchmark's few hundred withheld loans can resolve; at 2.0,
# 0.056 (bench_offer.py measures whether fthc's payment / free cash flow recovers it)
AFFORDABILITY_WEIGHT = 2.0
BURDEN_REFERENCE = 2.0
SURPLUS_FLOOR = 0.05
MISSED_INCOME = 0.25  # the share of monthly income credits the most volatile account misses (x VOLATILITY)
OTHER_OUTCOMES = 0.3  # share of accounts without a loan whose other credit has an outcome
TYPES = ["PRIJEM", "VYDAJ", "VYBER"]
OPERATIONS = ["", "VKLAD", "PREVOD Z UCTU", "VYBER", "VYBER KARTOU", "PREVOD NA UCET"]
K_SYMBOLS = ["", "DUCHOD", "SIPO", "POJISTNE", "UVER", "UROK", "SLUZBY", "SANKC. UROK"]
BANKS = [a + b for a in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]
REGIONS = ["Prague", "central Bohemia", "south Bohemia", "west Bohemia", "north Bohemia", "east Bohemia",
           "south Moravia", "north Moravia"]


@dataclass(frozen=True)
class Migration:
    """Planted migrations, the truth `fthc track` is checked against: `share` of the accounts opened before `month`
    (YYYY-MM) take another segment's habits (drawn evenly among the others) from that calendar month on;
    ground_truth.csv says each account's `switched_to` and `switch_month`."""

    share: float
    month: str

    def at(self) -> int:
        """The month as an index from the data's first month (START)."""
        m = np.datetime64(self.month, "M")
        if not START < m <= END:
            raise ValueError(f"migration month {self.month} is outside the data ({START} to {END})")
        return int((m - START).astype(int))


@dataclass(frozen=True)
class Difficulty:
    """How hard the planted segments are to recover. `standard` is the first release's data, draw for draw."""

    blend_share: float = 0.25  # customers who blend in 20-60% of a second segment's habits
    income_sigma: float = 0.25  # log-normal spread of income around the segment's level (overlap between segments)
    amount_sigma: float = 1.0  # multiplies the log-normal spread of discretionary amounts (heavier tails)
    switch_share: float = 0.0  # customers who switch segment part-way through their history


DIFFICULTIES = {
    "standard": Difficulty(),
    # overlapping levels, heavy tails, blends and switchers: level features alone cannot win
    "hard": Difficulty(blend_share=0.4, income_sigma=0.5, amount_sigma=1.5, switch_share=0.25),
}


@dataclass(frozen=True)
class SynthResult:
    folder: Path
    n_accounts: int
    n_transactions: int


def _yymmdd(dates: np.ndarray) -> np.ndarray:
    d = pd.DatetimeIndex(dates)
    return ((d.year - 1900) * 10000 + d.month * 100 + d.day).to_numpy()


def _partner(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Partner bank (two letters) and account number."""
    return np.array(BANKS)[rng.integers(0, len(BANKS), n)], rng.integers(10_000_000, 99_999_999, n).astype(str)


def _codes(vocab: list[str], values) -> np.ndarray:
    if isinstance(values, str):
        return np.int8(vocab.index(values))
    return pd.Index(vocab).get_indexer(np.asarray(values)).astype(np.int8)


def generate(n_accounts: int = 4500, seed: int = 0, difficulty: str = "standard",
             traits: bool = True, risk: str = "linear", migration: Migration | None = None,
             affordability: bool = False) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, pd.DataFrame]:
    """All 8 tables as DataFrames in Berka's raw layout, the ground truth table, and the outcomes table.
    `traits=False`: the first release's tables exactly (no behaviour within segments drives risk).
    `risk="recent"`: outcomes a linear model of summaries cannot take whole (`RECENT_RISK`): thresholds and an
    interaction of the traits, and deterioration before default (income stops or falls some months before the
    outcome). `migration`: planted changes of segment at a known month (`Migration`). `affordability`: a loan is
    likelier to go bad the larger its monthly payment against the account's expected monthly surplus
    (`AFFORDABILITY_WEIGHT`, `expected_surplus`); ground_truth.csv then gives each loan's `expected_surplus` and
    `loan_burden`, and `bad_credit_probability` is the loan's own."""
    if risk not in ("linear", "recent"):
        raise ValueError(f"unknown risk {risk!r}; valid: linear, recent")
    if n_accounts < 1:
        raise ValueError("n_accounts must be at least 1")
    if difficulty not in DIFFICULTIES:
        raise ValueError(f"unknown difficulty {difficulty!r}; valid: {', '.join(DIFFICULTIES)}")
    hard = DIFFICULTIES[difficulty]
    rng = np.random.default_rng(seed)
    n = n_accounts

    # districts: 77 like the real table, one with the real table's missing values
    nd = 77
    district = pd.DataFrame({
        "A1": np.arange(1, nd + 1), "A2": [f"District {i}" for i in range(1, nd + 1)],
        "A3": np.array(REGIONS)[np.r_[0, rng.integers(1, 8, nd - 1)]],
        "A4": rng.integers(40_000, 400_000, nd), "A5": rng.integers(0, 120, nd), "A6": rng.integers(0, 70, nd),
        "A7": rng.integers(0, 25, nd), "A8": rng.integers(0, 6, nd), "A9": rng.integers(1, 12, nd),
        "A10": np.round(rng.uniform(33, 100, nd), 1), "A11": rng.integers(8_100, 12_600, nd),
        "A12": np.round(rng.uniform(0.2, 7.3, nd), 2), "A13": np.round(rng.uniform(0.4, 9.4, nd), 2),
        "A14": rng.integers(80, 170, nd), "A15": rng.integers(800, 85_000, nd), "A16": rng.integers(900, 99_000, nd),
    })
    district.loc[0, ["A4", "A10", "A11"]] = [1_204_953, 100.0, 12_541]
    district = district.astype({"A12": object, "A15": object})
    district.loc[nd - 9, ["A12", "A15"]] = "?"

    # accounts and their segments
    seg = rng.choice(len(SHARE), size=n, p=SHARE)
    second = (seg + rng.integers(1, len(SHARE), n)) % len(SHARE)
    blend = np.where(rng.random(n) < hard.blend_share, rng.uniform(0.2, 0.6, n), 0.0)  # share of a second segment's habits
    account_id = np.sort(rng.choice(np.arange(1, 12_000), size=n, replace=False)) if n < 11_000 \
        else np.arange(1, n + 1)
    dist = rng.integers(1, nd + 1, n)
    months_total = int((END - START).astype(int)) + 1
    # earlier accounts are more common; pensioners and dormant savers tend to be older accounts
    created_month = np.minimum((rng.beta(1.1, 1.6, n) * (months_total - 12)).astype(int), months_total - 13)
    created_day = rng.integers(1, 29, n)
    created = START + created_month
    created_date = created.astype("datetime64[D]") + (created_day - 1)
    frequency = rng.choice(["POPLATEK MESICNE", "POPLATEK TYDNE", "POPLATEK PO OBRATU"], n, p=[0.93, 0.05, 0.02])
    account = pd.DataFrame({"account_id": account_id, "district_id": dist, "frequency": frequency,
                            "date": _yymmdd(created_date)})
    avg_salary = district["A11"].to_numpy(dtype=float)[dist - 1]
    income_noise = rng.lognormal(0, hard.income_sigma, n)
    traits = _traits(seed, n) if traits else {name: np.zeros(n) for name in ("overspend", "volatility", "drift",
                                                                              "noise")}

    # clients and dispositions: one owner per account, a disponent for about a fifth
    has_disponent = rng.random(n) < 0.19
    n_clients = n + int(has_disponent.sum())
    owner_acc = np.arange(n)
    disp_acc = np.r_[owner_acc, np.flatnonzero(has_disponent)]
    disp_type = np.r_[np.full(n, "OWNER"), np.full(n_clients - n, "DISPONENT")]
    old = seg[disp_acc] == 1
    birth_year = np.where(old, rng.integers(1914, 1938, n_clients), rng.integers(1936, 1981, n_clients))
    birth = (pd.to_datetime(pd.DataFrame({"year": birth_year, "month": 1, "day": 1}))
             + pd.to_timedelta(rng.integers(0, 365, n_clients), unit="D"))
    female = rng.random(n_clients) < 0.5
    bn = ((birth.dt.year - 1900) * 10000 + (birth.dt.month + 50 * female) * 100 + birth.dt.day).to_numpy()
    client_id = np.arange(1, n_clients + 1)
    client = pd.DataFrame({"client_id": client_id, "birth_number": [f"{b:06d}" for b in bn],
                           "district_id": np.where(rng.random(n_clients) < 0.9, dist[disp_acc],
                                                   rng.integers(1, nd + 1, n_clients))})
    disp_id = np.arange(1, n_clients + 1) + 0
    disp = pd.DataFrame({"disp_id": disp_id, "client_id": client_id, "account_id": account_id[disp_acc],
                         "type": disp_type})

    # cards, for owners, by segment; issue date after account creation
    card_p = np.array(CARD_PROB)[seg] * (1 - blend) + np.array(CARD_PROB)[second] * blend
    has_card = rng.random(n) < card_p
    card_acc = np.flatnonzero(has_card)
    card_month = np.minimum(created_month[card_acc] + rng.integers(1, 30, len(card_acc)), months_total - 1)
    card_issued = (START + card_month).astype("datetime64[D]") + rng.integers(0, 28, len(card_acc))
    young = birth_year[card_acc] >= 1976
    rich = (seg[card_acc] == 4) & (rng.random(len(card_acc)) < 0.35)
    card_type = np.where(young, "junior", np.where(rich, "gold", "classic"))
    card = pd.DataFrame({"card_id": np.arange(1, len(card_acc) + 1), "disp_id": disp_id[card_acc],
                         "type": card_type, "issued": [f"{d} 00:00:00" for d in _yymmdd(card_issued)]})
    card_from = np.full(n, months_total + 1)
    card_from[card_acc] = card_month

    # loans: amount, duration, monthly payments; status from segment and whether finished by 1999
    loan_p = np.array(LOAN_PROB)[seg] * (1 - blend) + np.array(LOAN_PROB)[second] * blend
    has_loan = (rng.random(n) < loan_p) & (created_month < months_total - 6)
    loan_acc = np.flatnonzero(has_loan)
    nl = len(loan_acc)
    loan_month = created_month[loan_acc] + 1 + (rng.random(nl) * (months_total - 2 - created_month[loan_acc])).astype(int)
    duration = rng.choice([12, 24, 36, 48, 60], nl)
    income = avg_salary * income_noise * np.where(seg == 1, 0.45, np.maximum(np.array(SALARY_LEVEL)[seg], 0.6))
    payments = np.round(income[loan_acc] * rng.uniform(0.1, 0.45, nl), 0)
    finished = loan_month + duration < months_total
    p_bad = bad_credit_probability(traits, seg, second, blend, nonlinear=risk == "recent")
    acting = bool(np.any(traits["overspend"]))  # without traits: no consequences either (the first release)
    p_loan, surplus, burden = p_bad[loan_acc], None, None
    if affordability:  # no draw of its own: the same uniform draws decide, against the planted probability
        i = loan_acc
        surplus = expected_surplus(seg[i], second[i], blend[i], income[i], {k: v[i] for k, v in traits.items()},
                                   (loan_month - created_month[i]) / 12, card_from[i] < loan_month,
                                   hard.amount_sigma)
        burden = payments / surplus
        logit = np.log(p_loan / (1 - p_loan)) + AFFORDABILITY_WEIGHT * np.log(burden / BURDEN_REFERENCE)
        p_loan = 1 / (1 + np.exp(-logit))
        p_bad = p_bad.copy()
        p_bad[loan_acc] = p_loan
    bad = rng.random(nl) < p_loan
    status = np.where(finished, np.where(bad, "B", "A"), np.where(bad, "D", "C"))
    loan_date = (START + loan_month).astype("datetime64[D]") + rng.integers(0, 28, nl)
    loan = pd.DataFrame({"loan_id": 4959 + np.arange(nl), "account_id": account_id[loan_acc],
                         "date": _yymmdd(loan_date), "amount": (payments * duration).astype(int),
                         "duration": duration, "payments": payments, "status": status})

    # standing orders: household (SIPO), insurance, leasing, other; loans add an UVER order
    n_orders = rng.poisson(np.array(ORDER_RATE)[seg])
    o_acc = np.repeat(np.arange(n), n_orders)
    o_kind = rng.choice(["SIPO", "POJISTNE", "LEASING", " "], len(o_acc), p=[0.55, 0.12, 0.08, 0.25])
    o_amount = np.round(income[o_acc] * rng.uniform(*ORDER_SHARE, len(o_acc)), 2)
    o_acc = np.r_[o_acc, loan_acc]
    o_kind = np.r_[o_kind, np.full(nl, "UVER")]
    o_amount = np.r_[o_amount, payments]
    o_bank, o_account = _partner(rng, len(o_acc))
    o_order = np.lexsort((o_kind, o_acc))
    order = pd.DataFrame({"order_id": 29401 + np.arange(len(o_acc)), "account_id": account_id[o_acc[o_order]],
                          "bank_to": o_bank[o_order], "account_to": o_account[o_order],
                          "amount": o_amount[o_order], "k_symbol": o_kind[o_order]})
    # orders run monthly from creation (loans: from the month after the loan) to the end
    o_start = np.r_[created_month[o_acc[: len(o_acc) - nl]] + 1, loan_month + 1]
    o_end = np.r_[np.full(len(o_acc) - nl, months_total - 1), np.minimum(loan_month + duration, months_total - 1)]

    # switchers (hard data): another segment's habits from a month part-way through the history; the truth is
    # the segment of most of their months
    switch_to, switch_at, truth_seg = np.full(n, -1), np.full(n, months_total), seg
    if hard.switch_share > 0:
        switching = rng.random(n) < hard.switch_share
        switch_to = np.where(switching, (seg + rng.integers(1, len(SHARE), n)) % len(SHARE), -1)
        span = months_total - created_month
        at = np.where(rng.random(n) < 0.5, rng.uniform(0.1, 0.35, n), rng.uniform(0.65, 0.9, n))  # a clear majority
        switch_at = np.where(switching, created_month + (at * span).astype(int), months_total)
        truth_seg = np.where(switching & (months_total - switch_at > switch_at - created_month), switch_to, seg)
    if migration is not None:  # its own random stream: the rest of the draws are those of the data without it
        mrng, at = np.random.default_rng([seed, 20261205]), migration.at()
        moving = (mrng.random(n) < migration.share) & (created_month < at)
        switch_to = np.where(moving, (seg + mrng.integers(1, len(SHARE), n)) % len(SHARE), switch_to)
        switch_at = np.where(moving, at, switch_at)
        truth_seg = np.where(moving, seg, truth_seg)  # the segment before: the truth of the months before `month`
    outcomes, penalised_from, distress = _outcomes(seed, n, account_id, created_month, months_total, loan_acc,
                                                   loan_month, loan_date, bad, p_bad, recent=risk == "recent")
    if not acting:
        penalised_from[:] = months_total + 1
    trans = _transactions(rng, n, seg, second, blend, created_month, created_date, months_total, income,
                          card_from, o_acc, o_kind, o_amount, o_bank, o_account, o_start, o_end, account_id,
                          switch_to, switch_at, hard.amount_sigma, traits, penalised_from, distress)
    truth = pd.DataFrame({"account_id": account_id, "segment": np.array(SEGMENTS)[truth_seg],
                          "second_segment": np.where(blend > 0, np.array(SEGMENTS)[second], ""),
                          "blend": np.round(blend, 3),
                          "switched_to": np.where(switch_to >= 0, np.array(SEGMENTS)[np.maximum(switch_to, 0)], ""),
                          "switch_month": np.where(switch_to >= 0, (START + np.minimum(switch_at, months_total - 1))
                                                   .astype(str), ""),
                          **{name: np.round(v, 4) for name, v in traits.items()},
                          "bad_credit_probability": np.round(p_bad, 4)})
    if affordability:
        for name, values in (("expected_surplus", surplus), ("loan_burden", burden)):
            truth[name] = np.nan
            truth.loc[loan_acc, name] = np.round(values, 4)
    tables = {"account": account, "client": client, "disp": disp, "order": order, "trans": trans,
              "loan": loan, "card": card, "district": district}
    return tables, truth, outcomes


def expected_surplus(seg: np.ndarray, second: np.ndarray, blend: np.ndarray, income: np.ndarray, traits: dict,
                     years: np.ndarray, card: np.ndarray, amount_sigma: float = 1.0) -> np.ndarray:
    """An account's expected money in less money out per month, from the generator's own parameters (one entry per
    account given): salary or pension (SALARY_PROB, PENSION_PROB, less the months a volatile income misses),
    incoming transfers and cash deposits, less cash withdrawals, card payments (`card`: it has a card by then),
    outgoing transfers, standing orders (ORDER_RATE x the mean of ORDER_SHARE) and the statement fee. Rates and
    spending blend the second segment's (`blend`); spending moves with the account's overspend, and with its
    drift after `years` since the account opened. Each mean is that of its draw: a Poisson count's rate x the mean
    of its log-normal amount. Balance-driven flows (interest, sanction interest) are left out. Floored at
    SURPLUS_FLOOR x income."""
    def mix(table):
        t = np.asarray(table, dtype=float)
        return t[seg] * (1 - blend) + t[second] * blend

    unsteady = np.where(traits["volatility"] == 0, 0.0, 1 / (1 + np.exp(-traits["volatility"])))
    money_in = income * (mix(SALARY_PROB) + mix(PENSION_PROB)) * (1 - MISSED_INCOME * VOLATILITY * unsteady ** 2)
    spend = mix(SPEND) * np.exp(OVERSPEND * traits["overspend"]) * np.clip(1 + DRIFT * traits["drift"] * years,
                                                                          0.3, None)
    money_out = income * np.asarray(ORDER_RATE)[seg] * np.mean(ORDER_SHARE) + FEE_SHARE * STATEMENT_FEE
    for kind, (div, mu, sigma) in AMOUNT.items():
        rate = mix(RATES[kind]) * np.exp(RATE_SPREAD ** 2 / 2)
        mean = np.exp(mu + (sigma * amount_sigma) ** 2 / 2)
        if kind == "cash_deposit":
            money_in = money_in + rate * income * np.where(seg == SEGMENTS.index("cash_economy"),
                                                           *CASH_DEPOSIT_SCALE) * mean
        elif kind == "incoming_transfer":
            money_in = money_in + rate * income / div * mean
        else:
            held = card if kind == "card_payment" else True  # card payments once the account has a card
            money_out = money_out + np.where(held, rate, 0.0) * income * spend / div * mean
    return np.maximum(money_in - money_out, SURPLUS_FLOOR * income)


def _traits(seed: int, n: int) -> dict[str, np.ndarray]:
    """Each account's overspend, volatility and drift: standard normal, from a generator of their own (so the
    other draws, and the first release's tables where the traits do not act, stay the same)."""
    t = np.random.default_rng([seed, 20261201])
    return {"overspend": t.normal(0, 1, n), "volatility": t.normal(0, 1, n), "drift": t.normal(0, 1, n),
            "noise": t.normal(0, 1, n)}


def bad_credit_probability(traits: dict, seg: np.ndarray, second: np.ndarray, blend: np.ndarray,
                           nonlinear: bool = False) -> np.ndarray:
    """The chance that an account's credit goes bad: its segments' base rate (LOAN_BAD, blended) on the log-odds
    scale, plus the traits' weights (RISK); `nonlinear`: instead, thresholds and an interaction of the traits
    (RECENT_RISK), which no weight per behaviour can express."""
    base = np.array(LOAN_BAD)[seg] * (1 - blend) + np.array(LOAN_BAD)[second] * blend
    if nonlinear:
        r = RECENT_RISK
        effect = (r["both"] * ((traits["overspend"] > r["overspend_above"]) & (traits["volatility"] > r["volatile_above"]))
                  + r["drift"] * (traits["drift"] > r["drift_above"]) - r["steady"] * (np.abs(traits["volatility"]) < 0.3))
        logit = np.log(base / (1 - base)) + effect
    else:
        logit = np.log(base / (1 - base)) + sum(w * traits[name] for name, w in RISK.items())
    return 1 / (1 + np.exp(-logit))


def _outcomes(seed, n, account_id, created_month, months_total, loan_acc, loan_month, loan_date, bad, p_bad,
              recent: bool = False):
    """outcomes.csv: loans (their status at their date) and other credit for a share of the other accounts (an
    outcome drawn from the same probability, at a date in the later part of their history); and per account the
    month from which a bad outcome is charged sanction interest (months_total + 1: never)."""
    t = np.random.default_rng([seed, 20261202])
    other = np.setdiff1d(np.flatnonzero((t.random(n) < OTHER_OUTCOMES) & (created_month < months_total - 12)),
                         loan_acc)
    span = months_total - created_month[other]
    other_month = created_month[other] + (span * t.uniform(0.55, 0.85, len(other))).astype(int)
    other_bad = t.random(len(other)) < p_bad[other]
    other_date = (START + other_month).astype("datetime64[D]") + t.integers(0, 28, len(other))
    acc = np.r_[loan_acc, other]
    outcomes = pd.DataFrame({"customer_id": account_id[acc], "default": np.r_[bad, other_bad].astype(int),
                             "reference_date": pd.to_datetime(np.r_[loan_date, other_date]).strftime("%Y-%m-%d"),
                             "credit": np.r_[np.full(len(loan_acc), "loan"), np.full(len(other), "other")]}) \
        .sort_values("customer_id").reset_index(drop=True)
    penalised_from = np.full(n, months_total + 1)
    penalised_from[acc[np.r_[bad, other_bad]]] = np.r_[loan_month, other_month][np.r_[bad, other_bad]] + 3
    # deterioration before default (risk "recent"): income stops or falls some months before the outcome's month,
    # for most bad outcomes and a few good ones (who recover); (from, to) months of each account, (0, 0) for none,
    # and the share of its income left in them (0: stopped)
    distress = (np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64), np.zeros(n))
    if recent:
        d = np.random.default_rng([seed, 20261203])
        went_bad, month = np.r_[bad, other_bad], np.r_[loan_month, other_month]
        hit = d.random(len(acc)) < np.where(went_bad, RECENT_RISK["distress_bad"], RECENT_RISK["distress_good"])
        lead = d.integers(1, RECENT_RISK["lead_months"] + 1, len(acc))
        distress[0][acc[hit]] = (month - lead)[hit]
        distress[1][acc[hit]] = np.where(went_bad, month + 3, month)[hit]
        cut = np.where(d.random(len(acc)) < RECENT_RISK["cut_share"], d.uniform(*RECENT_RISK["cut"], len(acc)), 0.0)
        distress[2][acc[hit]] = cut[hit]
    return outcomes, penalised_from, distress


def _transactions(rng, n, seg, second, blend, created_month, created_date, months_total, income, card_from,
                  o_acc, o_kind, o_amount, o_bank, o_account, o_start, o_end, account_id, switch_to, switch_at,
                  amount_sigma, traits, penalised_from, distress=None) -> pd.DataFrame:
    # account-month grid; gseg: the segment whose habits apply in that month (a switcher changes)
    months = months_total - created_month
    g_acc = np.repeat(np.arange(n), months)
    g_start = np.concatenate([[0], np.cumsum(months)[:-1]])
    g_month = created_month[g_acc] + (np.arange(len(g_acc)) - g_start[g_acc])
    gseg = np.where(g_month >= switch_at[g_acc], switch_to[g_acc], seg[g_acc])
    cols = {k: [] for k in ("acc", "month", "day", "amount", "type", "op", "k", "partner", "discretionary",
                            "bank", "pacc")}
    created_day = (created_date - created_date.astype("datetime64[M]")).astype(int) + 1

    def add(acc, month, day, amount, typ, op, k, partner=False, discretionary=False, bank=-1, pacc=0):
        m = len(acc)
        cols["acc"].append(acc)
        cols["month"].append(month)
        # nothing happens in the creation month before the account exists
        cols["day"].append(np.where(month == created_month[acc], np.maximum(day, created_day[acc]), day))
        cols["bank"].append(np.broadcast_to(bank, (m,)))
        cols["pacc"].append(np.broadcast_to(pacc, (m,)))
        cols["amount"].append(np.round(amount, 2))
        cols["type"].append(np.broadcast_to(_codes(TYPES, typ), (m,)))
        cols["op"].append(np.broadcast_to(_codes(OPERATIONS, op), (m,)))
        cols["k"].append(np.broadcast_to(_codes(K_SYMBOLS, k), (m,)))
        cols["partner"].append(np.broadcast_to(np.asarray(partner), (m,)))
        cols["discretionary"].append(np.full(m, discretionary))

    # opening deposit on the creation day
    opening = income * rng.uniform(0.5, 2.5, n) * np.where(seg == 5, 25.0, 1.0)
    add(np.arange(n), created_month, created_day, np.maximum(opening, 200), "PRIJEM", "VKLAD", "")

    # months in which an account's income has stopped or fallen (risk "recent": deterioration before default): the
    # share of its income left in each account-month (1 outside distress)
    distressed = np.zeros(len(g_acc), dtype=bool) if distress is None else \
        (g_month >= distress[0][g_acc]) & (g_month < distress[1][g_acc])
    left = np.where(distressed, 0.0 if distress is None else distress[2][g_acc], 1.0)
    stopped = distressed & (left == 0)
    # salary and pension: regular, on a fixed day per account
    pay_day = rng.integers(1, 15, n)
    # 0..1: how irregular this account's income is (0 for every account without traits)
    unsteady = np.where(traits["volatility"] == 0, 0.0, 1 / (1 + np.exp(-traits["volatility"])))
    for probs, level_k, k in ((SALARY_PROB, "", ""), (PENSION_PROB, "DUCHOD", "DUCHOD")):
        p = np.array(probs)[gseg] * (1 - blend[g_acc]) + np.array(probs)[second[g_acc]] * blend[g_acc]
        p = p * (1 - MISSED_INCOME * VOLATILITY * unsteady[g_acc] ** 2)  # volatile incomes miss some months
        hit = (rng.random(len(g_acc)) < p) & (g_month > created_month[g_acc]) & ~stopped
        a = g_acc[hit]
        amt = income[a] * (1 + (rng.normal(1.0, 0.03, len(a)) - 1) * (1 + 6 * VOLATILITY * unsteady[a])) * left[hit]
        add(a, g_month[hit], np.minimum(pay_day[a] + rng.integers(-1, 2, len(a)), 28).clip(1), amt,
            "PRIJEM", "PREVOD Z UCTU", k, partner=True)

    # discretionary transactions; spending moves with the account's overspend and drift
    spend_g = np.array(SPEND)[gseg] * (1 - blend[g_acc]) + np.array(SPEND)[second[g_acc]] * blend[g_acc]
    years = (g_month - created_month[g_acc]) / 12
    spend_g = spend_g * np.exp(OVERSPEND * traits["overspend"][g_acc]) * \
        np.clip(1 + DRIFT * traits["drift"][g_acc] * years, 0.3, None)
    sd = amount_sigma
    for kind, rates in RATES.items():
        r = np.array(rates)
        rate = r[gseg] * (1 - blend[g_acc]) + r[second[g_acc]] * blend[g_acc]
        rate = rate * rng.lognormal(0, RATE_SPREAD, n)[g_acc]
        if kind == "card_payment":
            rate = np.where(g_month >= card_from[g_acc], rate, 0.0)
        count = rng.poisson(rate)
        if kind in ("incoming_transfer", "cash_deposit"):
            count = np.where(stopped, 0, count)
        gi = np.repeat(np.arange(len(g_acc)), count)
        a, m, spend = g_acc[gi], g_month[gi], spend_g[gi]
        day = rng.integers(1, 29, len(a))
        base = income[a] * (left[gi] if kind in ("incoming_transfer", "cash_deposit") else 1.0)
        div, mu, sigma = AMOUNT[kind]
        if kind == "cash_withdrawal":
            amt = base * spend / div * rng.lognormal(mu, sigma * sd, len(a))
            typ = np.where(rng.random(len(a)) < 0.03, "VYBER", "VYDAJ")  # Berka's rare third type
            add(a, m, day, amt, typ, "VYBER", "", discretionary=True)
        elif kind == "card_payment":
            add(a, m, day, base * spend / div * rng.lognormal(mu, sigma * sd, len(a)), "VYDAJ", "VYBER KARTOU", "",
                discretionary=True)
        elif kind == "outgoing_transfer":
            add(a, m, day, base * spend / div * rng.lognormal(mu, sigma * sd, len(a)), "VYDAJ", "PREVOD NA UCET",
                "", partner=True, discretionary=True)
        elif kind == "incoming_transfer":
            add(a, m, day, base / div * rng.lognormal(mu, sigma * sd, len(a)), "PRIJEM", "PREVOD Z UCTU", "",
                partner=True, discretionary=True)
        else:  # cash deposits: the income of the cash economy, irregular in count and size
            scale = np.where(gseg[gi] == SEGMENTS.index("cash_economy"), CASH_DEPOSIT_SCALE[0], CASH_DEPOSIT_SCALE[1])
            add(a, m, day, base * scale * rng.lognormal(mu, sigma * sd, len(a)), "PRIJEM", "VKLAD", "",
                discretionary=True)

    # bad credit's consequence: sanction interest every month from a few months after the outcome's date
    charged = g_month >= penalised_from[g_acc]
    add(g_acc[charged], g_month[charged], np.full(int(charged.sum()), 20), 0.02 * income[g_acc[charged]], "VYDAJ",
        "", "SANKC. UROK")

    # standing orders (loan payments among them) as monthly debits
    o_months = np.maximum(o_end - o_start, 0)
    oa = np.repeat(np.arange(len(o_acc)), o_months)
    om = o_start[oa] + (np.arange(len(oa)) - np.repeat(np.cumsum(o_months) - o_months, o_months))
    k = np.where(np.isin(o_kind, ["SIPO", "POJISTNE", "UVER"]), o_kind, "")[oa]
    add(o_acc[oa], om, np.full(len(oa), 15), o_amount[oa], "VYDAJ", "PREVOD NA UCET", k, partner=True,
        bank=pd.Index(BANKS).get_indexer(o_bank[oa]), pacc=o_account[oa].astype(np.int64))

    acc = np.concatenate(cols["acc"])
    month = np.concatenate(cols["month"])
    day = np.concatenate(cols["day"]).astype(int)
    amount = np.concatenate(cols["amount"])
    typ = np.concatenate(cols["type"])
    op = np.concatenate(cols["op"])
    ks = np.concatenate(cols["k"])
    partner = np.concatenate(cols["partner"])
    disc = np.concatenate(cols["discretionary"])
    bank = np.concatenate(cols["bank"])
    pacc = np.concatenate(cols["pacc"])
    keep = month < months_total

    # cap the busiest histories at Berka's maximum by dropping random discretionary rows
    fixed_count = np.bincount(acc[keep & ~disc], minlength=n)
    room = np.maximum(MAX_TRANSACTIONS - 2 * (months_total - created_month) - fixed_count, 0)
    key = rng.random(len(acc))
    d_idx = np.flatnonzero(keep & disc)
    d_sorted = d_idx[np.lexsort((key[d_idx], acc[d_idx]))]
    d_counts = np.bincount(acc[d_sorted], minlength=n)
    rank = np.arange(len(d_sorted)) - np.repeat(np.cumsum(d_counts) - d_counts, d_counts)
    keep[d_sorted[rank >= room[acc[d_sorted]]]] = False
    acc, month, day, amount, typ, op, ks, partner, bank, pacc = (
        x[keep] for x in (acc, month, day, amount, typ, op, ks, partner, bank, pacc))

    # first pass balance (in cents) to price interest and sanction interest at each month end
    sign = np.where(typ == TYPES.index("PRIJEM"), 1, -1)
    cents = np.round(amount * 100).astype(np.int64) * sign
    order = np.lexsort((-sign, day, month, acc))
    acc, month, day, cents, typ, op, ks, partner, bank, pacc = (
        x[order] for x in (acc, month, day, cents, typ, op, ks, partner, bank, pacc))
    running = _running(cents, acc)
    months_n = months_total - created_month
    g_start = np.concatenate([[0], np.cumsum(months_n)[:-1]])
    cell = g_start[acc] + (month - created_month[acc])
    last_row = np.full(len(g_acc), -1)
    np.maximum.at(last_row, cell, np.arange(len(cell)))
    last_row = np.maximum.accumulate(last_row)  # each account's first month has its opening deposit
    month_end = running[last_row]
    interest = np.round(np.maximum(month_end, 0) * 0.001).astype(np.int64)  # cents
    sanction = np.round(np.maximum(-month_end, 0) * 0.012).astype(np.int64)
    g_m = g_month
    fee = np.where(rng.random(len(g_acc)) < FEE_SHARE, round(STATEMENT_FEE * 100), 0)  # not charged every month
    add_acc = np.concatenate([g_acc, g_acc, g_acc[sanction > 0]])
    add_month = np.concatenate([g_m, g_m, g_m[sanction > 0]])
    add_cents = np.concatenate([interest, -fee, -sanction[sanction > 0]])
    add_k = np.concatenate([np.full(len(g_acc), K_SYMBOLS.index("UROK")), np.full(len(g_acc), K_SYMBOLS.index("SLUZBY")),
                            np.full(int((sanction > 0).sum()), K_SYMBOLS.index("SANKC. UROK"))]).astype(np.int8)
    nonzero = add_cents != 0
    add_acc, add_month, add_cents, add_k = (x[nonzero] for x in (add_acc, add_month, add_cents, add_k))
    acc = np.r_[acc, add_acc]
    month = np.r_[month, add_month]
    day = np.r_[day, np.full(len(add_acc), 31)]
    cents = np.r_[cents, add_cents]
    typ = np.r_[typ, np.where(add_cents > 0, TYPES.index("PRIJEM"), TYPES.index("VYDAJ"))]
    op = np.r_[op, np.zeros(len(add_acc), dtype=np.int8)]
    ks = np.r_[ks, add_k]
    partner = np.r_[partner, np.zeros(len(add_acc), dtype=bool)]
    bank = np.r_[bank, np.full(len(add_acc), -1)]
    pacc = np.r_[pacc, np.zeros(len(add_acc), dtype=np.int64)]

    order = np.lexsort((day, month, acc))
    acc, month, day, cents, typ, op, ks, partner, bank, pacc = (
        x[order] for x in (acc, month, day, cents, typ, op, ks, partner, bank, pacc))
    balance = _running(cents, acc)
    first = (START + month).astype("datetime64[D]")
    month_len = ((START + month + 1).astype("datetime64[D]") - first).astype(int)
    date = first + (np.minimum(day, month_len) - 1)
    nt = len(acc)
    fresh = partner & (bank < 0)  # partners of one-off transfers are drawn here
    bank = np.where(fresh, rng.integers(0, len(BANKS), nt), np.where(partner, bank, -1))
    partner_acc = pd.array(np.where(fresh, rng.integers(10_000_000, 99_999_999, nt), pacc), dtype="Int64")
    partner_acc[~partner] = pd.NA
    return pd.DataFrame({
        "trans_id": rng.permutation(np.arange(1, nt + 1) * 3 + 1),
        "account_id": account_id[acc], "date": _yymmdd(date),
        "type": pd.Categorical.from_codes(typ, TYPES), "operation": pd.Categorical.from_codes(op, OPERATIONS),
        "amount": np.abs(cents) / 100.0, "balance": balance / 100.0,
        "k_symbol": pd.Categorical.from_codes(ks, K_SYMBOLS),
        "bank": pd.Categorical.from_codes(bank, BANKS), "account": partner_acc,
    })


def _running(cents: np.ndarray, acc: np.ndarray) -> np.ndarray:
    """Running per-account sum of rows sorted by account."""
    total = np.cumsum(cents)
    starts = np.flatnonzero(np.r_[True, acc[1:] != acc[:-1]])
    offset = np.repeat(total[starts] - cents[starts], np.diff(np.r_[starts, len(acc)]))
    return total - offset


# Columns quoted in each original file (the others are written bare)
QUOTED = {
    "account": {"frequency"}, "client": {"birth_number"}, "disp": {"type"},
    "order": {"bank_to", "account_to", "k_symbol"}, "loan": {"status"}, "card": {"type"},
    "trans": {"type", "operation", "k_symbol", "bank", "account"}, "district": {"A2", "A3"},
}
TWO_DECIMALS = {("order", "amount"), ("trans", "amount"), ("trans", "balance"), ("loan", "payments")}


def _text(values: pd.Series, two_decimals: bool) -> pa.Array:
    """Values as Arrow strings (vectorised: pandas' CSV writer is too slow at millions of rows)."""
    if two_decimals:
        cents = np.round(values.to_numpy(dtype=np.float64) * 100).astype(np.int64)
        whole = pc.cast(pa.array(np.abs(cents) // 100), pa.string())
        frac = pc.utf8_lpad(pc.cast(pa.array(np.abs(cents) % 100), pa.string()), 2, "0")
        sign = pa.array(np.where(cents < 0, "-", ""))
        return pc.binary_join_element_wise(sign, whole, ".", frac, "")
    if isinstance(values.dtype, pd.CategoricalDtype):
        return pc.cast(pa.array(values).dictionary_decode(), pa.string())
    if pd.api.types.is_integer_dtype(values):
        return pc.cast(pa.array(values), pa.string())
    return pa.array(values.astype(object).where(values.notna(), None).map(
        lambda x: x if x is None else str(x)).to_numpy() if len(values) < 50_000
        else values.astype("string"), type=pa.string())


def write_table(df: pd.DataFrame, path: Path, name: str) -> None:
    """Write one table exactly as the original: ';' separated, CRLF, quoted text, bare numbers."""
    columns = []
    for col in df.columns:
        text = _text(df[col], (name, col) in TWO_DECIMALS)
        if col in QUOTED[name]:
            text = pc.binary_join_element_wise('"', text, '"', "")  # missing stays bare and empty
        columns.append(pc.fill_null(text, ""))
    lines = pc.binary_join_element_wise(*columns, ";")
    header = ";".join(c if name == "district" else f'"{c}"' for c in df.columns)
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(header + "\r\n")
        fh.write("\r\n".join(lines.to_pylist()))
        fh.write("\r\n")


def write_synthetic_berka(folder: str | Path, n_accounts: int = 4500, seed: int = 0,
                          difficulty: str = "standard", traits: bool = True, risk: str = "linear",
                          migration: Migration | None = None, affordability: bool = False) -> SynthResult:
    """Generate synthetic Berka data into `folder` (created if needed): 8 `.asc` tables + ground_truth.csv."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tables, truth, outcomes = generate(n_accounts, seed, difficulty, traits, risk, migration, affordability)
    for name, df in tables.items():
        write_table(df, folder / f"{name}.asc", name)
    truth.to_csv(folder / "ground_truth.csv", index=False, quoting=csv.QUOTE_MINIMAL)
    outcomes.to_csv(folder / "outcomes.csv", index=False)
    return SynthResult(folder, n_accounts, len(tables["trans"]))


def write_synthetic_table(folder: str | Path, n_accounts: int = 4500, seed: int = 0,
                          difficulty: str = "standard", risk: str = "linear",
                          migration: Migration | None = None, affordability: bool = False) -> SynthResult:
    """The same customers as a bank's own transaction table: transactions.csv (customer_id, timestamp, amount
    signed, balance, category: fthc's kinds), outcomes.csv, attributes.csv (gender, age band, region: for a
    fairness audit, never for fitting) and ground_truth.csv."""
    import tempfile

    from .berka import read_berka, to_transactions

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fthc-synth-") as tmp:
        result = write_synthetic_berka(tmp, n_accounts, seed, difficulty, risk=risk, migration=migration,
                                       affordability=affordability)
        data = read_berka(tmp)
        tx = to_transactions(data)
        pd.DataFrame({"customer_id": tx["customer_id"], "timestamp": tx["timestamp"].dt.strftime("%Y-%m-%d"),
                      "amount": tx["amount"].round(2), "balance": tx["balance"].round(2),
                      "category": tx["kind"].astype(str)}).to_csv(folder / "transactions.csv", index=False)
        for name in ("outcomes.csv", "ground_truth.csv"):
            (folder / name).write_bytes((Path(tmp) / name).read_bytes())
        owners = data["disp"][data["disp"]["type"] == "OWNER"].merge(data["client"], on="client_id")
        age = ((pd.Timestamp("1999-01-01") - owners["birth_date"]).dt.days / 365.25)
        district = data["district"].set_index("district_id")["region"]
        pd.DataFrame({"customer_id": owners["account_id"], "gender": owners["gender"].astype(str),
                      "age_band": pd.cut(age, [0, 30, 45, 60, 200], labels=["under 30", "30-44", "45-59", "60+"],
                                         right=False).astype(str),
                      "region": district.reindex(owners["district_id_x"] if "district_id_x" in owners else
                                                 owners["district_id"]).to_numpy()}) \
            .sort_values("customer_id").to_csv(folder / "attributes.csv", index=False)
    return SynthResult(folder, result.n_accounts, result.n_transactions)


def read_ground_truth(folder: str | Path) -> pd.DataFrame:
    """The planted segment of each synthetic account (account_id, segment, second_segment, blend, switched_to,
    switch_month, ..., and with the affordability plant each loan's expected_surplus and loan_burden: missing
    for the accounts without a loan)."""
    truth = pd.read_csv(Path(folder) / "ground_truth.csv", keep_default_na=False)
    for col in ("expected_surplus", "loan_burden"):
        if col in truth:
            truth[col] = pd.to_numeric(truth[col], errors="coerce")
    return truth
