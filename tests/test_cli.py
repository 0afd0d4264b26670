import pytest
from click.testing import CliRunner

from fthc.cli import main


def test_synth_then_inspect(tmp_path):
    runner = CliRunner()
    out = tmp_path / "data"
    result = runner.invoke(main, ["data", "synth", "--out", str(out), "--accounts", "30", "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert "30 accounts" in result.output
    assert sorted(p.name for p in out.glob("*.asc")) == sorted(
        f"{t}.asc" for t in ("account", "client", "disp", "order", "trans", "loan", "card", "district"))
    result = runner.invoke(main, ["data", "inspect", str(out)])
    assert result.exit_code == 0, result.output
    assert "trans" in result.output and "customers: 30" in result.output


def test_inspect_generic_table_with_mapping_flags(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("who,when,value,side\nA,2021-01-01,10,C\nA,2021-02-01,4,D\nB,2021-01-03,7,C\n")
    result = CliRunner().invoke(main, ["data", "inspect", str(path), "--customer-col", "who", "--time-col", "when",
                                       "--amount-col", "value", "--direction-col", "side"])
    assert result.exit_code == 0, result.output
    assert "customers: 2" in result.output and "single transaction" in result.output


def test_inspect_says_which_date_format_it_read_and_counts_one_in_the_singular(tmp_path):
    """Day before month (31.12.1998) is said with the format and an example, so a dd/mm file read as mm/dd would
    be seen; one customer with one transaction is '1 customer', not '1 customers'."""
    path = tmp_path / "t.csv"
    path.write_text("who,booked,value\nA,30.11.1998,10\nA,03.12.1998,-4\nB,05.01.1998,7\n")
    result = CliRunner().invoke(main, ["data", "inspect", str(path), "--customer-col", "who", "--timestamp-col",
                                       "booked", "--amount-col", "value"])
    said = " ".join(result.output.split())
    assert result.exit_code == 0, result.output
    assert "dates in 'booked' read as dd.mm.YYYY (%d.%m.%Y, inferred from every value): 31.12.1998 is 31 " \
           "December 1998" in said, said
    assert "1 customer with a single transaction" in said, said
    given = CliRunner().invoke(main, ["data", "inspect", str(path), "--customer-col", "who", "--timestamp-col",
                                      "booked", "--amount-col", "value", "--date-format", "%d.%m.%Y"])
    assert "read as dd.mm.YYYY (%d.%m.%Y, as given)" in " ".join(given.output.split()), given.output


def test_inspect_of_a_parquet_folder_says_how_its_dates_were_read(parquet_lake, tmp_path):
    from fthc.data.inspect import inspect_source
    from fthc.data.transactions import ColumnMapping

    mapping = ColumnMapping(customer_id="cust", timestamp="when", amount="value")
    typed = inspect_source(parquet_lake / "tx", mapping)
    assert "dates in 'when' are stored as dates or timestamps" in typed["columns"]
    import pandas as pd

    folder = tmp_path / "tx" / "month=2022"
    folder.mkdir(parents=True)
    whole = pd.read_parquet(parquet_lake / "whole.parquet")
    whole.assign(when=whole["when"].dt.strftime("%d/%m/%Y")).to_parquet(folder / "a.parquet", index=False)
    text = inspect_source(tmp_path / "tx", mapping)
    assert "dates in 'when' read as dd/mm/YYYY (%d/%m/%Y, inferred from every value): 31/12/2022 is 31 " \
           "December 2022" in text["columns"], text["columns"]


def test_bad_input_is_one_clear_line_and_exit_code_2(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("who,when,value\nA,2021-01-01,10\n")
    result = CliRunner().invoke(main, ["data", "inspect", str(path)])
    assert result.exit_code == 2
    assert "missing column 'customer_id'" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("layout", ["flat", "by section"])
def test_segment_keeps_a_config_files_k_unless_the_flag_overrides_it(tmp_path, synth_berka, layout):
    import json
    from dataclasses import asdict

    from fthc.config import preset

    config = preset("features", k=4)
    data = config.to_dict() if layout == "flat" else {"encoder": asdict(config.encoder), "head": asdict(config.head)}
    (tmp_path / "c.json").write_text(json.dumps(data))
    for extra, k in (([], 4), (["--k", "3"], 3)):
        out = tmp_path / f"out{k}"
        result = CliRunner().invoke(main, ["segment", "--data", str(synth_berka), "--config", str(tmp_path / "c.json"),
                                           "--out", str(out), *extra])
        assert result.exit_code == 0, result.output
        assert f"(k={k})" in result.output


@pytest.mark.slow
def test_quickstart_on_a_small_bank_says_its_loans_are_too_few_and_segments_all_the_same(tmp_path, monkeypatch):
    """A Berka folder of 150 accounts: too few loans to learn risk from once the windows and the performance
    window have read them; the quickstart says so in one line and writes the segments without risk."""
    from click.testing import CliRunner

    from fthc.cli import main
    from fthc.data.synth import write_synthetic_berka

    write_synthetic_berka(tmp_path / "small", n_accounts=150, seed=0)
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(main, ["quickstart", "--data", str(tmp_path / "small")])
    assert r.exit_code == 0, r.output
    assert "no risk learnt: " in r.output and "too few outcomes to learn from" in r.output
    assert (tmp_path / "fthc-out" / "segments" / "segments.html").is_file()
