"""A worker's heartbeat: renews the lease on the run it trains, and tells it when the lease is gone.

Like optuna's heartbeat, it is an object that is started and joined (a context manager) around one run. Beats
go every third of the lease on their own thread; a failed beat (the database unreachable) is logged and tried
again at the next interval. The lease is lost when a beat finds the run no longer this worker's, or when no
beat has succeeded for a whole lease (by then the store may have given the run to another worker). The next
training step then raises `LeaseLost`, so the worker abandons the run within one lease.
"""

from __future__ import annotations

import logging
import threading
import time

from ..errors import FthcError
from ..progress import Reporter, current
from .store import Store

log = logging.getLogger("fthc.worker")


class LeaseLost(FthcError):
    """This worker no longer holds the run it is training: another worker may complete it."""


class Heartbeat(Reporter):
    def __init__(self, store: Store, run_id, worker: str, lease_seconds: float):
        self.store = store
        self.run_id = run_id
        self.worker = worker
        self.lease_seconds = lease_seconds
        self.lost = threading.Event()
        self.failed_beats = 0
        self.outer = current()  # the command's progress display, which steps are passed on to
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{run_id}", daemon=True)

    def __enter__(self) -> "Heartbeat":
        self._last_ok = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self.lease_seconds / 3):
            try:
                held = self.store.heartbeat(self.run_id, self.worker, self.lease_seconds)
            except Exception as exc:  # the store is unreachable: log, and try again at the next interval
                self.failed_beats += 1
                log.warning("heartbeat for run %s failed (%s: %s)", self.run_id, type(exc).__name__, exc)
                if time.monotonic() - self._last_ok > self.lease_seconds:
                    self._lose("no heartbeat reached the store for a whole lease")
                    return
                continue
            if not held:
                self._lose("the store gave the run to another worker")
                return
            self._last_ok = time.monotonic()

    def _lose(self, why: str) -> None:
        log.warning("lease on run %s lost: %s; abandoning it", self.run_id, why)
        self.lost.set()

    def step(self, stage: str, done: int, total: int, loss: float | None = None) -> None:
        if self.lost.is_set():
            raise LeaseLost(f"lease on run {self.run_id} lost during {stage} (step {done} of {total})")
        self.outer.step(stage, done, total, loss)

    def announce(self, text: str) -> None:
        self.outer.announce(text)
