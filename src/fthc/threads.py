"""One thread budget for a run: `--threads N`, `FTHC_THREADS`, or the CPUs this process may use.

Why one budget, spent one way: on a shared 2-core server, libraries that each start a pool of threads as large as
the machine (OpenMP in scikit-learn, BLAS, PyTorch) make their threads wait on each other at every barrier of
fine-grained loops, and a busy core turns that into minutes (the quickstart's segment step: 11 s with one thread,
5 min with the default threads under load). So the budget goes where the work is independent: the
prediction-strength splits, the confidence refits and the outcome model's folds run side by side in worker
processes of one thread each (`parallel_map`), DuckDB and Spark get `budget` threads, and the libraries'
fine-grained pools are limited to one thread (threadpoolctl; PyTorch's intra-op pool to the budget, since a
network's large batches do gain from it). Results do not depend on the budget: every task is seeded by itself.

OpenMP threads that spin while waiting for work are told to sleep instead (OMP_WAIT_POLICY=PASSIVE, set by
`fthc/__init__.py` before any library loads OpenMP), so no pool keeps a core busy between phases.
"""

from __future__ import annotations

import contextvars
import importlib
import os
import sys
import threading
from contextlib import contextmanager
from typing import Callable, Iterable, Sequence

from .errors import DataError

ENV = "FTHC_THREADS"
PARALLEL_ROWS = 2_000  # below this many customers per task a worker's start and transfer cost more than it saves
_budget: contextvars.ContextVar[int | None] = contextvars.ContextVar("fthc_threads", default=None)


def available_cores() -> int:
    """The CPUs this process may run on (its affinity: a container's or `taskset`'s share), not the machine's."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity call
        return os.cpu_count() or 1


def resolve(threads: int | str | None = None) -> int:
    """The budget asked for: `threads`, else FTHC_THREADS, else the CPUs available. One clear error otherwise."""
    where = "--threads"
    if threads is None:
        threads, where = os.environ.get(ENV) or None, ENV
    if threads is None:
        return available_cores()
    try:
        n = int(threads)
    except (TypeError, ValueError):
        n = 0
    if n < 1 or str(threads).strip() not in (str(n), f"+{n}"):
        raise DataError(f"{where}={threads!r} is not a number of threads", expected="a whole number, 1 or more")
    return n


def budget() -> int:
    """The budget in force: the innermost `thread_budget`, else `resolve()`."""
    n = _budget.get()
    return n if n is not None else resolve()


LIBRARY_THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@contextmanager
def thread_budget(threads: int | str | None = None):
    """Applies the budget for the duration: `budget()` for the engines, `parallel_map` and PyTorch's intra-op
    threads (`torch_budget`, where a network trains); OpenMP and BLAS pools held to one thread (threadpoolctl
    for the libraries already loaded, their environment variables for those that load later).

    Parameters
    ----------
    threads : int, str or None
        Threads for fthc's work: a number, or None for FTHC_THREADS else the cores this process may use.

    Examples
    --------
    >>> import fthc
    >>> with fthc.thread_budget(1):
    ...     pass  # everything fthc runs here runs on one thread
    """
    from threadpoolctl import threadpool_limits

    n = resolve(threads)
    token = _budget.set(n)
    saved = {name: os.environ.get(name) for name in LIBRARY_THREADS}
    os.environ.update({name: "1" for name in LIBRARY_THREADS})
    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    try:
        with threadpool_limits(limits=1):
            torch_budget()
            yield n
    finally:
        _budget.reset(token)
        if before is not None:  # a library caller's PyTorch keeps the threads it had
            torch.set_num_threads(before)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def torch_budget() -> None:
    """PyTorch's intra-op threads to the budget in force, where one is (called where a network starts
    training; a process without a budget, such as a grid worker, keeps the threads it set)."""
    n = _budget.get()
    torch = sys.modules.get("torch")
    if n is not None and torch is not None and torch.get_num_threads() != n:
        torch.set_num_threads(n)


IDLE_SECONDS = 300  # a worker waits this long for the next task (sleeping) before it exits
ONE_THREAD = {name: "1" for name in LIBRARY_THREADS} | {ENV: "1", "OMP_WAIT_POLICY": "PASSIVE"}


def _workers(n: int):
    """The n reusable worker processes (joblib's loky: spawned, so no fork after OpenMP has started)."""
    from joblib.externals.loky import get_reusable_executor

    return get_reusable_executor(max_workers=n, timeout=IDLE_SECONDS, env=ONE_THREAD)


def parallel_map(fn: Callable, items: Sequence | Iterable, *, rows: int | None = None,
                 threads: int | None = None) -> list:
    """`[fn(x) for x in items]`, in order, on `budget()` threads of work: this process takes tasks itself while
    budget - 1 worker processes of one thread each take the others (the caller runs, so a budget of 2 starts
    one process, not two). Serial where the budget is 1, there is one item, or each task reads fewer than
    PARALLEL_ROWS `rows`, so a small fit pays no process start. `fn` and the items must be picklable
    (cloudpickle: closures too). The first error raised by any task is raised here, the rest left undone."""
    items = list(items)
    n = min(threads or budget(), len(items))
    if n <= 1 or (rows is not None and rows < PARALLEL_ROWS):
        return [fn(x) for x in items]
    executor = _workers(n - 1)
    results: list = [None] * len(items)
    errors: list[BaseException] = []
    queue = iter(enumerate(items))
    lock = threading.Lock()

    def take():
        with lock:
            return None if errors else next(queue, None)

    def feed() -> None:  # hands tasks to one worker process, one at a time, while there are any
        while (job := take()) is not None:
            try:
                results[job[0]] = executor.submit(fn, job[1]).result()
            except BaseException as exc:  # noqa: BLE001 -- re-raised in the caller below
                with lock:
                    errors.append(exc)

    feeders = [threading.Thread(target=feed, name=f"fthc-feed-{i}", daemon=True) for i in range(n - 1)]
    for t in feeders:
        t.start()
    try:
        with thread_budget(1):  # this process's share on one thread, as the workers' (the same results)
            while (job := take()) is not None:
                results[job[0]] = fn(job[1])
    except BaseException as exc:
        with lock:
            errors.insert(0, exc)
    for t in feeders:
        t.join()
    if errors:
        raise errors[0]
    return results


WARM_MODULES = ("sklearn.cluster", "lightgbm", "fthc.segments.choice", "fthc.segments.stability", "fthc.risk.model",
                "fthc.reports.charts")


def _import(modules: tuple[str, ...]) -> None:
    for name in modules:
        importlib.import_module(name)


def warm_workers(modules: tuple[str, ...] = WARM_MODULES) -> None:
    """Starts `parallel_map`'s workers and their imports in the background (about 2 s of one core each), so that
    they are ready when the first independent fits come, while this process reads the data. Nothing where the
    budget is 1."""
    n = budget()
    if n > 1:
        for _ in range(n - 1):
            _workers(n - 1).submit(_import, modules)
