"""Shared fixtures: small synthetic data made by the tests, and the real Berka tables where present."""

from __future__ import annotations

from pathlib import Path

import pytest

from fthc.data.synth import write_synthetic_berka

REAL_BERKA = Path(__file__).resolve().parents[2] / "shared" / "data" / "berka"


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
