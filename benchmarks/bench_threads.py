"""The thread budget: the quickstart's segment step with the default budget against `--threads 1`, on an idle
machine and with one core kept busy by another process.

    python benchmarks/bench_threads.py                 # 3 repeats of each row, about 4 minutes on 2 cores
    python benchmarks/bench_threads.py --repeats 5

The step is the README's `fthc segment --data berka --outcomes loans --k auto` on `fthc data synth` (4,500 accounts,
1.1M transactions), run as a fresh process each time (its workers' start included), rows interleaved so that a
noisy machine hurts them alike. "Busy" runs a second process spinning on one core for the whole run (a plain
Python loop: a data team's server running someone else's job). Medians and each row's ratio to `--threads 1` under the same load; the assignments must be equal in every row.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table


def spin(stop) -> None:
    while not stop.is_set():
        sum(range(10_000))


def run(data: Path, out: Path, threads: str | None) -> tuple[float, str]:
    env = dict(os.environ)
    env.pop("FTHC_THREADS", None)
    cmd = [sys.executable, "-m", "fthc"] + (["--threads", threads] if threads else []) + [
        "segment", "--data", str(data), "--outcomes", "loans", "--k", "auto", "--out", str(out), "--force"]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - t0
    digest = hashlib.sha256((out / "assignments.csv").read_bytes()).hexdigest()[:12]
    return seconds, digest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--accounts", type=int, default=4500)
    args = ap.parse_args()
    from fthc.threads import available_cores

    work = Path(tempfile.mkdtemp(prefix="fthc-threads-"))
    data = work / "berka"
    subprocess.run([sys.executable, "-m", "fthc", "data", "synth", "--out", str(data), "--accounts",
                    str(args.accounts)], check=True, stdout=subprocess.DEVNULL)
    rows = [("idle", "--threads 1", "1"), ("idle", "default", None),
            ("one core busy", "--threads 1", "1"), ("one core busy", "default", None)]
    times: dict[tuple[str, str], list[float]] = {r[:2]: [] for r in rows}
    digests: set[str] = set()
    for _ in range(args.repeats):
        for load, label, threads in rows:
            stop, hog = None, None
            if load != "idle":
                stop = mp.Event()
                hog = mp.Process(target=spin, args=(stop,))
                hog.start()
            try:
                seconds, digest = run(data, work / "out", threads)
            finally:
                if hog is not None:
                    stop.set()
                    hog.join()
            times[(load, label)].append(seconds)
            digests.add(digest)
    console = Console()
    table = Table(title=f"quickstart segment step, {available_cores()} cores, median of {args.repeats}")
    for col in ("load", "threads", "median s", "runs (s)", "ratio to --threads 1"):
        table.add_column(col)
    for load, label, _ in rows:
        t = times[(load, label)]
        base = statistics.median(times[(load, "--threads 1")])
        table.add_row(load, label, f"{statistics.median(t):.1f}", " ".join(f"{x:.1f}" for x in t),
                      f"{statistics.median(t) / base:.2f}x")
    console.print(table)
    console.print(f"assignments identical in every run: {len(digests) == 1}")


if __name__ == "__main__":
    main()
