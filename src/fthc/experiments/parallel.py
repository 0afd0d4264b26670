"""Running workers: one in this process, or several processes sharing the store, with a progress bar.

Workers x threads never exceed the cores this process may use: on 2 cores a 2-thread worker beside another
slows both far more than 2x (oversubscribed OpenMP threads spin and wait on each other).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from ..progress import ProgressReporter, reporting
from ..errors import FthcError
from .grid import Grid
from .runner import Dataset, Worker, parse_filter
from .store import mask_url, open_store


def available_cores() -> int:
    """The run's thread budget (`fthc.threads`: --threads, FTHC_THREADS, or the CPUs this process may use)."""
    from ..threads import budget

    return budget()


def default_workers(cores: int | None = None) -> int:
    """The layout measured fastest for the grid (bench_workers.py, bench_grid.py --variants): one single-thread
    worker per core, since small batches keep two threads of one worker waiting on each other."""
    return max(1, cores or available_cores())


def threads_per_worker(workers: int, cores: int | None = None) -> int:
    return max(1, (cores or available_cores()) // workers)


def _exit_with_parent(parent: int, every: float = 2.0) -> None:
    """A worker whose `fthc run` was killed stops too (its run's lease then lapses and another worker takes it),
    instead of running on as an orphan."""
    def watch() -> None:
        while True:
            time.sleep(every)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _worker_main(store_url: str | None, data: str, max_runs: int | None, only: str | None, threads: int,
                 precision: str | None, parent: int) -> int:
    import torch

    _exit_with_parent(parent)
    torch.set_num_threads(threads)
    try:
        with open_store(store_url) as store:
            return Worker(store, Path(data), precision=precision).run(max_runs, only)
    except KeyboardInterrupt:  # Ctrl-C reaches every worker: each releases its run; the parent says so once
        return 130


def _progress(console: Console) -> Progress:
    return Progress(TextColumn("[bold]runs"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TextColumn("ETA"), TimeRemainingColumn(), console=console, transient=False)


def run_workers(store_url: str | None, data: Path, workers: int | None, max_runs: int | None, only: str | None,
                console: Console, precision: str | None = None) -> None:
    import torch

    cores = available_cores()
    workers = workers or default_workers(cores)
    threads = threads_per_worker(workers, cores)
    if workers > cores:
        console.print(f"note: {workers} workers on {cores} cores: each runs 1 thread and they share the cores")
    with open_store(store_url, create=False) as store:
        if only:
            keep = parse_filter(only)
            if not any(keep(cfg) for _, cfg, _ in store.configs()):
                raise FthcError(f"--only {only!r} matches no configuration of the grid in {mask_url(store.url)}")
        counts = store.counts()
        todo = counts["pending"] + counts["running"]
        if max_runs is not None:
            todo = min(todo, max_runs * workers)
        if todo == 0:
            console.print("nothing to run: every run is finished (see fthc status)")
            return
        grid = store.grid() or Grid()
        rep = grid.representation
        console.print(f"checking the data once before any run is claimed: {data}")
        # a bad path or file fails here, not in 675 runs
        dataset = Dataset(data, grid.series_spec(), grid.column_mapping, grid.lenient).load()
        with _progress(console) as progress:
            task = progress.add_task("runs", total=todo)
            if workers == 1:
                torch.set_num_threads(threads)
                worker = Worker(store, data, on_done=lambda run, res: progress.advance(task), precision=precision,
                                datasets={rep: dataset})
                try:
                    with reporting(ProgressReporter(console, progress=progress)):  # each run's batches
                        worker.run(max_runs, only)
                except KeyboardInterrupt:
                    console.print("interrupted: the run in flight was put back to pending")
                    raise SystemExit(130)
            else:
                start = sum(store.counts()[s] for s in ("done", "invalid", "failed"))
                ctx = mp.get_context("spawn")
                procs = [ctx.Process(target=_worker_main, args=(store_url, str(data), max_runs, only, threads,
                                                                 precision, os.getpid()), daemon=True)
                         for _ in range(workers)]
                for p in procs:
                    p.start()
                try:
                    while any(p.is_alive() for p in procs):
                        time.sleep(1.0)
                        c = store.counts()
                        progress.update(task, completed=min(todo, c["done"] + c["invalid"] + c["failed"] - start))
                except KeyboardInterrupt:
                    for p in procs:
                        p.join()  # each worker releases its run on Ctrl-C
                    console.print("interrupted: the runs in flight were put back to pending")
                    raise SystemExit(130)
                for p in procs:
                    p.join()
    with open_store(store_url) as store:
        c = store.counts()
        now = store.now()
        held = [r.lease_expires - now for r in store.runs() if r.status == "running" and r.lease_expires
                and r.lease_expires >= now]
    console.print("runs: " + ", ".join(f"{k} {v}" for k, v in c.items() if v))
    if held:  # e.g. right after a crash: their leases must lapse before anyone may take them
        console.print(f"{len(held)} run(s) are still held under a worker's lease (another worker's, or one that "
                      f"died); if nobody renews it, `fthc run` can take them in {max(held):.0f} s")
