"""Every bad input a new user tried (issue 10) is one line, exit code 2, no traceback, naming what is wrong."""

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from fthc.cli import main
from fthc.data.series import SeriesSpec
from fthc.experiments.grid import Grid
from fthc.experiments.store import open_store

TABLE = "customer_id,timestamp,amount\nA,2023-01-05,10\nA,2023-02-05,-3\nB,2023-01-07,5\nB,2023-03-01,-2\n"


def write(path, text):
    path.write_text(text)
    return str(path)


def grid_file(tmp_path, body):
    return write(tmp_path / "grid.toml", "[grid]\n" + body + "\n")


CASES = {
    "duplicate header": (lambda t: ["data", "inspect", write(t / "d.csv", "customer_id,amount,amount\nA,1,2\n")],
                         "'amount' more than once"),
    "mapping value of the wrong type": (
        lambda t: ["data", "inspect", write(t / "t.csv", TABLE), "--mapping", write(t / "m.toml", "[columns]\namount = 3\n")],
        "amount = 3 is not a column name"),
    "grid runs as text": (lambda t: ["init-db", "--store", str(t / "g.db"), "--grid", grid_file(t, 'runs = "3"')],
                          "runs = '3' is not a whole number"),
    "grid k as words": (lambda t: ["init-db", "--store", str(t / "g.db"), "--grid", grid_file(t, 'k = ["two"]')],
                        "is not a list of whole numbers"),
    "grid string where a list is expected": (
        lambda t: ["init-db", "--store", str(t / "g.db"), "--grid", grid_file(t, 'autoencoder = "fcnn"')],
        'e.g. autoencoder = ["fcnn", "resnet"]'),
    "store URL with a bad port": (lambda t: ["status", "--store", "postgresql://u:p@localhost:port/db"],
                                  "invalid store URL"),
    "status on a store that does not exist": (lambda t: ["status", "--store", str(t / "smal.db")], "no store at"),
    "report on a store that does not exist": (lambda t: ["report", "--store", str(t / "none.db")], "no store at"),
    "export on a store that does not exist": (lambda t: ["export", "--store", str(t / "none.db")], "no store at"),
    "unknown --only field": (
        lambda t: [*_init(t), "run", "--store", str(t / "g.db"), "--only", "autoencodr=fcnn"],
        "unknown field 'autoencodr' in --only; did you mean 'autoencoder'?"),
    "--only that matches nothing": (
        lambda t: [*_init(t), "run", "--store", str(t / "g.db"), "--only", "autoencoder=transformer"],
        "matches no configuration"),
    "run with a data path typo": (
        lambda t: [*_init(t), "run", "--store", str(t / "g.db"), "--data", str(t / "berak")], "not found"),
    "reset with an unknown --only field": (
        lambda t: [*_init(t), "reset", "--store", str(t / "g.db"), "--status", "failed", "--only", "kk=2"],
        "unknown field 'kk'"),
    "ambiguous dates": (lambda t: ["data", "inspect", write(t / "a.csv", "customer_id,timestamp,amount\n"
                                                                        "A,03/01/2023,1\nA,04/02/2023,2\n")],
                        "no value tells them apart"),
    "markup-like text is printed as it is": (
        lambda t: ["data", "inspect", write(t / "t.csv", TABLE), "--mapping",
                   write(t / "m.toml", "[columns]\nwho = \"x\"\n")], "unknown keys in [columns]"),
    "an id that spells missing (NULL)": (
        lambda t: ["data", "inspect", write(t / "t.csv", TABLE + "NULL,2023-01-09,4\n")],
        "row 6, column 'customer_id': missing value"),
    "a near column name, with the flag that names it": (
        lambda t: ["data", "inspect", write(t / "c.csv", TABLE.replace("customer_id", "cust_id", 1))],
        "did you mean 'cust_id'? (--customer-col cust_id, or customer_id = \"cust_id\" in the mapping's [columns])"),
    "decimal commas without --decimal": (
        lambda t: ["data", "inspect", write(t / "eu.csv", "customer_id;timestamp;amount\nA;2023-01-05;2220,59\n")],
        "read them with --decimal , or decimal = \",\" in the mapping's [columns]"),
    "a decimal point under --decimal ,": (
        lambda t: ["data", "inspect", write(t / "eu.csv", "customer_id;timestamp;amount\nA;2023-01-05;1.5\n"),
                   "--decimal", ","], "(found '1.5'); expected a number written with a decimal comma"),
    "a store password with an unencoded @": (
        lambda t: ["status", "--store", "postgresql://fthc:s3cr3t@Pw9x@127.0.0.1/db"], "must write it as %40"),
    "amounts whose sums overflow": (
        lambda t: ["segment", "--data", write(t / "t.csv", TABLE + "C,2023-01-09,1e308\nC,2023-01-10,1e308\n"),
                   "--k", "2", "--out", str(t / "o")],
        "customer 'C': its sum 'amount_sum' overflows to infinity"),
}

_INIT = {}


def _init(tmp_path):
    """A one-configuration grid in a fresh store (made once per test, before the command under test)."""
    db = tmp_path / "g.db"
    grid = grid_file(tmp_path, 'autoencoder = ["fcnn"]\npretext = ["mse"]\nclustering = ["kmeans"]\nk = [2]\n'
                               'reduction = ["none"]\nruns = 1\npretrain_batches = 2')
    r = CliRunner().invoke(main, ["init-db", "--store", str(db), "--grid", grid])
    assert r.exit_code == 0, r.output
    return []


@pytest.mark.parametrize("case", sorted(CASES))
def test_one_line_and_exit_code_2(case, tmp_path):
    argv, expected = CASES[case]
    result = CliRunner().invoke(main, argv(tmp_path))
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2, (result.output, result.exception)
    assert "Traceback" not in result.output and not isinstance(result.exception, (KeyError, TypeError))
    assert lines[-1].startswith("error: ") and expected in " ".join(result.output.split()), result.output


def test_a_csv_saved_by_excel_with_a_bom_reads(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + TABLE.encode())
    result = CliRunner().invoke(main, ["data", "inspect", str(path)])
    assert result.exit_code == 0, result.output


def test_failed_runs_go_back_to_pending_and_status_says_how(tmp_path):
    from fthc.experiments.store import open_store

    _init(tmp_path)
    db = str(tmp_path / "g.db")
    with open_store(db) as store:
        run = store.claim("w", 60)
        store.finish(run.id, "w", "failed", error="RuntimeError: boom")
    r = CliRunner().invoke(main, ["status", "--store", db])
    assert "fthc reset --status failed" in r.output
    r = CliRunner().invoke(main, ["reset", "--store", db, "--status", "failed", "--only", "k=2"])
    assert r.exit_code == 0 and "1 failed run(s) put back to pending" in r.output, r.output
    with open_store(db) as store:
        assert store.counts()["pending"] == 1 and store.runs()[0].error is None
        run = store.claim("w", 600)
    r = CliRunner().invoke(main, ["status", "--store", db])
    assert "1 run(s) held by a worker under a lease" in r.output and "the last in" in r.output, r.output


def test_an_invalid_k_leaves_no_output_folder(tmp_path, synth_berka):
    out = tmp_path / "seg"
    r = CliRunner().invoke(main, ["segment", "--data", str(synth_berka), "--k", "0", "--out", str(out)])
    assert r.exit_code == 2 and "at least 1" in r.output and not out.exists(), r.output


def test_assign_reads_new_data_with_the_columns_the_model_was_fitted_with(tmp_path):
    rng = np.random.default_rng(0)
    rows = [{"cust": f"C{c}", "when": (pd.Timestamp("2022-01-01") + pd.Timedelta(days=int(d))).strftime("%d/%m/%Y"),
             "value": float(rng.normal(100 if c % 2 else -50, 30))} for c in range(30) for d in rng.integers(0, 300, 20)]
    pd.DataFrame(rows).to_csv(tmp_path / "t.csv", index=False)
    flags = ["--customer-col", "cust", "--time-col", "when", "--amount-col", "value", "--date-format", "%d/%m/%Y"]
    r = CliRunner().invoke(main, ["segment", "--data", str(tmp_path / "t.csv"), "--k", "2",
                                  "--out", str(tmp_path / "seg"), *flags])
    assert r.exit_code == 0, r.output
    manifest = json.loads((tmp_path / "seg" / "model" / "manifest.json").read_text())
    assert manifest["column_mapping"]["customer_id"] == "cust"
    for extra in ([], flags):
        out = tmp_path / f"a{len(extra)}.csv"
        r = CliRunner().invoke(main, ["assign", "--model", str(tmp_path / "seg" / "model"), "--data",
                                      str(tmp_path / "t.csv"), "--out", str(out), *extra])
        assert r.exit_code == 0, r.output
    fitted = pd.read_csv(tmp_path / "seg" / "assignments.csv").set_index("customer_id")["segment"]
    for name in ("a0.csv", f"a{len(flags)}.csv"):
        assigned = pd.read_csv(tmp_path / name).set_index("customer_id")["segment"]
        assert assigned.reindex(fitted.index).equals(fitted), name


def test_a_grid_reads_a_mapped_table_the_way_init_db_was_told(tmp_path):
    rng = np.random.default_rng(1)
    rows = [{"cust": f"C{c}", "when": (pd.Timestamp("2022-01-01") + pd.Timedelta(days=int(d))).strftime("%d/%m/%Y"),
             "value": float(rng.normal(50, 30))} for c in range(24) for d in rng.integers(0, 300, 12)]
    pd.DataFrame(rows).to_csv(tmp_path / "t.csv", index=False)
    db = str(tmp_path / "g.db")
    grid = grid_file(tmp_path, 'autoencoder = ["fcnn"]\npretext = ["mse"]\nclustering = ["kmeans"]\nk = [2]\n'
                               'reduction = ["none"]\nruns = 1\npretrain_batches = 2\narch = { fcnn = { hidden = [4, 4, 4] } }')
    flags = ["--customer-col", "cust", "--time-col", "when", "--amount-col", "value"]
    r = CliRunner().invoke(main, ["init-db", "--store", db, "--grid", grid, *flags])
    assert r.exit_code == 0, r.output
    with open_store(db) as store:  # the stored grid reads back as the Grid, with how to read the table
        stored = store.grid()
    assert isinstance(stored, Grid) and stored.autoencoder == ("fcnn",)
    assert stored.column_mapping["customer_id"] == "cust"
    assert stored.series_spec() == SeriesSpec("amounts") and not stored.lenient
    r = CliRunner().invoke(main, ["run", "--store", db, "--data", str(tmp_path / "t.csv"), "--workers", "1"])
    assert r.exit_code == 0 and "done 1" in r.output, r.output
    r = CliRunner().invoke(main, ["init-db", "--store", db, "--grid", grid, "--customer-col", "other"])
    assert r.exit_code == 2 and "use a new store for another mapping" in r.output, r.output


def test_report_and_export_on_a_store_with_no_finished_runs(tmp_path):
    _init(tmp_path)
    db = str(tmp_path / "g.db")
    r = CliRunner().invoke(main, ["report", "--store", db, "--out", str(tmp_path / "rep")])
    assert r.exit_code == 0 and "0% of 1 runs finished" in r.output and "1 to go" in r.output, r.output
    assert "No finished runs yet" in (tmp_path / "rep" / "report.md").read_text()
    r = CliRunner().invoke(main, ["export", "--store", db, "--out", str(tmp_path / "r.csv")])
    assert r.exit_code == 0, r.output


def test_k_auto_on_five_customers_caps_k(tmp_path):
    rows = [f"C{c},2023-{m:02d}-0{1 + c % 5},{(c + 1) * 10 * (-1) ** m}" for c in range(5) for m in range(1, 13)]
    path = write(tmp_path / "five.csv", "customer_id,timestamp,amount\n" + "\n".join(rows) + "\n")
    r = CliRunner().invoke(main, ["segment", "--data", path, "--out", str(tmp_path / "seg"), "--allow-fewer"])
    assert r.exit_code == 0, r.output
    k = int(r.output.split("segments (k=")[1].split(")")[0])
    assert 1 <= k <= 2  # prediction strength needs k customers in each half


def test_series_for_a_model_name_the_data_when_their_channels_differ(tmp_path):
    """A model whose channels the data cannot give (an artefact from another version, say) is refused with the
    data's name, not scored."""
    import fthc
    from fthc.errors import DataError

    rng = np.random.default_rng(3)
    rows = [{"customer_id": c, "timestamp": f"2023-{m:02d}-{d:02d}", "amount": float(rng.normal(0, 50) + 40 * (c % 2))}
            for c in range(30) for m in range(1, 7) for d in (3, 17)]
    pd.DataFrame(rows).to_csv(tmp_path / "t.csv", index=False)
    config = fthc.preset("fcnn", pretrain_batches=2, latent_dim=3, arch={"hidden": [8, 8, 8]}, device="cpu")
    seg = fthc.Segmenter(k=2, method=config, representation="events").fit(tmp_path / "t.csv")
    assert seg.assign(tmp_path / "t.csv")["segment"].equals(seg.labels_)
    seg.model_.channels_ = seg.model_.channels_ + ["is_crypto"]
    with pytest.raises(DataError, match=r"t\.csv.*missing: \['is_crypto'\]") as err:
        seg.assign(tmp_path / "t.csv")
    assert err.value.file.endswith("t.csv")


def test_paths_and_values_with_console_markup_are_printed_as_they_are(tmp_path):
    """Square brackets are text, never Rich markup: the message names the folder written, and a closing tag in
    a path does not end the command in a MarkupError."""
    for name in ("syn[v2]", "m[/b]x", "[bold]x"):
        out = tmp_path / name
        r = CliRunner().invoke(main, ["data", "synth", "--format", "table", "--accounts", "20", "--out", str(out)])
        assert r.exit_code == 0, (r.output, r.exception)
        assert f"to {out}" in " ".join(r.output.split()) and (out / "transactions.csv").exists()


def test_a_typo_in_the_python_column_mapping_is_refused_with_the_nearest_name():
    import fthc
    from fthc.errors import DataError

    df = pd.DataFrame({"client": ["a", "b"], "timestamp": ["2023-01-01", "2023-01-02"], "amount": [1.0, 2.0]})
    with pytest.raises(DataError, match=r"unknown key 'catgory' in columns= \(did you mean 'category'\?\)"):
        fthc.Segmenter(columns={"customer_id": "client", "catgory": "mcc"}).fit(df)


def test_explain_matches_ids_exactly_and_points_from_the_results_folder_to_its_model(tmp_path):
    rows = "".join(f"{c},2023-0{m}-05,{100 + 10 * c}\n{c},2023-0{m}-20,-{50 + c}\n" for c in range(20, 40)
                   for m in range(1, 7))
    data = write(tmp_path / "t.csv", "customer_id,timestamp,amount\n" + rows)
    r = CliRunner().invoke(main, ["segment", "--data", data, "--k", "2", "--out", str(tmp_path / "res")])
    assert r.exit_code == 0, r.output
    ok = CliRunner().invoke(main, ["explain", "--model", str(tmp_path / "res" / "model"), "--data", data,
                                   "--customer", "26"])
    assert ok.exit_code == 0, ok.output
    padded = CliRunner().invoke(main, ["explain", "--model", str(tmp_path / "res" / "model"), "--data", data,
                                       "--customer", "026"])
    assert padded.exit_code == 2 and "did you mean '26'" in " ".join(padded.output.split())
    above = CliRunner().invoke(main, ["explain", "--model", str(tmp_path / "res"), "--data", data,
                                      "--customer", "26"])
    assert above.exit_code == 2 and f"give --model {tmp_path / 'res' / 'model'}" in " ".join(above.output.split())


def test_a_store_password_holding_an_at_sign_never_reaches_the_output():
    r = CliRunner().invoke(main, ["status", "--store", "postgresql://fthc:s3cr3t@Pw9x@127.0.0.1/db"])
    assert r.exit_code == 2 and "s3cr3t" not in r.output and "Pw9x" not in r.output
    from fthc.experiments.store.base import scrub

    url = "postgresql://fthc:s3cr3t@Pw9x@127.0.0.1/db"  # what a driver that splits at the first '@' prints
    assert "Pw9x" not in scrub("could not translate host name 'Pw9x@127.0.0.1'", url)


def test_category_values_reach_segments_md_as_text_not_html(tmp_path):
    rows = "".join(f"{c},2023-0{m}-05,{100 + 10 * c},<script>alert(1)</script>\n{c},2023-0{m}-20,-{50 + c},a|b\n"
                   for c in range(30) for m in range(1, 7))
    data = write(tmp_path / "t.csv", "customer_id,timestamp,amount,category\n" + rows)
    r = CliRunner().invoke(main, ["segment", "--data", data, "--k", "2", "--out", str(tmp_path / "res")])
    assert r.exit_code == 0, r.output
    text = (tmp_path / "res" / "segments.md").read_text()
    assert "<script>" not in text and "&lt;script&gt;" in text


def test_a_k_too_large_for_the_customers_is_said_and_a_rerun_says_what_it_replaced(tmp_path):
    rows = "".join(f"{c},2023-0{m}-05,{100 + 10 * c}\n" for c in range(30) for m in range(1, 7))
    data = write(tmp_path / "t.csv", "customer_id,timestamp,amount\n" + rows)
    first = CliRunner().invoke(main, ["segment", "--data", data, "--k", "6", "--out", str(tmp_path / "res")])
    assert first.exit_code == 0, first.output
    said = " ".join(first.output.split())
    assert "k=6 for 30 customers leaves about 5 customers per segment" in said and "at most k=3" in said
    sizes = pd.read_csv(tmp_path / "res" / "assignments.csv")["segment"].value_counts()
    if (sizes < 5).any():  # the floor: segments under 5 customers are named
        verb = "holds" if (sizes < 5).sum() == 1 else "hold"
        assert f"of {len(sizes)} segments {verb} fewer than 5 customers" in said, said
    import fthc

    from fthc.errors import FthcWarning

    with pytest.warns(FthcWarning, match="hold fewer than 5 customers"):
        fthc.Segmenter(k=12).fit(data)  # 30 customers in 12 segments: some under the floor
    again = CliRunner().invoke(main, ["segment", "--data", data, "--k", "2", "--out", str(tmp_path / "res")])
    assert again.exit_code == 0, again.output
    assert f"replaced the earlier results in {tmp_path / 'res'}: a model of k=6 fitted without outcomes" in \
        " ".join(again.output.split())


def test_decimal_commas_and_dotted_thousands_read_exactly_by_flag_and_by_mapping_file(tmp_path):
    from fthc.data.transactions import ColumnMapping, read_transactions

    path = write(tmp_path / "eu.csv", "customer_id;timestamp;amount;balance\n007;2023-01-05;2220,59;1.234,56\n"
                                      "007;2023-02-05;-20,5;1.214,06\n8;2023-01-07;4;-1.000.000\n")
    for mapping in (ColumnMapping(decimal=","),
                    ColumnMapping.from_toml(write(tmp_path / "m.toml", '[columns]\ndecimal = ","\n'))):
        tx = read_transactions(path, mapping)
        assert tx["amount"].tolist() == [2220.59, -20.5, 4.0]
        assert tx["balance"].tolist() == [1234.56, 1214.06, -1_000_000.0]
        assert tx["customer_id"].tolist() == ["007", "007", "8"]
    r = CliRunner().invoke(main, ["data", "inspect", path, "--decimal", ","])
    assert r.exit_code == 0, r.output
    with pytest.raises(Exception, match="is not a decimal mark"):
        ColumnMapping(decimal=";")


def test_a_small_bank_without_loans_is_not_an_error(tmp_path):
    """`data synth --accounts 5` draws no loan: the Berka form writes loan.asc with a header and no rows, which
    reads as a bank without loans (likewise cards and standing orders); the table form and a segment run work."""
    from fthc.data.berka import read_berka

    def cli(*args):
        return CliRunner().invoke(main, [str(a) for a in args])

    for form in ("berka", "table"):
        r = cli("data", "synth", "--out", tmp_path / form, "--format", form, "--accounts", 5, "--seed", 1)
        assert r.exit_code == 0, r.output
    assert (tmp_path / "table" / "transactions.csv").exists()
    loans = read_berka(tmp_path / "berka")["loan"]
    assert len(loans) == 0 and "account_id" in loans.columns
    r = cli("segment", "--data", tmp_path / "berka", "--k", 2, "--out", tmp_path / "o")
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("args, said", [
    (["segment", "--k", "0", "--data", "x"], "Invalid value for '--k'"),
    (["segment", "--window", "0", "--data", "x"], "Invalid value for '--window'"),
    (["segment", "--window", "soon", "--data", "x"], "neither a number of months (1 or more) nor auto"),
    (["assign", "--model", "no-such-folder", "--data", "x"], "'--model'"),
    (["segment", "--nonsense"], "No such option '--nonsense'"),
])
def test_an_option_error_is_one_line_and_exit_2(args, said):
    from click.testing import CliRunner

    from fthc.cli import main

    r = CliRunner().invoke(main, args)
    lines = [line for line in r.output.splitlines() if line.strip()]
    assert r.exit_code == 2 and len(lines) == 1 and lines[0].startswith("error: ") and said in lines[0], r.output
    assert "--help)" in lines[0]
