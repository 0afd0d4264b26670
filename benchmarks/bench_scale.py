"""Beyond one pandas frame: series and summary features of a partitioned Parquet dataset, out of core (customer
buckets spilled to disk) against the in-memory path, with peak resident memory and seconds for each.

    python benchmarks/bench_scale.py --transactions 10_000_000            # both paths (in-memory needs RAM)
    python benchmarks/bench_scale.py --transactions 100_000_000 --skip-in-memory --scoring --skip-local-assign
    python benchmarks/bench_scale.py --transactions 100_000_000 --skip-in-memory --skip-out-of-core --scoring \
        --skip-local-assign                                                 # Spark's scoring alone at 100M
    python benchmarks/bench_scale.py --transactions 10_000_000 --scoring  # + assign bucket by bucket and on Spark

The dataset is generated streamed (one month of ~250-transaction histories at a time, so a customer's rows
are spread over many files in hive partitions month=YYYY-MM), never held in memory. Each path runs in its own
process, so each peak RSS is its own (Spark's JVM is a separate process: its memory is not in the Python RSS);
seconds per million rows make the sizes comparable.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from memory import peak_mb
from rich.console import Console
from rich.table import Table

KINDS = ["incoming_transfer", "cash_withdrawal", "card_payment", "outgoing_transfer", "cash_deposit"]


def generate(folder: Path, transactions: int, per_customer: int = 250, months: int = 24, seed: int = 0) -> int:
    """Write `transactions` rows in hive partitions by month; returns the number of customers."""
    rng = np.random.default_rng(seed)
    customers = max(1, transactions // per_customer)
    per_month = transactions // months
    level = rng.lognormal(6, 1, customers)
    for m in range(months):
        cust = rng.integers(0, customers, per_month)
        day = pd.Timestamp("2022-01-01") + pd.DateOffset(months=m)
        frame = pd.DataFrame({
            "customer_id": cust.astype(np.int64),
            "timestamp": day + pd.to_timedelta(rng.integers(0, 28 * 86400, per_month), unit="s"),
            "amount": np.round(rng.normal(0, 1, per_month) * level[cust], 2),
            "balance": np.round(rng.normal(2, 1, per_month) * level[cust] * 5, 2),
            "category": np.asarray(KINDS)[rng.integers(0, len(KINDS), per_month)],
        })
        out = folder / f"month={day:%Y-%m}"
        out.mkdir(parents=True, exist_ok=True)
        for j, part in enumerate(np.array_split(np.arange(per_month), 4)):  # several files per month
            frame.iloc[part].to_parquet(out / f"part-{j}.parquet", index=False)
    return customers


def run_path(path: str, folder: str, representation: str, rows_per_bucket: int) -> dict:
    from fthc.data import SeriesSpec, build_series
    from fthc.data.partitioned import bucket_transactions, bucketed_series, parquet_files
    from fthc.data.tables import LINE, RowChecker
    from fthc.data.transactions import ColumnMapping, canonical_transactions
    from fthc.features import summary_features

    mapping = ColumnMapping(balance="balance", category="category")
    t0 = time.perf_counter()
    if path in ("assign-spark", "assign-local"):
        from fthc.segments.segment import assign

        model = Path(folder).parent / "segments" / "model"
        with tempfile.TemporaryDirectory() as tmp:
            if path == "assign-spark":
                from fthc.engines.spark import assign_spark

                r = assign_spark(model, folder, Path(tmp) / "out", master="local[2]")
                customers = r["customers"]
            else:
                customers = len(assign(model, folder, Path(tmp) / "a.parquet"))
        return {"seconds": time.perf_counter() - t0, "customers": customers, "seq_len": "",
                "peak_mb": peak_mb()}
    if path == "in-memory":
        raw = pd.concat([pd.read_parquet(f) for f in parquet_files(folder)], ignore_index=True)
        raw[LINE] = np.arange(1, len(raw) + 1)
        tx = canonical_transactions(raw, mapping, RowChecker(Path(folder)))
        del raw
        series = build_series(tx, SeriesSpec(representation))
        with tempfile.TemporaryDirectory() as tmp:
            summary_features(tx).to_parquet(Path(tmp) / "features.parquet")
        customers, steps = len(series), int(series.X.shape[2])
    else:
        with tempfile.TemporaryDirectory() as tmp:
            buckets = bucket_transactions(folder, tmp, mapping, rows_per_bucket=rows_per_bucket)
            customers, steps = 0, 0
            for i, (tx, series) in enumerate(bucketed_series(buckets, SeriesSpec(representation),
                                                             with_transactions=True)):
                summary_features(tx).to_parquet(Path(tmp) / f"features-{i:05d}.parquet")
                customers += len(series)
                steps = int(series.X.shape[2])
    return {"seconds": time.perf_counter() - t0, "customers": customers, "seq_len": steps,
            "peak_mb": peak_mb()}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        print(json.dumps(run_path(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--transactions", type=lambda v: int(v.replace("_", "")), default=10_000_000)
    ap.add_argument("--representation", default="calendar", choices=["calendar", "events", "amounts"])
    ap.add_argument("--rows-per-bucket", type=int, default=2_000_000)
    ap.add_argument("--skip-in-memory", action="store_true")
    ap.add_argument("--skip-out-of-core", action="store_true", help="e.g. to measure only Spark's scoring at 100M")
    ap.add_argument("--scoring", action="store_true", help="also score every customer: bucket by bucket in one "
                    "process, and with Spark local[2] (needs fthc[spark])")
    ap.add_argument("--sample", type=int, default=20_000, help="customers the scoring model is fitted on")
    ap.add_argument("--skip-local-assign", action="store_true", help="with --scoring: Spark only")
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="fthc-scale-")) / "transactions"
    t0 = time.perf_counter()
    customers = generate(folder, args.transactions)
    console = Console(width=140)
    console.print(f"generated {args.transactions:,} transactions of {customers:,} customers in "
                  f"{time.perf_counter() - t0:.0f} s: {folder}")
    table = Table(title=f"series ({args.representation}) + summary features of {args.transactions:,} transactions, "
                        f"{customers:,} customers, partitioned Parquet; 2 cores")
    for col in ("path", "seconds", "s per million rows", "peak RSS MB", "customers", "seq_len"):
        table.add_column(col)
    if args.scoring:  # a model fitted on a sample of the dataset's own customers, to score all of them with
        from fthc.config import preset
        from fthc.segments.segment import segment

        t1 = time.perf_counter()
        segment(folder, folder.parent / "segments", preset("features"), 6, "events", sample=args.sample)
        console.print(f"fitted the default method on a sample of about {args.sample:,} customers in "
                      f"{time.perf_counter() - t1:.0f} s")
    rows = {}
    paths = ([] if args.skip_in_memory else ["in-memory"]) + ([] if args.skip_out_of_core else ["out-of-core"]) + \
        ((["assign-spark"] if args.skip_local_assign else ["assign-local", "assign-spark"]) if args.scoring else [])
    for path in paths:
        out = subprocess.run([sys.executable, __file__, "--one", path, str(folder), args.representation,
                              str(args.rows_per_bucket)], capture_output=True, text=True)
        if out.returncode != 0:
            table.add_row(path, "failed", "", "", out.stderr.strip().splitlines()[-1][:60], "")
            continue
        r = rows[path] = json.loads(out.stdout.strip().splitlines()[-1])
        table.add_row(path, f"{r['seconds']:.0f}", f"{r['seconds'] / args.transactions * 1e6:.1f}",
                      f"{r['peak_mb']:,.0f}", f"{r['customers']:,} ({r['customers'] / r['seconds']:,.0f}/s)",
                      str(r["seq_len"]))
    console.print(table)
    if len(rows) == 2:
        console.print(f"out-of-core against in-memory: {rows['out-of-core']['seconds'] / rows['in-memory']['seconds']:.2f}x "
                      f"the time, {rows['out-of-core']['peak_mb'] / rows['in-memory']['peak_mb']:.2f}x the peak memory "
                      f"(targets: time within 1.5x per row at 10M; under 4 GB at 100M)")


if __name__ == "__main__":
    main()
