"""Nothing lost, nothing leaked, nothing half-written (issue 24): ids come back exactly, outputs are checked before
any work and written whole, secrets are masked in every form, ambiguous or odd input is named, never guessed."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from fthc.cli import main
from fthc.data.synth import write_synthetic_berka, write_synthetic_table
from fthc.experiments.store.base import mask_url, scrub
from fthc.reports.output_folder import MARKER, recover

FTHC = [sys.executable, "-m", "fthc"]


def cli(*argv):
    return CliRunner().invoke(main, [str(a) for a in argv])


def one_line_error(result, *words):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.output
    for word in words:
        assert word in result.output, result.output
    return lines[0]


@pytest.fixture(scope="module")
def table(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("table")
    write_synthetic_table(folder, n_accounts=200, seed=3)
    return folder / "transactions.csv"


@pytest.fixture(scope="module")
def fitted(table, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fitted") / "segs"
    result = cli("segment", "--data", table, "--k", 3, "--out", out)
    assert result.exit_code == 0, result.output
    return out


# --- ids -------------------------------------------------------------------------------------------------------

ODD_IDS = ["001", "1", "12345678901234567890", "-0", "0x1F", "1e3", " 7 "] + [f"98765432109876543210{i:05d}" for i in range(6)]


def test_ids_of_every_form_round_trip_through_segment_and_assign(table, tmp_path):
    tx = pd.read_csv(table, dtype={"customer_id": str})
    old = sorted(tx["customer_id"].unique())
    rename = dict(zip(old, ODD_IDS + old[len(ODD_IDS):]))
    tx["customer_id"] = tx["customer_id"].map(rename)
    src = tmp_path / "odd.csv"
    tx.to_csv(src, index=False)
    result = cli("segment", "--data", src, "--k", 3, "--out", tmp_path / "s")
    assert result.exit_code == 0, result.output
    written = pd.read_csv(tmp_path / "s" / "assignments.csv", dtype={"customer_id": str}, keep_default_na=False)
    expected = {i.strip() for i in rename.values()}  # surrounding spaces are not part of an id
    assert set(written["customer_id"]) == expected and len(written) == len(expected)
    for suffix in (".csv", ".parquet"):
        out = tmp_path / f"a{suffix}"
        assert cli("assign", "--model", tmp_path / "s" / "model", "--data", src, "--out", out).exit_code == 0
        back = (pd.read_parquet(out) if suffix == ".parquet"
                else pd.read_csv(out, dtype={"customer_id": str}, keep_default_na=False))
        assert back["customer_id"].map(type).eq(str).all()
        assert set(back["customer_id"]) == expected


def test_integer_parquet_ids_stay_integers(table, tmp_path):
    tx = pd.read_csv(table)
    tx["customer_id"] = tx["customer_id"].astype("int64") * 10**12  # large, but int64
    tx.to_parquet(tmp_path / "t.parquet", index=False)
    assert cli("segment", "--data", tmp_path / "t.parquet", "--k", 2, "--out", tmp_path / "s").exit_code == 0
    assert cli("assign", "--model", tmp_path / "s" / "model", "--data", tmp_path / "t.parquet",
               "--out", tmp_path / "a.parquet").exit_code == 0
    back = pd.read_parquet(tmp_path / "a.parquet")
    assert back["customer_id"].dtype == np.int64
    assert set(back["customer_id"]) == set(tx["customer_id"])


# --- output paths ----------------------------------------------------------------------------------------------

def _out_cases(tmp_path, table, fitted):
    (tmp_path / "a_file.txt").write_text("x")
    (tmp_path / "a_folder.csv").mkdir()
    model = fitted / "model"
    return {
        "segment --out is a file": (["segment", "--data", table, "--k", 2, "--out", tmp_path / "a_file.txt"],
                                    "is a file, not a folder"),
        "assign --out is a folder": (["assign", "--model", model, "--data", table, "--out", tmp_path / "a_folder.csv"],
                                     "is a folder, not a file"),
        "missing parent": (["segment", "--data", table, "--k", 2, "--out", tmp_path / "no" / "such" / "out"],
                           "does not exist"),
        "assign: missing parent": (["assign", "--model", model, "--data", table, "--out", tmp_path / "no" / "a.csv"],
                                   "does not exist"),
        "name too long": (["segment", "--data", table, "--k", 2, "--out", tmp_path / ("x" * 250)],
                          "longer than this file system allows"),
        "assign --out is the input": (["assign", "--model", model, "--data", table, "--out", table],
                                      "never overwrite their input"),
        "assign --out of another kind": (["assign", "--model", model, "--data", table, "--out", tmp_path / "a.xlsx"],
                                         "expected a .csv or .parquet file"),
        "segment --out holds the input": (["segment", "--data", table, "--k", 2, "--out", table.parent],
                                          "holds the input"),
    }


@pytest.mark.parametrize("case", ["segment --out is a file", "assign --out is a folder", "missing parent",
                                  "assign: missing parent", "name too long", "assign --out is the input",
                                  "assign --out of another kind", "segment --out holds the input"])
def test_output_paths_are_checked_before_any_work(case, tmp_path, table, fitted):
    argv, words = _out_cases(tmp_path, table, fitted)[case]
    before = sorted(p.name for p in tmp_path.iterdir())
    one_line_error(cli(*argv), words)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written, nothing half-made


def test_a_read_only_folder_is_one_line(tmp_path, table, fitted, monkeypatch):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    if os.geteuid() == 0:  # root writes anywhere: the folder is read-only to the check as to any other user
        import fthc.reports.output_folder as output_folder

        real = os.access
        monkeypatch.setattr(output_folder.os, "access",
                            lambda p, mode: False if Path(p) == folder else real(p, mode))
    try:
        one_line_error(cli("segment", "--data", table, "--k", 2, "--out", folder / "out"), "not writable")
        one_line_error(cli("assign", "--model", fitted / "model", "--data", table, "--out", folder / "a.csv"), "not writable")
    finally:
        folder.chmod(0o700)


def test_an_os_error_while_writing_is_one_line(tmp_path, table, monkeypatch):
    """A disk that fills up (or any OSError on the user's path) mid-write: one line, and no results folder."""
    import fthc.reports.segment_outputs as outputs

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device", str(tmp_path / "out" / "profile.csv"))

    monkeypatch.setattr(outputs, "write_table", full)
    one_line_error(cli("segment", "--data", table, "--k", 2, "--out", tmp_path / "out"), "No space left")
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out.*"))


def test_a_folder_fthc_did_not_write_is_refused_unless_force(tmp_path, table):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.docx").write_text("the user's own")
    one_line_error(cli("segment", "--data", table, "--k", 2, "--out", out), "did not write", "--force")
    assert (out / "notes.docx").read_text() == "the user's own"
    assert cli("segment", "--data", table, "--k", 2, "--out", out, "--force").exit_code == 0
    assert not (out / "notes.docx").exists() and (out / MARKER).exists()


def test_a_second_run_leaves_none_of_the_first_runs_files(tmp_path, table):
    out = tmp_path / "segs"
    assert cli("segment", "--data", table, "--k", "auto", "--outcomes", table.parent / "outcomes.csv",
               "--out", out).exit_code == 0
    assert (out / "k_choice.csv").exists() and (out / "risk.csv").exists()
    assert cli("segment", "--data", table, "--k", 2, "--out", out).exit_code == 0
    assert not (out / "k_choice.csv").exists() and not (out / "risk.csv").exists()
    listed = set(json.loads((out / MARKER).read_text())["files"])
    assert listed == {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and p.name != MARKER}


def _complete(out: Path) -> bool:
    """A results folder is whole: its marker lists exactly its files, and the model and the profile agree."""
    record = json.loads((out / MARKER).read_text())
    files = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and p.name != MARKER}
    k = json.loads((out / "model" / "manifest.json").read_text())["config"]["k"]
    segments = pd.read_csv(out / "profile.csv", dtype={"segment": str})["segment"]
    return set(record["files"]) == files and (segments != "all").sum() == k


def test_sigkill_at_any_point_leaves_the_previous_results_or_none(tmp_path, table):
    out = tmp_path / "segs"
    assert cli("segment", "--data", table, "--k", 3, "--out", out).exit_code == 0
    first = json.loads((out / MARKER).read_text())["run"]
    runs = {first}
    for delay in (0.5, 2.0, 3.5, 5.0, 7.0):
        proc = subprocess.Popen([*FTHC, "segment", "--data", str(table), "--k", "4", "--out", str(out)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert out.exists(), f"killed after {delay} s: the results are gone"
        assert _complete(out), f"killed after {delay} s: a mixed folder"
        runs.add(json.loads((out / MARKER).read_text())["run"])
        assert cli("segment", "--data", table, "--k", 3, "--out", out).exit_code == 0  # and it recovers
        assert _complete(out)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".segs.")]
    assert leftovers == [], leftovers


def test_a_kill_between_the_two_renames_is_put_back(tmp_path):
    out = tmp_path / "segs"
    old = tmp_path / ".segs.old-abc"
    old.mkdir()
    (old / MARKER).write_text("{}")
    dead = tmp_path / ".segs.tmp-def-999999999"
    dead.mkdir()
    recover(out)
    assert (out / MARKER).exists() and not old.exists() and not dead.exists()


# --- model folders ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["clustering.npz", "manifest.json", "segmenter.npz"])
def test_a_symlink_in_a_model_folder_is_refused_before_it_is_opened(name, tmp_path, fitted, table):
    import shutil

    model = tmp_path / "model"
    shutil.copytree(fitted / "model", model)
    (tmp_path / "elsewhere").write_bytes((model / name).read_bytes())
    (model / name).unlink()
    (model / name).symlink_to(tmp_path / "elsewhere")
    one_line_error(cli("assign", "--model", model, "--data", table, "--out", tmp_path / "a.csv"), name,
                   "symbolic link")


# --- secrets ---------------------------------------------------------------------------------------------------

URLS = [
    "postgresql://alice:hunter2@db.example.com:5432/fthc",
    "postgresql://alice@db.example.com/fthc?password=hunter2",
    "postgresql+psycopg://alice@db/fthc?sslmode=require&password=hunter2",
    "postgresql://alice@db/fthc?sslpassword=hunter2&sslmode=verify-full",
    "mongodb://alice:hunter2@mongo1,mongo2/?replicaSet=rs0",
    "mongodb://mongo/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:hunter2",
    "postgresql://alice:hunter%32@db/fthc",
    "postgresql://alice:hun%40ter2@db/fthc",
    "postgresql://db/fthc?user=alice&token=hunter2",
]


@pytest.mark.parametrize("url", URLS)
def test_every_form_of_secret_is_masked(url):
    masked = mask_url(url)
    assert "hunter" not in masked and "hun%40ter" not in masked, masked
    assert "alice" in masked or "alice" not in url  # the user stays: it says which account failed
    from fthc.experiments.store.base import secrets_of

    for secret in secrets_of(url):  # a driver's message may quote the secret itself
        said = scrub(f"could not connect to {url}: {secret!r} rejected", url)
        assert "hunter" not in said and "hun@ter" not in said and "hun%40ter" not in said, said


@pytest.mark.parametrize("command", ["init-db", "status", "run", "reset", "export", "report"])
def test_no_command_prints_a_store_password(command, tmp_path):
    url = "postgresql://alice@127.0.0.1:9/fthc?password=hunter2&connect_timeout=1"
    argv = [command, "--store", url] + (["--status", "failed"] if command == "reset" else [])
    result = cli(*argv)
    assert result.exit_code != 0
    assert "hunter2" not in result.output, result.output
    assert "Traceback" not in result.output


# --- what a path holds -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def berka(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("berka")
    write_synthetic_berka(folder, n_accounts=60, seed=4)
    return folder


def _copy(folder: Path, dest: Path) -> Path:
    import shutil

    shutil.copytree(folder, dest)
    return dest


def test_a_berka_folder_with_a_stray_parquet_is_ambiguous_in_every_command(berka, tmp_path):
    folder = _copy(berka, tmp_path / "b")
    pd.DataFrame({"customer_id": [1], "timestamp": ["2020-01-01"], "amount": [1.0]}).to_parquet(folder / "x.parquet")
    for argv in (["data", "inspect", folder], ["segment", "--data", folder, "--k", 2, "--out", tmp_path / "o"]):
        one_line_error(cli(*argv), "ambiguous", "x.parquet", "Berka tables")


def test_two_files_for_one_berka_table_are_named(berka, tmp_path):
    folder = _copy(berka, tmp_path / "b")
    (folder / "trans.csv").write_bytes((folder / "trans.asc").read_bytes())
    one_line_error(cli("data", "inspect", folder), "two files for the Berka table", "trans.asc", "trans.csv")


def test_duplicate_rows_are_counted_and_kept_or_dropped(table, tmp_path):
    tx = pd.read_csv(table)
    doubled = pd.concat([tx, tx.iloc[:25]], ignore_index=True)
    doubled.to_csv(tmp_path / "d.csv", index=False)
    inspected = cli("data", "inspect", tmp_path / "d.csv")
    assert inspected.exit_code == 0 and "25 rows are exact duplicates" in inspected.output, inspected.output
    kept = cli("segment", "--data", tmp_path / "d.csv", "--k", 2, "--out", tmp_path / "kept")
    assert "25 rows are exact duplicates" in kept.output, kept.output
    dropped = cli("segment", "--data", tmp_path / "d.csv", "--k", 2, "--drop-duplicates", "--out", tmp_path / "dropped")
    assert dropped.exit_code == 0, dropped.output
    count = lambda f: pd.read_csv(tmp_path / f / "assignments.csv")["transactions"].sum()
    assert count("kept") == len(doubled) and count("dropped") == len(tx)


def test_boolean_amounts_are_refused_in_every_reader(tmp_path):
    import fthc

    df = pd.DataFrame({"customer_id": np.repeat(np.arange(10), 5), "timestamp": "2021-03-04",
                       "amount": np.tile([True, False], 25)})
    df.to_parquet(tmp_path / "b.parquet", index=False)
    one_line_error(cli("segment", "--data", tmp_path / "b.parquet", "--k", 2, "--out", tmp_path / "o"),
                   "column 'amount'", "true/false")
    with pytest.raises(fthc.DataError, match="true/false"):
        fthc.Segmenter(k=2).fit(df)


def test_one_timezone_rule_for_csv_and_parquet(tmp_path):
    """The same instants, written with an offset in a CSV and as a zoned Parquet timestamp (a named zone and a
    fixed offset), give the same times on every reader: the wall time of the zone, so the customer's months."""
    import fthc
    from fthc.engines import ENGINES

    instants = pd.to_datetime(["2021-01-31 23:30", "2021-02-28 23:30", "2021-03-01 00:30"]).tz_localize("Europe/Prague")
    df = pd.DataFrame({"customer_id": ["a", "a", "a"], "timestamp": instants, "amount": [1.0, -2.0, 3.0]})
    df.to_parquet(tmp_path / "z.parquet", index=False)
    df.assign(timestamp=instants.tz_convert("+02:00")).to_parquet(tmp_path / "f.parquet", index=False)
    df.assign(timestamp=instants.strftime("%Y-%m-%dT%H:%M:%S%z")).to_csv(tmp_path / "z.csv", index=False)
    wall = list(instants.tz_localize(None))
    for name in ("z.parquet", "z.csv"):
        assert list(fthc.load_source(tmp_path / name).transactions["timestamp"]) == wall, name
    plus_two = list(instants.tz_convert("+02:00").tz_localize(None))
    assert list(fthc.load_source(tmp_path / "f.parquet").transactions["timestamp"]) == plus_two


def salary_at_half_past_midnight(zone: str) -> pd.DataFrame:
    """A salary at 00:30 local time on the 1st of 12 months, as zoned timestamps."""
    times = pd.date_range("2023-01-01 00:30", periods=12, freq="MS") + pd.Timedelta(minutes=30)
    one = pd.DataFrame({"timestamp": times.tz_localize(zone), "amount": [1000.0] * 12})
    return pd.concat([one.assign(customer_id="a"), one.assign(customer_id="b", amount=900.0)])


@pytest.mark.parametrize("engine", ["duckdb", "pandas"])
@pytest.mark.parametrize("zone", ["Europe/Prague", "+02:00"])
def test_zoned_parquet_months_are_the_zones_calendar_on_every_engine(tmp_path, engine, zone):
    import fthc

    salary_at_half_past_midnight(zone).to_parquet(tmp_path / "s.parquet", index=False)
    m = fthc.Segmenter(k=1, engine=engine).fit(tmp_path / "s.parquet").measures_.loc["a"]
    assert m["months"] == 12 and m["months_with_income"] == 1.0 and m["income_variation"] == 0.0


def test_offsets_in_text_keep_the_customers_months(tmp_path):
    """A salary at 00:30+02:00 on the 1st of 12 months is 12 months with income that never varies (in UTC it
    would fall on the last day of the month before: 13 months, 0.92 and 0.29)."""
    import fthc

    times = [f"2023-{m:02d}-01T00:30:00+02:00" for m in range(1, 13)]
    df = pd.DataFrame({"customer_id": ["a"] * 12 + ["b"] * 12, "timestamp": times * 2, "amount": [1000.0] * 24})
    df.to_csv(tmp_path / "s.csv", index=False)
    m = fthc.Segmenter(k=1).fit(tmp_path / "s.csv").measures_.loc["a"]
    assert m["months"] == 12 and m["months_with_income"] == 1.0 and m["income_variation"] == 0.0


# --- stores ----------------------------------------------------------------------------------------------------

def test_a_second_init_db_with_another_grid_is_refused_naming_the_differences(tmp_path):
    first = tmp_path / "g1.toml"
    first.write_text('[grid]\nautoencoder = ["fcnn"]\npretext = ["mse"]\nclustering = ["kmeans"]\nk = [2]\nruns = 1\n')
    second = tmp_path / "g2.toml"
    second.write_text('[grid]\nautoencoder = ["fcnn"]\npretext = ["mse"]\nclustering = ["kmeans"]\nk = [2]\nruns = 1\n'
                      'pretrain_batches = 7\n')
    assert cli("init-db", "--store", tmp_path / "g.db", "--grid", first).exit_code == 0
    again = cli("init-db", "--store", tmp_path / "g.db", "--grid", first)
    assert again.exit_code == 0 and "0 configurations added" in again.output, again.output
    one_line_error(cli("init-db", "--store", tmp_path / "g.db", "--grid", second), "pretrain_batches")


def test_dotenv_is_read_from_the_working_folder(tmp_path):
    here = tmp_path / "project"
    here.mkdir()
    grid = here / "g.toml"
    grid.write_text('[grid]\nautoencoder = ["fcnn"]\npretext = ["mse"]\nclustering = ["kmeans"]\nk = [2]\nruns = 1\n')
    (here / ".env").write_text(f"FTHC_STORE={here / 'team.db'}\n")
    env = {k: v for k, v in os.environ.items() if k != "FTHC_STORE"}
    done = subprocess.run([*FTHC, "init-db", "--grid", str(grid)], cwd=here, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (here / "team.db").exists() and not (here / "fthc.db").exists()


def test_a_locked_store_is_reported_within_seconds(tmp_path):
    db = tmp_path / "g.db"
    grid = tmp_path / "g.toml"
    grid.write_text('[grid]\nautoencoder = ["fcnn"]\npretext = ["mse"]\nclustering = ["kmeans"]\nk = [2]\nruns = 1\n')
    assert cli("init-db", "--store", db, "--grid", grid).exit_code == 0
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("PRAGMA journal_mode=DELETE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        t0 = time.monotonic()
        done = subprocess.run([*FTHC, "status", "--store", str(db)], capture_output=True, text=True, timeout=60)
        assert time.monotonic() - t0 < 30
        assert done.returncode == 2 and "locked" in done.stderr + done.stdout, done.stderr + done.stdout
    finally:
        holder.execute("ROLLBACK")
        holder.close()


# --- Berka's own shapes ----------------------------------------------------------------------------------------

def test_berka_accounts_without_transactions_are_counted(berka, tmp_path):
    folder = _copy(berka, tmp_path / "b")
    trans = pd.read_csv(folder / "trans.asc", sep=";", dtype=str)
    gone = sorted(trans["account_id"].unique())[:7]
    trans[~trans["account_id"].isin(gone)].to_csv(folder / "trans.asc", sep=";", index=False)
    inspected = cli("data", "inspect", folder)
    assert "7 of the 60 accounts have no transaction" in inspected.output, inspected.output
    segmented = cli("segment", "--data", folder, "--k", 2, "--out", tmp_path / "o")
    assert segmented.exit_code == 0, segmented.output
    assert "7 of the 60 accounts have no transaction" in segmented.output, segmented.output


def test_berka_accounts_with_several_loans_and_owners_follow_the_stated_rule(berka, tmp_path):
    folder = _copy(berka, tmp_path / "b")
    loans = pd.read_csv(folder / "loan.asc", sep=";", dtype=str)
    extra = loans.iloc[[0]].copy()
    extra["loan_id"] = "999999"
    extra["status"] = '"B"' if extra["status"].iloc[0].startswith('"') else "B"
    pd.concat([loans, extra]).to_csv(folder / "loan.asc", sep=";", index=False)
    disp = pd.read_csv(folder / "disp.asc", sep=";", dtype=str)
    owner = disp.iloc[[0]].copy()
    owner["disp_id"] = "999999"
    pd.concat([disp, owner]).to_csv(folder / "disp.asc", sep=";", index=False)
    result = cli("segment", "--data", folder, "--k", 2, "--out", tmp_path / "o")
    assert result.exit_code == 0, result.output
    assert "more than one loan" in result.output and "more than one owner" in result.output, result.output


def test_a_path_that_looks_like_markup_is_printed_as_it_is(table, tmp_path):
    (tmp_path / "a[").mkdir()
    out = tmp_path / "a[" / "b]c"
    result = cli("segment", "--data", table, "--k", 2, "--out", out)
    assert result.exit_code == 0, result.output
    assert "a[/b]c" in result.output.replace("\n", ""), result.output
