"""Every kind of bad input named in the foundation issue gets a clear error (file, row, column, expected)."""

import shutil

import pytest

from fthc.data.berka import read_berka
from fthc.errors import DataError
from fthc.data.transactions import ColumnMapping, read_transactions

HEADER = '"trans_id";"account_id";"date";"type";"operation";"amount";"balance";"k_symbol";"bank";"account"\r\n'
GOOD = '1;{acc};930105;"PRIJEM";"VKLAD";700.00;700.00;"";;\r\n'


@pytest.fixture
def berka(tmp_path, synth_berka):
    """A copy of the small synthetic folder whose trans table each test rewrites."""
    folder = tmp_path / "berka"
    shutil.copytree(synth_berka, folder)
    return folder


def first_account(folder):
    return folder.joinpath("account.asc").read_text().splitlines()[1].split(";")[0]


def write_trans(folder, *rows):
    (folder / "trans.asc").write_text(HEADER + "".join(rows), newline="")


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="not a folder"):
        read_berka(tmp_path / "nope")
    with pytest.raises(DataError, match="file not found"):
        read_transactions(tmp_path / "none.csv")


def test_missing_table(berka):
    (berka / "loan.asc").unlink()
    with pytest.raises(DataError, match="missing Berka table 'loan'.*loan.asc or loan.csv"):
        read_berka(berka)


def test_wrong_separator(berka):
    text = (berka / "account.asc").read_text().replace(";", ",")
    (berka / "account.asc").write_text(text)
    with pytest.raises(DataError) as err:
        read_berka(berka)
    assert "account.asc" in str(err.value) and "separator" in str(err.value) and "row 1" in str(err.value)


def test_misspelt_column(berka):
    text = (berka / "loan.asc").read_text().replace('"payments"', '"payment"')
    (berka / "loan.asc").write_text(text)
    with pytest.raises(DataError, match=r"loan.asc, row 1, column 'payments': missing column 'payments'; "
                                        r"did you mean 'payment'\?"):
        read_berka(berka)


# a good first row, then one bad second row (file row 3): the error names file, row, column, value, expectation
BAD_SECOND_ROW = [
    ('2;{acc};931345;"PRIJEM";"VKLAD";1.00;701.00;"";;', r"trans.asc, row 3, column 'date'.*'931345'.*YYMMDD"),
    ('2;{acc};930105;"PRIJEM";"VKLAD";12,5;701.00;"";;', r"row 3, column 'amount'.*'12,5'.*a number"),
    ('2;{acc};930106;"VYDAJ";"VYBER";-50.00;650.00;"";;',
     r"row 3, column 'amount': negative amount.*sign comes from 'type'"),
    ('1;{acc};930105;"PRIJEM";"VKLAD";700.00;700.00;"";;', r"row 3, column 'trans_id': duplicate id"),
    ('2;{acc};930105;"PRIJEM"', r"trans.asc, row 3: cannot parse"),
]


@pytest.mark.parametrize("row,message", BAD_SECOND_ROW,
                         ids=["date", "amount", "negative", "duplicate_id", "ragged"])
def test_bad_second_row(berka, row, message):
    acc = first_account(berka)
    write_trans(berka, GOOD.format(acc=acc), row.format(acc=acc) + "\r\n")
    with pytest.raises(DataError, match=message):
        read_berka(berka)


def test_account_missing_from_account_table(berka):
    write_trans(berka, GOOD.format(acc=999999))
    with pytest.raises(DataError, match=r"trans.asc, row 2, column 'account_id': account_id not found in the "
                                        r"account table.*999999"):
        read_berka(berka)


def test_unknown_code(berka):
    acc = first_account(berka)
    write_trans(berka, '1;{acc};930105;"CREDIT";"VKLAD";700.00;700.00;"";;\r\n'.format(acc=acc))
    with pytest.raises(DataError, match=r"column 'type': unknown code.*PRIJEM"):
        read_berka(berka)


def test_empty_table(berka):
    write_trans(berka)
    with pytest.raises(DataError, match="trans.asc: table has a header but no rows"):
        read_berka(berka)
    (berka / "trans.asc").write_text("")
    with pytest.raises(DataError, match="trans.asc: file is empty"):
        read_berka(berka)


def test_binary_file(berka):
    (berka / "trans.asc").write_bytes(b"PK\x03\x04\x00\x00binary\x00\xff" * 20)
    with pytest.raises(DataError, match="trans.asc: looks like a binary file"):
        read_berka(berka)


def test_lenient_mode_counts_and_reports_skips(berka):
    acc = first_account(berka)
    write_trans(berka, GOOD.format(acc=acc),
                '2;{acc};931345;"PRIJEM";"VKLAD";1.00;701.00;"";;\r\n'.format(acc=acc),
                '3;999999;930105;"PRIJEM";"VKLAD";1.00;701.00;"";;\r\n',
                '4;{acc};930107;"PRIJEM";"VKLAD";x;701.00;"";;\r\n'.format(acc=acc))
    data = read_berka(berka, lenient=True)
    assert len(data["trans"]) == 1
    assert sorted(p.row for p in data.report.problems) == [3, 4, 5]
    assert "3 rows skipped" in data.report.summary()


# generic transaction tables


def test_generic_missing_column_suggests_the_close_one(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("customer,timestamp,amount\n1,2020-01-01,5\n")
    with pytest.raises(DataError, match=r"t.csv, row 1, column 'customer_id': missing column 'customer_id'; did "
                                        r"you mean 'customer'\?"):
        read_transactions(path)


def test_generic_unparsable_date_and_negative_with_direction(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("customer_id,timestamp,amount\n1,2020-01-01,5\n1,not a date,5\n")
    with pytest.raises(DataError, match=r"row 3, column 'timestamp'.*'not a date'"):
        read_transactions(path)
    path.write_text("customer_id,timestamp,amount,dir\n1,2020-01-01,5,debit\n1,2020-01-02,-5,debit\n")
    with pytest.raises(DataError, match=r"row 3, column 'amount': negative amount with a direction column"):
        read_transactions(path, ColumnMapping(direction="dir"))
    path.write_text("customer_id,timestamp,amount,dir\n1,2020-01-01,5,sideways\n")
    with pytest.raises(DataError, match=r"row 2, column 'dir': unknown direction"):
        read_transactions(path, ColumnMapping(direction="dir"))


def test_generic_duplicate_ids_and_corrupt_parquet(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,customer_id,timestamp,amount\na,1,2020-01-01,5\na,1,2020-01-02,5\n")
    with pytest.raises(DataError, match=r"row 3, column 'id': duplicate transaction id"):
        read_transactions(path, ColumnMapping(transaction_id="id"))
    bad = tmp_path / "t.parquet"
    bad.write_bytes(b"PAR1 this is not really parquet PAR1")
    with pytest.raises(DataError, match="t.parquet: cannot read as Parquet"):
        read_transactions(bad)
