"""Store throughput: claim-and-record cycles per second per backend, with 1 and 4 worker processes.

    python benchmarks/bench_store.py [--runs 400]

PostgreSQL runs on a throwaway local server (needs the postgresql package); MongoDB only where
FTHC_TEST_MONGODB_URI points at a server; mongomock (in-process, 1 worker) shows the code path's overhead.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import tempfile
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from fthc.config import ClustererConfig
from fthc.experiments.grid import GridEntry
from fthc.experiments.store import open_store


def _cycle(url: str, worker: str, ready=None, go=None) -> int:
    n = 0
    with open_store(url) as store:
        if ready is not None:  # timing starts once every process is up and connected
            ready.put(worker)
            go.wait()
        while (run := store.claim(worker, 60)) is not None:
            store.finish(run.id, worker, "done", metrics={"train": {"silhouette": 0.1}}, train_seconds=0.0)
            n += 1
    return n


def measure(url: str, runs: int, workers: int) -> float:
    with open_store(url) as store:
        store.init_grid([GridEntry(ClustererConfig.of(k=2 + i)) for i in range(runs // 4)], 4, {})
    if workers == 1:
        t0 = time.perf_counter()
        _cycle(url, "w0")
    else:
        ctx = mp.get_context("spawn")
        ready, go = ctx.Queue(), ctx.Event()
        procs = [ctx.Process(target=_cycle, args=(url, f"w{i}", ready, go)) for i in range(workers)]
        for p in procs:
            p.start()
        for _ in procs:
            ready.get()
        t0 = time.perf_counter()
        go.set()
        for p in procs:
            p.join()
    seconds = time.perf_counter() - t0
    with open_store(url) as store:
        assert store.counts()["done"] == runs
    return runs / seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=400)
    args = ap.parse_args()
    table = Table(title=f"claim + record throughput ({args.runs} runs; runs/s, higher is better; timed from "
                        "when every worker is connected)")
    for col in ("backend", "1 worker", "4 workers"):
        table.add_column(col)
    tmp = tempfile.mkdtemp()
    backends = [("sqlite", lambda i: os.path.join(tmp, f"s{i}.db"))]
    server = None
    try:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the throwaway server lives with the tests
        from tests.pgserver import PostgresServer

        server = PostgresServer()
        admin = server.start()
        if admin:
            import psycopg

            def pg(i):
                with psycopg.connect(admin, autocommit=True) as conn:
                    conn.execute(f"CREATE DATABASE bench{i}")
                return admin.rsplit("/", 1)[0] + f"/bench{i}"

            backends.append(("postgresql", pg))
        if os.environ.get("FTHC_TEST_MONGODB_URI"):
            backends.append(("mongodb", lambda i: os.environ["FTHC_TEST_MONGODB_URI"]))
        backends.append(("mongomock", lambda i: f"mongomock://bench{i}"))
        for name, make in backends:
            one = measure(make(1), args.runs, 1)
            four = "n/a (in-process)" if name == "mongomock" else f"{measure(make(4), args.runs, 4):,.0f}"
            table.add_row(name, f"{one:,.0f}", four)
    finally:
        if server:
            server.stop()
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
