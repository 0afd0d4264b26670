"""The default method at scale: `fthc segment --k 6` on a partitioned Parquet dataset, on each engine, against the
floor: DuckDB's own raw aggregate query over the same files, measured in the same run.

    python benchmarks/bench_scale.py                                      # 10M transactions, every engine
    python benchmarks/bench_scale.py --transactions 10_000_000 100_000_000
    python benchmarks/bench_scale.py --transactions 100_000_000 --engines duckdb spark --keep /tmp/fthc-scale
    python benchmarks/bench_scale.py --transactions 100_000_000 --engines duckdb --track 12   # and fthc track
    python benchmarks/bench_scale.py --transactions 10_000_000 --engines duckdb --repeats 3    # medians of 3

The dataset is generated streamed (one month at a time; hive partitions month=YYYY-MM, four files a month, so a
customer's rows are spread over many files), 250 transactions per customer over 24 months. Each command runs in
its own process, timed from start to exit (start-up, reading, checks, fit, scoring every customer, profiles,
page and files); its peak memory is that of its process tree (the Python process's VmHWM, and for Spark the JVM
beside it, sampled). The floor is one process running the aggregate a careful analyst would write in DuckDB
(counts, sums of credits and debits, median and 10th percentile of balance, share negative, median credit and
debit, months with income and income variation per customer), on 2 threads. Engines' assignments are compared.
The floor's own time varies by half from run to run on a shared machine: `--repeats` runs the floor and each command
in turn and shows medians. A second table says where fthc's time goes: each stage it announces (reading the
behaviour, the fit, the confidence refits, the chart's monthly figures, writing), timed to the next.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

KINDS = ["incoming_transfer", "cash_withdrawal", "card_payment", "outgoing_transfer", "cash_deposit"]

FLOOR = """
import duckdb, sys, time
con = duckdb.connect(config={"threads": 2})
t = time.time()
rows = con.execute(f'''
WITH t AS (SELECT customer_id, amount, balance, year("timestamp") * 12 + month("timestamp") AS mon
           FROM read_parquet('{sys.argv[1]}/**/*.parquet', hive_partitioning = true)),
     m AS (SELECT customer_id, mon, sum(greatest(amount, 0)) AS credit FROM t GROUP BY ALL),
     c AS (SELECT customer_id, count(*) AS n, sum(greatest(amount, 0)) AS credits, sum(greatest(-amount, 0)) AS debits,
                  median(balance) AS balance_median, quantile_cont(balance, 0.1) AS balance_p10,
                  avg((balance < 0)::DOUBLE) AS negative, median(amount) FILTER (WHERE amount > 0) AS credit_median,
                  median(-amount) FILTER (WHERE amount < 0) AS debit_median FROM t GROUP BY ALL),
     r AS (SELECT customer_id, count(*) FILTER (WHERE credit > 0) AS months_with_income,
                  stddev_pop(credit) / (avg(credit) + 1) AS income_variation FROM m GROUP BY ALL)
SELECT * FROM c JOIN r USING (customer_id)''').fetchall()
print(len(rows))
"""

RUN = """
import sys, time
import fthc.progress
t0, said = time.perf_counter(), fthc.progress.announce
def announce(text):  # each stage's start, for the phases table (patched before the modules bind it)
    print("PHASE", time.perf_counter() - t0, text.split(" (")[0][:60], file=sys.stderr)
    said(text)
fthc.progress.announce = announce
from fthc.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
else:
    code = 0
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        print("VMHWM", int(line.split()[1]) / 1024, file=sys.stderr)
sys.exit(code)
"""


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


def tree_rss_mb(pid: int) -> tuple[float, float]:
    """(the process's RSS, its descendants' RSS) in MB, read from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue

    def rss(p: int) -> float:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    stack, others = list(children.get(pid, [])), 0.0
    while stack:
        p = stack.pop()
        others += rss(p)
        stack += children.get(p, [])
    return rss(pid), others


def timed(cmd: list[str]) -> dict:
    """Run `cmd`; its seconds, exit code, the process's peak (VmHWM where it prints it) and its children's."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0.0, 0.0]

    def sample():
        while proc.poll() is None:
            own, others = tree_rss_mb(proc.pid)
            peak[0], peak[1] = max(peak[0], own), max(peak[1], others)
            time.sleep(0.5)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    out, err = proc.communicate()
    seconds = time.perf_counter() - t0
    t.join()
    hwm = [float(line.split()[1]) for line in err.splitlines() if line.startswith("VMHWM")]
    starts = [(float(line.split()[1]), line.split(maxsplit=2)[2]) for line in err.splitlines()
              if line.startswith("PHASE ")]
    ends = [t for t, _ in starts[1:]] + [seconds]
    phases = [("start-up, reading the options", starts[0][0] if starts else seconds)] + [
        (what, end - t) for (t, what), end in zip(starts, ends)]
    return {"seconds": seconds, "rc": proc.returncode, "peak_mb": hwm[0] if hwm else peak[0],
            "children_mb": peak[1], "phases": phases,
            "tail": [line for line in (err or out).strip().splitlines() if not line.startswith("PHASE ")][-1:]
            if proc.returncode else []}


def seconds_of(runs: list[dict]) -> str:
    """The median seconds of some runs, with their range where there are several."""
    secs = sorted(r["seconds"] for r in runs)
    return f"{np.median(secs):.1f}" + (f" ({secs[0]:.1f}-{secs[-1]:.1f})" if len(secs) > 1 else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--transactions", type=lambda v: int(v.replace("_", "")), nargs="+", default=[10_000_000])
    ap.add_argument("--engines", nargs="+", default=["duckdb", "pandas", "spark"],
                    choices=["duckdb", "pandas", "spark"])
    ap.add_argument("--repeats", type=int, default=1,
                    help="run the floor and each command this many times, in turn: medians (and the range) shown")
    ap.add_argument("--keep", type=Path, help="generate the datasets here and keep them (reused when present)")
    ap.add_argument("--track", type=int, default=0, metavar="PERIODS",
                    help="also time `fthc track --every month --periods PERIODS` with each engine's fitted model")
    args = ap.parse_args()
    console = Console(width=150)
    repeated = f"; the median of {args.repeats} and their range" if args.repeats > 1 else ""
    table = Table(title=f"fthc segment --k 6 on partitioned Parquet, 2 cores (one process each, start to exit{repeated})")
    tracked, phased = [], []
    for col in ("transactions (customers)", "what", "seconds", "x the floor", "peak RSS MB", "customers / s",
                "same segments as duckdb"):
        table.add_column(col)
    root = args.keep or Path(tempfile.mkdtemp(prefix="fthc-scale-"))
    for n in args.transactions:
        folder = root / f"tx{n}"
        if not (folder / "month=2022-01").exists():
            t0 = time.perf_counter()
            generate(folder, n)
            console.print(f"generated {n:,} transactions in {time.perf_counter() - t0:.0f} s: {folder}")
        customers = n // 250
        label = f"{n / 1e6:,.0f}M ({customers:,})"
        floors, runs, first = [], {e: [] for e in args.engines}, None
        for rep in range(args.repeats):  # the floor and each engine in turn, so that a slow spell hits all
            floors.append(timed([sys.executable, "-c", FLOOR, str(folder)]))
            for engine in args.engines:
                out = root / f"out-{n}-{engine}"
                shutil.rmtree(out, ignore_errors=True)
                cmd = [sys.executable, "-c", RUN, "segment", "--data", str(folder), "--k", "6", "--engine", engine,
                       "--out", str(out)] + (["--spark-master", "local[2]"] if engine == "spark" else [])
                r = timed(cmd)
                if r["rc"] == 0:
                    labels = pd.read_csv(out / "assignments.csv", usecols=["customer_id", "segment"]).set_index(
                        "customer_id")["segment"]
                    first = labels if first is None else first
                    r["same"] = "yes" if labels.equals(first) else \
                        f"no ({(labels != first.reindex(labels.index)).mean():.1%})"
                    if args.track and rep == args.repeats - 1:
                        t = timed([sys.executable, "-c", RUN, "track", "--model", str(out / "model"), "--data",
                                   str(folder), "--every", "month", "--periods", str(args.track), "--out",
                                   str(out / "tracks")])
                        tracked.append((label, engine, r["seconds"], t))
                runs[engine].append(r)
                shutil.rmtree(out, ignore_errors=True)
        floor_s = float(np.median([f["seconds"] for f in floors]))
        table.add_row(label, "the floor: DuckDB's raw aggregate query", seconds_of(floors), "1.00",
                      f"{max(f['peak_mb'] for f in floors):,.0f}", f"{customers / floor_s:,.0f}", "")
        for engine in args.engines:
            ok = [r for r in runs[engine] if r["rc"] == 0]
            if not ok:
                tail = " ".join(runs[engine][-1]["tail"])
                table.add_row(label, f"fthc segment --engine {engine}", "failed", "", "", "", tail)
                continue
            secs = float(np.median([r["seconds"] for r in ok]))
            memory = f"{max(r['peak_mb'] for r in ok):,.0f}" + (
                f" + JVM {max(r['children_mb'] for r in ok):,.0f}" if engine == "spark" else "")
            table.add_row(label, f"fthc segment --engine {engine}", seconds_of(ok), f"{secs / floor_s:.2f}", memory,
                          f"{customers / secs:,.0f}", ok[-1]["same"] if engine != args.engines[0] else "")
            same = [r for r in ok if [w for w, _ in r["phases"]] == [w for w, _ in ok[0]["phases"]]]
            phased.append((label, engine, [(what, float(np.median([r["phases"][i][1] for r in same])))
                                           for i, (what, _) in enumerate(ok[0]["phases"])], floor_s))
        console.print(table)
    if phased:
        t = Table(title="where fthc segment's time goes: from each stage's start (as it announces it) to the next")
        for col in ("transactions (customers)", "engine", "stage", "median seconds", "x the floor's median"):
            t.add_column(col)
        for label, engine, phases, floor_s in phased:
            for what, secs in phases:
                t.add_row(label, engine, what, f"{secs:.1f}", f"{secs / floor_s:.2f}")
        console.print(t)
    if tracked:
        t = Table(title=f"fthc track --every month --periods {args.track} with the model of fthc segment, same files")
        for col in ("transactions (customers)", "engine", "segment s", "track s", "track / segment",
                    "peak RSS MB"):
            t.add_column(col)
        for label, engine, seg_s, r in tracked:
            memory = f"{r['peak_mb']:,.0f}" + (f" + JVM {r['children_mb']:,.0f}" if engine == "spark" else "")
            t.add_row(label, engine, f"{seg_s:.1f}", "failed: " + " ".join(r["tail"]) if r["rc"] else
                      f"{r['seconds']:.1f}", "" if r["rc"] else f"{r['seconds'] / seg_s:.2f}", memory)
        console.print(t)
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    console.print("targets: at 100M, duckdb within 1.5x the floor and under 3 GB; at 10M within 3x and under "
                  "1.5 GB; spark at 100M under 15 minutes; the engines' segments identical")


if __name__ == "__main__":
    main()
