"""Which layout of workers and threads runs a grid fastest on this machine: `fthc run --workers N` gives each
worker cores/N threads, so every layout fills the cores without oversubscribing them.

    python benchmarks/bench_workers.py [--accounts 600] [--repeats 2]

Runs the quickstart's grid (64 runs of the paper's components, small budgets) on synthetic Berka, once per
layout and repeat, each in a fresh store, alternating layouts so that drift on a shared machine hits both.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from fthc.cli import QUICK_GRID
from fthc.data import write_synthetic_berka
from fthc.experiments.grid import Grid, expand
from fthc.experiments.parallel import available_cores, default_workers, threads_per_worker
from fthc.experiments.store import open_store


def one_grid(folder: Path, data: Path, workers: int, tag: str) -> float:
    url = f"sqlite:///{folder / f'{tag}.db'}"
    grid = Grid(**QUICK_GRID)
    with open_store(url) as store:
        store.init_grid(expand(grid), grid.runs, grid.to_dict())
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "fthc", "run", "--store", url, "--data", str(data), "--workers",
                    str(workers)], check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--accounts", type=int, default=600)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    cores = available_cores()
    layouts = sorted({1, cores} | ({2} if cores >= 2 else set()))
    folder = Path(tempfile.mkdtemp())
    data = folder / "berka"
    write_synthetic_berka(data, args.accounts, seed=0)
    runs = len(expand(Grid(**QUICK_GRID))) * QUICK_GRID["runs"]
    seconds = {w: [] for w in layouts}
    for r in range(args.repeats):
        for w in layouts:
            seconds[w].append(one_grid(folder, data, w, f"w{w}r{r}"))
    base = statistics.median(seconds[1])
    t = Table(title=f"the quickstart grid ({runs} runs) on {args.accounts} synthetic accounts, {cores} cores; "
                    f"median of {args.repeats}")
    for col in ("workers x threads", "seconds", "runs / minute", "against 1 worker"):
        t.add_column(col)
    for w in layouts:
        s = statistics.median(seconds[w])
        t.add_row(f"{w} x {threads_per_worker(w, cores)}", f"{s:.0f}", f"{runs / s * 60:.1f}", f"{base / s:.2f}x")
    Console(width=140).print(t)
    print(f"fthc run's default on this machine: {default_workers(cores)} workers x "
          f"{threads_per_worker(default_workers(cores), cores)} threads")


if __name__ == "__main__":
    main()
