"""Customer segments and what follows from them: `fthc segment`, `assign`, `track`, `explain`, `offer` and
`quickstart`."""

from __future__ import annotations

import time
from pathlib import Path

import click

from ..progress import counted
from .options import (KType, RegistryChoice, WindowParam, engine_names, example, mapping_options, model_option,
                      parse_date, parse_edges, parse_risk_weight, precision_option, read_config, risk_model_names)
from .printing import console, explain_lines, print_segments, print_track, say, showing_progress


@click.command("segment", epilog=example(
    "fthc segment --k auto --out fthc-out/segments               # synthetic Berka, the default method",
    "fthc segment --data bank/transactions.csv --outcomes bank/outcomes.csv --attributes bank/attributes.csv "
    "--out segs",
    "fthc segment --data my.parquet --mapping mapping.toml --k 6 --out segs",
    "fthc segment --data lake/transactions/ --engine spark --out segs   # a base larger than one machine",
    "fthc segment --preset fthc --k auto --out fthc-out/fthc     # the paper's method"))
@click.option("--data", type=click.Path(path_type=Path),
              help="Berka folder, CSV/Parquet file, or folder/glob of Parquet files (default: synthetic Berka).")
@click.option("--preset", "preset_name", default="features", show_default=True,
              help="features (behaviour features, k-means: no network), behaviour (the same with a contrastive "
                   "embedding), fthc (the paper's), pooled, dtc, lstm, fcnn or vae.")
@click.option("--config", "config_file", type=click.Path(path_type=Path, exists=True),
              help="JSON ClustererConfig: fields flat, or by section (encoder, head).")
@click.option("--k", "k", type=KType(), help="Number of segments, or auto [default: the --config file's k, else auto].")
@click.option("--representation", type=click.Choice(["amounts", "events", "calendar"]),
              help="Series representation of a network method [default: the preset's].")
@click.option("--pretrain-batches", type=click.IntRange(0), help="Training budget of a network method.")
@click.option("--seed", default=0, show_default=True, type=int, help="Random seed of every fit and split.")
@precision_option
@click.option("--engine", type=RegistryChoice(engine_names), default="duckdb", show_default=True,
              help="What computes the behaviour of every customer: duckdb (embedded), pandas, spark.")
@click.option("--spark-master", help="Spark master URL (--engine spark) [default: local[N], N the thread budget].")
@click.option("--outcomes", help="Outcomes some customers have (a CSV/Parquet file of customer_id and a 0/1 "
                                 "default), or 'loans' on a Berka folder: the risk of every customer is learnt.")
@click.option("--outcome-id-col", default="customer_id", show_default=True, help="The outcomes file's id column.")
@click.option("--outcome-col", default="default", show_default=True, help="The outcomes file's 0/1 column.")
@click.option("--outcome-date-col", help="The date each outcome refers to (default: a column reference_date where "
                                         "there is one); the model learns from each customer's history before it.")
@click.option("--risk-weight", default="auto", show_default=True,
              help="How much the outcome shapes the segments: auto (the stated rule), 0 (unsupervised), or a weight.")
@click.option("--risk-model", type=RegistryChoice(risk_model_names), default="boosted",
              show_default=True, help="The outcome model: boosted trees (LightGBM), monotone trees (risk rising or falling "
                                      "with each input as its direction says), a logistic regression, or auto (the class "
                                      "chosen by nested cross-validation).")
@click.option("--window", type=WindowParam(), default="12", show_default=True,
              help="Months of history, ending at each customer's reference date, that every risk figure reads; "
                   "auto: 12, 24 or 36, whichever the outcome model predicts best out of fold.")
@click.option("--as-of", "as_of", help="A point in time (YYYY-MM-DD): the data and outcomes as they stood that day "
                                       "(nothing later is read) [default: the data's end].")
@click.option("--min-history", type=click.IntRange(1), default=6, show_default=True,
              help="Months of history in the window a customer needs for a risk and a grade (fewer: 'insufficient "
                   "history', not learnt from).")
@click.option("--performance-months", type=click.IntRange(0),
              help="Good outcomes (0) dated within this many months of the data's end are too young to read: left "
                   "out, counted [default: 6 for Berka's loans, 0 for an outcomes file].")
@click.option("--grade-edges", help="The master scale's edges of estimated risk, comma-separated (e.g. "
                                    "0.02,0.05,0.1,0.2,0.4) [default: 10 grades, 1% to 60%].")
@click.option("--attributes", type=click.Path(path_type=Path),
              help="CSV/Parquet of customer_id and groups (gender, age band, ...) for the fairness audit; never used "
                   "to fit (a Berka folder brings its owners' gender, age band and region).")
@click.option("--drop-duplicates", is_flag=True, help="Leave out rows that exactly repeat an earlier row (counted).")
@click.option("--allow-fewer", is_flag=True,
              help="Accept a result with fewer non-empty segments than k (otherwise exit code 2).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("fthc-out/segments"), show_default=True,
              help="Results folder (written whole at the end; a folder fthc did not write needs --force).")
@click.option("--force", is_flag=True, help="Replace an --out folder that holds files fthc did not write.")
@mapping_options
def segment_cmd(data, preset_name, config_file, k, representation, pretrain_batches, seed, precision, engine,
                spark_master, outcomes, outcome_id_col, outcome_col, outcome_date_col, risk_weight, risk_model,
                window, as_of, min_history, performance_months, grade_edges, attributes, drop_duplicates, allow_fewer,
                out, force, mapping, lenient) -> None:
    """Segment every customer: assignments, profiles, names, risk, segments.html and the model for assign."""
    from ..app.commands import segment
    from ..app.default_data import default_data
    from ..app.segment_setup import build_segmenter, outcome_source, segment_method, use_spark_master

    method, stated_k = segment_method(preset_name, read_config(config_file), seed=seed,
                                      pretrain_batches=pretrain_batches, precision=precision)
    seg = build_segmenter(method, k, stated_k=stated_k, columns=mapping, engine=engine, seed=seed,
                          representation=representation, lenient=lenient, risk_weight=parse_risk_weight(risk_weight),
                          drop_duplicates=drop_duplicates, risk_model=risk_model, window=window,
                          as_of=parse_date(as_of, "--as-of"), min_history=min_history,
                          performance_months=performance_months, grade_edges=parse_edges(grade_edges))
    use_spark_master(engine, spark_master)
    outcomes = outcome_source(outcomes, outcome_id_col, outcome_col, outcome_date_col)
    with showing_progress():
        result = segment(default_data(data, console.print), out, seg, force=force, allow_fewer=allow_fewer,
                         outcomes=outcomes, attributes=attributes)
    print_segments(result)
    if result.get("replaced"):
        say(f"replaced the earlier results in {out}: {result['replaced']}")
    say(f"segments: {out}/segments.html (and {', '.join(f for f in result['files'] if f != 'segments.html')})")


@click.command("assign", epilog=example(
    "fthc assign --model fthc-out/segments/model --data new_customers.csv --out assigned.csv",
    "fthc assign --model segs/model --data 'lake/transactions/' --engine spark --out scored/"))
@model_option()
@click.option("--data", type=click.Path(path_type=Path), required=True,
              help="Berka folder, CSV/Parquet file, or folder/glob of Parquet files.")
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="A .csv or .parquet file; with --engine spark, a folder (Parquet, partitioned by segment).")
@click.option("--engine", type=RegistryChoice(engine_names, "local"), default="duckdb",
              show_default=True, help="What computes the behaviour: duckdb (embedded), pandas, spark (local is "
                                      "duckdb, the name of earlier versions).")
@click.option("--spark-master", help="Spark master URL (--engine spark) [default: local[N], N the thread budget].")
@mapping_options
def assign_cmd(model_dir, data, out, engine, spark_master, mapping, lenient) -> None:
    """Score customers with a saved model: segment, name, confidence (and risk), read as at fitting."""
    from ..app.scoring import assign_customers

    with showing_progress():
        r = assign_customers(model_dir, data, out, mapping, lenient, engine=engine, master=spark_master)
    if r["engine"] == "spark":
        say(f"assigned {r['customers']:,} customers in {r['seconds']:.0f} s "
            f"({r['customers'] / max(r['seconds'], 1e-9):,.0f} per second) with Spark {r['master']}: {out}")
    else:
        say(f"assigned {counted(r['customers'], 'customer')} to segments: {out}")


@click.command("track", epilog=example(
    "fthc track --model fthc-out/segments/model --data fthc-data/berka --every quarter --out tracks",
    "fthc track --model segs/model --data bank/transactions.csv --every month --from 2023-01 --to 2023-12 "
    "--out tracks"))
@model_option()
@click.option("--data", type=click.Path(path_type=Path), required=True,
              help="Berka folder, CSV/Parquet file, or folder/glob of Parquet files.")
@click.option("--every", type=click.Choice(["month", "quarter"]), default="quarter", show_default=True,
              help="The period: each customer is placed at the end of every one.")
@click.option("--from", "start", help="The first period starts in this month (YYYY-MM) [default: the latest "
                                      "--periods periods].")
@click.option("--to", "end", help="The last period ends with this month (YYYY-MM) [default: the data's last whole "
                                  "month].")
@click.option("--periods", type=click.IntRange(2, 120), default=12, show_default=True,
              help="How many periods, when --from is not given.")
@click.option("--alerts", default="5%", show_default=True,
              help="Early-warning alerts per period: a share of the customers tracked ('5%') or a count ('200').")
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Folder for tracks.html, tracks.parquet, migration.csv, early_warning.csv, drift.csv.")
@click.option("--force", is_flag=True, help="Write into --out even if it holds files fthc did not write.")
@mapping_options
def track_cmd(model_dir, data, every, start, end, periods, alerts, out, force, mapping, lenient) -> None:
    """Follow customers over time with a fitted model (no refit): each one's segment, risk and grade at the end
    of every period, the migrations between periods, an early-warning list and drift against the fit."""
    from ..app.commands import track

    with showing_progress():
        r = track(model_dir, data, out, every, start, end, periods, mapping, lenient, force, alerts)
    print_track(r, every, alerts, out)


@click.command("explain", epilog=example(
    "fthc explain --model fthc-out/segments/model --data fthc-data/berka --customer 6"))
@model_option()
@click.option("--data", type=click.Path(path_type=Path), required=True, help="The customer's transactions.")
@click.option("--customer", required=True, help="The customer's id, as in the data.")
@mapping_options
def explain_cmd(model_dir, data, customer, mapping, lenient) -> None:
    """Why a customer is in its segment: the three behaviour traits that most place it there."""
    from ..app.commands import explain

    with showing_progress():
        e = explain(model_dir, data, customer, mapping, lenient)
    for line in explain_lines(e):
        say(line)


@click.command("offer", epilog=example(
    "fthc offer --model fthc-out/segments/model --data fthc-data/berka --out fthc-out/offer",
    "fthc offer --model segs/model --data bank.csv --product loan.toml --max-grade 5 --out offer"))
@model_option("A model folder written by fthc segment with outcomes (out/model).")
@click.option("--data", type=click.Path(path_type=Path), required=True, help="The customers' transactions.")
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Folder for offers.html, offers.csv, strategy.csv, strategy_by_segment.csv, needs.csv, "
                   "product.toml.")
@click.option("--product", "product_file", type=click.Path(path_type=Path),
              help="A TOML file of the product's terms (the options below override it).")
@click.option("--term", "term_months", type=int, help="Term in months [default: 12].")
@click.option("--rate", "annual_rate", type=float, help="Yearly interest rate, 0.24 for 24% [default: 0.24].")
@click.option("--repayment-share", type=float,
              help="Largest repayment as a share of typical monthly income [default: 0.35].")
@click.option("--lgd", "loss_given_default", type=float, help="Loss given default, a share [default: 0.6].")
@click.option("--funding-cost", type=float, help="Yearly cost of funds [default: 0.05].")
@click.option("--amount", type=float, help="The amount the product lends [default: the largest affordable].")
@click.option("--min-amount", type=float, help="Offer nothing below this amount [default: 0].")
@click.option("--max-amount", type=float, help="Largest amount [default: none].")
@click.option("--max-grade", type=int, help="The cut-off grade [default: the last grade whose margin is positive].")
@click.option("--force", is_flag=True, help="Write into --out even if it holds files fthc did not write.")
@mapping_options
def offer_cmd(model_dir, data, out, product_file, force, mapping, lenient, **terms) -> None:
    """What to offer each customer: the repayment its budget affords, the amount, expected loss and margin, a
    decision with its reason; the strategy table of grade cut-offs; savings and protection needs per segment."""
    from ..app.offer import offer, summary_lines
    from ..offer.product import read_product

    product = read_product(product_file, **terms)
    with showing_progress():
        r = offer(model_dir, data, out, product, mapping, lenient, force)
    for line in summary_lines(r):
        say(line)
    say(f"offers: {out / 'offers.html'} (and offers.csv, strategy.csv, strategy_by_segment.csv, needs.csv, "
        "product.toml)")


@click.command("quickstart", epilog=example("fthc quickstart", "fthc quickstart --data my.csv --mapping mapping.toml"))
@click.option("--store", "store_url", default="fthc-quick.db", show_default=True,
              help="Store of the quick grid (SQLite file, or a URL as for init-db).")
@click.option("--data", type=click.Path(path_type=Path),
              help="Berka folder or transaction table (default: synthetic Berka).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("fthc-out"), show_default=True,
              help="Folder for report/, segments/ and offer/.")
@mapping_options
def quickstart(store_url, data, out, mapping, lenient) -> None:
    """The main job on the embedded defaults: a quick grid of the paper's components, its report, and customer
    segments with the default method, with every customer's risk learnt from a Berka folder's loans, and what to
    offer them (about 2 minutes on 2 cores)."""
    from ..app.default_data import default_data
    from ..app.offer import summary_lines
    from ..app.quickstart import init_quick_grid, quick_offer, quick_report, quick_segments
    from ..experiments.parallel import run_workers

    t0 = time.perf_counter()
    data = default_data(data, console.print)
    configurations, runs = init_quick_grid(store_url, mapping, lenient)
    console.print(f"quick grid: {configurations} configurations x {runs} runs in {store_url} "
                  f"(the paper's grid: fthc init-db)")
    run_workers(store_url, data, None, None, None, console)  # the machine's best layout of workers
    with showing_progress():
        r = quick_report(store_url, out)
    console.print(r["summary"])
    with showing_progress():
        s = quick_segments(data, out, mapping, lenient, said=say)
    print_segments(s, title="features segments")
    with showing_progress():
        offered = quick_offer(s, data, out, mapping, lenient)
    for line in summary_lines(offered) if offered is not None else ():
        say(line)
    say(f"done in {time.perf_counter() - t0:.0f} s\n  segments: {out / 'segments' / 'segments.html'}\n"
        + (f"  what to offer: {out / 'offer' / 'offers.html'}\n" if offered is not None else "") +
        f"  grid report: {out / 'report' / 'report.html'}\n"
        f"  next: fthc status --store {store_url}   fthc report --store {store_url}")


COMMANDS = (segment_cmd, assign_cmd, track_cmd, explain_cmd, offer_cmd, quickstart)
