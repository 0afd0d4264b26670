"""Behaviour over time (`fthc track`, `Segmenter.track`): segments per period from the fitted model (no refit)
follow planted changes of behaviour, the migration table counts them, PSI flags a planted shift and stays low on
a stationary stretch, and the command writes its four tables."""

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import fthc
from fthc.cli import main
from fthc.segments.tracking import bins_of, period_cutoffs, psi

SWITCH = 24  # the month (0-based) from which the switchers behave as the other type


def bank(n=160, months=42, switch_share=0.7, seed=0):
    """Two types: salaried savers (a salary on the 1st, card payments, a growing positive balance) and cash users
    who live overdrawn; from month SWITCH, `switch_share` of the savers behave as cash users."""
    rng = np.random.default_rng(seed)
    saver = np.arange(n) < n // 2
    switches = saver & (rng.random(n) < switch_share)
    rows = []
    for c in range(n):
        bal = 2000.0 if saver[c] else -300.0
        for m in range(months):
            month = pd.Timestamp("2020-01-01") + pd.DateOffset(months=m)
            as_saver = saver[c] and not (switches[c] and m >= SWITCH)
            if as_saver:
                moves = [(1, 3000.0 + rng.normal(0, 50), "incoming_transfer")] + \
                        [(d, -rng.uniform(50, 300), "card_payment") for d in (5, 12, 19, 26)]
            else:
                moves = [(d, rng.uniform(200, 900), "cash_deposit") for d in (3, 17)] + \
                        [(d, -rng.uniform(300, 800), "cash_withdrawal") for d in (8, 22)]
            for d, a, k in moves:
                bal += a
                if not as_saver:
                    bal = min(bal, -50.0)
                rows.append((c, month + pd.Timedelta(days=d - 1), round(a, 2), round(bal, 2), k))
    tx = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount", "balance", "category"])
    return tx, saver, switches


def test_periods_end_at_the_datas_last_whole_month_and_go_back_by_the_step():
    cuts = period_cutoffs(pd.Timestamp("2023-01-01"), "quarter", periods=3)
    assert cuts == [pd.Timestamp("2022-07-01"), pd.Timestamp("2022-10-01"), pd.Timestamp("2023-01-01")]
    cuts = period_cutoffs(pd.Timestamp("2023-01-01"), "month", start="2022-09", end="2022-11")
    assert cuts == [pd.Timestamp("2022-10-01"), pd.Timestamp("2022-11-01"), pd.Timestamp("2022-12-01")]


def test_psi_is_zero_on_the_same_population_and_large_on_a_shift():
    rng = np.random.default_rng(0)
    ref = bins_of(rng.normal(size=5000))
    assert psi(ref, rng.normal(size=5000)) < 0.01
    assert psi(ref, rng.normal(1.0, 1, size=5000)) > 0.25


def test_planted_migrations_are_followed_counted_and_flagged_as_drift():
    tx, saver, switches = bank()
    fitted = tx[tx["timestamp"] < pd.Timestamp("2020-01-01") + pd.DateOffset(months=SWITCH)]
    seg = fthc.Segmenter(k=2, window=12).fit(fitted)
    saver_segment = int(seg.labels_[saver].mode()[0])
    r = seg.track(tx, every="quarter", periods=10)
    t = r.tracks
    last = t[t["period_end"] == t["period_end"].max()].set_index("customer_id")["segment"]
    ids = np.arange(len(saver))
    moved = last.reindex(ids[switches]) != saver_segment
    stayed = last.reindex(ids[saver & ~switches]) == saver_segment
    assert moved.mean() >= 0.9 and stayed.mean() >= 0.9, (moved.mean(), stayed.mean())
    m = r.migration[(r.migration["kind"] == "segment") & (r.migration["from"] == saver_segment)
                    & (r.migration["to"] != saver_segment)]
    assert m["customers"].sum() >= 0.9 * switches.sum()  # every planted switch counted once it shows
    assert {"rate", "rate_low", "rate_high"} <= set(r.migration.columns)
    shares = r.drift[r.drift["what"] == "segment shares"].set_index("period_end")["psi"]
    before = [e for e in shares.index if e < pd.Timestamp("2020-01-01") + pd.DateOffset(months=SWITCH)]
    assert (shares.loc[before] < 0.10).all(), shares  # stationary: the periods before the switch
    assert shares.iloc[-1] >= 0.25, shares  # 70% of the savers became cash users
    assert any("refit" in n for n in r.notes)


def test_the_track_command_writes_its_four_tables_with_risk_and_early_warning(tmp_path):
    from fthc.data import write_synthetic_berka

    data = tmp_path / "berka"
    write_synthetic_berka(data, n_accounts=300, seed=4)
    runner = CliRunner()
    r = runner.invoke(main, ["segment", "--data", str(data), "--k", "4", "--outcomes", "loans",
                             "--out", str(tmp_path / "seg")])
    assert r.exit_code == 0, r.output
    r = runner.invoke(main, ["track", "--model", str(tmp_path / "seg" / "model"), "--data", str(data),
                             "--every", "quarter", "--periods", "4", "--out", str(tmp_path / "t")])
    assert r.exit_code == 0, r.output
    said = " ".join(r.output.split())
    assert "over 4 quarters" in said and "early warning in the last quarter" in said
    assert (tmp_path / "t" / "tracks.html").is_file()
    tracks = pd.read_parquet(tmp_path / "t" / "tracks.parquet")
    assert {"customer_id", "period_end", "segment", "risk", "risk_grade", "income_per_month_change"} <= \
        set(tracks.columns)
    assert tracks["period_end"].nunique() == 4 and tracks["risk"].dropna().between(0, 1).all()
    warning = pd.read_csv(tmp_path / "t" / "early_warning.csv")
    assert {"rule", "why", "risk_reasons", "risk_before", "risk"} <= set(warning.columns)
    per_period = warning.groupby("period_end").size()
    graded = tracks.dropna(subset=["risk"]).groupby("period_end").size()
    assert (per_period.to_numpy() <= np.ceil(0.05 * graded.loc[pd.to_datetime(per_period.index)].to_numpy())).all()
    last = warning[warning["period_end"] == pd.Timestamp(tracks["period_end"].max()).strftime("%Y-%m-%d")]
    if len(last):  # each alert of the last period carries its reasons
        assert last["risk_reasons"].notna().all() and (last["risk_reasons"].str.len() > 0).all()
    else:  # none: and the command says why (no pattern beyond the portfolio's rate, or no rule met)
        assert "early warning: none;" in said or "0 alerts" in said
    drift = pd.read_csv(tmp_path / "t" / "drift.csv")
    assert set(drift["what"]) == {"feature", "segment shares", "risk"}
    assert drift["flag"].isin(["stable", "watch", "shifted"]).all()
    again = runner.invoke(main, ["track", "--model", str(tmp_path / "seg" / "model"), "--data", str(data),
                                 "--every", "month", "--from", "1998-07", "--to", "1998-09",
                                 "--out", str(tmp_path / "t")])
    assert again.exit_code == 0, again.output
    assert pd.read_parquet(tmp_path / "t" / "tracks.parquet")["period_end"].nunique() == 3


def test_a_network_model_is_refused_with_a_reason(tmp_path):
    tx, _, _ = bank(n=40, months=14)
    seg = fthc.Segmenter(k=2).fit(tx)
    seg.model_.config = fthc.preset("fcnn")
    with pytest.raises(fthc.FthcError, match="behaviour measures"):
        seg.track(tx)


def test_quarters_are_calendar_quarters():
    assert period_cutoffs(pd.Timestamp("2023-06-01"), "quarter", periods=2) == \
        [pd.Timestamp("2023-01-01"), pd.Timestamp("2023-04-01")]  # data through May: the last quarter ends in March


def test_alerts_fill_a_budget_by_risk_then_deterioration_beyond_the_scores_own_noise():
    """200 customers over 6 periods whose risk jitters around its level: 8 always at high risk, 6 whose risk
    rises from 15% to 35% at the fourth period (their behaviour changed), the rest unchanged. A 10% budget holds
    the high-risk customers first, then the deteriorated ones at the period they deteriorate; the jitter of the
    unchanged customers (the noise band) alerts a handful at most; no customer below the portfolio's rate is alerted."""
    from fthc.errors import DataError
    from fthc.segments.alerts import RULES, alert_list, budget_of, noise_band, parse_budget

    rng = np.random.default_rng(0)
    rows = []
    for c in range(200):
        level = 0.8 if c < 8 else 0.15 if c < 14 else rng.uniform(0.05, 0.3)
        for p in range(6):
            risk = 0.35 if 8 <= c < 14 and p >= 3 else level
            logit = np.log(risk / (1 - risk)) + rng.normal(0, 0.1)
            moved = 8 <= c < 14 and p == 3
            rows.append({"customer_id": c, "period_end": pd.Timestamp("2024-01-31") + pd.offsets.MonthEnd(p),
                         "segment": 0, "risk": 1 / (1 + np.exp(-logit)), "m": 100.0 + 50 * (8 <= c < 14 and p >= 3),
                         "m_change": np.nan if p == 0 else (50.0 if moved else 0.0)})
    tracks = pd.DataFrame(rows)
    tracks["risk_grade"] = np.searchsorted([0.1, 0.2, 0.4, 0.6], tracks["risk"]) + 1
    band, stable = noise_band(tracks, ["m"])
    assert stable == 200 * 5 - 6 and 0.1 < band < 0.4
    alerts = alert_list(tracks, 0.1, 0.2, 4, band)
    assert (alerts.groupby("period_end").size() <= budget_of(0.1, 200)).all()
    assert set(alerts.loc[alerts["rule"] == RULES[0], "customer_id"]) == set(range(8))
    fourth = alerts[alerts["period_end"] == tracks["period_end"].unique()[3]]
    deteriorated = set(alerts.loc[alerts["rule"] == RULES[1], "customer_id"])
    assert set(fourth.loc[fourth["rule"] == RULES[1], "customer_id"]) >= set(range(8, 14))
    # the jitter of the unchanged: beyond the band's 99th percentile, a handful of 186 x 5 customer-periods at most
    assert len(deteriorated - set(range(14))) <= 3 and len(alerts) - 8 * 6 - 6 <= 3
    assert fourth.set_index("customer_id").loc[8, "why"].startswith("risk 1") and (alerts["risk"] > 0.2).all()
    assert parse_budget("5%") == 0.05 and parse_budget("200") == 200 and budget_of(0.05, 30) == 2
    with pytest.raises(DataError, match="neither a share nor a count"):
        parse_budget("many")


def test_to_says_the_data_is_complete_to_a_month_and_the_periods_say_what_they_cover():
    """Data whose last transaction is on 28 June: without --to the incomplete June is left out, and said; --to
    2024-06 says June is complete, and the last quarter ends on 30 June; windows reaching back before the data
    begins are said too; --to after the data's last month reaches no further than it."""
    from fthc.features.window import data_end_cutoff, month_start
    from fthc.segments.tracking import coverage_notes

    last, first = pd.Timestamp("2024-06-28"), pd.Timestamp("2023-07-03")
    default = period_cutoffs(data_end_cutoff(last), "quarter", periods=2, last_month=month_start(last))
    told = period_cutoffs(data_end_cutoff(last), "quarter", end="2024-06", periods=2, last_month=month_start(last))
    later = period_cutoffs(data_end_cutoff(last), "quarter", end="2025-03", periods=2, last_month=month_start(last))
    assert default[-1] == pd.Timestamp("2024-04-01") and told[-1] == later[-1] == pd.Timestamp("2024-07-01")
    said = coverage_notes(default, last, first, 12, None)
    assert "last month (2024-06) is left out as incomplete" in said[0] and "--to 2024-06" in said[0]
    assert "2 of the 2 periods' 12-month windows reach back before the data begins (2023-07-03)" in said[1]
    assert coverage_notes(told, last, first, 12, "2024-06") == [said[1].replace("2 of the 2", "1 of the 2")]
