"""init-db / run / status / export end to end on SQLite, with a tiny grid and tiny data."""


import pandas as pd
from click.testing import CliRunner

from fthc.cli import main
from fthc.experiments.store import open_store

GRID = """[grid]
autoencoder = ["fcnn", "lstm"]
pretext = ["mse", "multi_rec"]
clustering = ["kmeans", "dtc"]
distance = ["eucl"]
k = [2]
reduction = ["none", "pca"]
runs = 2
pretrain_batches = 4
dtc_batches = 2
representation = "calendar"
arch = { fcnn = { hidden = [8, 8, 16] }, lstm = { hidden = 4 } }
"""


def test_init_run_status_export(tmp_path, synth_berka):
    runner = CliRunner()
    db = str(tmp_path / "grid.db")
    (tmp_path / "grid.toml").write_text(GRID)
    r = runner.invoke(main, ["init-db", "--store", db, "--grid", str(tmp_path / "grid.toml")])
    assert r.exit_code == 0, r.output
    assert "12 configurations added" in r.output and "3 skipped" in r.output
    r = runner.invoke(main, ["run", "--store", db, "--data", str(synth_berka), "--max-runs", "3", "--workers", "1"])
    assert r.exit_code == 0, r.output
    with open_store(db) as store:
        c = store.counts()
        assert c["done"] + c["invalid"] + c["failed"] == 3 and c["failed"] == 0
        runs = [x for x in store.runs() if x.status in ("done", "invalid")]
        # the three fcnn+mse k-means/DTC options share one pretext stage: trained once, then reused
        assert [x.pretext_reused for x in sorted(runs, key=lambda x: x.finished_at)] == [False, True, True]
        assert len({x.pretext_key for x in runs}) == 1
        assert all("ari" in x.metrics["test"] and "input_silhouette" in x.metrics["train"] for x in runs)
        assert all(x.metrics["runtime"]["precision"] in ("fp32", "bf16") for x in runs)  # how each run ran
    r = runner.invoke(main, ["run", "--store", db, "--data", str(synth_berka), "--only", "autoencoder=lstm",
                                 "--workers", "1"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(main, ["status", "--store", db])
    assert r.exit_code == 0 and "pending" in r.output, r.output
    out = tmp_path / "results.csv"
    r = runner.invoke(main, ["export", "--store", db, "--out", str(out)])
    assert r.exit_code == 0, r.output
    df = pd.read_csv(out)
    assert len(df) == 12 and {"sc_train_0", "dbi_test_1", "status_1"} <= set(df.columns)
    lstm = df[df["autoencoder"] == "lstm"]
    assert set(lstm["status_0"]) <= {"done", "invalid", "skipped"}


def test_same_split_for_every_configuration():
    import numpy as np

    from fthc.experiments.runner import split

    ids = np.arange(100)
    a, b = split(ids, 3, 0.5), split(ids, 3, 0.5)
    assert np.array_equal(a[0], b[0]) and len(a[1]) == 50 and not set(a[0]) & set(a[1])
    assert not np.array_equal(split(ids, 4, 0.5)[0], a[0])


def test_bad_store_url_is_one_clear_line(tmp_path):
    r = CliRunner().invoke(main, ["status", "--store", "postgresql://me:pw@127.0.0.1:9/x"])
    assert r.exit_code == 2 and "***" in r.output and "pw@" not in r.output


def test_workers_times_threads_never_exceed_the_cores():
    from fthc.experiments.parallel import default_workers, threads_per_worker

    assert default_workers(2) == 2 and threads_per_worker(2, 2) == 1  # measured fastest (bench_workers.py)
    assert threads_per_worker(1, 2) == 2 and threads_per_worker(2, 8) == 4
    assert threads_per_worker(3, 2) == 1  # more workers than cores: one thread each, and a note says so
    for workers in range(1, 9):
        assert workers * threads_per_worker(workers, 8) <= 8


def test_a_runs_scaling_is_fitted_on_its_train_customers_only(tmp_path):
    """Split first, then scale: the test customers' series use the train customers' scaling and length, and
    nothing about the test customers (here: amounts a hundred times larger) moves it."""
    import numpy as np
    import pandas as pd

    from fthc.data import SeriesSpec, build_series
    from fthc.experiments.runner import Dataset

    rng = np.random.default_rng(0)
    rows = [{"customer_id": c, "timestamp": f"2022-{m:02d}-{d:02d}", "amount": float(rng.normal(0, 10 + 990 * (c % 2)))}
            for c in range(40) for m in range(1, 7) for d in (3, 19)]
    pd.DataFrame(rows).to_csv(tmp_path / "t.csv", index=False)
    data = Dataset(tmp_path / "t.csv", SeriesSpec("calendar")).load()
    train, test, train_idx, test_idx = data.split_series(0, 0.5)
    alone = build_series(data.transactions, SeriesSpec("calendar"), customers=data.series.ids[train_idx])
    assert train.scaling == alone.scaling and test.scaling == train.scaling
    assert data.series.scaling != train.scaling  # scaling on every customer would differ
    assert test.X.shape[2] == train.X.shape[2]
    assert data.split_series(0, 0.5)[0] is train  # built once per run index, shared by every configuration
