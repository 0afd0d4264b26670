"""From risk to an offer: affordability measures on planted histories (every engine against the pandas
reference), the product's terms and their errors, decisions and money on planted customers, monotone grade
rates, the strategy table, savings and protection needs, and `fthc offer` end to end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from fthc.cli import main
from fthc.errors import DataError
from fthc.offer import Product, make_offer, needs, offers, read_product, strategy
from fthc.offer.decisions import grade_rates, money
from fthc.risk.grades import fit_grades


def _history(customer, months, income, spending, loan=0.0, skip=()):
    rows, balance = [], 1000.0
    for m in range(months):
        day = pd.Timestamp("2023-01-01") + pd.DateOffset(months=m)
        if m not in skip:
            balance += income
            rows.append((customer, day + pd.Timedelta(days=1), income, balance, "incoming_transfer"))
        balance -= spending
        rows.append((customer, day + pd.Timedelta(days=10), -spending, balance, "card_payment"))
        if loan:
            balance -= loan
            rows.append((customer, day + pd.Timedelta(days=15), -loan, balance, "loan_payment"))
    return rows


def _planted():
    from fthc.data.source import as_source
    from fthc.data.transactions import ColumnMapping

    rows = (_history("steady", 12, 1000, 600, loan=100) + _history("gaps", 12, 1000, 900, skip=(2, 7))
            + _history("over", 12, 500, 700))
    df = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount", "balance", "kind"])
    return as_source(df, ColumnMapping(customer_id="customer_id", timestamp="timestamp", amount="amount",
                                       balance="balance", category="kind"))


@pytest.mark.parametrize("engine", ["duckdb", "pandas"])
def test_affordability_measures_of_planted_histories(engine):
    from fthc.segments.inputs import read_measures

    m, _, _ = read_measures(_planted(), engine)
    steady, gaps, over = m.loc["steady"], m.loc["gaps"], m.loc["over"]
    assert steady["free_cash_flow"] == pytest.approx(300)  # 1000 in, 600 spent, 100 to a loan
    assert steady["free_cash_flow_low"] == pytest.approx(300)
    assert steady["commitments_per_month"] == pytest.approx(100)
    assert steady["income_low"] == pytest.approx(1000)
    assert gaps["income_low"] < 500 and gaps["free_cash_flow_low"] < 0 < gaps["free_cash_flow"]
    assert gaps["commitments_per_month"] == 0
    assert over["free_cash_flow"] == pytest.approx(-200)
    assert steady["buffer_months"] == pytest.approx(m.loc["steady", "balance_level"] / 700)


def test_affordability_is_the_same_on_every_sql_engine_as_the_reference():
    from fthc.segments.inputs import read_measures

    cols = ["free_cash_flow", "free_cash_flow_low", "income_low", "buffer_months", "commitments_per_month"]
    duck = read_measures(_planted(), "duckdb")[0][cols].sort_index()
    ref = read_measures(_planted(), "pandas")[0][cols].sort_index()
    pd.testing.assert_frame_equal(duck, ref, check_dtype=False)


def test_product_terms_and_their_errors(tmp_path):
    p = Product()
    assert p.annual_rate == 0.24 and p.term_months == 12 and p.repayment_share == 0.35
    assert Product(annual_rate=0).annuity_factor() == 12
    assert Product(annual_rate=0.12, term_months=12).annuity_factor() == pytest.approx(11.2551, rel=1e-4)
    for bad, word in [({"annual_rate": -0.1}, "annual_rate"), ({"repayment_share": 1.5}, "repayment_share"),
                      ({"term_months": 0}, "term_months"), ({"loss_given_default": 2}, "loss_given_default"),
                      ({"max_amount": 10, "min_amount": 20}, "max_amount")]:
        with pytest.raises(DataError, match=word):
            read_product(None, **bad)
    toml = tmp_path / "loan.toml"
    toml.write_text('[product]\nname = "starter loan"\nterm_months = 24\nannual_rate = 0.3\n')
    assert read_product(toml, annual_rate=0.2) == Product(name="starter loan", term_months=24, annual_rate=0.2)
    toml.write_text("rate = 0.3\n")
    with pytest.raises(DataError, match=r"loan.toml: unknown product option 'rate'; expected one of name"):
        read_product(toml)
    toml.write_text("term_months = 12.5\n")
    with pytest.raises(DataError, match=r"term_months = 12.5 is not valid; expected a whole number"):
        read_product(toml)
    toml.write_text("repayment_share = 1.2\n")
    with pytest.raises(DataError, match=r"loan.toml: .*repayment_share = 1.2 is not valid"):
        read_product(toml)
    toml.write_text("annual_rate = [\n")
    with pytest.raises(DataError, match="cannot read as TOML"):
        read_product(toml)
    toml.write_text("annual_rate = 0.3\n[product]\nterm_months = 24\n")
    with pytest.raises(DataError, match="'annual_rate' outside \\[product\\]"):
        read_product(toml)
    for bad, said in [({"amount": 1000, "min_amount": 5000}, "at least min_amount"),
                      ({"amount": 10000, "max_amount": 5000}, "at most max_amount"),
                      ({"min_amount": float("inf")}, "a finite number"), ({"term_months": True}, "a finite number")]:
        with pytest.raises(DataError, match=said):
            Product(**bad)
    with pytest.raises(DataError, match="max_grade = 11 is not valid; expected a grade of the master scale, 1 to 10"):
        make_offer(_assignments(_grades()), _grades(), Product(max_grade=11))


def _grades():
    # out-of-fold risks of 400 customers with an outcome: grade 5 (~6%), 7 (~17%), 8 (~30%)
    rng = np.random.default_rng(0)
    risk = np.r_[np.full(200, 0.06), np.full(120, 0.17), np.full(80, 0.30)]
    y = rng.random(400) < risk
    return fit_grades(risk, y)


def _assignments(grades):
    rows = [  # risk, typical income, free cash flow, commitments, has outcome
        ("good", 0.06, 3000, 1500, 0, False), ("tight", 0.06, 3000, 100, 0, False),
        ("indebted", 0.06, 3000, 2000, 1020, True), ("broke", 0.06, 3000, -50, 0, False),
        ("risky", 0.30, 3000, 1500, 0, False), ("thin", np.nan, 300, 100, 0, False)]
    a = pd.DataFrame(rows, columns=["customer_id", "risk", "typical_income", "typical_free_cash_flow", "commitments",
                                    "has_outcome"]).set_index("customer_id")
    a["risk_grade"] = grades.grade(a["risk"])
    a["segment"], a["name"] = [0, 0, 1, 1, 1, 0], ["a", "a", "b", "b", "b", "a"]
    a["risk_reasons"] = ["", "", "", "", "", "insufficient history: 3 months in the window"]
    for col in ("bad_month_free_cash_flow", "bad_month_income", "buffer"):
        a[col] = 1.0
    a["typical_spending"] = 1000.0
    return a


def test_decisions_amounts_and_money_of_planted_customers():
    grades = _grades()
    product = Product(annual_rate=0.24, term_months=12, amount=5000, min_amount=500)
    o = offers(_assignments(grades), grades, product)
    factor = product.annuity_factor()
    assert o.loc["good", "affordable_repayment"] == pytest.approx(0.35 * 3000)  # the income share binds
    assert o.loc["good", "decision"] == "offer" and o.loc["good", "amount"] == 5000
    assert o.loc["good", "repayment"] == pytest.approx(5000 / factor)
    assert o.loc["tight", "decision"] == "offer a smaller amount"  # 100 a month: about 1,060, under 5,000
    assert o.loc["indebted", "affordable_repayment"] == pytest.approx(0.35 * 3000 - 1020)
    assert o.loc["indebted", "decision"] == "decline" and "smallest amount" in o.loc["indebted", "reason"]
    assert o.loc["broke", "decision"] == "decline" and "no room" in o.loc["broke", "reason"]
    assert o.loc["risky", "decision"] == "decline" and "above the 14.5% these terms break even at" in \
        o.loc["risky", "reason"]
    assert o.loc["thin", "decision"] == "decline" and "insufficient history" in o.loc["thin", "reason"]
    assert (o.loc[o["decision"] == "decline", ["amount", "expected_loss", "expected_margin"]] == 0).all().all()
    p, r, n = o.loc["good", "pd"], 0.02, 12
    repayment = 5000 / factor
    balance, funding = 5000.0, 0.0
    for _ in range(n):  # the annuity month by month: funding on what is outstanding, then the repayment
        funding += balance * 0.05 / 12
        balance = balance * (1 + r) - repayment
    assert abs(balance) < 1e-6
    by_hand = (1 - p) * (n * repayment - 5000) - funding - p * 0.6 * 5000
    assert o.loc["good", "expected_loss"] == pytest.approx(p * 0.6 * 5000)
    assert o.loc["good", "expected_margin"] == pytest.approx(by_hand) and by_hand > 0
    m = money(np.array([5000.0]), np.array([product.break_even_pd()]), product)
    assert m["expected_margin"][0] == pytest.approx(0, abs=1e-9)  # the break-even default rate earns nothing


def test_a_budget_below_the_amount_is_offered_a_smaller_amount():
    grades = _grades()
    a = _assignments(grades)
    o = offers(a, grades, Product(amount=5000, min_amount=100))
    assert o.loc["tight", "decision"] == "offer a smaller amount"
    assert o.loc["tight", "amount"] == pytest.approx(100 * Product().annuity_factor())
    assert "instead of 5,000" in o.loc["tight", "reason"]
    o = offers(a, grades, Product(max_grade=4))
    assert o.loc["good", "decision"] == "decline" and "beyond the cut-off (grade 4)" in o.loc["good", "reason"]


def test_a_thin_grade_is_pooled_with_its_neighbour_and_a_grade_without_outcomes_kept_between():
    from fthc.offer.decisions import grade_pd

    risk = np.r_[np.full(200, 0.3), np.full(10, 0.45)]  # grade 8: 200 outcomes at 50%; grade 9: 10 at 0%
    y = np.r_[np.arange(200) < 100, np.zeros(10, bool)]
    grades = fit_grades(risk, y)
    rates = grade_rates(grades)
    assert rates.loc[8, "rate"] == rates.loc[9, "rate"] == pytest.approx(100 / 210) and rates.loc[9, "enough"]
    a = pd.DataFrame({"risk": [0.3, 0.45, 0.7, 0.1], "risk_grade": grades.grade([0.3, 0.45, 0.7, 0.1])})
    p = grade_pd(a, grades)
    assert p["pd"].iloc[0] == p["pd"].iloc[1] == pytest.approx(100 / 210)  # grades 8 and 9, pooled
    assert p["pd"].iloc[2] == pytest.approx(0.7) and "no outcomes" in p["pd_source"].iloc[2]  # grade 10: its own, >= 9's
    assert p["pd"].iloc[3] == pytest.approx(0.1)  # grade 6, no outcomes: its own estimate, below grade 8's rate
    few = fit_grades(np.r_[np.full(200, 0.06), np.full(40, 0.3)], np.r_[np.arange(200) < 40, np.arange(40) < 8])
    between = pd.DataFrame({"risk": [0.1], "risk_grade": few.grade([0.1])})  # grade 6: no outcomes, 5 and 8 at 20%
    assert grade_pd(between, few)["pd"].iloc[0] == pytest.approx(0.2)  # its own 10% raised to the grade below's
    assert (p["pd_low"] <= p["pd"]).all() and (p["pd"] <= p["pd_high"]).all()


def test_grade_rates_rise_with_the_grade_pooling_those_that_run_backwards():
    risk = np.r_[np.full(100, 0.05), np.full(100, 0.1), np.full(100, 0.18), np.full(100, 0.3)]
    y = np.r_[np.arange(100) < 5, np.arange(100) < 20, np.arange(100) < 10, np.arange(100) < 35]  # 6 above 7
    rates = grade_rates(fit_grades(risk, y))
    assert rates["rate"].is_monotonic_increasing
    pooled = rates[rates["pooled"] != ""]
    assert len(pooled) == 2 and pooled["rate"].nunique() == 1
    raw = fit_grades(risk, y).table.loc[pooled.index]
    assert pooled["rate"].iloc[0] == pytest.approx(raw["positives"].sum() / raw["customers"].sum())


def test_strategy_table_and_needs():
    grades = _grades()
    a = _assignments(grades)
    o = offers(a, grades, Product())
    s = strategy(o, list(grades.table.index), Product())
    t = s.table[s.table["group"] == "all"].set_index("cutoff_grade")
    assert t["approved"].is_monotonic_increasing and t.loc[10, "approved"] == 4  # lendable: good, tight, indebted, risky
    assert t.loc[5, "approved"] == 3 and t.loc[5, "bad_rate"] == pytest.approx(o.loc["good", "pd"])
    assert t.loc[5, "bad_rate_low"] <= t.loc[5, "bad_rate"] <= t.loc[5, "bad_rate_high"]
    assert t.loc[8, "marginal_margin"] < 0 < t.loc[5, "marginal_margin"] and s.cutoff == 5
    none = s.table[s.table["group"] == "no credit history"].set_index("cutoff_grade")
    assert none.loc[10, "customers"] == 5 and none.loc[5, "approved"] == 2
    assert set(s.by_segment["segment"]) == {0, 1}
    n = needs(a.assign(bad_month_free_cash_flow=[200, -10, 50, -100, 300, np.nan],
                       bad_month_income=[3000, 0, 3000, 3000, 1000, np.nan], buffer=[3, 0.5, 0.2, 2, np.nan, 1],
                       typical_income=[3000, 3000, 3000, 3000, 3000, np.nan]))
    assert n.loc["all", "with_window"] == 5 and n.loc["all", "steady_surplus_share"] == pytest.approx(3 / 5)
    assert n.loc["all", "could_save_per_month"] == pytest.approx(200)
    assert n.loc["all", "income_gap_share"] == pytest.approx(2 / 5)  # no income, and a third of it
    assert n.loc["all", "thin_buffer_share"] == pytest.approx(2 / 4) and n.loc["all", "protection_share"] == 0.25
    r = make_offer(a, grades, Product())
    assert r.counts().to_dict() == {"offer": 3, "offer a smaller amount": 0, "decline": 3}
    q = r.offered("no credit history")
    lent = r.offers[(r.offers["decision"] != "decline") & ~r.offers["credit_history"]]
    assert q["offered"] == len(lent) == 2 and q["expected_margin"] == pytest.approx(lent["expected_margin"].sum())
    assert r.why_none() is None
    assert "does not cover the funding cost" in make_offer(a, grades, Product(annual_rate=0.04)).why_none()
    assert "smallest amount, 1,000,000" in make_offer(a, grades, Product(min_amount=1e6)).why_none()


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    from fthc.data.synth import write_synthetic_berka

    root = tmp_path_factory.mktemp("offer")
    write_synthetic_berka(root / "berka", n_accounts=700, seed=5)
    r = CliRunner().invoke(main, ["segment", "--data", str(root / "berka"), "--outcomes", "loans", "--k", "3",
                                  "--out", str(root / "segs")])
    assert r.exit_code == 0, r.output
    return root


def test_fthc_offer_writes_offers_strategy_needs_and_the_page(fitted):
    out = fitted / "offer"
    r = CliRunner().invoke(main, ["offer", "--model", str(fitted / "segs" / "model"), "--data",
                                  str(fitted / "berka"), "--out", str(out), "--amount", "20000", "--max-grade", "8",
                                  "--rate", "0.6"])  # a rate at which the book's grades pay: some are offered
    assert r.exit_code == 0, r.output
    said = " ".join(r.output.split())
    assert "customers:" in said and "offers.html" in said
    o = pd.read_csv(out / "offers.csv")
    assert o["decision"].isin(["offer", "offer a smaller amount", "decline"]).all() and o["reason"].str.len().min() > 5
    assert (o["decision"] == "offer").any() and (o.loc[o["decision"] == "offer", "amount"] == 20000).all()
    assert (o.loc[o["risk_grade"] > 8, "decision"] == "decline").all()
    assert len(o) == 700 and o["customer_id"].is_unique
    assignments = pd.read_csv(fitted / "segs" / "assignments.csv")
    assert {"typical_income", "typical_free_cash_flow", "bad_month_free_cash_flow", "buffer", "commitments"} <= \
        set(assignments.columns)
    history = assignments.set_index("customer_id")["outcome"].notna()
    assert o.set_index("customer_id")["credit_history"].equals(history.reindex(o["customer_id"]).rename(
        "credit_history"))  # an outcome known at fitting, learnt or not: the inclusion view's customers too
    s = pd.read_csv(out / "strategy.csv")
    assert set(s["group"]) == {"no credit history", "all"} and len(s) == 20
    assert (pd.read_csv(out / "strategy_by_segment.csv")["segment"].nunique()) == 3
    assert "all" in set(pd.read_csv(out / "needs.csv")["segment"].astype(str))
    page = (out / "offers.html").read_text()
    for part in ("What to offer", "The strategy table", "Per segment, at the cut-off", "Savings and protection",
                 "<svg", "grades up to 8"):
        assert part in page, part
    assert "max_grade = 8" in (out / "product.toml").read_text()
    quoted = fitted / "quoted.toml"
    quoted.write_text('name = "Kč \\"super\\" loan\\\\x"\n')
    r = CliRunner().invoke(main, ["offer", "--model", str(fitted / "segs" / "model"), "--data",
                                  str(fitted / "berka"), "--out", str(fitted / "offer3"), "--product", str(quoted)])
    assert r.exit_code == 0, r.output
    assert read_product(fitted / "offer3" / "product.toml").name == 'Kč "super" loan\\x'  # written back as read
    again = CliRunner().invoke(main, ["offer", "--model", str(fitted / "segs" / "model"), "--data",
                                      str(fitted / "berka"), "--out", str(fitted / "offer2"), "--product",
                                      str(out / "product.toml")])
    assert again.exit_code == 0, again.output
    assert pd.read_csv(fitted / "offer2" / "offers.csv").equals(o)


@pytest.mark.parametrize("args, said", [
    (["--rate", "-0.1"], "annual_rate = -0.1 is not valid; expected a yearly rate from 0 to 5"),
    (["--repayment-share", "1.5"], "repayment_share = 1.5 is not valid"),
])
def test_bad_product_options_are_one_line_and_exit_2(fitted, tmp_path, args, said):
    r = CliRunner().invoke(main, ["offer", "--model", str(fitted / "segs" / "model"), "--data",
                                  str(fitted / "berka"), "--out", str(tmp_path / "o"), *args])
    assert r.exit_code == 2 and said in " ".join(r.output.split()), r.output
    assert len(r.output.strip().splitlines()) == 1 and not (tmp_path / "o").exists()


def test_offer_needs_a_model_fitted_with_outcomes(tmp_path, synth_berka):
    r = CliRunner().invoke(main, ["segment", "--data", str(synth_berka), "--k", "2", "--out", str(tmp_path / "s")])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["offer", "--model", str(tmp_path / "s" / "model"), "--data", str(synth_berka),
                                  "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "fitted without outcomes" in r.output
