"""One contract suite, every backend: the same semantics on SQLite, PostgreSQL and MongoDB (mongomock for the
single-process cases, which proves only that the code speaks the pymongo API)."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time
from pathlib import Path

import pytest

from fthc.config import ClustererConfig
from fthc.experiments.grid import Grid, GridEntry, expand
from fthc.experiments.runner import Worker
from fthc.experiments.store import StoreError, open_store


def entries(n: int, skipped: int = 0) -> list[GridEntry]:
    out = [GridEntry(ClustererConfig.of(k=2 + i, clustering="kmeans")) for i in range(n)]
    out += [GridEntry(ClustererConfig.of(k=2 + n + i, autoencoder="lstm", pretext="multi_rec"), skipped="incompatible")
            for i in range(skipped)]
    return out


def test_init_twice_adds_nothing(any_store_url):
    with open_store(any_store_url) as store:
        assert store.init_grid(entries(3, skipped=1), runs=2, grid={"runs": 2}) == (4, 0)
    with open_store(any_store_url) as store:  # reopened: nothing is lost, nothing doubled
        assert store.init_grid(entries(3, skipped=1), runs=2, grid={"runs": 2}) == (0, 4)
        assert len(store.configs()) == 4 and len(store.runs()) == 8
        c = store.counts()
        assert c["pending"] == 6 and c["skipped"] == 2
        assert store.grid_settings() == {"runs": 2}
        assert store.grid() == Grid(runs=2)  # read back as the Grid it stands for
        skipped = [r for r in store.runs() if r.status == "skipped"]
        assert all(r.error == "incompatible" for r in skipped)


def test_reset_puts_chosen_finished_runs_back_and_leaves_running_ones(any_store_url):
    with open_store(any_store_url) as store:
        store.init_grid(entries(3), runs=1, grid={})
        runs = [store.claim(f"w{i}", 60) for i in range(3)]
        store.finish(runs[0].id, "w0", "failed", error="boom")
        store.finish(runs[1].id, "w1", "invalid", metrics={"train": {"sc": 0.1}})
        only = [runs[1].config_id]
        assert store.reset({"failed", "invalid"}, only) == 1  # only the chosen configuration
        assert store.reset({"failed"}) == 1 and store.reset({"failed"}) == 0
        by_id = {r.id: r for r in store.runs()}
        assert by_id[runs[0].id].status == "pending" and by_id[runs[0].id].error is None
        assert by_id[runs[1].id].status == "pending" and not by_id[runs[1].id].metrics
        assert by_id[runs[2].id].status == "running"  # its worker holds it: never reset


def test_claim_heartbeat_finish_release(any_store_url):
    with open_store(any_store_url) as store:
        store.init_grid(entries(2), runs=1, grid={})
        a = store.claim("w1", 60)
        b = store.claim("w2", 60)
        assert a.id != b.id and a.status == "running" and a.attempts == 1
        assert store.claim("w3", 60) is None
        assert store.heartbeat(a.id, "w1", 60) and not store.heartbeat(a.id, "w2", 60)
        assert store.finish(a.id, "w1", "done", metrics={"train": {"sc": 0.5}}, train_seconds=1.0)
        assert not store.finish(a.id, "w1", "done")  # only a running run can be finished, once
        assert store.release(b.id, "w2")
        again = store.claim("w3", 60)
        assert again.id == b.id and again.attempts == 2
        done = {r.id: r for r in store.runs()}[a.id]
        assert done.status == "done" and done.metrics == {"train": {"sc": 0.5}} and done.train_seconds == 1.0


def test_claim_tries_preferred_runs_first(any_store_url):
    with open_store(any_store_url) as store:
        store.init_grid(entries(4), runs=1, grid={})
        ids = [r.id for r in sorted(store.runs(), key=lambda r: r.config_id)]
        first = store.claim("w1", 60, prefer=[[ids[2]], [ids[3], ids[1]]])
        assert first.id == ids[2]  # the first tier
        second = store.claim("w1", 60, prefer=[[ids[2]], [ids[3], ids[1]]])
        assert second.id == ids[1]  # the first tier is taken: the second, in claim order
        assert store.claim("w1", 60, prefer=[[], [ids[1]]]).id == ids[0]  # nothing preferred left: the usual order
        assert store.claim("w1", 60, prefer=[[ids[0]]]).id == ids[3]


def test_workers_take_different_pretext_stages(any_store_url):
    """Claims in run order alone give two workers consecutive runs of one stage, and both train its encoder."""
    from fthc.experiments.runner import preferred_runs, stage_of

    two_stages = [GridEntry(ClustererConfig.of(autoencoder=ae, clustering="kmeans", k=k))
                  for ae in ("fcnn", "resnet") for k in (2, 3, 4)]
    with open_store(any_store_url) as store:
        store.init_grid(two_stages, runs=1, grid={})

        def claim(worker, held):
            return store.claim(worker, 60, prefer=preferred_runs(store.runs(), worker, held, store.now()))

        a = claim("A", None)
        b = claim("B", None)
        assert stage_of(a) != stage_of(b)  # B keeps off the stage A is training
        a2, b2 = claim("A", stage_of(a)), claim("B", stage_of(b))
        assert (stage_of(a2), stage_of(b2)) == (stage_of(a), stage_of(b))  # each keeps to the encoder it holds


def test_expired_lease_is_reclaimed(any_store_url):
    with open_store(any_store_url) as store:
        store.init_grid(entries(1), runs=1, grid={})
        first = store.claim("dead", 0.2)
        assert store.claim("w2", 60) is None
        time.sleep(0.3)
        assert store.counts()["pending"] == 1
        second = store.claim("w2", 60)
        assert second.id == first.id and second.attempts == 2
        assert not store.finish(first.id, "dead", "done")  # the dead worker's late result is refused
        assert store.finish(second.id, "w2", "done")


def quick_executor(run, data, store, test_fraction, cache=None):
    time.sleep(0.01)
    log = Path(os.environ["FTHC_TEST_LOG"])
    with log.open("a") as fh:
        fh.write(f"{run.id}\n")
    return {"status": "done", "metrics": {"k": run.config["k"]}, "train_seconds": 0.01, "total_seconds": 0.01}


def failing_executor(run, data, store, test_fraction, cache=None):
    if run.config["k"] == 3:
        raise RuntimeError("this configuration always fails")
    return {"status": "done", "metrics": {}, "train_seconds": 0.0, "total_seconds": 0.0}


def test_failing_configuration_is_recorded_and_the_worker_goes_on(any_store_url, tmp_path):
    with open_store(any_store_url) as store:
        store.init_grid(entries(3), runs=2, grid={})
        assert Worker(store, tmp_path, executor=failing_executor).run() == 6
        runs = store.runs()
        failed = [r for r in runs if r.status == "failed"]
        assert len(failed) == 2 and all("this configuration always fails" in r.error for r in failed)
        assert sum(r.status == "done" for r in runs) == 4


def _work(url, log, lease):
    os.environ["FTHC_TEST_LOG"] = log
    with open_store(url) as store:
        Worker(store, Path("."), executor=quick_executor, lease_seconds=lease).run()


def test_four_workers_run_every_run_exactly_once(store_url, tmp_path):
    log = tmp_path / "log"
    with open_store(store_url) as store:
        store.init_grid(entries(13), runs=4, grid={})  # 52 runs
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_work, args=(store_url, str(log), 60)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    executed = log.read_text().split()
    assert len(executed) == 52 and len(set(executed)) == 52
    with open_store(store_url) as store:
        runs = store.runs()
        assert all(r.status == "done" and r.attempts == 1 for r in runs)
        assert len({r.worker for r in runs}) >= 2


def slow_executor(run, data, store, test_fraction, cache=None):
    Path(os.environ["FTHC_TEST_LOG"]).write_text("claimed")
    time.sleep(60)
    return {"status": "done"}


def _slow(url, log):
    os.environ["FTHC_TEST_LOG"] = log
    with open_store(url) as store:
        Worker(store, Path("."), executor=slow_executor, lease_seconds=1.0).run()


def test_killed_worker_loses_only_its_run_which_is_reclaimed(store_url, tmp_path):
    with open_store(store_url) as store:
        store.init_grid(entries(2), runs=1, grid={})
    flag = tmp_path / "flag"
    proc = mp.get_context("spawn").Process(target=_slow, args=(store_url, str(flag)))
    proc.start()
    deadline = time.time() + 60
    while not flag.exists() and time.time() < deadline:
        time.sleep(0.1)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join()
    time.sleep(1.2)  # the lease runs out: no heartbeat renews it
    log = tmp_path / "log"
    os.environ["FTHC_TEST_LOG"] = str(log)
    with open_store(store_url) as store:
        assert Worker(store, Path("."), executor=quick_executor).run() == 2
        runs = store.runs()
        assert all(r.status == "done" for r in runs)
        assert sorted(r.attempts for r in runs) == [1, 2]


def test_foreign_or_unreachable_stores(tmp_path):
    bad = tmp_path / "not.db"
    bad.write_text("this is not a database")
    with pytest.raises(StoreError, match="not.db"):
        open_store(str(bad))
    import sqlite3

    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE fthc_runs (x INTEGER)")
    with pytest.raises(StoreError, match="another program"):
        open_store(str(other))
    with pytest.raises(StoreError) as err:
        open_store("postgresql://user:s3cret@127.0.0.1:9/nothing")
    assert "s3cret" not in str(err.value) and "***" in str(err.value)
    with pytest.raises(StoreError, match="unsupported store URL"):
        open_store("redis://localhost")


def test_grid_expansion_and_toml(tmp_path):
    grid = Grid()
    e = expand(grid)
    assert len(e) == 180 and sum(x.skipped is not None for x in e) == 45
    assert len({x.config.key() for x in e}) == len(e)
    toml = tmp_path / "g.toml"
    toml.write_text('[grid]\nautoencoder = ["fcnn"]\npretext = ["mse"]\ndistance = ["eucl", "cid", "cor"]\n'
                    'k = [3]\nruns = 2\npretrain_batches = 10\n')
    g = Grid.from_toml(toml)
    e = expand(g)
    assert {x.config.head.distance for x in e if x.config.head.clustering == "dtc"} == {"eucl", "cid", "cor"}
    assert len(e) == 3 + 3 and all(x.config.encoder.pretrain_batches == 10 for x in e)
    toml.write_text("[grid]\nlayers = 3\n")
    from fthc.errors import DataError

    with pytest.raises(DataError, match=r"unknown keys in \[grid\]"):
        Grid.from_toml(toml)


def test_two_worker_processes_share_one_store(store_url, synth_berka, tmp_path):
    """`fthc run --workers 2`: two processes, each with its own copy of the data, against one store. Each may
    take at most half the runs, so the grid completes only if both worked; every run is recorded once."""
    from click.testing import CliRunner

    from fthc.cli import main

    (tmp_path / "grid.toml").write_text(
        '[grid]\nautoencoder = ["fcnn"]\npretext = ["mse", "vae"]\nclustering = ["kmeans"]\nk = [2, 3]\n'
        'reduction = ["none"]\nruns = 2\npretrain_batches = 10\nrepresentation = "calendar"\n'
        'arch = { fcnn = { hidden = [8, 8, 16] } }\n')
    r = CliRunner().invoke(main, ["init-db", "--store", store_url, "--grid", str(tmp_path / "grid.toml")])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["run", "--store", store_url, "--data", str(synth_berka), "--workers", "2",
                                  "--max-runs", "4"])
    assert r.exit_code == 0, r.output
    with open_store(store_url) as store:
        runs = store.runs()
        assert len(runs) == 8 and all(x.status in ("done", "invalid") for x in runs), [x.status for x in runs]
        assert len({x.worker for x in runs}) == 2 and all(x.attempts == 1 for x in runs)
