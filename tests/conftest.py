"""Shared fixtures: small synthetic data made by the tests, and the real Berka tables where present."""

from __future__ import annotations

import os

# one cross-fit instead of three in every fit with outcomes (the suite's time; the averaging itself is tested with
# repeats=3 in tests/risk/test_validation.py); set before fthc is imported, and inherited by the commands run
os.environ.setdefault("FTHC_RISK_REPEATS", "1")
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fthc.data.synth import write_synthetic_berka

REAL_BERKA = Path(__file__).resolve().parents[2] / "shared" / "data" / "berka"
# whole modules of end-to-end runs: the README and docs pages, Chromium, PostgreSQL and worker processes, Spark,
# every network component, killed processes. `pytest -m "not slow"` leaves them out (the fast tier).
SLOW_MODULES = {"test_docs.py", "test_spark.py", "test_reliability.py", "test_every_component.py",
                "test_store_contract.py", "test_segment_page.py", "test_tracks_page.py", "test_grid_report.py"}


def pytest_collection_modifyitems(config, items):
    for item in items:  # and every case that starts Spark (a JVM: seconds before the first row)
        if item.path.name in SLOW_MODULES or "spark" in item.name.lower():
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def real_berka() -> Path:
    if not (REAL_BERKA / "account.asc").exists():
        pytest.skip(f"real Berka tables not present at {REAL_BERKA} (only in the development checkout)")
    return REAL_BERKA


@pytest.fixture(scope="session")
def synth_berka(tmp_path_factory) -> Path:
    """A small synthetic Berka folder (80 accounts), generated once per test session."""
    folder = tmp_path_factory.mktemp("synth_berka")
    write_synthetic_berka(folder, n_accounts=80, seed=7)
    return folder


@pytest.fixture(scope="session")
def parquet_lake(tmp_path_factory) -> Path:
    """A hive-partitioned transaction dataset (tx/month=YYYY-MM/{a,b}.parquet): 40 customers, each one's rows
    spread over several files, one customer with a single transaction; its twin as one file, whole.parquet.
    Columns cust, when, value, bal (balance) and cat (category)."""
    rng = np.random.default_rng(0)
    rows = []
    for c in range(40):
        for _ in range(1 if c == 7 else int(rng.integers(5, 60))):
            rows.append({"cust": c * 11, "when": pd.Timestamp("2022-01-01") + pd.Timedelta(days=int(rng.integers(0, 365))),
                         "value": round(float(rng.normal(0, 200)), 2), "bal": round(float(rng.normal(1000, 500)), 2),
                         "cat": str(rng.choice(["salary", "atm", "shop"]))})
    df = pd.DataFrame(rows)
    root = tmp_path_factory.mktemp("lake")
    for month, part in df.groupby(df["when"].dt.strftime("%Y-%m")):
        folder = root / "tx" / f"month={month}"
        folder.mkdir(parents=True)
        half = len(part) // 2
        part.iloc[:half].to_parquet(folder / "a.parquet", index=False)
        part.iloc[half:].to_parquet(folder / "b.parquet", index=False)
    df.to_parquet(root / "whole.parquet", index=False)
    return root


@pytest.fixture
def lake_missing_a_column(parquet_lake, tmp_path) -> Path:
    """Two files of the lake's rows, the second without its 'value' column."""
    folder = tmp_path / "missing"
    folder.mkdir()
    whole = pd.read_parquet(parquet_lake / "whole.parquet")
    whole.head(50).to_parquet(folder / "a.parquet", index=False)
    whole.tail(50).drop(columns=["value"]).to_parquet(folder / "b.parquet", index=False)
    return folder
