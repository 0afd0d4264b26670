"""Leases you can trust: a worker that loses its store abandons its run within one lease and another worker
completes it exactly once; leases are judged by the store's clock, so a skewed worker clock steals nothing."""

import logging
import threading
import time

from fthc.experiments.runner import Worker
from fthc.experiments.store import StoreError, open_store
from fthc.progress import report

from .test_store_contract import entries

STEPS = 400  # 20 s of "training" if nothing stops it


def test_a_worker_that_loses_its_store_abandons_the_run_and_another_completes_it(store_url, tmp_path, caplog):
    with open_store(store_url) as store:
        store.init_grid(entries(1), runs=1, grid={})
    steps = []

    def training(run, data, store, test_fraction, cache=None):
        for i in range(STEPS):
            time.sleep(0.05)
            steps.append(i)
            report("pretext", i + 1, STEPS)
        return {"status": "done", "metrics": {}}

    def unreachable(*args, **kwargs):  # the worker's connection to the store is gone
        raise StoreError("renewing a lease failed: server closed the connection unexpectedly")

    cut_off = open_store(store_url)
    cut_off.heartbeat = unreachable
    lost = Worker(cut_off, tmp_path, executor=training, lease_seconds=1.0)
    done = {}
    with caplog.at_level(logging.WARNING, logger="fthc.worker"):
        thread = threading.Thread(target=lambda: done.setdefault("runs", lost.run()))
        thread.start()
        thread.join(timeout=30)
    assert not thread.is_alive() and done["runs"] == 0 and lost.abandoned == 1
    assert len(steps) < STEPS / 4, "the worker went on training after its lease ran out"
    assert "heartbeat for run" in caplog.text and "lease on run" in caplog.text

    with open_store(store_url) as store:
        finished = []
        assert Worker(store, tmp_path, executor=lambda *a, **k: {"status": "done", "metrics": {}},
                      on_done=lambda run, res: finished.append(run.id)).run() == 1
        runs = store.runs()
        assert len(runs) == 1 and runs[0].status == "done" and runs[0].attempts == 2 and len(finished) == 1
    cut_off.close()


def test_a_worker_whose_clock_runs_an_hour_ahead_takes_no_live_run(store_url, monkeypatch):
    with open_store(store_url) as store:
        store.init_grid(entries(1), runs=1, grid={})
        live = store.claim("honest", 60)
        real = time.time
        monkeypatch.setattr(time, "time", lambda: real() + 3600)
        assert store.claim("skewed", 60) is None
        assert store.counts()["running"] == 1
        assert store.heartbeat(live.id, "honest", 60)
