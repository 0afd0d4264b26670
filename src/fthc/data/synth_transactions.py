"""The synthetic generator's transactions (`fthc.data.synth`): every account-month's salary or pension,
discretionary transactions, sanction interest and standing orders, drawn vectorised over accounts x months in
the order the generator has always drawn them (the tables stay the same draw for draw), with running balances."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .synth_parameters import (AMOUNT, BANKS, CASH_DEPOSIT_SCALE, DRIFT, FEE_SHARE, K_SYMBOLS, MAX_TRANSACTIONS,
                               MISSED_INCOME, OPERATIONS, OVERSPEND, PENSION_PROB, RATES, RATE_SPREAD, SALARY_PROB,
                               SEGMENTS, SPEND, START, STATEMENT_FEE, TYPES, VOLATILITY, codes, yymmdd)


def transactions(rng, n, seg, second, blend, created_month, created_date, months_total, income, card_from,
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
        cols["type"].append(np.broadcast_to(codes(TYPES, typ), (m,)))
        cols["op"].append(np.broadcast_to(codes(OPERATIONS, op), (m,)))
        cols["k"].append(np.broadcast_to(codes(K_SYMBOLS, k), (m,)))
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
        "account_id": account_id[acc], "date": yymmdd(date),
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
