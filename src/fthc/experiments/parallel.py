"""Running workers: one in this process, or several processes sharing the store, with a progress bar."""

from __future__ import annotations

import multiprocessing as mp
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from .runner import Worker
from .store import open_store


def _worker_main(store_url: str | None, data: str, max_runs: int | None, only: str | None) -> int:
    import torch

    torch.set_num_threads(1)  # several workers share the machine's cores
    with open_store(store_url) as store:
        return Worker(store, Path(data)).run(max_runs, only)


def _progress(console: Console) -> Progress:
    return Progress(TextColumn("[bold]runs"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TextColumn("ETA"), TimeRemainingColumn(), console=console, transient=False)


def run_workers(store_url: str | None, data: Path, workers: int, max_runs: int | None, only: str | None,
                console: Console) -> None:
    with open_store(store_url) as store:
        counts = store.counts()
        todo = counts["pending"] + counts["running"]
        if max_runs is not None:
            todo = min(todo, max_runs * workers)
        if todo == 0:
            console.print("nothing to run: every run is finished (see fthc status)")
            return
        with _progress(console) as progress:
            task = progress.add_task("runs", total=todo)
            if workers == 1:
                worker = Worker(store, data, on_done=lambda run, res: progress.advance(task))
                try:
                    worker.run(max_runs, only)
                except KeyboardInterrupt:
                    console.print("interrupted: the run in flight was put back to pending")
                    raise SystemExit(130)
            else:
                start = sum(store.counts()[s] for s in ("done", "invalid", "failed"))
                ctx = mp.get_context("spawn")
                procs = [ctx.Process(target=_worker_main, args=(store_url, str(data), max_runs, only))
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
                    raise SystemExit(130)
                for p in procs:
                    p.join()
    with open_store(store_url) as store:
        c = store.counts()
    console.print("runs: " + ", ".join(f"{k} {v}" for k, v in c.items() if v))
