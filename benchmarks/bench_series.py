"""Series building: wall time and peak memory at Berka scale, 10x and 100x, against the reference approach.

The reference implementation filters the whole transaction table once per customer; fthc sorts once and
places every row with vectorised group arithmetic. Both run in this process on the same data, so the ratio
holds on a noisy shared machine even when absolute times do not.

    python benchmarks/bench_series.py                  # Berka scale, 10x, 100x (needs ~15 GB, a few minutes)
    python benchmarks/bench_series.py --scales 1 10    # skip 100x
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
import tracemalloc

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from fthc.data.series import SeriesSpec, build_series
from fthc.data.transactions import KINDS

BERKA_TX, BERKA_CUSTOMERS = 1_056_320, 4_500


def make_transactions(scale: float, seed: int = 0) -> pd.DataFrame:
    """Canonical transactions at Berka's volume x scale (1,056,320 rows over 4,500 customers at scale 1)."""
    rng = np.random.default_rng(seed)
    n_cust = int(BERKA_CUSTOMERS * scale)
    n = int(BERKA_TX * scale)
    weights = rng.gamma(2.0, 1.0, n_cust)
    customer = rng.choice(n_cust, size=n, p=weights / weights.sum())
    ts = np.datetime64("1993-01-01", "ns") + rng.integers(0, 6 * 365, n).astype("timedelta64[D]")
    amount = np.round(rng.normal(0, 5000, n), 2)
    df = pd.DataFrame({"customer_id": customer, "timestamp": ts, "amount": amount,
                       "balance": np.round(rng.normal(40000, 20000, n), 2),
                       "kind": pd.Categorical.from_codes(rng.integers(0, len(KINDS), n), KINDS)})
    return df  # deliberately unsorted: the builder must sort


def reference_amounts(tx: pd.DataFrame, seq_len: int) -> np.ndarray:
    """The reference code's approach: one full-table filter per customer (plus the date sort it forgot)."""
    ids = np.sort(tx["customer_id"].unique())
    X = np.zeros((len(ids), 1, seq_len), dtype=np.float32)
    for i, cid in enumerate(ids):
        rows = tx[tx["customer_id"] == cid].sort_values("timestamp", kind="stable")
        a = rows["amount"].to_numpy()[-seq_len:]
        sd = a.std()
        z = (a - a.mean()) / sd if sd > 0 else np.zeros_like(a)
        X[i, 0, : len(z)] = z
    return X


def timed(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def peak_memory(fn) -> float:
    """Peak bytes allocated (numpy and pandas buffers included) while fn runs, in MB."""
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", type=float, nargs="+", default=[1, 10, 100])
    ap.add_argument("--repeats", type=int, default=3, help="timing repeats at scales <= 10 (median reported)")
    ap.add_argument("--no-baseline", action="store_true", help="skip the reference approach (about 30 s)")
    args = ap.parse_args()

    console = Console(width=200)
    table = Table(title="series building (median wall time; peak memory traced during the build)")
    for col in ("scale", "transactions", "customers", "method", "representation", "seconds", "s / M rows",
                "peak MB", "output MB", "vs reference"):
        table.add_column(col, justify="right" if col not in ("method", "representation") else "left")
    baseline = None
    for scale in args.scales:
        tx = make_transactions(scale)
        n_cust = tx["customer_id"].nunique()
        repeats = args.repeats if scale <= 10 else 1
        reps = ("amounts", "events", "calendar") if scale <= 10 else ("amounts", "calendar")
        for rep in reps:
            spec = SeriesSpec(rep, seq_len=675 if rep != "calendar" else None)
            secs, out = timed(lambda: build_series(tx, spec), repeats)
            mem = peak_memory(lambda: build_series(tx, spec))
            ratio = ""
            if rep == "amounts" and scale == 1 and not args.no_baseline:
                base_secs, base_out = timed(lambda: reference_amounts(tx, 675), 1)
                np.testing.assert_allclose(out.X, base_out, atol=1e-4)  # same result, so the timing is fair
                baseline = base_secs
                table.add_row(f"{scale:g}x", f"{len(tx):,}", f"{n_cust:,}", "reference",
                              rep, f"{base_secs:.2f}", f"{base_secs / len(tx) * 1e6:.2f}", "", "", "1.0x")
            if rep == "amounts" and baseline is not None and scale == 1:
                ratio = f"{baseline / secs:.0f}x faster"
            table.add_row(f"{scale:g}x", f"{len(tx):,}", f"{n_cust:,}", "fthc", rep,
                          f"{secs:.2f}", f"{secs / len(tx) * 1e6:.2f}", f"{mem:,.0f}", f"{out.X.nbytes / 2**20:,.0f}",
                          ratio)
            del out
            gc.collect()
        gc.collect()
    console.print(table)
    import resource

    console.print(f"peak resident memory of this whole process (data generation included): "
                  f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:,.1f} GB")
    console.print("targets: Berka scale < 1 s, 10x < 10 s, 100x < 24 GB and linear in time (s / M rows flat)")


if __name__ == "__main__":
    main()
