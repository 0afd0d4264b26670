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
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .synth_parameters import (AFFORDABILITY_WEIGHT, AMOUNT, BURDEN_REFERENCE, CARD_PROB, CASH_DEPOSIT_SCALE,
                               DIFFICULTIES, DRIFT, END, FEE_SHARE, LOAN_BAD, LOAN_PROB, MISSED_INCOME, Migration,
                               ORDER_RATE, ORDER_SHARE, OTHER_OUTCOMES, OVERSPEND, PENSION_PROB, RATES, RATE_SPREAD,
                               RECENT_RISK, REGIONS, RISK, SALARY_LEVEL, SALARY_PROB, SEGMENTS, SHARE, SPEND, START,
                               STATEMENT_FEE, SURPLUS_FLOOR, SynthResult, VOLATILITY)
from .synth_parameters import partner as _partner, yymmdd as _yymmdd
from .synth_transactions import transactions as _transactions

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
